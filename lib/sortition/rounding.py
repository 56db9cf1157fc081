"""Transparent rounding: turn a distribution over panels into a uniform lottery.

Following Flanigan, Kehne and Procaccia, "Fair Sortition Made Transparent" (NeurIPS
2021), the exact LEXIMIN distribution (arbitrary real weights) is replaced by a list of
exactly M concrete panels, one of which is then picked uniformly at random in public
(e.g. M = 1000: three decimal digits from a verifiable random source).

Four steps:

1. **Multiplicities.** Composition j (type counts ``c_j``) with weight ``w_j`` gets an
   integer multiplicity ``m_j`` in ``{floor(M w_j), ceil(M w_j)}`` with ``sum m_j = M``.
   Which ones are rounded up is chosen by a small HiGHS MIP that minimises the largest
   person-level deviation exactly: with ``A_t = sum_j m_j c_jt`` appearances of type t,
   written ``A_t = n_t q_t + r_t`` (``0 <= r_t < n_t``), members of type t appear q_t or
   q_t + 1 times, and the MIP minimises ``L >= M pi_t - q_t`` and
   ``L >= q_t + [r_t > 0] - M pi_t``. A largest-remainder rounding is passed as the
   starting point, so the answer is never worse than that, also under the MIP's time cap.
2. **Expansion.** Compositions become person-level panels by deterministic round-robin:
   members of each type sorted by id, a cyclic pointer per type hands out the next
   ``c_jt`` members to each panel (distinct, since ``c_jt <= n_t``). So within a type
   every member appears in ``floor(A_t / n_t)`` or ``ceil(A_t / n_t)`` panels.

3. **Exchanges between panels.** The multiplicities can only round each composition of the
   distribution up or down, and a distribution with hundreds of compositions of weight below
   1/M leaves some types several appearances short. So, within the rest of the time cap, single
   seats move between the M listed compositions: the type furthest from its expected
   appearances (per member, below or above) gets or gives up a seat in some panel, to or from a
   type that stays closer than that, only where the panel still meets every quota and the
   household rule (types that differ on a quota fixing an exact number of seats are never
   swapped). Measured on the demo (596 people, k = 30) and a generated 1,000-person pool: the
   least likely person went from 2 panels below ``floor(M p_min)`` to at most 1, and the
   largest person-level deviation from 4.5 and 5.9 panels to 2.5 and 1.7.

4. **Compound exchanges inside one panel** (``_compound``). With tight quotas one-seat
   exchanges are blocked: on the demo's complete LEXIMIN lottery (4 exact quotas, every other
   bound one seat wide) none of the 456 (panel, partner) pairs for the least likely type kept
   every quota, and the least likely person was left in 29 panels where ``floor(M p_min)`` is 32.
   So, for the person furthest from their chance, a small MIP per tried panel finds the best
   change of that one panel that gives their type a seat (or takes one) together with any other
   seats swapped in the same panel (e.g. d -> x and e -> g, the second undoing the first's quota
   change), the panel still valid and every other type ending strictly closer to its chance than
   that person; made only when it lowers a penalty that weighs the furthest off most. It ends by
   itself once every type is within half a panel of the best whole panels allow for it (so within
   one panel), or when no tried panel helps, or at the time cap. Measured (bench/rounding_bench.py,
   bench/results/rounding_20261207.md): demo 29 -> 31 or 32 panels for the least likely person
   (floor 32; the MIPs' caps are wall-clock, so the path varies with the load), largest deviation
   4.9 -> 0.8-1.6 panels; on 7 generated pools everybody within 1.2 panels (before: up to 4.0).

The multiplicities' MIP gets ``MULTIPLICITY_SHARE`` of the time cap and the exchanges the rest: on
the demo, half the cap for that MIP left the compound exchanges short of time (31 panels, 2.7 off)
while 15% gave 32 and 1.7 (with 4 candidate panels per step; 16 are used now). The budget is this
thread's processor time; HiGHS's helper threads add 0.2-1.0 s of process time on the larger pools.

Loss. ``rounding_loss = max_i |p_i - a_i / M|`` where ``a_i`` is person i's number of
panels. Any M-uniform lottery has loss at least ``max_t dist(M pi_t, Z) / M`` (counts
are integers); ``loss_lower_bound`` reports that floor. The loss achieved here is at
most ``(D + 1) / M`` where ``D = max_t |A_t / n_t - M pi_t|`` is the type-level
deviation the multiplicities leave, because each member's count is within 1 of
``A_t / n_t``; the MIP minimises the exact loss over all floor/ceil choices (within its
time cap). Measured: about 2e-7 on ``example_small_20`` and ``example_large_200`` (M =
1000), 2.4/M on ``sa_fixture_22`` (115 panels in the support); see
bench/results/sortition.md.
Every panel is a valid panel: each composition meets the quotas and households are
singleton types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np

from lib.sortition.leximin import Distribution
from lib.sortition.audit.model import Instance, InputError, Panel
from lib.sortition.typespace import INF, composition_fits, new_highs

ROUNDING_SECONDS = 2.0  # the MIP's time cap: past it, improvements are a fraction of a panel in M
MULTIPLICITY_SHARE = 0.15  # of the time cap, for the multiplicities' MIP (measured: time is better spent on exchanges)
ROUNDING_ABS_GAP = 0.05  # stop once the largest deviation is proven within 0.05 panel appearances


@dataclass
class UniformLottery:
    panels: list[Panel]  # exactly M panels (sorted id tuples), in sorted order
    probabilities: dict[str, float]  # panels containing the person / M
    rounding_loss: float  # max over people of |exact - rounded|
    min_probability: float
    M: int = 0
    multiplicities: list[int] = field(default_factory=list)  # per composition of the distribution
    loss_lower_bound: float = 0.0  # no M-uniform lottery can have a smaller loss
    optimal: bool = False  # the MIP proved the multiplicities optimal among floor/ceil choices


def _type_losses(A: np.ndarray, n: np.ndarray, target: np.ndarray) -> np.ndarray:
    q = A // n
    r = A - q * n
    return np.maximum(np.abs(target - q), np.where(r > 0, np.abs(q + 1 - target), 0.0))


def _multiplicities(
    C: np.ndarray, w: np.ndarray, n: np.ndarray, target: np.ndarray, M: int, time_limit: float
) -> tuple[np.ndarray, bool]:
    J, T = C.shape
    x = M * w
    base = np.floor(x + 1e-12).astype(np.int64)
    base = np.minimum(base, np.ceil(x - 1e-12).astype(np.int64))
    frac = x - base
    R = int(M - base.sum())
    cand = np.flatnonzero(frac > 1e-12)
    if R < 0 or R > len(cand):  # only possible with badly normalised weights
        raise InputError("The distribution's weights do not add up to 1.")
    # starting point: largest remainders
    start = base.copy()
    start[cand[np.argsort(-frac[cand], kind="stable")[:R]]] += 1
    if R == 0 or R == len(cand):
        m = base.copy()
        if R:
            m[cand] += 1
        return m, True
    # MIP: u_j binary for j in cand ; per type: q_t int, r_t int, d_t binary ; L
    nc = len(cand)
    h = new_highs(time_limit=time_limit)
    h.setOptionValue("mip_rel_gap", 1e-6)
    h.setOptionValue("mip_abs_gap", ROUNDING_ABS_GAP)
    base_A = base @ C
    Tq = np.flatnonzero(n > 1)  # types whose members can differ
    ncol = nc + T + 2 * len(Tq) + 1  # u, q (all types), r and d (types with n>1), L
    L = ncol - 1
    lb = np.zeros(ncol)
    ub = np.concatenate([np.ones(nc), np.full(T, float(M)), (n[Tq] - 1).astype(np.float64), np.ones(len(Tq)), [INF]])
    h.addVars(ncol, lb, ub)
    integ = np.ones(ncol, dtype=np.uint8)
    integ[L] = 0
    h.changeColsIntegrality(ncol, np.arange(ncol, dtype=np.int32), integ)
    h.changeColsCost(1, np.array([L], dtype=np.int32), np.array([1.0]))
    rows_lo: list[float] = []
    rows_hi: list[float] = []
    starts: list[int] = []
    idx: list[int] = []
    val: list[float] = []

    def row(lo: float, hi: float, cols: list[int], vals: list[float]) -> None:
        rows_lo.append(lo)
        rows_hi.append(hi)
        starts.append(len(idx))
        idx.extend(cols)
        val.extend(vals)

    row(float(R), float(R), list(range(nc)), [1.0] * nc)
    rpos = {int(t): i for i, t in enumerate(Tq)}
    Cc = C[cand]
    for t in range(T):
        nz = np.flatnonzero(Cc[:, t])
        cols = [int(j) for j in nz]
        vals = [float(Cc[j, t]) for j in nz]
        # sum_j u_j c_jt - n_t q_t - r_t = -base_A_t
        cols2 = cols + [nc + t]
        vals2 = vals + [-float(n[t])]
        if t in rpos:
            cols2.append(nc + T + rpos[t])
            vals2.append(-1.0)
        row(-float(base_A[t]), -float(base_A[t]), cols2, vals2)
        # L >= target - q  ->  L + q >= target
        row(float(target[t]), INF, [L, nc + t], [1.0, 1.0])
        # L >= q + d - target  ->  L - q - d >= -target
        if t in rpos:
            row(-float(target[t]), INF, [L, nc + t, nc + T + len(Tq) + rpos[t]], [1.0, -1.0, -1.0])
            # r <= (n-1) d
            row(-INF, 0.0, [nc + T + rpos[t], nc + T + len(Tq) + rpos[t]], [1.0, -float(n[t] - 1)])
        else:
            row(-float(target[t]), INF, [L, nc + t], [1.0, -1.0])
    h.addRows(
        len(rows_lo),
        np.array(rows_lo),
        np.array(rows_hi),
        len(idx),
        np.array(starts, dtype=np.int32),
        np.array(idx, dtype=np.int32),
        np.array(val, dtype=np.float64),
    )
    # starting solution from the largest remainders
    u0 = (start[cand] - base[cand]).astype(np.float64)
    A0 = start @ C
    q0 = A0 // n
    r0 = A0 - q0 * n
    sol = np.concatenate(
        [
            u0,
            q0.astype(np.float64),
            r0[Tq].astype(np.float64),
            (r0[Tq] > 0).astype(np.float64),
            [float(_type_losses(A0, n, target).max())],
        ]
    )
    h.setSolution(ncol, np.arange(ncol, dtype=np.int32), sol)
    h.run()
    info = h.getInfo()
    if info.primal_solution_status != 2:
        return start, False
    u = np.rint(np.asarray(h.getSolution().col_value)[:nc]).astype(np.int64)
    m = base.copy()
    m[cand] += u
    if m.sum() != M or _type_losses(m @ C, n, target).max() > _type_losses(A0, n, target).max():
        return start, False
    return m, h.getModelStatus() == highspy.HighsModelStatus.kOptimal


def _repair(
    rows: np.ndarray,
    n: np.ndarray,
    target: np.ndarray,
    Aq: np.ndarray,
    qmin: np.ndarray,
    qmax: np.ndarray,
    households: list[list[int]],
    seconds: float,
) -> np.ndarray:
    """One-seat exchanges between the M listed compositions (``rows``, M x T) that shrink the largest
    gap between a type's appearances per member and its expected ones (``target``): the type furthest
    from its target, below or above, receives or gives up a seat in some panel, from or to a type
    whose own gap stays smaller than that. A seat moves only when the panel still meets every quota
    (``Aq``: the quota x type 0/1 matrix) and the household rule, so every panel stays valid. Stops
    when every type is within one appearance per member, when no exchange helps the type furthest
    off, or after ``seconds`` of this thread's computing time (not wall-clock time: on a busy machine
    the exchanges got a fraction of a processor for their 2 s and stopped half-way, the least likely
    person 2-3 panels below ``floor(M p_min)`` instead of 1). It needs a fraction of a second: each
    exchange lowers the largest gap (among types not stuck) and raises no other gap to it, or a type is
    marked stuck, so the loop ends by itself."""
    import time

    deadline = time.thread_time() + seconds
    rows = rows.copy()
    M, T = rows.shape
    A = rows.sum(axis=0).astype(np.float64)
    nf = n.astype(np.float64)
    Q = rows @ Aq.T  # quota counts per panel (M x nq)
    exact = qmin == qmax
    house_of = np.full(T, -1)
    for g, types in enumerate(households):
        house_of[np.asarray(types, dtype=np.int64)] = g
    house_members = [np.asarray(types, dtype=np.int64) for types in households]
    stuck = np.zeros(T, dtype=bool)

    def move(u: int, t: int, partners: np.ndarray) -> bool:
        """Move one seat from a donor to a recipient; one of them is fixed, ``partners`` lists the other."""
        for other in partners:
            d, r = (u, int(other)) if t < 0 else (int(other), t)
            ok = (rows[:, r] < n[r]) & (rows[:, d] > 0)
            if house_of[r] >= 0:
                in_house = rows[:, house_members[house_of[r]]].sum(axis=1)
                ok &= in_house == (1 if house_of[d] == house_of[r] else 0)
            if not ok.any():
                continue
            delta = Aq[:, r] - Aq[:, d]
            if delta.any():
                fits = ((Q[ok] + delta >= qmin) & (Q[ok] + delta <= qmax)).all(axis=1)
                if not fits.any():
                    continue
                row = int(np.flatnonzero(ok)[int(np.argmax(fits))])
            else:
                row = int(np.argmax(ok))
            rows[row, d] -= 1
            rows[row, r] += 1
            Q[row] += delta
            A[d] -= 1
            A[r] += 1
            return True
        return False

    while time.thread_time() < deadline:
        dev = A / nf - target  # appearances per member above (+) or below (-) target
        gap = np.where(stuck, -np.inf, np.abs(dev))
        x = int(np.argmax(gap))
        if not np.isfinite(gap[x]) or gap[x] <= 1.0 + 1e-9:
            break  # everybody within one appearance of their chance
        worst = gap[x]
        # partners must agree with x on every quota that fixes an exact number of seats
        same = (Aq[exact] == Aq[exact, x][:, None]).all(axis=0) if exact.any() else np.ones(T, dtype=bool)
        if dev[x] < 0:  # x is below: it receives a seat from a type that stays closer than worst
            partners = np.flatnonzero(same & (A > 0) & (np.abs(dev - 1 / nf) < worst - 1e-9))
            partners = partners[np.argsort(-dev[partners])][:256]  # the furthest above first
            done = move(-1, x, partners)
        else:  # x is above: it gives a seat to a type that stays closer than worst
            partners = np.flatnonzero(same & (A < M * nf) & (np.abs(dev + 1 / nf) < worst - 1e-9))
            partners = partners[np.argsort(dev[partners])][:256]  # the furthest below first
            done = move(x, -1, partners)
        if not done:
            stuck[x] = True
    return rows


COMPOUND_BASE = 4.0  # a person's penalty is COMPOUND_BASE ** (panels off their chance): the furthest off weigh most
COMPOUND_CANDIDATES = 16  # distinct panel compositions tried per step for the type furthest off
COMPOUND_STOP = 0.5  # a type within this of the best whole panels allow (so within 1 panel) needs no exchange
COMPOUND_RECEIVERS = 100  # types that may get a seat in one compound exchange (those that gain most)


def _penalty(A: np.ndarray, n: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per type: COMPOUND_BASE ** (its members' largest distance in panels to their chance), plus a
    small term for the distance of the type's mean, so that a type of several members moves towards
    its target even while its furthest member's distance stays the same."""
    return COMPOUND_BASE ** _type_losses(A, n, target) + 1e-3 * (A / n - target) ** 2


def _compound(
    rows: np.ndarray,
    n: np.ndarray,
    target: np.ndarray,
    Aq: np.ndarray,
    qmin: np.ndarray,
    qmax: np.ndarray,
    households: list[list[int]],
    seconds: float,
) -> np.ndarray:
    """Compound exchanges inside one panel, once the one-seat exchanges of ``_repair`` are stuck.

    With tight quotas (most bounds one seat wide, several exact) a one-seat exchange almost always
    breaks a quota: on the demo, none of the 456 (panel, partner) pairs for the least likely type was
    allowed. Here, for the person furthest from their chance (in panels, as the lottery will list
    them), a small MIP finds the best change of ONE listed panel that gives that person's type a seat
    (or takes one away) together with any other seats swapped in the same panel, such that the panel
    still meets every quota and the household rule. Every other type changes by at most one seat and
    must end strictly closer to its chance than the person being helped; among such changes the MIP
    minimises the sum of ``_penalty`` over all types, and a change is made only if it lowers that sum.
    So the largest distance never grows, the sum falls at every change, and the loop ends by itself
    (or after ``seconds`` of this thread's computing time). Types within ``COMPOUND_STOP`` panels of
    the best whole panels allow them need no help; a type for which none of the
    ``COMPOUND_CANDIDATES`` tried panels allows a helpful change is set aside until some other change
    is made. To keep each MIP small (a few milliseconds), a seat can go only to the
    ``COMPOUND_RECEIVERS`` types that gain most from it."""
    import time

    deadline = time.thread_time() + seconds
    rows = rows.copy()
    M, T = rows.shape
    A = rows.sum(axis=0).astype(np.int64)
    set_aside = np.zeros(T, dtype=bool)
    best = np.abs(target - np.rint(target))  # no lottery of whole panels comes closer for a type
    quota_types = [np.flatnonzero(Aq[q]) for q in range(len(qmin))]
    # the distinct compositions among the panels, and which panels have each (kept up to date)
    comps, inverse = np.unique(rows, axis=0, return_inverse=True)
    comps = comps.astype(np.int64)
    where: list[list[int]] = [[] for _ in range(len(comps))]
    for r, j in enumerate(inverse.ravel()):
        where[int(j)].append(r)
    index = {comps[j].tobytes(): j for j in range(len(comps))}

    while time.thread_time() < deadline:
        loss = _type_losses(A, n, target)
        gap = np.where(set_aside | (loss <= best + COMPOUND_STOP), -np.inf, loss)
        x = int(np.argmax(gap))
        if not np.isfinite(gap[x]):
            break  # everybody as close to their chance as whole panels allow (or set aside)
        worst = float(loss[x])
        base = _penalty(A, n, target)
        up = _penalty(A + 1, n, target) - base
        down = _penalty(np.maximum(A - 1, 0), n, target) - base
        may_up = (A < M * n) & (_type_losses(A + 1, n, target) < worst - 1e-9)
        may_down = (A > 0) & (_type_losses(np.maximum(A - 1, 0), n, target) < worst - 1e-9)
        q = A[x] // n[x]
        below = target[x] - q >= q + (1 if A[x] > q * n[x] else 0) - target[x]  # its least likely member
        may_up[x] = below
        may_down[x] = not below
        # candidate panels: distinct compositions where x can get (give up) a seat, those holding the
        # types that would gain most from giving up (getting) a seat first
        alive = np.array([len(w) > 0 for w in where])
        if below:
            ok = alive & (comps[:, x] < n[x])
            score = comps.clip(0, 1) @ np.where(may_down, np.minimum(down, 0.0), 0.0)
        else:
            ok = alive & (comps[:, x] > 0)
            score = (n - comps).clip(0, 1) @ np.where(may_up, np.minimum(up, 0.0), 0.0)
        cand = np.flatnonzero(ok)
        cand = cand[np.argsort(score[cand], kind="stable")][:COMPOUND_CANDIDATES]
        done = False
        for j in cand:
            if time.thread_time() >= deadline:
                break
            change = _best_panel_change(
                comps[j],
                x,
                below,
                up,
                down,
                may_up,
                may_down,
                n,
                Aq,
                quota_types,
                qmin,
                qmax,
                households,
                min(0.25, deadline - time.thread_time()),
            )
            if change is None:
                continue
            r = where[j].pop()
            rows[r] += change
            key = rows[r].tobytes()
            if key not in index:
                index[key] = len(comps)
                comps = np.vstack([comps, rows[r][None, :]])
                where.append([])
            where[index[key]].append(r)
            A += change
            set_aside[:] = False
            done = True
            break
        if not done:
            set_aside[x] = True
    return rows


def _best_panel_change(
    c: np.ndarray,
    x: int,
    below: bool,
    up: np.ndarray,
    down: np.ndarray,
    may_up: np.ndarray,
    may_down: np.ndarray,
    n: np.ndarray,
    Aq: np.ndarray,
    quota_types: list[np.ndarray],
    qmin: np.ndarray,
    qmax: np.ndarray,
    households: list[list[int]],
    seconds: float,
) -> np.ndarray | None:
    """The change of composition ``c`` (a vector of -1/0/+1 per type) that gives type ``x`` a seat
    (``below``) or takes one away, keeps ``c`` a valid panel, moves other types only where
    ``may_up``/``may_down`` allow, and lowers the total penalty most (``up``/``down``: the change in
    penalty of a seat more/less); None when no such change lowers it."""
    gets = np.flatnonzero(may_up & (c < n))
    if len(gets) > COMPOUND_RECEIVERS:
        gets = gets[np.argsort(up[gets], kind="stable")[:COMPOUND_RECEIVERS]]
    if below and x not in gets:
        gets = np.append(gets, x)
    gives = np.flatnonzero(may_down & (c > 0))
    if not len(gets) or not len(gives):
        return None
    cols = np.concatenate([gets, gives])
    sign = np.concatenate([np.ones(len(gets)), -np.ones(len(gives))])
    ncol = len(cols)
    h = new_highs(mip_gap=1e-6, time_limit=max(0.01, seconds))
    lo = np.zeros(ncol)
    fixed = int(np.flatnonzero((cols == x) & ((sign > 0) == below))[0])
    lo[fixed] = 1.0
    h.addVars(ncol, lo, np.ones(ncol))
    h.changeColsIntegrality(ncol, np.arange(ncol, dtype=np.int32), np.ones(ncol, dtype=np.uint8))
    h.changeColsCost(ncol, np.arange(ncol, dtype=np.int32), np.concatenate([up[gets], down[gives]]).astype(np.float64))
    pos: dict[int, list[int]] = {}
    for i, t in enumerate(cols):
        pos.setdefault(int(t), []).append(i)
    rlo: list[float] = [0.0]
    rhi: list[float] = [0.0]
    starts: list[int] = [0]
    idx: list[int] = list(range(ncol))
    val: list[float] = [float(s) for s in sign]
    Qc = Aq @ c

    def add_row(lower: float, upper: float, types) -> None:
        entries = [i for t in types for i in pos.get(int(t), [])]
        if entries:
            rlo.append(lower)
            rhi.append(upper)
            starts.append(len(idx))
            idx.extend(entries)
            val.extend(float(sign[i]) for i in entries)

    for qi, ts in enumerate(quota_types):
        add_row(float(qmin[qi] - Qc[qi]), float(qmax[qi] - Qc[qi]), ts)
    for g in households:
        add_row(-INF, 1.0 - float(c[g].sum()), g)
    for t, entries in pos.items():
        if len(entries) == 2:  # a seat more and a seat less for one type would cancel out
            rlo.append(-INF)
            rhi.append(1.0)
            starts.append(len(idx))
            idx.extend(entries)
            val.extend([1.0, 1.0])
    h.addRows(
        len(rlo),
        np.array(rlo),
        np.array(rhi),
        len(idx),
        np.array(starts, dtype=np.int32),
        np.array(idx, dtype=np.int32),
        np.array(val, dtype=np.float64),
    )
    h.run()
    info = h.getInfo()
    if info.primal_solution_status != 2 or info.objective_function_value >= -1e-9:
        return None
    z = np.rint(np.asarray(h.getSolution().col_value)).astype(np.int64)
    change = np.zeros(len(c), dtype=np.int64)
    np.add.at(change, cols, z * sign.astype(np.int64))
    # never trusted blindly: the panel must stay valid
    return change if composition_fits(c + change, int(c.sum()), n, Aq, qmin, qmax, households) else None


def round_to_uniform(
    instance: Instance, dist: Distribution, M: int = 1000, *, time_limit: float = ROUNDING_SECONDS
) -> UniformLottery:
    """Exactly ``M`` valid panels whose uniform mixture approximates ``dist`` (see module doc)."""
    if M < 1:
        raise InputError(f"The number of panels must be at least 1, not {M}.")
    types = [tuple(sorted(t)) for t in dist.types]
    n = np.array([len(t) for t in types], dtype=np.int64)
    known = set(instance.ids)
    listed = [pid for t in types for pid in t]
    if set(listed) != known or len(listed) != len(known):
        raise InputError("The distribution was computed for a different pool than this instance.")
    C = np.array(dist.compositions, dtype=np.int64).reshape(len(dist.compositions), len(types))
    w = np.array(dist.weights, dtype=np.float64)
    w = np.where(w > 0, w, 0.0)
    w = w / w.sum()
    exact_type = (w @ C) / n
    target = M * exact_type
    t_start = __import__("time").thread_time()
    m, optimal = _multiplicities(C, w, n, target, M, time_limit * MULTIPLICITY_SHARE)
    # exchanges between the listed panels for the people the rounding left furthest below their chance
    from lib.sortition.typespace import build_types

    ts = build_types(instance)
    order = {members: i for i, members in enumerate(ts.members)}
    if all(t in order for t in types):
        perm = np.array([order[t] for t in types], dtype=np.int64)  # our type j is ts type perm[j]
        Aq = ts.A[:, perm]
        pos = {int(p): j for j, p in enumerate(perm)}
        households = [[pos[int(x)] for x in g] for g in ts.households]
        rows = np.repeat(C, m, axis=0)
        spent = __import__("time").thread_time() - t_start
        rows = _repair(rows, n, target, Aq, ts.qmin, ts.qmax, households, max(0.2, time_limit - spent))
        spent = __import__("time").thread_time() - t_start
        rows = _compound(rows, n, target, Aq, ts.qmin, ts.qmax, households, max(0.2, time_limit - spent))
        C, inverse = np.unique(rows, axis=0, return_inverse=True)
        m = np.bincount(inverse.ravel(), minlength=len(C)).astype(np.int64)
        optimal = False

    pointer = np.zeros(len(types), dtype=np.int64)
    counts: dict[str, int] = dict.fromkeys(instance.ids, 0)
    panels: list[Panel] = []
    for j in range(len(C)):
        comp = C[j]
        nz = np.flatnonzero(comp)
        for _ in range(int(m[j])):
            members: list[str] = []
            for t in nz:
                c, size, p = int(comp[t]), int(n[t]), int(pointer[t])
                members.extend(types[t][(p + i) % size] for i in range(c))
                pointer[t] = (p + c) % size
            panel = tuple(sorted(members))
            panels.append(panel)
            for pid in panel:
                counts[pid] += 1
    panels.sort()
    exact = dist.probabilities
    probs = {pid: counts[pid] / M for pid in instance.ids}
    loss = max((abs(exact[pid] - probs[pid]) for pid in instance.ids), default=0.0)
    lower = float(np.max(np.abs(target - np.rint(target)))) / M if len(target) else 0.0
    return UniformLottery(
        panels=panels,
        probabilities=probs,
        rounding_loss=loss,
        min_probability=min(probs.values()) if probs else 0.0,
        M=M,
        multiplicities=[int(x) for x in m],
        loss_lower_bound=lower,
        optimal=optimal,
    )
