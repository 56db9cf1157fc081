"""The data model of a selection problem: a pool of people, quotas, a panel size.

This module is the contract shared by every part of the draw engine (the optimiser,
the ceremony, the audit bundle, the command line) and by the app, which builds an
``Instance`` from the sign-up store. It is pure Python with no dependencies.

Terminology follows the shared benchmark format (``../shared/benchmarks/README.md``):
a *feature* is a stratification field (e.g. ``age``), a *value* one of its
categories (e.g. ``16-24``), and a *quota* the inclusive [min, max] number of panel
members that must have that value.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence


class InputError(ValueError):
    """Bad input that a person must fix: names the file, the line and what to do."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        self.file = file
        self.line = line
        self.message = message
        where = ""
        if file and line:
            where = f"{file}, line {line}: "
        elif file:
            where = f"{file}: "
        super().__init__(where + message)


@dataclass(frozen=True)
class Quota:
    feature: str
    value: str
    min: int
    max: int


@dataclass(frozen=True)
class Person:
    id: str
    features: Mapping[str, str]
    household: str | None = None

    def value(self, feature: str) -> str | None:
        return self.features.get(feature)


Panel = tuple[str, ...]
"""A panel: the sorted tuple of its members' ids."""


@dataclass
class Instance:
    people: list[Person]
    quotas: list[Quota]
    panel_size: int
    name: str = ""
    # When True, at most one person per household key may be selected.
    one_per_household: bool = False
    _by_id: dict[str, Person] = field(default_factory=dict, init=False, repr=False, compare=False)
    _checker: PanelChecker | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id = {p.id: p for p in self.people}

    # --- lookups -----------------------------------------------------------------
    def person(self, person_id: str) -> Person:
        return self._by_id[person_id]

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.people]

    def features(self) -> list[str]:
        """Quota features, in first-appearance order of the quota list."""
        seen: dict[str, None] = {}
        for q in self.quotas:
            seen.setdefault(q.feature, None)
        return list(seen)

    def quota(self, feature: str, value: str) -> Quota | None:
        for q in self.quotas:
            if q.feature == feature and q.value == value:
                return q
        return None

    def counts(self, ids: Iterable[str]) -> dict[tuple[str, str], int]:
        """How many of ``ids`` have each (feature, value) that has a quota."""
        out = {(q.feature, q.value): 0 for q in self.quotas}
        for pid in ids:
            p = self._by_id[pid]
            for f in self.features():
                key = (f, p.features.get(f, ""))
                if key in out:
                    out[key] += 1
        return out

    def panel_problems(self, ids: Sequence[str]) -> list[str]:
        """Plain-language reasons why ``ids`` is not a valid panel (empty list = valid).

        The one panel rule: the engine, the ceremony and the verifier all ask ``PanelChecker``."""
        if self._checker is None:
            self._checker = PanelChecker(self)
        return self._checker.problems(ids)

    def is_valid_panel(self, ids: Sequence[str]) -> bool:
        return not self.panel_problems(ids)


# --- the panel rule (one place: the engine, the ceremony and the verifier use it) ---------


class PanelChecker:
    """Fast quota checks of many panels of one instance."""

    def __init__(self, instance: Instance):
        self.instance = instance
        self.k = instance.panel_size
        self.quotas = list(instance.quotas)
        index = {(q.feature, q.value): i for i, q in enumerate(self.quotas)}
        feats = sorted({q.feature for q in self.quotas})
        self.of: dict[str, list[int]] = {}
        self.household: dict[str, str] = {}
        for p in instance.people:
            self.of[p.id] = [index[(f, p.features.get(f, ""))] for f in feats if (f, p.features.get(f, "")) in index]
            if instance.one_per_household and p.household:
                self.household[p.id] = p.household

    def counts(self, panel: Iterable[str]) -> list[int]:
        c = [0] * len(self.quotas)
        for pid in panel:
            for qi in self.of.get(pid, ()):
                c[qi] += 1
        return c

    def problems(self, panel: Sequence[str]) -> list[str]:
        """Plain-language reasons why ``panel`` is not valid (empty list = valid)."""
        out: list[str] = []
        if len(set(panel)) != len(panel):
            twice = sorted({p for p in panel if list(panel).count(p) > 1})
            out.append("it lists " + ", ".join(twice[:5]) + " more than once")
        unknown = [p for p in panel if p not in self.of]
        if unknown:
            out.append("it lists people who are not in the pool: " + ", ".join(unknown[:5]))
        if len(set(panel)) != self.k:
            out.append(f"it has {len(set(panel))} members, not {self.k}")
        for q, n in zip(self.quotas, self.counts(set(panel))):
            if n < q.min:
                out.append(f"{q.feature} = {q.value}: {n} selected, at least {q.min} needed")
            elif n > q.max:
                out.append(f"{q.feature} = {q.value}: {n} selected, at most {q.max} allowed")
        if self.household:
            seen: dict[str, str] = {}
            for pid in sorted(set(panel)):
                h = self.household.get(pid)
                if h:
                    if h in seen:
                        out.append(f"{seen[h]} and {pid} are in the same household ({h})")
                    seen[h] = pid
        return out

    def problems_of_each(self, panels: Iterable[Sequence[str]]) -> list[str]:
        """ "panel n: reasons" for every panel of ``panels`` (numbered from 0) that is not valid."""
        return [f"panel {n}: " + "; ".join(pr) for n, p in enumerate(panels) if (pr := self.problems(p))]


# --- the shared benchmark format ------------------------------------------------------


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=str(path)) from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InputError("the file is empty: it needs a header row", file=str(path))
    rows = []
    for row in reader:
        if None in row:
            raise InputError(
                f"this row has more cells than the header ({len(reader.fieldnames)} columns)",
                file=str(path),
                line=reader.line_num,
            )
        rows.append({k: (v if v is not None else "") for k, v in row.items()})
    return rows


def load_instance(directory: str | Path) -> Instance:
    """Read an instance in the shared benchmark format (people.csv, categories.csv, instance.json).

    Raises ``InputError`` naming the file, line and problem.
    """
    d = Path(directory)
    if not d.is_dir():
        raise InputError("not a folder (expected people.csv, categories.csv and instance.json inside)", file=str(d))
    meta, k = _read_instance_json(d / "instance.json")
    people = _read_people(d / "people.csv")
    quotas = _read_categories(d / "categories.csv", people)
    return Instance(
        people=people,
        quotas=quotas,
        panel_size=k,
        name=str(meta.get("name", d.name)),
        one_per_household=bool(meta.get("one_per_household", False)),
    )


def _read_instance_json(meta_path: Path) -> tuple[dict, int]:
    """instance.json: (its keys, the panel size, a whole number of at least 1)."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", file=str(meta_path)) from None
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON ({e.msg})", file=str(meta_path), line=e.lineno) from None
    if not isinstance(meta, dict) or "panel_size" not in meta:
        raise InputError('needs a "panel_size" key', file=str(meta_path))
    try:
        k = int(meta["panel_size"])
    except (TypeError, ValueError):
        raise InputError(
            f'"panel_size" must be a whole number, not {meta["panel_size"]!r}', file=str(meta_path)
        ) from None
    if k <= 0:
        raise InputError(f'"panel_size" must be at least 1, not {k}', file=str(meta_path))
    return meta, k


def _read_people(people_path: Path) -> list[Person]:
    """people.csv: an id column first, each id once; the other columns (but household) are the answers."""
    rows = _read_csv(people_path)
    header = list(rows[0].keys()) if rows else []
    if rows and header[0] != "id":
        raise InputError(f'the first column must be "id", not {header[0]!r}', file=str(people_path), line=1)
    people: list[Person] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(rows, start=2):
        pid = row.get("id", "").strip()
        if not pid:
            raise InputError('empty "id"', file=str(people_path), line=i)
        if pid in seen:
            raise InputError(f"id {pid!r} is used twice (first on line {seen[pid]})", file=str(people_path), line=i)
        seen[pid] = i
        feats = {k2: v.strip() for k2, v in row.items() if k2 not in ("id", "household")}
        people.append(Person(pid, feats, (row.get("household") or "").strip() or None))
    return people


def _read_categories(cat_path: Path, people: list[Person]) -> list[Quota]:
    """categories.csv: feature, value, min, max; whole numbers, 0 <= min <= max, a feature of people.csv,
    each group once."""
    crow = _read_csv(cat_path)
    quotas: list[Quota] = []
    for i, row in enumerate(crow, start=2):
        for col in ("feature", "value", "min", "max"):
            if col not in row:
                raise InputError(f'missing column "{col}" (need feature,value,min,max)', file=str(cat_path), line=1)
        f, v = row["feature"].strip(), row["value"].strip()
        try:
            lo, hi = int(row["min"]), int(row["max"])
        except ValueError:
            raise InputError(
                f"min and max must be whole numbers, not {row['min']!r} and {row['max']!r}", file=str(cat_path), line=i
            ) from None
        if lo < 0 or hi < lo:
            raise InputError(
                f"{f} = {v}: min ({lo}) must be at least 0 and not more than max ({hi})", file=str(cat_path), line=i
            )
        if people and f not in people[0].features:
            raise InputError(f'feature "{f}" is not a column of people.csv', file=str(cat_path), line=i)
        if any(q.feature == f and q.value == v for q in quotas):
            raise InputError(f"{f} = {v} is listed twice", file=str(cat_path), line=i)
        quotas.append(Quota(f, v, lo, hi))
    return quotas
