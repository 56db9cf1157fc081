"""Benchmark: how long each page of the app takes to show (AppTest runs of the real app.py).

    .venv/bin/python -m bench.pages_bench [--rows 50000] [--warm-runs 5] [--pages targets,quota_board]
                                          [--no-draw]

Two assemblies: the embedded demo (603 sign-ups, with a real revealed draw unless --no-draw)
and a pool of ``--rows`` sign-ups (default 50,000, brought in through the real sync code from
the sync benchmark's generated sheet, with the demo's questions and targets).

Every page is measured in a fresh Python process (so "cold" really is cold: empty caches,
first import of the page), signed in as an organiser, and the quota board also as a
volunteer. In that process the app first opens on its start page; then:

- cold: the first run of the page (switch to it and run);
- warm: the median of ``--warm-runs`` further runs of the same page (what a person sees when
  the page reruns after a click, or the quota board refreshes);
- floor: the warm run of the app's start page (Overview) in the same process: the cost of the
  app shell itself, measured in the same run for comparison.

Targets (issue 4): every page ≤ 1 s warm; the quota board ≤ 300 ms warm. The table shows
the ratio warm / target (≤ 1.00 meets it), wall time and CPU time (the machine is shared:
CPU time is steadier when it is busy).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TARGETS = {"pages/quota_board.py": 0.3}
DEFAULT_TARGET = 1.0
SKIP = {"pages/signin.py", "pages/home.py"}


def app_pages() -> list[str]:
    """Page files listed in the app's page list (lib/access/pages.py) that exist (read from the source)."""
    text = (ROOT / "lib" / "access" / "pages.py").read_text(encoding="utf-8")
    found = re.findall(r'"(pages/[a-z0-9_]+\.py)"', text)
    return [p for p in dict.fromkeys(found) if (ROOT / p).exists() and p not in SKIP]


# --- building the two assemblies ---------------------------------------------------------------

def make_demo(path: Path, *, with_draw: bool) -> dict:
    sys.path.insert(0, str(ROOT))
    from lib.store.db import open_database
    from lib.demo.load import load_demo

    db = open_database(path)
    load_demo(db)
    info = {"signups": db.scalar("SELECT count(*) FROM people"), "draw": "none"}
    if with_draw:
        from lib import draws
        from lib.sortition.leximin import LeximinError

        draws.freeze_targets(db, actor="bench")
        for limit in (10, 60):
            try:
                rec = draws.compute_draw(db, actor="bench", M=100, time_limit=limit, legacy_seconds=1.0)
                break
            except LeximinError:
                continue
        else:
            rec = None
        if rec is not None:
            draws.commit_draw(db, rec.draw_id, actor="bench")
            draws.reveal_draw(db, rec.draw_id, "3 14 15 92 65", actor="bench")
            info["draw"] = "revealed"
    db.close()
    return info


def make_big(path: Path, rows: int) -> dict:
    """A pool of ``rows`` sign-ups with the demo's questions and targets, through the real sync."""
    sys.path.insert(0, str(ROOT))
    from bench.sync_bench import make_sheet
    from lib.recruitment.categories import load_fields, load_fields_file, save_fields
    from lib.store.config import DEMO_DIR
    from lib.store.db import open_database
    from lib.store.settings import set_setting
    from lib.recruitment.signups.grid import grid_from_rows
    from lib.recruitment.signups.mapping import save_mapping, suggest_mapping
    from lib.recruitment.signups.sync import sync_grid
    from lib.recruitment.targets import parse_targets_csv, save_target_version

    db = open_database(path)
    save_fields(db, load_fields_file(DEMO_DIR / "fields.csv"))
    fields = load_fields(db)
    targets = parse_targets_csv((DEMO_DIR / "targets.csv").read_text(encoding="utf-8"), fields)
    save_target_version(db, targets, panel_size=100, note="bench targets", actor="bench")
    set_setting(db, "assembly", {"name": f"Bench assembly ({rows:,} sign-ups)", "panel_size": 100})
    t0 = time.perf_counter()
    grid = grid_from_rows(make_sheet(rows))
    mapping = suggest_mapping(grid.headers, fields)
    save_mapping(db, mapping)
    res = sync_grid(db, grid, mapping, source_kind="csv", source_label="bench")
    info = {"signups": db.scalar("SELECT count(*) FROM people"), "sync_seconds": time.perf_counter() - t0,
            "draw": "none", "added": res.added}
    db.close()
    return info


# --- the measured child --------------------------------------------------------------------

def _timed(fn) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def child(db_path: str, page: str, role: str, warm_runs: int) -> dict:
    os.environ["KLEROTERION_DB"] = db_path
    os.environ["KLEROTERION_DEMO"] = "0"
    sys.path.insert(0, str(ROOT))
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["role"] = role
    at.run()
    floor = []
    for _ in range(3):
        floor.append(_timed(at.run))

    def first():
        at.switch_page(page)
        at.run()

    cold = _timed(first)
    errors = [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]
    warm = [_timed(at.run) for _ in range(warm_runs)]
    return {"cold": cold[0], "cold_cpu": cold[1],
            "warm": statistics.median(w for w, _ in warm), "warm_cpu": statistics.median(c for _, c in warm),
            "floor": statistics.median(w for w, _ in floor), "floor_cpu": statistics.median(c for _, c in floor),
            "errors": errors[:2]}


def measure(db_path: Path, page: str, role: str, warm_runs: int) -> dict:
    proc = subprocess.run([sys.executable, "-m", "bench.pages_bench", "--child", str(db_path), page, role,
                           str(warm_runs)], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()
        return {"error": tail[-1] if tail else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--warm-runs", type=int, default=5)
    ap.add_argument("--pages", help="comma-separated page names (e.g. targets,quota_board); default: all")
    ap.add_argument("--no-draw", action="store_true", help="do not compute a draw on the demo assembly")
    ap.add_argument("--child", nargs=4, metavar=("DB", "PAGE", "ROLE", "RUNS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        db, page, role, runs = args.child
        print(json.dumps(child(db, page, role, int(runs))))
        return 0

    pages = app_pages()
    if args.pages:
        wanted = {f"pages/{p.strip().removesuffix('.py')}.py" for p in args.pages.split(",")}
        pages = [p for p in pages if p in wanted]
    with tempfile.TemporaryDirectory(prefix="kl-pages-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        demo_info = make_demo(work / "demo.duckdb", with_draw=not args.no_draw)
        print(f"Demo assembly: {demo_info['signups']} sign-ups, draw: {demo_info['draw']} "
              f"(prepared in {time.perf_counter() - t0:.1f} s)")
        big_info = make_big(work / "big.duckdb", args.rows)
        print(f"Large pool: {big_info['signups']:,} sign-ups (synced in {big_info['sync_seconds']:.1f} s)")
        print(f"{len(pages)} pages; each in a fresh process; warm = median of {args.warm_runs} runs; "
              f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}\n")
        lines = ["| assembly | page | role | cold | warm | warm CPU | floor: Overview warm (CPU) | target (warm) "
                 "| ratio warm/target | ratio warm CPU/target | met (wall / CPU) |",
                 "|---|---|---|---|---|---|---|---|---|---|---|"]
        for label, path in (("demo (603)", work / "demo.duckdb"), (f"{big_info['signups']:,} sign-ups",
                                                                    work / "big.duckdb")):
            for page in pages:
                roles = ["organiser"] + (["volunteer"] if page == "pages/quota_board.py" else [])
                for role in roles:
                    r = measure(path, page, role, args.warm_runs)
                    target = TARGETS.get(page, DEFAULT_TARGET)
                    name = page.removeprefix("pages/").removesuffix(".py")
                    if "error" in r:
                        lines.append(f"| {label} | {name} | {role} | error: {r['error'][:80]} | | | | "
                                     f"{target * 1000:.0f} ms | | | |")
                    else:
                        ratio, cpu_ratio = r["warm"] / target, r["warm_cpu"] / target
                        note = " (page showed an error)" if r["errors"] else ""
                        lines.append(f"| {label} | {name} | {role} | {r['cold'] * 1000:.0f} ms | "
                                     f"{r['warm'] * 1000:.0f} ms | {r['warm_cpu'] * 1000:.0f} ms | "
                                     f"{r['floor'] * 1000:.0f} ms ({r['floor_cpu'] * 1000:.0f} ms) | "
                                     f"{target * 1000:.0f} ms | {ratio:.2f} | {cpu_ratio:.2f} | "
                                     f"{'yes' if ratio <= 1 else 'no'} / {'yes' if cpu_ratio <= 1 else 'no'}{note} |")
                    print(lines[-1], flush=True)
        table = "\n".join(lines)
        print("\n" + table)
        if os.getloadavg()[0] > (os.cpu_count() or 1):
            print(f"\nNote: the machine was busy (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores): "
                  "wall times are inflated; the CPU column is steadier.")
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "pages.md").write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
