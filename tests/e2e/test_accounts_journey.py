"""A personal account, in real Chromium against the real app: an organiser invites a volunteer, the
volunteer accepts the invitation in their own browser, signs in by name, and a reload (pull-to-refresh,
a bookmark) keeps them signed in on the same page. Signing out ends it, reload or not."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import open_page, sign_in, wait_idle

pytestmark = pytest.mark.e2e

PASSWORD = "kettle orchard lantern"


def test_a_freshly_started_server_does_not_open_an_organiser_page_by_its_address(server, page):
    """The very first request to a new server, for an organiser page's address: Streamlit ran that file
    directly (its old "pages folder" mode, until app.py first calls st.navigation), with no sign-in, so
    the first visitor after a restart saw the organisers' Sign-ups page. Now it goes through the router."""
    page.goto(server.url + "/signups")
    wait_idle(page)
    page.get_by_text("“Sign-ups” is for organisers. Please sign in first").wait_for()
    body = page.inner_text("body")
    assert "Bring in the latest sign-ups" not in body and "Ready for the draw" not in body, body[:2000]
    assert page.get_by_role("button", name="Bring in the demo sign-ups").count() == 0


def test_invite_accept_sign_in_and_reload_stays_signed_in_on_the_same_page(server, browser, page):
    page.goto(server.url)                     # a fresh server first answers a page address with "page not found"
    wait_idle(page)
    page.get_by_text("People signed up").wait_for()
    sign_in(page, server.url, "organiser")
    open_page(page, "Team accounts")
    page.get_by_label("Their name").fill("Sam Lee")
    page.get_by_test_id("stForm").get_by_text("Volunteer", exact=True).click()
    page.get_by_role("button", name="Make an invitation").click()
    page.get_by_text("Invitation for Sam Lee").wait_for()
    link = page.get_by_test_id("stCode").first.inner_text().strip()
    assert link.startswith(server.url + "/sign-in?invite="), link

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    vol = context.new_page()
    vol.set_default_timeout(30_000)
    try:
        vol.goto(link)
        wait_idle(vol)
        vol.get_by_text("Welcome, Sam Lee").wait_for()
        vol.get_by_label("New password").fill(PASSWORD)
        vol.get_by_label("The same password again").fill(PASSWORD)
        vol.get_by_role("button", name="Set my password").click()
        vol.get_by_text("Your password is set").wait_for()
        wait_idle(vol)
        vol.get_by_role("textbox", name="Your name or e-mail").fill("Sam Lee")
        vol.get_by_label("Password", exact=True).fill(PASSWORD)
        vol.get_by_role("button", name="Sign in", exact=True).click()
        vol.get_by_text("Signed in as Sam Lee (Volunteer)").wait_for()
        vol.wait_for_url(lambda url: "/sign-in" not in url)
        wait_idle(vol)
        open_page(vol, "Check-in")
        cookie = [c for c in context.cookies() if c["name"] == "kleroterion_session"]
        assert cookie and cookie[0]["sameSite"] == "Strict", cookie

        vol.reload()                          # pull-to-refresh on a phone
        wait_idle(vol)
        vol.get_by_text("Signed in as Sam Lee (Volunteer)").wait_for()
        vol.get_by_role("heading", name="Check-in").first.wait_for()
        assert vol.url.endswith("/check-in")
        assert vol.get_by_text("Please sign in first").count() == 0

        vol.goto(server.url + "/quota-board")  # a bookmark, typed address or shared link
        wait_idle(vol)
        vol.get_by_text("Signed in as Sam Lee (Volunteer)").wait_for()
        vol.get_by_role("heading", name="Quota board").first.wait_for()

        vol.get_by_role("button", name="Sign out").click()
        vol.get_by_role("link", name="Sign in").first.wait_for()
        wait_idle(vol)
        vol.reload()
        wait_idle(vol)
        vol.get_by_text("“Quota board” is for organisers and volunteers. Please sign in first").wait_for()
        assert vol.get_by_text("Signed in as").count() == 0
    finally:
        context.close()

    page.reload()                             # the organiser, signed in with the shared demo password
    wait_idle(page)
    page.get_by_text("Signed in as Organiser").wait_for()
    page.get_by_role("heading", name="Team accounts").first.wait_for()
