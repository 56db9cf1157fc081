"""The Overview page for each role."""

from __future__ import annotations

from tests.app_pages.helpers import open_app, texts


def test_visitor_sees_counts_and_how_to_sign_in_but_no_skip_ahead(app_env):
    at = open_app(None)
    shown = texts(at)
    assert "Sign in" in shown
    assert {m.label for m in at.metric} == {"People signed up", "Ready for the draw",
                                           "Sign-ups with a problem to fix"}
    assert not [b for b in at.button if b.label == "Skip ahead"]


def test_organiser_of_the_demo_can_skip_ahead(app_env):
    at = open_app("organiser")
    assert [b for b in at.button if b.label == "Skip ahead"]
    assert "skip ahead to after the draw" in " ".join(e.label for e in at.expander)
