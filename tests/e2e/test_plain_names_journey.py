"""A sign-up whose name is Markdown for an image: on the volunteers' check-in page, in real Chromium
against the real app, the image is never loaded and the door shows only a safe first name, as text."""

from __future__ import annotations

from datetime import datetime

import pytest

from lib import assembly as P
from tests.e2e.conftest import StreamlitServer, counting_web_server, leave_sign_in_page, open_page, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tracker():
    """A web server on 127.0.0.1 that would serve the image, and counts who asks for it."""
    with counting_web_server() as (site, hits):
        yield f"{site}/t.png", hits


@pytest.fixture(scope="module")
def assembly(tmp_path_factory, tracker):
    """The demo with 8 members, one of them signed up as ``![x](<image>) Smith``, and a session today."""
    from lib.store.db import open_database
    from lib.demo.load import load_demo
    from lib.recruitment.signups.store import pool_frame

    image_url, _ = tracker
    path = tmp_path_factory.mktemp("plain-names") / "app.duckdb"
    d = open_database(path)
    load_demo(d)
    ids = list(pool_frame(d)["person_id"][:8])
    P.enrol_panel(d, ids, None, "organiser")
    P.schedule_session(d, "Session 1", datetime.now().replace(hour=10, minute=0, second=0, microsecond=0),
                       "Town hall", "organiser")
    name = f"![x]({image_url})"
    d.transaction(lambda cur: cur.execute("UPDATE contacts SET name = ? WHERE person_id = ?",
                                          [name + " Smith", ids[0]]))
    d.close()
    srv = StreamlitServer(path)
    yield srv, name, ids[0]
    srv.stop()


def _sign_in_as_volunteer(page, base_url: str) -> None:
    """From the start page through the menu, as a person does."""
    from lib.access.auth import DEMO_PASSWORDS, ROLE_LABELS

    page.goto(base_url)
    wait_idle(page)
    open_page(page, "Sign in")
    page.get_by_text(ROLE_LABELS["volunteer"], exact=True).click()
    page.locator("input[type=password]").fill(DEMO_PASSWORDS["volunteer"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text(f"Signed in as {ROLE_LABELS['volunteer']}").wait_for(state="attached")
    leave_sign_in_page(page)


def test_a_name_made_of_an_image_link_shows_as_text_and_loads_nothing(assembly, tracker, page):
    srv, name, pid = assembly
    image_url, hits = tracker
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    _sign_in_as_volunteer(page, srv.url)
    open_page(page, "Check-in")
    page.get_by_text("0 of 8").wait_for()
    wait_idle(page)
    host = image_url.rsplit("/", 1)[0]

    def nothing_loaded() -> None:
        page.wait_for_timeout(1500)                # time for any image to be asked for
        assert page.locator(f'img[src*="{host}"]').count() == 0
        assert not [u for u in requested if u.startswith(host)], requested
        assert hits == []

    nothing_loaded()
    # the door shows first names only, as text: the image's address (a word with digits, like a phone
    # number or an email would be) is never shown, so the card reads "Smith"
    shown = P.first_name(name + " Smith")
    assert shown == "Smith"
    # the door draws the first few people only (issue 15.3): find them by pseudonym, as a volunteer does
    search = page.get_by_label("Find someone: first name or pseudonym")
    search.fill(pid)
    search.press("Enter")
    wait_idle(page)
    card = page.get_by_test_id("stVerticalBlock").filter(has_text=pid).filter(
        has=page.get_by_role("button", name="Present")).last
    card.get_by_text(shown, exact=True).wait_for()
    assert card.get_by_text("t.png").count() == 0
    # and so does the paper sheet's line for them
    page.get_by_role("tab", name="Paper sheet").click()
    page.get_by_test_id("stForm").get_by_text(f"{shown} · {pid}").wait_for()
    wait_idle(page)
    nothing_loaded()
