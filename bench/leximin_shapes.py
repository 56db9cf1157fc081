"""Benchmark: LEXIMIN on pools shaped like real assemblies, on seeds nobody tuned for.

    .venv/bin/python -m bench.leximin_shapes [--seeds N | --seeds 17,42,...] [--fresh]
        [--shapes a,b,...] [--time-limit 60] [--large-time-limit 120]
        [--baseline | --no-baseline] [--baseline-seeds 2] [--baseline-limit 600]
        [--objectives leximin[,goldilocks]] [--stop-at-minimum] [--out bench/results/leximin_shapes]
    .venv/bin/python -m bench.leximin_shapes --table-from bench/results/leximin_shapes.csv

For every shape of ``bench/shapes.py`` (a local, b city, c region, d national, e at-quota,
f households) and every seed (default: 20 seeds, 0-19; ``--fresh``: N seeds drawn from
``os.urandom`` and printed, so that no engine setting can be fitted to a fixed list), one run:

- our engine, ``lib.sortition.leximin.leximin`` with the shape's time limit (``--time-limit``,
  ``--large-time-limit`` for the national shape) and a ``Control`` whose ``on_snapshot``
  records each level's lottery: **when the minimum was proven optimal** (wall time from the
  call to the snapshot that first carries ``Distribution.maximin_seconds``), whether LEXIMIN
  **completed** (every level, ``Distribution.complete``) and in how long, and the **share of
  the proven bound reached at 25 s** (``min_probability / upper_bound`` of the lottery
  current at 25 s: the last snapshot before 25 s when the minimum was already proven; while
  level 1 is still running, the share of the way to the bound that the engine's progress
  line reports, which the lottery it would hand back then has at least; when neither
  exists, a second run with a 25-s limit says what the engine returns at 25 s);
- the rounding to M = 1,000 panels (``lib.sortition.rounding.round_to_uniform``, its 2-s
  budget): **rounding loss in panels**, ``floor(M p_min)`` minus the number of panels of the
  least likely person (0 or less is the best any 1,000-panel lottery can do; 1 is within the
  issue's target), the **largest person-level deviation** ``M max_i |p_i - a_i/M|`` in panels
  and the floor no 1,000-panel lottery can beat; every panel is checked against the quotas
  and the household rule;
- for a sample of seeds (``--baseline-seeds`` per shape, default the first 2; not the
  households shape: the baseline runner reads no households), the same-run baseline:
  ``sortition-algorithms`` MAXIMIN with HiGHS (``bench/_baseline_runner.py`` in
  ``bench/.baseline-venv``, with the limit of ``bench/sortition_bench.py``: 600 s), and the
  ratio of its wall time to our time to the proven minimum (both compute the optimal
  minimum; MAXIMIN stops there).

Each of our runs is a separate process (``--one``) with a hard deadline (time limit + 25 s +
60 s): a solver call that never returns is recorded as "hung" and the benchmark goes on.
Runs are one at a time (the machine is shared). ``--objectives leximin,goldilocks`` also runs
``lib.sortition.goldilocks.goldilocks`` (issue 12 item 7: nobody too unlikely, nobody nearly
certain; gamma = 1) on every pool; for every objective the table shows the smallest and the
largest chance, and a second table puts both objectives side by side per pool, with the
Goldilocks score of each lottery (``max p / (k/n) + (k/n) / min p``, lower is better) and the
proven lower bound on the best score. For Goldilocks rows, "minimum proven optimal" and "at
the bound after 25 s" do not apply (it lowers the minimum on purpose to lower the maximum).

Writes ``<out>.md`` (the per-shape table, also printed, with the targets of issue 12 items 2,
3 and 5 checked per shape) and ``<out>.csv`` (every run, written as the runs finish, so an
interrupted benchmark keeps what it measured; ``--table-from`` makes the table from such a CSV).
To run the engine by hand on the same pools: ``python -m bench.shapes --shapes b --seeds 0
--write DIR``, then ``python -m lib.sortition draw DIR/<name> --seed ... --out ...``.
Not part of ``python -m bench`` (20 seeds x 6 shapes take about 2 hours on 2 cores): run it
on its own, or ``python -m bench --with-shapes``.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"
CHECKPOINT = 25.0          # seconds: the share of the proven bound reached by then
M = 1000                   # panels in the uniform lottery
ROUNDING_BUDGET = 2.0      # seconds (the rounding's default)
HARD_EXTRA = 60.0          # a run process is killed this long after time limit + checkpoint
DEFAULT_SEEDS = 20
TARGET_MIN_SECONDS = {False: 10.0, True: 30.0}       # issue 12, item 3 (p90): up to 2,000 people / national
TARGET_COMPLETE_SECONDS = {False: 60.0, True: 120.0}  # issue 12, item 2
LEVEL1 = re.compile(r"level 1 of \d+\b.*?([0-9.]+)% of the way")
LEVEL = re.compile(r"level (\d+) of (?:about )?(\d+)")

CSV_FIELDS = ["shape", "seed", "objective", "status", "people", "seats", "features", "types", "time_limit",
              "min_proven_s", "min_proven_cpu_s", "engine_maximin_s", "complete", "seconds", "cpu_s", "share_at_checkpoint",
              "checkpoint_source", "min_probability", "upper_bound", "gap", "max_probability", "mean_probability",
              "levels", "stages", "columns", "rounding_s", "floor_M_pmin", "rounded_min_panels",
              "rounding_loss_panels", "max_deviation_panels", "deviation_floor_panels", "panels_valid",
              "baseline_status", "baseline_s", "baseline_cpu_s", "baseline_min", "baseline_ratio", "error",
              "score", "score_bound", "rounded_max_panels", "no_panel_people"]


# --- one run (in its own process) -----------------------------------------------------------

def _panels_valid(inst, panels) -> bool:
    members = {}
    for q in inst.quotas:
        members[(q.feature, q.value)] = {p.id for p in inst.people if p.features.get(q.feature) == q.value}
    house = {p.id: p.household for p in inst.people if p.household} if inst.one_per_household else {}
    for panel in panels:
        if len(set(panel)) != inst.panel_size or len(panel) != inst.panel_size:
            return False
        for q in inst.quotas:
            c = sum(1 for pid in panel if pid in members[(q.feature, q.value)])
            if not q.min <= c <= q.max:
                return False
        if house:
            hs = [house[pid] for pid in panel if pid in house]
            if len(hs) != len(set(hs)):
                return False
    return True


def _share(low: float, bound: float) -> float:
    """min / proven bound (1 when the bound is 0: nobody can do better than nothing)."""
    return 1.0 if bound <= 1e-12 else low / bound


def run_one(shape: str, seed: int, time_limit: float, checkpoint: float = CHECKPOINT,
            objective: str = "leximin", stop_at_minimum: bool = False) -> dict:
    """Our engine on one generated pool: the measurements of one CSV row (without the baseline)."""
    from bench.shapes import generate
    from lib.sortition.leximin import Control, LeximinError, leximin
    from lib.sortition.rounding import round_to_uniform
    from lib.sortition.typespace import build_types

    inst = generate(shape, seed)
    ts = build_types(inst)
    row: dict = {"shape": shape, "seed": seed, "objective": objective, "people": len(inst.people),
                 "seats": inst.panel_size, "features": len(inst.features()), "types": ts.T, "time_limit": time_limit}
    if objective == "goldilocks":
        from lib.sortition.goldilocks import goldilocks as solve
    else:
        solve = leximin
    kwargs: dict = {}
    snaps: list[tuple[float, float, float, float, float]] = []   # (t, min, bound, engine's maximin_seconds, cpu)
    level1: list[tuple[float, float]] = []                 # (t, share of the way to the bound) while on level 1
    levels = [0, 0]                                         # highest level seen, levels announced
    t0 = time.perf_counter()

    def on_snapshot(d) -> None:
        snaps.append((time.perf_counter() - t0, d.min_probability, d.upper_bound, d.maximin_seconds,
                      time.process_time() - c0))

    def progress(msg: str, frac: float) -> None:
        t = time.perf_counter() - t0
        m = LEVEL1.search(msg)
        if m and t <= checkpoint:
            level1.append((t, float(m.group(1)) / 100.0))
        m = LEVEL.search(msg)
        if m:
            levels[0] = max(levels[0], int(m.group(1)))
            levels[1] = int(m.group(2))

    c0 = time.process_time()
    try:
        # --stop-at-minimum: the run ends once the minimum is proven optimal (processor time to it, for
        # comparing engines at any load; LEXIMIN is then not complete)
        stop = (lambda: any(not math.isnan(s[3]) for s in snaps)) if stop_at_minimum else None
        dist = solve(inst, time_limit=time_limit, progress=progress,
                     control=Control(on_snapshot=on_snapshot, should_stop=stop),
                     **kwargs)
    except LeximinError as e:
        row.update(status="error", error=str(e)[:200], seconds=time.perf_counter() - t0,
                   cpu_s=time.process_time() - c0)
        return row
    wall = time.perf_counter() - t0
    row.update(status="ok", seconds=wall, cpu_s=time.process_time() - c0, complete=bool(dist.complete),
               min_probability=dist.min_probability, upper_bound=dist.upper_bound, gap=dist.gap,
               max_probability=max(dist.type_probabilities), mean_probability=inst.panel_size / len(inst.people),
               stages=dist.stages, columns=dist.columns, engine_maximin_s=dist.maximin_seconds,
               levels=(f"{dist.stages}/{dist.stages}" if dist.complete
                       else f"{levels[0]}/{levels[1]}" if levels[1] else ""))
    from lib.sortition.goldilocks import objective_value

    # people on no valid panel: the quotas leave them no seat (a property of the pool). A complete leximin
    # gives everybody else a positive chance, and a proven bound of 0 says so for the minimum
    if dist.upper_bound <= 1e-12:
        row["no_panel_people"] = sum(1 for x in dist.probabilities.values() if x <= 1e-12)
    row["score"] = objective_value(dist.probabilities, inst.panel_size)
    row["score_bound"] = getattr(dist, "objective_bound", "")
    proven = [s for s in snaps if not math.isnan(s[3])]
    if proven:
        row["min_proven_s"] = proven[0][0]
        row["min_proven_cpu_s"] = proven[0][4]
    elif not math.isnan(dist.maximin_seconds):
        row["min_proven_s"] = dist.maximin_seconds
    # the share of the proven bound at the checkpoint
    before = [s for s in snaps if s[0] <= checkpoint]
    if objective == "goldilocks":     # it lowers the minimum on purpose: no share of the maximin bound to report
        share, source = math.nan, "not applicable (Goldilocks)"
    elif wall <= checkpoint:
        share, source = _share(dist.min_probability, dist.upper_bound), "final lottery"
    elif before and not math.isnan(before[-1][3]):
        share, source = _share(before[-1][1], before[-1][2]), "snapshot"
    elif level1:
        share, source = level1[-1][1], "progress (level 1)"
    else:
        try:
            d25 = solve(inst, time_limit=checkpoint, **kwargs)
            share, source = _share(d25.min_probability, d25.upper_bound), f"run with a {checkpoint:.0f}-s limit"
        except LeximinError:
            share, source = 0.0, f"run with a {checkpoint:.0f}-s limit: no lottery"
    row["share_at_checkpoint"] = min(1.0, share) if not math.isnan(share) else ""

    row["checkpoint_source"] = source
    # the rounding to M panels
    t1 = time.perf_counter()
    lot = round_to_uniform(inst, dist, M, time_limit=ROUNDING_BUDGET)
    row["rounding_s"] = time.perf_counter() - t1
    floor_target = math.floor(M * dist.min_probability + 1e-9)
    rounded_min = min(round(lot.probabilities[pid] * M) for pid in inst.ids)
    row.update(floor_M_pmin=floor_target, rounded_min_panels=rounded_min,
               rounding_loss_panels=floor_target - rounded_min, max_deviation_panels=lot.rounding_loss * M,
               rounded_max_panels=max(round(lot.probabilities[pid] * M) for pid in inst.ids),
               deviation_floor_panels=lot.loss_lower_bound * M,
               panels_valid=len(lot.panels) == M and _panels_valid(inst, lot.panels))
    return row


def _child(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", nargs=2, metavar=("SHAPE", "SEED"), required=True)
    ap.add_argument("--time-limit", type=float, required=True)
    ap.add_argument("--checkpoint", type=float, default=CHECKPOINT)
    ap.add_argument("--objective", default="leximin")
    ap.add_argument("--stop-at-minimum", action="store_true")
    a = ap.parse_args(argv)
    if os.environ.get("BENCH_SHAPES_TEST_STALL"):   # tests only: a run that never answers
        time.sleep(3600)
    row = run_one(a.one[0], int(a.one[1]), a.time_limit, a.checkpoint, a.objective, a.stop_at_minimum)
    print(json.dumps(row, default=float), flush=True)
    return 0


def run_isolated(shape: str, seed: int, time_limit: float, checkpoint: float, objective: str,
                 hard_extra: float = HARD_EXTRA, stop_at_minimum: bool = False) -> dict:
    """``run_one`` in a fresh process, killed if it has not answered by its hard deadline."""
    cmd = [sys.executable, "-m", "bench.leximin_shapes", "--one", shape, str(seed), "--time-limit", str(time_limit),
           "--checkpoint", str(checkpoint), "--objective", objective] + (["--stop-at-minimum"] if stop_at_minimum else [])
    deadline = time_limit + checkpoint + hard_extra
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=deadline)
    except subprocess.TimeoutExpired:
        return {"shape": shape, "seed": seed, "objective": objective, "status": "hung",
                "error": f"no answer {deadline:.0f} s after the start (killed)", "seconds": time.perf_counter() - t0,
                "time_limit": time_limit}
    lines = r.stdout.strip().splitlines()
    if r.returncode != 0 or not lines:
        tail = (r.stderr.strip().splitlines() or ["?"])[-1]
        return {"shape": shape, "seed": seed, "objective": objective, "status": "crashed",
                "error": f"exit {r.returncode}: {tail[:160]}", "time_limit": time_limit}
    return json.loads(lines[-1])


# --- the table --------------------------------------------------------------------------------

def _pct(xs: list[float], q: float) -> float:
    """Nearest-rank percentile (inf for runs that never got there)."""
    s = sorted(xs)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def _secs(x: float, limit: float | None = None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if math.isinf(x):
        return f"> {limit:.0f}" if limit else "never"
    return f"{x:.1f}"


def _f(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _cpu(x: float) -> str:
    """Processor seconds of the run's process (not proven within the limit, or not recorded: '–')."""
    return "–" if math.isinf(x) or math.isnan(x) else f"{x:.1f}"


def summarise(rows: list[dict], shapes: list[str], objectives: list[str], checkpoint: float) -> list[str]:
    from bench.shapes import SHAPES

    out = ["| shape | objective | people | k | feat. | types (median) | runs | minimum proven optimal at, s: "
           "median / p90 / worst | processor time to it, s: median / worst | at the bound after 25 s (lowest share) | complete, s: median / p90 "  # noqa: E501 - a table header, read whole
           "| smallest chance / (k/n), median | largest chance, median / max | rounding: least likely person "
           "below floor(M p_min), panels: median / worst | largest person deviation, panels: median / worst "
           "(floor) | panels valid | baseline MAXIMIN s | baseline s / ours to the minimum |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    notes: list[str] = []
    for key in shapes:
        sh = SHAPES[key]
        for obj in objectives:
            rs = [r for r in rows if r["shape"] == key and r.get("objective", "leximin") == obj]
            if not rs:
                continue
            ok = [r for r in rs if r.get("status") == "ok"]
            limit = max((_f(r.get("time_limit")) for r in rs), default=math.nan)
            failed = len(rs) - len(ok)
            people = [int(r["people"]) for r in ok]
            tmin = [_f(r.get("min_proven_s")) for r in ok]
            tmin = [math.inf if math.isnan(x) else x for x in tmin] + [math.inf] * failed
            cmin = [_f(r.get("min_proven_cpu_s")) for r in ok]
            cmin = [math.inf if math.isnan(x) else x for x in cmin] + [math.inf] * failed
            tcomp = [_f(r["seconds"]) if str(r.get("complete")) in ("True", "true", "1") else math.inf for r in ok]
            tcomp += [math.inf] * failed
            shares = [x for x in (_f(r.get("share_at_checkpoint")) for r in ok) if not math.isnan(x)]
            at_bound = sum(1 for s in shares if s >= 1 - 1e-6)
            losses = [_f(r.get("rounding_loss_panels")) for r in ok]
            devs = [_f(r.get("max_deviation_panels")) for r in ok]
            floors = [_f(r.get("deviation_floor_panels")) for r in ok]
            ratio_min = [_f(r["min_probability"]) / _f(r["mean_probability"]) for r in ok]
            maxp = [_f(r.get("max_probability")) for r in ok]
            valid = sum(1 for r in ok if str(r.get("panels_valid")) in ("True", "true", "1"))
            incomplete = sum(1 for x in tcomp if math.isinf(x))
            if not ok:
                comp = "–"
            elif incomplete * 2 > len(tcomp):
                comp = f"not within the limit, {incomplete} of {len(tcomp)} runs"
            else:
                comp = f"{_secs(statistics.median(tcomp), limit)} / {_secs(_pct(tcomp, 0.9), limit)}"
                if incomplete:
                    comp += f" ({incomplete} of {len(tcomp)} not within the limit)"
            base = [r for r in rs if r.get("baseline_status")]
            bcell, rcell = "–", "–"
            if base:
                bparts, rparts = [], []
                for r in base:
                    st = r["baseline_status"]
                    bs = _f(r.get("baseline_s"))
                    if st == "ok":
                        bparts.append(f"{bs:.1f}")
                    elif "did not finish" in st:
                        bparts.append(f"> {bs:.0f}")
                    else:
                        bparts.append(st[:40])
                    if r.get("baseline_ratio") not in (None, ""):
                        rparts.append(str(r["baseline_ratio"]))
                bcell = ", ".join(bparts) + f" ({len(base)} seeds)"
                rcell = ", ".join(rparts) or "–"
            range_people = f"{min(people)}-{max(people)}" if people else "–"
            types = f'{statistics.median([int(r["types"]) for r in ok]):.0f}' if ok else "–"
            out.append("| " + " | ".join([
                f"{key} {sh.name}", obj, range_people, str(sh.seats), str(sh.n_features), types,
                f"{len(rs)}" + (f" ({failed} failed)" if failed else ""),
                "– (Goldilocks)" if obj == "goldilocks" else
                f"{_secs(statistics.median(tmin), limit)} / {_secs(_pct(tmin, 0.9), limit)} / {_secs(max(tmin), limit)}",
                "–" if obj == "goldilocks" or not ok else
                f"{_cpu(statistics.median(cmin))} / {_cpu(max(cmin))}",
                f"{at_bound} of {len(rs)} ({min(shares):.4f})" if shares else "–",
                comp,
                f"{statistics.median(ratio_min):.3f}" if ok else "–",
                f"{statistics.median(maxp):.3f} / {max(maxp):.3f}" if ok else "–",
                f"{statistics.median(losses):.0f} / {max(losses):.0f}" if ok else "–",
                f"{statistics.median(devs):.2f} / {max(devs):.2f} ({max(floors):.2f})" if ok else "–",
                f"{valid} of {len(ok)}",
                bcell, rcell]) + " |")
            if ok and obj == "leximin":
                tm = TARGET_MIN_SECONDS[sh.large]
                tc = TARGET_COMPLETE_SECONDS[sh.large]
                p90 = _pct(tmin, 0.9)
                within = sum(1 for x in tcomp if x <= tc)
                in1 = sum(1 for x in losses if x <= 1)
                notes.append(f"- {key} {sh.name}: minimum proven in ≤ {tm:.0f} s at p90: "
                             f"{'yes' if p90 <= tm else 'no'} (p90 {_secs(p90, limit)} s); complete LEXIMIN in ≤ "
                             f"{tc:.0f} s: {within} of {len(tcomp)} runs; least likely person within 1 panel of "
                             f"floor(M p_min): {in1} of {len(losses)} runs.")
            for r in rs:
                bmin, omin = _f(r.get("baseline_min")), _f(r.get("min_probability"))
                if r.get("baseline_status") == "ok" and not math.isnan(_f(r.get("min_proven_s"))) \
                        and abs(bmin - omin) > 1e-6:
                    notes.append(f"- {key} seed {r['seed']}: the baseline's minimum {bmin:.6f} differs from our "
                                 f"proven optimal minimum {omin:.6f}")
                if r.get("status") == "ok" and _f(r.get("min_probability")) <= 0:
                    if _f(r.get("upper_bound")) <= 1e-12:
                        # not a failure of the engine: the bound 0 is proven (the fractional relaxation)
                        who = r.get("no_panel_people") or "some"
                        notes.append(f"- {key} seed {r['seed']} ({obj}): {who} sign-up(s) on no valid panel: the "
                                     "quotas leave no seat for them, so nobody can give them a chance (a property of "
                                     "the pool, proven; not a failure of the engine)")
                    else:
                        notes.append(f"- {key} seed {r['seed']} ({obj}): somebody has no chance at all (minimum 0) "
                                     f"although the proven bound is {_f(r.get('upper_bound')):.6f}")
                if r.get("status") != "ok":
                    notes.append(f"- {key} seed {r['seed']} ({obj}): {r.get('status')}: {r.get('error', '')}")
    return out + ["", "Targets of issue 12 (items 2, 3, 5):", ""] + notes


# --- main ---------------------------------------------------------------------------------------

def parse_seeds(text: str | None, fresh: bool) -> list[int]:
    if text and "," in text:            # a list (one seed: "42,")
        if fresh:
            raise SystemExit("--fresh draws new seeds: give --seeds a number, not a list")
        return [int(s) for s in text.split(",") if s.strip()]
    count = int(text) if text else DEFAULT_SEEDS
    if fresh:
        return [int.from_bytes(os.urandom(4), "big") for _ in range(count)]
    return list(range(count))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--one" in argv:
        return _child(argv)
    from bench.shapes import SHAPES

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", help=f"number of seeds per shape (default {DEFAULT_SEEDS}: 0..19) or a list 17,42,...")
    ap.add_argument("--fresh", action="store_true", help="draw the seeds from os.urandom (and print them)")
    ap.add_argument("--shapes", default=",".join(SHAPES), help="shapes to run, e.g. a,b (default: all)")
    ap.add_argument("--time-limit", type=float, default=60.0, help="our time limit per run, s")
    ap.add_argument("--large-time-limit", type=float, default=120.0, help="time limit on the national shape, s")
    ap.add_argument("--checkpoint", type=float, default=CHECKPOINT, help="the 'at the bound after' time, s")
    ap.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                    help="run the same-run baseline (sortition-algorithms MAXIMIN) on a sample of seeds")
    ap.add_argument("--baseline-seeds", type=int, default=2, help="seeds per shape with the baseline (the first ones)")
    ap.add_argument("--baseline-shapes", default=None, help="shapes with the baseline (default: all but households)")
    ap.add_argument("--baseline-limit", type=float, default=600.0, help="the baseline's time limit, s")
    ap.add_argument("--objectives", default="leximin", help="leximin and/or goldilocks (when the engine has it)")
    ap.add_argument("--stop-at-minimum", action="store_true",
                    help="end each run once the minimum is proven optimal (compare processor time to it; "
                         "LEXIMIN is then not completed)")
    ap.add_argument("--out", default=str(RESULTS / "leximin_shapes"), help="path of the .md and .csv, no suffix")
    ap.add_argument("--table-from", default=None, metavar="CSV",
                    help="run nothing: write the table of the runs in this CSV (of an earlier run) to <out>.md")
    args = ap.parse_args(argv)
    if args.table_from:
        return _table_from(Path(args.table_from), Path(args.out), args.checkpoint)

    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        raise SystemExit(f"unknown shape(s) {unknown}; known: {', '.join(SHAPES)}")
    seeds = parse_seeds(args.seeds, args.fresh)
    print(f"seeds: {','.join(map(str, seeds))}" + (" (fresh, from os.urandom)" if args.fresh else ""), flush=True)
    from lib.sortition.leximin import leximin

    objectives = []
    for o in [o.strip() for o in args.objectives.split(",") if o.strip()]:
        if o in ("leximin", "goldilocks") or "objective" in inspect.signature(leximin).parameters:
            objectives.append(o)
        else:
            print(f"objective {o!r}: the engine has no 'objective' argument yet; skipped", flush=True)
    base_shapes = ([s for s in shapes if not SHAPES[s].households] if args.baseline_shapes is None
                   else [s.strip() for s in args.baseline_shapes.split(",")])
    py = None
    if args.baseline:
        from bench.sortition_bench import baseline_python

        py, why = baseline_python()
        if py is None:
            print(f"baseline unavailable: {why}", flush=True)

    load0 = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows: list[dict] = []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path = out.with_suffix(".csv")
    with tempfile.TemporaryDirectory() as tmp, open(csv_path, "w", newline="", encoding="utf-8") as fcsv:
        writer = csv.DictWriter(fcsv, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for key in shapes:
            tl = args.large_time_limit if SHAPES[key].large else args.time_limit
            for i, seed in enumerate(seeds):
                for obj in objectives:
                    row = run_isolated(key, seed, tl, args.checkpoint, obj, stop_at_minimum=args.stop_at_minimum)
                    if (py is not None and obj == objectives[0] and key in base_shapes and i < args.baseline_seeds):
                        row.update(_baseline(py, key, seed, Path(tmp), args.baseline_limit, row))
                    rows.append(row)
                    writer.writerow(row)
                    fcsv.flush()
                    print(_line(row), flush=True)
    load1 = os.getloadavg()
    header = [
        f"LEXIMIN on pools shaped like real assemblies (bench/shapes.py), {started}, "
        + _machine(load0[0], load1[0]) + _sample(len(seeds)) + f" ({_engine_version()})",
        "",
        f"Seeds{' (fresh, from os.urandom)' if args.fresh else ''}: {', '.join(map(str, seeds))}. "
        f"Time limit {args.time_limit:.0f} s ({args.large_time_limit:.0f} s on the national shape); "
        f"rounding to M = {M} panels with its {ROUNDING_BUDGET:.0f}-s budget. Baseline: "
        + (f"sortition-algorithms MAXIMIN (HiGHS), limit {args.baseline_limit:.0f} s, first {args.baseline_seeds} "
           f"seed(s) of shapes {', '.join(base_shapes) or 'none'}, same run." if py is not None else "not run."),
        f"Command: python -m bench.leximin_shapes {' '.join(argv)}",
        "",
    ]
    table = "\n".join(header + summarise(rows, shapes, objectives, args.checkpoint) + LEGEND
                      + side_by_side(rows, shapes, objectives))
    print()
    print(table)
    out.with_suffix(".md").write_text(table + "\n", encoding="utf-8")
    print(f"\nwritten: {out.with_suffix('.md')} and {csv_path}")
    return 0


def _machine(load_start: float, load_end: float) -> str:
    cores = os.cpu_count() or 1
    busy = " a busy shared machine," if max(load_start, load_end) > cores else ""
    return (f"{cores} cores,{busy} load average {load_start:.1f} at the start and {load_end:.1f} at the end "
            f"(timings on a loaded machine are longer than on an idle one).")


def _engine_version() -> str:
    """The last commit that changed lib/sortition (and whether the checkout differs from it)."""
    try:
        head = subprocess.run(["git", "log", "-1", "--format=%h", "--", "lib/sortition"], cwd=ROOT,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "lib/sortition"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "engine: unknown version"
    return f"engine: lib/sortition as of commit {head or '?'}" + (", with uncommitted changes" if dirty else "")


def _sample(many: int) -> str:
    if many >= DEFAULT_SEEDS:
        return ""
    return f" **A sample: {many} seed{'s' if many != 1 else ''} per shape, not the {DEFAULT_SEEDS}-seed benchmark.**"


def _table_from(path: Path, out: Path, checkpoint: float) -> int:
    from bench.shapes import SHAPES

    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    shapes = [k for k in SHAPES if any(r["shape"] == k for r in rows)]
    objectives = list(dict.fromkeys(r.get("objective") or "leximin" for r in rows))
    seeds = list(dict.fromkeys(r["seed"] for r in rows))
    limits = sorted({_f(r.get("time_limit")) for r in rows if not math.isnan(_f(r.get("time_limit")))})
    earlier = path.with_suffix(".md")
    lines = earlier.read_text(encoding="utf-8").splitlines() if earlier.exists() else []
    if any(line.startswith("| shape") for line in lines):
        # the header of the table written by the run that made the CSV (its machine, load, command)
        header = lines[:next(i for i, line in enumerate(lines) if line.startswith("| shape"))]
    else:
        header = [f"LEXIMIN on pools shaped like real assemblies (bench/shapes.py): the runs in {path.name} "
                  f"(python -m bench.leximin_shapes --table-from).{_sample(len(seeds))}", "",
                  f"Seeds: {', '.join(seeds)}. Time limits: {', '.join(f'{x:.0f} s' for x in limits)}.", ""]
    table = "\n".join(header + summarise(rows, shapes, objectives, checkpoint) + LEGEND
                      + side_by_side(rows, shapes, objectives))
    print(table)
    out.with_suffix(".md").write_text(table + "\n", encoding="utf-8")
    return 0


def side_by_side(rows: list[dict], shapes: list[str], objectives: list[str]) -> list[str]:
    """Per pool: LEXIMIN and Goldilocks, smallest and largest chance (exact, and in the 1,000-panel lottery),
    and the Goldilocks score of each (issue 12 item 7). Empty unless both objectives ran."""
    from bench.shapes import SHAPES

    if not {"leximin", "goldilocks"} <= set(objectives):
        return []
    out = ["", "Both objectives side by side (chances exact / in the 1,000-panel lottery; score = "
           "max p/(k/n) + (k/n)/min p, lower is better, 2 is everybody at k/n):", "",
           "| shape | seed | k/n | LEXIMIN smallest | LEXIMIN largest | LEXIMIN score | Goldilocks smallest "
           "| Goldilocks largest | Goldilocks score (proven best at least) | Goldilocks s, complete |",
           "|---|---|---|---|---|---|---|---|---|---|"]

    def cell(r: dict, key: str, panels: str) -> str:
        x = _f(r.get(key))
        return f"{x:.4f} / {_f(r.get(panels)) / M:.3f}" if not math.isnan(x) else "–"

    for key in shapes:
        seeds = list(dict.fromkeys(str(r["seed"]) for r in rows if r["shape"] == key))
        for seed in seeds:
            by = {r.get("objective") or "leximin": r for r in rows if r["shape"] == key and str(r["seed"]) == seed
                  and r.get("status") == "ok"}
            lx, gl = by.get("leximin"), by.get("goldilocks")
            if lx is None or gl is None:
                continue
            bound = _f(gl.get("score_bound"))
            out.append("| " + " | ".join([
                f"{key} {SHAPES[key].name}", seed, f"{_f(lx['mean_probability']):.4f}",
                cell(lx, "min_probability", "rounded_min_panels"), cell(lx, "max_probability", "rounded_max_panels"),
                f"{_f(lx.get('score')):.3f}",
                cell(gl, "min_probability", "rounded_min_panels"), cell(gl, "max_probability", "rounded_max_panels"),
                f"{_f(gl.get('score')):.3f} ({bound:.3f})" if not math.isnan(bound) else f"{_f(gl.get('score')):.3f}",
                f"{_f(gl['seconds']):.1f}, {'yes' if str(gl.get('complete')) in ('True', 'true', '1') else 'no'}",
            ]) + " |")
    return out


LEGEND = [
    "",
    "Times are wall-clock seconds from the call to `leximin()` (pool generation excluded); \"> limit\": not "
    "reached within the time limit (p90 and worst count such runs as never). \"minimum proven optimal at\": the "
    "first lottery whose smallest chance equals the proven upper bound. \"processor time to it\": the processor "
    "seconds the run's process had used by then (all its threads; does not grow with the machine's load, unlike "
    "the wall-clock times). \"at the bound after 25 s\": runs whose "
    "lottery at 25 s had the proven optimal minimum; in brackets the lowest share min/bound at 25 s over the "
    "runs. \"complete\": every LEXIMIN level finished. \"smallest chance / (k/n)\": the fairness of the minimum "
    "against an equal chance for all (the published real pools: 0.26-0.59). \"rounding\": floor(1000 p_min) "
    "minus the panels of the least likely person in the 1,000-panel lottery (0 or less is the best possible). "
    "\"largest person deviation\": max over people of |1000 p_i - panels_i|; in brackets the floor no "
    "1,000-panel lottery can beat. \"baseline s / ours to the minimum\": the baseline's MAXIMIN wall time "
    "divided by our time to the proven minimum (\"≥\": the baseline did not finish).",
]


def _baseline(py, key: str, seed: int, tmp: Path, limit: float, row: dict) -> dict:
    from bench.shapes import generate
    from bench.sortition_bench import run_baseline, write_instance

    inst = generate(key, seed)
    d = write_instance(inst, tmp / f"{key}_{seed}")
    b = run_baseline(py, d, limit)
    res = {"baseline_status": b.get("status", "?"), "baseline_s": b.get("seconds"), "baseline_cpu_s": b.get("cpu"),
           "baseline_min": b.get("min")}
    ours = _f(row.get("min_proven_s"))
    if b.get("seconds") and not math.isnan(ours) and ours > 0:
        finished = b.get("status") == "ok"
        res["baseline_ratio"] = f"{'' if finished else '≥ '}{b['seconds'] / ours:.1f}×"
    return res


def _line(r: dict) -> str:
    if r.get("status") != "ok":
        return f"{r['shape']} seed {r['seed']} {r.get('objective')}: {r.get('status')} {r.get('error', '')}"
    parts = [f"{r['shape']} seed {r['seed']} {r['objective']}: n={r['people']} types={r['types']}"
             + (f", score {_f(r.get('score')):.4f} (proven best at least {_f(r.get('score_bound')):.4f})"
                if r.get("objective") == "goldilocks" else ""),
             f"min proven {_secs(_f(r.get('min_proven_s')))} s",
             f"{'complete' if r.get('complete') else 'limit'} {r['seconds']:.1f} s (levels {r.get('levels')})",
             f"at {CHECKPOINT:.0f} s {_f(r.get('share_at_checkpoint')):.4f} ({r['checkpoint_source']})",
             f"min {r['min_probability']:.5f} bound {r['upper_bound']:.5f} max {r['max_probability']:.3f}",
             f"rounding loss {r['rounding_loss_panels']} panels, deviation {r['max_deviation_panels']:.2f} "
             f"(floor {r['deviation_floor_panels']:.2f}), valid {r['panels_valid']}"]
    if r.get("baseline_status"):
        parts.append(f"baseline {r['baseline_status']} {_secs(_f(r.get('baseline_s')))} s {r.get('baseline_ratio', '')}")
    return "; ".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
