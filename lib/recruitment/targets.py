"""Population targets: the community's shares per stratification value, with their source.

Targets are versioned: every change makes a new version with who changed it and why.
A version is frozen before a draw and can no longer change.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from lib.recruitment.categories import Field
from lib.store.db import Database
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
        raise UserError(
            f"{source} needs the columns field, value, share (and optionally source). "
            f"Columns found: {', '.join(reader.fieldnames or []) or 'none'}."
        )
    known = {f.key: f for f in fields}
    out: list[Target] = []
    raw_shares: list[tuple[int, float, bool]] = []
    first_line: dict[tuple[str, str], int] = {}
    for line, row in enumerate(reader, start=2):
        fkey, value = (row["field"] or "").strip(), (row["value"] or "").strip()
        if fkey not in known:
            raise UserError(
                f"{source}, line {line}: there is no field “{fkey}” (column “field”). Fields: {', '.join(known)}."
            )
        if value not in known[fkey].values:
            raise UserError(
                f"{source}, line {line}: “{value}” is not a value of {known[fkey].label} "
                f"(column “value”; its values: {', '.join(known[fkey].values)})."
            )
        if (fkey, value) in first_line:  # two shares for one answer: say so (it broke the save before)
            raise UserError(
                f"{source}, line {line}: {fkey} = {value} is listed twice (first on line "
                f"{first_line[(fkey, value)]}; column “value”)."
            )
        first_line[(fkey, value)] = line
        text_share = (row["share"] or "").strip()
        is_pct = text_share.endswith("%")
        try:
            share = float(text_share.rstrip("%").strip())
        except ValueError:
            raise UserError(
                f"{source}, line {line}: the share “{text_share}” (column “share”) is not a number."
            ) from None
        if not share == share or share in (float("inf"), float("-inf")):
            raise UserError(f"{source}, line {line}: the share “{text_share}” (column “share”) is not a number.")
        if share < 0:
            raise UserError(f"{source}, line {line}: the share (column “share”) cannot be negative.")
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


def read_targets_file(data: bytes, fields: list[Field], name: str) -> list[Target]:
    """An uploaded targets file: text (UTF-8, with or without a byte-order mark), then parse_targets_csv."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{name} is not a text CSV file (save it as “CSV UTF-8” and try again).") from None
    return parse_targets_csv(text, fields, source=name)


def targets_from_rows(rows: list[dict], share_key: str, source_key: str) -> tuple[list[Target], list[str]]:
    """The targets typed into a table, one row per answer (keys field, value, Question, Group, and the share
    in percent under ``share_key``): the targets, and a plain message per share that is not one. A row with
    no share is skipped."""
    out: list[Target] = []
    errors: list[str] = []
    for r in rows:
        share = r.get(share_key)
        if share is None or (isinstance(share, float) and math.isnan(share)):
            continue
        try:
            share = float(share)
        except (TypeError, ValueError):
            errors.append(f"{r['Question']}, {r['Group']}: “{share}” is not a number.")
            continue
        if not 0 <= share <= 100:
            errors.append(f"{r['Question']}, {r['Group']}: the share must be between 0 and 100 (it is {share:g}).")
            continue
        out.append(Target(r["field"], r["value"], share / 100.0, str(r.get(source_key) or "").strip()))
    return out, errors


def share_sums(targets: list[Target]) -> dict[str, float]:
    sums: dict[str, float] = {}
    for t in targets:
        sums[t.field] = sums.get(t.field, 0.0) + t.share
    return sums


def save_targets(db: Database, targets: list[Target], *, panel_size: int | None, note: str, actor: str | None) -> int:
    """Store a new version of the targets. Returns its number."""

    def write(cur):
        version = cur.execute("SELECT coalesce(max(version), 0) + 1 FROM target_versions").fetchall()[0][0]
        cur.execute(
            "INSERT INTO target_versions (version, created_by, note, panel_size) VALUES (?, ?, ?, ?)",
            [version, actor, note, panel_size],
        )
        cur.executemany(
            "INSERT INTO targets (version, field, value, share, source) VALUES (?, ?, ?, ?, ?)",
            [[version, t.field, t.value, t.share, t.source] for t in targets],
        )
        return version

    return db.transaction(write)


def latest_version(db: Database) -> int | None:
    return db.scalar("SELECT max(version) FROM target_versions")


def load_targets(db: Database, version: int | None = None) -> list[Target]:
    if version is None:
        version = latest_version(db)
        if version is None:
            return []
    rows = db.query(
        "SELECT t.field, t.value, t.share, coalesce(t.source, '') FROM targets t "
        "LEFT JOIN strat_fields f USING (field) LEFT JOIN strat_values v USING (field, value) "
        "WHERE t.version = ? ORDER BY f.position, v.position",
        [version],
    )
    return [Target(*r) for r in rows]


# --- versions with their quota rules, history and freezing (added for the Targets page) ---------


@dataclass
class TargetVersion:
    version: int
    created_at: object
    created_by: str | None
    note: str | None
    panel_size: int | None
    frozen_at: object
    frozen_by: str | None
    slack: int = 0
    small_group_threshold: float = 0.5
    changes: str | None = None

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None


_VERSION_SQL = """
    SELECT v.version, v.created_at, v.created_by, v.note, v.panel_size, v.frozen_at, v.frozen_by,
           coalesce(r.slack, 0), coalesce(r.small_group_threshold, 0.5), r.changes
    FROM target_versions v LEFT JOIN target_rules r USING (version)"""


def version_info(db: Database, version: int | None = None) -> TargetVersion | None:
    """One target version with its quota rules (the latest when ``version`` is None)."""
    if version is None:
        version = latest_version(db)
        if version is None:
            return None
    rows = db.query(_VERSION_SQL + " WHERE v.version = ?", [version])
    return TargetVersion(*rows[0]) if rows else None


def all_versions(db: Database) -> list[TargetVersion]:
    return [TargetVersion(*r) for r in db.query(_VERSION_SQL + " ORDER BY v.version DESC")]


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%".replace(".0%", "%")


def describe_changes(
    old: list[Target],
    new: list[Target],
    old_info: TargetVersion | None,
    *,
    panel_size: int | None,
    slack: int,
    small_group_threshold: float,
    labels: dict[str, str] | None = None,
) -> str:
    """What changed from one version to the next, in plain words (for the history table)."""
    if old_info is None:
        return "First version."
    parts = _share_changes(old, new, labels or {}) + _setting_changes(
        old_info, panel_size, slack, small_group_threshold
    )
    if not parts:
        return "No change to the numbers."
    if len(parts) > 8:
        return "; ".join(parts[:8]) + f"; and {len(parts) - 8} more changes."
    return "; ".join(parts) + "."


def _share_changes(old: list[Target], new: list[Target], labels: dict[str, str]) -> list[str]:
    """One phrase per answer added, removed, or with a new share or source."""
    parts: list[str] = []
    before = {(t.field, t.value): t for t in old}
    after = {(t.field, t.value): t for t in new}
    for key, t in after.items():
        name = f"{labels.get(t.field, t.field)} {t.value}"
        o = before.get(key)
        if o is None:
            parts.append(f"{name} added at {_pct(t.share)}")
        elif abs(o.share - t.share) > 1e-9:
            parts.append(f"{name} {_pct(o.share)} → {_pct(t.share)}")
        elif (o.source or "") != (t.source or ""):
            parts.append(f"{name} source changed")
    for key, o in before.items():
        if key not in after:
            parts.append(f"{labels.get(o.field, o.field)} {o.value} removed")
    return parts


def _setting_changes(
    old_info: TargetVersion, panel_size: int | None, slack: int, small_group_threshold: float
) -> list[str]:
    """One phrase per changed setting: the panel size, the slack, the small-group floor."""
    parts: list[str] = []
    if (old_info.panel_size or None) != (panel_size or None):
        parts.append(f"panel size {old_info.panel_size} → {panel_size}")
    if old_info.slack != slack:
        parts.append(f"slack {old_info.slack} → {slack}")
    if abs(old_info.small_group_threshold - small_group_threshold) > 1e-9:
        parts.append(f"small-group floor {old_info.small_group_threshold:g} → {small_group_threshold:g} seats")
    return parts


class TargetsFrozen(UserError):
    pass


@dataclass
class SeatBand:
    """Seats for one answer given directly (an imported quota table), not worked out from a share."""

    field: str
    value: str
    min: int
    max: int
    min_flex: int | None = None
    max_flex: int | None = None


def save_target_version(
    db: Database,
    targets: list[Target],
    *,
    panel_size: int,
    slack: int = 0,
    small_group_threshold: float = 0.5,
    note: str,
    actor: str | None,
    labels: dict[str, str] | None = None,
    seats: list[SeatBand] | None = None,
    seats_source: str | None = None,
    changes: str | None = None,
) -> int:
    """Store a new target version together with its quota rules and a summary of the changes.

    Refused (``TargetsFrozen``) when the latest version is frozen for a draw: frozen targets
    can no longer change. ``note`` (why) and ``actor`` (who) are required. With ``seats`` (an
    imported quota table) the version's quotas are exactly those seats (``target_quotas``,
    migration 011), stored in the same transaction.
    """
    note = (note or "").strip()
    actor = (actor or "").strip()
    if not note:
        raise UserError(
            "Please say in a few words why the targets change (for example “new census figures”). "
            "It is kept in the history so everyone can see why."
        )
    if not actor:
        raise UserError("Please give your name, so the history shows who changed the targets.")
    if panel_size is None or int(panel_size) < 1:
        raise UserError("The panel size must be at least 1.")
    if slack < 0:
        raise UserError("The slack cannot be negative.")
    if not targets:
        raise UserError("There are no targets to save: give at least one group its share.")
    old_info = version_info(db)
    if old_info is not None and old_info.frozen:
        raise TargetsFrozen(
            f"The targets (version {old_info.version}) were frozen for the draw by "
            f"{old_info.frozen_by or 'an organiser'} and can no longer change."
        )
    old = load_targets(db, old_info.version) if old_info else []
    if changes is None:
        changes = describe_changes(
            old,
            targets,
            old_info,
            panel_size=int(panel_size),
            slack=int(slack),
            small_group_threshold=float(small_group_threshold),
            labels=labels,
        )

    def write(cur):
        frozen = cur.execute(
            "SELECT count(*) FROM target_versions WHERE frozen_at IS NOT NULL AND version = "
            "(SELECT max(version) FROM target_versions)"
        ).fetchall()[0][0]
        if frozen:
            raise TargetsFrozen("The targets were frozen for the draw a moment ago and can no longer change.")
        version = cur.execute("SELECT coalesce(max(version), 0) + 1 FROM target_versions").fetchall()[0][0]
        cur.execute(
            "INSERT INTO target_versions (version, created_by, note, panel_size) VALUES (?, ?, ?, ?)",
            [version, actor, note, int(panel_size)],
        )
        cur.executemany(
            "INSERT INTO targets (version, field, value, share, source) VALUES (?, ?, ?, ?, ?)",
            [[version, t.field, t.value, float(t.share), t.source] for t in targets],
        )
        cur.execute(
            "INSERT INTO target_rules (version, slack, small_group_threshold, changes) VALUES (?, ?, ?, ?)",
            [version, int(slack), float(small_group_threshold), changes],
        )
        if seats:
            cur.executemany(
                "INSERT INTO target_quotas (version, field, value, min_seats, max_seats, min_flex, "
                "max_flex, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [version, b.field, b.value, int(b.min), int(b.max), b.min_flex, b.max_flex, seats_source]
                    for b in seats
                ],
            )
        return version

    return db.transaction(write)


def load_seat_bands(db: Database, version: int) -> list[SeatBand]:
    """The seats a version gives directly (an imported quota table); empty for a version of shares."""
    rows = db.query(
        "SELECT q.field, q.value, q.min_seats, q.max_seats, q.min_flex, q.max_flex FROM target_quotas q "
        "LEFT JOIN strat_fields f USING (field) LEFT JOIN strat_values v USING (field, value) "
        "WHERE q.version = ? ORDER BY f.position, v.position, q.field, q.value",
        [version],
    )
    return [SeatBand(*r) for r in rows]


def seats_source(db: Database, version: int) -> str | None:
    """The file a version's quota table came from (None for a version of shares)."""
    return db.scalar("SELECT any_value(coalesce(source, '')) FROM target_quotas WHERE version = ?", [version])


def copy_version(cur, *, actor: str | None, note: str, changes: str, only_known_answers: bool = True) -> int:
    """Inside the caller's transaction: a new, unfrozen version with the latest version's numbers (its
    shares, rules and any quota table), keeping only answers that are still questions' answers when
    ``only_known_answers``. The version it starts from is not touched. Returns the new version."""
    latest = cur.execute("SELECT max(version) FROM target_versions").fetchall()[0][0]
    if latest is None:
        raise UserError("There are no targets yet, so there is no version to start from.")
    version = latest + 1
    known = "AND (field, value) IN (SELECT field, value FROM strat_values)" if only_known_answers else ""
    cur.execute(
        "INSERT INTO target_versions (version, created_by, note, panel_size) "
        "SELECT ?, ?, ?, panel_size FROM target_versions WHERE version = ?",
        [version, actor, note, latest],
    )
    cur.execute(
        f"INSERT INTO targets (version, field, value, share, source) "
        f"SELECT ?, field, value, share, source FROM targets WHERE version = ? {known}",
        [version, latest],
    )
    cur.execute(
        "INSERT INTO target_rules (version, slack, small_group_threshold, changes) "
        "SELECT ?, coalesce(any_value(r.slack), 0), coalesce(any_value(r.small_group_threshold), 0.5), ? "
        "FROM (SELECT 1) LEFT JOIN target_rules r ON r.version = ?",
        [version, changes, latest],
    )
    cur.execute(
        f"INSERT INTO target_quotas (version, field, value, min_seats, max_seats, min_flex, max_flex, source) "
        f"SELECT ?, field, value, min_seats, max_seats, min_flex, max_flex, source FROM target_quotas "
        f"WHERE version = ? {known}",
        [version, latest],
    )
    return version


def start_new_version(db: Database, *, actor: str | None, note: str) -> int:
    """After a version was frozen for a draw: a new, unfrozen version with the same numbers, to change.
    The frozen version stays exactly as it was (the draw's record uses it)."""
    actor = (actor or "").strip()
    if not actor:
        raise UserError("Please give your name, so the history shows who started the new version.")
    info = version_info(db)
    if info is None:
        raise UserError("There are no targets yet, so there is no version to start from.")
    if not info.frozen:
        raise UserError(f"Version {info.version} is not frozen: change it directly.")
    return db.transaction(
        lambda cur: copy_version(
            cur, actor=actor, note=note, changes=f"Started from version {info.version} (frozen for the draw)."
        )
    )
