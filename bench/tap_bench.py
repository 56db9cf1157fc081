"""Benchmark: one check-in tap at a time, two versions of the app alternated (issue 15, item 3).

    .venv/bin/python -m bench.tap_bench OLD_APP_DIR [NEW_APP_DIR] [--taps 16] [--profile]

Each app directory is a checkout of the app (``git archive <commit> | tar -x -C DIR``; NEW defaults to this one).
Each gets a real ``streamlit run`` on its own copy of one prepared database (lib.assembly: a panel of 40, a session
today) and one volunteer signed in, in one headless Chromium, a window each. Then, for each tap, old and new in
turn (each first in turn): search the member's pseudonym, wait for their row, tap "Present", wait for
the confirmation painted, wait for the page to be idle. Nothing else runs in the benchmark meanwhile.

Per tap, processor time (not wall time, which this shared machine makes meaningless): the page's main thread and
its renderer (Chrome's ThreadTime and ProcessTime) from just before the tap to the confirmation painted and to the
page idle again (the whole of the tap's work in the browser), and the app server's process over the same window.
Also what the browser received (websocket frames, element updates). ``--profile``: the page's JavaScript profile
over the taps (Chrome's Profiler), self time by function, to see where the main thread's work goes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load_bench import (  # noqa: E402
    PAGE_CLOCK,
    VIEWPORT,
    FrameClock,
    open_page,
    painted,
    process_cpu,
    wait_for_state,
    wait_idle,
    warm_up,
    watch,
)


def prepare(path: Path, members: int) -> tuple[list[str], int]:
    from lib import assembly as P
    from lib.demo.load import load_demo
    from lib.recruitment.signups.store import pool_frame
    from lib.store.db import open_database

    db = open_database(path)
    load_demo(db)
    ids = pool_frame(db)["person_id"].tolist()[:members]
    P.enrol_panel(db, ids, None, "bench")
    now = datetime.now()
    sid = P.schedule_session(db, "Session 1", now.replace(hour=max(0, now.hour - 1), minute=0), "Town hall", "bench")
    db.close()
    return ids, sid


class Server:
    """``streamlit run`` of the app in ``root`` on a free port, on the database ``db``."""

    def __init__(self, root: Path, db: Path) -> None:
        from tests.e2e.conftest import _free_port

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(db.with_suffix(".log"), "w")
        env = {**os.environ, "KLEROTERION_DB": str(db), "KLEROTERION_DEMO": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(root / "app.py"), "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"], cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{root}: streamlit did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


class Door:
    """One volunteer's phone on one server, at the door."""

    def __init__(self, name: str, server: Server) -> None:
        self.name, self.server = name, server
        self.rows: list[dict] = []
        self.kinds: Counter = Counter()
        self.self_times: Counter = Counter()

    async def open(self, browser) -> None:
        from lib.access.auth import DEMO_PASSWORDS

        self.ctx = await browser.new_context(viewport=VIEWPORT)
        await self.ctx.add_init_script(PAGE_CLOCK)
        self.page = page = await self.ctx.new_page()
        page.set_default_timeout(120_000)
        warm = await self.ctx.new_page()
        warm.set_default_timeout(120_000)
        await warm_up(warm, self.server.url)    # a fresh server first says "page not found"
        self.clock = await FrameClock.attach(self.ctx, page)
        await page.goto(f"{self.server.url}/sign-in")
        await wait_idle(page)
        await page.get_by_text("Volunteer", exact=True).click()
        await page.locator("input[type=password]").fill(DEMO_PASSWORDS["volunteer"])
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await wait_for_state(page, "() => document.body.textContent.includes('Signed in as Volunteer')")
        await wait_idle(page)
        await open_page(page, "Check-in")
        self.search = page.get_by_label("Find someone: first name or pseudonym")

    async def tap(self, pid: str, profile: bool, trace=None) -> None:
        page, clock = self.page, self.clock
        await wait_for_state(page, """() => {
            const box = document.querySelector('input[aria-label^="Find someone"]');
            return !!box && box.value === '' && !document.querySelector('[data-testid=stStatusWidget]');
        }""")
        await self.search.fill(pid)
        await self.search.press("Enter")
        await wait_for_state(page, """pid => {
            const rows = document.querySelectorAll('[class*="st-key-checkin_row_"]');
            return rows.length === 1 && rows[0].classList.contains('st-key-checkin_row_' + pid)
                   && !document.querySelector('[data-testid=stStatusWidget]');
        }""", pid)
        present = page.locator(f".st-key-checkin_row_{pid}").get_by_role("button", name="Present", exact=True)
        await present.scroll_into_view_if_needed()
        await watch(page, f"({pid}): present")
        if profile:
            await clock.cdp.send("Profiler.enable")
            await clock.cdp.send("Profiler.setSamplingInterval", {"interval": 200})
            await clock.cdp.send("Profiler.start")
        if trace is not None:
            await trace.start_tracing(page=page, categories=["devtools.timeline", "disabled-by-default-devtools.timeline",
                                                              "v8.execute", "blink", "cc", "toplevel"])
        thread0, proc0 = await clock.page_cpu()
        server0 = process_cpu(self.server.proc.pid)
        clock.mark()
        await present.click()
        await painted(page)
        thread1, proc1 = await clock.page_cpu()
        server1 = process_cpu(self.server.proc.pid)
        seen = await page.evaluate("() => window.__klClock.shown - window.__klClock.tap")
        await wait_idle(page)
        await wait_for_state(page, """() => {
            const box = document.querySelector('input[aria-label^="Find someone"]');
            return !!box && box.value === '' && !document.querySelector('[class*="st-key-checkin_row_"]');
        }""")
        thread2, proc2 = await clock.page_cpu()
        server2 = process_cpu(self.server.proc.pid)
        if profile:
            got = await clock.cdp.send("Profiler.stop")
            self.add_profile(got["profile"])
        if trace is not None:
            self.add_trace(await trace.stop_tracing())
        frames, size, deltas = clock.sent_per_tap()
        self.rows.append({"main_to_painted": thread1 - thread0, "renderer_to_painted": proc1 - proc0,
                          "main_to_idle": thread2 - thread0, "renderer_to_idle": proc2 - proc0,
                          "server_to_idle": server2 - server0, "server_to_painted": server1 - server0,
                          "frames": frames, "bytes": size, "deltas": deltas, "seen_wall": seen / 1000})

    def add_trace(self, raw: bytes) -> None:
        """Self processor time on the renderer's main thread by trace event name (complete events, nested by their
        thread clock: 'tts' and 'tdur', processor time, not wall time), from the tap to the page idle again."""
        import json

        events = json.loads(raw)
        events = events["traceEvents"] if isinstance(events, dict) else events
        mains = {(e["pid"], e["tid"]) for e in events if e.get("name") == "thread_name"
                 and e.get("args", {}).get("name") == "CrRendererMain"}
        spans = sorted(((e["tts"], e["tts"] + e["tdur"], e["name"]) for e in events
                        if e.get("ph") == "X" and (e["pid"], e["tid"]) in mains and e.get("tdur") and "tts" in e),
                       key=lambda x: (x[0], -x[1]))
        stack: list[tuple] = []
        selfs: Counter = Counter()
        for start, end, name in spans:
            while stack and stack[-1][1] <= start:
                stack.pop()
            if stack:
                selfs[stack[-1][2]] -= (min(end, stack[-1][1]) - start) / 1000
            selfs[name] += (end - start) / 1000
            stack.append((start, end, name))
        self.self_times.update(selfs)

    def add_profile(self, profile: dict) -> None:
        nodes = {n["id"]: n for n in profile["nodes"]}
        times = profile.get("timeDeltas", [])
        for sample, dt in zip(profile.get("samples", []), times[1:] + [0]):
            f = nodes[sample]["callFrame"]
            url = f.get("url", "").rsplit("/", 1)[-1]
            self.kinds[f"{f['functionName'] or '(anonymous)'} {url}:{f.get('lineNumber', 0)}"] += dt / 1000


def med(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


async def run(apps: list[tuple[str, Path]], taps: int, profile: bool, members: int, trace: bool) -> list[Door]:
    from playwright.async_api import async_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS, _chromium

    tmp = Path(tempfile.mkdtemp(prefix="kl-tap-"))
    ids, _sid = prepare(tmp / "base.duckdb", members)
    servers = []
    for name, root in apps:
        shutil.copy(tmp / "base.duckdb", tmp / f"{name}.duckdb")
        servers.append(Server(root, tmp / f"{name}.duckdb"))
    doors = [Door(name, s) for (name, _), s in zip(apps, servers)]
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS)
            for d in doors:
                await d.open(browser)
            for d in doors:           # one tap each before measuring: the first tap warms caches up
                await d.tap(ids[0], False)
                d.rows.clear()
            for i in range(1, taps + 1):
                order = doors[i % len(doors):] + doors[:i % len(doors)]     # each first in turn
                for d in order:
                    await d.tap(ids[i], profile, browser if trace else None)
            await browser.close()
    finally:
        for s in servers:
            s.stop()
    return doors


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old", type=Path, help="the app to compare against (a directory with app.py)")
    ap.add_argument("new", type=Path, nargs="*", help="the apps to compare with it (default: this one), each named "
                    "by its directory")
    ap.add_argument("--taps", type=int, default=16)
    ap.add_argument("--members", type=int, default=40)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--trace", action="store_true", help="Chrome's trace of each tap: the page's main thread's "
                    "self time by kind of work (script, style, layout, paint), tap to idle")
    args = ap.parse_args(argv)
    print(f"Load average at the start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    apps = [("old", args.old.resolve())] + [(d.resolve().name if args.new else "new", d.resolve())
                                            for d in (args.new or [ROOT])]
    doors = asyncio.run(run(apps, args.taps, args.profile,
                            max(args.members, args.taps + 2), args.trace))
    print(f"{args.taps} taps each, alternated; medians (processor ms unless said):")
    keys = ["main_to_painted", "main_to_idle", "renderer_to_painted", "renderer_to_idle", "server_to_painted",
            "server_to_idle", "frames", "bytes", "deltas", "seen_wall"]
    print(f"{'':<22}" + "".join(f"{d.name[-10:]:>11}" for d in doors))
    for k in keys:
        scale = 1 if k in ("frames", "bytes", "deltas") else 1000
        print(f"{k:<22}" + "".join(f"{med(d.rows, k) * scale:>11.0f}" for d in doors))
    for k in ("main_to_painted", "main_to_idle"):
        print(f"{k} per tap, ms: " + " | ".join(
            f"{d.name}: " + " ".join(f"{r[k] * 1000:.0f}" for r in d.rows) for d in doors))
    if args.profile:
        for d in doors:
            total = sum(d.kinds.values())
            print(f"\n{d.name}: JavaScript profile over {len(d.rows)} taps, {total:.0f} ms sampled; top self times:")
            for name, t in d.kinds.most_common(25):
                print(f"  {t:8.1f} ms  {name}")
    if args.trace:
        for d in doors:
            st = d.self_times
            print(f"\n{d.name}: the page's main thread by kind of work, self time per tap (ms), tap to idle:")
            for name, t in st.most_common(18):
                print(f"  {t / len(d.rows):7.1f}  {name}")
    print(f"Load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
