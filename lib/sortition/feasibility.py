"""Can any panel meet the quotas? If not, say why in plain language and propose the
smallest change to the quotas that makes a panel possible.

``check_feasibility(instance)`` returns a ``FeasibilityReport``:

- ``feasible``: whether at least one valid panel exists (decided exactly, by a HiGHS
  MIP over type counts, see ``typespace.py``);
- ``diagnosis``: sentences for organisers. Simple causes are named directly (panel
  larger than the pool, a minimum larger than the number of people with that value,
  minimums of one feature adding up to more than the panel, maximums adding up to
  less). When no single rule explains it, the sentence names a set of quotas that
  cannot all hold together (found with a deletion filter: every quota named is needed
  for the conflict) and the smallest relaxation;
- ``relaxation``: the smallest relaxation, a list of ``QuotaChange``: minimise the
  total number of seats by which minimums are lowered and maximums raised (a HiGHS MIP
  over type counts with integer slack per quota). Empty when the quotas are feasible,
  and also when no quota change can help (panel larger than the pool);
- ``relaxed_instance()``: the instance with the relaxation applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import highspy
import numpy as np

from lib.sortition.audit.ceremony import QuotaChangeRecord
from lib.sortition.audit.model import Instance, InputError, Panel, Quota
from lib.sortition.typespace import INF, TypeSpace, _csr, build_types, composition_rows, new_highs


@dataclass(frozen=True)
class Labels:
    """How the organisers named the questions and answers, for messages people read: ``fields`` maps a
    feature key to its label ("age" -> "Age band"), ``values`` a (key, value) pair to the answer's label
    (("age", "16-24") -> "16 to 24"). Without labels, messages name the keys as ``feature = value``."""

    fields: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[tuple[str, str], str] = field(default_factory=dict)
    given: bool = True

    @classmethod
    def of_fields(cls, fields: Iterable) -> Labels:
        """The labels of set-up questions (objects with ``key``, ``label``, ``values`` and ``value_labels``,
        e.g. lib.recruitment.categories.Field)."""
        fields = list(fields)
        return cls(
            {f.key: f.label for f in fields}, {(f.key, v): f.value_labels.get(v, v) for f in fields for v in f.values}
        )

    def field_name(self, feature: str) -> str:
        return str(self.fields.get(feature, feature))

    def value_name(self, feature: str, value: str) -> str:
        return str(self.values.get((feature, value), value))

    def group(self, feature: str, value: str) -> str:
        if not self.given:
            return f"{feature} = {value}"
        return f"{self.field_name(feature)} “{self.values.get((feature, value), value)}”"


KEYS = Labels(given=False)


@dataclass(frozen=True)
class QuotaChange(QuotaChangeRecord):
    """A relaxed quota (the fields the commitment records, ``ceremony.QuotaChangeRecord``), worded for people."""

    def describe(self, labels: Labels | None = None) -> str:
        g = (labels or KEYS).group(self.feature, self.value)
        parts = []
        if self.new_min != self.old_min:
            parts.append(f"lower the minimum for {g} from {self.old_min} to {self.new_min}")
        if self.new_max != self.old_max:
            parts.append(f"raise the maximum for {g} from {self.old_max} to {self.new_max}")
        return " and ".join(parts)

    @property
    def seats(self) -> int:
        return (self.old_min - self.new_min) + (self.new_max - self.old_max)

    def as_dict(self) -> dict:
        """The change as stored and reported (the draw's record, prepare's summary): old and new bounds, in words."""
        return {
            "feature": self.feature,
            "value": self.value,
            "old_min": self.old_min,
            "old_max": self.old_max,
            "new_min": self.new_min,
            "new_max": self.new_max,
            "change": self.describe(),
        }


def apply_relaxation(instance: Instance, changes: list[QuotaChange]) -> Instance:
    """A copy of ``instance`` whose quotas carry the new bounds of ``changes``."""
    by_key = {(c.feature, c.value): c for c in changes}
    quotas = []
    for q in instance.quotas:
        c = by_key.get((q.feature, q.value))
        quotas.append(Quota(q.feature, q.value, c.new_min, c.new_max) if c else q)
    return Instance(
        people=list(instance.people),
        quotas=quotas,
        panel_size=instance.panel_size,
        name=instance.name,
        one_per_household=instance.one_per_household,
    )


@dataclass
class FeasibilityReport:
    feasible: bool
    diagnosis: list[str]
    relaxation: list[QuotaChange]
    instance: Instance = field(repr=False, compare=False, default=None)  # type: ignore[assignment]
    example: Panel | None = None  # one valid panel when feasible
    conflict: list[Quota] = field(default_factory=list)  # quotas that cannot all hold (when found)
    relaxable: bool = True  # False when no quota change can help (panel larger than the pool)

    @property
    def seats(self) -> int:
        """Total seats by which ``relaxation`` moves minimums down and maximums up."""
        return sum(c.seats for c in self.relaxation)

    def message(self) -> str:
        return " ".join(self.diagnosis)

    def relaxed_instance(self) -> Instance:
        """The instance with the smallest relaxation applied (the instance itself when feasible)."""
        if self.instance is None:
            raise InputError("this report does not carry its instance")
        if not self.feasible and not self.relaxable:
            raise InputError("No change to the quotas can make a panel possible here: " + self.message())
        return apply_relaxation(self.instance, self.relaxation)


class InfeasibleQuotas(InputError):
    """No panel meets the quotas. ``report`` says why and how to relax them."""

    def __init__(self, report: FeasibilityReport):
        self.report = report
        super().__init__(report.message() or "No panel can meet the quotas.")


# --- helpers ---------------------------------------------------------------------------


def _people(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


def _households_available(ts: TypeSpace, cols: list[int]) -> int:
    """How many people of the given types could sit on one panel together (households count once)."""
    in_h = {t: hi for hi, h in enumerate(ts.households) for t in h}
    single = sum(int(ts.sizes[t]) for t in cols if t not in in_h)
    return single + len({in_h[t] for t in cols if t in in_h})


def _solve_mip(h) -> bool:
    h.run()
    st = h.getModelStatus()
    if st == highspy.HighsModelStatus.kOptimal:
        return True
    if st == highspy.HighsModelStatus.kInfeasible:
        return False
    raise RuntimeError(f"HiGHS could not decide whether the quotas can be met ({h.modelStatusToString(st)})")


class _FeasModel:
    """Feasibility MIP whose quota rows can be switched off (for the deletion filter)."""

    def __init__(self, ts: TypeSpace):
        self.ts = ts
        h = new_highs()
        T = ts.T
        h.addVars(T, np.zeros(T), ts.sizes.astype(np.float64))
        h.changeColsIntegrality(T, np.arange(T, dtype=np.int32), np.ones(T, dtype=np.uint8))
        rows = composition_rows(ts, skip_empty=False)
        starts, idx, val = _csr([(r[2], r[3]) for r in rows])
        h.addRows(len(rows), np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), len(idx), starts, idx, val)
        self.h = h

    def quota_row(self, qi: int) -> int:
        return 1 + qi

    def set_quota(self, qi: int, on: bool) -> None:
        q = self.ts.quotas[qi]
        lo, hi = (float(q.min), float(q.max)) if on else (-INF, INF)
        self.h.changeRowBounds(self.quota_row(qi), lo, hi)

    def feasible(self) -> bool:
        return _solve_mip(self.h)

    def solution(self) -> np.ndarray:
        return np.rint(np.asarray(self.h.getSolution().col_value)).astype(np.int64)


def smallest_relaxation(ts: TypeSpace) -> list[QuotaChange] | None:
    """Minimise the seats by which minimums are lowered and maximums raised (None: impossible)."""
    if ts.k > ts.max_selectable():
        return None
    T, Q = ts.T, len(ts.quotas)
    h = new_highs()
    qmin = ts.qmin.astype(np.float64)
    # columns: c_t (T), lower_q (Q, how much the min goes down), raise_q (Q)
    lb = np.zeros(T + 2 * Q)
    ub = np.concatenate([ts.sizes.astype(np.float64), qmin, np.full(Q, float(ts.k))])
    h.addVars(T + 2 * Q, lb, ub)
    h.changeColsIntegrality(T + 2 * Q, np.arange(T + 2 * Q, dtype=np.int32), np.ones(T + 2 * Q, dtype=np.uint8))
    h.changeColsCost(2 * Q, np.arange(T, T + 2 * Q, dtype=np.int32), np.ones(2 * Q))
    rows: list[tuple[float, float, list[int], list[float]]] = [(float(ts.k), float(ts.k), list(range(T)), [1.0] * T)]
    for qi, q in enumerate(ts.quotas):
        cols = [int(t) for t in np.flatnonzero(ts.A[qi])]
        rows.append((float(q.min), INF, cols + [T + qi], [1.0] * len(cols) + [1.0]))
        rows.append((-INF, float(q.max), cols + [T + Q + qi], [1.0] * len(cols) + [-1.0]))
    for hh in ts.households:
        rows.append((-INF, 1.0, list(hh), [1.0] * len(hh)))
    starts, idx, val = _csr([(r[2], r[3]) for r in rows])
    h.addRows(len(rows), np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), len(idx), starts, idx, val)
    if not _solve_mip(h):
        return None
    x = np.rint(np.asarray(h.getSolution().col_value)).astype(np.int64)
    changes = []
    for qi, q in enumerate(ts.quotas):
        down, up = int(x[T + qi]), int(x[T + Q + qi])
        if down or up:
            changes.append(QuotaChange(q.feature, q.value, q.min, q.max, q.min - down, q.max + up))
    return changes


def _conflict(ts: TypeSpace, prefer_keep: set[int]) -> list[int]:
    """Deletion filter: a set of quotas that cannot all hold, each of them needed for the conflict."""
    m = _FeasModel(ts)
    kept = set(range(len(ts.quotas)))
    order = [qi for qi in range(len(ts.quotas)) if qi not in prefer_keep] + sorted(prefer_keep)
    for qi in order:
        m.set_quota(qi, False)
        if m.feasible():
            m.set_quota(qi, True)  # needed for the conflict
        else:
            kept.discard(qi)
    return sorted(kept)


def _quota_text(q: Quota, lb: Labels = KEYS) -> str:
    g = lb.group(q.feature, q.value)
    if q.min == q.max:
        return f"{g} (exactly {q.min})"
    if q.min == 0:
        return f"{g} (at most {q.max})"
    return f"{g} (between {q.min} and {q.max})"


def _simple_causes(ts: TypeSpace, lb: Labels = KEYS) -> list[str]:
    """One plain explanation per simple cause of impossible quotas: the panel size, each minimum, each question."""
    cap = ts.max_selectable()
    out = _size_causes(ts, cap)
    for qi, q in enumerate(ts.quotas):
        if q.min > 0:
            out += _minimum_causes(ts, lb, qi, q)
    for key in ts.features:
        out += _question_causes(ts, lb, key, cap)
    return out


def _size_causes(ts: TypeSpace, cap: int) -> list[str]:
    """The panel is larger than the pool, or than the ``cap`` people who can be selected one per household."""
    inst, k = ts.instance, ts.k
    n = len(inst.people)
    if k > n:
        return [f"The panel needs {k} people, but only {n} signed up. Lower the panel size or recruit more people."]
    if k > cap:
        return [
            f"The panel needs {k} people, but at most {cap} can be selected: {n} signed up, and only one "
            f"person per household may be selected. Lower the panel size or recruit more people."
        ]
    return []


def _minimum_causes(ts: TypeSpace, lb: Labels, qi: int, q) -> list[str]:
    """A group's minimum above the people in the pool with it (or those of them who can be selected)."""
    cols = [int(t) for t in np.flatnonzero(ts.A[qi])]
    have = int(ts.sizes[cols].sum()) if cols else 0
    avail = _households_available(ts, cols)
    if have == 0:
        return [
            f"The quotas ask for at least {_people(q.min)} with {lb.group(q.feature, q.value)}, "
            f"but nobody in the pool has that {'answer' if lb.given else 'value'}."
        ]
    if have < q.min:
        return [
            f"The quotas ask for at least {_people(q.min)} with {lb.group(q.feature, q.value)}, "
            f"but only {have} signed up."
        ]
    if avail < q.min:
        return [
            f"The quotas ask for at least {_people(q.min)} with {lb.group(q.feature, q.value)}; {have} signed "
            f"up, but only {avail} can be selected because at most one person per household may be "
            f"selected."
        ]
    return []


def _question_causes(ts: TypeSpace, lb: Labels, key: str, cap: int) -> list[str]:
    """A question's minimums add up to more than the panel, or its maximums (with the people who have no
    quota) to fewer, or what can be selected of each answer to fewer."""
    k = ts.k
    out: list[str] = []
    f = lb.field_name(key)
    qs = [(qi, q) for qi, q in enumerate(ts.quotas) if q.feature == key]
    smin = sum(q.min for _, q in qs)
    if smin > k:
        out.append(f"The minimums for {f} add up to {smin}, more than the panel size of {k}.")
    smax = sum(q.max for _, q in qs)
    fpos = ts.features.index(key)
    other = int(sum(int(ts.sizes[t]) for t in range(ts.T) if ts.keys[t][fpos] is None))
    if smax + other < k:
        if other:
            out.append(
                f"The maximums for {f} add up to {smax}, and {_people(other)} in the pool "
                f"{'has' if other == 1 else 'have'} "
                f"{('an answer to “' + f + '” that has no quota') if lb.given else 'a ' + f + ' without a quota'}"
                "; together that is fewer than "
                f"the panel size of {k}."
            )
        else:
            out.append(f"The maximums for {f} add up to {smax}, fewer than the panel size of {k}.")
        return out
    capped = 0
    for qi, q in qs:
        cols = [int(t) for t in np.flatnonzero(ts.A[qi])]
        capped += min(q.max, _households_available(ts, cols))
    if capped + other < k and k <= cap:
        out.append(
            f"For {f}, at most {capped + other} people can be selected (for each value, its maximum "
            f"or the number of people available with it, whichever is smaller), fewer than the "
            f"panel size of {k}."
        )
    return out


def check_feasibility(instance: Instance, *, labels: Labels | None = None) -> FeasibilityReport:
    """Decide whether a valid panel exists; explain why not and propose the smallest relaxation.
    ``labels``: name the questions and answers as the organisers set them up (else by their keys)."""
    ts = build_types(instance)
    return check_types(ts, labels=labels)


def check_types(ts: TypeSpace, *, labels: Labels | None = None) -> FeasibilityReport:
    instance = ts.instance
    lb = labels or KEYS
    simple = _simple_causes(ts, lb)
    if not simple:
        m = _FeasModel(ts)
        if m.feasible():
            c = m.solution()
            panel: list[str] = []
            for t in range(ts.T):
                panel.extend(ts.members[t][: int(c[t])])
            return FeasibilityReport(True, [], [], instance, example=tuple(sorted(panel)))
    relaxation = smallest_relaxation(ts)
    diagnosis = list(simple)
    conflict: list[Quota] = []
    if relaxation is None:
        if not diagnosis:  # pragma: no cover - max_selectable covers this
            diagnosis.append("No panel can meet the quotas, and no change to the quotas would help.")
        return FeasibilityReport(False, diagnosis, [], instance, relaxable=False)
    if not simple:
        changed = {(c.feature, c.value) for c in relaxation}
        prefer = {qi for qi, q in enumerate(ts.quotas) if (q.feature, q.value) in changed}
        conflict = [ts.quotas[qi] for qi in _conflict(ts, prefer)]
        if conflict:
            diagnosis.append(
                "No single quota explains it, but these quotas cannot all be met at once: "
                + "; ".join(_quota_text(q, lb) for q in conflict)
                + "."
            )
        else:  # only panel size / households remain
            diagnosis.append("No panel of this size meets the household rule together with the quotas.")
    if relaxation:
        seats = sum(c.seats for c in relaxation)
        diagnosis.append(
            f"The smallest change that makes a panel possible ({seats} seat{'s' if seats != 1 else ''} "
            f"in total): " + "; ".join(c.describe(lb) for c in relaxation) + "."
        )
    return FeasibilityReport(False, diagnosis, relaxation, instance, conflict=conflict)
