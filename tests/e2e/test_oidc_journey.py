"""Sign in with your organisation's account (st.login, OpenID Connect), for real: a real `streamlit run`
configured with an identity provider, a tiny provider of our own on 127.0.0.1 (tests/oidc_provider.py),
Chromium clicking the button. The role comes from the e-mail address (organiser_emails / volunteer_emails);
an address on neither list stays a visitor and is told why; an unverified address counts for nothing."""

from __future__ import annotations

import re

import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import StreamlitServer, wait_idle
from tests.oidc_provider import OIDCProvider

pytestmark = pytest.mark.e2e

CLIENT_ID, CLIENT_SECRET = "kleroterion-test", secrets.token_urlsafe(24)
BUTTON = "Sign in with your organisation's account"


@pytest.fixture(scope="module")
def provider():
    with OIDCProvider(CLIENT_ID, CLIENT_SECRET) as p:
        yield p


@pytest.fixture(scope="module")
def idp_server(tmp_path_factory, provider):
    folder = tmp_path_factory.mktemp("oidc")
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(f"""
[auth]
redirect_uri = "http://127.0.0.1:{{port}}/oauth2callback"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
server_metadata_url = "{provider.url}/.well-known/openid-configuration"

[kleroterion_auth]
organiser_emails = ["Chair@Example.org"]
volunteer_emails = ["door@example.org"]
""")
    srv = StreamlitServer(folder / "app.duckdb", extra_env={"STREAMLIT_SECRETS_FILES": str(secrets_file)})
    yield srv
    srv.stop()


def sign_in_with_provider(page, url: str) -> None:
    page.goto(url + "/sign-in")
    wait_idle(page)
    page.get_by_role("button", name=BUTTON).click()
    # Streamlit sends the browser to the provider, which sends it straight back with a code; Streamlit
    # exchanges the code for the signed ID token and returns to the app's start page.
    page.wait_for_url(lambda u: u.rstrip("/") == url or u.startswith(url + "/?"), timeout=30_000)
    wait_idle(page)


def menu(page) -> str:
    """The whole side menu's text (long menus hide some pages behind "View more"), once the menu is drawn:
    right after a sign-in the sidebar can show "Signed in as" a moment before the page links."""
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link").first.wait_for()
    more = page.get_by_test_id("stSidebarNavViewButton")
    if more.count() and "more" in more.first.inner_text().lower():
        more.first.click()
        page.wait_for_timeout(300)
    return page.get_by_test_id("stSidebar").inner_text()


def signed_in_as(email: str, role: str) -> re.Pattern:
    """The side menu's "Signed in as <address> (<role>)". The address is people's text shown through
    lib.plaintext.md, which puts an invisible word joiner before the "@" so that Streamlit does not make it a
    mailto: link (it looks the same)."""
    name, domain = email.split("@")
    return re.compile(rf"^Signed in as {re.escape(name)}\u2060?@{re.escape(domain)} \({role}\)$")


def test_people_sign_in_with_their_organisations_account_and_get_the_role_their_address_has(
        browser, idp_server, provider):
    url = idp_server.url
    warm = browser.new_page()
    warm.goto(url)           # a fresh server first answers a page address with "page not found" (test_direct_links)
    wait_idle(warm)
    warm.get_by_text("People signed up").wait_for()
    warm.close()

    # An organiser (the list's capital letters do not matter).
    provider.identity = {"sub": "u-chair", "email": "chair@example.org", "email_verified": True, "name": "Chair"}
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    sign_in_with_provider(page, url)
    page.get_by_text(signed_in_as("chair@example.org", "Organiser")).wait_for()
    assert "Team accounts" in menu(page) and "Backup and restore" in menu(page)
    # The flow was the real one: PKCE (S256) and a nonce on the way out, the code and verifier on the way back.
    authorize = [s for s in provider.seen if s["step"] == "authorize"][-1]
    token = [s for s in provider.seen if s["step"] == "token"][-1]
    assert authorize["code_challenge_method"] == "S256" and authorize["nonce"]
    assert authorize["redirect_uri"] == f"{url}/oauth2callback"
    assert token["code_verifier"] and token["grant_type"] == "authorization_code"
    # A reload keeps the sign-in (Streamlit's own signed cookie).
    page.reload()
    wait_idle(page)
    page.get_by_text(signed_in_as("chair@example.org", "Organiser")).wait_for()
    # Signing out ends it.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda u: u.rstrip("/") == url or u.startswith(url + "/?"), timeout=30_000)
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Sign in").wait_for()
    # the old menu can linger for a moment while the new one is drawn (seen on a busy machine)
    expect(page.get_by_test_id("stSidebar")).not_to_contain_text("Signed in as", timeout=30_000)
    assert "Signed in as" not in menu(page)
    ctx.close()

    # A volunteer: the volunteers' pages only.
    provider.identity = {"sub": "u-door", "email": "door@example.org", "email_verified": True}
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    sign_in_with_provider(page, url)
    page.get_by_text(signed_in_as("door@example.org", "Volunteer")).wait_for()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Quota board").wait_for()
    assert "Team accounts" not in menu(page) and "Check-in" in menu(page)
    ctx.close()

    # Someone the assembly does not know, and someone whose address the provider has not checked.
    for identity, words in (
            ({"sub": "u-x", "email": "stranger@example.org", "email_verified": True},
             re.compile("stranger\u2060?@example\\.org")),          # shown as typed (md's invisible joiner)
            ({"sub": "u-y", "email": "chair@example.org", "email_verified": False}, "not confirmed")):
        provider.identity = identity
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        sign_in_with_provider(page, url)
        page.goto(url + "/sign-in")
        wait_idle(page)
        page.get_by_text(words).first.wait_for()
        expect(page.get_by_test_id("stSidebar")).not_to_contain_text("Signed in as", timeout=30_000)
        assert "Signed in as" not in menu(page) and "Team accounts" not in menu(page)
        ctx.close()
