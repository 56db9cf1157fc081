"""Where LEXIMIN spends its time before the minimum is proven (level 1), in processor seconds.

    .venv/bin/python -m bench.minimum_profile c:0 [--limit 150] [--every 20]

Runs ``leximin`` on a generated pool (``shape:seed``, see ``bench/shapes.py``, or ``demo``) with the
engine's clock on *processor* time, stops as soon as level 1 (the minimum) is closed, and prints: the
processor seconds to the proven minimum, the share of the master LP, of each pricer and of the
relaxation; the master solves, their simplex iterations in all, and the columns that the one-seat
exchanges (``_Swaps``) and all heuristics together found in each round; then z every ``--every``
rounds (how it climbs: the tail).

Measured with it (issue 12, item 3; load 4-7 on 2 cores, ``nice -n 19``; processor seconds to the
proven minimum, engine at 3e728f3):

- city b:0 25 (185 rounds), region c:0 71 (284 rounds), c:1 52 (276), c:2 66 (256), households
  f:0 11 (184), demo 4.4, b:1 0.7, b:2 4.3, b:4 4.7, a:0 0.4, e:0 0.7; city b:3 not proven in 150 s
  (z 0.9952; 526 of 569 types pinned at the bound, the master 92% of the time).
- The master LP takes 65-92% of the time; the total simplex iterations to close level 1 are nearly
  constant for a pool whatever feeds the master (b:0: 62,000-100,000 with 2-25 new columns a round,
  0.24-0.47 ms each). Rounds add 4-8 columns; after the first hundred rounds of b:0 the one-seat
  exchanges find none (the LP pricer's two prices and their second roundings find the 4), and z climbs
  by about 2e-4 a round to the end: the last 1% takes 60% of the time on b:0, 85% on c:0.
- On b, c and f the bound is set by one group at the top of its quota range (e.g. "very concerned":
  at most 34 seats for 870 people, everyone of them pinned at 34/870), the relaxation's dual is
  uniform on that group, and it is an optimal dual of the whole master (so every panel of an optimal
  lottery has exactly 34 of them).

Kept (December 2026, ``design_master.py``): level 1 on a *design master* for the group at the top of
its quota range (one row per sample of an equal-chance design, the group's rows left out, one LP per
sample as pricing, a sample that no panel completes repaired by an exchange with another sample; it
gives up rather than stall). Processor seconds to the proven minimum, before -> after, ``nice -n 19``
at load 5-19 on 2 cores ("> x": the run stopped unproven at x; HiGHS's own limits are wall-clock, so
a loaded run can stop early): c:0 77.5 -> 9.0, c:1 56.7 -> 4.5, c:2 > 82 -> 14.7, b:0 24.0 -> 7.5,
f:0 12.7 -> 6.1, f:1 15.6 -> 3.7, national d:0 (> 120 s wall in the 20-seed run) -> 32.4; fresh
seeds b:5813 5.2 -> 1.2, c:7291 > 59 -> 11.2, f:4406 15.9 -> 4.3, c:424242 > 88 -> 13.7 (its design
is ``cyclic_samples``), b:31337 > 88 -> > 149 (no single group). Unchanged: demo, a:0-a:2, e:0-e:2 (0.4-5.7 s,
the same master solves and simplex iterations: no tail, so no design), and city b:3, whose bound is
set by several quotas together (526 of 569 types pinned, no single group: > 150). The design's own
time is nearly all that is left: per round and sample one LP (about 2-3 ms) and two dependent
roundings (about 6 ms), 15-35 rounds, so it grows with the samples (c:2 55, d:0 86). The small
rounding MIP in every pricing round (14 ms a call) cost c:2 23.7 s instead of 15.5; two completions
per sample at the start instead of one: no gain (c:2 24.3).

Kept (December 2026, ``hull_seed.py``): where no single group sets the minimum (several quotas bind
together) or the design master gives up, level 1 seeded by a direct decomposition of the relaxed
leximin point (``caratheodory.FaceDecomposer`` on p*, moved into Q with the pinned types' shortfall
weighted). On every city seed measured the relaxed bound v_1 *is* the proven minimum and p* is a
mixture of valid panels: 170-200 panels to a remaining mass of about 1e-10 in 1.6-2.6 s, after which
level 1's master reaches z = 1 at its next solve. Processor seconds to the proven minimum, before ->
after, per pool: ``results/leximin_minimum_b_hull_20261207.md`` (b:3 > 99 -> 2.6, b:31337 > 149 ->
2.7; demo, a, e, b:0, c:0, f:0 unchanged). The decomposition *before* the design master where the
design applies: b:0 6.0 -> 2.9, but c:0 7.4 -> 11.9 (the region's decomposition takes about 10 s) and
f:0 5.5 -> 12.1 (households: it does not complete), so the design goes first; where it tries and gives
up, both are paid (b:765307813: design 13.2 s, then 2 s). Two traps: ``FaceDecomposer.panel_in_face``
measures its MIP's time left by ``time.process_time``, so its deadline must be on that clock (on the
engine's clock the face MIP never ran: b:2512591244 stuck at z 0.9999996 for 59 s, 3.1 s after the
fix); and its small MIPs' limits are wall-clock, so a run starved of processor time (``nice -n 19``
behind busy browsers) can stop the decomposition early (b:1894374588 once > 58, then 3.8).

Tried on level 1 (processor seconds to the minimum, before -> after), none kept:
equal-chance design seeds and pricing for that range-quota group (``design_columns`` extended from
exact quotas): c:0 71 -> 19, but c:1 52 -> not proven in 150 (z stalls at 0.99999), f:0 11 -> 34,
b:0 25 -> 29, b:1 0.7 -> 3.0, a:0 0.4 -> 0.7, demo 4.4 -> 5.9; the same seeds without the per-round
design pricing: c:1 105. The stalls come with a design sample that no valid panel completes (c:1 41
of 43, f:0 41 of 42, b:0 27 of 28; c:0 42 of 42, c:2 55 of 55, b:1 17 of 17, b:2 20 of 20). Using the
range design only when every sample is completed: c:0 19, c:2 65 -> 37, f:0 14, b:1 2.8, e:0 0.8,
but a:0 0.4 -> 0.7 and demo 4.4 -> 6.7 (the design's completions, 1.7 s + 2.5 s, cost more than the
79 rounds they save), so not kept either; with one completion per sample and 2 completed afresh a
round: c:0 14, c:2 44, c:1 49 (design dropped), demo 5.6, a:0 0.7, still slower on the demo and a.
300 roundings of the relaxation's point as seeds: b:0 22 -> 57. Prices
smoothed towards the relaxation's (optimal) dual for the heuristics (Wentges, 0.5 / 0.8): 24 / 28.
The LP pricer at 8 price points at level 1: half the rounds, twice the iterations per round, 29.
Best-8 one-seat exchanges: 28; 6 slots and best 4: 29. Elastic master (z fixed at 1, a penalised
shortfall per row): 24, 177 rounds. HiGHS devex / Dantzig pricing: 23 / 40; dual simplex warm: > 150.
Master solves cut at 50 / 150 iterations with pricing on the unfinished basis: 119 / 46. Column cap
1.6 x types instead of 3: b:0 20 (c and f unchanged: the cap is not reached). The exchanges paused
after a round without any: c:1 46, c:0 70, f:0 10.1, b:0 28 (25 the same hour), demo/a/e unchanged.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
import types


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pool", help="shape:seed, e.g. c:0, or demo")
    ap.add_argument("--limit", type=float, default=150.0, help="the engine's time limit, in processor seconds")
    ap.add_argument("--every", type=int, default=20, help="print z every this many rounds")
    args = ap.parse_args(argv)
    for line in profile(args.pool, args.limit, args.every):
        print(line, flush=True)
    return 0


class _Done(TimeoutError):
    """Level 1 is closed: stop the computation there."""


def profile(pool: str, limit: float, every: int = 20) -> list[str]:
    """The lines described in the module's note."""
    import lib.sortition.design_master as dm
    import lib.sortition.hull_seed as hs
    import lib.sortition.leximin as lx

    if pool == "demo":
        from bench.sortition_bench import demo_instance

        inst = demo_instance()
    else:
        from bench.shapes import generate

        shape, seed = pool.split(":")
        inst = generate(shape, int(seed))
    clock = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("__")})
    clock.perf_counter = time.process_time
    spent: dict[str, float] = collections.defaultdict(float)
    calls: collections.Counter[str] = collections.Counter()
    trace: list[tuple[float, float, int, int, int]] = []  # seconds, z, columns, iterations, exchanges' columns
    swaps_found = [0]
    originals = []
    t0 = time.process_time()

    def timed(cls, name: str, key: str, after=None) -> None:
        f = getattr(cls, name)
        originals.append((cls, name, f))

        def g(*a, **k):
            t = time.process_time()
            try:
                r = f(*a, **k)
            finally:
                spent[key] += time.process_time() - t
                calls[key] += 1
            if after is not None:
                after(a[0], r)
            return r

        setattr(cls, name, g)

    def on_solve(m, r) -> None:
        if r is not None:
            trace.append((time.process_time() - t0, r[0], len(m.columns), m.h.getInfo().simplex_iteration_count, 0))

    def on_swaps(_, r) -> None:
        swaps_found[0] = len(r)

    def on_add(_, n) -> None:
        if trace:
            s, z, j, it, _x = trace[-1]
            trace[-1] = (s, z, j, it, swaps_found[0])
        swaps_found[0] = 0

    timed(lx._PrimalMaster, "solve", "master LP", on_solve)
    timed(lx._PrimalMaster, "add", "adding columns", on_add)
    timed(lx._Swaps, "batch", "one-seat exchanges", on_swaps)
    timed(lx._LPPricer, "solve", "LP pricer (incl. design completions)")
    timed(lx._Solver, "exact_price", "exact pricing MIP")
    timed(lx._Solver, "design_columns", "equal-chance design seeds")
    timed(lx._Solver, "covering_columns", "covering seeds")
    timed(lx._Solver, "relaxed_leximin", "relaxation")
    timed(lx._Solver, "new_columns", "heuristic pricing in all")
    timed(dm, "design_level1", "design master (level 1, design_master.py)")
    timed(hs, "hull_panels", "hull decomposition (level 1, hull_seed.py)")
    closed: dict[str, float] = {}
    orig_reach, orig_time = lx._Solver._reach_level, lx.time

    def reach(self, m, s, *a):
        r = orig_reach(self, m, s, *a)
        if s == 0 and r is not None:
            closed["at"] = time.process_time() - t0
            raise _Done
        return r

    lx.time = clock
    lx._Solver._reach_level = reach
    try:
        lx.leximin(inst, time_limit=limit)
    except lx.LeximinError:
        pass
    finally:
        lx.time, lx._Solver._reach_level = orig_time, orig_reach
        for cls, name, f in originals:
            setattr(cls, name, f)
    total = time.process_time() - t0
    proven = f"{closed['at']:.1f} processor seconds" if "at" in closed else f"not proven in {total:.1f} s"
    z_last = f"{trace[-1][1]:.7f}" if trace else "-"
    lines = [
        f"{pool}: minimum {proven}; {len(trace)} master solves, "
        f"{sum(t[3] for t in trace)} simplex iterations, last z {z_last}"
    ]
    for key in sorted(spent, key=lambda k: -spent[k]):
        lines.append(f"  {key:40s} {spent[key]:7.2f} s  ({calls[key]} calls)")
    prev = 0
    for i, (s, z, j, it, sw) in enumerate(trace):
        if i % max(1, every) == 0 or i >= len(trace) - 3:
            lines.append(
                f"  round {i:4d}  {s:7.2f} s  z {z:.7f}  {j:5d} columns (+{j - prev})  {it:5d} iterations  "
                f"exchanges found {sw}"
            )
        prev = j
    return lines


if __name__ == "__main__":
    sys.exit(main())
