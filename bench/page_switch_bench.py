"""Benchmark: switching pages in a real browser, as an organiser does in the demo.

    .venv/bin/python -m bench.page_switch_bench [--rounds 3] [--phone]

bench/pages_bench.py measures a page's run on the server (AppTest); what a person waits for is more:
the click in the menu, the app shell's rerun, the websocket, and the browser drawing the page. This
starts a real ``streamlit run`` on the demo assembly and one Chromium (Playwright), signs in as the
organiser through the sign-in page and opens every page of the menu in turn, ``--rounds`` times.
The first round is cold (each page's first visit); the report gives, per page, the median of the
later rounds (warm), from the click to the page's heading on screen with Streamlit idle again, and
the server's share of it: from the browser sending the click to the last websocket frame it
received for that page (the browser's own timestamps, from Chrome's DevTools). The target (issue
15): every page switch ≤ 1 s warm. The machine's load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load_bench import FrameClock, wait_idle  # noqa: E402

TARGET_S = 1.0


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


async def menu_titles(page) -> list[str]:
    nav = page.get_by_test_id("stSidebarNav")
    more = page.get_by_test_id("stSidebarNavViewButton")
    if await more.count() and "more" in (await more.first.inner_text()).lower():
        await more.first.click()
    links = nav.get_by_test_id("stSidebarNavLink")
    return [(await links.nth(i).inner_text()).strip().splitlines()[-1] for i in range(await links.count())]


async def switch(page, clock: FrameClock, title: str) -> tuple[float, float | None]:
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).first
    href = await link.get_attribute("href")
    since = clock.mark()
    t0 = time.perf_counter()
    await link.click()
    await page.wait_for_url(href)
    # the page's own first heading drawn (the last page's is gone) and Streamlit idle again
    await page.wait_for_function("""([before]) => {
        const h = document.querySelector('[data-testid=stMain] h1');
        return !!h && h.innerText !== before && !document.querySelector('[data-testid=stStatusWidget]');
    }""", arg=[getattr(switch, "last", "")], polling="raf")
    switch.last = await page.locator("[data-testid=stMain] h1").first.inner_text()
    await wait_idle(page)
    total = time.perf_counter() - t0
    server = None
    if len(clock.sent) > since and clock.received:
        server = max(t for t, _raw in clock.received) - clock.sent[since]
    return total, server


async def run(url: str, rounds: int, phone: bool) -> dict:
    from playwright.async_api import async_playwright

    from lib.access.auth import DEMO_PASSWORDS
    from tests.e2e.conftest import CHROMIUM_ARGS, _chromium

    out: dict[str, list[tuple[float, float | None]]] = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS)
        ctx = await browser.new_context(viewport={"width": 390, "height": 844} if phone
                                        else {"width": 1366, "height": 900})
        page = await ctx.new_page()
        page.set_default_timeout(120_000)
        clock = await FrameClock.attach(ctx, page)
        await page.goto(url)
        await page.get_by_role("heading", name="The steps").wait_for()
        await page.goto(f"{url}/sign-in")
        await wait_idle(page)
        await page.get_by_text("Organiser", exact=True).click()
        await page.locator("input[type=password]").fill(DEMO_PASSWORDS["organiser"])
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await page.get_by_text("Signed in as Organiser").wait_for()
        await page.wait_for_url(lambda u: "/sign-in" not in u)
        await wait_idle(page)
        titles = [t for t in await menu_titles(page) if t]
        for r in range(rounds):
            for title in titles:
                if phone:
                    opener = page.get_by_test_id("stExpandSidebarButton")
                    if await opener.count() and await opener.first.is_visible():
                        await opener.first.click()
                out.setdefault(title, []).append(await switch(page, clock, title))
            print(f"  round {r + 1}/{rounds} done (load average {load_average()})", flush=True)
        await browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="visits of every page (the first is cold)")
    ap.add_argument("--phone", action="store_true", help="a 390 px wide phone screen instead of a desktop")
    args = ap.parse_args(argv)
    from tests.e2e.conftest import StreamlitServer

    tmp = Path(tempfile.mkdtemp(prefix="kl-switch-"))
    print(f"Demo assembly, organiser, {args.rounds} rounds over the menu; load average at start: {load_average()}",
          flush=True)
    srv = StreamlitServer(tmp / "app.duckdb")
    try:
        out = asyncio.run(run(srv.url, max(2, args.rounds), args.phone))
    finally:
        srv.stop()
    print()
    print("| page | cold (ms) | warm median (ms) | of which server (ms) | browser and the rest (ms) | ≤ 1 s warm |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for title, samples in out.items():
        warm = [t for t, _ in samples[1:]]
        server = [s for _, s in samples[1:] if s is not None]
        w = statistics.median(warm)
        sv = statistics.median(server) if server else float("nan")
        worst = max(worst, w)
        print(f"| {title} | {samples[0][0] * 1000:.0f} | {w * 1000:.0f} | {sv * 1000:.0f} | "
              f"{(w - sv) * 1000:.0f} | {'yes' if w <= TARGET_S else 'no'} |")
    print(f"\nSlowest warm page switch: {worst * 1000:.0f} ms (target ≤ {TARGET_S * 1000:.0f} ms). "
          f"Load average at the end: {load_average()} on {os.cpu_count()} cores.")
    return 0 if worst <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
