"""Complete LEXIMIN on one pool, in processor seconds per level.

    .venv/bin/python -m bench.leximin_levels c:0 [--limit 150] [--set NAME=VALUE ...]

Runs ``leximin`` on a generated pool (``shape:seed``, see ``bench/shapes.py``, or ``demo``) with the
engine's clock on *processor* time (as ``bench/minimum_profile.py``) and prints when each level of the
decomposition (or stage of the staged algorithm) closed (the later levels at once when the direct decomposition
closes them, ``direct_close``), when the minimum was proven optimal, and whether
LEXIMIN was completed within ``--limit`` processor seconds. HiGHS's own time limits run on wall-clock
time, which on a loaded machine runs several times faster than this process's processor time: the probe
multiplies them (and ``MASTER_STALL_SECONDS``) by ``--wall-factor`` (default 20), so that a solve is not
cut short by the load; the engine's own deadline checks still stop the run at ``--limit``. ``--set`` changes a constant of
``lib.sortition.leximin`` (or, with a ``caratheodory.`` prefix, of ``lib.sortition.caratheodory``) for
the run, e.g. ``--set CARATHEODORY_SHARE=0`` to run without the direct decomposition.
"""

from __future__ import annotations

import argparse
import sys
import time
import types


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pool", help="shape:seed, e.g. c:0, or demo")
    ap.add_argument("--limit", type=float, default=150.0, help="the engine's time limit, in processor seconds")
    ap.add_argument("--wall-factor", type=float, default=20.0, help="HiGHS's (wall-clock) limits times this")
    ap.add_argument("--progress", type=float, default=0.0, help="print the engine's progress line every this many s")
    ap.add_argument("--set", action="append", default=[], help="NAME=VALUE: a constant of the engine for this run")
    args = ap.parse_args(argv)
    for line in run(args.pool, args.limit, args.set, args.wall_factor, args.progress):
        print(line, flush=True)
    return 0


def instance(pool: str):
    if pool == "demo":
        from bench.sortition_bench import demo_instance

        return demo_instance()
    from bench.shapes import generate

    shape, seed = pool.split(":")
    return generate(shape, int(seed))


def run(pool: str, limit: float, settings: list[str] | None = None, wall_factor: float = 20.0, progress: float = 0.0
) -> list[str]:
    """The lines described in the module's note."""
    import importlib

    import lib.sortition.leximin as lx
    import lib.sortition.typespace as tsp

    orig_limit = tsp.limit_next_solve

    def limit_next_solve(h, seconds):
        orig_limit(h, None if seconds is None else seconds * wall_factor)

    settings = list(settings or []) + [f"MASTER_STALL_SECONDS={lx.MASTER_STALL_SECONDS * wall_factor}"]

    saved = []
    for s in settings:
        name, value = s.split("=", 1)
        mod = lx
        if "." in name:
            modname, name = name.rsplit(".", 1)
            mod = importlib.import_module(f"lib.sortition.{modname}")
        saved.append((mod, name, getattr(mod, name)))
        setattr(mod, name, type(getattr(mod, name))(float(value)) if not isinstance(getattr(mod, name), bool)
                else value.lower() in ("1", "true", "yes"))
    inst = instance(pool)
    clock = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("__")})
    clock.perf_counter = time.process_time
    events: list[str] = []
    t0 = time.process_time()
    orig_reach, orig_time, orig_snap = lx._Solver._reach_level, lx.time, lx._Solver.snapshot

    def reach(self, m, s, n_levels, *a):
        r = orig_reach(self, m, s, n_levels, *a)
        state = "closed" if r is not None else "not reachable"
        events.append(f"  level {s + 1} of {n_levels} {state} at {time.process_time() - t0:7.2f} s")
        return r

    orig_direct = lx._Solver.direct_close

    def direct(self, goal, levels, *a):
        r = orig_direct(self, goal, levels, *a)
        if r is not None:
            events.append(f"  levels 2-{len(levels)} closed from the direct decomposition at {time.process_time() - t0:7.2f} s")
        return r

    def snap(self, *, force=False):
        if self.method.startswith("staged") or "then staged" in self.method:
            events.append(f"  staged stage {self.stages} closed at {time.process_time() - t0:7.2f} s")
        return orig_snap(self, force=force)

    lx.time = clock
    lx.limit_next_solve = tsp.limit_next_solve = limit_next_solve
    lx._Solver._reach_level = reach
    lx._Solver.snapshot = snap
    lx._Solver.direct_close = direct
    lines = []
    last = [-1e9]

    def report(msg: str, frac: float) -> None:
        now = time.process_time() - t0
        if progress > 0 and now - last[0] >= progress:
            last[0] = now
            print(f"  [{now:7.2f} s] {msg}", flush=True)

    try:
        dist = lx.leximin(inst, time_limit=limit, progress=report)
        total = time.process_time() - t0
        lines.append(
            f"{pool}: {'COMPLETE' if dist.complete else 'incomplete'} at {total:.2f} processor s; minimum proven at "
            f"{dist.maximin_seconds:.2f} s; min {dist.min_probability:.6f} gap {dist.gap:.2e}; "
            f"{dist.columns} columns; {dist.method}"
        )
    except lx.LeximinError as e:
        lines.append(f"{pool}: error {e} after {time.process_time() - t0:.2f} s")
    finally:
        lx.time, lx._Solver._reach_level, lx._Solver.snapshot = orig_time, orig_reach, orig_snap
        lx._Solver.direct_close = orig_direct
        lx.limit_next_solve = tsp.limit_next_solve = orig_limit
        for mod, name, value in saved:
            setattr(mod, name, value)
    return lines + events


if __name__ == "__main__":
    sys.exit(main())
