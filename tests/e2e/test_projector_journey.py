"""The projector follows the live ceremony by itself (issue 15 point 4), in Chromium.

A visitor's phone (390 px wide, no sign-in) opens the projector page; the organiser, in another
browser context, freezes, computes, publishes the commitment and reveals the panel on the demo. The
projector shows the commitment and then the panel without being reloaded, and no group of four of
the commitment is ever split across two lines, on the projector or on the organiser's phone-width
draw page.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import StreamlitServer, sign_in, wait_idle

pytestmark = pytest.mark.e2e

SPLIT_GROUPS = """() => {
  const groups = [...document.querySelectorAll("[data-testid='commitment-group']")];
  const split = groups.filter(g => {
    const r = document.createRange(); r.selectNodeContents(g);
    const lines = new Set([...r.getClientRects()].map(b => Math.round(b.top)));
    return lines.size !== 1;
  }).map(g => g.textContent);
  const widest = Math.max(0, ...groups.map(g => g.getBoundingClientRect().right));
  const lines = new Set(groups.map(g => Math.round(g.getBoundingClientRect().top))).size;
  return {count: groups.length, split, overflow: widest > window.innerWidth + 1, lines,
          text: groups.map(g => g.textContent).join(' ')};
}"""


@pytest.fixture(scope="module")
def draw_server(tmp_path_factory):
    srv = StreamlitServer(tmp_path_factory.mktemp("e2e_projector") / "app.duckdb",
                          extra_env={"KLEROTERION_DRAW_TIME_LIMIT": "10", "KLEROTERION_LEGACY_SECONDS": "1"})
    yield srv
    srv.stop()


def _groups(pg) -> dict:
    return pg.evaluate(SPLIT_GROUPS)


def test_the_projector_shows_the_commitment_then_the_panel_without_a_reload(draw_server, page, phone):
    page.goto(draw_server.url)
    wait_idle(page)
    page.get_by_text("People signed up").wait_for()      # first start: the demo is loaded

    # the projector: a visitor's phone, not signed in
    phone.goto(draw_server.url + "/projector")
    phone.get_by_text("The draw has not started yet").wait_for()
    phone.evaluate("window.__projectorMarker = 'same page'")

    # the organiser runs the ceremony in another browser
    sign_in(page, draw_server.url, "organiser")
    page.get_by_role("link", name="The draw").first.click()
    page.get_by_role("heading", name="The draw").first.wait_for()
    wait_idle(page)
    page.get_by_role("button", name=re.compile(r"Freeze target version \d+ for the draw")).click()
    page.get_by_role("button", name=re.compile(r"Yes, freeze version \d+")).wait_for()
    assert_accessible(page, "The draw", "organiser", "desktop", "asking to confirm the freeze")
    page.get_by_role("button", name=re.compile(r"Yes, freeze version \d+")).click()
    page.get_by_text("panels that meet every quota exist").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Compute the fair lottery").click()
    page.get_by_text("The fair lottery is ready").wait_for(timeout=120_000)
    wait_idle(page)
    page.get_by_role("button", name="Publish the commitment").click()
    page.locator("[data-testid='commitment-group']").nth(15).wait_for()
    wait_idle(page)
    organiser = _groups(page)
    assert organiser["count"] == 16 and not organiser["split"], organiser

    # the organiser's draw page at phone width: groups wrap between each other, never inside one
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("window.innerWidth === 390")
    narrow = _groups(page)
    assert narrow["lines"] > 1 and not narrow["split"] and not narrow["overflow"], narrow
    page.set_viewport_size({"width": 1280, "height": 900})

    # the projector shows the commitment by itself, in whole groups
    phone.locator("[data-testid='commitment-group']").nth(15).wait_for(timeout=30_000)
    projected = _groups(phone)
    assert projected["text"] == organiser["text"], (projected, organiser)
    assert projected["lines"] > 1 and not projected["split"] and not projected["overflow"], projected
    phone.get_by_text("Waiting for the number to be drawn in public").wait_for()
    assert_accessible(phone, "The draw, live (projector)", "public", "phone", "commitment published, waiting")
    assert phone.evaluate("window.__projectorMarker") == "same page"

    # the number is entered and the panel revealed
    page.get_by_label("The public random number").fill("17 03 42 08 11")
    page.get_by_text("This number was drawn in public, after the commitment was published").click()
    wait_idle(page)
    page.get_by_role("button", name="Reveal the panel").click()
    page.get_by_text(re.compile(r"chose panel number \d+ of \d+")).wait_for(timeout=60_000)

    panel = phone.locator("[data-testid='projector-panel'] span")
    panel.nth(29).wait_for(timeout=30_000)                  # the demo's panel of 30, by public bundle id
    assert panel.count() == 30
    assert phone.locator("[data-testid='projector-number']").inner_text().strip() == "1703420811"
    command = phone.locator("code").filter(has_text="python -m lib.sortition verify").first.inner_text()
    assert "--public-number 1703420811" in command and "--commitment " + organiser["text"].replace(" ", "") in command
    assert phone.evaluate("window.__projectorMarker") == "same page"      # never reloaded
    assert not _groups(phone)["split"]
    assert_accessible(phone, "The draw, live (projector)", "public", "phone", "after the reveal")
    phone.screenshot(path=str(draw_server.log_path.with_suffix(".projector.png")), full_page=True)
