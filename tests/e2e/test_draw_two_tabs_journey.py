"""An organiser has the Draw page open in two tabs and computes the lottery in one: the other tab moves on to
the ready lottery by itself (no reload), says why, and no longer offers "Compute the fair lottery". In real
Chromium against a real `streamlit run`, on the demo with a panel of 10 (a lottery in a few seconds)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.draw_fixtures import small_demo_template
from tests.e2e.conftest import StreamlitServer, sign_in, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def draw_server(tmp_path_factory):
    path = small_demo_template(tmp_path_factory.mktemp("e2e_draw_tabs"))
    srv = StreamlitServer(path, extra_env={"KLEROTERION_DRAW_TIME_LIMIT": "30", "KLEROTERION_LEGACY_SECONDS": "0.5"})
    yield srv
    srv.stop()


def open_draw(page, url: str) -> None:
    page.goto(url + "/draw")                          # signed in by the cookie both tabs share
    wait_idle(page)
    page.get_by_role("heading", name="The draw").first.wait_for()
    wait_idle(page)


def test_the_second_tab_follows_the_draw_without_a_reload(draw_server, page):
    page.goto(draw_server.url)
    wait_idle(page)
    sign_in(page, draw_server.url, "organiser")
    one = page
    two = page.context.new_page()
    two.set_default_timeout(30_000)
    open_draw(one, draw_server.url)
    one.get_by_role("button", name=re.compile(r"Freeze target version \d+")).first.click()
    one.get_by_role("button", name=re.compile(r"Yes, freeze version \d+")).click()
    one.get_by_text("panels that meet every quota exist").wait_for()
    wait_idle(one)
    open_draw(two, draw_server.url)
    expect(two.get_by_role("button", name="Compute the fair lottery")).to_be_visible()

    one.get_by_role("button", name="Compute the fair lottery").click()
    # the second tab, untouched: it says the draw moved on (while the lottery is computed, or once it is ready;
    # the words stay until that tab's next step), then shows the lottery, with no Compute button to press again
    expect(two.get_by_text("The draw has moved on")).to_be_visible()
    one.get_by_text("The fair lottery is ready").wait_for(timeout=120_000)
    two.get_by_text("The fair lottery is ready").wait_for(timeout=60_000)
    expect(two.get_by_role("button", name="Compute the fair lottery")).to_have_count(0)
