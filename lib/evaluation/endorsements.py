"""Endorsement rounds: every checked question that is ready goes in; each member endorses any of them, once
per round, anonymously, seeing the options in their own order; tallies are shown when the round closes.
Adoption (most endorsed first, ties by a public lot) and objections.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping

import pandas as pd

from lib.errors import UserError
from lib.evaluation.access_codes import MemberSession, _check_active, _session_token
from lib.evaluation.answers import (
    _add_waiting,
    _mark_check,
    _state,
    _stored_marks,
    _Waiting,
    _waiting_marks,
    _write_batch,
    marked_count,
    member_mark,
    write_and_close,
)
from lib.evaluation.event_log import _log
from lib.evaluation.questions import _clean_text, _current_version
from lib.evaluation.settings import adoption_base, eval_settings, needed_endorsements
from lib.evaluation.vocabulary import _RNG, _now, _sha
from lib.i18n import N_
from lib.store.db import Database
from lib.plaintext import count

# --------------------------------------------------------------------------------------
# Endorsement rounds
# --------------------------------------------------------------------------------------


@dataclass
class Round:
    round_id: int
    opened_at: datetime
    closes_at: datetime
    order_salt: str
    lot_seed: str
    share: float
    max_adopted: int
    status: str
    closed_at: datetime | None
    base: int | None
    base_source: str | None
    needed: int | None


def _round(row) -> Round:
    return Round(*row)


_ROUND_COLS = (
    "round_id, opened_at, closes_at, order_salt, lot_seed, share, max_adopted, status, closed_at, base, "
    "base_source, needed"
)


def rounds(db: Database) -> list[Round]:
    return [_round(r) for r in db.query(f"SELECT {_ROUND_COLS} FROM eval_rounds ORDER BY round_id")]


def open_round_now(db: Database) -> Round | None:
    rows = db.query(f"SELECT {_ROUND_COLS} FROM eval_rounds WHERE status = 'open' ORDER BY round_id DESC LIMIT 1")
    return _round(rows[0]) if rows else None


def open_round(
    db: Database,
    closes_at: datetime,
    actor: str = "organiser",
    *,
    lot_seed: str | None = None,
    now: datetime | None = None,
) -> Round:
    """Open an endorsement round for every members' question that is ready."""
    now = _now(now)
    if closes_at.tzinfo is None:
        closes_at = closes_at.astimezone()
    if closes_at <= now:
        raise UserError("The closing time must be in the future.")
    s = eval_settings(db)
    seed = " ".join(str(lot_seed or "").split())
    key = _state(db).key

    def write(cur):
        if cur.execute("SELECT count(*) FROM eval_rounds WHERE status = 'open'").fetchall()[0][0]:
            raise UserError("A round is already open. Close it before opening another.")
        ready = [
            r[0]
            for r in cur.execute(
                "SELECT question_id FROM eval_questions WHERE kind = 'member' AND "
                "status = 'ready' AND check_state = 'accepted' "
                "ORDER BY position"
            ).fetchall()
        ]
        if not ready:
            raise UserError(
                "No members' question is ready to be endorsed. (Questions wait for the organisers' "
                "check, and questions with a wording suggestion wait until the member who proposed "
                "them accepts or declines it.)"
            )
        rid = cur.execute("SELECT nextval('eval_round_seq')").fetchall()[0][0]
        seed_text = seed or f"Kleroterion endorsement round {rid}, opened {now.date().isoformat()}"
        cur.execute(
            "INSERT INTO eval_rounds (round_id, opened_at, closes_at, opened_by, order_salt, lot_seed, share, "
            "max_adopted, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')",
            [rid, now, closes_at, actor, f"round-{rid}", seed_text, s["share"], s["limit"]],
        )
        cur.execute(
            "INSERT INTO eval_round_voters (round_id, voters, mark_check) VALUES (?, [], ?)",
            [rid, _mark_check(key, "round", rid)],
        )
        for qid in ready:
            version, _w = _current_version(cur, qid)
            cur.execute(
                "INSERT INTO eval_round_questions (round_id, question_id, version) VALUES (?, ?, ?)",
                [rid, qid, version],
            )
        cur.execute(
            "UPDATE eval_questions SET status = 'in_round', round_id = ? WHERE list_contains(?, question_id)",
            [rid, ready],
        )
        _log(
            cur,
            actor,
            "round_opened",
            round_id=rid,
            detail=f"questions {', '.join(ready)}; closes {closes_at.isoformat(timespec='minutes')}; "
            f"public seed for the lot: {seed_text!r}; agreed share {s['share']:.0%}; limit {s['limit']}",
        )
        return rid

    rid = db.transaction(write)
    return [r for r in rounds(db) if r.round_id == rid][0]


def option_order(order_salt: str, token: str, question_ids: Iterable[str]) -> list[str]:
    """A member's own order of the options: by SHA-256(order_salt | token | question_id)."""
    return sorted(question_ids, key=lambda q: _sha(f"{order_salt}|{token}|{q}"))


def lot_key(lot_seed: str, question_id: str) -> str:
    """The public lot: SHA-256("{lot_seed}|{question_id}") in hex; the smaller wins a tie."""
    return _sha(f"{lot_seed}|{question_id}")


def round_options(db: Database, session: MemberSession, round_id: int) -> pd.DataFrame:
    """The questions of a round, in this member's own order, with their endorsed wording."""
    token = _session_token(session)
    df = db.query_df(
        """
        SELECT rq.question_id, w.wording, q.purpose FROM eval_round_questions rq
        JOIN eval_wordings w ON w.question_id = rq.question_id AND w.version = rq.version
        JOIN eval_questions q ON q.question_id = rq.question_id
        WHERE rq.round_id = ?""",
        [round_id],
    )
    salt = db.scalar("SELECT order_salt FROM eval_rounds WHERE round_id = ?", [round_id])
    order = option_order(salt or "", token, df["question_id"].tolist())
    return df.set_index("question_id").loc[order].reset_index()


def has_endorsed(db: Database, session: MemberSession, round_id: int) -> bool:
    """Whether this member has endorsed in the round (saved, or waiting in memory for a batch)."""
    state = _state(db)
    mark = member_mark(db, "endorsed", round_id, session)
    with state.lock:
        if mark in _waiting_marks(state, ("round", round_id)):
            return True
        with db.cursor() as cur:
            return mark in _stored_marks(cur, state.key, "round", round_id, check=False)


def endorse(
    db: Database, session: MemberSession, round_id: int, question_ids: Iterable[str], *, now: datetime | None = None
) -> int:
    """A member's endorsements in a round: once per round, anonymous. Returns how many were recorded.

    Nothing is written now: the endorsements wait in memory and are written with others, at least
    BATCH members' at a time, or when the round closes."""
    token = _session_token(session)
    now = _now(now)
    chosen = sorted(set(question_ids))
    if not chosen:
        raise UserError("Tick at least one question to endorse it.")
    state = _state(db)
    mark = member_mark(db, "endorsed", round_id, token)
    scope = ("round", round_id)
    with state.lock:
        with db.cursor() as cur:  # reads only
            _check_active(cur, token)
            rows = cur.execute("SELECT status, closes_at FROM eval_rounds WHERE round_id = ?", [round_id]).fetchall()
            if not rows:
                raise UserError("That endorsement round does not exist.")
            status, closes_at = rows[0]
            if status != "open" or closes_at <= now:
                raise UserError("This round has closed, so endorsements are no longer taken.")
            in_round = {
                r[0]
                for r in cur.execute(
                    "SELECT question_id FROM eval_round_questions WHERE round_id = ?", [round_id]
                ).fetchall()
            }
            stray = [q for q in chosen if q not in in_round]
            if stray:
                raise UserError(f"{', '.join(stray)} is not part of this round.")
            stored = _stored_marks(cur, state.key, "round", round_id)
        if mark in stored or mark in _waiting_marks(state, scope):
            raise UserError("You have already endorsed in this round; each member endorses once per round.")
        _add_waiting(db, state, scope, _Waiting(mark, tuple(chosen)))
    return len(chosen)


def endorsed_count(db: Database, round_id: int) -> int:
    """How many members have endorsed in a round so far (saved or waiting)."""
    return marked_count(db, "round", round_id)


def close_due_rounds(db: Database, now: datetime | None = None) -> list[int]:
    """Close every open round whose time is up (called when pages load)."""
    now = _now(now)
    due = [r[0] for r in db.query("SELECT round_id FROM eval_rounds WHERE status = 'open' AND closes_at <= ?", [now])]
    for rid in due:
        close_round(db, rid, actor="system", now=now)
    return due


def close_round(db: Database, round_id: int, actor: str = "organiser", *, now: datetime | None = None) -> pd.DataFrame:
    """Count the endorsements, adopt what reaches the threshold (up to the limit, ties by lot)."""
    now = _now(now)
    base = adoption_base(db)
    state = _state(db)
    scope = ("round", round_id)

    def write(cur):
        rows = cur.execute(
            "SELECT status, share, max_adopted, lot_seed FROM eval_rounds WHERE round_id = ?", [round_id]
        ).fetchall()
        if not rows:
            raise UserError("That endorsement round does not exist.")
        status, share, max_adopted, seed = rows[0]
        if status != "open":
            raise UserError("This round is already closed.")
        waiting = list(state.waiting.get(scope, []))
        if waiting:  # the endorsements still waiting in memory, written before counting
            _RNG.shuffle(waiting)
            _write_batch(cur, state.key, scope, waiting)
        needed = needed_endorsements(share, base.count)
        tallies = dict(
            cur.execute(
                """
            SELECT rq.question_id, count(e.question_id) FROM eval_round_questions rq
            LEFT JOIN eval_endorsements e ON e.round_id = rq.round_id AND e.question_id = rq.question_id
            WHERE rq.round_id = ? GROUP BY rq.question_id""",
                [round_id],
            ).fetchall()
        )
        already = cur.execute(
            "SELECT count(*) FROM eval_questions WHERE kind = 'member' AND status = 'adopted'"
        ).fetchall()[0][0]
        decided = decide(tallies, needed=needed, room=max(0, max_adopted - already), lot_seed=seed)
        for qid, d in decided.items():
            cur.execute(
                "UPDATE eval_round_questions SET endorsements = ?, lot_key = ?, by_lot = ?, outcome = ? "
                "WHERE round_id = ? AND question_id = ?",
                [d["endorsements"], d["lot_key"], d["by_lot"], d["outcome"], round_id, qid],
            )
            cur.execute(
                "UPDATE eval_questions SET status = ? WHERE question_id = ?",
                ["adopted" if d["outcome"] == "adopted" else "not_adopted", qid],
            )
        cur.execute(
            "UPDATE eval_rounds SET status = 'closed', closed_at = ?, closed_by = ?, base = ?, "
            "base_source = ?, needed = ? WHERE round_id = ?",
            [now, actor, base.count, base.source, needed, round_id],
        )
        summary = "; ".join(
            f"{q}: {count(d['endorsements'], 'endorsement')}, {d['outcome']}{' (by lot)' if d['by_lot'] else ''}"
            for q, d in sorted(decided.items())
        )
        _log(
            cur,
            actor,
            "round_closed",
            round_id=round_id,
            detail=f"base {base.count} ({base.source}); needed {needed}; {summary}",
        )

    write_and_close(db, scope, write)
    return round_result(db, round_id)


def decide(tallies: Mapping[str, int], *, needed: int, room: int, lot_seed: str) -> dict[str, dict]:
    """The adoption rule, pure. Questions with >= needed endorsements are adopted, most endorsed
    first, until ``room`` places are filled; among equal tallies the public lot orders them
    (smaller SHA-256 key first). ``by_lot`` marks questions whose fate the lot decided, i.e. those
    tied with another qualifying question across the last place.
    """
    keys = {q: lot_key(lot_seed, q) for q in tallies}
    qualified = sorted((q for q, n in tallies.items() if n >= needed), key=lambda q: (-tallies[q], keys[q]))
    adopted = set(qualified[:room])
    tie_tallies = set()
    if 0 < room < len(qualified) and tallies[qualified[room - 1]] == tallies[qualified[room]]:
        tie_tallies.add(tallies[qualified[room]])
    if room == 0:
        tie_tallies = set()
    out = {}
    for q, n in tallies.items():
        if q in adopted:
            outcome = "adopted"
        elif n >= needed:
            outcome = "no_room"
        else:
            outcome = "not_enough"
        out[q] = {
            "endorsements": int(n),
            "lot_key": keys[q],
            "outcome": outcome,
            "by_lot": n >= needed and n in tie_tallies,
        }
    return out


OUTCOME_WORDS = {
    "adopted": N_("Adopted"),
    "not_enough": N_("Not enough endorsements"),
    "no_room": N_("Enough endorsements, but the limit was reached"),
}


def round_result(db: Database, round_id: int) -> pd.DataFrame:
    """Tallies and outcomes of a closed round (empty while it is open: tallies stay hidden)."""
    return db.query_df(
        """
        SELECT rq.question_id, w.wording, rq.endorsements, rq.outcome, rq.by_lot, rq.lot_key
        FROM eval_round_questions rq JOIN eval_rounds r USING (round_id)
        JOIN eval_wordings w ON w.question_id = rq.question_id AND w.version = rq.version
        WHERE rq.round_id = ? AND r.status = 'closed'
        ORDER BY rq.outcome = 'adopted' DESC, rq.endorsements DESC, rq.lot_key""",
        [round_id],
    )


def round_result_table(result: pd.DataFrame, *, codes: bool = False) -> pd.DataFrame:
    """A closed round's result (``round_result``) for people to read: plain column names, the
    question's wording (its code M1, M2 … only with ``codes``, for the organisers, who use them), and
    "Decided by lot" only when the lot decided something. The lot numbers stay out of the table."""
    by_lot = result["by_lot"].fillna(False).astype(bool)
    out = pd.DataFrame(
        {
            "Question": result["wording"],
            "Endorsements": result["endorsements"].fillna(0).astype(int),
            "Decision": result["outcome"].map(OUTCOME_WORDS).fillna(""),
        }
    )
    if codes:
        out.insert(0, "Code", result["question_id"])
    if by_lot.any():
        out["Decided by lot"] = by_lot.map({True: "yes", False: ""})
    return out.reset_index(drop=True)


def object_to(db: Database, session: MemberSession, question_id: str, reason: str) -> None:
    """A member objects to a decision, with a reason: the question is reopened for the next round."""
    token = _session_token(session)
    why = _clean_text(reason, "your reason for objecting")

    def write(cur):
        _check_active(cur, token)
        rows = cur.execute(
            "SELECT kind, status, round_id FROM eval_questions WHERE question_id = ?", [question_id]
        ).fetchall()
        if not rows or rows[0][0] != "member":
            raise UserError(f"{question_id} is not a members' question.")
        if rows[0][1] not in ("adopted", "not_adopted"):
            raise UserError(f"{question_id} has not been decided yet, so there is nothing to object to.")
        cur.execute(
            "INSERT INTO eval_objections (round_id, question_id, reason) VALUES (?, ?, ?)",
            [rows[0][2], question_id, why],
        )
        cur.execute("UPDATE eval_questions SET status = 'ready' WHERE question_id = ?", [question_id])
        _log(
            cur,
            "member",
            "objection",
            question_id=question_id,
            round_id=rows[0][2],
            detail=f"was {rows[0][1].replace('_', ' ')}; reopened for a new round. Reason: {why}",
        )

    db.transaction(write)


def objections_frame(db: Database) -> pd.DataFrame:
    return db.query_df("SELECT question_id, round_id, reason, created_at FROM eval_objections ORDER BY created_at")


def adopted_questions(db: Database) -> list[str]:
    return [
        r[0]
        for r in db.query(
            "SELECT question_id FROM eval_questions WHERE kind = 'member' AND status = 'adopted' ORDER BY position"
        )
    ]
