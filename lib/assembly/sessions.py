"""The assembly's sessions (``assembly_sessions``): scheduling, cancelling, and the session a volunteer
most likely wants at the door.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from lib.assembly.members import _local_naive, _now
from lib.errors import UserError
from lib.store.db import Database

# --- sessions ----------------------------------------------------------------------------------


@dataclass
class Session:
    session_id: int
    title: str
    starts_at: datetime
    place: str | None
    cancelled: bool

    @property
    def label(self) -> str:
        return f"{self.title} ({self.starts_at:%a %d %b %Y, %H:%M})"


def schedule_session(
    db: Database, title: str, starts_at: datetime, place: str | None, actor: str | None, *, now: datetime | None = None
) -> int:
    title = (title or "").strip()
    if not title:
        raise UserError("Please give the session a name, for example “Session 1: learning about the issue”.")
    if not isinstance(starts_at, datetime):
        raise UserError("Please give the date and time the session starts.")
    at = _now(now)

    def write(cur):
        return cur.execute(
            "INSERT INTO assembly_sessions (title, starts_at, place, created_at, created_by) "
            "VALUES (?, ?, ?, ?, ?) RETURNING session_id",
            [title, _local_naive(starts_at), (place or "").strip() or None, at, actor],
        ).fetchall()[0][0]

    return db.transaction(write)


def cancel_session(db: Database, session_id: int, actor: str | None, *, now: datetime | None = None) -> None:
    at = _now(now)

    def write(cur):
        rows = cur.execute("SELECT cancelled_at FROM assembly_sessions WHERE session_id = ?", [session_id]).fetchall()
        if not rows:
            raise UserError(f"There is no session number {session_id}.")
        if rows[0][0] is not None:
            return
        cur.execute(
            "UPDATE assembly_sessions SET cancelled_at = ?, cancelled_by = ? WHERE session_id = ?",
            [at, actor, session_id],
        )

    db.transaction(write)


def list_sessions(db: Database, *, include_cancelled: bool = False) -> list[Session]:
    where = "" if include_cancelled else "WHERE cancelled_at IS NULL"
    return [
        Session(r[0], r[1], r[2], r[3], r[4])
        for r in db.query(
            f"SELECT session_id, title, starts_at, place, cancelled_at IS NOT NULL FROM assembly_sessions {where} "
            "ORDER BY starts_at, session_id"
        )
    ]


def get_session(db: Database, session_id: int) -> Session | None:
    rows = db.query(
        "SELECT session_id, title, starts_at, place, cancelled_at IS NOT NULL FROM assembly_sessions "
        "WHERE session_id = ?",
        [session_id],
    )
    return Session(*rows[0]) if rows else None


def default_session(db: Database, now: datetime | None = None) -> Session | None:
    """The session a volunteer most likely wants at the door: today's, else the next one, else the last."""
    sessions = list_sessions(db)
    if not sessions:
        return None
    today = _local_naive(_now(now)).date()
    todays = [s for s in sessions if s.starts_at.date() == today]
    if todays:
        return todays[0]
    upcoming = [s for s in sessions if s.starts_at.date() > today]
    return upcoming[0] if upcoming else sessions[-1]


def session_dates(db: Database) -> list[date]:
    return [s.starts_at.date() for s in list_sessions(db)]
