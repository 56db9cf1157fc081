"""After a save the page stays on the tab the person chose (issue 15: it jumped back to the first tab)."""

from __future__ import annotations

from datetime import datetime

import pytest

from lib import assembly as P
from tests.e2e.conftest import StreamlitServer, open_page, sign_in, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def assembly(tmp_path_factory):
    """The demo assembly with 6 members enrolled and a session today, then the real app on it."""
    from lib.store.db import open_database
    from lib.demo.load import load_demo
    from lib.recruitment.signups.store import pool_frame

    path = tmp_path_factory.mktemp("tabs") / "app.duckdb"
    d = open_database(path)
    load_demo(d)
    ids = list(pool_frame(d)["person_id"][:6])
    P.enrol_panel(d, ids, None, "organiser")
    sid = P.schedule_session(d, "Session 1", datetime.now().replace(hour=10, minute=0, second=0, microsecond=0),
                             "Town hall", "organiser")
    d.close()
    srv = StreamlitServer(path)
    yield srv, ids, sid
    srv.stop()


def test_saving_the_paper_sheet_keeps_the_paper_sheet_tab_open(assembly, page):
    srv, ids, sid = assembly
    page.goto(srv.url)
    wait_idle(page)
    page.get_by_text("People signed up").wait_for()
    sign_in(page, srv.url, "volunteer")
    open_page(page, "Check-in")
    paper = page.get_by_role("tab", name="Paper sheet")
    paper.click()
    wait_idle(page)
    page.get_by_role("button", name="Save the sheet").wait_for()
    # the first person's row of the sheet: tick "Present" and save
    row = page.get_by_role("radiogroup").filter(has_text="Present").first
    row.get_by_text("Present", exact=True).click()
    page.get_by_role("button", name="Save the sheet").click()
    page.get_by_text("Saved 1 mark from the paper sheet.").wait_for()
    wait_idle(page)
    assert paper.get_attribute("aria-selected") == "true"
    assert page.get_by_role("tab", name="At the door").get_attribute("aria-selected") == "false"
    page.get_by_role("button", name="Save the sheet").wait_for()      # the sheet itself is what shows
