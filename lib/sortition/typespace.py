"""Group interchangeable people into *types* and search over type compositions.

Two pool members are interchangeable when they have the same value for every quota
feature (values that no quota mentions count as "no value") and, when the instance asks
for at most one person per household, neither shares a household with anybody else in
the pool. Every quota, and the fairness objective, treat interchangeable people alike,
so the optimiser works with *types* and integer *compositions* (how many people of each
type sit on a panel) instead of individual people. For the shared benchmark
``example_large_200`` this turns 2,000 binary variables into 3 integer ones.

People in multi-person households (when ``one_per_household``) become singleton types,
and each such household adds the row "at most one of these types" to every model.

This module also holds the small HiGHS helpers shared by the optimisation modules and
``CompositionModel``: the pricing MIP "find a valid composition that maximises a
weighted sum of type counts".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from lib.sortition.audit.model import Instance, Quota

try:  # highspy's private class avoids the banner and the Python callback machinery
    from highspy._core import _Highs as _HighsClass
except ImportError:  # pragma: no cover - other highspy layouts
    from highspy import Highs as _HighsClass

import highspy

INF = highspy.kHighsInf


def new_highs(*, mip_gap: float | None = None, time_limit: float | None = None, threads: int | None = None):
    """A silent HiGHS instance with the options the engine relies on."""
    h = _HighsClass()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("log_to_console", False)
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", mip_gap)
        h.setOptionValue("mip_abs_gap", mip_gap * 1e-3)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(float(time_limit), 0.01))
    if threads is not None:
        h.setOptionValue("threads", threads)
    return h


def limit_next_solve(h, seconds: float | None) -> None:
    """At most ``seconds`` for ``h``'s next solve (None: no limit). HiGHS's own option limits
    the instance's total run time over all its solves so far, so it is set from there."""
    h.setOptionValue("time_limit", INF if seconds is None else h.getRunTime() + float(seconds))


def model_status_name(h) -> str:
    return h.modelStatusToString(h.getModelStatus())


def composition_fits(
    c: np.ndarray,
    k: int,
    sizes: np.ndarray,
    A: np.ndarray,
    qmin: np.ndarray,
    qmax: np.ndarray,
    households: list[list[int]],
) -> bool:
    """Is ``c`` (people per type) a valid panel: ``k`` people, none of a type more than it has, every quota
    (``A``: quota x type 0/1) met, at most one of each household's types. ``TypeSpace.is_valid_composition``
    in its own type order; the rounding's exchanges in the lottery's."""
    if (c < 0).any() or (c > sizes).any() or int(c.sum()) != k:
        return False
    counts = A @ c
    if (counts < qmin).any() or (counts > qmax).any():
        return False
    return all(int(c[h].sum()) <= 1 for h in households)


@dataclass
class TypeSpace:
    """The pool grouped into types. ``A[q, t] == 1`` when type t has the value of quota q."""

    instance: Instance
    features: list[str]
    quotas: list[Quota]
    keys: list[tuple[str | None, ...]]  # feature vector of each type (None: no quota for the value)
    members: list[tuple[str, ...]]  # ids of each type, sorted
    sizes: np.ndarray  # n_t, int64
    A: np.ndarray  # (len(quotas), T) 0/1, int64
    households: list[list[int]] = field(default_factory=list)  # groups of (singleton) types, at most one each
    type_of: dict[str, int] = field(default_factory=dict)

    @property
    def T(self) -> int:
        return len(self.members)

    @property
    def k(self) -> int:
        return self.instance.panel_size

    @property
    def qmin(self) -> np.ndarray:
        return np.array([q.min for q in self.quotas], dtype=np.int64)

    @property
    def qmax(self) -> np.ndarray:
        return np.array([q.max for q in self.quotas], dtype=np.int64)

    def max_selectable(self) -> int:
        """How many people could sit on one panel if there were no quotas (households count once)."""
        in_household = {t for h in self.households for t in h}
        return int(sum(int(self.sizes[t]) for t in range(self.T) if t not in in_household) + len(self.households))

    def quota_index_matrix(self) -> np.ndarray:
        """K[t, f]: the index in ``quotas`` of type t's answer to feature f, or -1 (no answer / no quota)."""
        qindex = {(q.feature, q.value): i for i, q in enumerate(self.quotas)}
        K = np.full((self.T, len(self.features)), -1, dtype=np.int64)
        for t, key in enumerate(self.keys):
            for fi, (f, v) in enumerate(zip(self.features, key)):
                if v is not None:
                    K[t, fi] = qindex.get((f, v), -1)
        return K

    def is_valid_composition(self, composition: npt.ArrayLike) -> bool:
        c = np.asarray(composition, dtype=np.int64)
        return c.shape == (self.T,) and composition_fits(
            c, self.k, self.sizes, self.A, self.qmin, self.qmax, self.households
        )

    def composition_problems(self, composition: npt.ArrayLike) -> list[str]:
        """Plain-language reasons why ``composition`` is not a valid composition (empty list = valid)."""
        c = np.asarray(composition, dtype=np.int64)
        out = []
        if (c < 0).any() or (c > self.sizes).any():
            out.append("a type count is negative or larger than the type")
        if int(c.sum()) != self.k:
            out.append(f"{int(c.sum())} people instead of {self.k}")
        counts = self.A @ c
        for q, n in zip(self.quotas, counts):
            if n < q.min or n > q.max:
                out.append(f"{q.feature} = {q.value}: {int(n)} selected, allowed {q.min}-{q.max}")
        for h in self.households:
            if int(c[h].sum()) > 1:
                out.append("two people from one household")
        return out


def build_types(instance: Instance) -> TypeSpace:
    """Group ``instance.people`` into types, in order of first appearance."""
    features = instance.features()
    quota_values: dict[str, set[str]] = {}
    for q in instance.quotas:
        quota_values.setdefault(q.feature, set()).add(q.value)

    shared: set[str] = set()
    if instance.one_per_household:
        seen: dict[str, int] = {}
        for p in instance.people:
            if p.household:
                seen[p.household] = seen.get(p.household, 0) + 1
        shared = {h for h, n in seen.items() if n > 1}

    index: dict[tuple, int] = {}
    keys: list[tuple[str | None, ...]] = []
    members: list[list[str]] = []
    household_types: dict[str, list[int]] = {}
    type_of: dict[str, int] = {}
    for p in instance.people:
        key = tuple((v if v in quota_values[f] else None) for f in features for v in [p.features.get(f, "")])
        if p.household and p.household in shared:
            t = len(keys)
            keys.append(key)
            members.append([p.id])
            household_types.setdefault(p.household, []).append(t)
        else:
            t = index.get(key, -1)
            if t < 0:
                t = len(keys)
                index[key] = t
                keys.append(key)
                members.append([])
            members[t].append(p.id)
        type_of[p.id] = t

    quotas = list(instance.quotas)
    fpos = {f: i for i, f in enumerate(features)}
    A = np.zeros((len(quotas), len(keys)), dtype=np.int64)
    for qi, q in enumerate(quotas):
        col = fpos[q.feature]
        for t, key in enumerate(keys):
            if key[col] == q.value:
                A[qi, t] = 1
    return TypeSpace(
        instance=instance,
        features=features,
        quotas=quotas,
        keys=keys,
        members=[tuple(sorted(m)) for m in members],
        sizes=np.array([len(m) for m in members], dtype=np.int64),
        A=A,
        households=list(household_types.values()),
        type_of=type_of,
    )


def add_columns(h, starts: list[int], idx: list[int], val: list[float]) -> None:
    """Add len(starts) columns (cost 0, bounds [0, inf)) to the HiGHS model ``h``, given column-wise:
    column j's rows are idx[starts[j]:starts[j+1]] with values val[...]."""
    m = len(starts)
    h.addCols(
        m,
        np.zeros(m),
        np.zeros(m),
        np.full(m, INF),
        len(idx),
        np.array(starts, dtype=np.int32),
        np.array(idx, dtype=np.int32),
        np.array(val, dtype=np.float64),
    )


def add_convexity_row(h) -> None:
    """Add the row "the panels' weights sum to 1" (empty: each panel's column puts its 1 in it)."""
    h.addRows(
        1,
        np.array([1.0]),
        np.array([1.0]),
        0,
        np.array([0], dtype=np.int32),
        np.array([], dtype=np.int32),
        np.array([], dtype=np.float64),
    )


def _csr(rows: list[tuple[list[int], list[float]]]):
    starts: list[int] = []
    idx: list[int] = []
    val: list[float] = []
    for cols, vals in rows:
        starts.append(len(idx))
        idx.extend(cols)
        val.extend(vals)
    return (np.array(starts, dtype=np.int32), np.array(idx, dtype=np.int32), np.array(val, dtype=np.float64))


def composition_rows(ts: TypeSpace, *, skip_empty: bool = True):
    """Rows (lower, upper, cols, vals) of "is a valid composition": size, quotas, households."""
    rows = [(float(ts.k), float(ts.k), list(range(ts.T)), [1.0] * ts.T)]
    for qi, q in enumerate(ts.quotas):
        cols = [int(t) for t in np.flatnonzero(ts.A[qi])]
        if not cols and skip_empty:
            continue
        rows.append((float(q.min), float(q.max), cols, [1.0] * len(cols)))
    for h in ts.households:
        rows.append((-INF, 1.0, list(h), [1.0] * len(h)))
    return rows


class CompositionModel:
    """A reusable HiGHS MIP over valid compositions: maximise ``w @ c``.

    Integer variables ``0 <= c_t <= n_t``; rows: panel size, every quota with members,
    households. ``solve(w)`` changes only the objective, so HiGHS keeps its model.
    Quotas on values nobody has are left out: check them first (``check_feasibility``).
    """

    def __init__(self, ts: TypeSpace, *, time_limit: float | None = None):
        self.ts = ts
        h = new_highs(mip_gap=1e-9, time_limit=time_limit)
        h.setOptionValue("mip_feasibility_tolerance", 1e-9)
        h.setOptionValue("primal_feasibility_tolerance", 1e-9)
        T = ts.T
        h.addVars(T, np.zeros(T), ts.sizes.astype(np.float64))
        h.changeColsIntegrality(T, np.arange(T, dtype=np.int32), np.ones(T, dtype=np.uint8))
        rows = composition_rows(ts)
        starts, idx, val = _csr([(r[2], r[3]) for r in rows])
        h.addRows(len(rows), np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), len(idx), starts, idx, val)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.h = h
        self.calls = 0
        self.seconds = 0.0
        self._all = np.arange(T, dtype=np.int32)

    def set_time_limit(self, seconds: float | None) -> None:
        """At most ``seconds`` (at least 0.01) for the next solve; None: no limit."""
        limit_next_solve(self.h, None if seconds is None else max(float(seconds), 0.01))

    def solve(self, w: np.ndarray, *, start: np.ndarray | None = None, count: bool = True):
        """Return (composition as int array, its value w@c, proven upper bound) or None if infeasible.

        The bound is HiGHS's MIP dual bound; equal to the value (up to 1e-9 relative)
        when the MIP was solved to optimality.
        """
        import time as _time

        t0 = _time.perf_counter()
        h = self.h
        T = self.ts.T
        h.changeColsCost(T, self._all, np.asarray(w, dtype=np.float64))
        if start is not None:
            h.setSolution(T, self._all, np.asarray(start, dtype=np.float64))
        h.run()
        if count:
            self.calls += 1
            self.seconds += _time.perf_counter() - t0
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        info = h.getInfo()
        if info.primal_solution_status != 2:  # no feasible point found (e.g. time limit)
            if status == highspy.HighsModelStatus.kTimeLimit:
                raise TimeoutError("time limit reached while searching for a panel")
            raise RuntimeError(f"HiGHS could not solve the panel search: {model_status_name(h)}")
        c = np.rint(np.asarray(h.getSolution().col_value)).astype(np.int64)
        value = float(np.dot(w, c))
        bound = float(info.mip_dual_bound)
        if not np.isfinite(bound):
            bound = INF
        return c, value, max(bound, value)
