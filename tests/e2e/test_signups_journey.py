"""A newcomer starts the app, opens Sign-ups, brings in the demo sign-ups and sees the counts."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_page, sign_in, wait_idle

pytestmark = pytest.mark.e2e


def test_demo_signups_counts_in_the_browser(server, page):
    page.goto(server.url)
    wait_idle(page)
    page.get_by_text("People signed up").wait_for()
    # The demo is loaded on first start: 603 sign-ups, 7 of them with a problem.
    assert page.get_by_test_id("stMetricValue").first.inner_text() == "603"

    sign_in(page, server.url, "organiser")
    page.get_by_role("link", name="Sign-ups").first.click()
    page.get_by_role("heading", name="Sign-ups", exact=True).wait_for()
    wait_idle(page)
    page.get_by_role("tab", name="Demo sign-ups").click()
    page.get_by_role("button", name="Bring in the demo sign-ups").click()
    page.get_by_text(re.compile(r"Done: 603 sign-ups read, nothing changed")).wait_for()
    # the message can appear a moment before the counts are drawn again: wait for the counts
    expect(page.get_by_test_id("stMetricValue")).to_have_text(["603", "596", "7", "0"])
    # Contact details are masked in the preview: no full email address appears anywhere on the page.
    body = page.content()
    assert "@example.org" not in body
    page.screenshot(path=str(server.log_path.with_suffix(".png")), full_page=True)


def test_a_volunteer_cannot_open_signups_by_typing_its_address(server, page):
    sign_in(page, server.url, "volunteer")
    page.goto(server.url + "/signups")
    wait_idle(page)
    # Typing an address starts a new browser session; the sign-in cookie keeps the volunteer signed in,
    # and the page is not theirs: no preview, no problem list, no contact details.
    page.get_by_text("“Sign-ups” is only for organisers, so it is not open to you").wait_for()
    assert page.get_by_text("Problems to look at").count() == 0
    assert page.get_by_role("button", name="Bring in the demo sign-ups").count() == 0
    assert "@example.org" not in page.content()


def test_a_table_on_screen_offers_no_download_that_would_run_formulas(server, page):
    """Streamlit's own "Download as CSV" on a table (in the toolbar over it) writes every cell as it is: a sign-up
    who typed their name as =HYPERLINK("http://…","click") would become a live formula in the organiser's
    spreadsheet. The app's own download buttons put a ' before such cells (tests/test_export_formulas.py), so
    the tables on screen offer none of their own; searching a table still works."""
    sign_in(page, server.url, "organiser")
    open_page(page, "Sign-ups")
    table = page.get_by_test_id("stDataFrame").first
    table.scroll_into_view_if_needed()
    table.hover()
    toolbar = page.get_by_test_id("stElementToolbar").first
    expect(toolbar.get_by_role("button", name="Search")).to_be_visible()
    expect(toolbar.get_by_role("button", name="Download as CSV")).to_have_count(0)
