"""Member-designed evaluation: the core questionnaire, members' own questions, survey waves,
anonymous answers and members-first results. Pure Python (no Streamlit).

The rules, in one place
-----------------------
* **Core questionnaire**: fixed items on the three stages of the OECD *Evaluation Guidelines for
  Representative Deliberative Processes* (2021): integrity of the process design, the
  deliberative experience, pathways to impact. 5-point agree/disagree plus "prefer not to
  say". The organiser may reword an item; every wording is kept (``eval_wordings``).
* **Members' questions**: a member proposes a question and what they want to learn from it. A
  volunteer (or organiser) may suggest clearer wording; it is used only if the proposer
  accepts it; both versions are kept. An organiser opens an endorsement **round** with a
  closing time: every question that is ready goes in. Each member endorses any of them, once
  per round, anonymously. Tallies are not shown until the round closes. Each member sees the
  options in their own order: sorted by ``SHA-256(order_salt | token | question_id)``.
* **Adoption**: ``needed = max(1, ceil(share × base))`` where ``base`` is the number of members
  who attended the last session (``lib.participation.attended_last_session``); when that is not
  known, the number of current members; when there is no member list, the number of members
  holding an access code. Questions with at least ``needed`` endorsements are adopted, most
  endorsed first, until ``max_adopted`` members' questions are adopted in all. Questions with
  equal endorsements competing for the last places are ordered by a public lot:
  ``SHA-256("{lot_seed}|{question_id}")`` as hex, smallest first. The seed is fixed and shown
  when the round opens, before anyone endorses.
* **Objections**: any member may object to a decided question, with a reason; the question is
  reopened and goes into the next round. Everything is logged (``eval_log``), except who
  endorsed or answered what, which is never recorded anywhere.
* **Waves**: baseline, a short pulse after each session, end of process, follow-ups at 3 and
  12 months. A wave freezes its questions when it opens: the core items for that kind of
  wave plus the adopted members' questions.
* **Anonymous answers**: who has answered a wave is a sorted list of hashes in one row per
  wave (no order, no time, no channel); the answers are rows with a random response id, the
  wave, the channel and the answer, inserted in question order, never in the order a member
  saw them. See docs/EVALUATION.md.
* **Results**: only for closed waves, only for questions with at least 5 answers (for everybody,
  organisers included: a small group's answers could be recognised). Members see them first;
  the organiser publishes after the members-first window.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Mapping

import pandas as pd

from lib.db import Database
from lib.errors import UserError
from lib.privacy import SMALL_GROUP
from lib.settings import get_setting, set_setting

# --------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------

STAGES = {
    "design": "Integrity of the process design",
    "deliberation": "The deliberative experience",
    "impact": "Pathways to impact",
}

ANSWERS = {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree", 4: "Agree",
           5: "Strongly agree", 0: "Prefer not to say"}
SCALE = (1, 2, 3, 4, 5)

WAVE_KINDS = {
    "baseline": "Baseline (at the start)",
    "pulse": "After a session (short)",
    "end": "End of the process",
    "followup3": "Follow-up after 3 months",
    "followup12": "Follow-up after 12 months",
}

ALL_WAVES = list(WAVE_KINDS)
# (id, stage, wording, purpose, wave kinds)
CORE_QUESTIONS: list[tuple[str, str, str, str, list[str]]] = [
    ("D1", "design", "The purpose of this assembly and the question we were asked were explained clearly.",
     "Was the remit clear?", ["baseline", "end"]),
    ("D2", "design", "The way members of this assembly were chosen was fair.",
     "Do members trust the selection?", ["baseline", "end"]),
    ("D3", "design", "The members of this assembly are a good mix of people from our community.",
     "Do members see the panel as representative?", ["baseline", "end"]),
    ("D4", "design", "The organisers are open about who runs and pays for this assembly.",
     "Is the process transparent?", ["baseline", "end"]),
    ("D5", "design", "I know what will happen to our recommendations.",
     "Is the link to decision-makers clear?", ["baseline", "end"]),
    ("E1", "deliberation", "I had enough chances to say what I think.",
     "Could everyone take part?", ["pulse", "end"]),
    ("E2", "deliberation", "Other members listened to me with respect.",
     "Was the atmosphere respectful?", ["pulse", "end"]),
    ("E3", "deliberation", "The information we were given was clear and balanced.",
     "Was the evidence good enough?", ["pulse", "end"]),
    ("E4", "deliberation", "We heard from a wide range of views.",
     "Was the range of perspectives wide?", ["end"]),
    ("E5", "deliberation", "We had enough time to talk things through properly.",
     "Was there enough time?", ["pulse", "end"]),
    ("E6", "deliberation", "The people running the sessions did not take sides.",
     "Was facilitation neutral?", ["pulse", "end"]),
    ("E7", "deliberation", "Our recommendations show what the assembly really thinks.",
     "Do the outputs reflect the deliberation?", ["end"]),
    ("I1", "impact", "The decision-makers have given a clear public answer to our recommendations.",
     "Was there a response?", ["end", "followup3", "followup12"]),
    ("I2", "impact", "Our recommendations are being acted on.",
     "Is there influence on decisions?", ["followup3", "followup12"]),
    ("I3", "impact", "Taking part has made me more interested in what happens in our community.",
     "Effect on members", ["end", "followup3", "followup12"]),
    ("I4", "impact", "I would take part in an assembly like this again.",
     "Would members do it again?", ["end", "followup3", "followup12"]),
    ("I5", "impact", "I would recommend an assembly like this to other people in our community.",
     "Would members recommend it?", ["end", "followup3", "followup12"]),
]

DEFAULT_SHARE = 0.5
DEFAULT_LIMIT = 5
DEFAULT_MEMBERS_FIRST_DAYS = 7
MAX_TEXT = 500
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # no 0/O, 1/I: easy to read off a card
_CODE_LENGTH = 10

# Anonymous writes (answers, endorsements) are serialised inside the server process, so two
# members saving at the same moment never fight over the one "who has answered" row.
_WRITE_LOCK = threading.Lock()


def _now(now: datetime | None = None) -> datetime:
    return now if now is not None else datetime.now(timezone.utc)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------
# Access codes and member sessions
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MemberSession:
    """A signed-in member: an opaque token, never a name or pseudonym."""
    token: str

    def __repr__(self) -> str:   # keep the token out of logs and tracebacks
        return "MemberSession(…)"


def normalise_code(code: str | None) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(code or "").upper())


def format_code(code: str) -> str:
    c = normalise_code(code)
    return "-".join(c[i:i + 4] for i in range(0, len(c), 4))


def code_hash(code: str) -> str:
    return _sha("kleroterion-access-code|" + normalise_code(code))


def _new_code() -> str:
    # Access codes must be unguessable: the operating system's secure random source.
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))


def issue_codes(db: Database, person_ids: Iterable[str], actor: str | None = "organiser",
                *, replace: bool = False) -> dict[str, str]:
    """New access codes: person_id -> code (formatted). Shown once: only a hash is stored.

    People who already hold a code are skipped unless ``replace`` (a lost card): then the old
    code stops working and the new one keeps the same member token (still one answer per wave).
    """
    ids = list(dict.fromkeys(str(p) for p in person_ids))
    codes: dict[str, str] = {pid: _new_code() for pid in ids}

    def write(cur):
        out = {}
        held = {r[0]: r[1] for r in cur.execute(
            "SELECT person_id, token FROM eval_access_codes WHERE revoked_at IS NULL").fetchall()}
        tokens = {r[0]: r[1] for r in cur.execute(
            "SELECT person_id, any_value(token) FROM eval_access_codes GROUP BY person_id").fetchall()}
        for pid in ids:
            if pid in held and not replace:
                continue
            if pid in held:
                cur.execute("UPDATE eval_access_codes SET revoked_at = now() "
                            "WHERE person_id = ? AND revoked_at IS NULL", [pid])
            token = tokens.get(pid) or secrets.token_hex(16)
            cur.execute("INSERT INTO eval_access_codes (code_hash, person_id, token, issued_by) VALUES (?, ?, ?, ?)",
                        [code_hash(codes[pid]), pid, token, actor])
            out[pid] = format_code(codes[pid])
        if out:
            _log(cur, actor or "organiser", "codes_issued",
                 detail=f"{len(out)} access code(s) {'replaced' if replace else 'made'}")
        return out

    return db.transaction(write)


def revoke_codes(db: Database, person_ids: Iterable[str], actor: str | None = "organiser") -> int:
    ids = [str(p) for p in person_ids]
    if not ids:
        return 0

    def write(cur):
        n = cur.execute("SELECT count(*) FROM eval_access_codes WHERE revoked_at IS NULL AND "
                        "list_contains(?, person_id)", [ids]).fetchall()[0][0]
        cur.execute("UPDATE eval_access_codes SET revoked_at = now() WHERE revoked_at IS NULL AND "
                    "list_contains(?, person_id)", [ids])
        if n:
            _log(cur, actor or "organiser", "codes_revoked", detail=f"{n} access code(s) stopped")
        return n

    return db.transaction(write)


def code_holders(db: Database) -> list[str]:
    return [r[0] for r in db.query("SELECT DISTINCT person_id FROM eval_access_codes WHERE revoked_at IS NULL "
                                   "ORDER BY person_id")]


def member_sign_in(db: Database, code: str | None) -> MemberSession | None:
    """The member behind an access code, as an opaque session; None if the code is not valid."""
    c = normalise_code(code)
    if len(c) != _CODE_LENGTH:
        return None
    rows = db.query("SELECT token FROM eval_access_codes WHERE code_hash = ? AND revoked_at IS NULL",
                    [code_hash(c)])
    return MemberSession(rows[0][0]) if rows else None


def _session_token(session: MemberSession | None) -> str:
    if not isinstance(session, MemberSession) or not session.token:
        raise UserError("Please sign in with the access code on your card first.")
    return session.token


def _check_active(cur, token: str) -> None:
    ok = cur.execute("SELECT count(*) FROM eval_access_codes WHERE token = ? AND revoked_at IS NULL",
                     [token]).fetchall()[0][0]
    if not ok:
        raise UserError("Your access code no longer works (it was replaced or stopped). Ask the organisers "
                        "for a new card.")


def answered_hash(token: str, wave_id: int) -> str:
    return _sha(f"answered|{wave_id}|{token}")


def voter_hash(token: str, round_id: int) -> str:
    return _sha(f"endorsed|{round_id}|{token}")


def proposer_hash(token: str) -> str:
    return _sha(f"proposer|{token}")


# --------------------------------------------------------------------------------------
# Members, settings, the log
# --------------------------------------------------------------------------------------

def _participation():
    try:
        from lib import participation  # written by the participation module (migration 004)
        return participation
    except Exception:  # noqa: BLE001 - not there yet, or broken: the evaluation still works
        return None


def current_members(db: Database) -> list[str] | None:
    """Person ids of the current members, from lib.participation; None when not available."""
    part = _participation()
    if part is None or not hasattr(part, "current_members"):
        return None
    try:
        return list(part.current_members(db))
    except Exception:  # noqa: BLE001
        return None


@dataclass(frozen=True)
class Base:
    count: int
    source: str


def adoption_base(db: Database) -> Base:
    """How many members the agreed share is taken of, and where that number comes from."""
    part = _participation()
    attended = None
    if part is not None and hasattr(part, "attended_last_session"):
        try:
            attended = part.attended_last_session(db)
        except Exception:  # noqa: BLE001
            attended = None
    if attended is not None:
        return Base(int(attended), "members who attended the last session")
    members = current_members(db)
    if members:
        return Base(len(members), "current members (no session attendance is recorded yet)")
    return Base(len(code_holders(db)),
                "members holding an access code (no session attendance or member list is recorded yet)")


def needed_endorsements(share: float, base: int) -> int:
    return max(1, math.ceil(share * base - 1e-9))


def eval_settings(db: Database) -> dict:
    s = get_setting(db, "evaluation", {}) or {}
    return {"share": float(s.get("share", DEFAULT_SHARE)), "limit": int(s.get("limit", DEFAULT_LIMIT)),
            "members_first_days": int(s.get("members_first_days", DEFAULT_MEMBERS_FIRST_DAYS)),
            "app_url": s.get("app_url", "")}


def save_eval_settings(db: Database, *, share: float | None = None, limit: int | None = None,
                       members_first_days: int | None = None, app_url: str | None = None,
                       actor: str = "organiser") -> dict:
    s = eval_settings(db)
    if share is not None:
        if not 0 < share <= 1:
            raise UserError("The agreed share must be more than 0% and at most 100%.")
        s["share"] = float(share)
    if limit is not None:
        if not 1 <= int(limit) <= 20:
            raise UserError("The limit on members' questions must be between 1 and 20.")
        s["limit"] = int(limit)
    if members_first_days is not None:
        if not 0 <= int(members_first_days) <= 90:
            raise UserError("The members-first period must be between 0 and 90 days.")
        s["members_first_days"] = int(members_first_days)
    if app_url is not None:
        s["app_url"] = app_url.strip().rstrip("/")
    set_setting(db, "evaluation", s, actor)
    db.transaction(lambda cur: _log(cur, actor, "settings",
                                    detail=f"agreed share {s['share']:.0%}, limit {s['limit']}, members first "
                                           f"{s['members_first_days']} day(s)"))
    return s


def _log(cur, actor: str, event: str, *, question_id: str | None = None, round_id: int | None = None,
         wave_id: int | None = None, detail: str | None = None) -> None:
    cur.execute("INSERT INTO eval_log (event_id, actor, event, question_id, round_id, wave_id, detail) "
                "VALUES (nextval('eval_log_seq'), ?, ?, ?, ?, ?, ?)",
                [actor, event, question_id, round_id, wave_id, detail])


def log_frame(db: Database) -> pd.DataFrame:
    return db.query_df("SELECT logged_at, actor, event, question_id, round_id, wave_id, detail FROM eval_log "
                       "ORDER BY event_id")


# --------------------------------------------------------------------------------------
# Questions and wordings
# --------------------------------------------------------------------------------------

def ensure_core(db: Database) -> None:
    """Put the core questionnaire in place (once)."""
    if db.scalar("SELECT count(*) FROM eval_questions WHERE kind = 'core'"):
        return

    def write(cur):
        if cur.execute("SELECT count(*) FROM eval_questions WHERE kind = 'core'").fetchall()[0][0]:
            return
        for pos, (qid, stage, wording, purpose, waves) in enumerate(CORE_QUESTIONS, start=1):
            cur.execute("INSERT INTO eval_questions (question_id, kind, stage, position, waves, purpose, status) "
                        "VALUES (?, 'core', ?, ?, ?, ?, 'core')", [qid, stage, pos, waves, purpose])
            cur.execute("INSERT INTO eval_wordings (question_id, version, wording, author, state) "
                        "VALUES (?, 1, ?, 'core', 'accepted')", [qid, wording])

    db.transaction(write)


def _clean_text(text: str | None, what: str, *, max_len: int = MAX_TEXT) -> str:
    t = " ".join(str(text or "").split())
    if not t:
        raise UserError(f"Please write {what}: it is empty.")
    if len(t) > max_len:
        raise UserError(f"{what[0].upper()}{what[1:]} is too long ({len(t)} characters); please keep it under "
                        f"{max_len}.")
    return t


def _current_version(cur, qid: str) -> tuple[int, str]:
    rows = cur.execute("SELECT version, wording FROM eval_wordings WHERE question_id = ? AND state = 'accepted' "
                       "ORDER BY version DESC LIMIT 1", [qid]).fetchall()
    if not rows:
        raise UserError(f"There is no question {qid}.")
    return rows[0][0], rows[0][1]


def questions_frame(db: Database, kind: str | None = None) -> pd.DataFrame:
    """One row per question with its current (accepted) wording and any suggestion waiting."""
    ensure_core(db)
    where = "WHERE q.kind = ?" if kind else ""
    return db.query_df(f"""
        SELECT q.question_id, q.kind, q.stage, q.position, q.waves, q.purpose, q.status, q.round_id,
               q.created_at,
               (SELECT w.wording FROM eval_wordings w WHERE w.question_id = q.question_id AND w.state = 'accepted'
                 ORDER BY w.version DESC LIMIT 1) AS wording,
               (SELECT max(w.version) FROM eval_wordings w WHERE w.question_id = q.question_id
                 AND w.state = 'accepted') AS version,
               (SELECT w.wording FROM eval_wordings w WHERE w.question_id = q.question_id AND w.state = 'suggested'
                 ORDER BY w.version DESC LIMIT 1) AS suggestion
        FROM eval_questions q {where}
        ORDER BY q.kind, q.position""", [kind] if kind else None)


def wording_history(db: Database, question_id: str) -> pd.DataFrame:
    return db.query_df("SELECT version, wording, author, state, created_at, decided_at FROM eval_wordings "
                       "WHERE question_id = ? ORDER BY version", [question_id])


def edit_core_wording(db: Database, question_id: str, wording: str, actor: str = "organiser") -> int:
    """A new wording for a core item; the old ones are kept. Returns the new version number."""
    ensure_core(db)
    text = _clean_text(wording, "the wording")

    def write(cur):
        kind = cur.execute("SELECT kind FROM eval_questions WHERE question_id = ?", [question_id]).fetchall()
        if not kind or kind[0][0] != "core":
            raise UserError(f"{question_id} is not one of the core questions.")
        version, current = _current_version(cur, question_id)
        if current == text:
            raise UserError("That is the wording it already has; nothing was changed.")
        new = cur.execute("SELECT max(version) + 1 FROM eval_wordings WHERE question_id = ?",
                          [question_id]).fetchall()[0][0]
        cur.execute("INSERT INTO eval_wordings (question_id, version, wording, author, state) "
                    "VALUES (?, ?, ?, 'organiser', 'accepted')", [question_id, new, text])
        _log(cur, actor, "core_reworded", question_id=question_id, detail=f"version {version} -> {new}")
        return new

    return db.transaction(write)


def propose_question(db: Database, session: MemberSession, wording: str, purpose: str) -> str:
    """A member proposes a question and says what they want to learn. Returns its id (M1, M2 …)."""
    token = _session_token(session)
    text = _clean_text(wording, "your question")
    why = _clean_text(purpose, "what you want to learn from it")

    def write(cur):
        _check_active(cur, token)
        n = cur.execute("SELECT nextval('eval_member_q_seq')").fetchall()[0][0]
        qid = f"M{n}"
        cur.execute("INSERT INTO eval_questions (question_id, kind, position, purpose, proposer_hash, status) "
                    "VALUES (?, 'member', ?, ?, ?, 'ready')", [qid, 1000 + n, why, proposer_hash(token)])
        cur.execute("INSERT INTO eval_wordings (question_id, version, wording, author, state) "
                    "VALUES (?, 1, ?, 'proposer', 'accepted')", [qid, text])
        _log(cur, "member", "proposed", question_id=qid, detail=text)
        return qid

    return db.transaction(write)


def suggest_wording(db: Database, question_id: str, wording: str, actor: str = "volunteer") -> int:
    """A volunteer suggests clearer wording; it waits for the proposer to accept it."""
    text = _clean_text(wording, "the suggested wording")

    def write(cur):
        rows = cur.execute("SELECT kind, status FROM eval_questions WHERE question_id = ?", [question_id]).fetchall()
        if not rows or rows[0][0] != "member":
            raise UserError(f"{question_id} is not a members' question.")
        status = rows[0][1]
        if status == "awaiting_proposer":
            raise UserError(f"{question_id} already has a suggestion waiting for the member who proposed it.")
        if status == "in_round":
            raise UserError(f"{question_id} is being endorsed right now; suggest new wording after the round closes.")
        if status == "adopted":
            raise UserError(f"{question_id} has been adopted; its wording can change only if a member objects and "
                            "it is reopened.")
        _v, current = _current_version(cur, question_id)
        if current == text:
            raise UserError("That is the wording it already has.")
        new = cur.execute("SELECT max(version) + 1 FROM eval_wordings WHERE question_id = ?",
                          [question_id]).fetchall()[0][0]
        cur.execute("INSERT INTO eval_wordings (question_id, version, wording, author, state) "
                    "VALUES (?, ?, ?, ?, 'suggested')", [question_id, new, text, actor])
        cur.execute("UPDATE eval_questions SET status = 'awaiting_proposer' WHERE question_id = ?", [question_id])
        _log(cur, actor, "wording_suggested", question_id=question_id, detail=text)
        return new

    return db.transaction(write)


def my_questions(db: Database, session: MemberSession) -> pd.DataFrame:
    """The questions this member proposed (with any suggestion waiting for them)."""
    token = _session_token(session)
    df = questions_frame(db, "member")
    ids = {r[0] for r in db.query("SELECT question_id FROM eval_questions WHERE proposer_hash = ?",
                                  [proposer_hash(token)])}
    return df[df["question_id"].isin(ids)].reset_index(drop=True)


def answer_suggestion(db: Database, session: MemberSession, question_id: str, accept: bool) -> None:
    """The proposer accepts or declines the suggested wording. Both versions are kept."""
    token = _session_token(session)

    def write(cur):
        rows = cur.execute("SELECT proposer_hash, status FROM eval_questions WHERE question_id = ?",
                           [question_id]).fetchall()
        if not rows:
            raise UserError(f"There is no question {question_id}.")
        if rows[0][0] != proposer_hash(token):
            raise UserError("Only the member who proposed this question can accept or decline new wording.")
        if rows[0][1] != "awaiting_proposer":
            raise UserError("There is no suggestion waiting for this question.")
        cur.execute("UPDATE eval_wordings SET state = ?, decided_at = now() "
                    "WHERE question_id = ? AND state = 'suggested'",
                    ["accepted" if accept else "declined", question_id])
        cur.execute("UPDATE eval_questions SET status = 'ready' WHERE question_id = ?", [question_id])
        _log(cur, "member", "wording_accepted" if accept else "wording_declined", question_id=question_id)

    db.transaction(write)


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


_ROUND_COLS = ("round_id, opened_at, closes_at, order_salt, lot_seed, share, max_adopted, status, closed_at, base, "
               "base_source, needed")


def rounds(db: Database) -> list[Round]:
    return [_round(r) for r in db.query(f"SELECT {_ROUND_COLS} FROM eval_rounds ORDER BY round_id")]


def open_round_now(db: Database) -> Round | None:
    rows = db.query(f"SELECT {_ROUND_COLS} FROM eval_rounds WHERE status = 'open' ORDER BY round_id DESC LIMIT 1")
    return _round(rows[0]) if rows else None


def open_round(db: Database, closes_at: datetime, actor: str = "organiser", *, lot_seed: str | None = None,
               now: datetime | None = None) -> Round:
    """Open an endorsement round for every members' question that is ready."""
    now = _now(now)
    if closes_at.tzinfo is None:
        closes_at = closes_at.astimezone()
    if closes_at <= now:
        raise UserError("The closing time must be in the future.")
    s = eval_settings(db)
    seed = " ".join(str(lot_seed or "").split())

    def write(cur):
        if cur.execute("SELECT count(*) FROM eval_rounds WHERE status = 'open'").fetchall()[0][0]:
            raise UserError("A round is already open. Close it before opening another.")
        ready = [r[0] for r in cur.execute("SELECT question_id FROM eval_questions WHERE kind = 'member' AND "
                                           "status = 'ready' ORDER BY position").fetchall()]
        if not ready:
            raise UserError("No members' question is ready to be endorsed. (Questions with a wording suggestion "
                            "wait until the member who proposed them accepts or declines it.)")
        rid = cur.execute("SELECT nextval('eval_round_seq')").fetchall()[0][0]
        seed_text = seed or f"Kleroterion endorsement round {rid}, opened {now.date().isoformat()}"
        cur.execute("INSERT INTO eval_rounds (round_id, opened_at, closes_at, opened_by, order_salt, lot_seed, share, "
                    "max_adopted, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')",
                    [rid, now, closes_at, actor, f"round-{rid}", seed_text, s["share"], s["limit"]])
        cur.execute("INSERT INTO eval_round_voters (round_id, voters) VALUES (?, [])", [rid])
        for qid in ready:
            version, _w = _current_version(cur, qid)
            cur.execute("INSERT INTO eval_round_questions (round_id, question_id, version) VALUES (?, ?, ?)",
                        [rid, qid, version])
        cur.execute("UPDATE eval_questions SET status = 'in_round', round_id = ? WHERE list_contains(?, question_id)",
                    [rid, ready])
        _log(cur, actor, "round_opened", round_id=rid,
             detail=f"questions {', '.join(ready)}; closes {closes_at.isoformat(timespec='minutes')}; "
                    f"public seed for the lot: {seed_text!r}; agreed share {s['share']:.0%}; limit {s['limit']}")
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
    df = db.query_df("""
        SELECT rq.question_id, w.wording, q.purpose FROM eval_round_questions rq
        JOIN eval_wordings w ON w.question_id = rq.question_id AND w.version = rq.version
        JOIN eval_questions q ON q.question_id = rq.question_id
        WHERE rq.round_id = ?""", [round_id])
    salt = db.scalar("SELECT order_salt FROM eval_rounds WHERE round_id = ?", [round_id])
    order = option_order(salt or "", token, df["question_id"].tolist())
    return df.set_index("question_id").loc[order].reset_index()


def has_endorsed(db: Database, session: MemberSession, round_id: int) -> bool:
    token = _session_token(session)
    return bool(db.scalar("SELECT list_contains(voters, ?) FROM eval_round_voters WHERE round_id = ?",
                          [voter_hash(token, round_id), round_id]))


def endorse(db: Database, session: MemberSession, round_id: int, question_ids: Iterable[str],
            *, now: datetime | None = None) -> int:
    """A member's endorsements in a round: once per round, anonymous. Returns how many were recorded."""
    token = _session_token(session)
    now = _now(now)
    chosen = sorted(set(question_ids))
    if not chosen:
        raise UserError("Tick at least one question to endorse it.")
    h = voter_hash(token, round_id)

    def write(cur):
        _check_active(cur, token)
        rows = cur.execute("SELECT status, closes_at FROM eval_rounds WHERE round_id = ?", [round_id]).fetchall()
        if not rows:
            raise UserError("That endorsement round does not exist.")
        status, closes_at = rows[0]
        if status != "open" or closes_at <= now:
            raise UserError("This round has closed, so endorsements are no longer taken.")
        in_round = {r[0] for r in cur.execute("SELECT question_id FROM eval_round_questions WHERE round_id = ?",
                                              [round_id]).fetchall()}
        stray = [q for q in chosen if q not in in_round]
        if stray:
            raise UserError(f"{', '.join(stray)} is not part of this round.")
        voters = cur.execute("SELECT voters FROM eval_round_voters WHERE round_id = ?", [round_id]).fetchall()[0][0]
        if h in voters:
            raise UserError("You have already endorsed in this round; each member endorses once per round.")
        cur.execute("UPDATE eval_round_voters SET voters = ? WHERE round_id = ?", [sorted([*voters, h]), round_id])
        for q in chosen:
            cur.execute("INSERT INTO eval_endorsements (round_id, question_id) VALUES (?, ?)", [round_id, q])
        # rows sorted by question: no trace of which endorsements came together or in what order
        _rewrite_sorted(cur, "eval_endorsements", "round_id", round_id, "question_id")
        return len(chosen)

    with _WRITE_LOCK:
        n = db.transaction(write)
        _flush(db)
    return n


def close_due_rounds(db: Database, now: datetime | None = None) -> list[int]:
    """Close every open round whose time is up (called when pages load)."""
    now = _now(now)
    due = [r[0] for r in db.query("SELECT round_id FROM eval_rounds WHERE status = 'open' AND closes_at <= ?",
                                  [now])]
    for rid in due:
        close_round(db, rid, actor="system", now=now)
    return due


def close_round(db: Database, round_id: int, actor: str = "organiser", *, now: datetime | None = None) -> pd.DataFrame:
    """Count the endorsements, adopt what reaches the threshold (up to the limit, ties by lot)."""
    now = _now(now)
    base = adoption_base(db)

    def write(cur):
        rows = cur.execute("SELECT status, share, max_adopted, lot_seed FROM eval_rounds WHERE round_id = ?",
                           [round_id]).fetchall()
        if not rows:
            raise UserError("That endorsement round does not exist.")
        status, share, max_adopted, seed = rows[0]
        if status != "open":
            raise UserError("This round is already closed.")
        needed = needed_endorsements(share, base.count)
        tallies = dict(cur.execute("""
            SELECT rq.question_id, count(e.question_id) FROM eval_round_questions rq
            LEFT JOIN eval_endorsements e ON e.round_id = rq.round_id AND e.question_id = rq.question_id
            WHERE rq.round_id = ? GROUP BY rq.question_id""", [round_id]).fetchall())
        already = cur.execute("SELECT count(*) FROM eval_questions WHERE kind = 'member' AND status = 'adopted'"
                              ).fetchall()[0][0]
        decided = decide(tallies, needed=needed, room=max(0, max_adopted - already), lot_seed=seed)
        for qid, d in decided.items():
            cur.execute("UPDATE eval_round_questions SET endorsements = ?, lot_key = ?, by_lot = ?, outcome = ? "
                        "WHERE round_id = ? AND question_id = ?",
                        [d["endorsements"], d["lot_key"], d["by_lot"], d["outcome"], round_id, qid])
            cur.execute("UPDATE eval_questions SET status = ? WHERE question_id = ?",
                        ["adopted" if d["outcome"] == "adopted" else "not_adopted", qid])
        cur.execute("UPDATE eval_rounds SET status = 'closed', closed_at = ?, closed_by = ?, base = ?, "
                    "base_source = ?, needed = ? WHERE round_id = ?",
                    [now, actor, base.count, base.source, needed, round_id])
        summary = "; ".join(f"{q}: {d['endorsements']} endorsement(s), {d['outcome']}"
                            f"{' (by lot)' if d['by_lot'] else ''}" for q, d in sorted(decided.items()))
        _log(cur, actor, "round_closed", round_id=round_id,
             detail=f"base {base.count} ({base.source}); needed {needed}; {summary}")

    db.transaction(write)
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
        out[q] = {"endorsements": int(n), "lot_key": keys[q], "outcome": outcome,
                  "by_lot": n >= needed and n in tie_tallies}
    return out


OUTCOME_WORDS = {"adopted": "Adopted", "not_enough": "Not enough endorsements",
                 "no_room": "Enough endorsements, but the limit was reached"}


def round_result(db: Database, round_id: int) -> pd.DataFrame:
    """Tallies and outcomes of a closed round (empty while it is open: tallies stay hidden)."""
    return db.query_df("""
        SELECT rq.question_id, w.wording, rq.endorsements, rq.outcome, rq.by_lot, rq.lot_key
        FROM eval_round_questions rq JOIN eval_rounds r USING (round_id)
        JOIN eval_wordings w ON w.question_id = rq.question_id AND w.version = rq.version
        WHERE rq.round_id = ? AND r.status = 'closed'
        ORDER BY rq.outcome = 'adopted' DESC, rq.endorsements DESC, rq.lot_key""", [round_id])


def object_to(db: Database, session: MemberSession, question_id: str, reason: str) -> None:
    """A member objects to a decision, with a reason: the question is reopened for the next round."""
    token = _session_token(session)
    why = _clean_text(reason, "your reason for objecting")

    def write(cur):
        _check_active(cur, token)
        rows = cur.execute("SELECT kind, status, round_id FROM eval_questions WHERE question_id = ?",
                           [question_id]).fetchall()
        if not rows or rows[0][0] != "member":
            raise UserError(f"{question_id} is not a members' question.")
        if rows[0][1] not in ("adopted", "not_adopted"):
            raise UserError(f"{question_id} has not been decided yet, so there is nothing to object to.")
        cur.execute("INSERT INTO eval_objections (round_id, question_id, reason) VALUES (?, ?, ?)",
                    [rows[0][2], question_id, why])
        cur.execute("UPDATE eval_questions SET status = 'ready' WHERE question_id = ?", [question_id])
        _log(cur, "member", "objection", question_id=question_id, round_id=rows[0][2],
             detail=f"was {rows[0][1].replace('_', ' ')}; reopened for a new round. Reason: {why}")

    db.transaction(write)


def objections_frame(db: Database) -> pd.DataFrame:
    return db.query_df("SELECT question_id, round_id, reason, created_at FROM eval_objections ORDER BY created_at")


def adopted_questions(db: Database) -> list[str]:
    return [r[0] for r in db.query("SELECT question_id FROM eval_questions WHERE kind = 'member' AND "
                                   "status = 'adopted' ORDER BY position")]


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


def open_wave(db: Database, kind: str, label: str | None = None, actor: str = "organiser",
              *, now: datetime | None = None) -> Wave:
    """Open a survey wave: the core items for this kind of wave plus the adopted members' questions."""
    if kind not in WAVE_KINDS:
        raise UserError(f"Unknown kind of survey {kind!r}; choose one of: {', '.join(WAVE_KINDS.values())}.")
    ensure_core(db)
    now = _now(now)
    name = " ".join(str(label or "").split()) or WAVE_KINDS[kind]

    def write(cur):
        core = [r[0] for r in cur.execute("SELECT question_id FROM eval_questions WHERE kind = 'core' "
                                          "AND list_contains(waves, ?) ORDER BY position", [kind]).fetchall()]
        members = [r[0] for r in cur.execute("SELECT question_id FROM eval_questions WHERE kind = 'member' "
                                             "AND status = 'adopted' ORDER BY position").fetchall()]
        wid = cur.execute("SELECT nextval('eval_wave_seq')").fetchall()[0][0]
        cur.execute("INSERT INTO eval_waves (wave_id, kind, label, status, opened_at, opened_by) "
                    "VALUES (?, ?, ?, 'open', ?, ?)", [wid, kind, name, now, actor])
        for pos, qid in enumerate(core + members, start=1):
            version, _w = _current_version(cur, qid)
            cur.execute("INSERT INTO eval_wave_questions (wave_id, question_id, version, position) VALUES (?, ?, ?, ?)",
                        [wid, qid, version, pos])
        cur.execute("INSERT INTO eval_answered (wave_id, hashes) VALUES (?, [])", [wid])
        _log(cur, actor, "wave_opened", wave_id=wid,
             detail=f"{name}: {len(core)} core and {len(members)} members' question(s)")
        return wid

    return get_wave(db, db.transaction(write))


def wave_questions(db: Database, wave_id: int) -> pd.DataFrame:
    """The frozen questions of a wave, in order, with the exact wording asked."""
    return db.query_df("""
        SELECT wq.question_id, wq.position, w.wording, q.kind, q.stage FROM eval_wave_questions wq
        JOIN eval_wordings w ON w.question_id = wq.question_id AND w.version = wq.version
        JOIN eval_questions q ON q.question_id = wq.question_id
        WHERE wq.wave_id = ? ORDER BY wq.position""", [wave_id])


def answered_count(db: Database, wave_id: int) -> int:
    return int(db.scalar("SELECT len(hashes) FROM eval_answered WHERE wave_id = ?", [wave_id]) or 0)


def response_count(db: Database, wave_id: int) -> int:
    return int(db.scalar("SELECT count(DISTINCT response_id) FROM eval_responses WHERE wave_id = ?", [wave_id]) or 0)


def has_answered(db: Database, session: MemberSession, wave_id: int) -> bool:
    token = _session_token(session)
    return bool(db.scalar("SELECT list_contains(hashes, ?) FROM eval_answered WHERE wave_id = ?",
                          [answered_hash(token, wave_id), wave_id]))


def _validate_answers(cur, wave_id: int, answers: Mapping[str, int]) -> list[tuple[str, int]]:
    rows = cur.execute("SELECT status FROM eval_waves WHERE wave_id = ?", [wave_id]).fetchall()
    if not rows:
        raise UserError("That survey does not exist.")
    if rows[0][0] != "open":
        raise UserError("This survey has closed, so answers are no longer taken.")
    asked = {r[0] for r in cur.execute("SELECT question_id FROM eval_wave_questions WHERE wave_id = ?",
                                       [wave_id]).fetchall()}
    clean = []
    for qid, value in answers.items():
        if value is None:
            continue
        if qid not in asked:
            raise UserError(f"Question {qid} is not part of this survey.")
        try:
            v = int(value)
        except (TypeError, ValueError):
            raise UserError(f"The answer to {qid} must be one of the choices given.") from None
        if v not in ANSWERS:
            raise UserError(f"The answer to {qid} must be one of the choices given.")
        clean.append((qid, v))
    if not clean:
        raise UserError("No question was answered. Choose an answer (or “Prefer not to say”) for at least one.")
    return sorted(clean)   # question order, never the order the member saw the questions


def _insert_response(cur, wave_id: int, channel: str, answers: list[tuple[str, int]]) -> str:
    """Add one response and rewrite the wave's rows sorted by their random response id.

    A table keeps rows in the order they were added (DuckDB's ``rowid``), and that order would
    say who answered first. So the wave's rows are rewritten, sorted by response id (random),
    every time a response is added: the stored order then carries no information.
    """
    rid = secrets.token_hex(12)   # random: derived from nothing about the member
    cur.executemany("INSERT INTO eval_responses (response_id, wave_id, channel, question_id, answer) "
                    "VALUES (?, ?, ?, ?, ?)", [[rid, wave_id, channel, q, v] for q, v in answers])
    _rewrite_sorted(cur, "eval_responses", "wave_id", wave_id, "response_id, question_id")
    return rid


def _rewrite_sorted(cur, table: str, key: str, value: int, order: str) -> None:
    tmp = f"_kl_{table}_{secrets.token_hex(4)}"
    cur.execute(f"CREATE TEMP TABLE {tmp} AS SELECT * FROM {table} WHERE {key} = ?", [value])
    cur.execute(f"DELETE FROM {table} WHERE {key} = ?", [value])
    cur.execute(f"INSERT INTO {table} SELECT * FROM {tmp} ORDER BY {order}")
    cur.execute(f"DROP TABLE {tmp}")


def _flush(db: Database) -> None:
    """Write the change into the main database file at once (best effort), so the write-ahead
    log does not keep a step-by-step record of who answered when."""
    try:
        with db.cursor() as cur:
            cur.execute("CHECKPOINT")
    except Exception:  # noqa: BLE001 - another write is running: it will checkpoint later
        pass


def submit_answers(db: Database, session: MemberSession, wave_id: int, answers: Mapping[str, int]) -> None:
    """A member's answers to a wave: once per member per wave, stored with no link to the member."""
    token = _session_token(session)
    h = answered_hash(token, wave_id)

    def write(cur):
        _check_active(cur, token)
        clean = _validate_answers(cur, wave_id, answers)
        hashes = cur.execute("SELECT hashes FROM eval_answered WHERE wave_id = ?", [wave_id]).fetchall()[0][0]
        if h in hashes:
            raise UserError("You have already answered this survey. Each member answers once; thank you!")
        cur.execute("UPDATE eval_answered SET hashes = ? WHERE wave_id = ?", [sorted([*hashes, h]), wave_id])
        _insert_response(cur, wave_id, "online", clean)

    with _WRITE_LOCK:
        db.transaction(write)
        _flush(db)


def submit_paper_answers(db: Database, wave_id: int, answers: Mapping[str, int], actor: str = "volunteer") -> None:
    """Answers from a paper form, typed in by a volunteer. The form carries no name or code; the
    member's card is ticked separately (``mark_answered_on_paper``)."""
    def write(cur):
        clean = _validate_answers(cur, wave_id, answers)
        _insert_response(cur, wave_id, "paper", clean)

    with _WRITE_LOCK:
        db.transaction(write)
        _flush(db)


def mark_answered_on_paper(db: Database, wave_id: int, code: str, actor: str = "volunteer") -> None:
    """Tick a member's access code as 'answered on paper' for a wave, so they cannot answer twice."""
    session = member_sign_in(db, code)
    if session is None:
        raise UserError("That access code was not recognised. Check it against the card (letters and numbers).")
    h = answered_hash(session.token, wave_id)

    def write(cur):
        rows = cur.execute("SELECT status FROM eval_waves WHERE wave_id = ?", [wave_id]).fetchall()
        if not rows or rows[0][0] != "open":
            raise UserError("This survey is not open.")
        hashes = cur.execute("SELECT hashes FROM eval_answered WHERE wave_id = ?", [wave_id]).fetchall()[0][0]
        if h in hashes:
            raise UserError("This card has already been used for this survey (online or on paper). If the member "
                            "also filled in a paper form, please set that form aside: each member answers once.")
        cur.execute("UPDATE eval_answered SET hashes = ? WHERE wave_id = ?", [sorted([*hashes, h]), wave_id])

    with _WRITE_LOCK:
        db.transaction(write)
        _flush(db)


def close_wave(db: Database, wave_id: int, actor: str = "organiser", *, members_first_days: int | None = None,
               now: datetime | None = None) -> Wave:
    now = _now(now)
    days = eval_settings(db)["members_first_days"] if members_first_days is None else int(members_first_days)

    def write(cur):
        rows = cur.execute("SELECT status FROM eval_waves WHERE wave_id = ?", [wave_id]).fetchall()
        if not rows:
            raise UserError("That survey does not exist.")
        if rows[0][0] != "open":
            raise UserError("This survey is already closed.")
        until = now + timedelta(days=days)
        cur.execute("UPDATE eval_waves SET status = 'closed', closed_at = ?, members_first_until = ? "
                    "WHERE wave_id = ?", [now, until, wave_id])
        _log(cur, actor, "wave_closed", wave_id=wave_id,
             detail=f"members see the results first, for {days} day(s), until {until.date().isoformat()}")

    db.transaction(write)
    _flush(db)
    return get_wave(db, wave_id)


def publish_wave(db: Database, wave_id: int, actor: str = "organiser", *, now: datetime | None = None) -> Wave:
    now = _now(now)
    w = get_wave(db, wave_id)
    if w.status != "closed":
        raise UserError("Close the survey first; results are published after members have seen them.")
    if w.published_at is not None:
        raise UserError("These results are already published.")
    if w.members_first_until is not None and now < w.members_first_until:
        raise UserError(f"Members see these results first, until {w.members_first_until:%d %b %Y %H:%M}. "
                        "You can publish them after that.")

    def write(cur):
        cur.execute("UPDATE eval_waves SET published_at = ?, published_by = ? WHERE wave_id = ?",
                    [now, actor, wave_id])
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


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------

def results_frame(db: Database, wave_id: int) -> pd.DataFrame:
    """Per question of a wave: counts per answer, n, and whether the result is suppressed.

    Questions answered by fewer than 5 members are suppressed for everybody (counts set to
    missing): in a group that small, answers could be traced to people.
    """
    qs = wave_questions(db, wave_id)
    counts = db.query_df("SELECT question_id, answer, count(*) AS n FROM eval_responses WHERE wave_id = ? "
                         "GROUP BY ALL", [wave_id])
    rows = []
    for _, q in qs.iterrows():
        c = counts[counts["question_id"] == q["question_id"]]
        per = {int(a): int(n) for a, n in zip(c["answer"], c["n"])}
        total = sum(per.values())
        suppressed = total < SMALL_GROUP
        row = {"question_id": q["question_id"], "position": q["position"], "wording": q["wording"],
               "kind": q["kind"], "stage": q["stage"], "answers": total, "suppressed": suppressed}
        for a, label in ANSWERS.items():
            row[label] = None if suppressed else per.get(a, 0)
        rows.append(row)
    return pd.DataFrame(rows)


def diverging_frame(results: pd.DataFrame) -> pd.DataFrame:
    """Long frame for a diverging bar chart: each answer's segment as % of those who gave a view
    (neutral split half each side of zero; 'prefer not to say' left out of the bars)."""
    out = []
    for _, r in results.iterrows():
        if r["suppressed"]:
            continue
        counts = [r[ANSWERS[a]] or 0 for a in SCALE]
        total = sum(counts)
        if total == 0:
            continue
        pct = [100.0 * c / total for c in counts]
        start = -(pct[0] + pct[1] + pct[2] / 2)
        for a, p in zip(SCALE, pct):
            out.append({"question_id": r["question_id"], "question": f"{r['question_id']}. {r['wording']}",
                        "answer": ANSWERS[a], "order": a, "percent": round(p, 1),
                        "start": start, "end": start + p, "count": counts[a - 1]})
            start += p
    return pd.DataFrame(out, columns=["question_id", "question", "answer", "order", "percent", "start", "end",
                                      "count"])


def export_frame(db: Database, wave_ids: Iterable[int]) -> pd.DataFrame:
    """Aggregated results for a CSV export (suppressed questions show no counts)."""
    frames = []
    for wid in wave_ids:
        w = get_wave(db, wid)
        r = results_frame(db, wid)
        if r.empty:
            continue
        r.insert(0, "survey", w.label)
        r["answers"] = [a if not s else f"fewer than {SMALL_GROUP}" for a, s in zip(r["answers"], r["suppressed"])]
        frames.append(r.drop(columns=["position", "kind", "suppressed"]))
    if not frames:
        return pd.DataFrame(columns=["survey", "question_id", "wording", "stage", "answers", *ANSWERS.values()])
    return pd.concat(frames, ignore_index=True)


def add_you_said(db: Database, you_said: str, we_did: str, *, wave_id: int | None = None,
                 question_id: str | None = None, actor: str = "organiser") -> int:
    said = _clean_text(you_said, "what members said", max_len=2000)
    did = _clean_text(we_did, "what was done about it", max_len=2000)

    def write(cur):
        eid = cur.execute("SELECT nextval('eval_said_seq')").fetchall()[0][0]
        cur.execute("INSERT INTO eval_you_said (entry_id, wave_id, question_id, you_said, we_did, created_by) "
                    "VALUES (?, ?, ?, ?, ?, ?)", [eid, wave_id, question_id, said, did, actor])
        _log(cur, actor, "you_said_we_did", wave_id=wave_id, question_id=question_id, detail=did)
        return eid

    return db.transaction(write)


def you_said_frame(db: Database, wave_ids: Iterable[int] | None = None) -> pd.DataFrame:
    df = db.query_df("SELECT s.entry_id, s.wave_id, w.label AS survey, s.question_id, s.you_said, s.we_did, "
                     "s.created_at FROM eval_you_said s LEFT JOIN eval_waves w USING (wave_id) ORDER BY s.entry_id")
    if wave_ids is not None:
        keep = set(wave_ids)
        df = df[df["wave_id"].isna() | df["wave_id"].isin(keep)].reset_index(drop=True)
    return df
