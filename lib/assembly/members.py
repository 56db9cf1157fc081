"""Participation: who is on the panel and how they are doing, from the draw to the last session.

Everything is appended, nothing is overwritten:

- **Status timeline** (``member_events``): selected → contacted → confirmed → active →
  completed, or withdrawn (with a reason) → replaced (by whom). ``members`` holds each
  member's current status as a projection, updated in the same transaction as the event, so
  two people changing one member at the same moment cannot both succeed against a stale status.
- **Sessions and attendance** (``assembly_sessions``, ``attendance_log``, ``attendance_now``):
  a check-in is recorded once per person and session. ``attendance_now`` holds the current mark,
  keyed by (session, person), written in the same transaction as the ``attendance_log`` row, so a
  double tap, a replayed click or two volunteers saving the same mark at once record one row (the
  others are told when it was recorded); a different mark is a correction, logged as a new row.
- **Keeping people on board**: support needs (``support_events``), the contact log and the
  "needs a call" list, with the groups most at risk of dropping out.
- **Stipends**: a fixed amount per session attended (setting ``stipend``), payments recorded.
- **Withdrawals** and the quotas they break, compared with the quotas of the draw.

Only :func:`checkin_roster` and :func:`sign_in_sheet_html` read the ``contacts`` table for
volunteers, and they return the first name only (never a surname or a contact detail).
Organiser-only helpers (:func:`contact_details`, :func:`member_names`, :func:`treasurer_export` with names)
say so.

Time: functions that depend on the clock take ``now`` (an aware datetime; default: now), so
that the rules can be tested with a fixed clock.
"""

from __future__ import annotations

import html
import time
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Iterable, Mapping

import pandas as pd

from lib.store.db import Database
from lib.errors import UserError
from lib.privacy import safe_csv_bytes
from lib.store.settings import get_setting, set_setting

# --- vocabulary -------------------------------------------------------------------------------

SELECTED, CONTACTED, CONFIRMED, ACTIVE, COMPLETED, WITHDRAWN, REPLACED = (
    "selected", "contacted", "confirmed", "active", "completed", "withdrawn", "replaced")
STATUSES = (SELECTED, CONTACTED, CONFIRMED, ACTIVE, COMPLETED, WITHDRAWN, REPLACED)
STATUS_LABELS = {SELECTED: "Selected", CONTACTED: "Contacted", CONFIRMED: "Confirmed", ACTIVE: "Taking part",
                 COMPLETED: "Completed", WITHDRAWN: "Withdrawn", REPLACED: "Replaced"}
NEXT_STATUSES = {
    SELECTED: (CONTACTED, WITHDRAWN),
    CONTACTED: (CONFIRMED, WITHDRAWN),
    CONFIRMED: (ACTIVE, WITHDRAWN),
    ACTIVE: (COMPLETED, WITHDRAWN),
    COMPLETED: (),
    WITHDRAWN: (REPLACED,),
    REPLACED: (),
}
ON_BOARD = (SELECTED, CONTACTED, CONFIRMED, ACTIVE)          # still expected to take part
GONE = (WITHDRAWN, REPLACED)

PRESENT, LATE, EXCUSED, ABSENT = "present", "late", "excused", "absent"
MARKS = (PRESENT, LATE, EXCUSED, ABSENT)
MARK_LABELS = {PRESENT: "Present", LATE: "Late or part", EXCUSED: "Excused", ABSENT: "Absent"}
ATTENDED = (PRESENT, LATE)
SOURCES = ("door", "sheet", "organiser")

NEEDS = ("childcare", "travel", "access", "language", "technology")
NEED_LABELS = {"childcare": "Childcare", "travel": "Travel", "access": "Access (disability)",
               "language": "Language", "technology": "Technology"}

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


def _append_event(cur, person_id: str, status: str, at: datetime, actor: str | None, *, reason=None,
                  draw_id=None, replaces=None, replaced_by=None) -> int:
    event_id = cur.execute(
        "INSERT INTO member_events (person_id, status, recorded_at, actor, reason, draw_id, replaces, replaced_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING event_id",
        [person_id, status, at, actor, reason, draw_id, replaces, replaced_by]).fetchall()[0][0]
    return event_id


def _set_status(cur, person_id: str, status: str, at: datetime, actor: str | None, **kw) -> None:
    event_id = _append_event(cur, person_id, status, at, actor, **kw)
    extra = ""
    params: list = [status, at, event_id]
    if kw.get("replaced_by"):
        extra = ", replaced_by = ?"
        params.append(kw["replaced_by"])
    cur.execute(f"UPDATE members SET status = ?, since = ?, last_event = ?{extra} WHERE person_id = ?",
                params + [person_id])


def enrol_panel(db: Database, person_ids: Iterable[str], draw_id: int | None, actor: str | None, *,
                replaces: Mapping[str, str] | None = None, now: datetime | None = None) -> list[str]:
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
            raise UserError(f"These pseudonyms are not in the sign-ups: {', '.join(sorted(set(unknown))[:10])}. "
                            "Check them against the draw (nobody was enrolled).")
        existing = {r[0] for r in cur.execute(
            "SELECT person_id FROM members WHERE list_contains(?, person_id)", [ids]).fetchall()} if ids else set()
        added = []
        for pid in ids:
            if pid in existing:
                continue
            old = replaces.get(pid)
            event_id = _append_event(cur, pid, SELECTED, at, actor, draw_id=draw_id, replaces=old)
            cur.execute("INSERT INTO members (person_id, status, since, enrolled_at, draw_id, replaces, last_event)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)", [pid, SELECTED, at, at, draw_id, old, event_id])
            added.append(pid)
        for new, old in replaces.items():
            rows = cur.execute("SELECT status FROM members WHERE person_id = ?", [old]).fetchall()
            if not rows or rows[0][0] == REPLACED:
                continue
            if rows[0][0] != WITHDRAWN:
                _set_status(cur, old, WITHDRAWN, at, actor,
                            reason=f"Replaced through replacement draw {draw_id}" if draw_id else "Replaced")
            _set_status(cur, old, REPLACED, at, actor, replaced_by=new,
                        reason=f"Replaced by {new}" + (f" (replacement draw {draw_id})" if draw_id else ""))
        return added

    # Two pages syncing a replacement at the same moment: the second retries and finds it done.
    return _in_one_transaction(db, write)


def change_status(db: Database, person_id: str, new_status: str, actor: str | None, *, reason: str | None = None,
                  replaced_by: str | None = None, now: datetime | None = None) -> None:
    """Record a status change; refuses (``UserError``, plain words) a change that is not allowed."""
    person_id = (person_id or "").strip()
    reason = (reason or "").strip() or None
    replaced_by = (replaced_by or "").strip() or None
    if new_status not in STATUSES:
        raise UserError(f"“{new_status}” is not a status. Use one of: {', '.join(STATUS_LABELS.values())}.")
    if new_status == WITHDRAWN and not reason:
        raise UserError(f"Please say why {person_id} is withdrawing (a few words are enough). "
                        "It helps to see who drops out and why.")
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
            nxt = (" From here they can only be marked: " + ", ".join(STATUS_LABELS[s] for s in allowed) + "."
                   if allowed else " That is the last step: nothing can follow it.")
            raise UserError(f"{person_id} is “{STATUS_LABELS[current]}”, so they cannot be marked "
                            f"“{STATUS_LABELS[new_status]}” now.{nxt}")
        if new_status == REPLACED:
            if not cur.execute("SELECT 1 FROM members WHERE person_id = ?", [replaced_by]).fetchall():
                raise UserError(f"{replaced_by} is not on the panel yet. Enrol the replacement first "
                                "(replacements come from the replacement draw).")
        _set_status(cur, person_id, new_status, at, actor, reason=reason, replaced_by=replaced_by)
        if new_status == REPLACED:
            cur.execute("UPDATE members SET replaces = ? WHERE person_id = ? AND replaces IS NULL",
                        [person_id, replaced_by])

    db.transaction(write)


def current_members(db: Database) -> list[str]:
    """Pseudonyms of members who are not withdrawn or replaced (completed members count)."""
    return [r[0] for r in db.query(
        "SELECT person_id FROM members WHERE status NOT IN ('withdrawn', 'replaced') ORDER BY person_id")]


def member_statuses(db: Database) -> pd.DataFrame:
    """person_id, status, since: every member ever enrolled, with their current status."""
    return db.query_df("SELECT person_id, status, since FROM members ORDER BY person_id")


def members_frame(db: Database) -> pd.DataFrame:
    """One row per member ever enrolled: status, since, enrolled_at, draw_id, replaces, replaced_by."""
    return db.query_df("SELECT person_id, status, since, enrolled_at, draw_id, replaces, replaced_by "
                       "FROM members ORDER BY person_id")


def member_events_frame(db: Database, person_id: str | None = None) -> pd.DataFrame:
    """The status timeline (oldest first): event_id, person_id, status, recorded_at, actor, reason, …"""
    where, params = ("WHERE person_id = ?", [person_id]) if person_id else ("", None)
    return db.query_df(f"SELECT event_id, person_id, status, recorded_at, actor, reason, draw_id, replaces, "
                       f"replaced_by FROM member_events {where} ORDER BY event_id", params)


def funnel_frame(db: Database) -> pd.DataFrame:
    """For the representativeness stages: one row per member, a column per status telling whether
    they ever reached it (confirmed includes anyone who later became active or completed)."""
    df = db.query_df("""
        SELECT person_id,
               bool_or(status = 'selected') AS selected,
               bool_or(status IN ('contacted', 'confirmed', 'active', 'completed')) AS contacted,
               bool_or(status IN ('confirmed', 'active', 'completed')) AS confirmed,
               bool_or(status IN ('active', 'completed')) AS active,
               bool_or(status = 'completed') AS completed,
               bool_or(status = 'withdrawn') AS withdrawn,
               bool_or(status = 'replaced') AS replaced
        FROM member_events GROUP BY person_id ORDER BY person_id""")
    return df


FUNNEL_STAGES = ("selected", "contacted", "confirmed", "attended", "completed", "withdrawn")


def funnel_by_group(db: Database) -> pd.DataFrame:
    """The dropout funnel by group, for the representativeness page: field, value, stage, count.

    Stages (each person counted in every stage they ever reached): selected (everyone enrolled),
    contacted, confirmed, attended (came to at least one session, present or late), completed,
    withdrawn. Values come from the sign-up answers (``person_values``)."""
    return db.query_df(f"""
        WITH f AS (
            SELECT person_id,
                   true AS selected,
                   bool_or(status IN ('contacted', 'confirmed', 'active', 'completed')) AS contacted,
                   bool_or(status IN ('confirmed', 'active', 'completed')) AS confirmed,
                   bool_or(status = 'completed') AS completed,
                   bool_or(status = 'withdrawn') AS withdrawn
            FROM member_events GROUP BY person_id),
        a AS (SELECT DISTINCT c.person_id FROM ({_CURRENT_MARKS}) c JOIN assembly_sessions s USING (session_id)
              WHERE c.mark IN ('present', 'late') AND s.cancelled_at IS NULL),
        long AS (
            UNPIVOT (SELECT f.*, a.person_id IS NOT NULL AS attended FROM f LEFT JOIN a USING (person_id))
            ON selected, contacted, confirmed, attended, completed, withdrawn INTO NAME stage VALUE reached)
        SELECT v.field, v.value, l.stage, count(*) FILTER (WHERE l.reached) AS count
        FROM long l JOIN person_values v USING (person_id)
        WHERE v.value IS NOT NULL
        GROUP BY v.field, v.value, l.stage
        ORDER BY v.field, v.value, list_position({list(FUNNEL_STAGES)}, l.stage)""")


def status_counts(db: Database) -> dict[str, int]:
    counts = dict(db.query("SELECT status, count(*) FROM members GROUP BY status"))
    return {s: int(counts.get(s, 0)) for s in STATUSES}


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


def schedule_session(db: Database, title: str, starts_at: datetime, place: str | None, actor: str | None, *,
                     now: datetime | None = None) -> int:
    title = (title or "").strip()
    if not title:
        raise UserError("Please give the session a name, for example “Session 1: learning about the issue”.")
    if not isinstance(starts_at, datetime):
        raise UserError("Please give the date and time the session starts.")
    at = _now(now)

    def write(cur):
        return cur.execute("INSERT INTO assembly_sessions (title, starts_at, place, created_at, created_by) "
                           "VALUES (?, ?, ?, ?, ?) RETURNING session_id",
                           [title, _local_naive(starts_at), (place or "").strip() or None, at, actor]
                           ).fetchall()[0][0]

    return db.transaction(write)


def cancel_session(db: Database, session_id: int, actor: str | None, *, now: datetime | None = None) -> None:
    at = _now(now)

    def write(cur):
        rows = cur.execute("SELECT cancelled_at FROM assembly_sessions WHERE session_id = ?",
                           [session_id]).fetchall()
        if not rows:
            raise UserError(f"There is no session number {session_id}.")
        if rows[0][0] is not None:
            return
        cur.execute("UPDATE assembly_sessions SET cancelled_at = ?, cancelled_by = ? WHERE session_id = ?",
                    [at, actor, session_id])

    db.transaction(write)


def list_sessions(db: Database, *, include_cancelled: bool = False) -> list[Session]:
    where = "" if include_cancelled else "WHERE cancelled_at IS NULL"
    return [Session(r[0], r[1], r[2], r[3], r[4]) for r in db.query(
        f"SELECT session_id, title, starts_at, place, cancelled_at IS NOT NULL FROM assembly_sessions {where} "
        "ORDER BY starts_at, session_id")]


def get_session(db: Database, session_id: int) -> Session | None:
    rows = db.query("SELECT session_id, title, starts_at, place, cancelled_at IS NOT NULL FROM assembly_sessions "
                    "WHERE session_id = ?", [session_id])
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
    outcome: str            # "recorded" | "already" | "changed_meanwhile"

    @property
    def recorded(self) -> bool:
        return self.outcome == "recorded"

    @property
    def time(self) -> str:
        """The time of the mark on the venue's clock, like 18:02."""
        return _local_naive(self.at).strftime("%H:%M")


_UNSEEN = object()


def _write_marks(cur, session_id: int, marks: Mapping[str, str], actor, source, at,
                 seen: Mapping[str, str | None] | None = None) -> list[MarkResult]:
    _check_session(cur, session_id)
    ids = list(marks)
    rows = cur.execute("SELECT person_id, status FROM members WHERE list_contains(?, person_id)", [ids]).fetchall()
    status = dict(rows)
    unknown = [p for p in ids if p not in status]
    if unknown:
        raise UserError(f"Not on the panel: {', '.join(unknown[:10])}. Check the pseudonym (like P-0042); "
                        "nothing was saved.")
    gone = [p for p in ids if status[p] in GONE]
    if gone:
        raise UserError(f"{', '.join(gone[:10])} withdrew from the assembly, so they cannot be marked. "
                        "Ask an organiser if they have come back. Nothing was saved.")
    current = {r[0]: r[1:] for r in cur.execute(
        "SELECT person_id, mark, recorded_at, actor FROM attendance_now WHERE session_id = ? "
        "AND list_contains(?, person_id)", [session_id, ids]).fetchall()}
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
        mark_id = cur.execute("INSERT INTO attendance_log (session_id, person_id, mark, recorded_at, actor, source) "
                              "VALUES (?, ?, ?, ?, ?, ?) RETURNING mark_id",
                              [session_id, p, m, at, actor, source]).fetchall()[0][0]
        # The primary key (session_id, person_id) of attendance_now is what stops a second record:
        # a concurrent insert of the same key fails, and the retry finds the mark already there.
        if now_mark:
            cur.execute("UPDATE attendance_now SET mark = ?, mark_id = ?, recorded_at = ?, actor = ? "
                        "WHERE session_id = ? AND person_id = ?", [m, mark_id, at, actor, session_id, p])
        else:
            cur.execute("INSERT INTO attendance_now (session_id, person_id, mark, mark_id, recorded_at, actor) "
                        "VALUES (?, ?, ?, ?, ?, ?)", [session_id, p, m, mark_id, at, actor])
        new[p] = m
        results.append(MarkResult(p, m, at, actor, "recorded"))
    # Turning up makes a confirmed member "taking part".
    for p, m in new.items():
        if m in ATTENDED and status[p] == CONFIRMED:
            _set_status(cur, p, ACTIVE, at, actor, reason="Came to a session")
    return results


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


def _clean_mark(mark: str) -> str:
    m = (mark or "").strip().lower()
    aliases = {"late or part": LATE, "late/partial": LATE, "partial": LATE, "part": LATE, "here": PRESENT}
    m = aliases.get(m, m)
    if m not in MARKS:
        raise UserError(f"“{mark}” is not an attendance mark. Use one of: present, late, excused, absent.")
    return m


def mark_attendance(db: Database, session_id: int, person_id: str, mark: str, actor: str | None, *,
                    source: str = "door", now: datetime | None = None, seen=_UNSEEN) -> MarkResult:
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
    return _in_one_transaction(db, lambda cur: _write_marks(cur, int(session_id), {pid: clean}, actor, source, at,
                                                            expected))[0]


def mark_many(db: Database, session_id: int, marks: Mapping[str, str], actor: str | None, *,
              source: str = "sheet", now: datetime | None = None) -> int:
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
    return db.query_df(f"SELECT mark_id, session_id, person_id, mark, recorded_at, actor, source "
                       f"FROM attendance_log {where} ORDER BY mark_id", params)


def session_summary(db: Database, session_id: int) -> dict[str, int]:
    """Counts per mark for one session, plus ``unmarked`` (members still expected, no mark yet)."""
    marks = session_marks(db, session_id)
    out = {m: 0 for m in MARKS}
    for m in marks.values():
        out[m] += 1
    expected = set(current_members(db))
    out["unmarked"] = len(expected - set(marks))
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


# --- first names for the door (the only contact-derived data volunteers see) ------------------

_TITLES = frozenset("""mr mrs ms miss mx master dr doctor prof professor rev revd reverend fr father sr sra srta
    sir dame lord lady cllr councillor hon herr frau fräulein mme mlle mevr dhr med dipl ing""".split())
_SUFFIXES = frozenset("jr jnr junior sr snr senior ii iii iv phd md mbe obe esq".split())
_EDGE_PUNCTUATION = "\"'“”‘’«»„‚()[]{}<>.,;:!?*/\\|_~`^#"
NO_NAME = "(no name given)"


def _name_words(text: str) -> list[str]:
    words = []
    for w in text.split():
        w = w.strip(_EDGE_PUNCTUATION)
        if not w or "@" in w or any(c.isdigit() or c.isnumeric() for c in w):
            continue                      # part of an email address or a phone number: never shown
        if not any(c.isalpha() for c in w):
            continue
        words.append(w)
    return words


def _drop_titles(words: list[str]) -> list[str]:
    i = 0
    while i < len(words) and words[i].casefold().rstrip(".") in _TITLES:
        i += 1
    return words[i:]


def first_name(full_name: str | None) -> str:
    """The first name in a name as people type it, or "" when none can be shown safely.

    'Rosa Thị Minh' -> 'Rosa'; 'O'Brien, Mary' -> 'Mary' (the register's "Surname, First");
    'Mrs Mary Smith' -> 'Mary'; 'Mary Smith, Jr.' -> 'Mary'; 'Łukasz Nowak' -> 'Łukasz'. Nothing
    from an email address or a phone number is ever returned ('mary.smith@example.org' -> ''),
    nor a word with a digit in it, so a contact detail typed in the name column stays hidden."""
    text = unicodedata.normalize("NFC", str(full_name or ""))
    # odd spaces and control characters split words; joiners (ZWJ, ZWNJ: part of Persian or Indic names) stay
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zs", "Zl", "Zp") else c for c in text)
    if "," in text:
        before, after = text.split(",", 1)
        after_words = _drop_titles(_name_words(after.replace(",", " ")))
        if after_words and not all(w.casefold().rstrip(".") in _SUFFIXES for w in after_words):
            return after_words[0]          # "Surname, First"
        text = before
    words = _drop_titles(_name_words(text))
    return words[0] if words else ""


def first_name_or_placeholder(full_name: str | None) -> str:
    """:func:`first_name`, or "(no name given)" when there is none to show."""
    return first_name(full_name) or NO_NAME


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text or "")).casefold()
    return "".join(c for c in text if not unicodedata.combining(c))


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
    df = pd.DataFrame({"person_id": ids, "first_name": [names.get(p, "") for p in ids],
                       "mark": pd.Series([marks.get(p) for p in ids], dtype=object)})
    q = _fold(search).strip()
    if q:
        number = q.lstrip("p").lstrip("-").lstrip("0")
        by_id = df["person_id"].map(lambda p: q in _fold(p) or (bool(number) and number.isdigit() and
                                                               _fold(p).lstrip("p-").lstrip("0") == number))
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
        + "<td class=box>☐</td>" * len(MARKS) + "</tr>"
        for r in roster.itertuples())
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


# --- support needs and the contact log ---------------------------------------------------------

def _check_member(cur, person_id: str) -> str:
    rows = cur.execute("SELECT status FROM members WHERE person_id = ?", [person_id]).fetchall()
    if not rows:
        raise UserError(f"{person_id} is not on the panel. Check the pseudonym (like P-0042).")
    return rows[0][0]


def _support_event(db: Database, person_id: str, need: str, action: str, note: str | None, actor: str | None,
                   now: datetime | None) -> None:
    if need not in NEEDS:
        raise UserError(f"“{need}” is not a kind of support we track. Use one of: "
                        f"{', '.join(NEED_LABELS.values())}.")
    at = _now(now)
    note = (note or "").strip() or None

    def write(cur):
        _check_member(cur, person_id)
        rows = cur.execute("SELECT arg_max(action, event_id) FROM support_events WHERE person_id = ? AND need = ?",
                           [person_id, need]).fetchall()
        last = rows[0][0] if rows else None
        is_open = last in ("raised", "reopened")
        if action == "raised" and is_open:
            raise UserError(f"{person_id} already has an open {NEED_LABELS[need].lower()} need.")
        if action == "resolved" and not is_open:
            raise UserError(f"{person_id} has no open {NEED_LABELS[need].lower()} need to mark as sorted.")
        act = "reopened" if action == "raised" and last == "resolved" else action
        cur.execute("INSERT INTO support_events (person_id, need, action, note, recorded_at, actor) "
                    "VALUES (?, ?, ?, ?, ?, ?)", [person_id, need, act, note, at, actor])

    db.transaction(write)


def add_support_need(db: Database, person_id: str, need: str, note: str | None, actor: str | None, *,
                     now: datetime | None = None) -> None:
    _support_event(db, person_id, need, "raised", note, actor, now)


def resolve_support_need(db: Database, person_id: str, need: str, note: str | None, actor: str | None, *,
                         now: datetime | None = None) -> None:
    _support_event(db, person_id, need, "resolved", note, actor, now)


def support_frame(db: Database, *, open_only: bool = False) -> pd.DataFrame:
    """Current state per (person, need): person_id, need, resolved, since, note (latest)."""
    df = db.query_df(f"""
        SELECT person_id, need, arg_max(action, event_id) = 'resolved' AS resolved,
               max(recorded_at) AS since, arg_max(note, event_id) AS note
        FROM support_events GROUP BY person_id, need
        {'HAVING arg_max(action, event_id) <> ' + "'resolved'" if open_only else ''}
        ORDER BY resolved, person_id, need""")
    return df


def support_log_frame(db: Database) -> pd.DataFrame:
    return db.query_df("SELECT event_id, person_id, need, action, note, recorded_at, actor FROM support_events "
                       "ORDER BY event_id")


def log_contact(db: Database, person_id: str, channel: str, outcome: str, note: str | None, actor: str | None, *,
                now: datetime | None = None) -> None:
    if channel not in CHANNELS:
        raise UserError(f"“{channel}” is not a way of contacting people here. Use one of: {', '.join(CHANNELS)}.")
    if outcome not in OUTCOMES:
        raise UserError(f"“{outcome}” is not an outcome here. Use one of: {', '.join(OUTCOMES)}.")
    at = _now(now)

    def write(cur):
        _check_member(cur, person_id)
        cur.execute("INSERT INTO contact_log (person_id, recorded_at, actor, channel, outcome, note) "
                    "VALUES (?, ?, ?, ?, ?, ?)", [person_id, at, actor, channel, outcome, (note or "").strip() or None])

    db.transaction(write)


def contact_frame(db: Database, person_id: str | None = None) -> pd.DataFrame:
    where, params = ("WHERE person_id = ?", [person_id]) if person_id else ("", None)
    return db.query_df(f"SELECT contact_id, person_id, recorded_at, actor, channel, outcome, note FROM contact_log "
                       f"{where} ORDER BY contact_id DESC", params)


def member_names(db: Database) -> dict[str, str]:
    """ORGANISERS ONLY: the full name of everybody ever enrolled on the panel (withdrawn members too), by
    person_id: the Members and Support pages name them."""
    return dict(db.query("SELECT person_id, name FROM contacts WHERE person_id IN (SELECT person_id FROM members)"))


def contact_details(db: Database, person_ids: list[str]) -> pd.DataFrame:
    """ORGANISERS ONLY: name, phone and email, to make the calls on the "needs a call" list."""
    if not person_ids:
        return pd.DataFrame(columns=["person_id", "name", "phone", "email"])
    return db.query_df("SELECT person_id, name, phone, email FROM contacts WHERE list_contains(?, person_id) "
                       "ORDER BY person_id", [list(person_ids)])


# --- the "needs a call" list ------------------------------------------------------------------

def last_recorded_session(db: Database, now: datetime | None = None) -> Session | None:
    """The latest session that has started (by ``now``) and has attendance recorded."""
    local = _local_naive(_now(now))
    rows = db.query("""
        SELECT s.session_id FROM assembly_sessions s
        WHERE s.cancelled_at IS NULL AND s.starts_at <= ?
          AND EXISTS (SELECT 1 FROM attendance_log a WHERE a.session_id = s.session_id)
        ORDER BY s.starts_at DESC, s.session_id DESC LIMIT 1""", [local])
    return get_session(db, rows[0][0]) if rows else None


def needs_a_call(db: Database, now: datetime | None = None, *, no_reply_hours: int = NO_REPLY_HOURS) -> pd.DataFrame:  # noqa: C901 - one rule per reason a member needs a call, read in order
    """Members to call, with the reasons in plain words: person_id, status, reasons, no_reply,
    open_support, missed_session. Rules:

    - **no reply**: contacted at least ``no_reply_hours`` ago, not yet confirmed, and no reply
      logged since (a contact with outcome "they replied" or "spoke with them");
    - **support**: a support need not sorted yet;
    - **missed a session**: at the latest session with attendance recorded they were marked
      absent or not marked at all (excused does not count), they were on the panel before it
      started, and nobody has logged a contact with them since it started; and, whatever the clock
      and whenever they joined, anyone whose latest mark is **absent** (until a contact is logged).
    Only members still expected to take part are listed (not completed, withdrawn or replaced)."""
    at = _now(now)
    members = db.query_df("SELECT person_id, status, since, enrolled_at FROM members "
                          "WHERE status IN ('selected', 'contacted', 'confirmed', 'active') ORDER BY person_id")
    cols = ["person_id", "status", "reasons", "no_reply", "open_support", "missed_session"]
    if members.empty:
        return pd.DataFrame(columns=cols)
    contacts = db.query_df("SELECT person_id, recorded_at, outcome FROM contact_log")
    support = support_frame(db, open_only=True)
    open_needs: dict[str, list[str]] = {}
    for r in support.itertuples():
        open_needs.setdefault(r.person_id, []).append(NEED_LABELS.get(r.need, r.need).lower())
    last = last_recorded_session(db, at)
    marks = session_marks(db, last.session_id) if last else {}
    last_start = last.starts_at.astimezone() if last else None   # naive local -> aware
    # Each member's latest mark (by session), when it is Absent: a clear sign, whatever the clock
    # says of the session (marked at the door before its start time) and whenever they joined.
    sessions = {s.session_id: s for s in list_sessions(db)}
    latest_absent = {pid: (sid, rec_at) for pid, mark, sid, rec_at in db.query("""
        SELECT n.person_id, arg_max(n.mark, s.starts_at), arg_max(n.session_id, s.starts_at),
               arg_max(n.recorded_at, s.starts_at)
        FROM attendance_now n JOIN assembly_sessions s USING (session_id)
        WHERE s.cancelled_at IS NULL AND n.recorded_at <= ?
        GROUP BY n.person_id""", [at]) if mark == ABSENT and sid in sessions}

    def contacts_since(pid: str, since, replies_only: bool) -> bool:
        c = contacts[contacts["person_id"] == pid]
        if replies_only:
            c = c[c["outcome"].isin(REPLY_OUTCOMES)]
        return bool((c["recorded_at"] >= since).any()) if not c.empty else False

    out = []
    cutoff = at - timedelta(hours=no_reply_hours)
    for r in members.itertuples():
        pid = r.person_id
        since = r.since.to_pydatetime()
        reasons = []
        no_reply = (r.status == CONTACTED and since <= cutoff and not contacts_since(pid, since, True))
        if no_reply:
            hours = int((at - since).total_seconds() // 3600)
            reasons.append(f"No reply since they were contacted {hours // 24} days ago"
                           if hours >= 48 else f"No reply since they were contacted {hours} hours ago")
        needs = open_needs.get(pid, [])
        if needs:
            reasons.append("Support not sorted yet: " + ", ".join(needs))
        missed = False
        if last is not None and r.enrolled_at.to_pydatetime() <= last_start:
            mark = marks.get(pid)
            if mark in (None, ABSENT) and not contacts_since(pid, last_start, False):
                missed = True
                reasons.append(f"Missed {last.title} ({last.starts_at:%d %b})" +
                               (" (no mark)" if mark is None else ""))
        if not missed and pid in latest_absent:
            sid, marked_at = latest_absent[pid]
            sess = sessions[sid]
            start = sess.starts_at.astimezone()
            if not contacts_since(pid, min(start, marked_at), False):
                missed = True
                reasons.append(f"{'Missed' if start <= at else 'Marked absent for'} {sess.title} "
                               f"({sess.starts_at:%d %b})")
        if reasons:
            out.append([pid, r.status, "; ".join(reasons), no_reply, bool(needs), missed])
    return pd.DataFrame(out, columns=cols)


def _member_values(db: Database) -> pd.DataFrame:
    return db.query_df("""
        SELECT m.person_id, v.field, v.value FROM members m JOIN person_values v USING (person_id)
        WHERE v.value IS NOT NULL""")


def risk_by_group(db: Database, now: datetime | None = None, *, calls: pd.DataFrame | None = None) -> pd.DataFrame:
    """Which groups are most at risk of dropping out: per stratification value, members ever
    enrolled, how many withdrew, how many are on the "needs a call" list, and the share at risk
    ((withdrawn + needs a call) / enrolled). Sorted, riskiest first; ``above_average`` flags
    groups whose share is higher than the whole panel's."""
    from lib.recruitment.categories import load_fields

    cols = ["field", "field_label", "value", "value_label", "enrolled", "withdrawn", "needs_call", "at_risk",
            "share_at_risk", "above_average"]
    members = member_statuses(db)
    if members.empty:
        return pd.DataFrame(columns=cols)
    calls = set((needs_a_call(db, now) if calls is None else calls)["person_id"])
    gone = set(members.loc[members["status"].isin(GONE), "person_id"])
    values = _member_values(db)
    fields = {f.key: f for f in load_fields(db)}
    overall = (len(gone) + len(calls - gone)) / len(members)
    rows = []
    for (field, value), grp in values.groupby(["field", "value"], sort=False):
        ids = set(grp["person_id"])
        w, c = len(ids & gone), len((ids & calls) - gone)
        f = fields.get(field)
        share = (w + c) / len(ids)
        rows.append([field, f.label if f else field, value, f.value_labels.get(value, value) if f else value,
                     len(ids), w, c, w + c, share, share > overall + 1e-9])
    df = pd.DataFrame(rows, columns=cols)
    order = {k: i for i, k in enumerate(fields)}
    df["_pos"] = df["field"].map(lambda k: order.get(k, 99))
    return (df.sort_values(["share_at_risk", "at_risk", "_pos"], ascending=[False, False, True])
              .drop(columns="_pos").reset_index(drop=True))


def call_list(db: Database, now: datetime | None = None, *, top: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The "needs a call" list, people in the groups most at risk first, and the risk table.

    Returns (calls, risk): ``calls`` is :func:`needs_a_call` plus ``risk_groups`` (plain words:
    which of the ``top`` riskiest groups, above the panel's average, the person belongs to),
    sorted: at-risk groups first, then by the number of reasons; ``risk`` is :func:`risk_by_group`."""
    calls = needs_a_call(db, now)
    risk = risk_by_group(db, now, calls=calls)
    if calls.empty:
        return calls.assign(risk_groups=pd.Series(dtype=object)), risk
    flagged = risk[risk["above_average"] & (risk["at_risk"] > 0)].head(top)
    labels = {(r.field, r.value): f"{r.field_label}: {r.value_label}" for r in flagged.itertuples()}
    values = _member_values(db)
    values = values[values["person_id"].isin(set(calls["person_id"]))]
    groups: dict[str, list[str]] = {}
    for r in values.itertuples():
        if (r.field, r.value) in labels:
            groups.setdefault(r.person_id, []).append(labels[(r.field, r.value)])
    calls = calls.assign(risk_groups=calls["person_id"].map(lambda p: "; ".join(groups.get(p, []))))
    order = calls.assign(_g=calls["risk_groups"] != "", _n=calls["reasons"].str.count("; "))
    order = order.sort_values(["_g", "_n", "person_id"], ascending=[False, False, True])
    return order.drop(columns=["_g", "_n"]).reset_index(drop=True), risk


# --- stipends ----------------------------------------------------------------------------------

def _money(value, what: str = "The amount") -> Decimal:
    try:
        d = Decimal(str(value).strip().replace(",", "").lstrip("£€$"))
    except (InvalidOperation, ValueError):
        raise UserError(f"{what} “{value}” is not a number. Write it like 25 or 25.50.") from None
    if not d.is_finite():
        raise UserError(f"{what} “{value}” is not a number. Write it like 25 or 25.50.")
    if d < 0:
        raise UserError(f"{what} cannot be negative.")
    if d != d.quantize(Decimal("0.01")):
        raise UserError(f"{what} “{value}” has more than two decimal places.")
    return d.quantize(Decimal("0.01"))


def stipend_settings(db: Database) -> dict:
    """{'amount': Decimal per session attended, 'currency': '£'}; amount 0 means no stipends."""
    s = get_setting(db, "stipend", {}) or {}
    return {"amount": _money(s.get("amount", "0")), "currency": s.get("currency", "£")}


def set_stipend(db: Database, amount, actor: str | None, *, currency: str = "£") -> None:
    set_setting(db, "stipend", {"amount": str(_money(amount, "The amount per session")),
                                "currency": (currency or "£").strip()[:5]}, actor)


def record_payment(db: Database, person_id: str, amount, actor: str | None, *, method: str | None = None,
                   note: str | None = None, now: datetime | None = None) -> None:
    value = _money(amount, "The payment")
    if value == 0:
        raise UserError("The payment must be more than zero.")
    at = _now(now)

    def write(cur):
        _check_member(cur, person_id)
        cur.execute("INSERT INTO stipend_payments (person_id, amount, paid_at, actor, method, note) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [person_id, value, at, actor, (method or "").strip() or None, (note or "").strip() or None])

    db.transaction(write)


def payments_frame(db: Database) -> pd.DataFrame:
    return db.query_df("SELECT payment_id, person_id, amount, paid_at, actor, method, note FROM stipend_payments "
                       "ORDER BY payment_id DESC")


def stipends_frame(db: Database) -> pd.DataFrame:
    """Per member ever enrolled: person_id, status, sessions_attended, owed, paid, balance (Decimal).
    Owed = amount per session × sessions attended (present or late, sessions not cancelled)."""
    rate = stipend_settings(db)["amount"]
    rows = db.query(f"""
        SELECT m.person_id, m.status,
               (SELECT count(*) FROM ({_CURRENT_MARKS}) a JOIN assembly_sessions s USING (session_id)
                WHERE a.person_id = m.person_id AND a.mark IN ('present', 'late') AND s.cancelled_at IS NULL),
               (SELECT coalesce(sum(p.amount), 0) FROM stipend_payments p WHERE p.person_id = m.person_id)
        FROM members m ORDER BY m.person_id""")
    out = []
    for pid, status, n, paid in rows:
        owed = (rate * int(n)).quantize(Decimal("0.01"))
        paid = Decimal(paid).quantize(Decimal("0.01"))
        out.append([pid, status, int(n), owed, paid, owed - paid])
    return pd.DataFrame(out, columns=["person_id", "status", "sessions_attended", "owed", "paid", "balance"])


def treasurer_export(db: Database, *, include_names: bool = False) -> bytes:
    """CSV for the treasurer (spreadsheet-safe). Pseudonyms only unless ``include_names``
    (ORGANISERS ONLY, and only when the treasurer needs names to pay people)."""
    df = stipends_frame(db)
    out = pd.DataFrame({"Pseudonym": df["person_id"],
                        "Status": df["status"].map(status_label),
                        "Sessions attended": df["sessions_attended"],
                        "Owed": df["owed"], "Paid": df["paid"], "Still to pay": df["balance"]})
    if include_names:
        names = dict(db.query("SELECT person_id, name FROM contacts WHERE list_contains(?, person_id)",
                              [list(df["person_id"])])) if len(df) else {}
        out.insert(1, "Name", df["person_id"].map(lambda p: names.get(p) or ""))
    return safe_csv_bytes(out)


# --- quotas and withdrawals --------------------------------------------------------------------

@dataclass
class QuotaBreak:
    field: str
    field_label: str
    value: str
    value_label: str
    min: int
    max: int
    count: int

    @property
    def short(self) -> int:
        return max(0, self.min - self.count)

    @property
    def over(self) -> int:
        return max(0, self.count - self.max)

    @property
    def message(self) -> str:
        name = f"{self.field_label}: {self.value_label}"
        if self.short:
            return (f"{name}: {self.count} on the panel now, the quota asks for at least {self.min} "
                    f"({self.short} short).")
        return f"{name}: {self.count} on the panel now, the quota allows at most {self.max} ({self.over} too many)."


def _revealed_draw(db: Database):
    from lib.draws import records as draws  # draws imports this module (allowed upward call, see reveal_draw)

    try:
        return draws.revealed_draw(db)
    except Exception:  # noqa: BLE001 - the draws tables may not exist yet in an older database
        return None


def panel_quotas(db: Database) -> list:
    """The quotas the panel was drawn against (``lib.recruitment.quotas.QuotaRow``): those of the revealed
    draw's frozen target version and panel size; before a draw, the latest frozen (else latest)
    target version. Empty when there are no targets."""
    from lib.recruitment import quotas as q
    from lib.recruitment.targets import latest_version

    draw = _revealed_draw(db)
    frozen = getattr(draw, "quotas", None) if draw else None
    if frozen:   # the quotas frozen with the draw (field, value, min, max), before any relaxation
        from lib.sortition.audit.model import Quota

        return [Quota(str(f), str(v), int(lo), int(hi)) for f, v, lo, hi in frozen]
    version = getattr(draw, "target_version", None) if draw else None
    panel_size = getattr(draw, "panel_size", None) if draw else None
    if version is None:
        version = db.scalar("SELECT max(version) FROM target_versions WHERE frozen_at IS NOT NULL") \
            or latest_version(db)
    if version is None:
        return []
    return q.quotas_for_version(db, version, panel_size=panel_size)


def quota_status(db: Database, members: Iterable[str] | None = None, quotas: list | None = None) -> pd.DataFrame:
    """Per quota: field, field_label, value, value_label, min, max, count (among ``members``,
    default the current panel), state ('ok', 'short', 'over')."""
    from lib.recruitment.categories import load_fields

    quotas = panel_quotas(db) if quotas is None else quotas
    ids = list(current_members(db) if members is None else members)
    cols = ["field", "field_label", "value", "value_label", "min", "max", "count", "state"]
    if not quotas:
        return pd.DataFrame(columns=cols)
    counts = {(f, v): n for f, v, n in db.query(
        "SELECT field, value, count(*) FROM person_values WHERE list_contains(?, person_id) AND value IS NOT NULL "
        "GROUP BY field, value", [ids])} if ids else {}
    fields = {f.key: f for f in load_fields(db)}
    rows = []
    for qr in quotas:
        key, val = getattr(qr, "field", None) or qr.feature, qr.value
        f = fields.get(key)
        n = int(counts.get((key, val), 0))
        state = "short" if n < qr.min else "over" if n > qr.max else "ok"
        rows.append([key, f.label if f else key, val, f.value_labels.get(val, val) if f else val, int(qr.min),
                     int(qr.max), n, state])
    return pd.DataFrame(rows, columns=cols)


def quota_breaks(db: Database, members: Iterable[str] | None = None, quotas: list | None = None) -> list[QuotaBreak]:
    df = quota_status(db, members, quotas)
    return [QuotaBreak(r.field, r.field_label, r.value, r.value_label, r.min, r.max, r.count)
            for r in df.itertuples() if r.state != "ok"]


def withdrawal_breaks(db: Database, person_id: str, quotas: list | None = None) -> list[QuotaBreak]:
    """The quotas that are short because ``person_id`` is not (or no longer) on the panel: the
    quotas of this person's own groups whose count without them is below the minimum."""
    panel = [p for p in current_members(db) if p != person_id]
    own = {(f, v) for f, v in db.query("SELECT field, value FROM person_values WHERE person_id = ?", [person_id])}
    return [b for b in quota_breaks(db, panel, quotas) if b.short and (b.field, b.value) in own]


def record_withdrawal(db: Database, person_id: str, reason: str, actor: str | None, *,
                      now: datetime | None = None) -> list[QuotaBreak]:
    """Mark a member withdrawn (a reason is required) and return the quotas this leaves short."""
    change_status(db, person_id, WITHDRAWN, actor, reason=reason, now=now)
    return withdrawal_breaks(db, person_id)


def awaiting_replacement(db: Database) -> list[str]:
    """Withdrawn members not yet replaced (the candidates for a replacement draw)."""
    return [r[0] for r in db.query("SELECT person_id FROM members WHERE status = 'withdrawn' ORDER BY since")]


# --- the draw: start tracking, and replacements ------------------------------------------------

def draw_panel_to_enrol(db: Database):
    """(draw_id, person_ids) of the revealed draw when nobody is enrolled yet; else None."""
    if db.scalar("SELECT count(*) FROM members"):
        return None
    draw = _revealed_draw(db)
    if draw is None or not getattr(draw, "selected_ids", None):
        return None
    return draw.draw_id, list(draw.selected_ids)


def sync_replacements(db: Database, actor: str | None, *, now: datetime | None = None) -> list[tuple[str, str]]:
    """Enrol the people chosen by revealed replacement draws (``lib.draws``), recording whom each
    replaces (pairs in the draw's order). Idempotent, and cheap when there is nothing to do (one
    read), so that every place that lists the panel (the door, the Members page) can call it and
    nobody has to open the Members page first. Returns (replaced, newcomer) pairs newly recorded."""
    try:
        rounds = db.query("SELECT draw_id, selected_ids, replaces FROM draws "
                          "WHERE kind = 'replacement' AND status = 'revealed' ORDER BY draw_id")
    except Exception:  # noqa: BLE001 - no draws table yet
        return []
    if not rounds:
        return []
    status = dict(db.query("SELECT person_id, status FROM members"))
    if not status:
        return []
    done = []
    for draw_id, selected, replaced in rounds:
        newcomers = list(selected or [])
        pairs = dict(zip(newcomers, list(replaced or [])))
        pending = any(p not in status for p in newcomers) or \
            any(status.get(old) not in (None, REPLACED) for old in pairs.values())
        if not pending:
            continue
        before = dict(status)
        enrol_panel(db, newcomers, draw_id, actor, replaces=pairs, now=now)
        status = dict(db.query("SELECT person_id, status FROM members"))
        done.extend((old, new) for new, old in pairs.items() if before.get(old) not in (None, REPLACED))
    return done


def session_dates(db: Database) -> list[date]:
    return [s.starts_at.date() for s in list_sessions(db)]
