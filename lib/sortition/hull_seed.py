"""Level 1 seeded by a direct decomposition of the relaxed leximin point (when no single group sets the minimum).

``design_master.py`` closes level 1 (the minimum) fast when one group at the top of its quota range
sets the bound. Where several quotas bind together (city pools like b:3: 526 of 569 types pinned at
the bound, no single group) column generation tails off just as badly, and the design does not
apply. But the relaxed leximin point p* (``_Solver.relaxed_leximin``, all its stages: 0.1-0.2 s on
the city shape) is, on those pools, a mixture of valid panels: ``caratheodory.FaceDecomposer`` splits
it into about 180 panels down to a remaining mass below 1e-10 in 1.6-2.6 processor seconds, without
a master LP. Every type of that mixture reaches its p*_t >= v_1 (the relaxed level-1 bound), up to
the remaining mass, so the mixture *is* a lottery whose smallest chance is the proven upper bound:
once its panels are columns of level 1's master, the master reaches z = 1 at its next solves. The
master's z = 1 stays the proof; nothing here needs to be exact.

``hull_hook`` (called in ``_Solver._reach_level`` after ``design_hook``, level 1 only) runs this once:

- on pools of ``design_master.DESIGN_FROM_TYPES`` types or more at level 1's first round, once the
  design master was tried and did not add columns (no group at the top of its range, or it gave
  up); on smaller pools only once the climb of z tails off (the design hook's own test), so the
  demo and the small shapes, whose level 1 closes quickly, pay nothing;
- the point decomposed is p* moved into Q by the least *weighted* shortfall (``target``): p* meets
  Q only within the relaxation's tolerances (its later stages may loosen their floors up to 1e-7),
  and a shortfall on a type pinned at v_1 would leave the master just below z = 1 (b:31337: 5 pinned
  types short by 1e-7 with equal weights); the pinned types' shortfall costs ``PINNED_WEIGHT``
  times more, so the others absorb it;
- the panels are kept (``solver.hull_panels``) and reused by ``_Solver.caratheodory_columns`` after
  the minimum (the same p*), so the later levels pay nothing twice;
- the decomposition itself (panels *and* weights, ``solver.hull_decomposition``) is offered to
  ``_Solver.direct_close`` first (``closing_decomposition``): when its lottery already gives every type
  at least what level 1's master reached and at most GAP_TOL less than its relaxed leximin value (the
  check direct_close makes of any decomposition, ``_Solver._closes``), the later levels close with it,
  and the second decomposition of p* (at level 1's floor, about 10 processor seconds on the region
  shape) is not made; else direct_close decomposes afresh as before.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from lib.sortition.caratheodory import FaceDecomposer

HULL = "auto"  # "auto": see hull_hook; "off": never
HULL_SHARE = 0.5  # the decomposition may use this share of the time left
HULL_SECONDS = 30.0  # and at most this long
HULL_FIRST = True  # on pools without shared households, decompose p* before the design master (hull_first)
HULL_FIRST_BELOW_TYPES = 2000  # ... on pools of fewer types (not measured above: the national shape)
PINNED_WEIGHT = 1e4  # the target's shortfall on a type pinned at the level-1 bound costs this much more
FIX_SLACK = 1e-10  # as in leximin.py: the point aimed at is p* less this


def target(fd: FaceDecomposer, goal: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
    """The point x of Q with ``x_t >= n_t goal_t`` where possible: the least weighted total shortfall
    ``sum_t weight_t max(0, n_t goal_t - x_t)`` (``FaceDecomposer.target`` with weights)."""
    return fd.target(goal, weight=weight)


def _clock(solver: Any, left: float | None):
    """The decomposition's clock: processor seconds (``FaceDecomposer.panel_in_face`` gives its MIP what
    is left of the deadline by ``time.process_time``, so the deadline must be on that clock), run ahead to
    the engine's own clock (``solver.remaining``) when that one moves faster (a busy machine), so that the
    decomposition's share of the engine's time left holds on both clocks."""
    if left is None:
        return time.process_time
    c0 = time.process_time()

    def clock() -> float:
        cpu = time.process_time() - c0
        engine = left - float(solver.remaining() or 0.0)
        return c0 + max(cpu, engine)

    return clock


def hull_panels(solver: Any, v1: float) -> list[np.ndarray]:
    """Panels of a direct decomposition of the relaxed leximin point (see the module's note); [] if the
    point cannot be moved into Q. Kept in ``solver.hull_panels``."""
    fixed_before = solver.relaxed_fixed.copy()
    p, _ = solver.relaxed_leximin()  # the whole relaxation (goes on from the stages done)
    solver.relaxed_fixed = fixed_before  # level 1 still reads the first stage's pinned types
    left = solver.remaining()
    seconds = HULL_SECONDS if left is None else min(HULL_SECONDS, HULL_SHARE * max(0.0, left))
    fd = FaceDecomposer(solver.ts)
    weight = np.where(p <= v1 + 1e-9, PINNED_WEIGHT, 1.0)
    x = target(fd, np.maximum(0.0, p - FIX_SLACK), weight)
    if x is None:
        return []
    d = fd.decompose(x, seconds=seconds, clock=_clock(solver, left))
    out = list(d.panels)
    solver.hull_panels = out
    solver.hull_decomposition = d
    solver.hull_stats = {"mass": d.mass, "panels": len(out), "stuck": d.stuck, "seconds": d.seconds}
    return out


def _seed_once(solver: Any, master: Any, state: dict) -> bool:
    """Decompose p* (``hull_panels``, at the level-1 bound) once, record its time and panel count in
    ``state`` and add the panels to level 1's master; True when the master took some."""
    state["tried"] = True
    v1 = solver.upper_bound
    if not math.isfinite(v1) or v1 <= 0:
        return False
    t = time.perf_counter()
    cols = hull_panels(solver, v1)
    state["seconds"] = time.perf_counter() - t
    state["columns"] = len(cols)
    return len(cols) > 0 and master.add(cols) > 0


def hull_hook(solver: Any, master: Any, z: float) -> bool:
    """Called after each solve of level 1's master that the design hook passed on (z: its value):
    decomposes p* once, when the design master was tried and added nothing (see the module's note);
    True when its panels were added to the master."""
    state = solver.__dict__.setdefault("_hull_state", {"tried": HULL == "off"})
    design = solver.__dict__.get("_design_state")
    if state["tried"] or design is None or not design.get("tried") or design.get("columns"):
        return False
    return _seed_once(solver, master, state)


def closing_decomposition(solver: Any, goal: np.ndarray, floor: np.ndarray) -> Any:
    """The hull's decomposition of p* (``solver.hull_decomposition``) when it closes the later levels as it
    is: every panel valid and its normalised weights passing ``solver._closes(panels, weights, goal,
    floor)`` (every type at least ``floor`` within FIX_SLACK, at most GAP_TOL below ``goal``); else None.
    Called by ``_Solver.direct_close`` before it decomposes p* at level 1's floor."""
    d = solver.__dict__.get("hull_decomposition")
    lottery = solver.as_lottery(d)
    return d if lottery is not None and solver._closes(*lottery, goal, floor) else None


def hull_first(solver: Any) -> bool:
    """Decompose p* *before* the design master (``early_hull_hook``): on pools where the design master would
    start at level 1's first round (``design_master.DESIGN_FROM_TYPES`` types or more, fewer than
    ``HULL_FIRST_BELOW_TYPES``) and with no household of two or more (there Q is not integral and the
    decomposition often stops short: households f:0 5.5 -> 12.1 s to the minimum when it went first)."""
    from lib.sortition.design_master import DESIGN_FROM_TYPES

    ts = solver.ts
    return (
        HULL_FIRST
        and HULL != "off"
        and DESIGN_FROM_TYPES <= ts.T < HULL_FIRST_BELOW_TYPES
        and not any(len(h) > 1 for h in ts.households)
    )


def early_hull_hook(solver: Any, master: Any, z: float) -> bool:
    """Called after each solve of level 1's master before ``design_hook``: on the pools of ``hull_first``, at
    level 1's first round, decomposes p* (``hull_panels``) and adds its panels to the master; True when it
    added some. The master's z = 1 stays the proof; when the panels do not reach it (the decomposition stopped
    short), the design master runs at the next round as before (``hull_hook`` does not run again)."""
    state = solver.__dict__.setdefault("_hull_state", {"tried": HULL == "off"})
    if state["tried"] or not hull_first(solver):
        return False
    state["first"] = True
    return _seed_once(solver, master, state)
