"""Screenshot: the demo's draw in the app with default settings (time to 'The fair lottery is ready').

    .venv/bin/python scripts/demo_draw_screenshot.py

Starts the app on the demo with the default draw time limit (no KLEROTERION_DRAW_TIME_LIMIT), freezes the
targets, presses "Compute the fair lottery", saves docs/screenshots/draw-progress.png while it works and
docs/screenshots/draw-ready.png once it is ready, and prints the seconds from the click to "ready" and the
page's own line on how long the computer took (issue 12: the demo's draw completes in under a minute)."""
import re
import sys
import time
import tempfile
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from playwright.sync_api import sync_playwright
from tests.e2e.conftest import StreamlitServer, sign_in, wait_idle, CHROMIUM_ARGS, _chromium

srv = StreamlitServer(Path(tempfile.mkdtemp()) / "app.duckdb")
try:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS)
        page = b.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        page.set_default_timeout(60_000)
        page.goto(srv.url)
        wait_idle(page)
        page.get_by_text("People signed up").wait_for()
        sign_in(page, srv.url, "organiser")
        page.get_by_role("link", name="The draw").first.click()
        page.get_by_role("heading", name="The draw").first.wait_for()
        wait_idle(page)
        page.get_by_role("button", name=re.compile(r"Freeze target version \d+ for the draw")).click()
        page.get_by_role("button", name=re.compile(r"Yes, freeze version \d+")).click()   # freezing asks first
        page.get_by_text("panels that meet every quota exist").wait_for()
        wait_idle(page)
        t0 = time.monotonic()
        page.get_by_role("button", name="Compute the fair lottery").click()
        page.get_by_text("The computer is working on it").wait_for()
        time.sleep(3)
        page.screenshot(path="docs/screenshots/draw-progress.png", full_page=False)
        page.get_by_text("The fair lottery is ready").wait_for(timeout=600_000)
        took = time.monotonic() - t0
        wait_idle(page)
        page.screenshot(path="docs/screenshots/draw-ready.png", full_page=True)
        print(f"click to 'ready': {took:.1f} s")
        print(page.get_by_text("The computer finished").first.inner_text())
finally:
    srv.stop()
