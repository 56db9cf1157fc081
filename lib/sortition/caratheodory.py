"""A fractional composition written directly as a mixture of valid panels (constructive Carathéodory).

``leximin.py`` computes the relaxed leximin p* (a point of Q, the polytope of *fractional*
compositions: ``0 <= c_t <= n_t``, ``sum c = k``, quotas, at most one per multi-person household)
and then looks for weights on integer compositions whose mean is ``x = n p*`` by column generation.
Near the optimum the master's duals say little (on the city, region and households shapes the bound
is set by one group at the top of its quota range, and every panel with the right count prices at
zero), and column generation tails off. This module writes x as a mixture directly, without a
master LP:

- Keep the remainder ``x_rem`` (unnormalised) and its mass r (at first ``x_rem = x``, r = 1); the
  current point ``y = x_rem / r`` lies in Q.
- The *minimal face* F of y: every constraint tight at y (a bound ``c_t = 0`` or ``c_t = n_t``, a
  quota at its minimum or maximum, the panel size, a household full) becomes an equality. Every
  mixture of panels with mean y uses only panels in F.
- Find an integer composition c in F: the LP over F at prices that favour the types and quotas with
  the most room left (``sum_i a_i / slack_i`` over the constraints ``a_i c <= b_i`` not tight at y:
  the gradient of the log-barrier, so that the step below is long), its vertex taken when integral,
  else rounded by a small MIP over its fractional coordinates (the others fixed), else by a MIP over
  the whole face near the LP's point with a short time cap.
- Step: ``theta = min(r, min s_i / d_i)`` over the constraints not tight at y with
  ``d_i = b_i - a_i c > 0``, where ``s_i = b_i r - a_i x_rem >= 0``; then ``(x_rem - theta c) /
  (r - theta)`` is still in Q, and at least one more constraint is tight (the face's dimension drops).
  Record (theta, c), ``x_rem -= theta c``, ``r -= theta``.

It ends when r is (numerically) 0, or *stuck*: Q is not integral with three features or more, so y
can leave the integer hull while it stays in Q (no integer point in F, or the rounding finds none),
or the steps become tiny. What it found is handed to the engine's master as seed columns: the master
still decides and certifies (its z = 1 and the relaxed bounds are the proof), so nothing here needs
to be exact.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import highspy
import numpy as np

import lib.sortition.typespace as _typespace
from lib.sortition.sampling import PanelSampler
from lib.sortition.typespace import INF, TypeSpace, _csr, composition_rows, new_highs

TIGHT_TOL = 1e-9  # a constraint is tight when its slack at y = x_rem / r is below this (seat units)
NOISE = 1e-12  # or when its slack at x_rem is below this (floating-point noise)
MIN_MASS = 1e-10  # the decomposition is complete when the remaining mass is below this
TINY_STEP = 1e-9  # a step with theta below this (relative to r) counts as tiny
TINY_STEPS = 20  # stop after this many tiny steps
WIDE_MIP_SECONDS = 0.3  # the MIP over the face near the LP's point, when the small rounding MIP fails
SMALL_MIP_SECONDS = 0.2
DIVE = True
SAMPLES = 4  # roundings of the LP's point by sampling.PanelSampler tried first
MIN_SLACK = 1e-4  # the prices count a slack (of y) below this as this (keeps their range sane)
POOL_SHARE = 0.5  # a panel from the pool is taken when its step is at least this share of the last fresh one's
IMPROVING_SOLS = 2  # the wide MIP stops after this many improving solutions
WIDEN = (1, -1)  # the wide MIP: within 1 of the LP's point, then the whole face (-1)
LOOSEN = (0, 40)  # the small rounding MIP: exact box first, then loosened (see _round_small)


@dataclass
class Decomposition:
    """Panels (rows of ``panels``) with ``weights``: ``weights @ panels + remainder == x``, and
    ``weights.sum() + mass == 1`` (the remainder's mass)."""

    panels: np.ndarray
    weights: np.ndarray
    remainder: np.ndarray
    mass: float
    steps: int = 0
    integral: int = 0  # LP vertices that were integral
    rounded: int = 0  # rounded by the small MIP over the fractional coordinates
    wide: int = 0  # found by the MIP over the face near the LP's point
    sampled: int = 0  # rounded by dependent rounding with exchange repair
    dived: int = 0  # rounded by diving on the face's LP
    pooled: int = 0  # steps that took a panel found before (still in the face, the longest step)
    stuck: str = ""  # why it stopped before the mass ran out ("" when complete)
    seconds: float = 0.0
    trace: list[tuple[int, float, int]] = field(default_factory=list)  # (step, mass left, tight constraints)


class FaceDecomposer:
    """Decomposes fractional compositions of ``ts`` (see the module's note). One instance keeps its
    HiGHS models between calls."""

    def __init__(self, ts: TypeSpace):
        self.ts = ts
        T = ts.T
        self.n = ts.sizes.astype(np.float64)
        rows = composition_rows(ts)
        self.R = R = len(rows)
        self.G = np.zeros((R, T))
        for i, r in enumerate(rows):
            self.G[i, r[2]] = r[3]
        self.lo = np.array([r[0] for r in rows], dtype=np.float64)
        self.hi = np.array([r[1] for r in rows], dtype=np.float64)
        self.has_lo = np.isfinite(self.lo) & (self.lo > -INF)
        self.has_hi = np.isfinite(self.hi) & (self.hi < INF)
        starts, idx, val = _csr([(r[2], r[3]) for r in rows])
        self._starts, self._idx, self._val = starts, idx, val
        self.lp = self._model(integer=False)
        self.mip = self._model(integer=True)
        self.mip.setOptionValue("mip_rel_gap", 1e-2)
        self.mip.setOptionValue("mip_max_improving_sols", IMPROVING_SOLS)
        self.all = np.arange(T, dtype=np.int32)
        self.rows_all = np.arange(R, dtype=np.int32)
        self.dive_seconds = 0.0
        self.sample_seconds = 0.0
        # the sampler's quotas are ts.quotas; G's rows: the size, the quotas with members, the households
        with_members = [qi for qi in range(len(ts.quotas)) if ts.A[qi].any()]
        self.quota_rows = np.zeros(len(ts.quotas), dtype=np.int64)
        self.sampler: PanelSampler | None = None
        if len(with_members) == len(ts.quotas):
            self.quota_rows = np.arange(1, 1 + len(ts.quotas))
            self.sampler = PanelSampler(ts)
        self.rng = np.random.default_rng(20261207)
        self._deadline: float | None = None  # the running decomposition's deadline, on self._clock
        self._clock = time.process_time

    def _limit(self, h) -> None:
        """Every solve of a decomposition ends by its deadline (HiGHS's own time limit, set before each run):
        a solve that would run on stops there and counts as a failed one."""
        left = None if self._deadline is None else max(0.0, self._deadline - self._clock())
        _typespace.limit_next_solve(h, left)

    def _model(self, *, integer: bool):
        T = self.ts.T
        h = new_highs()
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.addVars(T, np.zeros(T), self.n)
        if integer:
            h.changeColsIntegrality(T, np.arange(T, dtype=np.int32), np.ones(T, dtype=np.uint8))
        lo = np.where(np.isfinite(self.lo), self.lo, -INF)
        hi = np.where(np.isfinite(self.hi), self.hi, INF)
        h.addRows(self.R, lo, hi, len(self._idx), self._starts, self._idx, self._val)
        return h

    def target(
        self,
        goal: np.ndarray,
        seconds: float | None = None,
        floor: np.ndarray | None = None,
        weight: np.ndarray | None = None,
    ) -> np.ndarray | None:
        """The point x of Q (exactly, up to rounding) with ``x_t >= n_t goal_t`` for every type t where
        possible: the least total shortfall ``sum_t max(0, n_t goal_t - x_t)``. The relaxation's p* meets
        Q only within its LP's tolerances (loosened up to 1e-7 when it must), and a decomposition of a
        point outside Q cannot be completed. ``self.shortfall``: the largest shortfall, in probability.
        With ``seconds``, the LP stops after that long (then None). With ``floor``, also ``x_t >= n_t floor_t``
        for every type (a point the engine's level 1 reached: on the city pool b:0, p* lies 4.5e-8 outside Q,
        and the least shortfall took it from a type at the minimum); if that is infeasible (LP noise), without.
        With ``weight``, the shortfall of type t costs ``weight_t`` (hull_seed.py weighs the types pinned at
        the level-1 bound)."""
        if floor is not None:
            x = self._target(goal, seconds, floor, weight)
            if x is not None:
                return x
        return self._target(goal, seconds, None, weight)

    def _target(
        self, goal: np.ndarray, seconds: float | None, floor: np.ndarray | None, weight: np.ndarray | None = None
    ) -> np.ndarray | None:
        T = self.ts.T
        h = new_highs()
        h.setOptionValue("primal_feasibility_tolerance", 1e-10)
        h.setOptionValue("dual_feasibility_tolerance", 1e-10)
        # columns: x_0..x_{T-1}, then the shortfalls u_0..u_{T-1} >= 0 (cost 1 each, or weight_t; minimised)
        lower = np.zeros(2 * T)
        if floor is not None:
            lower[:T] = np.clip(self.n * floor, 0.0, self.n)
        h.addVars(2 * T, lower, np.concatenate([self.n, np.full(T, INF)]))
        cost = np.ones(T) if weight is None else np.asarray(weight, dtype=np.float64)
        h.changeColsCost(T, np.arange(T, 2 * T, dtype=np.int32), cost)
        lo = np.where(np.isfinite(self.lo), self.lo, -INF)
        hi = np.where(np.isfinite(self.hi), self.hi, INF)
        h.addRows(self.R, lo, hi, len(self._idx), self._starts, self._idx, self._val)
        idx = np.empty(2 * T, dtype=np.int32)
        idx[0::2] = np.arange(T)
        idx[1::2] = np.arange(T, 2 * T)
        h.addRows(T, self.n * goal, np.full(T, INF), 2 * T, np.arange(T, dtype=np.int32) * 2, idx, np.ones(2 * T))
        _typespace.limit_next_solve(h, None if seconds is None else max(0.0, seconds))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        sol = np.asarray(h.getSolution().col_value)
        self.shortfall = float(np.max(sol[T:] / self.n, initial=0.0))
        return np.clip(sol[:T], 0.0, self.n)

    # -- the face and the prices
    def _face(self, x_rem: np.ndarray, r: float):
        """Slacks (unnormalised) of every constraint at x_rem and which are tight."""
        n, G = self.n, self.G
        gx = G @ x_rem
        s_clo = x_rem  # c_t >= 0
        s_chi = n * r - x_rem  # c_t <= n_t
        s_rlo = np.where(self.has_lo, gx - self.lo * r, INF)
        s_rhi = np.where(self.has_hi, self.hi * r - gx, INF)
        tol = max(NOISE, TIGHT_TOL * r)
        return (s_clo, s_chi, s_rlo, s_rhi), (s_clo <= tol, s_chi <= tol, s_rlo <= tol, s_rhi <= tol)

    def _prices(self, slacks, tight, r: float, power: float) -> np.ndarray:
        s_clo, s_chi, s_rlo, s_rhi = slacks
        t_clo, t_chi, t_rlo, t_rhi = tight
        # slacks of y = x_rem / r; tight constraints contribute nothing (they hold as equalities)
        inv = lambda s, t: np.where(t | ~np.isfinite(s), 0.0, 1.0 / np.maximum(s / r, MIN_SLACK) ** power)  # noqa: E731
        w = inv(s_chi, t_chi) - inv(s_clo, t_clo)
        w = w + self.G.T @ (inv(s_rhi, t_rhi) - inv(s_rlo, t_rlo))
        return w / max(float(np.abs(w).max()), 1e-300)  # a sane range for the simplex

    # -- an integer point of the face
    def _face_bounds(self, tight):
        t_clo, t_chi, t_rlo, t_rhi = tight
        clo = np.where(t_chi, self.n, 0.0)
        chi = np.where(t_clo, 0.0, self.n)
        chi = np.maximum(chi, clo)
        rlo = np.where(t_rhi, self.hi, np.where(self.has_lo, self.lo, -INF))
        rhi = np.where(t_rlo, self.lo, np.where(self.has_hi, self.hi, INF))
        return clo, chi, rlo, rhi

    def _in_face(self, c: np.ndarray, bounds) -> bool:
        clo, chi, rlo, rhi = bounds
        if (c < clo - 1e-9).any() or (c > chi + 1e-9).any():
            return False
        g = self.G @ c
        return bool(((g >= rlo - 1e-9) & (g <= rhi + 1e-9)).all())

    def _round_small(
        self, xlp: np.ndarray, w: np.ndarray, bounds, seconds: float, *, loosen: int = 0
    ) -> np.ndarray | None:
        """A MIP over the LP point's fractional coordinates (each to its floor or ceiling), the others
        fixed; with ``loosen``, every type on the LP's panel may also lose a seat and the ``loosen``
        best-priced absent types may gain one (within the face)."""
        clo, chi, rlo, rhi = bounds
        lo = np.floor(xlp + 1e-9)
        hi = np.ceil(xlp - 1e-9)
        if loosen:
            lo = np.maximum(np.where(xlp > 1e-9, lo - 1, lo), clo)
            absent = np.flatnonzero((xlp <= 1e-9) & (chi >= 1))
            best = absent[np.argsort(-w[absent], kind="stable")[:loosen]]
            hi[best] = 1.0
            hi = np.minimum(hi, chi)
        free = lo < hi
        fr = np.flatnonzero(free)
        if len(fr) == 0:
            return None
        base = self.G @ np.where(free, 0.0, lo)
        sub = self.G[:, fr]
        touched = np.flatnonzero(np.abs(sub).sum(axis=1) > 0)
        other = np.setdiff1d(np.arange(self.R), touched)
        if ((base[other] < rlo[other] - 1e-9) | (base[other] > rhi[other] + 1e-9)).any():
            return None
        h = new_highs(mip_gap=1e-3)
        left = None if self._deadline is None else max(0.0, self._deadline - self._clock())
        _typespace.limit_next_solve(h, seconds if left is None else min(seconds, left))
        nf = len(fr)
        h.addVars(nf, lo[fr], hi[fr])
        h.changeColsIntegrality(nf, np.arange(nf, dtype=np.int32), np.ones(nf, dtype=np.uint8))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.changeColsCost(nf, np.arange(nf, dtype=np.int32), w[fr])
        rows = []
        for i in touched:
            nz = np.flatnonzero(sub[i])
            rows.append((rlo[i] - base[i], rhi[i] - base[i], nz, sub[i, nz]))
        starts, idx, val = _csr([(list(map(int, r[2])), list(map(float, r[3]))) for r in rows])
        h.addRows(len(rows), np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), len(idx), starts, idx, val)
        h.run()
        if h.getInfo().primal_solution_status != 2:
            return None
        c = np.where(free, 0.0, lo)
        c[fr] = np.rint(np.asarray(h.getSolution().col_value))
        return c

    def _sample(self, xlp: np.ndarray, w: np.ndarray, bounds) -> np.ndarray | None:
        """Dependent rounding of the LP's point with exchange repair (``sampling.PanelSampler``) with the
        face's bounds as the quotas and the types' sizes; the first rounding in the face."""
        clo, chi, rlo, rhi = bounds
        sp = self.sampler
        assert sp is not None
        sp.qmin = np.ceil(rlo[self.quota_rows] - 1e-9).astype(np.int64)
        sp.qmax = np.floor(rhi[self.quota_rows] + 1e-9).astype(np.int64)
        sp.sizes = chi.astype(np.int64)
        try:
            for c in sp.roundings(xlp, SAMPLES, self.rng, w):
                c = c.astype(np.float64)
                if self._in_face(c, bounds):
                    return c
        finally:
            sp.qmin, sp.qmax, sp.sizes = self.ts.qmin, self.ts.qmax, self.ts.sizes
        return None

    def _dive(self, xlp: np.ndarray, bounds, max_fixes: int) -> np.ndarray | None:
        """Diving on the face's LP (its model holds the face and the prices): fix the fractional
        coordinate nearest to an integer at that integer (the other one if the LP becomes infeasible),
        re-solve warm, until the point is integral."""
        clo, chi, _, _ = bounds
        T = self.ts.T
        h = self.lp
        lo, hi = clo.copy(), chi.copy()
        x = xlp
        try:
            for _ in range(max_fixes):
                frac = np.abs(x - np.rint(x))
                fr = np.flatnonzero(frac > 1e-9)
                if len(fr) == 0:
                    return np.rint(x)
                t = int(fr[np.argmin(frac[fr])])
                near = float(np.rint(x[t]))
                other = float(np.floor(x[t])) if near > x[t] else float(np.ceil(x[t]))
                for v in (near, other):
                    h.changeColBounds(t, v, v)
                    self._limit(h)
                    h.run()
                    if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                        lo[t] = hi[t] = v
                        x = np.asarray(h.getSolution().col_value)
                        break
                else:
                    return None
            return None
        finally:
            h.changeColsBounds(T, self.all, clo, chi)

    def _round_wide(self, xlp: np.ndarray, w: np.ndarray, bounds, seconds: float, widen: int = 1) -> np.ndarray | None:
        """The MIP over the whole face within ``widen`` of the LP's point, stopped after ``seconds``."""
        clo, chi, rlo, rhi = bounds
        T = self.ts.T
        h = self.mip
        lo = np.maximum(np.floor(xlp + 1e-9) - widen, clo)
        hi = np.minimum(np.ceil(xlp - 1e-9) + widen, chi)
        if widen < 0:  # the whole face
            lo, hi = clo, chi
        h.changeColsBounds(T, self.all, lo, hi)
        h.changeRowsBounds(self.R, self.rows_all, rlo, rhi)
        h.changeColsCost(T, self.all, w)
        left = None if self._deadline is None else max(0.0, self._deadline - self._clock())
        _typespace.limit_next_solve(h, seconds if left is None else min(seconds, left))
        h.run()
        if h.getInfo().primal_solution_status != 2:
            return None
        return np.rint(np.asarray(h.getSolution().col_value))

    def _face_lp(self, w: np.ndarray, bounds) -> np.ndarray | None:
        """The LP over the face at prices w: its optimal vertex, or None."""
        clo, chi, rlo, rhi = bounds
        T = self.ts.T
        h = self.lp
        h.changeColsBounds(T, self.all, clo, chi)
        h.changeRowsBounds(self.R, self.rows_all, rlo, rhi)
        h.changeColsCost(T, self.all, w)
        self._limit(h)
        h.run()
        if h.getModelStatus() not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
            h.clearSolver()
            self._limit(h)
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
        return np.asarray(h.getSolution().col_value)

    def panel_in_face(self, w: np.ndarray, bounds, stats: Decomposition, deadline: float | None) -> np.ndarray | None:
        """An integer point of the face (see the module's note), or None."""
        xlp = self._face_lp(w, bounds)
        if xlp is None:
            return None
        c = np.rint(xlp)
        if np.abs(c - xlp).max() <= 1e-9 and self._in_face(c, bounds):
            stats.integral += 1
            return c
        if SAMPLES and self.sampler is not None:
            t = time.process_time()
            c0 = self._sample(xlp, w, bounds)
            self.sample_seconds += time.process_time() - t
            if c0 is not None:
                stats.sampled += 1
                return c0
        if DIVE:
            t = time.process_time()
            c1 = self._dive(xlp, bounds, 2 * self.R + 10)
            self.dive_seconds += time.process_time() - t
            if c1 is not None and self._in_face(c1, bounds):
                stats.dived += 1
                return c1
        for loosen in LOOSEN:
            c2 = self._round_small(xlp, w, bounds, SMALL_MIP_SECONDS, loosen=loosen)
            if c2 is not None and self._in_face(c2, bounds):
                stats.rounded += 1
                return c2
        left = WIDE_MIP_SECONDS if deadline is None else min(WIDE_MIP_SECONDS, deadline - self._clock())
        if left <= 0:
            return None
        for widen in WIDEN:
            c3 = self._round_wide(xlp, w, bounds, left, widen)
            if c3 is not None and self._in_face(c3, bounds):
                stats.wide += 1
                return c3
        return None

    # -- the decomposition
    def decompose(
        self,
        x: np.ndarray,
        *,
        seconds: float | None = None,
        power: float = 1.0,
        max_steps: int | None = None,
        clock=time.process_time,
        on_step: Callable[[], None] | None = None,
    ) -> Decomposition:
        """Panels and weights whose weighted sum is as much of ``x`` (a point of Q) as this finds.
        ``on_step()`` is called before every step (the engine's check of its deadline and of a stop request,
        which end the decomposition by raising)."""
        t0 = clock()
        deadline = None if seconds is None else t0 + seconds
        self._deadline, self._clock = deadline, clock
        ts = self.ts
        x_rem = np.clip(np.asarray(x, dtype=np.float64), 0.0, self.n).copy()
        r = 1.0
        panels: list[np.ndarray] = []
        weights: list[float] = []
        out = Decomposition(np.zeros((0, ts.T), dtype=np.int64), np.zeros(0), x_rem, r)
        tiny = 0
        fresh = 1.0  # the last fresh panel's step, relative to the mass left
        self.pool = np.zeros((0, ts.T))
        self.pool_rows = np.zeros((0, self.R))
        self.pool_keys: set[bytes] = set()
        limit = max_steps if max_steps is not None else 4 * (ts.T + self.R) + 10
        while True:
            if r <= MIN_MASS:
                break
            if out.steps >= limit:
                out.stuck = "step limit"
                break
            if self._out_of_time(on_step):
                out.stuck = "time"
                break
            slacks, tight = self._face(x_rem, r)
            bounds = self._face_bounds(tight)
            w = self._prices(slacks, tight, r, power)
            c, theta = self._from_pool(slacks, tight, bounds, r)
            if c is None or theta < POOL_SHARE * fresh * r:
                c2 = self.panel_in_face(w, bounds, out, deadline)
                if c2 is not None:
                    self._add_to_pool(c2)
                    theta2 = self._step(c2, slacks, tight, r)
                    fresh = theta2 / r
                    if c is None or theta2 > theta:
                        c, theta = c2, theta2
                    else:
                        out.pooled += 1
            else:
                out.pooled += 1
            if c is None:
                out.stuck = "no integer point found in the face"
                break
            if theta <= TINY_STEP * r:
                tiny += 1
                if tiny >= TINY_STEPS:
                    out.stuck = "tiny steps"
                    break
            out.steps += 1
            if theta <= 0:
                continue
            panels.append(c.astype(np.int64))
            weights.append(theta)
            x_rem = x_rem - theta * c
            r = r - theta
            x_rem[np.abs(x_rem) <= 1e-13] = 0.0
            out.trace.append((out.steps, r, int(sum(t.sum() for t in tight))))
        out.panels = np.array(panels, dtype=np.int64).reshape(len(panels), ts.T)
        out.weights = np.array(weights)
        out.remainder = x_rem
        out.mass = max(0.0, r)
        out.seconds = clock() - t0
        self._deadline = None
        return out

    def _out_of_time(self, on_step: Callable[[], None] | None) -> bool:
        """The running decomposition's deadline has passed (or ``on_step()`` raises: the engine's own)."""
        if self._deadline is not None and self._clock() > self._deadline:
            return True
        if on_step is not None:
            on_step()
        return False

    def _add_to_pool(self, c: np.ndarray) -> None:
        key = c.astype(np.int64).tobytes()
        if key not in self.pool_keys:
            self.pool_keys.add(key)
            self.pool = np.vstack([self.pool, c[None, :]])
            self.pool_rows = np.vstack([self.pool_rows, (self.G @ c)[None, :]])

    def _from_pool(self, slacks, tight, bounds, r: float) -> tuple[np.ndarray | None, float]:
        """The panel found before that is still in the face and allows the longest step (the face only
        shrinks, so the others are dropped for good)."""
        if len(self.pool) == 0:
            return None, 0.0
        clo, chi, rlo, rhi = bounds
        C, GC = self.pool, self.pool_rows
        ok = ((C >= clo - 1e-9) & (C <= chi + 1e-9)).all(axis=1)
        ok &= ((GC >= rlo - 1e-9) & (GC <= rhi + 1e-9)).all(axis=1)
        self.pool, self.pool_rows = C[ok], GC[ok]
        self.pool_keys = {c.astype(np.int64).tobytes() for c in self.pool}
        if not ok.any():
            return None, 0.0
        thetas = self._steps(self.pool, self.pool_rows, slacks, tight, r)
        i = int(np.argmax(thetas))
        return self.pool[i].copy(), float(thetas[i])

    def _steps(self, C: np.ndarray, GC: np.ndarray, slacks, tight, r: float) -> np.ndarray:
        """``_step`` for every row of C (GC: their row values)."""
        s_clo, s_chi, s_rlo, s_rhi = slacks
        t_clo, t_chi, t_rlo, t_rhi = tight
        theta = np.full(len(C), r)
        for s, d, t in (
            (s_clo, C, t_clo),
            (s_chi, self.n - C, t_chi),
            (s_rlo, GC - np.where(self.has_lo, self.lo, 0.0), t_rlo | ~self.has_lo),
            (s_rhi, np.where(self.has_hi, self.hi, 0.0) - GC, t_rhi | ~self.has_hi),
        ):
            cols = np.flatnonzero(~t)
            if len(cols) == 0:
                continue
            dd = d[:, cols]
            ss = np.maximum(np.where(np.isfinite(s[cols]), s[cols], 0.0), 0.0)
            ratio = np.where(dd > 1e-12, ss[None, :] / np.where(dd > 1e-12, dd, 1.0), np.inf)
            theta = np.minimum(theta, ratio.min(axis=1))
        return np.maximum(theta, 0.0)

    def _step(self, c: np.ndarray, slacks, tight, r: float) -> float:
        """The longest step theta <= r with (x_rem - theta c) / (r - theta) still in Q."""
        s_clo, s_chi, s_rlo, s_rhi = slacks
        t_clo, t_chi, t_rlo, t_rhi = tight
        gc = self.G @ c
        theta = r
        for s, d, t in (
            (s_clo, c, t_clo),
            (s_chi, self.n - c, t_chi),
            (s_rlo, gc - self.lo, t_rlo | ~self.has_lo),
            (s_rhi, self.hi - gc, t_rhi | ~self.has_hi),
        ):
            m = ~t & (d > 1e-12)
            if m.any():
                theta = min(theta, float(np.min(np.maximum(s[m], 0.0) / d[m])))
        return max(0.0, theta)
