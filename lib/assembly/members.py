"""The panel's members and their status timeline (``member_events``): selected → contacted → confirmed →
active → completed, or withdrawn (with a reason) → replaced (by whom). Everything is appended, nothing is
overwritten: ``members`` holds each member's current status as a projection, updated in the same transaction
as the event, so two people changing one member at the same moment cannot both succeed against a stale status.

Time: functions that depend on the clock take ``now`` (an aware datetime; default: now), so that the rules
can be tested with a fixed clock.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Iterable, Mapping

import pandas as pd

from lib.errors import UserError
from lib.store.db import Database

# --- vocabulary -------------------------------------------------------------------------------

SELECTED, CONTACTED, CONFIRMED, ACTIVE, COMPLETED, WITHDRAWN, REPLACED = (
    "selected",
    "contacted",
    "confirmed",
    "active",
    "completed",
    "withdrawn",
    "replaced",
)
STATUSES = (SELECTED, CONTACTED, CONFIRMED, ACTIVE, COMPLETED, WITHDRAWN, REPLACED)
STATUS_LABELS = {
    SELECTED: "Selected",
    CONTACTED: "Contacted",
    CONFIRMED: "Confirmed",
    ACTIVE: "Taking part",
    COMPLETED: "Completed",
    WITHDRAWN: "Withdrawn",
    REPLACED: "Replaced",
}
NEXT_STATUSES = {
    SELECTED: (CONTACTED, WITHDRAWN),
    CONTACTED: (CONFIRMED, WITHDRAWN),
    CONFIRMED: (ACTIVE, WITHDRAWN),
    ACTIVE: (COMPLETED, WITHDRAWN),
    COMPLETED: (),
    WITHDRAWN: (REPLACED,),
    REPLACED: (),
}
ON_BOARD = (SELECTED, CONTACTED, CONFIRMED, ACTIVE)  # still expected to take part
GONE = (WITHDRAWN, REPLACED)

PRESENT, LATE, EXCUSED, ABSENT = "present", "late", "excused", "absent"
MARKS = (PRESENT, LATE, EXCUSED, ABSENT)
MARK_LABELS = {PRESENT: "Present", LATE: "Late or part", EXCUSED: "Excused", ABSENT: "Absent"}
ATTENDED = (PRESENT, LATE)
SOURCES = ("door", "sheet", "organiser")

NEEDS = ("childcare", "travel", "access", "language", "technology")
NEED_LABELS = {
    "childcare": "Childcare",
    "travel": "Travel",
    "access": "Access (disability)",
    "language": "Language",
    "technology": "Technology",
}

CHANNELS = ("phone", "text", "email", "letter", "in person")
OUTCOMES = ("no answer", "left a message", "sent a message", "they replied", "spoke with them")
REPLY_OUTCOMES = ("they replied", "spoke with them")

NO_REPLY_HOURS = 48


def _now(now: datetime | None = None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        return now.astimezone(timezone.utc)
    return now


def _local_naive(dt: datetime) -> datetime:
    """An aware time as the venue's wall-clock time (sessions are stored that way)."""
    if dt.tzinfo is None:
        return dt
    return dt.astimezone().replace(tzinfo=None)


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", status or "not on the panel")


# --- enrolment and the status timeline --------------------------------------------------------


def _known_people(cur, person_ids: Iterable[str]) -> set[str]:
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return set()
    rows = cur.execute("SELECT person_id FROM people WHERE list_contains(?, person_id)", [ids]).fetchall()
    return {r[0] for r in rows}


def _append_event(
    cur,
    person_id: str,
    status: str,
    at: datetime,
    actor: str | None,
    *,
    reason=None,
    draw_id=None,
    replaces=None,
    replaced_by=None,
) -> int:
    event_id = cur.execute(
        "INSERT INTO member_events (person_id, status, recorded_at, actor, reason, draw_id, replaces, replaced_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING event_id",
        [person_id, status, at, actor, reason, draw_id, replaces, replaced_by],
    ).fetchall()[0][0]
    return event_id


def _set_status(cur, person_id: str, status: str, at: datetime, actor: str | None, **kw) -> None:
    event_id = _append_event(cur, person_id, status, at, actor, **kw)
    extra = ""
    params: list = [status, at, event_id]
    if kw.get("replaced_by"):
        extra = ", replaced_by = ?"
        params.append(kw["replaced_by"])
    cur.execute(
        f"UPDATE members SET status = ?, since = ?, last_event = ?{extra} WHERE person_id = ?", params + [person_id]
    )


def enrol_panel(
    db: Database,
    person_ids: Iterable[str],
    draw_id: int | None,
    actor: str | None,
    *,
    replaces: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Put people on the panel as ``selected``. Idempotent: people already enrolled are left as
    they are. ``replaces`` maps a newcomer to the member they replace (replacement draws): the
    replaced member is marked ``replaced`` by the newcomer (``withdrawn`` first if needed).
    Returns the person_ids newly enrolled."""
    ids = [str(p).strip() for p in person_ids if str(p).strip()]
    ids = list(dict.fromkeys(ids))
    replaces = dict(replaces or {})
    at = _now(now)

    def write(cur):
        known = _known_people(cur, ids + list(replaces.values()))
        unknown = [p for p in ids + list(replaces.values()) if p not in known]
        if unknown:
            raise UserError(
                f"These pseudonyms are not in the sign-ups: {', '.join(sorted(set(unknown))[:10])}. "
                "Check them against the draw (nobody was enrolled)."
            )
        existing = (
            {
                r[0]
                for r in cur.execute(
                    "SELECT person_id FROM members WHERE list_contains(?, person_id)", [ids]
                ).fetchall()
            }
            if ids
            else set()
        )
        added = []
        for pid in ids:
            if pid in existing:
                continue
            old = replaces.get(pid)
            event_id = _append_event(cur, pid, SELECTED, at, actor, draw_id=draw_id, replaces=old)
            cur.execute(
                "INSERT INTO members (person_id, status, since, enrolled_at, draw_id, replaces, last_event)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [pid, SELECTED, at, at, draw_id, old, event_id],
            )
            added.append(pid)
        for new, old in replaces.items():
            rows = cur.execute("SELECT status FROM members WHERE person_id = ?", [old]).fetchall()
            if not rows or rows[0][0] == REPLACED:
                continue
            if rows[0][0] != WITHDRAWN:
                _set_status(
                    cur,
                    old,
                    WITHDRAWN,
                    at,
                    actor,
                    reason=f"Replaced through replacement draw {draw_id}" if draw_id else "Replaced",
                )
            _set_status(
                cur,
                old,
                REPLACED,
                at,
                actor,
                replaced_by=new,
                reason=f"Replaced by {new}" + (f" (replacement draw {draw_id})" if draw_id else ""),
            )
        return added

    # Two pages syncing a replacement at the same moment: the second retries and finds it done.
    return _in_one_transaction(db, write)


def change_status(
    db: Database,
    person_id: str,
    new_status: str,
    actor: str | None,
    *,
    reason: str | None = None,
    replaced_by: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record a status change; refuses (``UserError``, plain words) a change that is not allowed."""
    person_id = (person_id or "").strip()
    reason = (reason or "").strip() or None
    replaced_by = (replaced_by or "").strip() or None
    if new_status not in STATUSES:
        raise UserError(f"“{new_status}” is not a status. Use one of: {', '.join(STATUS_LABELS.values())}.")
    if new_status == WITHDRAWN and not reason:
        raise UserError(
            f"Please say why {person_id} is withdrawing (a few words are enough). "
            "It helps to see who drops out and why."
        )
    if new_status == REPLACED and not replaced_by:
        raise UserError(f"Please say who replaces {person_id} (their pseudonym).")
    if replaced_by == person_id:
        raise UserError("A member cannot replace themselves.")
    at = _now(now)

    def write(cur):
        rows = cur.execute("SELECT status FROM members WHERE person_id = ?", [person_id]).fetchall()
        if not rows:
            raise UserError(f"{person_id} is not on the panel, so their status cannot change.")
        current = rows[0][0]
        if new_status not in NEXT_STATUSES[current]:
            allowed = NEXT_STATUSES[current]
            nxt = (
                " From here they can only be marked: " + ", ".join(STATUS_LABELS[s] for s in allowed) + "."
                if allowed
                else " That is the last step: nothing can follow it."
            )
            raise UserError(
                f"{person_id} is “{STATUS_LABELS[current]}”, so they cannot be marked "
                f"“{STATUS_LABELS[new_status]}” now.{nxt}"
            )
        if new_status == REPLACED:
            if not cur.execute("SELECT 1 FROM members WHERE person_id = ?", [replaced_by]).fetchall():
                raise UserError(
                    f"{replaced_by} is not on the panel yet. Enrol the replacement first "
                    "(replacements come from the replacement draw)."
                )
        _set_status(cur, person_id, new_status, at, actor, reason=reason, replaced_by=replaced_by)
        if new_status == REPLACED:
            cur.execute(
                "UPDATE members SET replaces = ? WHERE person_id = ? AND replaces IS NULL", [person_id, replaced_by]
            )

    db.transaction(write)


def current_members(db: Database) -> list[str]:
    """Pseudonyms of members who are not withdrawn or replaced (completed members count)."""
    return [
        r[0]
        for r in db.query(
            "SELECT person_id FROM members WHERE status NOT IN ('withdrawn', 'replaced') ORDER BY person_id"
        )
    ]


def member_statuses(db: Database) -> pd.DataFrame:
    """person_id, status, since: every member ever enrolled, with their current status."""
    return db.query_df("SELECT person_id, status, since FROM members ORDER BY person_id")


def members_frame(db: Database) -> pd.DataFrame:
    """One row per member ever enrolled: status, since, enrolled_at, draw_id, replaces, replaced_by."""
    return db.query_df(
        "SELECT person_id, status, since, enrolled_at, draw_id, replaces, replaced_by FROM members ORDER BY person_id"
    )


def member_events_frame(db: Database, person_id: str | None = None) -> pd.DataFrame:
    """The status timeline (oldest first): event_id, person_id, status, recorded_at, actor, reason, …"""
    where, params = ("WHERE person_id = ?", [person_id]) if person_id else ("", None)
    return db.query_df(
        f"SELECT event_id, person_id, status, recorded_at, actor, reason, draw_id, replaces, "
        f"replaced_by FROM member_events {where} ORDER BY event_id",
        params,
    )


def status_counts(db: Database) -> dict[str, int]:
    counts = dict(db.query("SELECT status, count(*) FROM members GROUP BY status"))
    return {s: int(counts.get(s, 0)) for s in STATUSES}


def _in_one_transaction(db: Database, fn):
    """``db.transaction(fn)``, also retrying when a row this transaction inserts was committed by
    somebody else after it began (DuckDB reports that as a constraint error, not a conflict)."""
    import duckdb

    for attempt in range(6):
        try:
            return db.transaction(fn)
        except duckdb.ConstraintException:
            if attempt == 5:
                raise
            time.sleep(0.01 * (attempt + 1))
