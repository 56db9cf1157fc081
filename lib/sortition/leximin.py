"""LEXIMIN: the maximally fair distribution over valid panels.

The algorithm of Flanigan, Gölz, Gupta, Hennig and Procaccia, "Fair algorithms for
selecting citizens' assemblies", Nature 596 (2021): maximise the minimum selection
probability; then, keeping everybody whose probability is pinned at that value fixed,
maximise the minimum over the others; repeat until every probability is fixed. Each
stage is a linear programme over distributions of panels, solved by column generation.

Here everything runs over *types* of interchangeable people (``typespace.py``): a panel
is a *composition* c (how many people of each type: ``0 <= c_t <= n_t``, ``sum c_t =
k``, quotas met, at most one per multi-person household) and a person of type t is
selected with probability ``E[c_t] / n_t``. The leximin probability vector is unique
and symmetric, so working with types loses nothing.

How it is computed (all LPs and MIPs by HiGHS):

1. **Relaxed leximin (upper bounds).** Let Q be the polytope of *fractional*
   compositions (same constraints, c real). Every distribution over panels has its
   expected composition in Q, so the leximin over Q dominates the true one stage by
   stage. It is a short sequence of small LPs over T + 1 variables (no column
   generation): maximise z subject to ``x in Q``, ``x_t >= n_t z`` for open types and
   ``x_t >= n_t p_t`` for fixed ones; fix every open type whose dual weight is
   positive (complementary slackness: pinned in every optimum); repeat. Stage 1's
   optimum is a proven upper bound on the minimum probability of *any* distribution.

2. **Decomposition (column generation), level by level.** Find weights on integer
   compositions whose mean is that relaxed leximin vector p*. The relaxed stages' values
   v_1 < v_2 < ... are taken as levels: at level s every type must reach
   ``min(p*_t, v_s)``. Restricted master over the compositions found so far, with the
   previous level as a hard floor and z the share of the step to the new level::

       maximise  z   (0 <= z <= 1)
       s.t.      sum_j lambda_j = 1                                            (dual mu)
                 sum_j c_jt lambda_j - z step_t >= floor_t          for all t   (dual w_t >= 0)

   The master is solved by the primal simplex (a new panel is a new column: the basis stays primal
   feasible, and HiGHS re-solves warm). On pools of ``DUAL_FROM_TYPES`` types or more, the levels after
   the first solve it in its *dual* form instead (``_DualMaster``: a row per panel, the dual simplex, level
   1's basis carried over by ``_DualMaster.from_primal``). There every improving round costs a long
   re-optimisation (about 1,000 primal pivots at about 1 ms on 751 types, even for one new panel,
   ``bench/master_lp_probe.py``); the dual form needs about half the pivots. Measured (processor time,
   second level, the z reached by the old engine at its time limit): households shape seed 0 at 80 s
   instead of 115 s, city shape seed 0 at 122 s instead of 140 s; on small pools (a, e: 188 and 320
   types) it took as many processor seconds as the primal form for 35% fewer pivots, and level 1 in the
   dual form was slower (households seed 0: minimum at 13.2 s instead of 10-11 s).
   Level 1 is the maximin problem (everybody at least the proven bound v_1) and has much
   more room than the full decomposition, so the minimum probability is proven optimal
   early (``Distribution.maximin_seconds``). It needs only the relaxation's first stage
   (v_1 and the types it pins), so it starts right after that stage; the later relaxed
   stages, which set the later levels' targets, are computed once level 1 is finished
   (on a 1,785-person region-shaped pool, 27 stages: level 1 started 2.7 s earlier). It starts from a greedy cover (a few panels
   that together include every type, so that z > 0 from the first round) and, when the
   minimum is set by one group with a fixed number of seats (all its members pinned at
   the bound), from panels built on an equal-chance design over that group
   (``_Solver.design_columns``): exactly fair inside the group by construction, which
   column generation alone reaches only slowly; in every round, the few samples of the
   design worth most at the current prices are completed afresh (``design_pricing``),
   which is what closes the last fraction of a percent. When the minimum is set by one group
   at the *top of its quota range* instead (the city, region, households and national shapes:
   e.g. at most 34 seats for 870 "very concerned", all pinned at 34/870, so that every optimal
   panel has exactly 34 of them), level 1 is first tried on a *design master*
   (``design_master.py``, hooked in ``_reach_level``): an equal-chance design over the group,
   its samples' G-parts kept at their design weights by one row each (so the group is exactly
   fair by construction and its rows are left out), the types outside the group as rows, and
   one small LP per sample as pricing; a sample that no valid panel completes (two members of
   one household, a value over its quota) is repaired by exchanging one person with another
   sample, which keeps everybody's share. Its panels, once it reaches z = 1, close level 1 in
   the engine's master at its next solve; if it cannot (a sample neither completed nor
   repaired, a pricing round with nothing, half the time left used), it gives up and the
   master goes on as before. It starts at level 1's first round on pools of
   ``DESIGN_FROM_TYPES`` (500) types or more, on smaller ones only once the climb of z tails
   off (``worth_designing``). Processor seconds to the proven minimum, before -> after: region
   c:0 77.5 -> 9.0, c:1 56.7 -> 4.5, c:2 > 82 -> 14.7, city b:0 24 -> 7.5, households f:0 12.7 ->
   6.1, national d:0 -> 32.4; demo, a and e unchanged (``bench/minimum_profile.py``). Where no single
   group sets the minimum (several quotas bind together: city b:3, 526 of 569 types pinned) or the
   design master gives up, level 1 is seeded instead by a *direct decomposition of the relaxed leximin
   point* (``hull_seed.py``, hooked after the design's hook): the whole relaxation (0.1-0.2 s on the
   city shape), p* moved into Q with the pinned types' shortfall weighted, then ``caratheodory.py``'s
   Carathéodory steps, about 180 panels to a mass below 1e-10 in about 2 s. That mixture gives every
   type its p*_t >= v_1, so the master reaches z = 1 at its next solve (its proof is unchanged); the
   panels are reused after the minimum by ``caratheodory_columns``. Processor seconds to the proven
   minimum (``bench/results/leximin_minimum_b_hull_20261207.md``): b:3 > 99 -> 2.6, b:31337 > 149 -> 2.7,
   fresh city seeds where it runs 3.7-4.9 (before 6.4 to > 18.8; on seeds where the design master closes
   level 1 nothing changes); after the design gives up, design + hull (b:765307813 15.0, b:1330174358
   7.1); demo, a, e, b:0, c:0, f:0 unchanged. On pools of 500 to 2,000 types *without shared households*
   (city, region) the decomposition goes *first*, at level 1's first round (``hull_seed.early_hull_hook``;
   the design master runs only if its panels do not close level 1), and after the minimum that same
   decomposition, panels and weights, closes the later levels when it passes direct_close's check
   (``hull_seed.closing_decomposition``), so p* is decomposed once instead of twice. On the region shape
   the design master took 16-30 processor s on slow seeds (often to give up), the decomposition about 7 s
   (after the faster exchange repair in ``sampling.py``). Processor s to the proven minimum / to complete
   LEXIMIN (60 s limit on the processor clock), before -> after: c:2729554363 36.7/47.1 -> 7.2/7.5,
   c:223204864 27.6/36.5 -> 7.0/7.1, c:743482661 20.7/31.3 -> 7.4/7.6, fresh c:1957405947 12.5/22.2 ->
   6.8/7.1, b:0 7.6/10.4 -> 2.1/2.2; where the decomposition stops short the design master still runs
   (c:2084775706 19.4, c:3582178256 26.9 -> 19.5); all in ``bench/results/
   leximin_region_hull_first_20261207.md``. Households pools keep the design first. New columns
   come from cheap heuristics first: one-seat swaps from the columns in the basis
   (vectorised over the whole basis) and the LP relaxation of the pricing problem rounded
   (dependent rounding with exchange repair, ``sampling.py``, in milliseconds; a tiny MIP over its
   fractional coordinates when that fails), the latter also at *smoothed* prices (a
   running average of the duals, Wentges' smoothing, against the zig-zag of column
   generation); ties between equal prices (most types have price 0) go to the types
   furthest below the level's target, and seats are taken from the ones furthest above
   it. Once the minimum is proven, the LP pricer also runs at ``PRICE_POINTS`` prices evenly
   spaced between the smoothed and the true ones (in-out separation along the segment): each is one small LP, where a
   master solve costs 10-100 times more, so every master solve sees dozens of columns
   instead of a few (demo, levels grouped into 2-5: 841-981 master solves without, 231-260 with).
   The exact pricing MIP ``max_c w.c`` runs only when those find nothing.
   The master keeps at most ``COLUMN_CAP`` columns per type (non-basic columns with the
   worst reduced costs are dropped), so each LP stays quick.
   The levels after the first are grouped into at most ``LEVEL_GROUPS`` (each ending at one of
   the relaxed values, the last at the last): every new level restarts column generation on
   new targets: on the demo, all 22 levels took 55 s of processor time, 5 (the minimum and
   4 groups) 37-40 s, where the engine without both changes had not finished after 120 s.
   If z reaches 1 at the last
   level, the distribution attains the upper bounds of step 1 in every stage, so it *is*
   the leximin distribution, with the certificate ``gap = bound - min probability``.
   When the time limit stops it earlier, every finished level holds, and the gap
   says how far the minimum may be from optimal.

   **Stopping rule.** Level 1 (the minimum) closes only when its target is reached exactly
   (z >= 1 - 1e-9). A later level also closes when its *proven* gap is below ``GAP_TOL``
   (1e-6, in probability units): every type's target is a proven upper bound and the master
   reaches ``floor + z step``, so no type is more than ``(1 - z) max_t step_t`` below its
   target. The next level starts from what was reached (the shortfall is part of its step,
   so gaps do not add up). Each closed level's gap is in ``Distribution.level_gaps``.
   If a level's target proves unreachable by panels (exact pricing bound on z below 1),
   the staged algorithm (step 3) goes on *from that level*: same master and columns, the
   types whose targets the finished levels reached fixed there (``Distribution.staged_from``).

3. **Fallback: the paper's staged column generation.** When p* is not a mixture of
   valid panels (the relaxation is not tight, typical only of tiny or very tight
   instances), each stage is solved exactly: restricted master ``max z`` with fixed
   probabilities, pricing MIP ``max_c sum_t w_t c_t``; the stage is optimal when the
   pricing value V is at most mu (+1e-9), or as soon as z reaches the relaxed stage's
   bound. Types are fixed by the master's dual weights (after a pricing proof) or by
   the relaxed stage's (after a bound proof). For any distribution meeting the fixed
   probabilities, ``min_{open} pi_t <= V - sum_{fixed} n_t p_t w_t`` when
   ``sum_{open} n_t w_t = 1``; stage 1 of this bound is also part of the certificate.
   Stage 1 closes only on an exact proof; a later stage also closes when its proven gap
   ``V - mu`` (the pricing bound on the stage's value minus the value reached) is below
   ``GAP_TOL``. When it takes over from the decomposition at level s > 1, the finished
   levels' types keep their values: each level reached its relaxed stages' upper bounds, and
   the relaxation pins those types in every optimum, so they are pinned in the leximin too.

**The direct decomposition** (``caratheodory.py``, ``CARATHEODORY_SHARE``): once the minimum is proven
(on pools where level 1 goes first; else before level 1, as seeds) and the whole p* is known, p* is split
into valid panels by Carathéodory steps, from the point of Q nearest to p* that keeps every type at what
level 1's master reached (``FaceDecomposer.target`` with ``floor``). **It closes the later levels at once**
(``direct_close``, no master solve) when its panels, each checked against the panel rule, with its
weights give every type at least that floor (within FIX_SLACK: the minimum stays proven) and at most
GAP_TOL less than its relaxed leximin value (the later levels' stopping rule, type by type); each later
level's gap is its types' largest shortfall. When it stops with a sliver of p* left (1e-7 on local-shaped
pools, where Q is not integral), its panels and level 1's lottery's are re-weighed by one small LP (keep
every floor, minimise the largest shortfall; no pricing, ``_reweigh``) and checked the same way. Measured
(processor s to complete LEXIMIN, 60 s limit; "inc." = incomplete at the limit), engine without -> with:
demo 45.5 -> 7.7, e:0 7.2 -> 5.9, e:1 14.6 -> 2.8, e:2 12.9 -> 5.4, a:0 2.7 -> 1.0, city b:0 inc. ->
10.5, region c:0 inc. -> 17.5, households f:0 inc. -> 8.8, f:1 inc. -> 6.1, national d:0 (120 s
limit) inc. -> 62.1; fresh seeds f:4406 9.2, b:5813 3.6, c:7291 25.9 (the minimum unchanged);
a:1 2.4, 2.2 -> 2.2, 2.1 and a:2 2.9, 2.6 -> 3.1, 2.9 (runs in turns: there the decomposition is about
as slow as the master). When it cannot close them, its panels join the master as columns, but only on
pools of fewer than ``LATE_SEED_BELOW_TYPES`` (500) types: on the households and region shapes, level
2's first master solve with them ran far past the time limit. Every HiGHS solve inside the decomposition
gets the time left as its limit, and each step checks the engine's deadline and stop request.
``KLEROTERION_CARATHEODORY_SHARE=0`` in the environment (the worker process reads it) switches it off. For the
master with those panels: each level's floor is what its master's weights reached (less FIX_SLACK,
never above the target; floors at the exact targets made level 2's master infeasible), a later level's
gap is also bounded by the largest shortfall of a type below its target in the weights themselves,
steps below ``STEP_TOL`` are none, a master solve that ends "Unknown" is retried afresh once, and a later
level whose master still ends "Unknown" is closed when the LP's weights, checked type by type, are within
GAP_TOL of every target (``_close_unsure``). Measured: see docs/adr/0001.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import highspy
import numpy as np

from lib.sortition.feasibility import FeasibilityReport, InfeasibleQuotas, check_types  # noqa: F401  (re-exported)
from lib.sortition.metrics import gini  # noqa: F401  (re-exported)
from lib.sortition.audit.model import Instance, InputError
from lib.sortition.caratheodory import Decomposition, FaceDecomposer
from lib.sortition.design_master import design_hook, people_in_order
from lib.sortition.hull_seed import closing_decomposition, early_hull_hook, hull_hook
from lib.sortition.sampling import PanelSampler
from lib.sortition.systematic import equal_chance_samples
from lib.sortition.typespace import (
    INF,
    CompositionModel,
    TypeSpace,
    _csr,
    add_columns,
    add_convexity_row,
    build_types,
    composition_rows,
    limit_next_solve,
    new_highs,
)

__all__ = ["Control", "Distribution", "leximin", "InfeasibleQuotas", "LeximinError", "gini", "FeasibilityReport"]

PRICING_TOL = 1e-9  # a composition improves the master when its reduced cost exceeds this
FIX_TOL = 1e-7  # a type is pinned when its share n_t w_t of the dual weight exceeds this
FIX_SLACK = 1e-10  # fixed probabilities are enforced as >= p - FIX_SLACK (numerical safety)
PRIMAL_SIMPLEX = 4  # level 1's master (_PrimalMaster): adding columns keeps the basis primal feasible
DUAL_SIMPLEX = 1  # the later levels' master (_DualMaster): a new panel, a row there, keeps the basis dual feasible
DUAL_FROM_TYPES = 500  # pools with at least this many types solve the levels after the first in the dual form
MASTER_STALL_SECONDS = 20.0  # a master solve taking longer is started afresh with the other simplex
DECOMP_TOL = 1e-9  # decomposition accepted when every type is within this of its target
COLUMN_BUDGET = 200  # heuristic columns added per round at most (or T / BUDGET_PER_TYPES if more)
BUDGET_PER_TYPES = 4
QUICK_MIP_GAP = 1e-3  # the rounding MIP of the heuristic pricer need not be optimal
QUICK_MIP_SECONDS = 0.5
SMOOTHING = 0.85  # weight of the previous smoothed prices in the heuristics' prices
TIE_BREAK = 1e-3  # heuristics' prices: w + TIE_BREAK * max(w) * (relative shortfall from the level's target)
LOOSEN_SECONDS = 0.1  # time for the loosened rounding's MIP
LOOSEN_EXTRA = 40  # absent types the loosened rounding may add (the best-priced)
DESIGN_COMPLETIONS = 4  # completions per sample of the equal-chance design (if time allows)
DESIGN_MIP_SECONDS = 1.0  # time for the quick MIP when a completion's LP cannot be rounded
DESIGN_SHARE = 0.3  # the equal-chance design may use this share of the time left
DESIGN_PRICED = 4  # samples of the design completed afresh at the current prices in each round
PRICE_POINTS = 8  # prices between the smoothed and the true ones at which the LP pricer also looks (new_columns)
LP_ROUNDINGS = 2  # roundings of the LP pricer's point tried by exchange repair before its small MIP
STEP_TOL = 1e-8  # a type within this of its level's target (probability) is held at its floor there
GAP_TOL = 1e-6  # a level/stage after the first closes when its proven gap (probability units) is below this
LEVEL_GROUPS = 4  # the decomposition's levels after the first are grouped into at most this many (group_levels)
# the direct decomposition (caratheodory.py) may use this share of the time left; KLEROTERION_CARATHEODORY_SHARE=0
# (read by the worker process too) switches it off: the later levels then go on in the master alone
CARATHEODORY_SHARE = float(os.environ.get("KLEROTERION_CARATHEODORY_SHARE", "0.5"))
CARATHEODORY_SECONDS = 60.0  # and at most this long
# when direct_close cannot close the later levels, the decomposition's panels join the master only on pools
# with fewer types (on the households and region shapes, level 2's first master solve with them ran on)
LATE_SEED_BELOW_TYPES = 500
COLUMN_CAP = 3  # the master keeps at most COLUMN_CAP * (number of types) columns (at least 1000)


class LeximinError(InputError):
    """The optimiser could not finish (for example a time limit before any distribution)."""


@dataclass
class Distribution:
    types: list[tuple[str, ...]]  # ids of interchangeable people per type
    compositions: list[tuple[int, ...]]  # each: how many of each type (same order as types)
    weights: list[float]  # probability of each composition, sum 1, all > 0
    probabilities: dict[str, float]  # each person's exact selection probability
    min_probability: float
    gap: float  # certificate: proven upper bound on min prob minus achieved
    seconds: float
    algorithm: str = "leximin"
    upper_bound: float = math.nan  # proven upper bound on the maximal minimum probability
    pricing_violation: float = 0.0  # largest pricing improvement left when a stage was accepted
    complete: bool = True  # False when a time limit cut the computation short
    stages: int = 0  # leximin stages (distinct fixing rounds)
    pricing_calls: int = 0  # exact pricing MIPs solved
    columns: int = 0  # compositions generated in total
    method: str = ""  # "relaxation+decomposition" or "staged column generation"
    type_probabilities: list[float] = field(default_factory=list)
    panel_size: int = 0
    maximin_seconds: float = math.nan  # when the minimum probability was proven optimal (nan: not reached)
    # the proven gap with which each closed level (decomposition) or stage (staged algorithm) was
    # closed, in probability units: 0 or below GAP_TOL after the first (which is exact)
    level_gaps: list[float] = field(default_factory=list)
    staged_from: int = 0  # the level from which the staged algorithm went on (0: not used, or from the start)

    def type_of(self) -> dict[str, int]:
        return {pid: t for t, ids in enumerate(self.types) for pid in ids}


def distribution_from(
    ts: TypeSpace,
    comps: np.ndarray,
    weights: np.ndarray,
    *,
    seconds: float,
    upper_bound: float,
    algorithm: str = "leximin",
    **extra,
) -> Distribution:
    """Build a ``Distribution`` from compositions (rows) and weights; drops zero weights."""
    weights = np.asarray(weights, dtype=np.float64)
    weights = np.where(weights > 1e-13, weights, 0.0)
    keep = np.flatnonzero(weights)
    if len(keep) == 0:
        raise LeximinError("The optimiser returned an empty distribution.")
    comps = np.asarray(comps, dtype=np.int64)[keep]
    w = weights[keep] / math.fsum(weights[keep])
    merged: dict[tuple[int, ...], float] = {}
    rows: dict[tuple[int, ...], np.ndarray] = {}
    for c, x in zip(comps, w):
        key = tuple(c.tolist())
        merged[key] = merged.get(key, 0.0) + float(x)
        rows[key] = c
    compositions = sorted(merged)  # deterministic order
    wl = np.array([merged[c] for c in compositions])
    wl = wl / math.fsum(wl)
    C = np.array([rows[c] for c in compositions], dtype=np.float64).reshape(len(compositions), ts.T)
    expected = wl @ C
    type_prob = (expected / ts.sizes).tolist()
    probs = {pid: type_prob[t] for t, ids in enumerate(ts.members) for pid in ids}
    mn = min(type_prob)
    gap = upper_bound - mn if math.isfinite(upper_bound) else math.inf
    return Distribution(
        types=list(ts.members),
        compositions=compositions,
        weights=wl.tolist(),
        probabilities=probs,
        min_probability=mn,
        gap=max(0.0, gap),
        seconds=seconds,
        algorithm=algorithm,
        upper_bound=upper_bound,
        type_probabilities=type_prob,
        panel_size=ts.k,
        **extra,
    )


# --- step 1: the relaxed leximin ------------------------------------------------------


class _Stalled(Exception):
    """A single solve took longer than its cap, well before the computation's deadline."""


def _run(h, seconds_left: float | None, cap: float | None = None) -> None:
    """``h.run()`` within the computation's time left: should a solve run on (HiGHS has no
    limit of its own), it stops at the deadline and raises ``TimeoutError``, so that the
    caller returns the best lottery found so far instead of hanging. With ``cap``, a solve
    stopped by the cap before the deadline raises ``_Stalled``."""
    limits = [x for x in (seconds_left, cap) if x is not None]
    # always set: a limit left over from an earlier solve (e.g. a cap) must not apply here
    limit_next_solve(h, max(float(min(limits)), 0.0) if limits else None)  # 0: stops at once
    h.run()
    if limits and h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit:
        if cap is not None and (seconds_left is None or cap < seconds_left):
            raise _Stalled
        raise TimeoutError


class _Relaxed:
    """Leximin stages over fractional compositions: an LP over (x_1..x_T, z)."""

    def __init__(self, ts: TypeSpace, remaining: Callable[[], float | None] = lambda: None):
        self.ts = ts
        self.remaining = remaining
        T = ts.T
        n = ts.sizes.astype(np.float64)
        h = new_highs()
        h.setOptionValue("primal_feasibility_tolerance", 1e-10)
        h.setOptionValue("dual_feasibility_tolerance", 1e-10)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.addVars(T + 1, np.zeros(T + 1), np.concatenate([n, [1.0]]))
        h.changeColsCost(1, np.array([T], dtype=np.int32), np.array([1.0]))
        rows = composition_rows(ts)
        self.R = len(rows)
        starts, idx, val = _csr([(r[2], r[3]) for r in rows])
        h.addRows(self.R, np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), len(idx), starts, idx, val)
        st = np.arange(T, dtype=np.int32) * 2
        idx2 = np.empty(2 * T, dtype=np.int32)
        idx2[0::2] = np.arange(T)
        idx2[1::2] = T
        val2 = np.empty(2 * T)
        val2[0::2] = 1.0
        val2[1::2] = -n
        h.addRows(T, np.zeros(T), np.full(T, INF), 2 * T, st, idx2, val2)
        self.h = h
        self.n = n
        self.fixed_p: dict[int, float] = {}
        self.slack = FIX_SLACK

    def fix(self, t: int, p: float) -> None:
        self.h.changeCoeff(self.R + t, self.ts.T, 0.0)
        self.fixed_p[t] = p
        self.h.changeRowBounds(self.R + t, self.n[t] * max(0.0, p - self.slack), INF)

    def _loosen(self, slack: float) -> None:
        """Fixed types' floors at ``p - slack``: after many stages, floors exactly at the values found
        (less 1e-10) can leave the LP numerically infeasible (seen on city- and region-shaped pools)."""
        self.slack = slack
        for t, p in self.fixed_p.items():
            self.h.changeRowBounds(self.R + t, self.n[t] * max(0.0, p - slack), INF)

    def solve(self, fixed: np.ndarray) -> tuple[float, np.ndarray]:
        """Optimal z and the normalised dual shares y_t (sum over open types = 1).

        A stage that comes back numerically infeasible is solved again from scratch, then with the fixed
        floors loosened by 1e-9, 1e-8 and 1e-7 in turn. The values found stay upper bounds up to that
        tolerance; the decomposition aims at them less FIX_SLACK and accepts within DECOMP_TOL, and the
        staged fallback needs no targets."""
        h = self.h
        _run(h, self.remaining())
        retries = iter((None, 1e-9, 1e-8, 1e-7))
        while h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            status = h.modelStatusToString(h.getModelStatus())
            slack = next(retries, "give up")
            if isinstance(slack, str):  # "give up": the retries are used up
                raise LeximinError(f"The relaxed stage LP failed ({status}).")
            if slack is not None:
                self._loosen(max(self.slack, slack))
            h.clearSolver()
            _run(h, self.remaining())
        sol = h.getSolution()
        z = float(sol.col_value[self.ts.T])
        y = np.abs(np.asarray(sol.row_dual)[self.R :]) * self.n
        y[fixed] = 0.0
        if z >= 1.0 - 1e-9 or y.sum() <= 0:  # every open type can be selected for sure
            y = (~fixed).astype(np.float64)
        return z, y / y.sum()


# --- heuristic pricing ----------------------------------------------------------------


class _LPPricer:
    """max w.c over valid compositions, approximately: LP relaxation, then its point rounded:
    first by dependent rounding with exchange repair (``sampling.PanelSampler``, when ``sampler``
    is set and the bounds are the whole pool's), else by a MIP over the few fractional coordinates
    (all others fixed to their LP values)."""

    def __init__(self, ts: TypeSpace, exact: CompositionModel):
        self.ts = ts
        T = ts.T
        h = new_highs()
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.addVars(T, np.zeros(T), ts.sizes.astype(np.float64))
        rows = composition_rows(ts)
        starts, idx, val = _csr([(r[2], r[3]) for r in rows])
        h.addRows(len(rows), np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), len(idx), starts, idx, val)
        self.h = h
        self.exact = exact
        self.all = np.arange(T, dtype=np.int32)
        self.ub = ts.sizes.astype(np.float64)
        self.remaining: Callable[[], float | None] = lambda: None  # the computation's time left
        self.bounds = (np.zeros(T), self.ub)  # the LP's column bounds (change them with set_bounds)
        self.full_box = True  # the bounds are the whole pool's (the sampler knows no others)
        self.sampler: PanelSampler | None = None  # rounds the LP's point before the small MIP does (if set)
        self.rng = np.random.default_rng(20261207)  # a constant: same pool, same panels
        self.extra: list[np.ndarray] = []  # the last solve's other valid roundings, best first
        quota_rows = [r for r in rows if r[0] != -INF]  # panel size and quotas (not households)
        self.rows = np.zeros((len(quota_rows), T))
        for i, r in enumerate(quota_rows):
            self.rows[i, r[2]] = r[3]
        self.rlo = np.array([r[0] for r in quota_rows])
        self.rhi = np.array([r[1] for r in quota_rows])
        self.household_of = np.full(T, -1, dtype=np.int64)
        for i, hh in enumerate(ts.households):
            self.household_of[list(hh)] = i

    def _round_small(self, lo: np.ndarray, hi: np.ndarray, w: np.ndarray, *, seconds: float = 1.0) -> np.ndarray | None:
        """Round the LP's point by a MIP over its few fractional coordinates only (each
        goes to its floor or its ceiling), built afresh: much quicker than re-solving the
        whole model with the other coordinates fixed."""
        fr = np.flatnonzero(lo < hi)
        if len(fr) > 200:
            return None
        base = self.rows @ lo
        sub = self.rows[:, fr]
        touched = np.flatnonzero(np.abs(sub).sum(axis=1) > 0)
        untouched_ok = (base >= self.rlo - 1e-9) & (base <= self.rhi + 1e-9)
        untouched_ok[touched] = True
        if not untouched_ok.all():
            return None
        rlo = self.rlo[touched] - base[touched]
        rhi = self.rhi[touched] - base[touched]
        rows = [(rlo[i], rhi[i], np.flatnonzero(sub[r]), sub[r][np.flatnonzero(sub[r])]) for i, r in enumerate(touched)]
        for hh in {self.household_of[t] for t in fr if self.household_of[t] >= 0}:
            members = self.ts.households[hh]
            used = float(lo[members].sum())
            cols = np.flatnonzero(np.isin(fr, members))
            rows.append((-INF, 1.0 - used, cols, np.ones(len(cols))))
        h = new_highs(mip_gap=1e-6)
        h.setOptionValue("time_limit", seconds)
        nf = len(fr)
        h.addVars(nf, np.zeros(nf), (hi - lo)[fr])
        h.changeColsIntegrality(nf, np.arange(nf, dtype=np.int32), np.ones(nf, dtype=np.uint8))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.changeColsCost(nf, np.arange(nf, dtype=np.int32), w[fr].astype(np.float64))
        if rows:
            starts, idx, val = _csr([(list(map(int, r[2])), list(map(float, r[3]))) for r in rows])
            h.addRows(
                len(rows),
                np.array([r[0] for r in rows], dtype=np.float64),
                np.array([r[1] for r in rows], dtype=np.float64),
                len(idx),
                starts,
                idx,
                val,
            )
        h.run()
        if h.getInfo().primal_solution_status != 2:
            return None
        c = lo.astype(np.int64)
        c[fr] += np.rint(np.asarray(h.getSolution().col_value)).astype(np.int64)
        return c if self.ts.is_valid_composition(c) else None

    def solve(self, w: np.ndarray, *, loosen: bool = False, widen: bool = True) -> np.ndarray | None:
        """A valid composition good for ``w``, or None. When rounding the LP's point fails:
        with ``loosen``, a wider rounding box; with ``widen``, the quick MIP of the whole
        model within one of the LP's point (it costs more than it brings inside column
        generation)."""
        h = self.h
        T = self.ts.T
        self.extra = []
        h.changeColsCost(T, self.all, w)
        _run(h, self.remaining())
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        x = np.asarray(h.getSolution().col_value)
        lo = np.floor(x + 1e-9)
        hi = np.ceil(x - 1e-9)
        c: np.ndarray | None
        if (lo == hi).all():
            c = lo.astype(np.int64)
            return c if self.ts.is_valid_composition(c) else None
        c = None
        if self.sampler is not None and self.full_box and LP_ROUNDINGS > 0:
            # dependent rounding with exchange repair (``sampling.py``): milliseconds, where the small
            # MIP took 50-400 ms; its other distinct rounding is a column too (``extra``)
            got = self.sampler.roundings(x, LP_ROUNDINGS, self.rng, w)
            if got:
                c, self.extra = got[0], got[1:]
        if c is None:
            c = self._round_small(lo, hi, w)
        if c is None and loosen:
            # a wider box for the small MIP: every type on the LP's panel may also lose a seat,
            # and the best-priced absent types may gain one (within the model's bounds)
            blo, bhi = self.bounds
            lo2 = np.maximum(np.where(x > 1e-9, lo - 1, lo), blo)
            hi2 = hi.copy()
            absent = np.flatnonzero((x <= 1e-9) & (bhi >= 1))
            best = absent[np.argsort(-w[absent], kind="stable")[:LOOSEN_EXTRA]]
            hi2[best] = 1.0
            c = self._round_small(lo2, hi2, w, seconds=LOOSEN_SECONDS)
        if c is not None or not widen:
            return c
        for by in (0, 1):
            left = self.remaining()
            seconds = QUICK_MIP_SECONDS if left is None else min(QUICK_MIP_SECONDS, max(0.01, left))
            c = self.mip_near(lo, hi, w, by, seconds)
            if c is not None:
                return c
        return None

    def set_bounds(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Column bounds of the LP (and of the MIP fallback): e.g. a group's seats fixed."""
        self.h.changeColsBounds(self.ts.T, self.all, lo, hi)
        self.bounds = (lo, hi)
        self.full_box = bool((lo <= 0).all() and (hi >= self.ub).all())

    def reset_bounds(self) -> None:
        """Back to the whole pool: ``0 <= c_t <= n_t``."""
        self.set_bounds(np.zeros(self.ts.T), self.ub)

    def mip_near(self, lo: np.ndarray, hi: np.ndarray, w: np.ndarray, widen: int, seconds: float) -> np.ndarray | None:
        """The quick MIP ``max w.c`` over valid compositions within ``widen`` of the box
        [lo, hi] (and within the LP's bounds), stopped after ``seconds``; None if none found."""
        m = self.exact
        T = self.ts.T
        blo, bhi = self.bounds
        try:
            m.h.changeColsBounds(T, self.all, np.maximum(lo - widen, blo), np.minimum(hi + widen, bhi))
            m.set_time_limit(seconds)
            try:
                res = m.solve(w, count=False)
            except (TimeoutError, RuntimeError):
                res = None
        finally:
            m.h.changeColsBounds(T, self.all, np.zeros(T), self.ub)
            m.set_time_limit(None)
        return None if res is None else res[0]


class _Swaps:
    """New columns by moving one seat from type a to type b in a column of the basis."""

    def __init__(self, ts: TypeSpace):
        self.ts = ts
        self.K = K = ts.quota_index_matrix()
        self.has = K >= 0
        self.Kc = np.where(K >= 0, K, 0)
        self.in_household = np.zeros(ts.T, dtype=bool)
        for hh in ts.households:
            self.in_household[hh] = True
        self.qmin = ts.qmin
        self.qmax = ts.qmax

    def batch(
        self,
        C: np.ndarray,
        prices: np.ndarray,
        w: np.ndarray,
        mu: float,
        slots: int,
        *,
        shortlist: int = 512,
        chunk: int = 512,
    ) -> list[tuple[float, np.ndarray]]:
        """``columns`` for many columns at once (the rows of C), vectorised with numpy.

        For each column, the ``slots`` members' types with the lowest ``prices`` give up a
        seat to the highest-priced type (among the ``shortlist`` highest-priced types
        overall) that keeps every quota met; kept when the result's reduced cost at the
        true prices ``w`` is positive."""
        ts = self.ts
        if len(C) == 0:
            return []
        T, F = ts.T, self.K.shape[1]
        L = min(T, shortlist)
        cand_types = np.argsort(-prices, kind="stable")[:L]
        Kc_b = self.Kc[cand_types]  # (L, F)
        has_b = self.has[cand_types]
        K_b = self.K[cand_types]
        p_b = prices[cand_types]
        hh_b = self.in_household[cand_types]
        out: list[tuple[float, np.ndarray]] = []
        for lo in range(0, len(C), chunk):
            Cb = C[lo : lo + chunk]
            J = len(Cb)
            rows = np.arange(J)
            Q = Cb @ ts.A.T  # (J, R) seats per quota value
            dec_ok = Q > self.qmin
            inc_ok = Q < self.qmax
            can_add = (Cb[:, cand_types] < ts.sizes[cand_types]) & ~hh_b[None, :]
            P = np.where(Cb > 0, prices[None, :], INF)
            order = np.argsort(P, axis=1, kind="stable")[:, :slots]
            base = Cb @ w - mu
            for s in range(min(slots, T)):
                a = order[:, s]
                valid = Cb[rows, a] > 0
                Ka, Kca, hasa = self.K[a], self.Kc[a], self.has[a]
                ok = can_add & (cand_types[None, :] != a[:, None])
                for f in range(F):
                    dec = ~hasa[:, f] | dec_ok[rows, Kca[:, f]]  # (J,)
                    inc = ~has_b[None, :, f] | inc_ok[:, Kc_b[:, f]]  # (J, L)
                    ok &= (K_b[None, :, f] == Ka[:, f][:, None]) | (dec[:, None] & inc)
                cand = np.where(ok, p_b[None, :], -INF)
                bi = np.argmax(cand, axis=1)
                good = valid & np.isfinite(cand[rows, bi])
                b = cand_types[bi]
                gain = base + w[b] - w[a]
                for j in np.flatnonzero(good & (gain > PRICING_TOL)):
                    c2 = Cb[j].copy()
                    c2[a[j]] -= 1
                    c2[b[j]] += 1
                    out.append((float(gain[j]), c2))
        return out


# --- the restricted master ------------------------------------------------------------


def _panel_vectors(
    panels: list[np.ndarray], *, offset: int, extra: tuple[int, float], extra_first: bool
) -> tuple[list[int], list[int], list[float]]:
    """The panels as sparse vectors for HiGHS (starts, indices, values): each panel's seats at
    ``offset + type``, with one ``extra`` (index, value) entry before or after them."""
    starts: list[int] = []
    idx: list[int] = []
    val: list[float] = []
    for c in panels:
        nz = np.flatnonzero(c)
        starts.append(len(idx))
        if extra_first:
            idx.append(extra[0])
            val.append(extra[1])
        idx.extend((nz + offset).tolist())
        val.extend(c[nz].astype(np.float64).tolist())
        if not extra_first:
            idx.append(extra[0])
            val.append(extra[1])
    return starts, idx, val


class _MasterBase:
    """What both forms of the restricted master share: the type rows ``sum_j c_jt lambda_j - zcoef_t z
    >= rhs_t`` (open rows: ``zcoef_t > 0``), the panels (columns) without repeats, dropping unused
    panels, and a solve that starts afresh once when the simplex stalls. The LP itself is
    ``_PrimalMaster``'s or ``_DualMaster``'s."""

    SIMPLEX = PRIMAL_SIMPLEX  # HiGHS's simplex_strategy for this form
    RESTART_SIMPLEX = DUAL_SIMPLEX  # the other simplex, for the one fresh start after a stall

    def __init__(self, ts: TypeSpace, remaining: Callable[[], float | None]):
        self.ts = ts
        self.remaining = remaining
        self.restarts = 0  # solves started afresh after stalling (see solve)
        self.unsure = False  # the last solve ended "Unknown"/"Not Set" even afresh (see unsure_weights)
        self.n = ts.sizes.astype(np.float64)
        self.open = np.ones(ts.T, dtype=bool)  # rows that carry z
        self.zcoef = self.n.copy()  # row t reads sum_j c_jt lambda_j - zcoef_t z >= rhs
        self.rhs = np.zeros(ts.T)
        self.columns: list[np.ndarray] = []
        self.keys: set[bytes] = set()
        self.h = new_highs()
        self.h.setOptionValue("primal_feasibility_tolerance", 1e-10)
        self.h.setOptionValue("dual_feasibility_tolerance", 1e-10)
        self.h.setOptionValue("simplex_strategy", self.SIMPLEX)

    def set_scaled_target(self, x: np.ndarray) -> None:
        """Rows ``sum_j c_jt lambda_j >= z x_t``: z is the share of the target x that is reached."""
        self.set_rows(x, np.zeros(self.ts.T))

    def set_rows(self, zcoef: np.ndarray, rhs: np.ndarray) -> None:
        """Rows ``sum_j c_jt lambda_j - zcoef_t z >= rhs_t`` (open rows: ``zcoef_t > 0``)."""
        self.zcoef = np.asarray(zcoef, dtype=np.float64).copy()
        self.rhs = np.asarray(rhs, dtype=np.float64).copy()
        self.open = self.zcoef > 0
        self._write_rows()

    def set_row(self, t: int, with_z: bool, b: float) -> None:
        self.open[t] = with_z
        self.zcoef[t] = self.n[t] if with_z else 0.0
        self.rhs[t] = self.n[t] * b
        self._write_row(t)

    def add(self, cs: list[np.ndarray]) -> int:
        """Add the panels not in the master yet; returns how many were added."""
        new = []
        for c in cs:
            key = c.astype(np.int64).tobytes()
            if key not in self.keys:
                self.keys.add(key)
                new.append(c.astype(np.int64))
        if new:
            self._write_panels(new)
            self.columns.extend(new)
        return len(new)

    def purge(self, lam: np.ndarray, w: np.ndarray, mu: float, cap: int) -> np.ndarray:
        """Keep the LP small: past ``cap`` columns, drop the non-basic ones with the most negative
        reduced costs (down to 60% of the cap). The solution does not change; returns its
        weights on the columns that remain."""
        J = len(self.columns)
        if J <= cap:
            return lam
        rc = self.reduced_costs(w, mu)
        rc[(lam > 0) | self._panels_in_basis()] = INF  # never drop a column in use (keeps the warm start valid)
        drop = np.sort(np.argsort(rc, kind="stable")[: J - int(0.6 * cap)])
        drop = drop[np.isfinite(rc[drop])]
        if len(drop) == 0:
            return lam
        self._delete_panels((drop + 1).astype(np.int32))
        keep = np.ones(J, dtype=bool)
        keep[drop] = False
        self.columns = [c for c, k in zip(self.columns, keep) if k]
        self.keys = {c.tobytes() for c in self.columns}
        return lam[keep]

    def solve(self):
        """(z, lambda, w, mu, s) with w >= 0 normalised so that sum over open rows zcoef_t w_t = 1 (s: the
        sum before), or None when the LP has no optimum (e.g. the floors cannot all be met)."""
        h = self.h
        try:
            _run(h, self.remaining(), MASTER_STALL_SECONDS)
        except _Stalled:
            # Far longer than usual (0.34 s on average on 6,000 people): the simplex is stalling on a
            # degenerate basis. Start afresh, once, with the other simplex.
            self.restarts += 1
            h.clearSolver()
            h.setOptionValue("simplex_strategy", self.RESTART_SIMPLEX)
            try:
                _run(h, self.remaining())
            finally:
                h.setOptionValue("simplex_strategy", self.SIMPLEX)
        if h.getModelStatus() in (highspy.HighsModelStatus.kUnknown, highspy.HighsModelStatus.kNotset):
            # a warm re-solve that ended numerically unsure (seen in the dual form, once the master held the
            # panels of caratheodory.py): solved afresh, it was optimal
            self.restarts += 1
            h.clearSolver()
            _run(h, self.remaining())
        status = h.getModelStatus()
        self.unsure = status in (highspy.HighsModelStatus.kUnknown, highspy.HighsModelStatus.kNotset)
        if status != highspy.HighsModelStatus.kOptimal:
            return None
        z, lam, w, mu = self._read_solution()
        s = float(np.dot(self.zcoef[self.open], w[self.open]))
        if s > 0:
            w, mu = w / s, mu / s
        return z, lam, w, mu, s

    def unsure_weights(self) -> np.ndarray | None:
        """After a solve that ended "Unknown" (``self.unsure``): the weights the LP holds, clipped at 0 and
        summing to 1, or None when it holds none. Nothing is claimed for them: the caller checks them."""
        if not self.unsure:
            return None
        sol = self.h.getSolution()
        if not (sol.dual_valid if isinstance(self, _DualMaster) else sol.value_valid):
            return None
        lam = np.maximum(self._read_solution()[1], 0.0)
        total = float(lam.sum())
        if not np.isfinite(lam).all() or total <= 0:
            return None
        return lam / total

    def reduced_costs(self, w: np.ndarray, mu: float) -> np.ndarray:
        C = np.array(self.columns, dtype=np.float64)
        return C @ w - mu

    # the form's own LP
    def _write_rows(self) -> None:
        raise NotImplementedError

    def _write_row(self, t: int) -> None:
        raise NotImplementedError

    def _write_panels(self, new: list[np.ndarray]) -> None:
        raise NotImplementedError

    def _panels_in_basis(self) -> np.ndarray:
        raise NotImplementedError

    def _delete_panels(self, positions: np.ndarray) -> None:
        raise NotImplementedError

    def _read_solution(self) -> tuple[float, np.ndarray, np.ndarray, float]:
        raise NotImplementedError


class _PrimalMaster(_MasterBase):
    """Restricted master LP: rows ``sum_j c_jt lambda_j - a_t n_t z >= n_t b_t``, ``sum_j lambda_j = 1``,
    maximise z; a column per panel (primal simplex: adding columns keeps the basis primal feasible)."""

    def __init__(self, ts: TypeSpace, *, zlo: float, zhi: float, remaining: Callable[[], float | None] = lambda: None):
        super().__init__(ts, remaining)
        T, h = ts.T, self.h
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.addVars(1, np.array([zlo]), np.array([zhi]))
        h.changeColsCost(1, np.array([0], dtype=np.int32), np.array([1.0]))
        add_convexity_row(h)
        h.addRows(
            T, np.zeros(T), np.full(T, INF), T, np.arange(T, dtype=np.int32), np.zeros(T, dtype=np.int32), -self.n
        )

    def _write_rows(self) -> None:
        T = self.ts.T
        for t in range(T):
            self.h.changeCoeff(1 + t, 0, -self.zcoef[t])
        self.h.changeRowsBounds(T, np.arange(1, T + 1, dtype=np.int32), self.rhs, np.full(T, INF))

    def _write_row(self, t: int) -> None:
        self.h.changeCoeff(1 + t, 0, -self.zcoef[t])
        self.h.changeRowBounds(1 + t, self.rhs[t], INF)

    def _write_panels(self, new: list[np.ndarray]) -> None:
        # a column per panel: 1 in the convexity row 0, its seats in the type rows 1..T
        add_columns(self.h, *_panel_vectors(new, offset=1, extra=(0, 1.0), extra_first=True))

    def _panels_in_basis(self) -> np.ndarray:
        return np.array([int(x) for x in self.h.getBasis().col_status[1:]]) == int(highspy.HighsBasisStatus.kBasic)

    def _delete_panels(self, positions: np.ndarray) -> None:
        self.h.deleteCols(len(positions), positions)

    def _read_solution(self) -> tuple[float, np.ndarray, np.ndarray, float]:
        sol = self.h.getSolution()
        duals = np.asarray(sol.row_dual, dtype=np.float64)
        # HiGHS (maximisation): reduced cost of lambda_j is -(mu_raw + sum_t c_jt d_t) <= 0,
        # so w = -d >= 0 and mu = mu_raw make "w.c <= mu" the dual constraint of every column.
        lam = np.asarray(sol.col_value[1:], dtype=np.float64)
        return float(sol.col_value[0]), lam, np.maximum(-duals[1:], 0.0), float(duals[0])


class _DualMaster(_MasterBase):
    """Restricted master LP: rows ``sum_j c_jt lambda_j - a_t z >= b_t`` (``a = zcoef``, ``b = rhs``),
    ``sum_j lambda_j = 1``, maximise ``z`` in [0, 1]. HiGHS solves its *dual* (one row per panel)::

        minimise  mu - b.w + v
        s.t.      c_j . w - mu <= 0     for every panel j              (dual: lambda_j)
                  a . w + v >= 1                                       (dual: z)
                  w >= 0, v >= 0, mu free

    by the dual simplex: a new panel is a new row, so the last basis stays dual feasible and the
    re-solve is warm. On a households-shaped pool (752 types, 1,708 panels, 27 new) a re-solve took
    550 dual simplex iterations (0.67 s) where the primal simplex on the master took 1,151 (1.15 s)."""

    SIMPLEX = DUAL_SIMPLEX
    RESTART_SIMPLEX = PRIMAL_SIMPLEX

    def __init__(self, ts: TypeSpace, *, zlo: float, zhi: float, remaining: Callable[[], float | None] = lambda: None):
        if zlo != 0.0 or zhi != 1.0:
            raise ValueError("the master's z lies in [0, 1]")
        super().__init__(ts, remaining)
        T, h = ts.T, self.h
        # columns: w_0 .. w_{T-1} >= 0, mu (free), v >= 0
        lo = np.zeros(T + 2)
        lo[T] = -INF
        h.addVars(T + 2, lo, np.full(T + 2, INF))
        h.changeColsCost(2, np.array([T, T + 1], dtype=np.int32), np.array([1.0, 1.0]))
        self.all = np.arange(T, dtype=np.int32)
        # the row of z: a.w + v >= 1 (a = n at first: every type's row carries z)
        idx = np.concatenate([self.all, [T + 1]]).astype(np.int32)
        h.addRow(1.0, INF, T + 1, idx, np.concatenate([self.n, [1.0]]))

    @classmethod
    def from_primal(cls, pm: "_PrimalMaster") -> "_DualMaster":
        """The same master (panels, rows) in the dual form, starting from ``pm``'s last basis carried over
        (a panel in ``pm``'s basis is a tight row here, a tight type row a basic price), so that its first
        solve is warm too. Without a valid basis to carry over, the first solve starts cold."""
        m = cls(pm.ts, zlo=0.0, zhi=1.0, remaining=pm.remaining)
        m.add(pm.columns)
        m.set_rows(pm.zcoef, pm.rhs)
        pb = pm.h.getBasis()
        if not pb.valid:
            return m
        S = highspy.HighsBasisStatus
        T, J = pm.ts.T, len(pm.columns)
        pcol, prow = list(pb.col_status), list(pb.row_status)
        if len(pcol) != J + 1 or len(prow) != T + 1:
            return m
        col = [S.kBasic if prow[1 + t] != S.kBasic else S.kLower for t in range(T)]
        col.append(S.kBasic if prow[0] != S.kBasic else S.kZero)  # mu: the price of "weights sum to 1"
        zrow = S.kBasic if pcol[0] == S.kLower else S.kLower  # z at 0: its row in the dual is slack
        col.append(S.kBasic if pcol[0] == S.kUpper else S.kLower)  # v > 0 only with z at its bound 1
        row = [zrow] + [S.kUpper if pcol[1 + j] == S.kBasic else S.kBasic for j in range(J)]
        if sum(x == S.kBasic for x in col) + sum(x == S.kBasic for x in row) != J + 1:
            return m  # not a basis of the dual (should not happen): start cold
        basis = m.h.getBasis()
        basis.col_status = col
        basis.row_status = row
        basis.valid = True
        m.h.setBasis(basis)
        return m

    def _write_rows(self) -> None:
        for t in range(self.ts.T):
            self.h.changeCoeff(0, t, self.zcoef[t])
        self.h.changeColsCost(self.ts.T, self.all, -self.rhs)

    def _write_row(self, t: int) -> None:
        self.h.changeCoeff(0, t, self.zcoef[t])
        self.h.changeColCost(t, -self.rhs[t])

    def _write_panels(self, new: list[np.ndarray]) -> None:
        # a row per panel: its seats on the prices w_0..w_{T-1}, -1 on mu (column T)
        starts, idx, val = _panel_vectors(new, offset=0, extra=(self.ts.T, -1.0), extra_first=False)
        m = len(new)
        self.h.addRows(
            m,
            np.full(m, -INF),
            np.zeros(m),
            len(idx),
            np.array(starts, dtype=np.int32),
            np.array(idx, dtype=np.int32),
            np.array(val, dtype=np.float64),
        )

    def _panels_in_basis(self) -> np.ndarray:
        # a panel is basic in the master when its row is tight (non-basic) in the dual
        return np.array([int(x) for x in self.h.getBasis().row_status[1:]]) != int(highspy.HighsBasisStatus.kBasic)

    def _delete_panels(self, positions: np.ndarray) -> None:
        self.h.deleteRows(len(positions), positions)

    def _read_solution(self) -> tuple[float, np.ndarray, np.ndarray, float]:
        T = self.ts.T
        sol = self.h.getSolution()
        x = np.asarray(sol.col_value, dtype=np.float64)
        duals = np.asarray(sol.row_dual, dtype=np.float64)
        # v > 0 only when z is at its bound 1 (complementary slackness: v's reduced cost is 1 - z)
        z = 1.0 if x[T + 1] > 0 else min(1.0, float(duals[0]))
        # "w.c <= mu" for every panel in the master: its reduced cost in the master is w.c - mu
        return z, np.maximum(-duals[1:], 0.0), np.maximum(x[:T], 0.0), float(x[T])


# --- the solver -----------------------------------------------------------------------


@dataclass
class Control:
    """How a running computation may be steered from outside (the draw page, a worker process).

    ``should_stop()``: True stops it at the next check, keeping the best lottery found so far.
    ``settle_after()``: seconds after which the computation stops by itself *once the minimum
    probability is proven optimal* (None: only the time limit stops it); the later leximin levels
    only even out the chances above that minimum. ``on_snapshot(dist)``: called with the lottery
    found so far when a level is finished (at most every ``snapshot_every`` seconds, and always when
    the minimum has just been proven), so that a caller that must abandon the computation (a
    solver that does not return) still has the best valid lottery."""

    should_stop: Callable[[], bool] | None = None
    settle_after: Callable[[], float | None] | None = None
    on_snapshot: Callable[["Distribution"], None] | None = None
    snapshot_every: float = 2.0


class _Settled(TimeoutError):
    """The minimum is proven optimal and the settle time has passed, or a stop was requested."""


def fix_stage(rel, fixed: np.ndarray, p: np.ndarray, z: float, y: np.ndarray) -> None:
    """One stage of the relaxed leximin: every open type whose dual weight is positive is fixed at the
    stage's value ``z`` (at least one: the largest weight), in ``fixed``, ``p`` and the relaxation ``rel``."""
    newly = np.flatnonzero(~fixed & (y > FIX_TOL))
    if len(newly) == 0:
        newly = np.array([int(np.argmax(np.where(fixed, -1.0, y)))])
    for t in newly:
        fixed[t] = True
        p[t] = z
        rel.fix(int(t), z)


class _Panels:
    """Panels as a lottery's columns, without a master LP (``_Solver.direct_close``): what
    ``_Solver.distribution`` reads of a master."""

    def __init__(self, columns: list[np.ndarray]):
        self.columns = columns


class _Solver:
    # set by relaxed_leximin(): the relaxation's progress (fixed types, their chances, the stages'
    # values) and the types fixed so far
    _relaxed_state: tuple[np.ndarray, np.ndarray, list[float]]
    relaxed_fixed: np.ndarray
    last: "tuple[_MasterBase | _Panels, np.ndarray]"  # the lottery found so far: (its columns, their weights)

    def __init__(self, ts: TypeSpace, deadline: float | None, progress, control: Control | None = None):
        self.ts = ts
        self.deadline = deadline
        self.progress = progress
        self.control = control or Control()
        self._last_snapshot = -math.inf
        self.exact = CompositionModel(ts)
        quick = CompositionModel(ts)  # the heuristic's own copy, with a looser gap
        quick.h.setOptionValue("mip_rel_gap", QUICK_MIP_GAP)
        self.lp_pricer = _LPPricer(ts, quick)
        self.lp_pricer.remaining = self.remaining
        self.swaps = _Swaps(ts)
        self.lp_pricer.sampler = PanelSampler(ts)
        self.n = ts.sizes.astype(np.float64)
        self.upper_bound = math.inf
        self.max_violation = 0.0
        self.stages = 0
        self.complete = True
        self.method = ""
        self.smoothed: np.ndarray | None = None
        self.design: tuple[np.ndarray, list[np.ndarray]] | None = None  # (the group, its samples' seats)
        self.relaxed: _Relaxed | None = None
        self.relaxed_point: np.ndarray | None = None
        self.maximin_seconds = math.nan  # when the minimum probability was proven optimal
        self.level_gaps: list[float] = []  # each closed level's / stage's proven gap (GAP_TOL)
        self.level_z = 1.0  # the share of its step the last closed level reached
        self.unsure_closed = 0  # later levels closed from an "Unknown" master's weights (_close_unsure)
        self.carath: Decomposition | None = None  # the direct decomposition of p*, once run (caratheodory_columns)
        self.late_panels: list[np.ndarray] = []  # its panels, when it ran after the minimum
        self.direct_closed = False  # the later levels were closed from it at once (direct_close)
        self.reweighed = False  # ... with its panels re-weighed together with level 1's lottery (_reweigh)
        self.hull_closed = False  # ... with level 1's own decomposition of p* (hull_seed.closing_decomposition)
        self.resume: tuple[int, np.ndarray, np.ndarray] = (0, np.zeros(ts.T, dtype=bool), np.zeros(ts.T))
        self.floors_failed = False  # the decomposition's floors could not be met (LP noise)
        self.staged_from = 0  # the level from which the staged algorithm went on (0: not used / from the start)
        self.t0 = time.perf_counter()

    # -- utilities
    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.perf_counter()

    def run_lp(self, h) -> None:
        """Solve ``h`` within the computation's time left (``_run``; design_master.py solves through this, so
        that it needs no import of this module, which imports it)."""
        _run(h, self.remaining())

    def check_time(self) -> None:
        r = self.remaining()
        if r is not None and r <= 0:
            raise TimeoutError
        c = self.control
        if c.should_stop is not None and c.should_stop():
            raise _Settled
        if c.settle_after is not None and not math.isnan(self.maximin_seconds):
            after = c.settle_after()
            if after is not None and time.perf_counter() - self.t0 >= after:
                raise _Settled

    def snapshot(self, *, force: bool = False) -> None:
        """Hand the lottery found so far to ``control.on_snapshot`` (see Control)."""
        c = self.control
        now = time.perf_counter()
        last = getattr(self, "last", None)
        if c.on_snapshot is None or last is None or (not force and now - self._last_snapshot < c.snapshot_every):
            return
        self._last_snapshot = now
        m, lam = last
        c.on_snapshot(self.distribution(m, lam, complete=False))

    def distribution(self, m, lam, *, complete: bool) -> "Distribution":
        comps = np.array(m.columns[: len(lam)])
        dist = distribution_from(
            self.ts,
            comps,
            lam,
            seconds=0.0,
            upper_bound=self.upper_bound,
            pricing_violation=self.max_violation,
            complete=complete,
            stages=self.stages,
            pricing_calls=self.exact.calls,
            columns=len(m.columns),
            method=self.method,
            maximin_seconds=self.maximin_seconds,
            level_gaps=list(self.level_gaps),
            staged_from=self.staged_from,
        )
        dist.seconds = time.perf_counter() - self.t0
        return dist

    def report(self, msg: str, frac: float) -> None:
        if self.progress is not None:
            self.progress(msg, max(0.0, min(1.0, frac)))

    def exact_price(self, w: np.ndarray):
        r = self.remaining()
        self.exact.set_time_limit(r)
        res = self.exact.solve(w)
        self.exact.set_time_limit(None)
        return res

    def new_columns(
        self,
        master: "_MasterBase",
        lam: np.ndarray,
        w: np.ndarray,
        mu: float,
        *,
        budget: int = COLUMN_BUDGET,
    ) -> list[np.ndarray]:
        """Heuristic columns with positive reduced cost (swaps from the basis, LP pricing).

        Dual prices jump about from one round to the next, which makes column generation
        zig-zag; so the LP pricer also searches with smoothed prices (a running average,
        Wentges' smoothing) and keeps what improves the master at the true prices."""
        prev = self.smoothed
        smoothing = prev is not None and prev.shape == w.shape
        ws = SMOOTHING * prev + (1.0 - SMOOTHING) * w if prev is not None and smoothing else w
        self.smoothed = ws
        cols = master.columns
        # The duals are zero on most types, and the heuristics pick among equal prices by
        # index, the same few types every round. Break those ties by how far each type is
        # from this level's target: seats are taken from the types furthest above it and
        # given to the types furthest below (a tiny term: the true prices still decide).
        used = np.flatnonzero(lam > 0)
        C_used = np.array([cols[j] for j in used], dtype=np.int64).reshape(len(used), self.ts.T)
        pi = lam[used] @ C_used
        target = master.rhs + master.zcoef
        shortfall = np.clip((target - pi) / np.maximum(target, 1e-12), -1.0, 1.0)
        tie = TIE_BREAK * float(max(w.max(), 1e-12)) * shortfall
        wt = w + tie
        ws = ws + tie
        in_basis = lam[used] > 1e-12
        basis = used[in_basis]
        found: list[tuple[float, np.ndarray]] = []
        per = 3 if len(basis) < 200 else 1
        C = C_used[in_basis]
        # the swaps at the true prices only: a second batch at the smoothed prices cost 14-18% of the
        # processor time per round and did not speed up the rounds' progress (measured on 3 pools)
        self.check_time()
        found.extend(self.swaps.batch(C, wt, w, mu, 2 * per))
        want = max(budget, self.ts.T // BUDGET_PER_TYPES)
        # the LP-and-small-MIP pricer is slow on large pools: only when the swaps found few
        # the LP pricer at the true prices, at the smoothed ones and at PRICE_POINTS points between them
        # (in-out separation along the segment): one LP each (a few ms), where a master solve costs
        # 50-2000 ms, so that every master solve sees many columns (demo: 841-981 rounds -> 231-260)
        pvs = [] if len(found) >= want // 2 else [wt, ws] if smoothing else [wt]
        # not for the minimum (level 1 / stage 1): there its columns made the rounds slower than they
        # saved (a generated pool of 751 types: minimum proven after 14.2 s instead of 10.8 s)
        if smoothing and pvs and not math.isnan(self.maximin_seconds):
            pvs.extend(a * wt + (1.0 - a) * ws for a in np.arange(1, PRICE_POINTS + 1) / (PRICE_POINTS + 1))
        for prices in pvs:
            c = self.lp_pricer.solve(prices, widen=False)
            for c in ([] if c is None else [c]) + self.lp_pricer.extra:
                v = float(np.dot(w, c) - mu)
                if v > PRICING_TOL:
                    found.append((v, c))
        found.sort(key=lambda x: -x[0])
        return [c for _, c in found[:want]] + self.design_pricing(self.smoothed, w, mu)

    def design_pricing(self, prices: np.ndarray, w: np.ndarray, mu: float) -> list[np.ndarray]:
        """New completions of the equal-chance design's samples at the current prices.

        Panels built on the design's samples keep everybody in the group at exactly the
        same chance; panels from the other heuristics do not, and near the optimum the
        master cannot trade the group's fairness against the other types' targets. So each
        round, the ``DESIGN_PRICED`` samples worth most at the (smoothed) prices are
        completed afresh, the prices outside the group aiming the completion at the types
        the master is short of. This is what closes the last fraction of a percent.
        """
        if self.design is None:
            return []
        group, parts = self.design
        score = np.array([float(prices[group] @ part[group]) for part in parts])
        out = []
        for i in np.argsort(-score, kind="stable")[:DESIGN_PRICED]:
            self.check_time()
            c = self.complete_sample(group, parts[i], prices)
            if c is not None and float(np.dot(w, c) - mu) > PRICING_TOL:
                out.append(c)
        return out

    def complete_sample(
        self, group: np.ndarray, part: np.ndarray, prices: np.ndarray, *, quick_mip: bool = False
    ) -> np.ndarray | None:
        """A valid panel with exactly ``part`` from the group, best at ``prices`` outside it:
        the LP pricer with the group's seats fixed, its point rounded (loosened if need be);
        with ``quick_mip``, the quick MIP near the LP's point when the rounding fails."""
        lp = self.lp_pricer
        prices = np.where(group, 0.0, prices)
        lp.set_bounds(np.where(group, part, 0.0), np.where(group, part, self.n))
        try:
            c = lp.solve(prices, loosen=True, widen=False)
            if c is None and quick_mip:
                x_lp = np.asarray(lp.h.getSolution().col_value)
                c = lp.mip_near(np.floor(x_lp + 1e-9), np.ceil(x_lp - 1e-9), prices, 1, DESIGN_MIP_SECONDS)
        finally:
            lp.reset_bounds()
        if c is None or not np.array_equal(c[group], part[group].astype(np.int64)):
            return None
        return c

    def price_round(self, master: "_MasterBase", lam: np.ndarray, w: np.ndarray, mu: float):
        """One pricing round of column generation: heuristic columns first; only when they add
        nothing, the exact pricing MIP. Returns None when columns were added, else the exact
        pricing's ``(composition, value, proven bound)`` for the caller's stopping rule."""
        cols = self.new_columns(master, lam, w, mu)
        if cols and master.add(cols):
            return None
        priced = self.exact_price(w)
        if priced is None:
            raise LeximinError("No valid panel exists.")
        return priced

    def covering_columns(self, target: np.ndarray, seeds: list[np.ndarray]) -> list[np.ndarray]:
        """Panels that together include every type that can be selected at all.

        Until every type appears in some column the master's value is 0 and its duals say
        little, so column generation would add one column per round; a greedy cover
        (maximise the number of types not covered yet) gets there in a few LP solves.
        """
        covered = np.zeros(self.ts.T, dtype=bool)
        for seed in seeds:
            covered |= seed > 0
        covered |= target <= 0
        out: list[np.ndarray] = []
        while not covered.all():
            r = self.remaining()
            if r is not None and r <= 0:
                break  # the master will report how far the columns found so far get
            w = np.where(covered, 0.0, 1.0 + target)
            c = self.lp_pricer.solve(w)
            if c is None or not (~covered & (c > 0)).any():
                break
            out.append(c)
            covered |= c > 0
        return out

    def tight_order(self, v1: float, skip: str) -> list[int]:
        """Feature indices (without ``skip``), the tightest first: a feature is tight when
        giving everybody with one of its values the chance ``v1`` needs nearly all the
        seats its quota allows (``max_v n_v v1 / max_v``)."""
        ts = self.ts
        tight = {f: 0.0 for f in ts.features}
        people = ts.A @ self.n
        for i, q in enumerate(ts.quotas):
            if q.max > 0:
                tight[q.feature] = max(tight[q.feature], float(people[i]) * v1 / q.max)
        return sorted((j for j, f in enumerate(ts.features) if f != skip), key=lambda j: (-tight[ts.features[j]], j))

    def design_columns(self, target: np.ndarray, values: list[float]) -> list[np.ndarray]:
        """Seeds for level 1 when its bound is one group's fixed number of seats.

        Typically the bound is "exactly 30 seats for 1,775 people aged 65+": all of them must
        get exactly 30/1775. That is the only quota that binds, so the optimal prices are
        the same on every valid panel and give the column generation no direction: it finds
        the balancing panels one by one. Instead, build a lottery that is exactly fair
        inside the group directly: an equal-chance design (``systematic.py``) over the
        group's members, listed in an order sorted by their other features, gives a few
        dozen samples whose make-up is close to the group's; each sample is completed with
        people outside the group to valid panels (``DESIGN_COMPLETIONS`` of them, by the LP
        pricer with the group's part fixed, aimed at the others' targets not reached so
        far). Any mixture that gives each sample its design weight, split among its
        completions, is exactly fair inside the group. The master then mixes these with
        everything else; nothing relies on every completion succeeding.
        """
        ts = self.ts
        if not values:
            return []
        pinned = target == values[0]
        exact = [i for i, q in enumerate(ts.quotas) if q.min == q.max and q.min > 0]
        group = None
        for qi in exact:
            g = ts.A[qi] > 0
            if pinned.any() and not (pinned & ~g).any() and pinned[g].all():
                group = g
                break
        if group is None:
            return []
        members = np.flatnonzero(group)
        seats = float(np.dot(target[members], self.n[members]))
        if abs(seats - ts.quotas[qi].min) > 1e-6 or len(members) < 2:
            return []
        # order the group's people by their other features, the tightest first
        people = people_in_order(ts, members, self.tight_order(values[0], ts.quotas[qi].feature))
        samples = equal_chance_samples(len(people), int(ts.quotas[qi].min))
        if samples is None:
            return []
        T = ts.T
        x = target * self.n
        outside = ~group
        covered = np.zeros(T)
        done = 0.0
        out: list[np.ndarray] = []
        start, left = time.perf_counter(), self.remaining()
        budget = start + DESIGN_SHARE * (left if left is not None else math.inf)
        q = ts.quotas[qi]
        self.report(
            f"Preparing panels that give everybody with {q.feature} {q.value} the same chance ({len(samples)} samples)",
            0.3,
        )
        parts = [np.bincount(people[positions], minlength=T).astype(np.float64) for _, positions in samples]
        has = [False] * len(samples)
        self.design = (group, parts)  # column generation completes these samples afresh
        # in passes, one completion per sample each, so that a time limit leaves every
        # sample with a completion (a sample without one breaks the fairness inside the group)
        for _ in range(DESIGN_COMPLETIONS):
            for i, (weight, _) in enumerate(samples):
                if time.perf_counter() > budget:
                    return out
                share = weight / DESIGN_COMPLETIONS
                # aim the completion at the targets outside the group not reached so far
                deficit = np.clip((x * (done + share) - covered) / np.maximum(x, 1e-12), -1.0, 1.0)
                # no completion of this sample yet: the quick MIP if the LP's rounding fails
                c = self.complete_sample(group, parts[i], np.where(outside, 1.0 + deficit, 0.0), quick_mip=not has[i])
                if c is not None:
                    covered += share * c
                    done += share
                    out.append(c)
                    has[i] = True
        return out

    # -- step 1
    def relaxed_leximin(self, stages: int | None = None) -> tuple[np.ndarray, list[float]]:
        """The relaxed leximin: p* and the stages' values. With ``stages``, at most that many more stages
        (the types fixed so far: ``relaxed_fixed``); a later call goes on from there."""
        ts = self.ts
        if self.relaxed is None:
            self.relaxed = _Relaxed(ts, self.remaining)
            self._relaxed_state = (np.zeros(ts.T, dtype=bool), np.zeros(ts.T), [])
        rel = self.relaxed
        fixed, p, values = self._relaxed_state
        total = float(self.n.sum())
        done = 0
        while not fixed.all() and (stages is None or done < stages):
            self.check_time()
            z, y = rel.solve(fixed)
            z = max(0.0, min(1.0, z))
            if not values:
                self.upper_bound = z
                self.relaxed_point = np.asarray(rel.h.getSolution().col_value)[: ts.T] / self.n
            values.append(z)
            done += 1
            fix_stage(rel, fixed, p, z, y)
            self.report(
                f"Upper bounds: stage {len(values)}, {int(fixed.sum())} of {ts.T} groups fixed "
                f"(lowest open probability {z:.6f})",
                0.3 * float(self.n[fixed].sum()) / total,
            )
        self.relaxed_fixed = fixed.copy()
        return p.copy(), list(values)

    # -- step 2
    def _reach_level(self, m: "_MasterBase", s: int, n_levels: int, below: np.ndarray, cap: int) -> np.ndarray | None:
        """Column generation until the master (its rows set for level ``s``) reaches the level: the weights
        on its columns, or None when the levelled decomposition cannot go on (the staged algorithm decides).

        Level 1 (the minimum) closes only when its target is reached (z >= 1 - DECOMP_TOL). A later level
        also closes when its proven gap is below GAP_TOL: every type's target is an upper bound (the
        relaxed leximin), and the master reaches ``floor + z step``, so no type is more than
        ``(1 - z) max(step)`` below its target; ``self.level_gaps`` records that gap."""
        step = float(np.max(m.zcoef / self.n)) if m.open.any() else 0.0
        while True:
            res = m.solve()
            if res is None:
                lam = self._close_unsure(m) if s > 0 else None
                if lam is not None:
                    return lam
                if s > 0:
                    # the earlier levels' floors cannot all be met: the relaxed targets are a
                    # hair above what panels reach (LP noise above FIX_SLACK); the staged
                    # algorithm needs no targets (and starts afresh: these floors are not met)
                    self.floors_failed = True
                    return None
                raise LeximinError("The decomposition LP failed.")
            z, lam, w, mu, _ = res
            if (
                s == 0
                and z < 1.0 - DECOMP_TOL
                and (early_hull_hook(self, m, z) or design_hook(self, m, z) or hull_hook(self, m, z))
            ):
                # level 1 by the equal-chance design (design_master.py) or, when no single group sets the
                # minimum, by a direct decomposition of p* (hull_seed.py): their columns reach z = 1
                continue
            lam = m.purge(lam, w, mu, cap)
            self.last = (m, lam)
            self.share = z if s == 0 else 1.0
            gap = (1.0 - z) * step
            if s > 0 and gap >= GAP_TOL:
                # the same bound type by type, never larger: the largest shortfall below the targets
                gap = min(gap, self._shortfall(m, lam))
            if z >= 1.0 - DECOMP_TOL or (s > 0 and gap < GAP_TOL):
                self.level_gaps.append(max(0.0, gap))
                self.level_z = min(1.0, z)
                return lam
            self.check_time()
            self.report(
                f"Building panels: level {s + 1} of {n_levels}, {len(m.columns)} compositions, "
                f"{100 * z:.2f}% of the way",
                0.3 + 0.7 * (s + max(0.0, z)) / n_levels,
            )
            priced = self.price_round(m, lam, w, mu)
            if priced is None:
                continue
            c, value, bound = priced
            # with w normalised (sum over open rows of w_t * step_t = 1), every distribution
            # reaches at most z <= bound - w.floor of this level's step
            if bound - float(np.dot(w, self.n * below)) < 1.0 - 1e-7:
                return None  # p* is not a mixture of valid panels: the relaxation is not tight
            if value - mu > PRICING_TOL and m.add([c]):
                continue
            return None  # numerically stuck: let the exact staged algorithm decide

    def _close_unsure(self, m: "_MasterBase") -> np.ndarray | None:
        """A later level whose master ended "Unknown" even when solved afresh (the city-shaped pool b:0's last
        level, seeded by caratheodory.py: primal-dual error 1.5e-7) is closed when the weights the LP holds,
        checked directly, leave no type more than GAP_TOL below its target (an upper bound: the relaxed
        leximin); the gap recorded is that largest shortfall. Else None (the staged algorithm decides)."""
        lam = m.unsure_weights()
        if lam is None:
            return None
        gap = self._shortfall(m, lam)
        if gap >= GAP_TOL:
            return None
        self.unsure_closed += 1
        self.last = (m, lam)
        self.share = 1.0
        self.level_gaps.append(gap)
        self.level_z = 1.0
        return lam

    def _reached(self, m: "_MasterBase", lam: np.ndarray) -> np.ndarray:
        """Each type's probability in the master's solution ``lam``."""
        return self._probabilities(m.columns[: len(lam)], lam)

    def _probabilities(self, panels: list[np.ndarray], lam: np.ndarray) -> np.ndarray:
        """Each type's probability in the lottery with weights ``lam`` on ``panels``."""
        C = np.array(panels, dtype=np.float64).reshape(len(lam), self.ts.T)
        return (lam @ C) / self.n

    def _shortfall(self, m: "_MasterBase", lam: np.ndarray) -> float:
        """The largest shortfall of a type below its target in the master's solution (probability)."""
        return max(0.0, float(np.max((m.rhs + m.zcoef) / self.n - self._reached(m, lam))))

    @staticmethod
    def group_levels(values: list[float]) -> list[float]:
        """The levels after the first, grouped into at most LEVEL_GROUPS steps (each ends at one of the
        relaxed stages' values, the last at the last). Each level's master restarts column generation on
        a new set of targets; on the demo, 22 levels took 55 s of processor time, 5 (4 groups) 37-40 s."""
        if len(values) <= LEVEL_GROUPS:
            return list(values)
        ends = sorted({math.ceil((i + 1) * len(values) / LEVEL_GROUPS) - 1 for i in range(LEVEL_GROUPS)})
        return [values[i] for i in ends]

    def decompose(
        self,
        target: np.ndarray,
        seeds: list[np.ndarray],
        values: list[float],
        more: Callable[[], tuple[np.ndarray, list[float]]] | None = None,
    ):
        """Weights on compositions with mean composition n * target; None if impossible.

        Level by level, following the relaxed stages' values v_1 < v_2 < ...: at level s
        every type must reach ``min(p*_t, v_s)``. The master keeps what earlier levels
        reached as a hard floor and maximises the share z of the step to the new level::

            sum_j c_jt lambda_j >= n_t min(p*_t, v_{s-1}) + z n_t (min(p*_t, v_s) - min(p*_t, v_{s-1}))

        Level 1 is the maximin problem (everybody at least the proven bound v_1) and has
        much more room than the full decomposition, so the minimum probability is proven
        optimal early; a computation cut short by the time limit keeps every level it
        finished, and z of the one it was working on. With ``more``, ``target`` and
        ``values`` are only the relaxation's first stage (all level 1 needs): once level 1
        is finished, ``more()`` gives the whole relaxed leximin for the later levels, whose
        values are grouped into at most LEVEL_GROUPS levels (``group_levels``).

        When a level cannot be reached, ``self.resume`` keeps where it stopped (the master, the
        types fixed by the finished levels and their floors) for the staged algorithm.
        """
        ts = self.ts
        m: _MasterBase = _PrimalMaster(ts, zlo=0.0, zhi=1.0, remaining=self.remaining)
        m.add(seeds)
        self.decomp_master = m
        cap = max(1000, COLUMN_CAP * ts.T)
        goal = np.maximum(0.0, target - FIX_SLACK)
        levels = sorted({round(v, 12) for v in values if v > 0}) or [float(goal.max())]
        if more is None:
            levels[-1] = max(levels[-1], float(goal.max()))
            levels = levels[:1] + self.group_levels(levels[1:])
        below = np.zeros(ts.T)
        s = -1
        while s + 1 < len(levels):
            s += 1
            v = levels[s]
            upto = np.minimum(goal, v)
            if s == 1 and isinstance(m, _PrimalMaster) and ts.T >= DUAL_FROM_TYPES:
                # on large pools the later levels re-solve faster in the dual form (see _DualMaster)
                m = self.decomp_master = _DualMaster.from_primal(m)
            # a step below STEP_TOL (the type is already that close to its target) is none: a coefficient of
            # 1e-9 on z made HiGHS fail on the master (a city-shaped pool seeded by caratheodory.py)
            m.set_rows(self.n * np.where(upto - below < STEP_TOL, 0.0, upto - below), self.n * below)
            self.smoothed = None
            lam = self._reach_level(m, s, len(levels), below, cap)
            if lam is None:
                # the types whose target the finished levels reached are fixed there, exactly as in
                # the staged algorithm's stages (each level's value is its stage's proven bound)
                done = levels[s - 1] if s > 0 else -1.0
                self.resume = (0 if self.floors_failed else s, goal <= done + 1e-12, below.copy())
                return None
            if s == 0:
                self.maximin_seconds = time.perf_counter() - self.t0
            self.snapshot(force=(s == 0))
            # the next level's floor: what this one reached (its target, or within GAP_TOL of it; level 1:
            # within DECOMP_TOL), and never above what the master's solution gives (it meets its rows only
            # within the LP's tolerance): with the floors at the exact targets, level 2's master was
            # infeasible on city- and households-shaped pools seeded by caratheodory.py
            below = np.maximum(0.0, np.minimum(upto, self._reached(m, lam) - FIX_SLACK))
            if s == 0 and more is not None:
                target, values = more()
                goal = np.maximum(0.0, target - FIX_SLACK)
                levels = sorted({round(x, 12) for x in values if x > 0}) or [float(goal.max())]
                levels[-1] = max(levels[-1], float(goal.max()))
                below = np.minimum(below, goal)
                if levels[0] > v + 1e-12:  # cannot happen (stage 1 is level 1): keep the order safe
                    levels.insert(0, v)
                levels = levels[:1] + self.group_levels(levels[1:])
                # the direct decomposition needs the whole p*: it runs once the minimum is proven (seeded
                # before it, its panels delayed the minimum by the relaxation's stages)
                direct = self.direct_close(goal, levels, below)
                if direct is not None:
                    return direct
                self.check_time()  # a stop or settle request before the master's later levels, which can be long
                if ts.T < LATE_SEED_BELOW_TYPES:
                    m.add(self.late_panels)
        return m, lam

    # -- step 3
    def staged(self, seeds: list[np.ndarray], resume: "tuple[_MasterBase, np.ndarray, np.ndarray] | None" = None):
        """The paper's staged column generation. With ``resume`` = (master, fixed, floors), it goes
        on from the levels the decomposition finished: the master and its columns are kept, the
        types in ``fixed`` keep their floors (their leximin values), and the stages start with the
        others.

        Stage 1 (the minimum) closes only on an exact proof (pricing value V <= mu + PRICING_TOL, or the
        relaxed bound reached); a later stage also closes when its proven gap V - mu (the pricing bound
        on the stage's value minus the value reached, in probability units) is below GAP_TOL."""
        ts = self.ts
        T = ts.T
        rel = _Relaxed(ts, self.remaining)
        m, fixed, pvals = self._staged_start(seeds, resume, rel)
        total = float(self.n.sum())
        self.share = 1.0
        while not fixed.all():
            self.stages += 1
            first = not fixed.any()
            zq, yq = rel.solve(fixed)
            while True:
                self.check_time()
                res = m.solve()
                if res is None:
                    raise LeximinError("The stage LP failed.")
                z, lam, w, mu, s = res
                self.last = (m, lam)
                if z >= zq - 1e-9:  # reaches the relaxed bound: optimal, fix what the relaxation pins
                    pin = yq
                    self.level_gaps.append(0.0)
                    break
                priced = self.price_round(m, lam, w, mu)
                if priced is None:
                    continue
                c, value, bound = priced
                if first:
                    self.upper_bound = min(self.upper_bound, bound)
                tol = PRICING_TOL if first else GAP_TOL
                if value - mu > tol and m.add([c]):
                    continue
                self.max_violation = max(self.max_violation, max(0.0, value - mu))
                self.level_gaps.append(max(0.0, value - mu))
                pin = self.n * w
                pin[fixed] = 0.0
                break
            zval = max(0.0, min(1.0, z))
            newly = np.flatnonzero(~fixed & (pin > FIX_TOL))
            if len(newly) == 0:
                newly = np.array([int(np.argmax(np.where(fixed, -1.0, pin)))])
            for t in newly:
                fixed[t] = True
                pvals[t] = zval
                m.set_row(int(t), False, max(0.0, zval - FIX_SLACK))
                rel.fix(int(t), zval)
            if first:
                self.maximin_seconds = time.perf_counter() - self.t0
            self.snapshot(force=first)
            self.report(
                f"Stage {self.stages}: {int(fixed.sum())} of {T} groups fixed (lowest open probability {zval:.6f})",
                float(self.n[fixed].sum()) / total,
            )
        res = m.solve()
        if res is None:
            raise LeximinError("The final LP failed.")
        return m, res[1]

    def _staged_start(self, seeds: list[np.ndarray], resume, rel: _Relaxed):
        """The staged algorithm's master, fixed types and their values: a new master over ``seeds``, or
        the decomposition's master with the finished levels' types fixed at their floors."""
        T = self.ts.T
        if resume is None:
            m: _MasterBase = _PrimalMaster(self.ts, zlo=0.0, zhi=1.0, remaining=self.remaining)
            m.add(seeds)
            return m, np.zeros(T, dtype=bool), np.zeros(T)
        m, fixed, floors = resume
        fixed = fixed.copy()
        pvals = np.where(fixed, floors, 0.0)
        for t in range(T):
            m.set_row(t, not fixed[t], float(pvals[t]) if fixed[t] else 0.0)
            if fixed[t]:
                rel.fix(t, float(pvals[t]) + FIX_SLACK)
        return m, fixed, pvals

    def run(self, first: np.ndarray):
        more = None
        self.relaxed_leximin(stages=1)
        if self.upper_bound > 0:
            # the minimum first: level 1 needs only the relaxation's first stage (its value and the types
            # it pins); the later stages, for the later levels, are computed once level 1 is finished
            p1, values = self.relaxed_leximin(stages=0)
            target = np.where(self.relaxed_fixed, p1, 1.0)
            assert self.relaxed_point is not None  # set by the relaxation's first stage, just run
            near = np.clip(self.relaxed_point, values[0], 1.0)  # the first stage's point, for the seeds

            def more() -> tuple[np.ndarray, list[float]]:
                p, vals = self.relaxed_leximin()
                self.stages = len(set(round(v, 12) for v in vals))
                return p, vals
        else:
            target, values = self.relaxed_leximin()
            near = target
        self.stages = len(set(round(v, 12) for v in values))
        seeds = [first]
        c = self.lp_pricer.solve(near)  # a composition close to the target
        if c is not None:
            seeds.append(c)
        seeds.extend(self.design_columns(target, values))
        seeds.extend(self.covering_columns(near, seeds))
        if more is None:
            seeds.extend(self.caratheodory_columns())
        got = self.decompose(target, seeds, values, more)
        if got is not None:
            self.method = "relaxation+decomposition"
            return got
        level, fixed, floors = self.resume
        if level == 0 or not fixed.any():
            # the minimum itself is not reachable
            return self.staged_afresh()
        # levels 1..level were reached: go on from there with the same master and its columns
        self.method = f"relaxation+decomposition (levels 1-{level}), then staged column generation"
        self.staged_from = level + 1
        self.stages = level
        try:
            return self.staged([], resume=(self.decomp_master, fixed, floors))
        except LeximinError:
            # the finished levels' floors could not all be held once their types were fixed (seen on one
            # generated pool of 20: "The stage LP failed"); from the first stage, no floors are needed
            return self.staged_afresh()

    def caratheodory_columns(self, floor: np.ndarray | None = None) -> list[np.ndarray]:
        """Panels of a direct decomposition of the relaxed leximin point (``caratheodory.py``), as seed
        columns for the master, within CARATHEODORY_SHARE of the time left. With ``floor`` (what level 1's
        master reached), the point decomposed gives every type at least that much (see
        ``FaceDecomposer.target``)."""
        if CARATHEODORY_SHARE <= 0:
            return []
        # the same p*, decomposed for level 1 already (hull_seed.py): reused as seed columns, but not by
        # direct_close (``floor`` given), which needs the decomposition of the point kept at level 1's floor
        # (``self.carath``); reusing it there left direct_close nothing to close with (a 1,000-person pool
        # then spent 84 s on level 2 in the master instead of closing it in 2 s)
        cached = getattr(self, "hull_panels", None)
        if cached is not None and floor is None:
            return list(cached)
        p, _ = self.relaxed_leximin()
        left = self.remaining()
        seconds = CARATHEODORY_SECONDS if left is None else min(CARATHEODORY_SECONDS, CARATHEODORY_SHARE * left)
        fd = FaceDecomposer(self.ts)
        x = fd.target(np.maximum(0.0, p - FIX_SLACK), seconds=self.remaining(), floor=floor)
        if x is None:
            return []
        d = fd.decompose(x, seconds=seconds, clock=time.perf_counter, on_step=self.check_time)
        self.carath = d
        return list(d.panels)

    def as_lottery(self, d: Any) -> "tuple[list[np.ndarray], np.ndarray] | None":
        """A decomposition's panels and its weights normalised to 1, or None when it has no weight or a panel
        breaks the panel rule (each checked: the decomposition's panels are rounded, not proven)."""
        if d is None or len(d.weights) == 0 or float(d.weights.sum()) <= 0:
            return None
        panels = list(d.panels)
        if not all(self.ts.is_valid_composition(c) for c in panels):
            return None
        return panels, d.weights / math.fsum(d.weights)

    def direct_close(
        self, goal: np.ndarray, levels: list[float], floor: np.ndarray
    ) -> "tuple[_Panels, np.ndarray] | None":
        """Once the minimum is proven (level 1's master reached ``floor``, type by type), the direct
        decomposition of the relaxed leximin point (``caratheodory_columns``, the point taken at or above
        ``floor``) closes the later levels at once, without a master solve: its panels (each checked against
        the panel rule) with its weights are the lottery when, type by type, they give every type at least
        ``floor`` (within FIX_SLACK: what the master holds the later levels to, so the minimum stays proven)
        and at most GAP_TOL less than its target (``goal``: the relaxed leximin, a proven upper bound), the
        stopping rule of the later levels. Each later level's gap is its types' largest shortfall. Else None,
        and the levels go on in the master (its panels in ``self.late_panels``). On the households and region
        shapes, the master's first solve of level 2 with those panels added ran far past the time limit (see
        docs/adr/0001)."""
        self.report(
            f"Building panels: level 2 of {len(levels)}, splitting the fairest lottery into panels",
            0.3 + 0.7 / len(levels),
        )
        if CARATHEODORY_SHARE <= 0:  # switched off (KLEROTERION_CARATHEODORY_SHARE=0): the master closes them
            return None
        d = closing_decomposition(self, goal, floor)  # level 1's hull decomposition, when it closes as it is
        if d is None:
            self.late_panels = self.caratheodory_columns(floor)
            d = self.carath
        else:
            self.late_panels = list(d.panels)
            self.hull_closed = True
        lottery = self.as_lottery(d)
        if lottery is None:
            return None
        panels, lam = lottery
        if not self._closes(panels, lam, goal, floor):
            # the decomposition stopped with a sliver of p* left (seen: 1e-7 on local-shaped pools, where Q
            # is not integral): re-weigh its panels with level 1's lottery (one small LP, no pricing)
            got = self._reweigh(panels, goal, floor)
            if got is None:
                return None
            panels, lam = got
            self.reweighed = True
        reached = self._probabilities(panels, lam)
        for lo, hi in zip(levels[:-1], levels[1:]):
            part = goal > lo + 1e-12
            self.level_gaps.append(max(0.0, float(np.max(np.minimum(goal[part], hi) - reached[part], initial=0.0))))
        self.direct_closed = True
        self.level_z = 1.0
        self.share = 1.0
        out = _Panels(panels)
        self.last = (out, lam)
        self.snapshot(force=True)
        return out, lam

    def _closes(self, panels: list[np.ndarray], lam: np.ndarray, goal: np.ndarray, floor: np.ndarray) -> bool:
        """Do these weights on these panels give every type at least ``floor`` (within FIX_SLACK) and at most
        GAP_TOL less than ``goal`` (see direct_close)?"""
        if len(panels) == 0 or (lam < 0).any() or abs(math.fsum(lam) - 1.0) > 1e-12:
            return False
        reached = self._probabilities(panels, lam)
        return bool((reached >= floor - FIX_SLACK).all() and float(np.max(goal - reached)) < GAP_TOL)

    def _reweigh(
        self, panels: list[np.ndarray], goal: np.ndarray, floor: np.ndarray
    ) -> "tuple[list[np.ndarray], np.ndarray] | None":
        """Weights on the decomposition's panels and level 1's lottery's panels (``self.last``) that keep
        every type at its ``floor`` and minimise the largest shortfall below ``goal``: one LP over these
        columns (no pricing), solved within the time left; its weights are then checked as any (``_closes``).
        None when the LP or the check fails."""
        m1, lam1 = self.last
        keys = {c.astype(np.int64).tobytes() for c in panels}
        cols = list(panels)
        for c, x in zip(m1.columns[: len(lam1)], lam1):
            if x > 1e-12 and c.astype(np.int64).tobytes() not in keys:
                cols.append(np.asarray(c, dtype=np.int64))
        J, T = len(cols), self.ts.T
        C = np.array(cols, dtype=np.float64)
        h = new_highs()
        h.setOptionValue("primal_feasibility_tolerance", 1e-10)
        h.setOptionValue("dual_feasibility_tolerance", 1e-10)
        # columns: lambda_0..lambda_{J-1}, then the largest shortfall u (minimised)
        h.addVars(J + 1, np.zeros(J + 1), np.full(J + 1, INF))
        h.changeColsCost(1, np.array([J], dtype=np.int32), np.ones(1))
        rows_lo = [np.ones(1), self.n * floor, self.n * goal]
        blocks = [np.ones((1, J + 1)), np.hstack([C.T, np.zeros((T, 1))]), np.hstack([C.T, self.n[:, None]])]
        blocks[0][0, J] = 0.0
        A = np.vstack(blocks)
        lo = np.concatenate(rows_lo)
        hi = np.concatenate([np.ones(1), np.full(2 * T, INF)])
        starts, idx, val = _csr([(list(map(int, np.flatnonzero(r))), list(r[np.flatnonzero(r)])) for r in A])
        h.addRows(len(lo), lo, hi, len(idx), starts, idx, val)
        _run(h, self.remaining())
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        lam = np.maximum(np.asarray(h.getSolution().col_value)[:J], 0.0)
        if lam.sum() <= 0:
            return None
        lam = lam / math.fsum(lam)
        keep = np.flatnonzero(lam > 0)
        cols, lam = [cols[j] for j in keep], lam[keep] / math.fsum(lam[keep])
        return (cols, lam) if self._closes(cols, lam, goal, floor) else None

    def staged_afresh(self):
        """The staged algorithm from its first stage, with every column found so far (the levels reached,
        their gaps and the proven minimum are forgotten: the stages prove them again)."""
        self.method = "staged column generation"
        self.staged_from = 0
        self.stages = 0
        self.level_gaps = []
        self.maximin_seconds = math.nan
        return self.staged(list(self.decomp_master.columns))


def types_and_a_first_panel(instance: Instance):
    """The instance's types and one valid panel as counts per type (the feasibility check's example);
    raises ``InfeasibleQuotas`` when no panel meets the quotas."""
    ts = build_types(instance)
    report = check_types(ts)
    if not report.feasible:
        raise InfeasibleQuotas(report)
    first = np.zeros(ts.T, dtype=np.int64)
    assert report.example is not None
    for pid in report.example:
        first[ts.type_of[pid]] += 1
    return ts, first


def leximin(
    instance: Instance,
    *,
    time_limit: float | None = None,
    progress: Callable[[str, float], None] | None = None,
    control: Control | None = None,
) -> Distribution:
    """The leximin distribution over valid panels of ``instance``.

    Raises ``InfeasibleQuotas`` (carrying the ``FeasibilityReport``) when no panel meets
    the quotas. With ``time_limit`` (seconds), returns the best distribution found when
    time runs out, with ``complete=False``; ``gap`` then says how far its minimum
    probability may be from the optimum. ``progress(message, fraction)`` is called
    after each stage / round.
    """
    t0 = time.perf_counter()
    ts, first = types_and_a_first_panel(instance)
    deadline = None if time_limit is None else t0 + float(time_limit)
    solver = _Solver(ts, deadline, progress, control)
    try:
        master, lam = solver.run(first)
    except TimeoutError:
        solver.complete = False
        if getattr(solver, "last", None) is None or getattr(solver, "share", 1.0) <= 0.0:
            raise LeximinError(
                f"The time limit of {time_limit} s ran out before a lottery giving everybody a chance "
                "was found. Allow more time for the computation."
            ) from None
        master, lam = solver.last
    dist = solver.distribution(master, lam, complete=solver.complete)
    dist.seconds = time.perf_counter() - t0
    if progress is not None:
        progress("Done", 1.0)
    return dist
