"""A volunteer at the door checks a member in on a phone, in real Chromium against the real app."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lib import assembly as P
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import StreamlitServer, leave_sign_in_page, wait_for_sign_in_cookie, wait_idle

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def assembly(tmp_path_factory):
    """The demo assembly with 30 members enrolled and a session today, then the real app on it."""
    from lib.store.db import open_database
    from lib.demo.load import load_demo
    from lib.recruitment.signups.store import pool_frame

    path = tmp_path_factory.mktemp("checkin") / "app.duckdb"
    d = open_database(path)
    load_demo(d)
    ids = list(pool_frame(d)["person_id"][:30])
    P.enrol_panel(d, ids, None, "organiser")
    sid = P.schedule_session(d, "Session 1", datetime.now().replace(hour=10, minute=0, second=0, microsecond=0),
                             "Town hall", "organiser")
    names = dict(d.query("SELECT person_id, name FROM contacts WHERE list_contains(?, person_id)", [ids]))
    contacts = d.query("SELECT name, email, phone FROM contacts WHERE list_contains(?, person_id)", [ids])
    d.close()
    srv = StreamlitServer(path)
    yield srv, path, ids, sid, names, contacts
    srv.stop()


def open_menu_link(page, name: str) -> None:
    """On a phone the menu is folded away: open it, follow the link, fold it away again."""
    expand = page.get_by_test_id("stExpandSidebarButton")
    if expand.count() and expand.first.is_visible():
        expand.first.click()
    page.get_by_role("link", name=name).first.click()
    wait_idle(page)
    collapse = page.get_by_test_id("stSidebarCollapseButton")
    if collapse.count() and collapse.first.is_visible():
        collapse.first.click()


def sign_in_on_phone(page, base_url: str, role: str) -> None:
    """Sign in as a person on a phone does: from the start page, through the menu.

    (Opening /sign-in directly in a mobile browser context shows Streamlit's "Page not found"
    dialog on the first load, so the shared ``sign_in`` helper cannot be used here.)"""
    from lib.access.auth import DEMO_PASSWORDS, ROLE_LABELS

    page.goto(base_url)
    wait_idle(page)
    page.get_by_text("People signed up").wait_for()
    open_menu_link(page, "Sign in")
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_text(ROLE_LABELS[role], exact=True).click()
    page.locator("input[type=password]").fill(DEMO_PASSWORDS[role])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text(f"Signed in as {ROLE_LABELS[role]}").wait_for(state="attached")
    # the app then moves off the sign-in page with the role's own menu: wait for that move, or the menu
    # read next could still be the visitor's one (seen on a busy machine)
    leave_sign_in_page(page)
    wait_for_sign_in_cookie(page)


def test_a_volunteer_checks_a_member_in_on_a_phone(assembly, phone):
    srv, path, ids, sid, names, contacts = assembly
    pid = ids[6]
    first = P.first_name(names[pid])
    sign_in_on_phone(phone, srv.url, "volunteer")
    # the volunteer's menu offers the check-in, never the members' or support pages
    assert phone.get_by_role("link", name="Check-in").count() == 1
    assert phone.get_by_role("link", name="Members").count() == 0
    assert phone.get_by_role("link", name="Support and stipends").count() == 0
    open_menu_link(phone, "Check-in")
    phone.get_by_role("heading", name="Check-in").wait_for()
    wait_idle(phone)
    phone.get_by_text("0 of 30").wait_for()

    search = phone.get_by_label("Find someone: first name or pseudonym")
    search.fill("Zzyzx")                              # nobody: the warning, checked for accessibility too
    search.press("Enter")
    phone.get_by_text("Nobody on the panel matches that").wait_for()
    assert_accessible(phone, "Check-in", "volunteer", "phone", "a search that matches nobody")
    search.fill(first)
    search.press("Enter")
    wait_idle(phone)
    # each member's card is a keyed container (pages/checkin.py: checkin_row_<pseudonym>)
    card = phone.locator(f".st-key-checkin_row_{pid}")
    # The buttons are big enough to hit with a thumb.
    box = card.get_by_role("button", name="Present").bounding_box()
    assert box and box["height"] >= 44
    card.get_by_role("button", name="Present").click()
    phone.get_by_text(f"{first} ({pid}): present.").wait_for()
    phone.get_by_text("1 of 30").wait_for()
    # the search box is empty again, ready for the next person; no list nobody asked for
    expect(search).to_have_value("")
    expect(phone.get_by_role("button", name="Present")).to_have_count(0)
    assert_accessible(phone, "Check-in", "volunteer", "phone", "after checking someone in")
    # the phone right after a check-in, for the record: to bench/results only when asked (KLEROTERION_SCREENSHOTS=1),
    # as a test run must not rewrite files in the repository; otherwise beside the server's log
    shot = (ROOT / "bench" / "results" / "phone_checkin.png" if os.environ.get("KLEROTERION_SCREENSHOTS") == "1"
            else srv.log_path.with_suffix(".checkin.png"))
    phone.screenshot(path=str(shot))
    # a small door can ask for the short list of who is still to come
    phone.get_by_text("Show who is still to come (29)").click()
    expect(phone.get_by_role("button", name="Present")).to_have_count(6)
    assert_accessible(phone, "Check-in", "volunteer", "phone", "the list of who is still to come")

    # A volunteer sees first names and pseudonyms, never a surname or a contact detail.
    body = phone.locator("body").inner_text()
    for name, email, number in contacts:
        assert name not in body and email not in body and number not in body

    srv.stop()
    from lib.store.db import Database

    d = Database(path, read_only=True)
    try:
        assert P.session_marks(d, sid) == {pid: "present"}
        log = P.attendance_log_frame(d, sid)
        assert list(log["actor"]) == ["volunteer"] and list(log["source"]) == ["door"]
    finally:
        d.close()
