"""Issue 13 point 2 in a real browser: somebody on a phone (390 px), not signed in, pastes the receipt the
organisers sent them into the Transparency page and is told whether they were picked; then a mistyped one.
The answer fits the screen, the state is accessible (axe-core), and the server logs no error."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

from tests.app_pages.drawn_demo import drawn_demo_file
from tests.e2e import axe
from tests.e2e.conftest import StreamlitServer, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """A copy of the demo with a real, revealed draw, and two receipts from it (picked, not picked)."""
    from lib import draws
    from lib.sortition.audit.public import receipt_code
    from lib.store.db import open_database

    path = tmp_path_factory.mktemp("receipt") / "app.duckdb"
    shutil.copyfile(drawn_demo_file(tmp_path_factory.getbasetemp()), path)
    db = open_database(path)
    rec = draws.revealed_draw(db)
    fl = draws.frozen_lottery(db, rec.draw_id)
    codes = receipt_code(fl, rec.selected_ids[0]), receipt_code(fl, rec.reserve_ids[0])
    db.close()
    return path, codes


def test_a_receipt_checked_on_a_phone(drawn, phone):
    path, (picked, not_picked) = drawn
    srv = StreamlitServer(path)
    try:
        phone.goto(srv.url + "/transparency")
        wait_idle(phone)
        box = phone.get_by_role("textbox", name="Your receipt", exact=True)
        box.fill(picked)
        box.press("Enter")
        phone.get_by_role("button", name="Check my receipt").click()
        answer = phone.get_by_text("You were in the pool of this draw. You were picked.")
        expect(answer).to_be_visible()
        width = answer.evaluate("e => e.getBoundingClientRect().right")
        assert width <= 390, width                                 # the sentence wraps inside the screen
        axe.assert_accessible(phone, "Transparency", "visitor", "phone", "a receipt checked: picked")
        box.fill(not_picked[:-4] + "zzzz")                          # mistyped at the end
        box.press("Enter")
        phone.get_by_role("button", name="Check my receipt").click()
        expect(phone.get_by_text("This receipt could not be read")).to_be_visible()
        expect(answer).to_have_count(0)
    finally:
        srv.stop()
