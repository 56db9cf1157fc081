"""From population targets to quotas (min/max seats per value), and from the store to a
selection ``Instance`` for the draw engine.

Practitioners' rule: a value with population share s gets between floor(s·k) and
ceil(s·k) seats on a panel of k, widened by ``slack`` seats on each side; a small group
whose ideal number of seats is at least ``small_group_threshold`` (default half a seat)
is guaranteed at least one seat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lib.recruitment.categories import Field, load_fields
from lib.store.db import Database
from lib.recruitment.signups.store import pool_frame
from lib.sortition.audit.model import Instance, Person, Quota
from lib.recruitment.targets import Target

MAX_FIELDS_ADVISED = 7


@dataclass
class QuotaRow:
    field: str
    value: str
    share: float
    ideal: float  # share × k
    min: int
    max: int

    def as_quota(self) -> Quota:
        return Quota(self.field, self.value, self.min, self.max)


def derive_quotas(
    targets: list[Target], panel_size: int, *, slack: int = 0, small_group_threshold: float = 0.5
) -> list[QuotaRow]:
    rows = []
    for t in targets:
        ideal = t.share * panel_size
        lo = max(0, math.floor(ideal + 1e-9) - slack)
        hi = min(panel_size, math.ceil(ideal - 1e-9) + slack)
        if ideal >= small_group_threshold and lo < 1:
            lo = 1
        hi = max(hi, lo)
        rows.append(QuotaRow(t.field, t.value, t.share, ideal, lo, hi))
    return rows


def target_warnings(targets: list[Target], fields: list[Field], *, tolerance: float = 0.01) -> list[str]:
    """Plain-language warnings about a set of targets."""
    out = []
    labels = {f.key: f.label for f in fields}
    sums: dict[str, float] = {}
    for t in targets:
        sums[t.field] = sums.get(t.field, 0.0) + t.share
    for key, total in sums.items():
        if abs(total - 1.0) > tolerance:
            out.append(
                f"The shares for {labels.get(key, key)} add up to {total * 100:.1f}%, not 100%. "
                "Check for a missing or mistyped group."
            )
    missing = [f.label for f in fields if f.key not in sums]
    if missing:
        out.append(f"No targets yet for: {', '.join(missing)}. These will not be balanced in the draw.")
    if len(sums) > MAX_FIELDS_ADVISED:
        out.append(
            f"You are balancing {len(sums)} things at once. Each extra one makes the quotas harder to "
            f"meet and gives some people a smaller chance; most assemblies use {MAX_FIELDS_ADVISED} or fewer."
        )
    return out


def build_instance(
    db: Database, quotas: list[Quota], panel_size: int, *, one_per_household: bool = False, name: str = "assembly"
) -> Instance:
    """The pool of eligible sign-ups (pseudonyms and answers only) with the given quotas."""
    fields = [f.key for f in load_fields(db)]
    frame = pool_frame(db, eligible_only=True)
    people = []
    for rec in frame.to_dict("records"):
        feats = {f: (rec.get(f) or "") for f in fields}
        people.append(Person(rec["person_id"], feats, rec.get("household_key") or None))
    return Instance(
        people=people, quotas=list(quotas), panel_size=panel_size, name=name, one_per_household=one_per_household
    )


# --- quotas of a stored target version (added for the Targets page, quota board and draw) ------


def quotas_for_version(
    db: Database,
    version: int | None = None,
    *,
    panel_size: int | None = None,
    slack: int | None = None,
    small_group_threshold: float | None = None,
) -> list[QuotaRow]:
    """The quotas of a stored target version (the latest when None), with its own panel size and
    rules unless overridden. Empty when there are no targets yet."""
    from lib.recruitment.targets import load_seat_bands, load_targets, version_info

    info = version_info(db, version)
    if info is None:
        return []
    k = panel_size if panel_size is not None else info.panel_size
    if not k:
        return []
    bands = load_seat_bands(db, info.version)
    if bands:  # an imported quota table: exactly its seats (the shares are only for the charts)
        shares = {(t.field, t.value): t.share for t in load_targets(db, info.version)}
        return [
            QuotaRow(
                b.field,
                b.value,
                shares.get((b.field, b.value), 0.0),
                shares.get((b.field, b.value), 0.0) * int(k),
                b.min,
                b.max,
            )
            for b in bands
        ]
    return derive_quotas(
        load_targets(db, info.version),
        int(k),
        slack=info.slack if slack is None else slack,
        small_group_threshold=(info.small_group_threshold if small_group_threshold is None else small_group_threshold),
    )
