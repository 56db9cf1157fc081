"""Level 1 by an equal-chance design: the group at the top of its quota range, fair by construction.

On many pools the proven minimum is set by one group G at the top of its quota range (e.g. "very
concerned": at most 34 seats for 870 people): the relaxation pins every member of G at
``max / |G|`` and nobody else. Its dual is then uniform on G and optimal for the whole master, so
(complementary slackness) every panel of every optimal lottery has exactly ``max`` members of G,
and the lottery must give every type of G *exactly* its share. Column generation over the whole
master reaches that only slowly: near the end its prices on G are nearly uniform and give it no
direction, and the last 1% of z took 60-85% of the time (``bench/minimum_profile.py``).

Here G's fairness is built in instead. An equal-chance design (``systematic.py``) over G's
members, listed in an order sorted by their other features, gives a few dozen *samples* (G-parts
of ``max`` people) with weights ``a_i``, in which everybody in G is selected exactly ``max / |G|``.
Every panel made by completing sample i with people outside G is a column of sample i, and the
*design master* is::

    maximise  z   (0 <= z <= 1)
    s.t.      sum_{j of sample i} lambda_j = a_i                 for every sample i   (dual mu_i)
              sum_j c_jt lambda_j - zcoef_t z >= rhs_t          for every type t outside G

G's rows are met exactly by any feasible point (each sample keeps its weight), so they are left
out: the LP has ``samples + types outside G`` rows instead of ``types + 1``, and the types outside
G are not pinned (they have room). Its pricing is one small LP per sample (the LP pricer with G's
part fixed, ``_Solver.complete_sample``), at the prices ``w`` outside G: a completion improves it
when ``w.c > mu_i``.

It is a heuristic for the proof, never a bound: the design fixes G's parts, and the optimum may
need others. It is used only when it reaches z = 1 (then its columns, added to the engine's
master, reach the proven bound there: level 1 is closed exactly as before); when a sample cannot
be completed (a G-part that no valid panel extends, e.g. two members of one household or too many
of one age band), when its pricing finds nothing, or when its time is up, it gives up and the
engine's master goes on as before, without its columns. It runs once, from ``design_hook`` (called
by ``_Solver._reach_level`` after each solve of level 1's master): at the first round on pools of
``DESIGN_FROM_TYPES`` types or more, on smaller ones only when the climb of z tails off
(``worth_designing``), so that pools whose level 1 closes quickly (the demo, the local and at-quota
shapes) pay nothing.
"""

from __future__ import annotations

import math
import time
from typing import Any

import highspy
import numpy as np

from lib.sortition.systematic import aside_and_blocks, equal_chance_samples, serpentine_order
from lib.sortition.typespace import INF, new_highs

# leximin's _Solver and _MasterBase: leximin imports this module, so this one does not import leximin (not even
# for the types: tests/test_architecture.py forbids the cycle); what it uses of them is named in each docstring
_Solver = Any
_MasterBase = Any

DESIGN_TOL = 1e-9  # reduced cost a completion must exceed; z >= 1 - DESIGN_TOL closes
DESIGN_ROUNDS = 60  # pricing rounds of the design master at most
DESIGN_TIME_SHARE = 0.5  # of the time left (or this many seconds without a limit, see DESIGN_SECONDS)
DESIGN_SECONDS = 60.0


def top_group(ts, pinned: np.ndarray, v1: float) -> int | None:
    """The range quota (``min < max``) whose value's types are exactly the pinned ones and whose
    maximum they fill (``sum_t n_t v1 = max``), or None. An exact quota has its own design
    (``_Solver.design_columns``)."""
    if not pinned.any():
        return None
    n = ts.sizes.astype(np.float64)
    for qi, q in enumerate(ts.quotas):
        g = ts.A[qi] > 0
        if q.max <= 0 or q.min >= q.max or (pinned & ~g).any() or not pinned[g].all() or g.sum() < 1:
            continue
        if abs(float(n[g].sum()) * v1 - q.max) <= 1e-6:
            return qi
    return None


def cyclic_samples(N: int, m: int) -> list[tuple[float, np.ndarray]] | None:
    """An equal-chance design (everybody m / N) for the lists ``equal_chance_samples`` leaves out
    (836 people, 39 seats: the ``s`` blocks it would deal exceed the ``q`` it has). N = q m + r,
    0 < r < m: set aside r people spread along the list; the others make q blocks (every q-th);
    q - 1 blocks get weight m / N, the last r / N; m extra samples (weight 1 / N each) hold the r
    set-aside people and m - r consecutive members (cyclically) of the last block, so that each of
    its members is in m - r of them: ``r / N + (m - r) / N = m / N``."""
    if not (0 < m < N):
        return None
    q, r = divmod(N, m)
    if r == 0:
        return None
    split = aside_and_blocks(N, r, q)
    if split is None:
        return None
    aside, blocks = split
    out: list[tuple[float, np.ndarray]] = [(m / N, b) for b in blocks[:-1]]
    last = blocks[-1]
    out.append((r / N, last))
    for k in range(m):
        out.append((1.0 / N, np.sort(np.concatenate([aside, last[(k + np.arange(m - r)) % m]]))))
    return out


def people_in_order(ts, members: np.ndarray, cols: list[int]) -> np.ndarray:
    """The group's people (a type index per person), listed by their other features ``cols`` (the tightest
    first) in serpentine order, so that an equal-chance design over the list spreads every feature evenly."""
    vocab: list[dict[str | None, int]] = [{} for _ in ts.features]
    codes = np.array(
        [[vocab[j].setdefault(ts.keys[t][j], len(vocab[j])) for j in cols] for t in members], dtype=np.int64
    ).reshape(len(members), len(cols))
    order = members[serpentine_order(codes)]
    return np.repeat(order, ts.sizes[order])


def design_samples(solver: _Solver, qi: int, v1: float) -> list[tuple[float, np.ndarray]] | None:
    """The equal-chance design over quota ``qi``'s people: (weight, seats per type) samples of
    ``max`` people, everybody in the group in exactly ``max / |G|`` of the weight."""
    ts = solver.ts
    q = ts.quotas[qi]
    group = ts.A[qi] > 0
    members = np.flatnonzero(group)
    if int(ts.sizes[members].sum()) < 2:
        return None
    people = people_in_order(ts, members, solver.tight_order(v1, q.feature))
    samples = equal_chance_samples(len(people), int(q.max)) or cyclic_samples(len(people), int(q.max))
    if samples is None:
        return None
    return [(w, np.bincount(people[pos], minlength=ts.T).astype(np.float64)) for w, pos in samples]


class DesignMaster:
    """The design master LP of the module's note (HiGHS, primal simplex)."""

    def __init__(self, weights: list[float], outside: np.ndarray, zcoef: np.ndarray, rhs: np.ndarray):
        self.m = len(weights)
        self.outside = np.flatnonzero(outside)
        self.T = len(outside)
        h = new_highs()
        h.setOptionValue("primal_feasibility_tolerance", 1e-10)
        h.setOptionValue("dual_feasibility_tolerance", 1e-10)
        h.setOptionValue("simplex_strategy", 4)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.addVars(1, np.array([0.0]), np.array([1.0]))
        h.changeColsCost(1, np.array([0], dtype=np.int32), np.array([1.0]))
        w = np.asarray(weights, dtype=np.float64)
        empty = np.zeros(self.m + 1, dtype=np.int32)
        h.addRows(self.m, w, w, 0, empty[: self.m], np.array([], dtype=np.int32), np.array([]))
        o = len(self.outside)
        h.addRows(
            o,
            rhs[self.outside].astype(np.float64),
            np.full(o, INF),
            o,
            np.arange(o, dtype=np.int32),
            np.zeros(o, dtype=np.int32),
            -zcoef[self.outside].astype(np.float64),
        )
        self.row_of = np.full(self.T, -1, dtype=np.int64)
        self.row_of[self.outside] = self.m + np.arange(o)
        self.h = h
        self.columns: list[np.ndarray] = []
        self.sample_of: list[int] = []
        self.keys: set[bytes] = set()

    def add(self, i: int, c: np.ndarray) -> bool:
        key = c.astype(np.int64).tobytes()
        if key in self.keys:
            return False
        self.keys.add(key)
        nz = np.flatnonzero(c[self.outside])
        idx = np.concatenate([[i], self.m + nz]).astype(np.int32)
        val = np.concatenate([[1.0], c[self.outside][nz].astype(np.float64)])
        self.h.addCol(0.0, 0.0, INF, len(idx), idx, val)
        self.columns.append(c.astype(np.int64))
        self.sample_of.append(i)
        return True

    def solve(self, seconds: float | None) -> tuple[float, np.ndarray, np.ndarray, np.ndarray] | None:
        """(z, lambda, mu per sample, w per type, 0 on the group) or None (no optimum)."""
        h = self.h
        h.setOptionValue("time_limit", INF if seconds is None else h.getRunTime() + max(0.0, seconds))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        sol = h.getSolution()
        d = np.asarray(sol.row_dual, dtype=np.float64)
        # maximisation: a column's reduced cost is -(mu_i + sum_t c_t d_t); w = -d >= 0 on the type rows
        w = np.zeros(self.T)
        w[self.outside] = np.maximum(-d[self.m :], 0.0)
        return float(sol.col_value[0]), np.asarray(sol.col_value[1:], dtype=np.float64), d[: self.m].copy(), w


ROUNDINGS = 2  # roundings of each sample's LP point per pricing round
SMALL_MIP = False  # the small rounding MIP when they all fail, in pricing rounds (else only in a round with nothing)
REPAIR_TRIES = 40  # exchanges tried (one small LP each) to repair a sample that no panel completes


def lp_point(
    solver: _Solver, group: np.ndarray, part: np.ndarray, prices: np.ndarray
) -> tuple[float, np.ndarray | None]:
    """The best fractional panel with exactly ``part`` from the group at ``prices`` outside it (the LP
    pricer's model with the group's seats fixed) and its value (-inf, None: no panel extends ``part``)."""
    lp = solver.lp_pricer
    w = np.where(group, 0.0, prices)
    lp.set_bounds(np.where(group, part, 0.0), np.where(group, part, solver.n))
    try:
        lp.h.changeColsCost(solver.ts.T, lp.all, w)
        solver.run_lp(lp.h)
        if lp.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return -math.inf, None
        x = np.asarray(lp.h.getSolution().col_value, dtype=np.float64)
        return float(w @ x), x
    finally:
        lp.reset_bounds()


def round_point(
    solver: _Solver,
    group: np.ndarray,
    part: np.ndarray,
    x: np.ndarray,
    prices: np.ndarray,
    *,
    count: int,
    small: bool,
) -> list[np.ndarray]:
    """Valid panels near ``x`` with exactly ``part`` from the group: dependent rounding with exchange
    repair (``sampling.py``, milliseconds; a rounding that moved a seat of the group is dropped), else
    (with ``small``) the LP pricer's small MIP over x's fractional coordinates."""
    lp = solver.lp_pricer
    ts = solver.ts
    w = np.where(group, 0.0, prices)
    own = part[group].astype(np.int64)
    lo, hi = np.floor(x + 1e-9), np.ceil(x - 1e-9)
    if (lo == hi).all():
        got = [lo.astype(np.int64)]
    else:
        got = [] if lp.sampler is None else lp.sampler.roundings(x, count, lp.rng, w)
        got = [c for c in got if np.array_equal(c[group], own)]
        if not got and small:
            c = lp._round_small(lo, hi, w)
            got = [] if c is None else [c]
    return [c for c in got if ts.is_valid_composition(c) and np.array_equal(c[group], own)]


def complete(
    solver: _Solver, group: np.ndarray, part: np.ndarray, prices: np.ndarray, *, count: int = 2, small: bool = True
) -> tuple[float, list[np.ndarray]]:
    """``lp_point`` and ``round_point``: valid completions of ``part`` good at ``prices``, and the LP
    bound on ``prices . c`` over all (fractional) ones."""
    bound, x = lp_point(solver, group, part, prices)
    if x is None:
        return bound, []
    return bound, round_point(solver, group, part, x, prices, count=count, small=small)


def _completable(solver: _Solver, group: np.ndarray, part: np.ndarray) -> bool:
    """Whether some fractional panel extends ``part``."""
    return lp_point(solver, group, part, np.zeros(solver.ts.T))[1] is not None


def repair_sample(
    solver: _Solver, group: np.ndarray, samples: list[tuple[float, np.ndarray]], i: int, prices: np.ndarray
) -> bool:
    """Repair sample i (that no valid panel completes) by exchanging one of its people with a person
    of another sample j of at least its weight: i gives p and takes q, and a copy of j with i's
    weight gives q and takes p (the rest of j keeps its weight). Everybody's share of the design
    is unchanged: ``a_i (P_i - p + q) + a_i (P_j - q + p) + (a_j - a_i) P_j = a_i P_i + a_j P_j``.
    The people p tried first are those in a household with another member of the sample or with a
    value over its quota's maximum. Changes ``samples`` in place (i replaced, j split); False when
    no exchange of REPAIR_TRIES makes both samples completable."""
    ts = solver.ts
    a_i, part = samples[i]
    hh_of = np.full(ts.T, -1, dtype=np.int64)
    for h, members in enumerate(ts.households):
        hh_of[list(members)] = h
    on = np.flatnonzero(part > 0)
    counts = ts.A @ part
    over = counts > ts.qmax
    shared = np.array([hh_of[t] >= 0 and int((hh_of[on] == hh_of[t]).sum()) > 1 for t in on], dtype=bool)
    bad_value = (ts.A[over][:, on] > 0).any(axis=0) if over.any() else np.zeros(len(on), dtype=bool)
    suspects = on[np.argsort(-(2 * shared + bad_value), kind="stable")]
    others = sorted(
        (j for j in range(len(samples)) if j != i and samples[j][0] >= a_i - 1e-15), key=lambda j: -samples[j][0]
    )
    tries = 0
    for p in suspects:
        for j in others:
            a_j, pj = samples[j]
            if pj[p] >= ts.sizes[p]:
                continue
            # q: on sample j, not on sample i, in no household of sample i, not of an over-full value
            cand = np.flatnonzero((pj > 0) & (part < ts.sizes) & group)
            cand = cand[cand != p]
            cand = cand[[hh_of[q] < 0 or not (hh_of[on] == hh_of[q]).any() for q in cand]]
            if over.any():
                cand = cand[~(ts.A[over][:, cand] > 0).any(axis=0)]
            for q in cand[np.argsort(-prices[cand], kind="stable")][:3]:
                tries += 1
                if tries > REPAIR_TRIES:
                    return False
                new_i = part.copy()
                new_i[p] -= 1
                new_i[q] += 1
                new_j = pj.copy()
                new_j[q] -= 1
                new_j[p] += 1
                if _completable(solver, group, new_i) and _completable(solver, group, new_j):
                    samples[i] = (a_i, new_i)
                    if a_j - a_i > 1e-15:
                        samples[j] = (a_j - a_i, pj)
                        samples.append((a_i, new_j))
                    else:
                        samples[j] = (a_j, new_j)
                    return True
    return False


def _budget(solver: _Solver):
    """A test that says when the design has used its share of the time: DESIGN_TIME_SHARE of the
    computation's time left when it started (on the solver's clock), DESIGN_SECONDS without a limit."""
    left = solver.remaining()
    if left is None:
        end = time.perf_counter() + DESIGN_SECONDS
        return lambda: time.perf_counter() > end
    floor = (1.0 - DESIGN_TIME_SHARE) * left
    return lambda: (solver.remaining() or 0.0) < floor


def first_completions(
    solver: _Solver, group: np.ndarray, samples: list[tuple[float, np.ndarray]], x: np.ndarray, over
) -> list[np.ndarray] | None:
    """One valid panel per sample (in order; ``samples`` may be repaired in place), aimed at the
    targets ``x`` (seats) outside the group not reached so far; None when a sample can be neither
    completed nor repaired (``repair_sample``), or once ``over()`` (its time is up)."""
    covered = np.zeros(solver.ts.T)
    done = 0.0
    first: list[np.ndarray] = []
    for i in range(len(samples) + REPAIR_TRIES):  # each repair adds at most one sample
        if i >= len(samples):
            break
        if over():
            return None
        solver.check_time()
        weight, part = samples[i]
        deficit = np.clip((x * (done + weight) - covered) / np.maximum(x, 1e-12), -1.0, 1.0)
        prices = np.where(group, 0.0, 1.0 + deficit)
        c = next(iter(complete(solver, group, part, prices, count=1)[1]), None)
        if c is None:
            c = solver.complete_sample(group, part, prices, quick_mip=True)
        if c is None:
            before = [p for _, p in samples[:i]]
            if not repair_sample(solver, group, samples, i, prices):
                return None  # a G-part that no valid panel completes: the design cannot be exact
            c = solver.complete_sample(group, samples[i][1], prices, quick_mip=True)
            for j, old in enumerate(before):  # a sample done before that the exchange changed
                if c is not None and not np.array_equal(old, samples[j][1]):
                    c_j = solver.complete_sample(group, samples[j][1], prices, quick_mip=True)
                    c = None if c_j is None else c
                    if c_j is not None:
                        first[j] = c_j
            if c is None:
                return None
        first.append(c)
        covered += samples[i][0] * c
        done += samples[i][0]
    return first if len(first) == len(samples) else None


def price_samples(
    solver: _Solver,
    dm: DesignMaster,
    group: np.ndarray,
    samples: list[tuple[float, np.ndarray]],
    w,
    mu,
    *,
    small: bool = SMALL_MIP,
) -> int:
    """One pricing round of the design master: every sample's LP point at the prices ``w``, and the
    ones whose bound beats the sample's price ``mu_i`` rounded (with ``small``, by the small MIP when
    dependent rounding fails); returns the columns added."""
    points = []
    for i, (_, part) in enumerate(samples):
        solver.check_time()
        bound, xi = lp_point(solver, group, part, w)
        if xi is not None and bound - mu[i] > DESIGN_TOL:
            points.append((i, xi))
    added = 0
    for i, xi in points:
        solver.check_time()
        for c in round_point(solver, group, samples[i][1], xi, w, count=ROUNDINGS, small=small):
            if float(np.dot(w, c)) - mu[i] > DESIGN_TOL and dm.add(i, c):
                added += 1
    return added


def design_level1(solver: _Solver, master: _MasterBase, qi: int, v1: float) -> list[np.ndarray] | None:
    """Columns that reach level 1 (z = 1 in ``master``) by the design of quota ``qi``'s group, or
    None (see the module's note: it gives up rather than stall)."""
    ts = solver.ts
    samples = design_samples(solver, qi, v1)
    if samples is None:
        return None
    group = ts.A[qi] > 0
    over = _budget(solver)
    q = ts.quotas[qi]
    solver.report(
        f"Panels that give everybody with {q.feature} {q.value} the same chance ({len(samples)} samples)", 0.3
    )
    first = first_completions(solver, group, samples, master.zcoef + master.rhs, over)
    if first is None:
        return None
    dm = DesignMaster([w for w, _ in samples], ~group, master.zcoef, master.rhs)
    for i, c in enumerate(first):
        dm.add(i, c)
    for _ in range(DESIGN_ROUNDS):
        solver.check_time()
        r = dm.solve(solver.remaining())
        if r is None:
            return None
        z, lam, mu, w = r
        if z >= 1.0 - DESIGN_TOL:
            return [c for c, weight in zip(dm.columns, lam) if weight > 0] or None
        if over():
            return None
        # the small rounding MIP only when dependent rounding found nothing for any sample: it costs
        # 10-15 ms a call (region c:2: 23.7 -> 15.5 s, city b:0 9.3 -> 6.5, households f:0 8.1 -> 6.1)
        if price_samples(solver, dm, group, samples, w, mu) == 0 and (
            SMALL_MIP or price_samples(solver, dm, group, samples, w, mu, small=True) == 0
        ):
            return None
    return None


def worth_designing(zs: list[float], *, after: float = 0.95, rounds: int = 20, ahead: float = 60.0) -> bool:
    """The climb of z tails off: z past ``after`` and, at the pace of the last ``rounds`` rounds,
    more than ``ahead`` rounds still to go."""
    if len(zs) <= rounds or zs[-1] < after:
        return False
    pace = (zs[-1] - zs[-1 - rounds]) / rounds
    return pace <= 0 or (1.0 - zs[-1]) / pace > ahead


ACTIVATE = "auto"  # "auto": "start" on pools of DESIGN_FROM_TYPES types or more, else "tail"; or "off"
DESIGN_FROM_TYPES = 500  # "start": at level 1's first round; "tail": once worth_designing says so


def design_hook(solver: _Solver, master: _MasterBase, z: float) -> bool:
    """Called after each solve of level 1's master (z: its value): runs the design once, when the
    climb tails off; True when its columns were added (the master then reaches z = 1)."""
    state = solver.__dict__.setdefault("_design_state", {"zs": [], "tried": ACTIVATE == "off"})
    zs = state["zs"]
    zs.append(z)
    mode = ACTIVATE if ACTIVATE != "auto" else "start" if solver.ts.T >= DESIGN_FROM_TYPES else "tail"
    if state["tried"] or (mode == "tail" and not worth_designing(zs)):
        return False
    state["tried"] = True
    v1 = solver.upper_bound
    qi = top_group(solver.ts, solver.relaxed_fixed, v1)
    if qi is None:
        return False
    t = time.perf_counter()
    cols = design_level1(solver, master, qi, v1)
    state["seconds"] = time.perf_counter() - t
    state["columns"] = 0 if cols is None else len(cols)
    return cols is not None and len(cols) > 0 and master.add(cols) > 0
