"""A member's first question, proposed right after signing in with a double tap on "Propose this question", is
saved once and the member sees only the thank-you (not "the same question has already been proposed"), in real
Chromium against a real `streamlit run`: once in the session of the sign-in (the menu), once on a phone after
opening the page by its address, tapping twice while the page is still working on the first tap."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from lib import evaluation as ev
from lib.demo.load import load_demo
from lib.recruitment.signups.store import pool_frame
from lib.store.db import open_database
from tests.e2e.conftest import StreamlitServer, open_page, wait_for_sign_in_cookie, wait_idle
from tests.e2e.test_member_journey import member_sign_in

pytestmark = pytest.mark.e2e

WORDINGS = ("I could follow the experts' talks.", "The breaks were long enough.")


@pytest.fixture(scope="module")
def assembly(tmp_path_factory):
    path = tmp_path_factory.mktemp("propose_twice") / "app.duckdb"
    db = open_database(path)
    load_demo(db)
    ids = pool_frame(db)["person_id"].tolist()[:2]
    codes = ev.issue_codes(db, ids, "organiser")
    db.close()
    return path, [codes[i] for i in ids]


def propose(page, wording: str, tap) -> None:
    page.get_by_label("Your question").fill(wording)
    page.get_by_label("What do you want to learn from it?").fill("Whether the talks work")
    tap(page.get_by_role("button", name="Propose this question"))
    try:
        page.get_by_text("your question is saved").wait_for()
    except Exception as e:  # noqa: BLE001 - say what the member saw instead
        raise AssertionError(f"no thank-you after the taps; the page showed:\n{page.locator('body').inner_text()}") from e
    wait_idle(page)
    expect(page.get_by_text(wording, exact=True)).to_have_count(1)        # under "Your questions", once
    expect(page.get_by_text("has already been proposed")).to_have_count(0)


def tap_twice_while_working(button) -> None:
    """A second tap once the first one has set the page working (the "Running" sign), as an impatient
    person does on a slow phone."""
    page = button.page
    button.tap()
    try:
        page.get_by_test_id("stStatusWidget").wait_for(timeout=5_000)
    except Exception:  # noqa: BLE001 - the first tap's run was already over: tap again all the same
        pass
    if button.count():
        button.tap(timeout=5_000)


def test_a_double_tap_right_after_signing_in_saves_the_question_once(assembly, browser):
    path, codes = assembly
    srv = StreamlitServer(path)
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                has_touch=True)
    try:
        first = desk.new_page()
        first.set_default_timeout(30_000)
        member_sign_in(first, srv.url, codes[0])
        open_page(first, "Our questions")                      # in the session of the sign-in
        propose(first, WORDINGS[0], lambda b: b.dblclick())

        second = phone.new_page()
        second.set_default_timeout(30_000)
        member_sign_in(second, srv.url, codes[1])
        wait_for_sign_in_cookie(second)
        second.goto(srv.url + "/our-questions")
        wait_idle(second)
        propose(second, WORDINGS[1], tap_twice_while_working)
    finally:
        desk.close()
        phone.close()
        srv.stop()
    db = open_database(path)
    try:
        saved = ev.questions_frame(db, "member")
    finally:
        db.close()
    assert len(saved) == 2, saved
