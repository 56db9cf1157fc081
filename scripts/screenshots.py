"""Take the README's screenshots of the main pages (docs/screenshots/*.png).

    .venv/bin/python scripts/screenshots.py

Starts a real `streamlit run` on the demo assembly in a temporary database, signs in
through the sign-in page and photographs each page in Debian's Chromium. Pages that do not
exist (yet) are skipped with a note.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM_ARGS, StreamlitServer, _chromium, sign_in, wait_idle  # noqa: E402

OUT = ROOT / "docs" / "screenshots"

# (file name, role, url path, viewport); "skip-ahead" runs the demo's "skip ahead" first
SHOTS = [
    ("overview", "organiser", "", (1280, 900)),
    ("signups", "organiser", "signups", (1280, 1100)),
    ("targets", "organiser", "targets", (1280, 1100)),
    ("quota-board-phone", "volunteer", "quota-board", (390, 844)),
    ("skip-ahead", "organiser", "", (1280, 900)),
    ("draw", "organiser", "draw", (1280, 1100)),
    ("representativeness", "organiser", "representativeness", (1280, 1100)),
    ("members", "organiser", "members", (1280, 900)),
    ("check-in-phone", "volunteer", "check-in", (390, 844)),
    ("evaluation", "organiser", "evaluation", (1280, 1000)),
    ("transparency", None, "transparency", (1280, 1000)),
]


TITLES = {"signups": "Sign-ups", "targets": "Targets and quotas", "quota-board": "Quota board",
          "draw": "The draw", "representativeness": "How representative?", "members": "Members",
          "check-in": "Check-in", "evaluation": "Evaluation", "transparency": "Transparency"}


def main() -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server = StreamlitServer(Path(tmp) / "shots.duckdb")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS)
                warm = browser.new_page()          # the very first run loads the demo; let it finish
                warm.goto(server.url)
                warm.get_by_text("People signed up").wait_for(timeout=120_000)
                warm.close()
                for name, role, path, (w, h) in SHOTS:
                    ctx = browser.new_context(viewport={"width": w, "height": h}, device_scale_factor=1)
                    page = ctx.new_page()
                    page.set_default_timeout(60_000)
                    if role:
                        sign_in(page, server.url, role)
                    else:
                        page.goto(server.url)
                        wait_idle(page, 120_000)
                    if name == "skip-ahead":
                        page.get_by_text("Demo: skip ahead to after the draw").click()
                        page.get_by_role("button", name="Skip ahead").click()
                        page.get_by_text("This story is invented").wait_for(timeout=600_000)
                        ctx.close()
                        continue
                    # Follow the menu (typing an address would start a new, signed-out session).
                    if path:
                        expand = page.get_by_test_id("stExpandSidebarButton")
                        if expand.count() and expand.first.is_visible():
                            expand.first.click()
                        more = page.get_by_test_id("stSidebarNavViewButton")
                        if more.count() and "more" in more.first.inner_text().lower():
                            more.first.click()
                        page.get_by_test_id("stSidebarNav").get_by_role("link", name=TITLES[path],
                                                                         exact=True).first.click()
                        wait_idle(page, 120_000)
                        collapse = page.get_by_test_id("stSidebarCollapseButton")
                        if w < 600 and collapse.count() and collapse.first.is_visible():
                            collapse.first.click()
                    wait_idle(page, 120_000)
                    page.wait_for_timeout(1500)  # charts finish drawing
                    if "Page not found" in page.content():
                        print(f"skipped {name}: page /{path} not available")
                    else:
                        page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
                        print(f"saved docs/screenshots/{name}.png")
                    ctx.close()
                browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
