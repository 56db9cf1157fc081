"""Check-in and attendance (``attendance_log``, ``attendance_now``): a check-in is recorded once per person
and session. ``attendance_now`` holds the current mark, keyed by (session, person), written in the same
transaction as the ``attendance_log`` row, so a double tap, a replayed click or two volunteers saving the same
mark at once record one row (the others are told when it was recorded); a different mark is a correction,
logged as a new row.

Only :func:`checkin_roster` and :func:`sign_in_sheet_html` read the ``contacts`` table for volunteers, and
they return the first name only (never a surname or a contact detail).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

import pandas as pd

from lib.assembly.first_names import NO_NAME, _fold, first_name
from lib.assembly.members import (
    ACTIVE,
    ATTENDED,
    CONFIRMED,
    GONE,
    LATE,
    MARK_LABELS,
    MARKS,
    PRESENT,
    SOURCES,
    _in_one_transaction,
    _local_naive,
    _now,
    _set_status,
    current_members,
)
from lib.assembly.sessions import get_session
from lib.errors import UserError
from lib.store.db import Database

# --- attendance --------------------------------------------------------------------------------


def _check_session(cur, session_id: int) -> None:
    rows = cur.execute("SELECT cancelled_at FROM assembly_sessions WHERE session_id = ?", [session_id]).fetchall()
    if not rows:
        raise UserError(f"There is no session number {session_id}. Choose a session from the list.")
    if rows[0][0] is not None:
        raise UserError("That session was cancelled, so nobody can be marked for it.")


@dataclass
class MarkResult:
    """What one check-in did. ``recorded``: a new mark was saved. Otherwise nothing was written:
    ``already`` (the person already had this very mark: a double tap, a rerun, two volunteers at
    once) or ``changed_meanwhile`` (somebody else gave them another mark after the volunteer's
    list was shown, so the tap is not applied over it). ``mark``, ``at`` and ``actor`` describe
    the mark the person has now."""

    person_id: str
    mark: str
    at: datetime
    actor: str | None
    outcome: str  # "recorded" | "already" | "changed_meanwhile"

    @property
    def recorded(self) -> bool:
        return self.outcome == "recorded"

    @property
    def time(self) -> str:
        """The time of the mark on the venue's clock, like 18:02."""
        return _local_naive(self.at).strftime("%H:%M")


_UNSEEN = object()


def _write_marks(
    cur, session_id: int, marks: Mapping[str, str], actor, source, at, seen: Mapping[str, str | None] | None = None
) -> list[MarkResult]:
    _check_session(cur, session_id)
    ids = list(marks)
    rows = cur.execute("SELECT person_id, status FROM members WHERE list_contains(?, person_id)", [ids]).fetchall()
    status = dict(rows)
    unknown = [p for p in ids if p not in status]
    if unknown:
        raise UserError(
            f"Not on the panel: {', '.join(unknown[:10])}. Check the pseudonym (like P-0042); nothing was saved."
        )
    gone = [p for p in ids if status[p] in GONE]
    if gone:
        raise UserError(
            f"{', '.join(gone[:10])} withdrew from the assembly, so they cannot be marked. "
            "Ask an organiser if they have come back. Nothing was saved."
        )
    current = {
        r[0]: r[1:]
        for r in cur.execute(
            "SELECT person_id, mark, recorded_at, actor FROM attendance_now WHERE session_id = ? "
            "AND list_contains(?, person_id)",
            [session_id, ids],
        ).fetchall()
    }
    results, new = [], {}
    for p, m in marks.items():
        now_mark = current.get(p)
        if now_mark and now_mark[0] == m:
            results.append(MarkResult(p, m, now_mark[1], now_mark[2], "already"))
            continue
        expected = (seen or {}).get(p, _UNSEEN)
        if expected is not _UNSEEN and now_mark and now_mark[0] != expected:
            results.append(MarkResult(p, now_mark[0], now_mark[1], now_mark[2], "changed_meanwhile"))
            continue
        mark_id = cur.execute(
            "INSERT INTO attendance_log (session_id, person_id, mark, recorded_at, actor, source) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING mark_id",
            [session_id, p, m, at, actor, source],
        ).fetchall()[0][0]
        # The primary key (session_id, person_id) of attendance_now is what stops a second record:
        # a concurrent insert of the same key fails, and the retry finds the mark already there.
        if now_mark:
            cur.execute(
                "UPDATE attendance_now SET mark = ?, mark_id = ?, recorded_at = ?, actor = ? "
                "WHERE session_id = ? AND person_id = ?",
                [m, mark_id, at, actor, session_id, p],
            )
        else:
            cur.execute(
                "INSERT INTO attendance_now (session_id, person_id, mark, mark_id, recorded_at, actor) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [session_id, p, m, mark_id, at, actor],
            )
        new[p] = m
        results.append(MarkResult(p, m, at, actor, "recorded"))
    # Turning up makes a confirmed member "taking part".
    for p, m in new.items():
        if m in ATTENDED and status[p] == CONFIRMED:
            _set_status(cur, p, ACTIVE, at, actor, reason="Came to a session")
    return results


def _clean_mark(mark: str) -> str:
    m = (mark or "").strip().lower()
    aliases = {"late or part": LATE, "late/partial": LATE, "partial": LATE, "part": LATE, "here": PRESENT}
    m = aliases.get(m, m)
    if m not in MARKS:
        raise UserError(f"“{mark}” is not an attendance mark. Use one of: present, late, excused, absent.")
    return m


def mark_attendance(
    db: Database,
    session_id: int,
    person_id: str,
    mark: str,
    actor: str | None,
    *,
    source: str = "door",
    now: datetime | None = None,
    seen=_UNSEEN,
) -> MarkResult:
    """Record one mark, once: giving a person the mark they already have records nothing and
    says when they got it (``MarkResult.outcome == "already"``); a different mark is a
    correction, logged as a new row (the latest mark counts). ``seen``: the mark the volunteer
    saw on screen (None: not marked yet); when given and somebody else changed the mark since,
    nothing is written (``"changed_meanwhile"``), so a stale list or a replayed tap never
    overwrites a newer mark."""
    pid = str(person_id).strip()
    clean = _clean_mark(mark)
    expected = {} if seen is _UNSEEN else {pid: seen}
    at = _now(now)
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    return _in_one_transaction(
        db, lambda cur: _write_marks(cur, int(session_id), {pid: clean}, actor, source, at, expected)
    )[0]


def mark_many(
    db: Database,
    session_id: int,
    marks: Mapping[str, str],
    actor: str | None,
    *,
    source: str = "sheet",
    now: datetime | None = None,
) -> int:
    """Record several marks at once (a typed-in paper sheet): all saved, or none. Returns how many
    were new (a mark the person already has is not recorded again)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    clean = {str(p).strip(): _clean_mark(m) for p, m in marks.items() if str(p).strip()}
    if not clean:
        return 0
    at = _now(now)
    results = _in_one_transaction(db, lambda cur: _write_marks(cur, int(session_id), clean, actor, source, at))
    return sum(r.recorded for r in results)


_CURRENT_MARKS = """
    SELECT session_id, person_id, mark, recorded_at FROM attendance_now"""


def attendance_frame(db: Database, *, include_cancelled: bool = False) -> pd.DataFrame:
    """The current mark per (session, person): session_id, session_date, person_id, mark."""
    where = "" if include_cancelled else "WHERE s.cancelled_at IS NULL"
    return db.query_df(f"""
        SELECT a.session_id, s.starts_at AS session_date, a.person_id, a.mark
        FROM ({_CURRENT_MARKS}) a JOIN assembly_sessions s USING (session_id) {where}
        ORDER BY s.starts_at, a.session_id, a.person_id""")


def session_marks(db: Database, session_id: int) -> dict[str, str]:
    return dict(db.query(f"SELECT person_id, mark FROM ({_CURRENT_MARKS}) WHERE session_id = ?", [session_id]))


def attendance_log_frame(db: Database, session_id: int | None = None) -> pd.DataFrame:
    """Every mark ever saved (oldest first), including ones later corrected."""
    where, params = ("WHERE session_id = ?", [session_id]) if session_id is not None else ("", None)
    return db.query_df(
        f"SELECT mark_id, session_id, person_id, mark, recorded_at, actor, source "
        f"FROM attendance_log {where} ORDER BY mark_id",
        params,
    )


def session_summary(db: Database, session_id: int) -> dict[str, int]:
    """Counts per mark for one session, plus ``unmarked`` (members still expected, no mark yet) and ``members``
    (the members on the panel now, all expected)."""
    marks = session_marks(db, session_id)
    out = {m: 0 for m in MARKS}
    for m in marks.values():
        out[m] += 1
    expected = set(current_members(db))
    out["unmarked"] = len(expected - set(marks))
    out["members"] = len(expected)
    out["attended"] = out[PRESENT] + out[LATE]
    return out


def attended_last_session(db: Database) -> int | None:
    """How many attended (present or late) the latest session that has attendance recorded."""
    rows = db.query(f"""
        SELECT s.session_id, count(*) FILTER (WHERE a.mark IN ('present', 'late'))
        FROM ({_CURRENT_MARKS}) a JOIN assembly_sessions s USING (session_id)
        WHERE s.cancelled_at IS NULL
        GROUP BY s.session_id, s.starts_at ORDER BY s.starts_at DESC, s.session_id DESC LIMIT 1""")
    return int(rows[0][1]) if rows else None


def _first_names(db: Database, person_ids: list[str]) -> dict[str, str]:
    if not person_ids:
        return {}
    rows = db.query("SELECT person_id, name FROM contacts WHERE list_contains(?, person_id)", [person_ids])
    return {pid: first_name(name) for pid, name in rows}


def checkin_roster(db: Database, session_id: int, search: str = "") -> pd.DataFrame:
    """Members still on the panel for the door: person_id, first_name, mark (None: not marked yet).

    ``search`` matches the pseudonym (``P-0042``, ``0042`` or ``42``) or the start of the first
    name, ignoring case and accents. Surnames are never read into the result nor searched."""
    ids = current_members(db)
    names = _first_names(db, ids)
    marks = session_marks(db, session_id)
    df = pd.DataFrame(
        {
            "person_id": ids,
            "first_name": [names.get(p, "") for p in ids],
            "mark": pd.Series([marks.get(p) for p in ids], dtype=object),
        }
    )
    q = _fold(search).strip()
    if q:
        number = q.lstrip("p").lstrip("-").lstrip("0")
        by_id = df["person_id"].map(
            lambda p: (
                q in _fold(p) or (bool(number) and number.isdigit() and _fold(p).lstrip("p-").lstrip("0") == number)
            )
        )
        by_name = df["first_name"].map(lambda n: _fold(n).startswith(q))
        df = df[by_id | by_name]
    return df.sort_values(["first_name", "person_id"], key=lambda s: s.map(_fold)).reset_index(drop=True)


def sign_in_sheet_html(db: Database, session_id: int) -> str:
    """A printable sign-in sheet: first name, pseudonym and a box per mark, for when phones fail."""
    session = get_session(db, session_id)
    if session is None:
        raise UserError(f"There is no session number {session_id}.")
    roster = checkin_roster(db, session_id)
    rows = "\n".join(
        f"<tr><td>{html.escape(r.first_name or NO_NAME)}</td><td class=id>{html.escape(r.person_id)}</td>"
        + "<td class=box>☐</td>" * len(MARKS)
        + "</tr>"
        for r in roster.itertuples()
    )
    heads = "".join(f"<th>{html.escape(MARK_LABELS[m])}</th>" for m in MARKS)
    place = f" · {html.escape(session.place)}" if session.place else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in sheet: {html.escape(session.title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5cm; }}
h1 {{ font-size: 1.4em; margin-bottom: 0.2em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #333; padding: 0.45em 0.6em; text-align: left; font-size: 1.05em; }}
td.box {{ text-align: center; font-size: 1.4em; width: 4.5em; }}
td.id {{ font-family: monospace; }}
tr {{ page-break-inside: avoid; }}
@media print {{ body {{ margin: 0.8cm; }} }}
</style></head><body>
<h1>Sign-in sheet: {html.escape(session.title)}</h1>
<p>{session.starts_at:%A %d %B %Y, %H:%M}{place}. Tick one box per person.
Type the ticks in afterwards on the Check-in page (“Paper sheet”).</p>
<table><thead><tr><th>First name</th><th>Pseudonym</th>{heads}</tr></thead>
<tbody>
{rows}
</tbody></table>
<p>{len(roster)} members. Late arrivals and anyone missing from this list: write their first name and
pseudonym at the bottom.</p>
</body></html>
"""
