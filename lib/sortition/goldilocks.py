"""Goldilocks: a lottery over valid panels that bounds both the smallest and the largest chance.

LEXIMIN (``leximin.py``) makes the smallest chances as large as possible, and nothing else:
it may give a few people near-certain selection (on the demo, one sign-up has 97%). Anybody
in a scarce group, or anybody who falsely claims to be in one, is then all but sure to be
picked, which opens the panel to capture. Baharav and Flanigan, "Fair, Manipulation-Robust,
and Transparent Sortition" (2024, arXiv 2406.15009), propose the *Goldilocks* objective,
which keeps every chance close to the fair share ``k/n`` (panel size over pool size) from
*both* sides, and recommend its parameter gamma = 1 (``Goldilocks_1``).

Source of the definition: the stored copies of the paper reachable here (its arXiv abstract page
and two summaries) confirm the idea and the recommended gamma = 1, not the formula itself; the
formula below is the one recalled from the paper and given in issue 12's brief (docs/VERIFYING.md,
section 8, says so too).

What is implemented here (docs/VERIFYING.md, section 8): over all
distributions pi over valid panels, with ``p_i`` person i's chance of selection,

    minimise   Goldilocks_gamma(pi) = max_i p_i / (k/n)  +  gamma * (k/n) / min_i p_i

(equivalently ``max_i p_i/(k/n) + gamma * max_i (k/n)/p_i``). Its value is at least
``1 + gamma`` (the largest chance is at least k/n, the smallest at most k/n), with equality
only for a lottery that gives everybody exactly k/n. People whom no valid panel can include
(their chance is 0 in every lottery) are left out of the minimum, so that the objective
stays finite; they are reported by ``Distribution.min_probability`` = 0 like in LEXIMIN.

How it is computed. As in ``leximin.py``, over *types* of interchangeable people
(``typespace.py``): the objective is convex and symmetric in interchangeable people, so some
optimum gives all members of a type the same chance, and ``p_t = E[c_t] / n_t``. The
objective ``U/f + gamma f / L`` (``f = k/n``, ``L`` the smallest, ``U`` the largest chance)
is linear but for the convex term ``1/L``, which is replaced by its epigraph variable theta
with tangent cuts ``theta >= 2/a - L/a^2`` (exact at ``L = a``, below ``1/L`` elsewhere).
The restricted master LP over the compositions found so far::

    minimise   U / f + gamma f theta
    s.t.       sum_j lambda_j = 1                                      (dual y_0)
               sum_j c_jt lambda_j / n_t - L >= 0   for every type t   (dual a_t >= 0)
               sum_j c_jt lambda_j / n_t - U <= 0   for every type t   (dual b_t <= 0)
               theta + L / a_i^2 >= 2 / a_i         for every cut a_i
               0 <= L <= v_1,  theta >= 0

(v_1: the proven upper bound on any lottery's smallest chance, the first stage of the
relaxed LEXIMIN in ``leximin.py``). Column generation with the same pricing as LEXIMIN: a
composition c improves the master when ``w.c > mu`` with ``w_t = (a_t + b_t) / n_t`` and
``mu = -y_0`` (these prices are negative for the types at the top, so new panels take seats
from the likeliest people); first the cheap heuristics of ``leximin.py`` (one-seat swaps
from the panels in use, the LP relaxation of the pricing problem rounded by a small MIP),
then the exact pricing MIP (``CompositionModel``). When the MIP proves that no composition
improves the master, a cut is added at the master's L unless theta already equals 1/L there.

Proven bounds (the certificate). Let z be the master's value and V >= max_c w.c the pricing
MIP's proven bound. Every distribution over valid panels has a master value of at least
``z - max(0, V - mu)`` (Lagrangian bound of column generation, the weights summing to 1),
and the master with cuts is below the true objective (tangents lie below 1/L), so
``Distribution.objective_bound = z - max(0, V - mu)`` is a proven lower bound on the
optimum of Goldilocks_gamma. ``objective`` is the exact objective of the lottery returned.
The computation stops when ``objective - objective_bound <= GAP_TOL * objective``
(``complete=True``), or at the time limit, a stop request, or the settle time once the gap
is below ``SETTLE_GAP`` (``complete=False``; the lottery is valid, the gap says how far it
may be from the optimum).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import highspy
import numpy as np

from lib.sortition import leximin as _lx
from lib.sortition.leximin import Control, Distribution, LeximinError, _LPPricer, _Relaxed, _Swaps, distribution_from
from lib.sortition.audit.model import Instance, InputError
from lib.sortition.typespace import INF, CompositionModel, TypeSpace, _csr, composition_rows, new_highs
from lib.sortition.typespace import add_columns, add_convexity_row

__all__ = ["goldilocks", "GoldilocksDistribution", "OBJECTIVES", "DEFAULT_GAMMA", "objective_value"]

DEFAULT_GAMMA = 1.0  # the paper's recommendation (Goldilocks_1)
GAP_TOL = 1e-8  # relative gap between the objective found and its proven lower bound
SETTLE_GAP = 1e-2  # the settle time (the draw page: 50 s) may stop it once proven within 1% of the best
PRICING_TOL = 1e-10  # a composition improves the master when w.c - mu exceeds this
CUT_TOL = 1e-10  # relative: a cut is added when theta is below 1/L by more than this
CUT_GRID = (1.0, 0.97, 0.93, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05)  # times v_1
MIN_CUT = 1e-6  # no cut below this chance (coefficients 1/a^2 would be huge)
COLUMN_BUDGET = 200  # heuristic columns per round at most (or T / 4 if more)
QUICK_MIP_GAP = 1e-3
SMOOTHING = 0.85  # weight of the previous smoothed prices in the heuristics' prices
TIE_BREAK = 1e-3  # heuristics' prices: w + TIE_BREAK * max|w| * (relative shortfall from the target)

OBJECTIVES = {
    "leximin": "Fairest for the least likely (LEXIMIN): the smallest chances as large as possible",
    "goldilocks": "Balanced (Goldilocks, gamma = 1): nobody too unlikely, nobody nearly certain",
}
"""The lottery objectives the engine offers, by the name recorded in the commitment."""


@dataclass
class GoldilocksDistribution(Distribution):
    """A ``Distribution`` (same fields, same use) with the Goldilocks certificate."""

    gamma: float = DEFAULT_GAMMA
    fair_share: float = math.nan  # k / n
    max_probability: float = math.nan
    objective: float = math.nan  # Goldilocks_gamma of this lottery (see module doc)
    objective_bound: float = math.nan  # proven lower bound on the optimum of Goldilocks_gamma
    excluded_types: int = 0  # types nobody can select (left out of the minimum)

    @property
    def objective_gap(self) -> float:
        return max(0.0, self.objective - self.objective_bound)


def objective_value(probabilities, panel_size: int, gamma: float = DEFAULT_GAMMA) -> float:
    """Goldilocks_gamma of a vector of chances (people with chance 0 are left out of the minimum)."""
    p = np.asarray(list(probabilities.values()) if isinstance(probabilities, dict) else probabilities, dtype=float)
    f = panel_size / len(p)
    pos = p[p > 0]
    if len(pos) == 0:
        return math.inf
    return float(p.max() / f + gamma * f / pos.min())


class _Master:
    """The restricted master LP of the module doc. Columns: L, U, theta, then one per composition."""

    def __init__(
        self, ts: TypeSpace, f: float, gamma: float, v1: float, open_: np.ndarray, remaining: Callable[[], float | None]
    ):
        self.ts = ts
        self.remaining = remaining
        T = ts.T
        self.n = ts.sizes.astype(np.float64)
        h = new_highs()
        h.setOptionValue("primal_feasibility_tolerance", 1e-10)
        h.setOptionValue("dual_feasibility_tolerance", 1e-10)
        h.setOptionValue("simplex_strategy", _lx.PRIMAL_SIMPLEX)  # primal: new columns keep the basis feasible
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        # L in [0, v1], U in [0, 1], theta >= 0
        h.addVars(3, np.array([0.0, 0.0, 0.0]), np.array([max(v1, 0.0), 1.0, INF]))
        h.changeColsCost(3, np.arange(3, dtype=np.int32), np.array([0.0, 1.0 / f, gamma * f]))
        add_convexity_row(h)  # row 0: sum lambda = 1
        # rows 1..T: p_t - L >= 0 (open types only carry L)
        coef = np.where(open_, -1.0, 0.0)
        idx = np.zeros(T, dtype=np.int32)
        h.addRows(T, np.zeros(T), np.full(T, INF), T, np.arange(T, dtype=np.int32), idx, coef)
        # rows T+1..2T: p_t - U <= 0
        h.addRows(
            T,
            np.full(T, -INF),
            np.zeros(T),
            T,
            np.arange(T, dtype=np.int32),
            np.ones(T, dtype=np.int32),
            np.full(T, -1.0),
        )
        self.h = h
        self.T = T
        self.rows = 1 + 2 * T
        self.columns: list[np.ndarray] = []
        self.keys: set[bytes] = set()
        self.cuts: list[float] = []

    def add_cut(self, a: float) -> bool:
        """theta >= 2/a - L/a^2 (the tangent of 1/L at a)."""
        if a < MIN_CUT or any(abs(a - b) <= 1e-12 * max(1.0, a) for b in self.cuts):
            return False
        self.h.addRow(2.0 / a, INF, 2, np.array([2, 0], dtype=np.int32), np.array([1.0, 1.0 / (a * a)]))
        self.cuts.append(a)
        self.rows += 1
        return True

    def add(self, cs: list[np.ndarray]) -> int:
        new = []
        for c in cs:
            c = np.asarray(c, dtype=np.int64)
            key = c.tobytes()
            if key not in self.keys:
                self.keys.add(key)
                new.append(c)
        if not new:
            return 0
        T = self.T
        starts: list[int] = []
        idx: list[int] = []
        val: list[float] = []
        for c in new:
            nz = np.flatnonzero(c)
            share = (c[nz] / self.n[nz]).tolist()
            starts.append(len(idx))
            idx.append(0)
            val.append(1.0)
            idx.extend((1 + nz).tolist())
            val.extend(share)
            idx.extend((1 + T + nz).tolist())
            val.extend(share)
        add_columns(self.h, starts, idx, val)
        self.columns.extend(new)
        return len(new)

    def solve(self):
        """(value, lambda, L, U, theta, w, mu): w and mu the pricing's prices (see module doc)."""
        h = self.h
        _lx._run(h, self.remaining())
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            h.clearSolver()  # numerical trouble: once more from scratch
            _lx._run(h, self.remaining())
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                raise LeximinError(f"The Goldilocks master LP failed ({h.modelStatusToString(h.getModelStatus())}).")
        sol = h.getSolution()
        x = np.asarray(sol.col_value, dtype=np.float64)
        y = np.asarray(sol.row_dual, dtype=np.float64)
        T = self.T
        lam = np.maximum(x[3:], 0.0)
        # HiGHS (minimisation): reduced cost of lambda_j = -(y_0 + sum_t (y_lo,t + y_hi,t) c_jt / n_t) >= 0
        w = (y[1 : 1 + T] + y[1 + T : 1 + 2 * T]) / self.n
        mu = -float(y[0])
        value = float(h.getInfo().objective_function_value)
        return value, lam, float(x[0]), float(x[1]), float(x[2]), w, mu


class _Solver:
    # set by run(), before the loop that reads them
    rounds: int
    columns: int  # how many columns the master holds (reported in the Distribution)
    smoothed: np.ndarray | None  # the smoothed prices (None until the first pricing round)
    goal: np.ndarray  # the balanced target the heuristics aim at
    relaxed_cuts: list[float]  # set by relaxed()

    def __init__(self, ts: TypeSpace, gamma: float, deadline: float | None, progress, control: Control | None):
        self.ts = ts
        self.gamma = gamma
        self.deadline = deadline
        self.progress = progress
        self.control = control or Control()
        self.n = ts.sizes.astype(np.float64)
        self.f = ts.k / float(self.n.sum())
        self.exact = CompositionModel(ts)
        quick = CompositionModel(ts)
        quick.h.setOptionValue("mip_rel_gap", QUICK_MIP_GAP)
        self.lp_pricer = _LPPricer(ts, quick)
        self.lp_pricer.remaining = self.remaining
        self.swaps = _Swaps(ts)
        self.t0 = time.perf_counter()
        self.best: tuple[float, np.ndarray, np.ndarray] | None = None  # (objective, compositions, weights)
        self.bound = -math.inf
        self.v1 = math.nan
        self.excluded = np.zeros(ts.T, dtype=bool)
        self._last_snapshot = -math.inf

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.perf_counter()

    def check_time(self) -> None:
        """TimeoutError (keep the best lottery so far) at the deadline, on a stop request, or once settled."""
        r, c = self.remaining(), self.control
        if (r is not None and r <= 0) or (c.should_stop is not None and c.should_stop()) or self._settled():
            raise TimeoutError

    def _settled(self) -> bool:
        """Close enough to the bound (SETTLE_GAP) and the settle time has passed."""
        c = self.control
        if c.settle_after is None or self.best is None or self.gap() > SETTLE_GAP:
            return False
        after = c.settle_after()
        return after is not None and time.perf_counter() - self.t0 >= after

    def gap(self) -> float:
        if self.best is None or not math.isfinite(self.bound) or not math.isfinite(self.best[0]):
            return math.inf
        return max(0.0, self.best[0] - self.bound) / self.best[0]

    def report(self, msg: str, frac: float) -> None:
        if self.progress is not None:
            self.progress(msg, max(0.0, min(1.0, frac)))

    # -- lotteries
    def evaluate(self, C: np.ndarray, lam: np.ndarray) -> float:
        p = (lam @ C) / self.n / max(float(lam.sum()), 1e-300)
        live = ~self.excluded
        low = float(p[live].min()) if live.any() else 0.0
        if low <= 0:
            return math.inf
        return float(p.max()) / self.f + self.gamma * self.f / low

    def consider(self, master: _Master, lam: np.ndarray) -> None:
        used = np.flatnonzero(lam > 1e-14)
        if len(used) == 0:
            return
        C = np.array([master.columns[j] for j in used], dtype=np.float64)
        val = self.evaluate(C, lam[used])
        if self.best is None or val < self.best[0] - 1e-15:
            self.best = (val, C.astype(np.int64), lam[used] / lam[used].sum())
            self.snapshot()

    def distribution(self, *, complete: bool) -> GoldilocksDistribution:
        assert self.best is not None, "distribution() is asked for only once a lottery is found"
        val, C, lam = self.best
        d = distribution_from(
            self.ts,
            C,
            lam,
            seconds=time.perf_counter() - self.t0,
            upper_bound=self.v1,
            algorithm="goldilocks",
            complete=complete,
            pricing_calls=self.exact.calls,
            columns=self.columns,
            method="goldilocks column generation",
            stages=self.rounds,
        )
        probs = np.array(d.type_probabilities)
        return GoldilocksDistribution(
            **{k: getattr(d, k) for k in d.__dataclass_fields__},
            gamma=self.gamma,
            fair_share=self.f,
            max_probability=float(probs.max()),
            objective=val,
            objective_bound=self.bound,
            excluded_types=int(self.excluded.sum()),
        )

    def snapshot(self, force: bool = False) -> None:
        c = self.control
        now = time.perf_counter()
        if c.on_snapshot is None or self.best is None or (not force and now - self._last_snapshot < c.snapshot_every):
            return
        self._last_snapshot = now
        c.on_snapshot(self.distribution(complete=False))

    # -- set-up
    def cover(self, first: np.ndarray) -> list[np.ndarray]:
        """Panels that together include every type any valid panel can include; marks the others
        ``excluded`` (proven by the exact MIP: no valid panel has any of them)."""
        covered = first > 0
        out = [first]
        while not covered.all():
            self.check_time()
            w = np.where(covered, 0.0, 1.0)
            c = self.lp_pricer.solve(w)
            if c is None or not (~covered & (c > 0)).any():
                self.exact.set_time_limit(self.remaining())
                try:
                    res = self.exact.solve(w)
                finally:
                    self.exact.set_time_limit(None)
                if res is None or res[2] < 0.5:  # proven: no valid panel holds an uncovered type
                    self.excluded = ~covered
                    break
                c = res[0]
                if not (~covered & (c > 0)).any():
                    self.excluded = ~covered
                    break
            out.append(c)
            covered |= c > 0
        return out

    def upper_bound_on_min(self) -> float:
        """v_1: no lottery gives every selectable type more than this (relaxed LEXIMIN, stage 1)."""
        rel = _Relaxed(self.ts, self.remaining)
        for t in np.flatnonzero(self.excluded):
            rel.fix(int(t), 0.0)
        z, _ = rel.solve(self.excluded.copy())
        return max(0.0, min(1.0, z))

    def relaxed(self) -> tuple[float, float, float]:
        """Goldilocks over *fractional* compositions (the polytope Q of ``leximin.py``): an LP over
        (x, L, U, theta) with tangent cuts until theta = 1/L. Every lottery's expected composition is
        in Q, so its value is a proven lower bound on the optimum. Returns (value, L, U)."""
        ts = self.ts
        T = ts.T
        n = self.n
        h = new_highs()
        h.setOptionValue("primal_feasibility_tolerance", 1e-10)
        h.setOptionValue("dual_feasibility_tolerance", 1e-10)
        h.addVars(T + 3, np.zeros(T + 3), np.concatenate([np.where(self.excluded, 0.0, n), [self.v1, 1.0, INF]]))
        h.changeColsCost(2, np.array([T + 1, T + 2], dtype=np.int32), np.array([1.0 / self.f, self.gamma * self.f]))
        rows = composition_rows(ts)
        starts, idx, val = _csr([(r[2], r[3]) for r in rows])
        h.addRows(len(rows), np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), len(idx), starts, idx, val)
        for t in range(T):
            if not self.excluded[t]:
                h.addRow(0.0, INF, 2, np.array([t, T], dtype=np.int32), np.array([1.0 / n[t], -1.0]))
            h.addRow(-INF, 0.0, 2, np.array([t, T + 1], dtype=np.int32), np.array([1.0 / n[t], -1.0]))
        cuts = [self.v1 * r for r in CUT_GRID if self.v1 * r >= MIN_CUT]
        for a in cuts:
            h.addRow(2.0 / a, INF, 2, np.array([T + 2, T], dtype=np.int32), np.array([1.0, 1.0 / (a * a)]))
        value, L, U = -math.inf, 0.0, 0.0
        for _ in range(200):
            self.check_time()
            _lx._run(h, self.remaining())
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                break
            x = np.asarray(h.getSolution().col_value)
            value = float(h.getInfo().objective_function_value)
            L, U, theta = float(x[T]), float(x[T + 1]), float(x[T + 2])
            if L < MIN_CUT or 1.0 / L - theta <= CUT_TOL / L:
                break
            h.addRow(2.0 / L, INF, 2, np.array([T + 2, T], dtype=np.int32), np.array([1.0, 1.0 / (L * L)]))
        self.relaxed_cuts = [a for a in cuts] + ([L] if L >= MIN_CUT else [])
        return value, L, U

    def target(self, U: float) -> np.ndarray:
        """The relaxed LEXIMIN point of Q with every chance at most U (the relaxed Goldilocks optimum's
        largest chance): a balanced point of the optimal box for the heuristics to aim at."""
        rel = _Relaxed(self.ts, self.remaining)
        T = self.ts.T
        rel.h.changeColsBounds(
            T, np.arange(T, dtype=np.int32), np.zeros(T), np.where(self.excluded, 0.0, self.n * min(1.0, U + 1e-12))
        )
        fixed = self.excluded.copy()
        p = np.zeros(T)
        for t in np.flatnonzero(fixed):
            rel.fix(int(t), 0.0)
        while not fixed.all():
            self.check_time()
            z, y = rel.solve(fixed)
            z = max(0.0, min(1.0, z))
            _lx.fix_stage(rel, fixed, p, z, y)
        return p

    # -- pricing
    def heuristic_columns(self, master: _Master, lam: np.ndarray, w: np.ndarray, mu: float) -> list[np.ndarray]:
        """Columns with positive reduced cost from the cheap heuristics of ``leximin.py``, searched at the
        true prices and at smoothed ones (a running average, Wentges' smoothing, against the zig-zag of
        column generation); kept only when they improve the master at the true prices."""
        prev = self.smoothed
        smoothing = prev is not None and prev.shape == w.shape
        ws = SMOOTHING * prev + (1.0 - SMOOTHING) * w if prev is not None and smoothing else w
        self.smoothed = ws
        basis = np.flatnonzero(lam > 1e-12)
        C = np.array([master.columns[j] for j in basis], dtype=np.int64).reshape(len(basis), self.ts.T)
        # most prices are 0: ties go to the types furthest below the balanced target, and seats come from
        # the ones furthest above it (a tiny term: the true prices still decide)
        p = (lam[basis] @ C) / self.n
        goal = np.maximum(self.goal, 1e-12)
        tie = TIE_BREAK * float(max(np.abs(w).max(), 1e-12)) * np.clip((goal - p) / goal, -1.0, 1.0)
        found: list[tuple[float, np.ndarray]] = []
        for prices in (w + tie, ws + tie) if smoothing else (w + tie,):
            found.extend(self.swaps.batch(C, prices, w, mu, 6 if len(basis) < 200 else 2))
        want = max(COLUMN_BUDGET, self.ts.T // 4)
        if len(found) < want // 2:
            for prices in (w + tie, ws + tie) if smoothing else (w + tie,):
                c = self.lp_pricer.solve(prices, widen=False)
                if c is not None and float(w @ c) - mu > PRICING_TOL:
                    found.append((float(w @ c) - mu, c))
        found.sort(key=lambda x: -x[0])
        return [c for _, c in found[:want]]

    # -- the loop
    def run(self, first: np.ndarray) -> bool:
        ts = self.ts
        self.rounds = 0
        self.columns = 0
        self.smoothed = None
        self.report("Finding panels that include everybody who can be picked", 0.02)
        seeds = self.cover(first)
        self.v1 = self.upper_bound_on_min()
        self.report("Working out the best balance possible", 0.04)
        value, L_r, U_r = self.relaxed()
        self.bound = max(self.bound, 1.0 + self.gamma, value)  # proven: no lottery does better
        self.goal = self.target(U_r)
        open_ = ~self.excluded
        m = _Master(ts, self.f, self.gamma, self.v1, open_, self.remaining)
        m.add(seeds)
        c = self.lp_pricer.solve(self.goal + 1.0)  # a composition near the target
        if c is not None:
            m.add([c])
        for a in self.relaxed_cuts:
            m.add_cut(a)
        while True:
            self.check_time()
            self.rounds += 1
            value, lam, L, U, theta, w, mu = m.solve()
            self.columns = len(m.columns)
            self.consider(m, lam)
            if self.gap() <= GAP_TOL:
                return True
            cols = self.heuristic_columns(m, lam, w, mu)
            if cols and m.add(cols):
                self.progress_line()
                continue
            self.check_time()
            self.exact.set_time_limit(self.remaining())
            try:
                priced = self.exact.solve(w)
            finally:
                self.exact.set_time_limit(None)
            if priced is None:
                raise LeximinError("No valid panel exists.")
            c, v, bound = priced
            self.bound = max(self.bound, value - max(0.0, bound - mu))
            if self.gap() <= GAP_TOL:
                return True
            if v - mu > PRICING_TOL and m.add([c]):
                self.progress_line()
                continue
            # no composition improves the master (up to the MIP's tolerance): tighten 1/L at L
            if L > 0 and 1.0 / L - theta > CUT_TOL / L and m.add_cut(L):
                self.progress_line()
                continue
            # nothing left to add: the master's value is the optimum up to the tolerances
            return self.gap() <= 1e-6

    def progress_line(self) -> None:
        if self.best is None:
            return
        val = self.best[0]
        gap = self.gap()
        done = 0.0 if not math.isfinite(gap) else 1.0 / (1.0 + max(0.0, math.log10(max(gap, GAP_TOL) / GAP_TOL)))
        text = f"Balancing the chances: {len(self.best[1])} panels in use, score {val:.6f}" + (
            f" (proven within {100 * gap:.4f}% of the best possible)" if math.isfinite(gap) else ""
        )
        self.report(text, 0.05 + 0.9 * done)


def goldilocks(
    instance: Instance,
    *,
    gamma: float = DEFAULT_GAMMA,
    time_limit: float | None = None,
    progress: Callable[[str, float], None] | None = None,
    control: Control | None = None,
) -> GoldilocksDistribution:
    """The Goldilocks_gamma lottery over valid panels of ``instance`` (see the module doc).

    Same contract as ``leximin``: raises ``InfeasibleQuotas`` when no panel meets the quotas;
    with ``time_limit`` (seconds), returns the best lottery found when time runs out, with
    ``complete=False`` (``objective - objective_bound`` says how far it may be from the optimum);
    ``control`` may stop it early (keeping the best lottery found) or receive snapshots.
    """
    if not isinstance(gamma, (int, float)) or not math.isfinite(gamma) or gamma <= 0:
        raise InputError(f"gamma must be a positive number, not {gamma!r}")
    t0 = time.perf_counter()
    ts, first = _lx.types_and_a_first_panel(instance)
    deadline = None if time_limit is None else t0 + float(time_limit)
    solver = _Solver(ts, float(gamma), deadline, progress, control)
    complete = True
    try:
        complete = solver.run(first)
    except TimeoutError:
        complete = False
    if solver.best is None:
        raise LeximinError(
            f"The time limit of {time_limit} s ran out before a lottery giving everybody a chance "
            "was found. Allow more time for the computation."
        )
    dist = solver.distribution(complete=complete)
    dist.seconds = time.perf_counter() - t0
    if progress is not None:
        progress("Done", 1.0)
    return dist
