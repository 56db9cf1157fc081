"""An organiser runs the whole draw ceremony on the demo assembly in Chromium, downloads the
audit bundle, and the stand-alone verifier (python -m lib.sortition verify) says PASS.

The demo's panel of 30 from 596 sign-ups is used as it is. The optimiser's time limit is
shortened (KLEROTERION_DRAW_TIME_LIMIT=15 s, greedy comparison 2 s) so that the journey
stays short: the lottery is then valid but may not be the very fairest one.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.e2e.conftest import ROOT, StreamlitServer, sign_in, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def draw_server(tmp_path_factory):
    srv = StreamlitServer(tmp_path_factory.mktemp("e2e_draw") / "app.duckdb",
                          extra_env={"KLEROTERION_DRAW_TIME_LIMIT": "15", "KLEROTERION_LEGACY_SECONDS": "2"})
    yield srv
    srv.stop()


def test_organiser_runs_the_draw_and_the_bundle_verifies(draw_server, page, tmp_path):
    page.goto(draw_server.url)
    wait_idle(page)
    page.get_by_text("People signed up").wait_for()      # first start: the demo is loaded
    sign_in(page, draw_server.url, "organiser")
    page.get_by_role("link", name="The draw").first.click()
    page.get_by_role("heading", name="The draw").first.wait_for()
    wait_idle(page)

    # 1. freeze the targets and check the quotas
    page.get_by_role("button", name=re.compile(r"Freeze target version \d+ for the draw")).click()
    page.get_by_role("button", name=re.compile(r"Yes, freeze version \d+")).click()     # freezing asks first
    page.get_by_text("panels that meet every quota exist").wait_for()
    wait_idle(page)   # a click while the page is still being drawn can be lost

    # 2. compute the fair lottery (progress is shown while it runs)
    page.get_by_role("button", name="Compute the fair lottery").click()
    page.get_by_text("The computer is working on it").wait_for()
    page.get_by_text("The fair lottery is ready").wait_for(timeout=120_000)
    page.get_by_text("Smallest chance in the fair lottery").wait_for()
    wait_idle(page)

    # 3. publish the commitment; it is shown large, in groups of four, and printable
    page.get_by_role("button", name="Publish the commitment").click()
    box = page.locator("[data-testid='commitment']").first
    box.wait_for()
    shown = box.inner_text().strip()
    assert re.fullmatch(r"([0-9a-f]{4} ){15}[0-9a-f]{4}", shown), shown
    commitment = shown.replace(" ", "")
    with page.expect_download() as dl:
        page.get_by_role("button", name=re.compile("Download the printable page")).click()
    printable = tmp_path / "lottery.html"
    dl.value.save_as(printable)
    assert shown in printable.read_text(encoding="utf-8")

    # 4. the public random number
    page.get_by_label("The public random number").fill("17 03 42 08 11")
    page.get_by_text("This number was drawn in public, after the commitment was published").click()
    wait_idle(page)
    page.get_by_role("button", name="Reveal the panel").click()

    # 5. the panel
    page.get_by_text(re.compile(r"chose panel number \d+ of 1000")).wait_for(timeout=60_000)
    wait_idle(page)

    # 6. download the audit bundle and verify it outside the app
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download the audit bundle (zip)").click()
    bundle = tmp_path / dl.value.suggested_filename
    dl.value.save_as(bundle)
    assert bundle.name.endswith("-bundle.zip")
    page.screenshot(path=str(draw_server.log_path.with_suffix(".draw.png")), full_page=True)

    # with the values as announced: the commitment in the grouped form shown, the number as read out
    run = subprocess.run([sys.executable, "-m", "lib.sortition", "verify", str(bundle), "--commitment", shown,
                          "--public-number", "17 03 42 08 11"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASS" in run.stdout
    assert commitment in run.stdout
    assert "1703420811" in run.stdout
