"""Benchmark: rounding a LEXIMIN lottery to M = 1,000 panels, an earlier rounding against today's.

    .venv/bin/python -m bench.rounding_bench [--cache DIR] [--old-rev REV] [--only demo,a0,...]
        [--out bench/results/rounding_YYYYMMDD.md]

Pools: the demo (its complete LEXIMIN lottery), shapes a and e of ``bench/shapes.py`` (seeds 0-2,
complete LEXIMIN) and shape f seed 0 (households; the engine stopped once the minimum is proven,
as in ``bench/leximin_shapes.py --stop-at-minimum``). The lotteries are computed once and kept in
``--cache`` (pickles), so that only the rounding is timed. For each pool both roundings run in the
same process, one after the other: ``lib/sortition/rounding.py`` as it was at ``--old-rev`` and as
it is now. Per rounding: panels of the least likely person against ``floor(M p_min)``, the largest
person-level deviation in panels (``M max_i |p_i - a_i/M|``) and its floor no 1,000-panel lottery
can beat, processor time of the rounding (``time.thread_time``, the budget's clock, and
``time.process_time``, which also counts the solver's helper threads), and a check of every panel
against the quotas and the household rule. Run it under ``nice -n 19`` on a shared machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import pickle
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

M = 1000
POOLS = ["demo", "a0", "a1", "a2", "e0", "e1", "e2", "f0"]


def _lottery(key: str, cache: Path):
    """(instance, distribution, how it was computed) for a pool key, from the cache when there."""
    path = cache / f"{key}.pkl"
    if path.exists():
        with path.open("rb") as f:
            return pickle.load(f)
    from lib.sortition.leximin import Control, leximin

    if key == "demo":
        from bench.sortition_bench import demo_instance

        inst, note = demo_instance(), "complete LEXIMIN"
        dist = leximin(inst, time_limit=300)
    else:
        from bench.shapes import generate

        shape, seed = key[0], int(key[1:])
        inst = generate(shape, seed)
        if shape == "f":
            found: list[bool] = []

            def snap(d) -> None:
                if not math.isnan(d.maximin_seconds):
                    found.append(True)

            dist = leximin(inst, time_limit=300, control=Control(on_snapshot=snap, should_stop=lambda: bool(found)))
            note = "stopped at the proven minimum"
        else:
            dist = leximin(inst, time_limit=300)
            note = "complete LEXIMIN"
    if not dist.complete and key[0] != "f":
        note = "LEXIMIN not complete in 300 s"
    cache.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump((inst, dist, note), f)
    return inst, dist, note


def _old_module(rev: str):
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:lib/sortition/rounding.py"],
                            check=True, capture_output=True, text=True).stdout
    path = Path("/tmp") / f"rounding_{rev}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"rounding_{rev}", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look the module up
    spec.loader.exec_module(mod)
    return mod


def measure(inst, dist, round_to_uniform) -> dict:
    t0, p0 = time.thread_time(), time.process_time()
    lot = round_to_uniform(inst, dist, M)
    thread_s, proc_s = time.thread_time() - t0, time.process_time() - p0
    counts = {pid: round(lot.probabilities[pid] * M) for pid in inst.ids}
    least = min(counts.values())
    best = math.floor(M * dist.min_probability + 1e-9)
    dev = max(abs(M * dist.probabilities[p] - counts[p]) for p in inst.ids)
    bad = [p for p in lot.panels if inst.panel_problems(p)]
    return {"least": least, "floor": best, "dev": dev, "dev_floor": lot.loss_lower_bound * M,
            "thread_s": thread_s, "proc_s": proc_s, "valid": not bad and len(lot.panels) == M}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default="/tmp/rounding_bench")
    ap.add_argument("--old-rev", default="386beaa")
    ap.add_argument("--only", default=",".join(POOLS))
    ap.add_argument("--out", default="")
    args = ap.parse_args(argv)
    from lib.sortition.rounding import round_to_uniform as new

    old = _old_module(args.old_rev).round_to_uniform
    lines = [
        "| pool | people / seats | lottery | p_min x M | floor(M p_min) | least likely person: old / new "
        "| largest deviation (panels): old / new | floor | rounding thread s: old / new "
        "| process s: old / new | all panels valid |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    print(lines[0], flush=True)
    for key in args.only.split(","):
        inst, dist, note = _lottery(key, Path(args.cache))
        a = measure(inst, dist, old)
        b = measure(inst, dist, new)
        line = (f"| {key} | {len(inst.people)} / {inst.panel_size} | {note} | {M * dist.min_probability:.2f} "
                f"| {a['floor']} | {a['least']} / {b['least']} | {a['dev']:.2f} / {b['dev']:.2f} "
                f"| {b['dev_floor']:.2f} | {a['thread_s']:.2f} / {b['thread_s']:.2f} "
                f"| {a['proc_s']:.2f} / {b['proc_s']:.2f} | {'yes' if a['valid'] and b['valid'] else 'NO'} |")
        lines.append(line)
        print(line, flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
