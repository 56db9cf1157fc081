"""Surveys (waves): baseline, a short pulse after each session, end of process, follow-ups. A survey freezes
its questions when it opens; closing it writes what waits in memory; results are for members first, then
published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from lib import assembly
from lib.errors import UserError
from lib.evaluation.answers import _mark_check, _state, _Waiting, _write_batch, write_and_close
from lib.evaluation.event_log import _log
from lib.evaluation.questions import _current_version, ensure_core
from lib.evaluation.settings import eval_settings
from lib.evaluation.vocabulary import _RNG, BATCH, WAVE_KINDS, _now
from lib.store.db import Database
from lib.plaintext import count

# --------------------------------------------------------------------------------------
# Waves and answers
# --------------------------------------------------------------------------------------


@dataclass
class Wave:
    wave_id: int
    kind: str
    label: str
    status: str
    opened_at: datetime
    closed_at: datetime | None
    members_first_until: datetime | None
    published_at: datetime | None


_WAVE_COLS = "wave_id, kind, label, status, opened_at, closed_at, members_first_until, published_at"


def waves(db: Database) -> list[Wave]:
    return [Wave(*r) for r in db.query(f"SELECT {_WAVE_COLS} FROM eval_waves ORDER BY wave_id")]


def get_wave(db: Database, wave_id: int) -> Wave:
    rows = db.query(f"SELECT {_WAVE_COLS} FROM eval_waves WHERE wave_id = ?", [wave_id])
    if not rows:
        raise UserError("That survey does not exist.")
    return Wave(*rows[0])


def last_session_title(db: Database) -> str | None:
    """The latest session with attendance recorded (lib.assembly), to name a pulse survey after."""
    session = assembly.last_recorded_session(db)
    return session.title if session is not None else None


def new_wave_label(kind: str, label: str, last_session: str | None) -> str:
    """The name a survey opens with: as typed; a pulse survey left unnamed is named after the last session
    with attendance ("After Session 2"). Otherwise empty, and open_wave names it after its kind."""
    if kind == "pulse" and not label.strip() and last_session:
        return f"After {last_session}"
    return label


def open_wave(
    db: Database, kind: str, label: str | None = None, actor: str = "organiser", *, now: datetime | None = None
) -> Wave:
    """Open a survey wave: the core items for this kind of wave plus the adopted members' questions."""
    if kind not in WAVE_KINDS:
        raise UserError(f"Unknown kind of survey {kind!r}; choose one of: {', '.join(WAVE_KINDS.values())}.")
    ensure_core(db)
    now = _now(now)
    name = " ".join(str(label or "").split()) or WAVE_KINDS[kind]
    key = _state(db).key

    def write(cur):
        core = [
            r[0]
            for r in cur.execute(
                "SELECT question_id FROM eval_questions WHERE kind = 'core' "
                "AND list_contains(waves, ?) ORDER BY position",
                [kind],
            ).fetchall()
        ]
        members = [
            r[0]
            for r in cur.execute(
                "SELECT question_id FROM eval_questions WHERE kind = 'member' AND status = 'adopted' ORDER BY position"
            ).fetchall()
        ]
        wid = cur.execute("SELECT nextval('eval_wave_seq')").fetchall()[0][0]
        cur.execute(
            "INSERT INTO eval_waves (wave_id, kind, label, status, opened_at, opened_by) "
            "VALUES (?, ?, ?, 'open', ?, ?)",
            [wid, kind, name, now, actor],
        )
        for pos, qid in enumerate(core + members, start=1):
            version, _w = _current_version(cur, qid)
            cur.execute(
                "INSERT INTO eval_wave_questions (wave_id, question_id, version, position) VALUES (?, ?, ?, ?)",
                [wid, qid, version, pos],
            )
        cur.execute(
            "INSERT INTO eval_answered (wave_id, hashes, mark_check) VALUES (?, [], ?)",
            [wid, _mark_check(key, "wave", wid)],
        )
        _log(
            cur,
            actor,
            "wave_opened",
            wave_id=wid,
            detail=f"{name}: {len(core)} core and {len(members)} members' question{'' if len(members) == 1 else 's'}",
        )
        return wid

    return get_wave(db, db.transaction(write))


def wave_questions(db: Database, wave_id: int) -> pd.DataFrame:
    """The frozen questions of a wave, in order, with the exact wording asked."""
    return db.query_df(
        """
        SELECT wq.question_id, wq.position, w.wording, q.kind, q.stage FROM eval_wave_questions wq
        JOIN eval_wordings w ON w.question_id = wq.question_id AND w.version = wq.version
        JOIN eval_questions q ON q.question_id = wq.question_id
        WHERE wq.wave_id = ? ORDER BY wq.position""",
        [wave_id],
    )


def close_wave(
    db: Database,
    wave_id: int,
    actor: str = "organiser",
    *,
    members_first_days: int | None = None,
    now: datetime | None = None,
) -> Wave:
    """Close a survey: the answers still waiting in memory are written (in random order), then no
    more answers are taken. If fewer than BATCH sets of answers were given in all, none is kept
    (only the members' marks): so few could be recognised, and no result would be shown anyway."""
    now = _now(now)
    days = eval_settings(db)["members_first_days"] if members_first_days is None else int(members_first_days)
    state = _state(db)
    scope = ("wave", wave_id)

    def write(cur):
        rows = cur.execute("SELECT status FROM eval_waves WHERE wave_id = ?", [wave_id]).fetchall()
        if not rows:
            raise UserError("That survey does not exist.")
        if rows[0][0] != "open":
            raise UserError("This survey is already closed.")
        waiting = list(state.waiting.get(scope, []))
        stored = cur.execute(
            "SELECT count(DISTINCT response_id) FROM eval_responses WHERE wave_id = ?", [wave_id]
        ).fetchall()[0][0]
        sets = sum(1 for e in waiting if e.items)
        dropped = 0
        if sets and stored + sets < BATCH:
            waiting = [_Waiting(e.mark, ()) for e in waiting if e.mark]
            dropped = sets
        if waiting:
            _RNG.shuffle(waiting)
            _write_batch(cur, state.key, scope, waiting)
        until = now + timedelta(days=days)
        cur.execute(
            "UPDATE eval_waves SET status = 'closed', closed_at = ?, members_first_until = ? WHERE wave_id = ?",
            [now, until, wave_id],
        )
        note = (
            f"; fewer than {BATCH} sets of answers were given, so those {dropped} were not kept (so few could "
            "be recognised)"
            if dropped
            else ""
        )
        _log(
            cur,
            actor,
            "wave_closed",
            wave_id=wave_id,
            detail=f"members see the results first, for {count(days, 'day')}, until {until.date().isoformat()}{note}",
        )

    write_and_close(db, scope, write)
    return get_wave(db, wave_id)


def publish_wave(db: Database, wave_id: int, actor: str = "organiser", *, now: datetime | None = None) -> Wave:
    now = _now(now)
    w = get_wave(db, wave_id)
    if w.status != "closed":
        raise UserError("Close the survey first; results are published after members have seen them.")
    if w.published_at is not None:
        raise UserError("These results are already published.")
    if w.members_first_until is not None and now < w.members_first_until:
        raise UserError(
            f"Members see these results first, until {w.members_first_until:%d %b %Y %H:%M}. "
            "You can publish them after that."
        )

    def write(cur):
        cur.execute("UPDATE eval_waves SET published_at = ?, published_by = ? WHERE wave_id = ?", [now, actor, wave_id])
        _log(cur, actor, "wave_published", wave_id=wave_id)

    db.transaction(write)
    return get_wave(db, wave_id)


def visible_waves(db: Database, role: str) -> list[Wave]:
    """Waves whose results this role may see: closed ones for members and organisers, published
    ones for everybody else."""
    out = []
    for w in waves(db):
        if w.status != "closed":
            continue
        if role in ("organiser", "member") or w.published_at is not None:
            out.append(w)
    return out
