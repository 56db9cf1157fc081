"""A member who reloads the page (pull-to-refresh on a phone, a bookmark) stays signed in, on the same
page (its guessing limit is an AppTest: tests/app_pages/test_signin_page.py)."""

from __future__ import annotations

import pytest

from lib import evaluation as ev
from lib.store.db import open_database
from lib.demo.load import load_demo
from lib.recruitment.signups.store import pool_frame
from tests.e2e.conftest import StreamlitServer, wait_for_sign_in_cookie, wait_idle
from tests.e2e.test_member_journey import member_sign_in, start

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    path = tmp_path_factory.mktemp("member_reload") / "app.duckdb"
    db = open_database(path)
    load_demo(db)
    ids = pool_frame(db)["person_id"].tolist()[:2]
    codes = ev.issue_codes(db, ids, "organiser")
    db.close()
    return path, [codes[i] for i in ids]


def test_a_member_stays_signed_in_across_a_reload(cards, phone):
    path, codes = cards
    srv: StreamlitServer = start(path, phone)
    try:
        member_sign_in(phone, srv.url, codes[0])
        wait_for_sign_in_cookie(phone)
        phone.goto(srv.url + "/survey")                 # a bookmark or a reload: a new browser session
        wait_idle(phone)
        phone.get_by_text("Signed in as Assembly member").wait_for()
        assert "/survey" in phone.url
        assert phone.get_by_text("Please sign in first").count() == 0
    finally:
        srv.stop()
