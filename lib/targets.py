"""Population targets: the community's shares per stratification value, with their source.

Targets are versioned: every change makes a new version with who changed it and why.
A version is frozen before a draw and can no longer change.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from lib.categories import Field
from lib.db import Database
from lib.errors import UserError


@dataclass
class Target:
    field: str
    value: str
    share: float
    source: str = ""


def parse_targets_csv(text: str, fields: list[Field], source: str = "the targets file") -> list[Target]:
    """Read ``field,value,share[,source]``. Shares may be fractions (0.14) or percentages (14 or 14%)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or not {"field", "value", "share"} <= set(reader.fieldnames):
        raise UserError(f"{source} needs the columns field, value, share (and optionally source). "
                        f"Columns found: {', '.join(reader.fieldnames or []) or 'none'}.")
    known = {f.key: f for f in fields}
    out: list[Target] = []
    raw_shares: list[tuple[int, float, bool]] = []
    for line, row in enumerate(reader, start=2):
        fkey, value = (row["field"] or "").strip(), (row["value"] or "").strip()
        if fkey not in known:
            raise UserError(f"{source}, line {line}: there is no field “{fkey}”. "
                            f"Fields: {', '.join(known)}.")
        if value not in known[fkey].values:
            raise UserError(f"{source}, line {line}: “{value}” is not a value of {known[fkey].label} "
                            f"({', '.join(known[fkey].values)}).")
        text_share = (row["share"] or "").strip()
        is_pct = text_share.endswith("%")
        try:
            share = float(text_share.rstrip("%").strip())
        except ValueError:
            raise UserError(f"{source}, line {line}: the share “{text_share}” is not a number.") from None
        if share < 0:
            raise UserError(f"{source}, line {line}: the share cannot be negative.")
        raw_shares.append((len(out), share, is_pct))
        out.append(Target(fkey, value, share, (row.get("source") or "").strip()))
    if not out:
        raise UserError(f"{source} has no targets in it.")
    # Percentages: either marked with %, or any share above 1.
    as_percent = any(p for _i, _s, p in raw_shares) or any(s > 1 for _i, s, _p in raw_shares)
    if as_percent:
        for t in out:
            t.share = t.share / 100.0
    return out


def share_sums(targets: list[Target]) -> dict[str, float]:
    sums: dict[str, float] = {}
    for t in targets:
        sums[t.field] = sums.get(t.field, 0.0) + t.share
    return sums


def save_targets(db: Database, targets: list[Target], *, panel_size: int | None, note: str,
                 actor: str | None) -> int:
    """Store a new version of the targets. Returns its number."""
    def write(cur):
        version = cur.execute("SELECT coalesce(max(version), 0) + 1 FROM target_versions").fetchall()[0][0]
        cur.execute("INSERT INTO target_versions (version, created_by, note, panel_size) VALUES (?, ?, ?, ?)",
                    [version, actor, note, panel_size])
        cur.executemany("INSERT INTO targets (version, field, value, share, source) VALUES (?, ?, ?, ?, ?)",
                        [[version, t.field, t.value, t.share, t.source] for t in targets])
        return version

    return db.transaction(write)


def latest_version(db: Database) -> int | None:
    return db.scalar("SELECT max(version) FROM target_versions")


def load_targets(db: Database, version: int | None = None) -> list[Target]:
    if version is None:
        version = latest_version(db)
        if version is None:
            return []
    rows = db.query("SELECT t.field, t.value, t.share, coalesce(t.source, '') FROM targets t "
                    "LEFT JOIN strat_fields f USING (field) LEFT JOIN strat_values v USING (field, value) "
                    "WHERE t.version = ? ORDER BY f.position, v.position", [version])
    return [Target(*r) for r in rows]
