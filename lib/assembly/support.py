"""Keeping people on board: support needs (``support_events``) and the contact log. Organiser-only
helpers (:func:`contact_details`, :func:`member_names`) say so.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from lib.assembly.members import CHANNELS, NEED_LABELS, NEEDS, OUTCOMES, _now
from lib.errors import UserError
from lib.store.db import Database

# --- support needs and the contact log ---------------------------------------------------------


def _check_member(cur, person_id: str) -> str:
    rows = cur.execute("SELECT status FROM members WHERE person_id = ?", [person_id]).fetchall()
    if not rows:
        raise UserError(f"{person_id} is not on the panel. Check the pseudonym (like P-0042).")
    return rows[0][0]


def _support_event(
    db: Database, person_id: str, need: str, action: str, note: str | None, actor: str | None, now: datetime | None
) -> None:
    if need not in NEEDS:
        raise UserError(f"“{need}” is not a kind of support we track. Use one of: {', '.join(NEED_LABELS.values())}.")
    at = _now(now)
    note = (note or "").strip() or None

    def write(cur):
        _check_member(cur, person_id)
        rows = cur.execute(
            "SELECT arg_max(action, event_id) FROM support_events WHERE person_id = ? AND need = ?", [person_id, need]
        ).fetchall()
        last = rows[0][0] if rows else None
        is_open = last in ("raised", "reopened")
        if action == "raised" and is_open:
            raise UserError(f"{person_id} already has an open {NEED_LABELS[need].lower()} need.")
        if action == "resolved" and not is_open:
            raise UserError(f"{person_id} has no open {NEED_LABELS[need].lower()} need to mark as sorted.")
        act = "reopened" if action == "raised" and last == "resolved" else action
        cur.execute(
            "INSERT INTO support_events (person_id, need, action, note, recorded_at, actor) VALUES (?, ?, ?, ?, ?, ?)",
            [person_id, need, act, note, at, actor],
        )

    db.transaction(write)


def add_support_need(
    db: Database, person_id: str, need: str, note: str | None, actor: str | None, *, now: datetime | None = None
) -> None:
    _support_event(db, person_id, need, "raised", note, actor, now)


def resolve_support_need(
    db: Database, person_id: str, need: str, note: str | None, actor: str | None, *, now: datetime | None = None
) -> None:
    _support_event(db, person_id, need, "resolved", note, actor, now)


def support_frame(db: Database, *, open_only: bool = False) -> pd.DataFrame:
    """Current state per (person, need): person_id, need, resolved, since, note (latest)."""
    df = db.query_df(f"""
        SELECT person_id, need, arg_max(action, event_id) = 'resolved' AS resolved,
               max(recorded_at) AS since, arg_max(note, event_id) AS note
        FROM support_events GROUP BY person_id, need
        {"HAVING arg_max(action, event_id) <> " + "'resolved'" if open_only else ""}
        ORDER BY resolved, person_id, need""")
    return df


def support_log_frame(db: Database) -> pd.DataFrame:
    return db.query_df(
        "SELECT event_id, person_id, need, action, note, recorded_at, actor FROM support_events ORDER BY event_id"
    )


def log_contact(
    db: Database,
    person_id: str,
    channel: str,
    outcome: str,
    note: str | None,
    actor: str | None,
    *,
    now: datetime | None = None,
) -> None:
    if channel not in CHANNELS:
        raise UserError(f"“{channel}” is not a way of contacting people here. Use one of: {', '.join(CHANNELS)}.")
    if outcome not in OUTCOMES:
        raise UserError(f"“{outcome}” is not an outcome here. Use one of: {', '.join(OUTCOMES)}.")
    at = _now(now)

    def write(cur):
        _check_member(cur, person_id)
        cur.execute(
            "INSERT INTO contact_log (person_id, recorded_at, actor, channel, outcome, note) VALUES (?, ?, ?, ?, ?, ?)",
            [person_id, at, actor, channel, outcome, (note or "").strip() or None],
        )

    db.transaction(write)


def contact_frame(db: Database, person_id: str | None = None) -> pd.DataFrame:
    where, params = ("WHERE person_id = ?", [person_id]) if person_id else ("", None)
    return db.query_df(
        f"SELECT contact_id, person_id, recorded_at, actor, channel, outcome, note FROM contact_log "
        f"{where} ORDER BY contact_id DESC",
        params,
    )


def member_names(db: Database) -> dict[str, str]:
    """ORGANISERS ONLY: the full name of everybody ever enrolled on the panel (withdrawn members too), by
    person_id: the Members and Support pages name them."""
    return dict(db.query("SELECT person_id, name FROM contacts WHERE person_id IN (SELECT person_id FROM members)"))


def contact_details(db: Database, person_ids: list[str]) -> pd.DataFrame:
    """ORGANISERS ONLY: name, phone and email, to make the calls on the "needs a call" list."""
    if not person_ids:
        return pd.DataFrame(columns=["person_id", "name", "phone", "email"])
    return db.query_df(
        "SELECT person_id, name, phone, email FROM contacts WHERE list_contains(?, person_id) ORDER BY person_id",
        [list(person_ids)],
    )
