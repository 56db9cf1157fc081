"""Opening a page's address directly (a bookmark, a shared link) in a fresh browser."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import sign_in, wait_idle

pytestmark = pytest.mark.e2e


def test_a_bookmarked_volunteer_page_asks_to_sign_in_then_opens(server, phone):
    from lib.access.auth import DEMO_PASSWORDS

    phone.goto(server.url)          # the server has loaded the demo (its very first run is slow)
    wait_idle(phone)
    phone.get_by_text("People signed up").wait_for()
    phone.goto(server.url + "/check-in")
    wait_idle(phone)
    phone.get_by_text("“Check-in” is for organisers and volunteers. Please sign in first").wait_for()
    assert phone.get_by_text("Page not found").count() == 0

    phone.get_by_test_id("stMain").get_by_role("link", name="Sign in").click()
    wait_idle(phone)
    phone.get_by_text("Volunteer", exact=True).click()
    phone.locator("input[type=password]").fill(DEMO_PASSWORDS["volunteer"])
    phone.get_by_role("button", name="Sign in", exact=True).click()
    phone.get_by_text("Signed in as Volunteer").wait_for(state="attached")
    wait_idle(phone)
    # back on the page they were trying to open, without looking for it in the menu
    phone.get_by_role("heading", name="Check-in").first.wait_for()
    phone.wait_for_url(lambda url: url.endswith("/check-in"))
    phone.get_by_text("Please sign in first").wait_for(state="detached")


def test_a_volunteer_cannot_open_an_organiser_page_by_its_address(server, page):
    """Signed in as a volunteer, typing the Members page's address (a new page load) keeps the
    volunteer signed in, and the page says it is not open to volunteers, with no names or contacts."""
    page.goto(server.url)           # a fresh server first answers a page address with "page not found"
    wait_idle(page)
    page.get_by_text("People signed up").wait_for()
    sign_in(page, server.url, "volunteer")
    page.goto(server.url + "/members")
    wait_idle(page)
    page.get_by_text("“Members” is only for organisers, so it is not open to you").wait_for()
    page.get_by_text("Signed in as Volunteer").wait_for()
    assert page.get_by_text("Please sign in first").count() == 0
    body = page.inner_text("body")
    assert "P-0" not in body and "@" not in body
