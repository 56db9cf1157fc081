"""Benchmark: 100 members answering a survey and 20 volunteers checking people in, at the same
time, through the real app server.

    .venv/bin/python -m bench.load_bench [--members 100] [--volunteers 20] [--concurrency 8]

What it does
* Prepares a DuckDB file: the demo assembly, a panel of ``--members`` members (lib.assembly),
  a session today, an access code per member, one open after-session survey (5 questions).
* Baseline, in the same run: the same ``--members`` saves made directly with
  ``lib.evaluation.submit_answers`` (and the check-ins with ``lib.assembly.mark_attendance``)
  on a copy of that file, no server.
* Load: a real ``streamlit run`` on 127.0.0.1 and one Chromium (Playwright) with at most
  ``--concurrency`` browser sessions open at once. Other work on the machine at nice 19 yields to them
  (favour_groups; ``--fair-share`` leaves the kernel's scheduling groups as they are). Each member session signs in with its access
  card link, opens the survey, answers every question and presses "Send my answers"; each
  volunteer session signs in and checks in its share of the members (search by pseudonym, press
  "Present"). Member and volunteer sessions are interleaved, so both kinds run at the same time.
* Browsers: by default each session is a fresh browser context, a phone that has never opened the app (it
  fetches Streamlit's 99 files, 3 MB of scripts, fonts and icons, and Chromium compiles the scripts again:
  2.3-2.8 processor-seconds of Chromium and 0.2-0.3 of the app server per session). ``--cached-phones``: the
  sessions share ``--concurrency`` phones (one Chromium profile on disk, with its HTTP and code cache; a host
  name and so cookies of its own per phone) that opened the app once before the load; each session takes a
  free one with its cookies cleared, in a new window,
  as a member who opened the card's link before or a volunteer who tried the app the day before (see Phones).
  Both are reported in bench/results/load_20261207_evening.md; the target was set on the default.
* Times: from pressing the button to the confirmation on screen (save an answer; check one
  person in). Reports p50/p95/max and the ratio to the direct baseline.
* Where a tap's time goes (TapCost, per tap): the tapping page's main thread and renderer on a core, the page's main
  thread waiting in the kernel's run queue for a core, the app server on a core and its event loop waiting for one.
  On this machine under this load the waits, not the work, make the p95 (bench/results/load_20261207_evening.md).
* ``--split-cores``: the browsers (Chromium, Playwright's driver and this benchmark's process, which drives them)
  on one core and the app server on the other (pin_all: each process's threads; children inherit it), so the
  server's share is what the server needs when the simulated phones are not on its processor, as on the day (the
  phones have processors of their own). Reported: each core's busy time and whether the pinning held to the end
  (pinning_report). Other work on the machine may still use either core.
* The server's own clock (``--server-clock``, on with ``--split-cores``; bench/ws_clock): the server stamps when it
  reads each websocket frame and when it writes a tap's answer, on the clock Chromium stamps its frames with, so
  the frames' "server's share" splits into the tap sent to the answer written (the server's, network included),
  the server reading the tap to writing the answer, and the answer written to the browser receiving it (the
  browser's own, which a busy browser core delays: server_legs).
* Checks: afterwards, the database must hold exactly one response per member, the answers must
  be exactly the ones clicked (per question and answer: nothing lost, nothing doubled), every
  member checked in once as present, no browser step failed, and no error in the server log.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lib import evaluation as ev  # noqa: E402
from lib.store.db import open_database  # noqa: E402
from lib.demo.load import load_demo  # noqa: E402
from lib.recruitment.signups.store import pool_frame  # noqa: E402

CHOICES = [5, 4, 3, 2, 1, 0]
FAVOUR = True   # favour_groups: set from --fair-share
ORDINARY_CHROMIUM = False   # chromium_without_priority_boost: set from --ordinary-chromium
CACHED_PHONES = False   # Phones: set from --cached-phones
SPLIT: tuple[int, int] | None = None   # (the browsers' core, the app server's core): set from --split-cores


def answer_for(k: int, j: int) -> int:
    """Member k's answer to question j (deterministic, so the stored answers can be checked)."""
    return CHOICES[(k + j) % len(CHOICES)]


def prepare(path: Path, members: int) -> dict:
    from lib import assembly as P

    db = open_database(path)
    load_demo(db)
    ids = pool_frame(db)["person_id"].tolist()[:members]
    P.enrol_panel(db, ids, None, "bench")
    now = datetime.now()
    sid = P.schedule_session(db, "Session 1", now.replace(hour=max(0, now.hour - 1), minute=0), "Town hall",
                             "bench")
    codes = ev.issue_codes(db, ids, "bench")
    wave = ev.open_wave(db, "pulse", "After session 1")
    questions = ev.wave_questions(db, wave.wave_id)["question_id"].tolist()
    db.close()
    return {"ids": ids, "codes": codes, "wave": wave.wave_id, "session": sid, "questions": questions}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q * (len(s) - 1)))))
    return s[k]


def baseline(path: Path, setup: dict) -> tuple[list[float], list[float]]:
    from lib import assembly as P

    db = open_database(path)
    saves, checks = [], []
    try:
        for k, pid in enumerate(setup["ids"]):
            session = ev.member_sign_in(db, setup["codes"][pid])
            answers = {q: answer_for(k, j) for j, q in enumerate(setup["questions"])}
            t0 = time.perf_counter()
            ev.submit_answers(db, session, setup["wave"], answers)
            saves.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            P.mark_attendance(db, setup["session"], pid, P.PRESENT, "volunteer")
            checks.append(time.perf_counter() - t0)
    finally:
        ev.save_waiting(db)     # answers wait in memory for a batch (lib.evaluation): write them before closing
        db.close()
    return saves, checks


# --- the browser side ---------------------------------------------------------------------

async def wait_idle(page, timeout: float = 120_000) -> None:
    await page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    await wait_for_state(page, "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)


# Waiting costs the waiting browser nothing: the condition is checked when the page changes (a
# MutationObserver), not on every animation frame. Playwright's wait_for_function(polling="raf") made each
# waiting page draw 60 frames a second: measured, about 5% of a core per waiting page, taken from the
# page being timed (three pages waited while the fourth tapped).
WAIT_SCRIPT = """([src, arg, timeout]) => new Promise((resolve, reject) => {
  const holds = (0, eval)('(' + src + ')');
  let timer = null;
  const observer = new MutationObserver(() => check());
  const check = () => {
    let ok = false;
    try { ok = !!holds(arg); } catch (e) { ok = false; }
    if (ok) { observer.disconnect(); clearTimeout(timer); resolve(true); }
    return ok;
  };
  if (check()) return;
  observer.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  timer = setTimeout(() => { observer.disconnect(); reject(new Error('the page did not reach: ' + src)); }, timeout);
})"""


class FrameClock:
    """The server's share of a wait, from the browser's own clock: the time between the websocket frame
    the browser sent (the tap) and the first frame it received that holds the confirmation's text. Taken
    from Chrome's DevTools events (their timestamps are the browser's, so a busy benchmark process does
    not add to them); the rest of the wait, from tap to text on screen, is the browser's own work
    (running its script, drawing the page) and Playwright hearing of it."""

    def __init__(self) -> None:
        self.sent: list[float] = []
        self.received: list[tuple[float, bytes]] = []
        self.cdp: Any = None

    @classmethod
    async def attach(cls, ctx, page) -> "FrameClock":
        clock = cls()
        cdp = await ctx.new_cdp_session(page)
        cdp.on("Network.webSocketFrameSent", clock._sent)
        cdp.on("Network.webSocketFrameReceived", clock._received)
        await cdp.send("Network.enable")
        await cdp.send("Performance.enable")
        clock.cdp = cdp
        return clock

    async def page_cpu(self) -> tuple[float, float]:
        """Processor seconds so far of the page's main thread and of its whole renderer process (Chrome's
        ThreadTime and ProcessTime: time on a core, not time waited)."""
        got = {m["name"]: m["value"] for m in (await self.cdp.send("Performance.getMetrics"))["metrics"]}
        return got.get("ThreadTime", float("nan")), got.get("ProcessTime", float("nan"))

    def _sent(self, params: dict) -> None:
        self.sent.append(params["timestamp"])

    def _received(self, params: dict) -> None:
        import base64

        resp = params.get("response", {})
        data = resp.get("payloadData", "")
        try:
            raw = base64.b64decode(data) if resp.get("opcode") == 2 else data.encode("utf-8", "replace")
        except ValueError:
            raw = data.encode("utf-8", "replace")
        self.received.append((params["timestamp"], raw))

    def mark(self) -> int:
        """Call just before the tap: frames sent from here on belong to it."""
        self.received.clear()
        return len(self.sent)

    def sent_per_tap(self) -> tuple[int, int, int]:
        """What the browser received since mark(): frames, bytes, element updates (Streamlit deltas)."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        deltas = 0
        for _t, raw in self.received:
            msg = ForwardMsg()
            try:
                msg.ParseFromString(raw)
            except Exception:  # noqa: BLE001 - a text frame, not a Streamlit message
                continue
            deltas += msg.WhichOneof("type") == "delta" or bool(msg.ref_hash)
        return len(self.received), sum(len(raw) for _t, raw in self.received), deltas

    def frame_times(self, since: int, needle: str) -> tuple[float, float] | None:
        """(the tap's frame sent, the first frame holding ``needle`` received), on the browser's clock (seconds,
        CLOCK_MONOTONIC on Linux, as the server's clock in bench/ws_clock)."""
        share = self.server_share(since, needle)
        return None if share is None else (self.sent[since], self.sent[since] + share)

    def server_share(self, since: int, needle: str) -> float | None:
        if len(self.sent) <= since:
            return None
        t_sent = self.sent[since]
        want = needle.encode("utf-8")
        got = next((t for t, raw in self.received if t >= t_sent and want in raw), None)
        return None if got is None else got - t_sent


# The page's own clock (installed in every page before its scripts): the moment the finger goes down
# (``pointerdown``, which Playwright's click sends as a real input event once its own checks are done) and
# the first frame painted after the confirmation's text entered the page (a MutationObserver, then the
# next animation frame). Their difference is what a person sees, without Playwright's waiting before
# the tap (scrolling, "is the button still moving?") or its polling after it.
PAGE_CLOCK = """
window.__klClock = {tap: null, shown: null, needle: null, observer: null, done: null};
document.addEventListener('pointerdown', () => { window.__klClock.tap = performance.now(); }, true);
window.__klWatch = (needle) => {
  const c = window.__klClock;
  c.tap = null; c.shown = null; c.needle = needle;
  if (c.observer) c.observer.disconnect();
  let painted;
  c.done = new Promise(resolve => { painted = resolve; });
  // Only what changed is read (the text can enter the page only through a change): reading the whole page's
  // text on every change was work on the measured page between the tap and the confirmation.
  const holds = (records) => records.some(r => {
    if (r.type === 'characterData') return (r.target.parentNode || r.target).textContent.includes(c.needle);
    return Array.from(r.addedNodes).some(n => (n.textContent || '').includes(c.needle))
           || r.target.textContent.includes(c.needle) && r.addedNodes.length > 0;
  });
  c.observer = new MutationObserver((records) => {
    if (c.shown === null && c.tap !== null && holds(records)) {
      c.observer.disconnect();
      const seen = performance.now();
      requestAnimationFrame(() => { c.shown = Math.max(seen, performance.now()); painted(); });
    }
  });
  c.observer.observe(document.body, {subtree: true, childList: true, characterData: true});
};
"""


SERVER_PID = 0     # the app server's process (main sets it), for TapCost


def thread_stats(pid: int) -> dict[str, tuple[int, int]]:
    """Per thread of a process: (nanoseconds on a core, nanoseconds waiting in the run queue for one) so far,
    from /proc/<pid>/task/*/schedstat (the kernel's scheduler statistics)."""
    out = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            run, wait = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[:2]
        except (OSError, ValueError):
            continue
        out[tid] = (int(run), int(wait))
    return out


def thread_delta(before: dict, after: dict, only: str | None = None) -> tuple[float, float]:
    """Seconds on a core and waiting for one between two thread_stats, summed over the threads (or the one thread
    ``only``) alive at the end; a thread that ended meanwhile is left out."""
    run = wait = 0
    for tid, (r, w) in after.items():
        if only is not None and tid != only:
            continue
        r0, w0 = before.get(tid, (0, 0))
        run, wait = run + r - r0, wait + w - w0
    return run / 1e9, wait / 1e9


def renderer_pid(process_time: float) -> int | None:
    """The Chromium renderer whose processor time (/proc) is ``process_time`` (Chrome's ProcessTime for a page,
    read from the same counters): the page's renderer process, so that its main thread's waits can be read."""
    tick = os.sysconf("SC_CLK_TCK")
    best: tuple[float, int] | None = None
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or not _cmdline_has(pid, b"--type=renderer"):
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        gap = abs((int(fields[11]) + int(fields[12])) / tick - process_time)
        if gap <= 0.03 and (best is None or gap < best[0]):
            best = (gap, int(pid))
    return best[1] if best else None


class TapCost:
    """Where one tap's time goes, from just before Playwright's click to just after the confirmation is painted.
    On a core: the tapping page's main thread and its whole renderer process (Chrome's own counters, ThreadTime
    and ProcessTime), the app server's process (all its threads; its work then may be for any session). Waiting
    in the run queue for a core (the kernel's schedstat): the page's main thread (its renderer found by its
    processor time, renderer_pid) and the app server's event loop (its main thread, which also serves every
    session's websocket and static files; its other threads summed apart). Recorded per tap as (on screen, page
    main thread on a core, renderer on a core, server on a core, the server's event loop waiting, page main
    thread waiting, the server's other threads waiting), in seconds; the page's wait is nan when its renderer was
    not found. Measured 18:10 UTC (load average 25): over 8 s of a small load, the server's event loop ran 0.49 s
    and waited 3.3 s for a core."""

    def __init__(self, clock: "FrameClock") -> None:
        self.clock = clock
        self.page0 = (0.0, 0.0)
        self.server0: dict = {}
        self.renderer0: dict = {}
        self.renderer: int | None = None

    @classmethod
    async def start(cls, clock: "FrameClock") -> "TapCost":
        cost = cls(clock)
        cost.page0 = await clock.page_cpu()
        cost.renderer = renderer_pid(cost.page0[1])
        cost.renderer0 = thread_stats(cost.renderer) if cost.renderer else {}
        cost.server0 = thread_stats(SERVER_PID)
        return cost

    async def stop(self, into: list, seen: float | None) -> None:
        server1 = thread_stats(SERVER_PID)
        server = thread_delta(self.server0, server1)
        loop_wait = thread_delta(self.server0, server1, only=str(SERVER_PID))[1]
        page_wait = (thread_delta(self.renderer0, thread_stats(self.renderer), only=str(self.renderer))[1]
                     if self.renderer else float("nan"))
        page1 = await self.clock.page_cpu()
        if seen is not None:
            into.append((seen, page1[0] - self.page0[0], page1[1] - self.page0[1], server[0], loop_wait, page_wait,
                         server[1] - loop_wait))


def cost_lines(name: str, costs: list) -> list[str]:
    """The tap's time split, at the median tap and over the slowest 5% of taps (those at or above the p95)."""
    if not costs:
        return []
    p95 = pct([c[0] for c in costs], .95)
    slow = [c for c in costs if c[0] >= p95]
    lines = []
    for label, group in (("median", None), (f"mean of the slowest {len(slow)} (>= p95)", slow)):
        if group is None:
            vals = [pct([c[i] for c in costs if c[i] == c[i]], .5) for i in range(7)]
        else:
            vals = [sum(c[i] for c in group if c[i] == c[i]) / max(1, len([c for c in group if c[i] == c[i]]))
                    for i in range(7)]
        seen, main, proc, srv_run, loop_wait, main_wait, other_wait = (v * 1000 for v in vals)
        lines.append(f"  {name}, {label}: on screen {seen:.0f} ms. The page's main thread: on a core {main:.0f}, "
                     f"waiting for one {main_wait:.0f} (its renderer process on a core {proc:.0f}). The app server: "
                     f"on a core {srv_run:.0f}, its event loop waiting for one {loop_wait:.0f} (its other threads, "
                     f"summed, {other_wait:.0f})")
    return lines


async def watch(page, needle: str) -> None:
    """Start the page's clock for the next tap; the confirmation's text is ``needle``."""
    await page.evaluate("needle => window.__klWatch(needle)", needle)


async def painted(page, timeout: float = 120_000) -> None:
    """Wait until the page has painted the confirmation watched for (``watch``): the page's own observer says so,
    once. (Playwright's text locator asked the measured page again and again meanwhile, searching all its text:
    work on the measured page between the tap and the confirmation, which a phone does not do.)"""
    await page.evaluate("""t => Promise.race([window.__klClock.done, new Promise((_, reject) => setTimeout(
        () => reject(new Error('the confirmation was not shown: ' + window.__klClock.needle)), t))])""", timeout)


async def on_screen(page) -> float | None:
    """Seconds from the finger down to the confirmation painted, by the page's own clock."""
    got = await page.evaluate("() => [window.__klClock.tap, window.__klClock.shown]")
    return None if got[0] is None or got[1] is None else (got[1] - got[0]) / 1000.0


async def wait_text(page, text: str, selector: str = "body", timeout: float = 120_000) -> None:
    """Wait until an element matching ``selector`` holds ``text``, checked on each change of the page (not by
    Playwright's locators, which ask the page again and again, each time computing the whole page's text or roles:
    work for the browser that a phone does not do, taken from the session being measured)."""
    await wait_for_state(page, "([sel, text]) => Array.from(document.querySelectorAll(sel))"
                               ".some(e => e.textContent.includes(text))", [selector, text], timeout=timeout)


async def wait_for_state(page, script: str, arg=None, timeout: float = 120_000) -> None:
    """Wait until a condition on the page holds (checked on every change of the page, never a fixed sleep)."""
    await page.evaluate(WAIT_SCRIPT, [script, arg, timeout])


async def open_page(page, name: str) -> None:
    await page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True).first.click()
    await wait_text(page, name, "[data-testid=stMain] h1")
    await wait_idle(page)


async def member_task(phones: "Phones", url: str, k: int, code: str, n_questions: int, out: dict) -> None:
    ctx, page, url = await phones.take(url)
    page.set_default_timeout(120_000)
    try:
        clock = await FrameClock.attach(ctx, page)
        await page.goto(f"{url}/sign-in?code={code}")
        await wait_idle(page)
        await page.get_by_role("tab", name="Assembly member").click()
        box = page.get_by_label("Your access code (on your card)")
        if await box.input_value() != code:
            await box.fill(code)
        await page.get_by_role("button", name="Open my pages").click()
        await wait_text(page, "Signed in as Assembly member", "[data-testid=stSidebar]")
        await wait_idle(page)
        await open_page(page, "Survey")
        groups = page.get_by_test_id("stMain").get_by_role("radiogroup")     # not the sidebar's language choice
        await wait_text(page, "Send my answers", "[data-testid=stMain] button")
        # the page may still be drawing: wait until every question is there
        await wait_for_state(page, "n => document.querySelectorAll('[data-testid=stMain] [role=radiogroup]').length"
                                   " === n", n_questions)
        await wait_idle(page)
        for j in range(n_questions):
            choice = groups.nth(j).get_by_text(ev.ANSWERS[answer_for(k, j)], exact=True)
            await choice.click()          # inside a form: chosen in the browser at once, nothing sent yet
        await watch(page, "You have answered this survey")
        cost = await TapCost.start(clock)
        since = clock.mark()
        t0 = time.perf_counter()
        await page.get_by_role("button", name="Send my answers").click()
        await painted(page)
        total = time.perf_counter() - t0
        await cost.stop(out["save_cost"], await on_screen(page))
        out["saves"].append(total)
        seen = await on_screen(page)
        if seen is not None:
            out["save_seen"].append(seen)
        share = clock.server_share(since, "You have answered this survey")
        times = clock.frame_times(since, "You have answered this survey")
        if times:
            out["save_times"].append(("You have answered this survey", *times))
        if share is not None:
            out["save_server"].append(share)
            out["save_browser"].append(max(0.0, total - share))
        await wait_idle(page)
        out["save_frames"].append(clock.sent_per_tap())
    except Exception as e:  # noqa: BLE001 - counted and reported
        out["errors"].append(f"member {k}: {type(e).__name__}: {str(e).splitlines()[0]}")
    finally:
        await phones.give_back(ctx, page, url)


async def volunteer_task(phones: "Phones", url: str, v: int, pids: list[str], out: dict) -> None:
    from lib.access.auth import DEMO_PASSWORDS

    ctx, page, url = await phones.take(url)
    page.set_default_timeout(120_000)
    try:
        clock = await FrameClock.attach(ctx, page)
        await page.goto(f"{url}/sign-in")
        await wait_idle(page)
        await page.get_by_text("Volunteer", exact=True).click()
        await page.locator("input[type=password]").fill(DEMO_PASSWORDS["volunteer"])
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await wait_text(page, "Signed in as Volunteer", "[data-testid=stSidebar]")
        await wait_idle(page)
        await open_page(page, "Check-in")
        search = page.get_by_label("Find someone: first name or pseudonym")
        for pid in pids:
            # The search box is empty again after the last check-in (the page clears it): typing before that
            # arrives lost the typed name to the clearing ("a search for one pseudonym still showed 12 people").
            await wait_for_state(page, """() => {
                const box = document.querySelector('input[aria-label^="Find someone"]');
                return !!box && box.value === '' && !document.querySelector('[data-testid=stStatusWidget]');
            }""")
            await search.fill(pid)
            await search.press("Enter")
            # Wait for the list of exactly that person (pages/checkin.py keys each row by pseudonym). Pressing
            # "Present" on the list still drawn for the last search marked the wrong person: that person was
            # recorded twice and this one never ("2 check-ins recorded twice, 92 of 100 checked in").
            await wait_for_state(page, """pid => {
                const rows = document.querySelectorAll('[class*="st-key-checkin_row_"]');
                return rows.length === 1 && rows[0].classList.contains('st-key-checkin_row_' + pid)
                       && !document.querySelector('[data-testid=stStatusWidget]');
            }""", pid)
            present = page.locator(f".st-key-checkin_row_{pid}").get_by_role("button", name="Present", exact=True)
            await watch(page, f"({pid}): present")
            cost = await TapCost.start(clock)
            since = clock.mark()
            t0 = time.perf_counter()
            await present.click()
            await painted(page)
            total = time.perf_counter() - t0
            await cost.stop(out["check_cost"], await on_screen(page))
            out["checks"].append(total)
            seen = await on_screen(page)
            if seen is not None:
                out["check_seen"].append(seen)
            share = clock.server_share(since, f"({pid}): present")
            times = clock.frame_times(since, f"({pid}): present")
            if times:
                out["check_times"].append((f"({pid}): present", *times))
            if share is not None:
                out["check_server"].append(share)
                out["check_browser"].append(max(0.0, total - share))
            await wait_idle(page)
            out["check_frames"].append(clock.sent_per_tap())
    except Exception as e:  # noqa: BLE001
        out["errors"].append(f"volunteer {v}: {type(e).__name__}: {str(e).splitlines()[0]}")
    finally:
        await phones.give_back(ctx, page, url)


VIEWPORT = {"width": 1000, "height": 900}


class Phones:
    """Where each browser session runs.

    Fresh (the default, as in every run before 2026-12-07 18:00): a new browser context per session, as a phone
    that has never opened the app: nothing cached, so each session's first page load fetches Streamlit's 99 files
    (3 MB of scripts, fonts, icons) from the app server and Chromium compiles the scripts again.

    Cached phones (``--cached-phones``): ``--concurrency`` phones that opened the app once before the load starts,
    in one Chromium profile on disk (a persistent context: an HTTP cache and V8's code cache, as a phone's browser
    keeps). Phone i reaches the app as http://phone<i>.localhost:<port> (Chromium sends every *.localhost to this
    machine, and keeps cookies per name), so that each phone has cookies of its own while Chromium stays one
    browser, in one scheduling group, as in the default. Each session takes a free phone, with that phone's
    cookies cleared (a new person, signed out), in a new window (Phones.new_window). Streamlit serves its files as "immutable, max-age
    one year", so a phone that has been to the app before asks the server only for the page itself and reuses
    the scripts it compiled: a volunteer who tried the link the day before, a member who opened the card's link
    once. Measured one load at a time (17:45 UTC, load average 7-12): the sign-in page's first load took the app
    server 0.06-0.07 processor-s instead of 0.18-0.26, and Chromium (all its processes) 1.3-1.5 instead of
    2.3-4.4 (its page's main thread: about 1 s either way)."""

    def __init__(self, cached: bool) -> None:
        self.cached = cached
        self.browser: Any = None
        self.context: Any = None
        self.free: asyncio.Queue = asyncio.Queue()
        self.profile: str | None = None
        self.launcher: Any = None
        self.lock = asyncio.Lock()

    async def start(self, p, exe: str | None, args: list[str], url: str, count: int) -> None:
        if not self.cached:
            self.browser = await p.chromium.launch(executable_path=exe, headless=True, args=args)
            return
        self.profile = tempfile.mkdtemp(prefix="kl-phones-")
        self.context = ctx = await p.chromium.launch_persistent_context(
            self.profile, executable_path=exe, headless=True, args=args, viewport=VIEWPORT)
        await ctx.add_init_script(PAGE_CLOCK)
        self.launcher = await ctx.new_cdp_session(ctx.pages[0])     # the tab it opens with: kept, blank
        port = urlparse(url).port
        for i in range(count):
            phone = f"http://phone{i + 1}.localhost:{port}"
            await warm_up(await self.new_window(), phone)     # the phone has been to the app before
            self.free.put_nowait(phone)
        await ctx.clear_cookies()

    async def new_window(self):
        """A page in a window of its own, as each fresh context has (Playwright opens a persistent context's pages
        as tabs of one window, and Chromium then drew the tabs' frames late: measured 18:25 UTC, from the
        confirmation's text in the page to its frame painted, median 198 ms and p90 896 ms)."""
        async with self.lock:
            async with self.context.expect_page() as opened:
                await self.launcher.send("Target.createTarget", {"url": "about:blank", "newWindow": True})
            return await opened.value

    async def warm_page(self):
        """A page for warming the server up (fresh) or None (cached: each phone warmed it up already)."""
        return await self.browser.new_page() if self.browser else None

    async def take(self, url: str):
        """(context, page, the app's address for it) for a new browser session."""
        if self.browser:
            ctx = await self.browser.new_context(viewport=VIEWPORT)
            await ctx.add_init_script(PAGE_CLOCK)
            return ctx, await ctx.new_page(), url
        phone = await self.free.get()
        await self.context.clear_cookies(domain=urlparse(phone).hostname)    # a new person on this phone
        return self.context, await self.new_window(), phone

    async def give_back(self, ctx, page, url: str) -> None:
        if self.browser:
            await ctx.close()
            return
        await page.close()
        self.free.put_nowait(url)

    async def close(self) -> None:
        if self.browser:
            await self.browser.close()
        if self.context:
            await self.context.close()
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)


async def warm_up(page, url: str) -> None:
    """Open the app once and wait for the Overview (a fresh server shown a page address first says "page not
    found"), then close the page."""
    await page.goto(url)
    await page.get_by_role("heading", name="The steps").wait_for(timeout=120_000)
    await page.close()


GROUP_NICE = -10


def autogroups(pids) -> dict[str, int]:
    """The kernel's scheduling groups (autogroups, one per session) of these processes: group -> one of its pids."""
    out: dict[str, int] = {}
    for pid in pids:
        try:
            out.setdefault(Path(f"/proc/{pid}/autogroup").read_text().split()[0], int(pid))
        except (OSError, IndexError):
            continue
    return out


def favour_groups(pids) -> list[str]:
    """Give the scheduling groups of these processes the weight of nice GROUP_NICE, against other groups.

    With the kernel's autogroup scheduling (on here), the processor is shared between groups (one per session)
    first, and a nice value counts only inside its own group: other people's experiments at nice 19 each took a
    whole group's share, a third of the machine and more in earlier runs. With this, work at nice 19 yields to the
    benchmark as its nice value asks. The benchmark's own groups (this process with the app server and Playwright's
    driver; Chromium, which Playwright starts in a session of its own) get the same weight, so between the server
    and the browsers nothing changes. Returns what was done, for the report."""
    done = []
    for group, pid in autogroups(pids).items():
        try:
            Path(f"/proc/{pid}/autogroup").write_text(str(GROUP_NICE))
            done.append(f"{group} ({Path(f'/proc/{pid}/comm').read_text().strip()}) at nice {GROUP_NICE}")
        except OSError as e:
            done.append(f"{group}: not changed ({e.strerror})")
    return done


def chromium_without_priority_boost() -> str | None:
    """Chromium unable to raise its own priority (``--ordinary-chromium``): started by root, as here, it sets its
    browser and GPU processes to nice -8, ahead of its pages' renderers inside its group; an ordinary user's cannot.
    A wrapper starts it through setpriv without that one right (CAP_SYS_NICE). Without setpriv: Chromium as it is."""
    from tests.e2e.conftest import _chromium

    real, setpriv = _chromium(), shutil.which("setpriv")
    if not real or not setpriv or os.geteuid() != 0:
        return real
    wrapper = Path(tempfile.mkdtemp(prefix="kl-chromium-")) / "chromium"
    wrapper.write_text(f'#!/bin/sh\nexec {setpriv} --bounding-set -sys_nice -- {real} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def chromium_pids() -> set[str]:
    return {pid for pid in os.listdir("/proc") if pid.isdigit() and _cmdline_has(pid, b"chromium")}


def _cmdline_has(pid: str, word: bytes) -> bool:
    try:
        return word in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


async def run_load(url: str, setup: dict, volunteers: int, concurrency: int) -> dict:
    from playwright.async_api import async_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS, _chromium

    out = {"saves": [], "checks": [], "errors": [], "save_server": [], "check_server": [], "save_browser": [],
           "check_browser": [], "save_frames": [], "check_frames": [], "save_seen": [], "check_seen": [],
           "save_cost": [], "check_cost": [], "save_times": [], "check_times": []}
    ids = setup["ids"]
    shares = [ids[i::volunteers] for i in range(volunteers)] if volunteers else []
    jobs = []
    for k, pid in enumerate(ids):
        jobs.append(("member", k, pid))
        if volunteers and k % max(1, len(ids) // volunteers) == 0 and len([j for j in jobs if j[0] == "vol"]) < volunteers:
            jobs.append(("vol", len([j for j in jobs if j[0] == "vol"]), None))
    while len([j for j in jobs if j[0] == "vol"]) < volunteers:
        jobs.append(("vol", len([j for j in jobs if j[0] == "vol"]), None))
    sem = asyncio.Semaphore(concurrency)
    async with async_playwright() as p:
        before = chromium_pids()
        exe = chromium_without_priority_boost() if ORDINARY_CHROMIUM else _chromium()
        phones = Phones(CACHED_PHONES)
        await phones.start(p, exe, CHROMIUM_ARGS, url, concurrency)
        out["groups"] = favour_groups(chromium_pids() - before) if FAVOUR else []
        warm = await phones.warm_page()
        if warm is not None:
            await warm_up(warm, url)

        done = [0]

        async def one(job):
            async with sem:
                kind, i, pid = job
                if kind == "member":
                    await member_task(phones, url, i, setup["codes"][pid], len(setup["questions"]), out)
                else:
                    await volunteer_task(phones, url, i, shares[i], out)
                done[0] += 1
                if done[0] % 10 == 0 or done[0] == len(jobs):
                    print(f"  {done[0]}/{len(jobs)} browser sessions done ({len(out['errors'])} failed)", flush=True)

        t0 = time.perf_counter()
        await asyncio.gather(*(one(j) for j in jobs))
        out["wall"] = time.perf_counter() - t0
        # measured before closing: the browser's processes and Playwright's driver (a Node.js process)
        out["chromium_cpu"] = processes_cpu(b"chromium")
        out["chromium_nice"] = processes_nice(b"chromium")
        out["driver_cpu"] = processes_cpu(b"run-driver")
        if SPLIT:     # this benchmark's own browsers (other people's Chromium may run on the machine meanwhile)
            out["pinning"] = pinning_report(SPLIT, SERVER_PID, descendants(os.getpid()) - {SERVER_PID} - descendants(SERVER_PID))
        await phones.close()
    return out


def verify(path: Path, setup: dict, volunteers: int) -> list[str]:
    from lib import assembly as P

    problems = []
    db = open_database(path)
    try:
        w = setup["wave"]
        n = len(setup["ids"])
        if ev.answered_count(db, w) != n:
            problems.append(f"{ev.answered_count(db, w)} members marked as answered, expected {n}")
        if ev.response_count(db, w) != n:
            problems.append(f"{ev.response_count(db, w)} responses stored, expected {n}")
        got = Counter(db.query("SELECT question_id, answer FROM eval_responses WHERE wave_id = ?", [w]))
        want = Counter((q, answer_for(k, j)) for k in range(n) for j, q in enumerate(setup["questions"]))
        if got != want:
            lost = sum((want - got).values())
            extra = sum((got - want).values())
            problems.append(f"answers differ from those clicked: {lost} missing, {extra} extra")
        if volunteers:
            marks = P.session_marks(db, setup["session"])
            present = [p for p in setup["ids"] if marks.get(p) == P.PRESENT]
            if len(present) != n:
                problems.append(f"{len(present)} of {n} members checked in as present")
            dup = db.scalar("SELECT count(*) - count(DISTINCT person_id) FROM attendance_log WHERE session_id = ?",
                            [setup["session"]]) if db.scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'attendance_log'") else 0
            if dup:
                problems.append(f"{dup} check-in(s) recorded twice")
    finally:
        db.close()
    return problems


def machine_cpu() -> tuple[float, float]:
    """(busy, nice) processor seconds of the whole machine so far, from /proc/stat (all cores together)."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / tick, nice / tick


def processes_cpu(word: bytes) -> float:
    """Processor seconds used so far by the live processes whose command line holds ``word``, with the
    children they have already reaped (a closed tab's renderer counts in its parent's figure)."""
    tick = os.sysconf("SC_CLK_TCK")
    return sum(sum(int(x) for x in fields[11:15]) for fields in _process_stats(word)) / tick


def _process_stats(word: bytes):
    """The fields of /proc/<pid>/stat after the command name, for each live process whose command line holds ``word``."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if word not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        yield stat[stat.rindex(")") + 2:].split()


def processes_nice(word: bytes) -> list[int]:
    """The priorities (nice values) of the live processes whose command line holds ``word``, each once."""
    seen = {int(fields[16]) for fields in _process_stats(word)}
    return sorted(seen)


def process_cpu(pid: int) -> float:
    """Processor seconds a process has used so far (user and system), from /proc/<pid>/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / tick


def server_legs(log: str, taps: list[tuple[str, float, float]]) -> tuple[list[tuple[float, float, float]], int]:
    """Each tap's time split at the app server (bench/ws_clock's log; all times CLOCK_MONOTONIC): (the tap's frame
    sent by the browser to the answer handed to the server's socket, of which the server's reading the tap to
    writing the answer, the answer written to the browser receiving it). ``taps``: (needle, sent, received) from the
    browser. A tap is matched to the server's answer by its words (a check-in's pseudonym), or, for a survey's
    answer (the same words for everyone), to the only answer written between its sending and receiving; taps with
    none or more than one such answer are left out and counted. Returns (the legs, how many taps were left out)."""
    ins: dict[str, list[float]] = {}
    outs: list[tuple[float, str, bytes]] = []
    for line in log.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "in":
            ins.setdefault(parts[2], []).append(float(parts[1]))
        elif len(parts) == 4 and parts[0] == "out":
            outs.append((float(parts[1]), parts[2], bytes.fromhex(parts[3])))
    legs, left_out = [], 0
    for needle, sent, received in taps:
        want = needle.encode()
        found = [(t, conn) for t, conn, text in outs if want in text and sent <= t <= received]
        if len(found) != 1:
            left_out += 1
            continue
        t_out, conn = found[0]
        t_in = next((t for t in ins.get(conn, []) if sent <= t <= t_out), None)
        if t_in is None:
            left_out += 1
            continue
        legs.append((t_out - sent, t_out - t_in, received - t_out))
    return legs, left_out


def legs_lines(name: str, legs: list[tuple[float, float, float]], left_out: int) -> list[str]:
    if not legs:
        return [f"  {name}: no tap matched at the server ({left_out} left out)"]

    def p(i: int) -> str:
        return f"{pct([x[i] for x in legs], .5) * 1000:.0f} / {pct([x[i] for x in legs], .95) * 1000:.0f}"

    return [f"  {name} ({len(legs)} taps, {left_out} left out), p50 / p95 ms: the tap's frame sent to the answer "
            f"handed to the server's socket {p(0)}; of which the server's reading the tap to writing the answer "
            f"{p(1)}; the answer written to the browser receiving it (the browser's side) {p(2)}"]


def pin_all(pid: int, cores: set[int]) -> None:
    """Allow every thread of process ``pid`` only on ``cores`` (a thread's affinity is its own in Linux; the
    threads and processes it starts afterwards inherit it)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cores)
        except OSError:       # the thread ended meanwhile
            continue


def descendants(pid: int) -> set[int]:
    """The live processes started, directly or not, by process ``pid``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        children.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(entry))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def allowed_cores(pid: int) -> set[frozenset[int]]:
    """The distinct sets of cores the threads of process ``pid`` may run on."""
    out = set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            out.add(frozenset(os.sched_getaffinity(int(tid))))
        except OSError:
            continue
    return out


def pinning_report(split: tuple[int, int], server_pid: int, browser_pids) -> tuple[bool, str]:
    """Whether every thread of the app server may run only on its core and every thread of the browsers only on
    theirs, read at the end of the load (before the browsers close): (held, a line for the report)."""
    browser_core, server_core = split
    server = allowed_cores(server_pid)
    browsers: set[frozenset[int]] = set()
    n = 0
    for pid in browser_pids:
        try:
            browsers |= allowed_cores(int(pid))
            n += 1
        except OSError:
            continue
    held = server == {frozenset({server_core})} and browsers == {frozenset({browser_core})}

    def show(sets):
        return " and ".join("{" + ", ".join(map(str, sorted(c))) + "}" for c in sorted(sets, key=sorted)) or "none"

    return held, (f"Cores: the app server's threads allowed on {show(server)}, the threads of {n} browser processes "
                  f"(Chromium, Playwright's driver: all this benchmark started but the server) on {show(browsers)}: the pinning "
                  f"{'held' if held else 'did NOT hold'} to the end of the load.")


def cores_cpu() -> list[float]:
    """Busy processor seconds so far of each core, from /proc/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    out = []
    for line in Path("/proc/stat").read_text().splitlines()[1:]:
        if not line.startswith("cpu"):
            break
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in line.split()[1:9])
        out.append((user + nice + system + irq + softirq + steal) / tick)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--volunteers", type=int, default=20)
    ap.add_argument("--concurrency", type=int, default=8, help="browser sessions open at once")
    ap.add_argument("--ordinary-chromium", action="store_true", help="an experiment: Chromium may not raise its "
                    "browser and GPU processes' priority above its renderers' (see chromium_without_priority_boost)")
    ap.add_argument("--cached-phones", action="store_true", help="each browser session on one of --concurrency "
                    "phones that have opened the app before (their cache kept; see Phones), instead of a fresh "
                    "browser context that fetches and compiles Streamlit's 3 MB of scripts again")
    ap.add_argument("--split-cores", action="store_true", help="the browsers (and this benchmark's driver) on "
                    "core 0 and the app server on core 1, so the server's share is measured without the simulated "
                    "phones on its processor")
    ap.add_argument("--server-clock", action="store_true", help="the server's own timestamps of each tap (bench/"
                    "ws_clock), to split the server's share at the server (on with --split-cores)")
    ap.add_argument("--fair-share", action="store_true", help="leave the scheduling groups' weights as they are "
                    "(other work at nice 19 then takes a whole group's share: see favour_groups)")
    args = ap.parse_args(argv)
    checkin_page = (ROOT / "pages" / "checkin.py").exists()
    volunteers = args.volunteers if checkin_page else 0
    if not checkin_page:
        print("pages/checkin.py does not exist yet: running the members only.")

    from tests.e2e.conftest import StreamlitServer

    tmp = Path(tempfile.mkdtemp(prefix="kl-load-"))
    path = tmp / "app.duckdb"
    print(f"Preparing {args.members} members, 1 session, 1 survey in {path} …", flush=True)
    setup = prepare(path, args.members)
    base_path = tmp / "baseline.duckdb"
    shutil.copy(path, base_path)
    for suffix in (ev.KEY_SUFFIX,):          # the survey key beside the database (lib.evaluation) goes with it
        if Path(str(path) + suffix).exists():
            shutil.copy(str(path) + suffix, str(base_path) + suffix)
    print("Baseline: the same saves straight through lib.evaluation (no server) …", flush=True)
    b_saves, b_checks = baseline(base_path, setup)

    where = (f"on {args.concurrency} phones that have opened the app before (--cached-phones)" if args.cached_phones
             else "each in a fresh browser context (nothing cached)")
    if args.split_cores:
        if (os.cpu_count() or 1) < 2:
            ap.error("--split-cores needs two cores")
        where += "; the browsers on core 0, the app server on core 1 (--split-cores)"
    print(f"Load: streamlit run + Chromium, {args.members} members and {volunteers} volunteers, "
          f"at most {args.concurrency} browser sessions at once, {where} (load average now: "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}) …", flush=True)
    global FAVOUR, ORDINARY_CHROMIUM, CACHED_PHONES, SPLIT
    FAVOUR, ORDINARY_CHROMIUM, CACHED_PHONES = not args.fair_share, args.ordinary_chromium, args.cached_phones
    SPLIT = (0, 1) if args.split_cores else None
    own_group = favour_groups([os.getpid()]) if FAVOUR else []      # the app server, started next, is in it too
    if SPLIT:
        pin_all(os.getpid(), {SPLIT[1]})        # the server started next inherits its core ...
    ws_log = tmp / "ws_clock.log" if (args.server_clock or args.split_cores) else None
    env = ({"PYTHONPATH": os.pathsep.join([str(ROOT / "bench" / "ws_clock")] + [x for x in [
        os.environ.get("PYTHONPATH")] if x]), "KL_WS_LOG": str(ws_log)} if ws_log else None)
    srv = StreamlitServer(path, env)
    if SPLIT:
        pin_all(srv.proc.pid, {SPLIT[1]})
        pin_all(os.getpid(), {SPLIT[0]})        # ... and Playwright's driver and Chromium, started later, this one
    try:
        cores0 = cores_cpu()
        busy0, nice0 = machine_cpu()
        server0 = process_cpu(srv.proc.pid)
        window0 = time.perf_counter()
        self0 = time.process_time()
        global SERVER_PID
        SERVER_PID = srv.proc.pid
        out = asyncio.run(run_load(srv.url, setup, volunteers, args.concurrency))
        busy1, nice1 = machine_cpu()
        cores1 = cores_cpu()
        window = time.perf_counter() - window0
        server_cpu = process_cpu(srv.proc.pid) - server0
        self_cpu = time.process_time() - self0
    finally:
        srv.stop()
    log = srv.log_path.read_text(errors="replace")
    server_errors = [line for line in log.splitlines() if "Traceback" in line or "Unexpected error" in line]
    problems = verify(path, setup, volunteers)

    def row(name, served, direct):
        ratio = pct(served, .95) / pct(direct, .95) if served and direct else float("nan")
        return (f"{name:<30} {len(served):>5} {pct(served, .5) * 1000:>9.0f} {pct(served, .95) * 1000:>9.0f} "
                f"{(max(served) if served else float('nan')) * 1000:>9.0f} {pct(direct, .95) * 1000:>10.1f} "
                f"{ratio:>8.0f}x")

    print()
    print(f"{'ms':<30} {'n':>5} {'p50':>9} {'p95':>9} {'max':>9} {'direct p95':>10} {'p95 ratio':>9}")
    print(row("Save a survey answer", out["save_seen"], b_saves))
    print(row("  as Playwright waited for it", out["saves"], b_saves))
    print(row("  of which the server's share", out["save_server"], b_saves))
    print(row("  of which the browser's share", out["save_browser"], b_saves))
    if volunteers:
        print(row("Check one person in", out["check_seen"], b_checks))
        print(row("  as Playwright waited for it", out["checks"], b_checks))
        print(row("  of which the server's share", out["check_server"], b_checks))
        print(row("  of which the browser's share", out["check_browser"], b_checks))
    print("(First line of each: finger down to the confirmation painted, by the page's own clock. 'As Playwright "
          "waited for it': from Playwright's click call, which first scrolls and waits for the button to stand "
          "still, to Playwright hearing from the page that the confirmation is painted (the page's own observer, "
          "asked once; before 2026-12-07 15:00 Playwright searched the page's text again and again). The "
          "server's share is from the browser's websocket frames: the "
          "tap sent to the first frame holding the confirmation; the browser's share is the Playwright figure "
          "less the server's. Shares are per sample, so their p95s do not add up to the total's.)")
    for name, key in (("survey send", "save_frames"), ("check-in tap", "check_frames")):
        if out[key]:
            f, b, d = (pct([x[i] for x in out[key]], .5) for i in range(3))
            print(f"What the browser received per {name} (median, until idle): {f:.0f} frames, {b / 1000:.1f} kB, "
                  f"{d:.0f} element updates")
    if ws_log is not None:
        print("At the server (its own clock, bench/ws_clock; the same clock as the browser's frames):")
        clock_log = ws_log.read_text() if ws_log.exists() else ""
        for name, key in (("Survey send", "save_times"), ("Check-in tap", "check_times")):
            for line in legs_lines(name, *server_legs(clock_log, out[key])):
                print(line)
    print("Where a tap's time goes (TapCost: per tap, from just before Playwright's click to the confirmation "
          "painted, a little longer than 'on screen'; 'on a core' is processor time, 'waiting' is time in the "
          "kernel's run queue, ready to run but without a core):")
    for line in cost_lines("Survey send", out["save_cost"]) + cost_lines("Check-in tap", out["check_cost"]):
        print(line)
    targets = {"check-in p95 <= 500 ms": pct(out["check_seen"], .95) <= 0.5 if out["check_seen"] else None,
               "survey save p95 <= 1000 ms": pct(out["save_seen"], .95) <= 1.0 if out["save_seen"] else None}
    print("Speed targets (issue 15):", ", ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in targets.items()
                                                 if v is not None))
    try:
        print("Load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    except OSError:
        pass
    print(f"\nWall time under load: {out['wall']:.1f} s for {len(out['saves'])} saves and {len(out['checks'])} "
          f"check-ins. Direct baseline (1 thread): saves p95 {pct(b_saves, .95) * 1000:.1f} ms, "
          f"check-ins p95 {pct(b_checks, .95) * 1000:.1f} ms.")
    cores = os.cpu_count() or 1
    print(f"Processor time during the load, browsers' start included ({cores} cores x {window:.0f} s = "
          f"{cores * window:.0f} s): "
          f"machine busy {busy1 - busy0:.0f} s, of which the app server {server_cpu:.0f} s and processes at low "
          f"priority (nice > 0: other work on the machine, and the renderer Chromium starts at nice 5 for each new "
          f"browser session, some 0.5 s each) {nice1 - nice0:.0f} s; the rest is the browsers and "
          "this benchmark's own driver. On the day the browsers' share is on the phones.")
    print(f"Of which: Chromium (all its processes) {out['chromium_cpu']:.0f} s, Playwright's driver (Node.js) "
          f"{out['driver_cpu']:.0f} s, this benchmark's Python process {self_cpu:.0f} s. Chromium's processes ran "
          f"at nice {', '.join(map(str, out['chromium_nice']))} inside their group (Chromium started by root sets its "
          "browser and GPU processes to -8, ahead of its pages' renderers), the app server at 0 inside its own.")
    print("Each core busy: " + ", ".join(f"core {i} {b - a:.0f} s of {window:.0f}" for i, (a, b) in
                                          enumerate(zip(cores0, cores1))) + (
        f" (core {SPLIT[0]}: the browsers, Playwright's driver, this benchmark; core {SPLIT[1]}: the app server; "
        "other work on the machine on either)" if SPLIT else ""))
    if SPLIT:
        print(out["pinning"][1])
    if FAVOUR:
        print("Scheduling groups (kernel autogroups) favoured against other work on the machine: "
              + "; ".join(own_group + out["groups"]) + ". Inside the benchmark nothing changes: the server's group "
              "and Chromium's group have the same weight, as before (see favour_groups).")
    else:
        print("Scheduling groups left as they are (--fair-share): other work at nice 19 takes a whole group's share.")
    ok = not (out["errors"] or server_errors or problems)
    print("Browser steps failed:", len(out["errors"]))
    for e in out["errors"][:10]:
        print("  ", e)
    print("Server log errors:", len(server_errors))
    print("Data checks:", "all answers stored exactly once, every check-in recorded" if not problems else "")
    for p in problems:
        print("  PROBLEM:", p)
    print("RESULT:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
