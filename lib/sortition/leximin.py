"""LEXIMIN: the maximally fair distribution over valid panels.

The algorithm of Flanigan, Gölz, Gupta, Hennig and Procaccia, "Fair algorithms for
selecting citizens' assemblies", Nature 596 (2021): maximise the minimum selection
probability; then, keeping everybody whose probability is pinned at that value fixed,
maximise the minimum over the others; repeat until every probability is fixed. Each
stage is a linear programme over distributions of panels, solved by column generation.

Here it runs over *types* of interchangeable people (``typespace.py``): a panel is a
*composition* c (how many people of each type, ``0 <= c_t <= n_t``, ``sum c_t = k``,
quotas met, at most one per multi-person household), and a person of type t is selected
with probability ``E[c_t] / n_t``. The leximin probability vector is unique and
symmetric, so working with types loses nothing.

Stage LP (restricted master, over the compositions found so far, solved by HiGHS)::

    maximise  z
    s.t.      sum_j lambda_j                      = 1        (dual mu)
              sum_j c_jt lambda_j - n_t z        >= 0        t not fixed   (dual w_t >= 0)
              sum_j c_jt lambda_j                >= n_t p_t  t fixed
              lambda >= 0

Pricing (HiGHS MIP, ``CompositionModel``): maximise ``sum_t w_t c_t`` over valid
compositions. If the maximum V is at most mu (+1e-9), no composition can improve the
stage and the stage is optimal. For any distribution meeting the fixed probabilities,
``min_{t not fixed} pi_t <= V - sum_{t fixed} n_t p_t w_t`` when ``sum_{t not fixed}
n_t w_t = 1``, so every pricing round also yields a proven upper bound: the first
stage's bound is the certificate reported as ``Distribution.upper_bound`` / ``gap``.

At a stage optimum, every type whose dual weight ``n_t w_t`` is positive is pinned at
the stage value in every optimal solution (complementary slackness), so it is fixed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import highspy
import numpy as np

from .feasibility import FeasibilityReport, InfeasibleQuotas, check_types  # noqa: F401  (re-exported)
from .metrics import gini  # noqa: F401  (re-exported)
from .model import Instance, InputError
from .typespace import INF, CompositionModel, TypeSpace, build_types, new_highs

__all__ = ["Distribution", "leximin", "InfeasibleQuotas", "LeximinError", "gini"]

PRICING_TOL = 1e-9     # a composition improves the stage when its value exceeds mu by more than this
FIX_TOL = 1e-8         # a type is pinned when its share n_t w_t of the dual weight exceeds this
FIX_SLACK = 1e-10      # fixed probabilities are enforced as >= p - FIX_SLACK (numerical safety)


class LeximinError(InputError):
    """The optimiser could not finish (for example a time limit before any panel was found)."""


@dataclass
class Distribution:
    types: list[tuple[str, ...]]          # ids of interchangeable people per type
    compositions: list[tuple[int, ...]]   # each: how many of each type (same order as types)
    weights: list[float]                  # probability of each composition, sum 1, all > 0
    probabilities: dict[str, float]       # each person's exact selection probability
    min_probability: float
    gap: float                            # certificate: proven upper bound on min prob minus achieved
    seconds: float
    algorithm: str = "leximin"
    upper_bound: float = math.nan         # proven upper bound on the maximal minimum probability
    pricing_violation: float = 0.0        # largest pricing improvement left when a stage was accepted
    complete: bool = True                 # False when a time limit cut the leximin refinement short
    stages: int = 0
    pricing_calls: int = 0
    type_probabilities: list[float] = field(default_factory=list)
    panel_size: int = 0

    def type_of(self) -> dict[str, int]:
        return {pid: t for t, ids in enumerate(self.types) for pid in ids}


def distribution_from(ts: TypeSpace, comps: np.ndarray, weights: np.ndarray, *, seconds: float,
                      upper_bound: float, algorithm: str = "leximin", **extra) -> Distribution:
    """Build a ``Distribution`` from compositions (rows) and weights; drops zero weights."""
    weights = np.asarray(weights, dtype=np.float64)
    weights = np.where(weights > 1e-13, weights, 0.0)
    keep = np.flatnonzero(weights)
    comps = np.asarray(comps, dtype=np.int64)[keep]
    w = weights[keep] / math.fsum(weights[keep])
    # merge duplicate compositions (can happen after rounding of solver output)
    merged: dict[tuple[int, ...], float] = {}
    for c, x in zip(comps, w):
        key = tuple(int(v) for v in c)
        merged[key] = merged.get(key, 0.0) + float(x)
    order = sorted(merged)  # deterministic order
    compositions = order
    wl = [merged[c] for c in order]
    total = math.fsum(wl)
    wl = [x / total for x in wl]
    C = np.array(compositions, dtype=np.float64).reshape(len(compositions), ts.T)
    expected = np.array([math.fsum(float(C[j, t]) * wl[j] for j in range(len(wl))) for t in range(ts.T)])
    type_prob = (expected / ts.sizes).tolist()
    probs = {pid: type_prob[t] for t, ids in enumerate(ts.members) for pid in ids}
    mn = min(type_prob) if type_prob else 0.0
    gap = upper_bound - mn if math.isfinite(upper_bound) else math.inf
    return Distribution(
        types=list(ts.members), compositions=compositions, weights=wl, probabilities=probs,
        min_probability=mn, gap=max(0.0, gap), seconds=seconds, algorithm=algorithm,
        upper_bound=upper_bound, type_probabilities=type_prob, panel_size=ts.k, **extra)


class _Master:
    """The restricted master LP of one leximin stage, kept in one HiGHS object across stages."""

    def __init__(self, ts: TypeSpace):
        self.ts = ts
        T = ts.T
        h = new_highs()
        h.setOptionValue("primal_feasibility_tolerance", 1e-10)
        h.setOptionValue("dual_feasibility_tolerance", 1e-10)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        # column 0: z
        h.addVars(1, np.array([0.0]), np.array([1.0]))
        h.changeColsCost(1, np.array([0], dtype=np.int32), np.array([1.0]))
        # row 0: sum lambda = 1 ; rows 1..T: sum_j c_jt lambda_j - n_t z >= 0
        h.addRows(1, np.array([1.0]), np.array([1.0]), 0, np.array([0], dtype=np.int32),
                  np.array([], dtype=np.int32), np.array([], dtype=np.float64))
        starts = np.arange(T, dtype=np.int32)
        idx = np.zeros(T, dtype=np.int32)
        val = -ts.sizes.astype(np.float64)
        h.addRows(T, np.zeros(T), np.full(T, INF), T, starts, idx, val)
        self.h = h
        self.columns: list[np.ndarray] = []
        self.keys: set[bytes] = set()

    def add(self, c: np.ndarray) -> bool:
        key = c.astype(np.int64).tobytes()
        if key in self.keys:
            return False
        self.keys.add(key)
        nz = np.flatnonzero(c)
        idx = np.concatenate([[0], nz + 1]).astype(np.int32)
        val = np.concatenate([[1.0], c[nz].astype(np.float64)])
        self.h.addCols(1, np.array([0.0]), np.array([0.0]), np.array([INF]), len(idx),
                       np.array([0], dtype=np.int32), idx, val)
        self.columns.append(c.astype(np.int64))
        return True

    def fix(self, t: int, p: float) -> None:
        self.h.changeCoeff(1 + t, 0, 0.0)
        self.h.changeRowBounds(1 + t, float(self.ts.sizes[t]) * max(0.0, p - FIX_SLACK), INF)

    def solve(self):
        h = self.h
        h.run()
        st = h.getModelStatus()
        if st != highspy.HighsModelStatus.kOptimal:
            return None
        sol = h.getSolution()
        z = float(sol.col_value[0])
        lam = np.asarray(sol.col_value[1:], dtype=np.float64)
        duals = np.asarray(sol.row_dual, dtype=np.float64)
        return z, lam, duals


class _Leximin:
    def __init__(self, ts: TypeSpace, deadline: float | None, progress):
        self.ts = ts
        self.deadline = deadline
        self.progress = progress
        self.pricing = CompositionModel(ts)
        self.master = _Master(ts)
        self.fixed = np.zeros(ts.T, dtype=bool)
        self.pvals = np.zeros(ts.T)
        self.upper_bound = math.inf
        self.max_violation = 0.0
        self.stages = 0
        self.complete = True
        self.last_lam: np.ndarray | None = None

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - time.perf_counter()

    def report(self, msg: str) -> None:
        if self.progress is not None:
            done = float(self.ts.sizes[self.fixed].sum()) / float(self.ts.sizes.sum())
            self.progress(msg, done)

    def initial_columns(self, first: np.ndarray) -> None:
        ts = self.ts
        self.master.add(first)
        # a few diverse compositions: favour types not covered yet (multiplicative weights)
        weights = 1.0 / ts.sizes.astype(np.float64)
        covered = first > 0
        rounds = min(3 + ts.T // 50, 20)
        for _ in range(rounds):
            if self.remaining() is not None and self.remaining() < 0:
                return
            res = self.pricing.solve(weights)
            if res is None:
                return
            c = res[0]
            self.master.add(c)
            weights = np.where(c > 0, weights * 0.5, weights)
            covered |= c > 0
            if covered.all():
                break

    def run(self) -> tuple[np.ndarray, np.ndarray]:
        ts = self.ts
        n_t = ts.sizes.astype(np.float64)
        while not self.fixed.all():
            self.stages += 1
            stage_first = not self.fixed.any()
            while True:
                rem = self.remaining()
                if rem is not None and rem <= 0:
                    raise TimeoutError
                res = self.master.solve()
                if res is None:
                    raise LeximinError(f"The stage LP failed ({self.master.h.modelStatusToString(self.master.h.getModelStatus())}).")
                z, lam, duals = res
                self.last_lam = lam
                mu_raw = duals[0]
                w_raw = duals[1:]
                # HiGHS reports duals of a maximisation with the opposite sign convention; normalise
                unfixed = ~self.fixed
                s = float(np.dot(n_t[unfixed], w_raw[unfixed]))
                sign = 1.0 if s > 0 else -1.0
                w = np.maximum(sign * w_raw, 0.0)
                s = float(np.dot(n_t[unfixed], w[unfixed]))
                if s <= 0:
                    raise LeximinError("The stage LP returned no usable dual weights.")
                w /= s
                mu = -sign * mu_raw / s  # reduced cost of lambda_j: mu_raw + sum_t c_jt w_raw_t >= 0
                fixed_term = float(np.dot(n_t[self.fixed] * self.pvals[self.fixed], w[self.fixed]))
                if rem is not None:
                    self.pricing.set_time_limit(rem)
                priced = self.pricing.solve(w)
                if priced is None:
                    raise LeximinError("No valid panel exists.")
                c, value, bound = priced
                stage_bound = bound - fixed_term
                if stage_first:
                    self.upper_bound = min(self.upper_bound, stage_bound)
                violation = value - mu
                if violation > PRICING_TOL and self.master.add(c):
                    continue
                self.max_violation = max(self.max_violation, max(0.0, violation))
                break
            # stage optimal: fix the types the dual pins at z
            y = n_t * w
            newly = np.flatnonzero(unfixed & (y > FIX_TOL))
            if len(newly) == 0:
                newly = np.array([int(np.argmax(np.where(unfixed, y, -1.0)))])
            zval = max(0.0, min(1.0, z))
            for t in newly:
                self.fixed[t] = True
                self.pvals[t] = zval
                self.master.fix(int(t), zval)
            self.report(f"Stage {self.stages}: {int(self.fixed.sum())} of {ts.T} types fixed, "
                        f"lowest open probability {zval:.6f}")
        # final solve: all fixed; the LP finds the distribution
        res = self.master.solve()
        if res is None:
            raise LeximinError("The final LP failed.")
        return np.array(self.master.columns), res[1]


def leximin(instance: Instance, *, time_limit: float | None = None,
            progress: Callable[[str, float], None] | None = None) -> Distribution:
    """The leximin distribution over valid panels of ``instance``.

    Raises ``InfeasibleQuotas`` (with the ``FeasibilityReport``) when no panel meets the
    quotas. With ``time_limit`` (seconds), stops refining when time runs out and returns
    the best distribution so far with ``complete=False``; ``gap`` still certifies the
    minimum probability (it is exact once the first stage has finished).
    """
    t0 = time.perf_counter()
    ts = build_types(instance)
    report = check_types(ts)
    if not report.feasible:
        raise InfeasibleQuotas(report)
    deadline = None if time_limit is None else t0 + float(time_limit)
    solver = _Leximin(ts, deadline, progress)
    first = np.zeros(ts.T, dtype=np.int64)
    assert report.example is not None
    for pid in report.example:
        first[ts.type_of[pid]] += 1
    try:
        solver.initial_columns(first)
        comps, lam = solver.run()
    except TimeoutError:
        solver.complete = False
        if solver.last_lam is None:
            raise LeximinError(f"The time limit of {time_limit} s ran out before the first distribution was found.") from None
        comps = np.array(solver.master.columns[: len(solver.last_lam)])
        lam = solver.last_lam
    dist = distribution_from(
        ts, comps, lam, seconds=time.perf_counter() - t0, upper_bound=solver.upper_bound,
        pricing_violation=solver.max_violation, complete=solver.complete, stages=solver.stages,
        pricing_calls=solver.pricing.calls)
    dist.seconds = time.perf_counter() - t0
    return dist
