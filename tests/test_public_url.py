"""The address printed on access cards (lib.assembly.public_url): never a silent localhost."""

from __future__ import annotations

import pytest

from lib.assembly import public_url as U


def test_the_browsers_address_gives_the_apps_own_address():
    assert U.base_of("https://kl.example.org/evaluation", "evaluation") == "https://kl.example.org"
    assert U.base_of("https://example.org/kleroterion/evaluation", "evaluation") == "https://example.org/kleroterion"
    assert U.base_of("https://kl.example.org/", "evaluation") == "https://kl.example.org"
    assert U.base_of("http://192.168.1.20:8501/evaluation?x=1#y", "evaluation") == "http://192.168.1.20:8501"
    assert U.base_of(None) == "" and U.base_of("javascript:alert(1)") == ""


def test_saved_then_configured_then_browser_never_a_made_up_localhost():
    env = {U.ENV: "https://assembly.example.org/"}
    assert U.choose("https://saved.example.org", "https://b.example.org/evaluation", env=env) == \
        U.PublicUrl("https://saved.example.org", "saved")
    assert U.choose("", "https://b.example.org/evaluation", page_path="evaluation", env=env) == \
        U.PublicUrl("https://assembly.example.org", "configured")
    assert U.choose(None, "https://b.example.org/evaluation", page_path="evaluation", env={}) == \
        U.PublicUrl("https://b.example.org", "browser")
    assert U.choose(None, None, env={}) == U.PublicUrl("", "")


@pytest.mark.parametrize("url", ["http://localhost:8501", "http://127.0.0.1:8501/", "http://0.0.0.0:8501",
                                 "http://[::1]:8501", "http://app.localhost"])
def test_an_address_only_the_server_can_open_is_warned_about(url):
    assert U.is_local(url)
    assert "only works on the computer that runs Kleroterion" in U.problem(url)


@pytest.mark.parametrize("url", ["https://assembly.example.org", "http://192.168.1.20:8501",
                                 "https://example.org/kleroterion"])
def test_a_reachable_address_is_fine(url):
    assert not U.is_local(url) and U.problem(url) is None


@pytest.mark.parametrize("url, words", [("", "Type the web address"), ("assembly.example.org", "is not a web address"),
                                        ("https://a b.org", "is not a web address")])
def test_a_missing_or_malformed_address_is_explained(url, words):
    assert words in U.problem(url)
