"""A member's proposed question holding bare web addresses, in real Chromium against the real app: on the
members' "Our questions" page it shows as text, and no address in it is a working link or loads anything.

Escaping Markdown is not enough for this: Streamlit's Markdown turns bare addresses into links after the
escapes are resolved (remark-gfm's autolink literals), which an AppTest cannot see (issue 13, point 6:
"a member's question can carry a working phishing link into the survey")."""

from __future__ import annotations


import pytest
from playwright.sync_api import expect

from lib.demo.load import load_demo
from lib import evaluation as ev
from lib.recruitment.signups.store import pool_frame
from lib.store.db import open_database
from tests.e2e.conftest import counting_web_server, open_page, wait_idle
from tests.e2e.test_member_journey import member_sign_in, start

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tracker():
    """A web server on 127.0.0.1 standing in for the phishing site; it counts who asks it for anything."""
    with counting_web_server() as (site, hits):
        yield site, hits


def test_a_members_question_with_web_addresses_shows_them_as_text_not_links(tmp_path, tracker, page):
    site, hits = tracker
    wording = (f"Is the bus free? Log in at {site}/login or www.evil.example, ![x]({site}/q.png) "
               f"<img src='{site}/h.png'> or write to help@evil.example")
    path = tmp_path / "app.duckdb"
    db = open_database(path)
    load_demo(db)
    pid = pool_frame(db)["person_id"].tolist()[0]
    code = ev.issue_codes(db, [pid], "organiser")[pid]
    ev.propose_question(db, ev.member_sign_in(db, code), wording, "to learn whether " + wording)
    db.close()

    srv = start(path, page)
    try:
        member_sign_in(page, srv.url, code)
        open_page(page, "Our questions")
        expect(page.get_by_text("Is the bus free?").first).to_be_visible()
        wait_idle(page)
        shown = page.locator("body").inner_text()
        assert f"Log in at {site}/login or www.evil.example" in shown.replace("\u2060", "")   # as typed
        links = page.locator(f"a[href*='127.0.0.1:{site.rsplit(':', 1)[1]}'], a[href*='evil.example']")
        assert links.count() == 0, [a.evaluate("e => e.outerHTML") for a in links.all()]
        assert page.locator(f"img[src^='{site}']").count() == 0
        assert "write to help@evil.example" in shown.replace("\u2060", "")       # an e-mail address, as typed,
        assert page.locator("a[href^='mailto:']").count() == 0                    # and not a mailto: link
        assert hits == []
    finally:
        srv.stop()
