"""Where LEXIMIN's later levels spend their time: one line per restricted-master solve.

    .venv/bin/python -m bench.master_lp_probe f:0 [--limit 60] [--dump-at N]

Runs ``leximin`` on a generated pool (``shape:seed``, see ``bench/shapes.py``) with the engine's clock
on *processor* time (so that the figures do not depend on the machine's load), and prints for every
master solve: processor seconds so far, the level (1 = the minimum), the solve's processor
milliseconds, HiGHS's simplex iterations for that solve, the columns in the master and how many were
added since the last solve, whether HiGHS still held a valid basis before the solve (the warm
start), and z. With ``--dump-at N``, the master of solve N is written, before that solve, to
``master.mps`` and its starting basis to ``master.bas`` (in the current directory) for experiments
with HiGHS alone (other options or simplex variants, a cold start, fewer new columns).

Measured with it (households shape f, seed 0, 751 types; issue 12): the basis is valid before
every solve after the first (no presolve, no reset), yet one warm re-solve at the second level takes
about 1,000 primal simplex iterations at about 1 ms each once the master holds 1,500-2,000 columns.
On a dumped master (752 rows, 1,708 columns, 27 of them new): warm primal 1,018 iterations (1.1 s);
cold primal 5,738 (5.0 s); cold dual 4,041 (2.6 s); interior point without crossover 2.6 s; a single
new column instead of 27 still needs 872 iterations. The cost is the re-optimisation after any
improving column, not the warm start.
"""

from __future__ import annotations

import argparse
import sys
import time
import types


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pool", help="shape:seed, e.g. f:0")
    ap.add_argument("--limit", type=float, default=60.0, help="the engine's time limit, in processor seconds")
    ap.add_argument("--dump-at", type=int, default=0, help="write the master of this solve (1 = the first)")
    ap.add_argument("--with-decomposition", action="store_true",
                    help="keep the direct decomposition on (it closes most pools' later levels without the master)")
    args = ap.parse_args(argv)
    for line in probe(args.pool, args.limit, args.dump_at, args.with_decomposition):
        print(line, flush=True)
    return 0


def probe(pool: str, limit: float, dump_at: int = 0, decomposition: bool = False) -> list[str]:
    """The per-solve lines (see the module's note) and a closing summary line. The direct decomposition
    (``leximin.CARATHEODORY_SHARE``) closes the later levels without a master solve on most pools, so the
    probe switches it off for its run (the later levels then go on in the master, which is what it
    measures), unless ``decomposition``."""
    import lib.sortition.leximin as lx
    from bench.shapes import generate

    shape, seed = pool.split(":")
    inst = generate(shape, int(seed))
    clock = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("__")})
    clock.perf_counter = time.process_time
    lines: list[str] = []
    state = {"level": 0, "columns": 0, "solves": 0, "master_s": 0.0}
    classes = [lx._PrimalMaster, lx._DualMaster]  # level 1's master and the later levels'
    saved = [(cls, cls.__dict__.get("solve"), cls.__dict__.get("set_rows")) for cls in classes]  # None: inherited
    orig_time = lx.time

    def set_rows(self, *a, **k):
        state["level"] += 1
        return type(self).__dict__["_probe_set_rows"](self, *a, **k)

    def solve(self):
        orig_solve = type(self).__dict__["_probe_solve"]
        h = self.h
        state["solves"] += 1
        if state["solves"] == dump_at:
            h.writeModel("master.mps")
            h.writeBasis("master.bas")
        valid = bool(h.getBasis().valid)
        t = time.process_time()
        res = orig_solve(self)
        dt = time.process_time() - t
        state["master_s"] += dt
        added = len(self.columns) - state["columns"]
        state["columns"] = len(self.columns)
        z = "failed" if res is None else f"{res[0]:.6f}"
        lines.append(
            f"{time.process_time() - t0:7.2f} s  level {max(1, state['level'])}  {dt * 1000:7.1f} ms  "
            f"{h.getInfo().simplex_iteration_count:6d} iterations  {len(self.columns):5d} columns (+{added})  "
            f"basis {'kept' if valid else 'none'}  z {z}"
        )
        return res

    from_primal = lx._DualMaster.__dict__["from_primal"]

    def convert(cls, pm):
        m = from_primal.__func__(cls, pm)
        state["level"] -= 1  # it sets the rows it carries over: not a new level
        return m

    orig_share = lx.CARATHEODORY_SHARE
    if not decomposition:
        lx.CARATHEODORY_SHARE = 0.0
    lx.time = clock
    lx._DualMaster.from_primal = classmethod(convert)
    for cls, _solve, _set_rows in saved:
        cls._probe_solve, cls._probe_set_rows = cls.solve, cls.set_rows
        cls.solve, cls.set_rows = solve, set_rows
    try:
        t0 = time.process_time()
        dist = lx.leximin(inst, time_limit=limit)
    finally:
        lx.time = orig_time
        lx.CARATHEODORY_SHARE = orig_share
        lx._DualMaster.from_primal = from_primal
        for cls, orig_solve, orig_set_rows in saved:
            for name, orig in (("solve", orig_solve), ("set_rows", orig_set_rows)):
                if orig is None:
                    delattr(cls, name)  # inherited again
                else:
                    setattr(cls, name, orig)
            del cls._probe_solve, cls._probe_set_rows
    lines.append(
        f"complete {dist.complete}  minimum proven at {dist.maximin_seconds:.1f} s  {state['solves']} master solves, "
        f"{state['master_s']:.1f} of {time.process_time() - t0:.1f} processor seconds"
    )
    return lines


if __name__ == "__main__":
    sys.exit(main())
