""""Sync now" in a real browser. The button sits in the Sign-ups page's banner, a fragment that redraws itself
every 30 seconds; a sync changes the counts drawn below it, so pressing it reruns the whole page
(pages.common.act(..., whole_page=True)): the result is told once at the top and the counts follow. AppTest
always runs the whole page, so only a browser can tell a fragment's rerun from the page's."""

from __future__ import annotations


import pytest
from playwright.sync_api import expect

from lib.recruitment.signups import live
from tests.e2e.conftest import wait_idle
from tests.e2e.test_live_sync_journey import TAB, build_assembly, demo_rows, sheet_connected_server, sign_in_with_password
from tests.fakesheets import FakeSheets

pytestmark = pytest.mark.e2e

PASSWORD = "copper meadow lantern"
SLOW = 90_000


@pytest.fixture(scope="module")
def fake():
    with FakeSheets() as server:
        yield server


@pytest.fixture(scope="module")
def sheet_server(tmp_path_factory, fake):
    from lib.store.db import open_database

    folder = tmp_path_factory.mktemp("e2e_sync_now")
    key = build_assembly(folder / "app.duckdb", fake)
    db = open_database(folder / "app.duckdb")
    live.save_live_settings(db, enabled=True, seconds=3600)  # connected, but nothing comes in by itself here
    db.close()
    srv = sheet_connected_server(folder, fake, key, "organiser", PASSWORD)
    yield srv
    srv.stop()


def test_sync_now_tells_the_result_once_and_the_counts_below_follow(sheet_server, fake, page):
    page.set_default_timeout(SLOW)
    sign_in_with_password(page, sheet_server.url, "Organiser", PASSWORD)
    page.get_by_role("link", name="Sign-ups").first.click()
    page.get_by_role("heading", name="Sign-ups", exact=True).wait_for()
    wait_idle(page, SLOW)
    signed_up = page.get_by_test_id("stMetricValue").first
    expect(signed_up).to_have_text("603")

    new = list(demo_rows()[1])
    new[0], new[1], new[2] = "02/10/2026 09:00:00", "Ada Newcomer", "ada.newcomer@example.org"
    fake.tab(sheet_server.sheet_key, TAB).rows.append(new)   # somebody fills in the form
    page.get_by_role("button", name="Sync now").click()

    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="Done: 604 sign-ups read, 1 new")
           ).to_have_count(1, timeout=60_000)
    expect(signed_up).to_have_text("604")                    # drawn outside the banner: the page ran again
    assert "ada.newcomer@example.org" not in page.content()
