"""Benchmark: the server's work per action at the door and in the survey, old code against new, in one run.

    .venv/bin/python -m bench.server_work_bench [--before 82582c7] [--taps 6] [--members 12]

Wall-clock times on a shared 2-core machine say little, so this counts work instead. For each of two
versions of the app (the commit ``--before``, exported with ``git archive`` to a temporary folder, and this
checkout), on copies of one prepared database, it starts ``streamlit run`` with counters
(bench/_work_server.py) and one Chromium, and then, one action at a time:

* a volunteer searches for a member by pseudonym and taps "Present" (``--taps`` times);
* a member answers the survey and presses "Send my answers";
* an organiser opens the Evaluation page and the Support page (a page switch).

Per action it reports the script runs the server made (whole runs of app.py and the page, fragment runs),
their processor time (the script thread's, time.thread_time), the DuckDB statements run and their processor
time, the server process's whole processor time (from /proc: the web server's own work included), and
what the browser received: websocket frames, bytes and element updates (deltas). The last column is new
divided by old.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_BEFORE = "82582c7"   # the code before issue 15 point 3's second round (the quiet "before" run)
METRICS = [("runs", "script runs"), ("full", "  of which whole runs"), ("fragment", "  of which fragment runs"),
           ("script_cpu", "script processor ms"), ("queries", "DuckDB statements"),
           ("query_cpu", "DuckDB processor ms"), ("proc_cpu", "server process processor ms"),
           ("frames", "frames to the browser"), ("kbytes", "kB to the browser"), ("deltas", "element updates"),
           ("browser_cpu", "Chromium processor ms"), ("task_ms", "  of which the page's main thread ms"),
           ("script_ms", "  of which running script ms"), ("layout_ms", "  of which layout and style ms")]


def export_tree(rev: str, dest: Path) -> Path:
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


class Server:
    def __init__(self, tree: Path, db_path: Path):
        from tests.e2e.conftest import _free_port

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.work_log = db_path.with_suffix(".work.jsonl")
        self.work_log.write_text("")
        self.log_path = db_path.with_suffix(".server.log")
        self._log = open(self.log_path, "w")
        env = {**os.environ, "KLEROTERION_DB": str(db_path), "KLEROTERION_DEMO": "1"}
        env.pop("KLEROTERION_STRICT", None)
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "_work_server.py"), str(tree), str(self.work_log),
             "--server.port", str(self.port), "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=tree, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("streamlit did not start in 90 s")

    def cpu(self) -> float:
        """The server process's processor time so far (user + system), seconds."""
        from bench.load_bench import process_cpu

        return process_cpu(self.proc.pid)

    def runs(self) -> list[dict]:
        return [json.loads(line) for line in self.work_log.read_text().splitlines() if line.strip()]

    def errors(self) -> list[str]:
        self._log.flush()
        return [line for line in self.log_path.read_text(errors="replace").splitlines()
                if "Traceback" in line or "Unexpected error" in line]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


class Frames:
    """What the browser received over the websocket (Chrome's DevTools events), decoded as Streamlit messages."""

    def __init__(self, ctx, page):
        self.frames: list[bytes] = []
        cdp = ctx.new_cdp_session(page)
        cdp.on("Network.webSocketFrameReceived", self._received)
        cdp.send("Network.enable")
        cdp.send("Performance.enable")
        self.cdp = cdp

    def renderer(self) -> dict[str, float]:
        """The page's main thread so far (Chrome's Performance.getMetrics, seconds): all its tasks, running
        script, and layout plus style recalculation."""
        got = {m["name"]: m["value"] for m in self.cdp.send("Performance.getMetrics")["metrics"]}
        return {"task_ms": got.get("TaskDuration", 0.0), "script_ms": got.get("ScriptDuration", 0.0),
                "layout_ms": got.get("LayoutDuration", 0.0) + got.get("RecalcStyleDuration", 0.0)}

    def _received(self, params: dict) -> None:
        import base64

        resp = params.get("response", {})
        if resp.get("opcode") == 2:
            self.frames.append(base64.b64decode(resp.get("payloadData", "")))

    def since(self, n: int) -> dict:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        got = self.frames[n:]
        deltas = 0
        for raw in got:
            msg = ForwardMsg()
            try:
                msg.ParseFromString(raw)
            except Exception:  # noqa: BLE001 - not a Streamlit message
                continue
            deltas += msg.WhichOneof("type") == "delta" or bool(msg.ref_hash)
        return {"frames": len(got), "kbytes": sum(map(len, got)) / 1000, "deltas": deltas}


def finished_runs(frames: "Frames", since: int) -> int:
    """How many script runs the browser was told had finished (Streamlit's script_finished messages)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    n = 0
    for raw in frames.frames[since:]:
        msg = ForwardMsg()
        try:
            msg.ParseFromString(raw)
        except Exception:  # noqa: BLE001
            continue
        n += msg.WhichOneof("type") == "script_finished"
    return n


def settle(page, srv: Server, frames: Frames, since: int | None = None) -> None:
    """Wait until the server has finished with the action: a run finished since ``since`` (if given), no run
    going, and no new frame or run for 0.8 s. Playwright's own waits (not time.sleep) let the browser's
    events arrive meanwhile."""
    deadline = time.perf_counter() + 120
    while since is not None and not finished_runs(frames, since) and time.perf_counter() < deadline:
        page.wait_for_timeout(50)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
    last = (-1, -1)
    stable_since = time.perf_counter()
    while time.perf_counter() - stable_since < 0.8:
        now = (len(frames.frames), len(srv.runs()))
        if now != last:
            last, stable_since = now, time.perf_counter()
        page.wait_for_timeout(100)


def measure(page, srv: Server, frames: Frames, action, settled: bool = True) -> dict:
    """One action's work. The browser's processor time is all of Chromium's processes (from /proc) and the
    page's own main thread (Chrome's metrics); ``settled=False`` for the first action of a new page."""
    from bench.load_bench import processes_cpu

    if settled:
        settle(page, srv, frames)
    n_runs, n_frames, cpu = len(srv.runs()), len(frames.frames), srv.cpu()
    chromium, before = processes_cpu(b"chromium"), frames.renderer()
    action()
    settle(page, srv, frames, since=n_frames)
    after = frames.renderer()
    runs = srv.runs()[n_runs:]
    out = {"runs": len(runs), "full": sum(r["kind"] == "full" for r in runs),
           "fragment": sum(r["kind"] == "fragment" for r in runs),
           "script_cpu": sum(r["cpu_ms"] for r in runs), "queries": sum(r["queries"] for r in runs),
           "query_cpu": sum(r["query_cpu_ms"] for r in runs), "proc_cpu": (srv.cpu() - cpu) * 1000,
           "browser_cpu": (processes_cpu(b"chromium") - chromium) * 1000}
    out.update({k: (after[k] - before[k]) * 1000 for k in after})
    out.update(frames.since(n_frames))
    return out


def sign_in_staff(page, role: str) -> None:
    from lib.access.auth import DEMO_PASSWORDS

    if not page.url.split("?")[0].endswith("/sign-in"):
        page.goto(page.url.split("/sign-in")[0] + "/sign-in")
    page.get_by_text(role.capitalize(), exact=True).click()
    page.locator("input[type=password]").fill(DEMO_PASSWORDS[role])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text(f"Signed in as {role.capitalize()}").wait_for()


def open_page(page, name: str) -> None:
    more = page.get_by_test_id("stSidebarNavViewButton")   # a long menu shows "View more" first
    if more.count() and "more" in more.first.inner_text().lower():
        more.first.click()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True).first.click()
    page.get_by_role("heading", name=name).first.wait_for()


def run_version(label: str, tree: Path, db_path: Path, setup: dict, taps: int, browser) -> dict[str, list[dict]]:
    from bench.load_bench import answer_for
    from lib import evaluation as ev

    srv = Server(tree, db_path)
    results: dict[str, list[dict]] = {}
    try:
        for who in ("volunteer", "member", "organiser"):
            ctx = browser.new_context(viewport={"width": 1000, "height": 900})   # the side menu open
            page = ctx.new_page()
            page.set_default_timeout(120_000)
            frames = Frames(ctx, page)
            first = f"{srv.url}/sign-in?code={setup['codes'][setup['ids'][0]]}" if who == "member" else \
                f"{srv.url}/sign-in"

            def load(first=first):
                page.goto(first)
                page.get_by_role("heading", name="Sign in").first.wait_for()
            results.setdefault(f"Load the sign-in page ({who})", []).append(
                measure(page, srv, frames, load, settled=False))
            if who == "volunteer":
                results.setdefault("Sign in (volunteer)", []).append(
                    measure(page, srv, frames, lambda: sign_in_staff(page, "volunteer")))
                results.setdefault("Open Check-in", []).append(
                    measure(page, srv, frames, lambda: open_page(page, "Check-in")))
                page.set_viewport_size({"width": 390, "height": 844})   # the door is a phone
                search = page.get_by_label("Find someone: first name or pseudonym")
                for pid in setup["ids"][:taps]:
                    page.wait_for_function("() => document.querySelector('input[aria-label^=\"Find someone\"]')"
                                           "?.value === ''", timeout=120_000)

                    def find(pid=pid):
                        search.fill(pid)
                        search.press("Enter")
                        page.locator(f".st-key-checkin_row_{pid}").wait_for()
                    results.setdefault("Search for a member", []).append(measure(page, srv, frames, find))

                    def tap(pid=pid):
                        page.locator(f".st-key-checkin_row_{pid}").get_by_role(
                            "button", name="Present", exact=True).click()
                        page.get_by_text(f"({pid}): present").first.wait_for()
                    results.setdefault("Tap Present", []).append(measure(page, srv, frames, tap))
            elif who == "member":
                code = setup["codes"][setup["ids"][0]]

                def member_sign_in(code=code):
                    page.get_by_role("tab", name="Assembly member").click()
                    box = page.get_by_label("Your access code (on your card)")
                    if box.input_value() != code:
                        box.fill(code)
                    page.get_by_role("button", name="Open my pages").click()
                    page.get_by_text("Signed in as Assembly member").wait_for()
                results.setdefault("Sign in (member)", []).append(measure(page, srv, frames, member_sign_in))
                results.setdefault("Open the survey", []).append(
                    measure(page, srv, frames, lambda: open_survey(page)))
                groups = page.get_by_test_id("stMain").get_by_role("radiogroup")
                for j in range(len(setup["questions"])):
                    groups.nth(j).get_by_text(ev.ANSWERS[answer_for(0, j)], exact=True).click()

                def send():
                    page.get_by_role("button", name="Send my answers").click()
                    page.get_by_text("You have answered this survey").first.wait_for()
                results.setdefault("Send the survey", []).append(measure(page, srv, frames, send))
            else:
                results.setdefault("Sign in (organiser)", []).append(
                    measure(page, srv, frames, lambda: sign_in_staff(page, "organiser")))
                for name in ("Evaluation", "Support and stipends", "Check-in", "Evaluation", "Support and stipends"):
                    results.setdefault(f"Open {name}", []).append(
                        measure(page, srv, frames, lambda name=name: open_page(page, name)))
            ctx.close()
        errors = srv.errors()
        if errors:
            raise RuntimeError(f"{label}: the server logged errors: {errors[:3]}")
    finally:
        srv.stop()
    return results


def open_survey(page) -> None:
    open_page(page, "Survey")
    page.get_by_role("button", name="Send my answers").wait_for()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", default=DEFAULT_BEFORE, help="the old code: a commit of this repository "
                    "('none': this checkout only)")
    ap.add_argument("--taps", type=int, default=6, help="check-ins measured (each after a search)")
    ap.add_argument("--members", type=int, default=12)
    ap.add_argument("--profile", metavar="DIR", help="also write a cProfile file per script run of the new code "
                    "to DIR (read with python -m pstats)")
    args = ap.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from bench.load_bench import prepare
    from lib import evaluation as ev
    from tests.e2e.conftest import CHROMIUM_ARGS, _chromium

    tmp = Path(tempfile.mkdtemp(prefix="kl-work-"))
    base = tmp / "prepared.duckdb"
    setup = prepare(base, args.members)
    old_tree = export_tree(args.before, tmp / "before") if args.before != "none" else None
    print(f"Old code: {args.before} (exported to {old_tree}); new code: this checkout. "
          f"{args.taps} check-ins, 1 survey send, 2 page switches each (load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}).", flush=True)
    table: dict[str, dict[str, list[dict]]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS)
        for label, tree in (("old", old_tree), ("new", ROOT)):
            if tree is None:
                table[label] = {}
                continue
            if args.profile:
                os.environ["KLEROTERION_PROFILE_DIR"] = args.profile if label == "new" else ""
                Path(args.profile).mkdir(parents=True, exist_ok=True)
            db_path = tmp / f"{label}.duckdb"
            shutil.copy(base, db_path)
            if Path(str(base) + ev.KEY_SUFFIX).exists():
                shutil.copy(str(base) + ev.KEY_SUFFIX, str(db_path) + ev.KEY_SUFFIX)
            table[label] = run_version(label, tree, db_path, setup, args.taps, browser)
            print(f"  {label}: done", flush=True)
        browser.close()

    print("\nPer action, median over its repetitions (processor times in ms; the same counters for both):\n")
    print("| action | measure | old | new | new / old |\n|---|---|---|---|---|")
    for action in table["new"]:
        for key, name in METRICS:
            old = median(r[key] for r in table["old"].get(action, [{key: float("nan")}]))
            new = median(r[key] for r in table["new"][action])
            ratio = new / old if old else float("nan")
            print(f"| {action} (n={len(table['new'][action])}) | {name.strip()} | {old:.1f} | {new:.1f} | {ratio:.2f} |")
    print(f"\nLoad average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
