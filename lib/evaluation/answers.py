"""Member-designed evaluation: the core questionnaire, members' own questions, survey waves,
anonymous answers and members-first results. Pure Python (no Streamlit).

The rules, in one place
-----------------------
* **Core questionnaire**: fixed items on the three stages of the OECD *Evaluation Guidelines for
  Representative Deliberative Processes* (2021): integrity of the process design, the
  deliberative experience, pathways to impact. 5-point agree/disagree plus "prefer not to
  say". The organiser may reword an item; every wording is kept (``eval_wordings``).
* **Members' questions**: a member proposes a question and what they want to learn from it. An
  organiser checks it first (accepted, or not accepted with a reason the member sees). A
  volunteer (or organiser) may suggest clearer wording; it is used only if the proposer
  accepts it; both versions are kept. An organiser opens an endorsement **round** with a
  closing time: every checked question that is ready goes in. Each member endorses any of them, once
  per round, anonymously. Tallies are not shown until the round closes. Each member sees the
  options in their own order: sorted by ``SHA-256(order_salt | token | question_id)``.
* **Adoption**: ``needed = max(MIN_ENDORSEMENTS, ceil(share × base))`` (``MIN_ENDORSEMENTS`` = 2: the
  proposer cannot adopt their own question alone, even when one member attended) where ``base``
  is the number of members who attended the last session (``lib.assembly.attended_last_session``); when that is not
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
* **Anonymous answers** (see docs/EVALUATION.md): nothing is written to the database when a
  member sends answers or endorsements. They wait in the server's memory and are written in
  batches, in random order, at least ``BATCH`` (5) at a time (and the rest when the survey or
  round closes). Who has answered is a sorted list of HMAC marks made with a key kept outside
  the database, so the tokens in the database do not let anyone recompute them. Answers waiting
  in memory are lost if the server stops abruptly; the member is then asked to answer again.
* **Paper**: an organiser records how many paper cards were handed out for a survey; typed-in
  paper forms are capped at that number and each keeps who typed it in.
* **Results**: only for closed waves, only for questions with at least 5 *real* answers, i.e. on the
  agree/disagree scale ("prefer not to say" and blanks do not count), for everybody, organisers
  included: a small group's answers could be recognised, and four "prefer not to say" beside one
  real answer would show that one answer as 100%. Members see them first;
  the organiser publishes after the members-first window.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import logging
import math
import os
import random
import re
import secrets
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from lib import assembly
from lib.store.db import Database, DatabaseBusy
from lib.errors import UserError
from lib.i18n import N_
from lib.privacy import SMALL_GROUP
from lib.store.settings import get_setting, set_setting

# --------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------

STAGES = {
    "design": N_("Integrity of the process design"),
    "deliberation": N_("The deliberative experience"),
    "impact": N_("Pathways to impact"),
}

# Marked for translation (lib/i18n.py): pages show them with gettext; results and exports key on the
# numbers 0-5, never on these words, so answers given in every language count together.
ANSWERS = {1: N_("Strongly disagree"), 2: N_("Disagree"), 3: N_("Neither agree nor disagree"), 4: N_("Agree"),
           5: N_("Strongly agree"), 0: N_("Prefer not to say")}
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
    ("D1", "design", N_("The purpose of this assembly and the question we were asked were explained clearly."),
     "Was the remit clear?", ["baseline", "end"]),
    ("D2", "design", N_("The way members of this assembly were chosen was fair."),
     "Do members trust the selection?", ["baseline", "end"]),
    ("D3", "design", N_("The members of this assembly are a good mix of people from our community."),
     "Do members see the panel as representative?", ["baseline", "end"]),
    ("D4", "design", N_("The organisers are open about who runs and pays for this assembly."),
     "Is the process transparent?", ["baseline", "end"]),
    ("D5", "design", N_("I know what will happen to our recommendations."),
     "Is the link to decision-makers clear?", ["baseline", "end"]),
    ("E1", "deliberation", N_("I had enough chances to say what I think."),
     "Could everyone take part?", ["pulse", "end"]),
    ("E2", "deliberation", N_("Other members listened to me with respect."),
     "Was the atmosphere respectful?", ["pulse", "end"]),
    ("E3", "deliberation", N_("The information we were given was clear and balanced."),
     "Was the evidence good enough?", ["pulse", "end"]),
    ("E4", "deliberation", N_("We heard from a wide range of views."),
     "Was the range of perspectives wide?", ["end"]),
    ("E5", "deliberation", N_("We had enough time to talk things through properly."),
     "Was there enough time?", ["pulse", "end"]),
    ("E6", "deliberation", N_("The people running the sessions did not take sides."),
     "Was facilitation neutral?", ["pulse", "end"]),
    ("E7", "deliberation", N_("Our recommendations show what the assembly really thinks."),
     "Do the outputs reflect the deliberation?", ["end"]),
    ("I1", "impact", N_("The decision-makers have given a clear public answer to our recommendations."),
     "Was there a response?", ["end", "followup3", "followup12"]),
    ("I2", "impact", N_("Our recommendations are being acted on."),
     "Is there influence on decisions?", ["followup3", "followup12"]),
    ("I3", "impact", N_("Taking part has made me more interested in what happens in our community."),
     "Effect on members", ["end", "followup3", "followup12"]),
    ("I4", "impact", N_("I would take part in an assembly like this again."),
     "Would members do it again?", ["end", "followup3", "followup12"]),
    ("I5", "impact", N_("I would recommend an assembly like this to other people in our community."),
     "Would members recommend it?", ["end", "followup3", "followup12"]),
]

DEFAULT_SHARE = 0.5
DEFAULT_LIMIT = 5
DEFAULT_MEMBERS_FIRST_DAYS = 7
MAX_TEXT = 500
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # no 0/O, 1/I: easy to read off a card
_CODE_LENGTH = 10

# Answers and endorsements wait in memory and are written at least BATCH at a time.
BATCH = SMALL_GROUP
PAPER_CARDS_MAX = 10_000

KEY_ENV = "KLEROTERION_SURVEY_KEY"            # the key itself (hosting secrets), at least 32 characters
KEY_FILE_ENV = "KLEROTERION_SURVEY_KEY_FILE"  # where the key file is (default: beside the database)
KEY_SUFFIX = ".survey-key"

_RNG = random.SystemRandom()   # which waiting entries go into a batch: unpredictable
log = logging.getLogger("kleroterion")


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
        if out and replace:       # named, so that a card made for somebody else's seat is seen in the log
            _log(cur, actor or "organiser", "codes_issued",
                 detail=f"new access card for {', '.join(sorted(out))}: the old code no longer works")
        elif out:
            _log(cur, actor or "organiser", "codes_issued", detail=f"{len(out)} access code(s) made")
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


def member_session_for(db: Database, token: str | None) -> MemberSession | None:
    """The member session behind a token kept in a "stay signed in" cookie, while its code still works."""
    if not token:
        return None
    rows = db.query("SELECT count(*) FROM eval_access_codes WHERE token = ? AND revoked_at IS NULL", [str(token)])
    return MemberSession(str(token)) if rows and rows[0][0] else None


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


# --------------------------------------------------------------------------------------
# The survey key, members' marks, and what waits in memory
# --------------------------------------------------------------------------------------
#
# A member's mark ("has answered survey 3", "has endorsed in round 2", "proposed M4") is
# HMAC-SHA256(key, "{purpose}|{scope}|{token}"). The key is kept OUTSIDE the database (a file
# beside it, ``<database>.survey-key``, or the KLEROTERION_SURVEY_KEY setting), so someone holding
# the database file, with every token in eval_access_codes and every access code, still cannot
# tell whose mark is whose. Without the key the app cannot tell either: each list of marks
# carries a check of the key that made it (``mark_check``), so a lost or replaced key is refused
# in plain words instead of letting members answer twice.
#
# Answers and endorsements are not written when a member sends them: they wait in this process's
# memory (``_State.waiting``) and are written in batches of at least BATCH, chosen at random among
# those waiting, in random order, with random response ids. So the database file, its write-ahead
# log and its free blocks only ever see whole batches.

KEY_CHANGED = ("The app cannot check who has already {what}: the survey key (a file kept beside the "
               "database, see docs/EVALUATION.md) is missing or has changed since this {thing} opened. Nothing "
               "was saved. The organisers can put the key file back, or close this {thing} and open a new one.")


def _hmac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _legacy_mark(purpose: str, scope: object, token: str) -> str:
    """The marks before migration 007 (plain SHA-256 of the token: anyone with the database could
    recompute them). Used only to convert old lists."""
    if purpose == "proposer":
        return _sha(f"proposer|{token}")
    return _sha(f"{purpose}|{scope}|{token}")


def survey_key_path(db: Database) -> Path | None:
    """Where the survey key file is (None when the key comes from KLEROTERION_SURVEY_KEY, or the
    database lives in memory)."""
    if os.environ.get(KEY_ENV, "").strip():
        return None
    if os.environ.get(KEY_FILE_ENV, "").strip():
        return Path(os.environ[KEY_FILE_ENV].strip())
    if db.path == ":memory:":
        return None
    return Path(db.path + KEY_SUFFIX)


def _load_key(db: Database) -> bytes:
    env = os.environ.get(KEY_ENV, "").strip()
    if env:
        if len(env) < 32:
            raise UserError(f"The setting {KEY_ENV} is too short: use at least 32 random characters.")
        return hashlib.sha256(("kleroterion-survey-key|" + env).encode("utf-8")).digest()
    path = survey_key_path(db)
    if path is None:
        return secrets.token_bytes(32)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = secrets.token_hex(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            text = path.read_text(encoding="utf-8").strip()
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text + "\n")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise UserError(f"The survey key file {path} is damaged (it should hold 64 letters and digits). Put back "
                        "the copy you kept, or see docs/EVALUATION.md.")
    return key


@dataclass
class _Waiting:
    """One member's answers (or endorsements), or one paper form, waiting to be written."""
    mark: str | None            # the member's mark; None for a paper form
    items: tuple                # answers: ((question_id, answer), ...); endorsements: (question_id, ...)
    channel: str = "online"
    typed_by: str | None = None

    def __repr__(self) -> str:   # never in a log or traceback
        return "_Waiting(…)"


class _State:
    """Per database, in this process: the key and what waits in memory. Kept on the Database object
    (which lives as long as the server process), not in this module, so reloading the module does
    not drop waiting answers."""

    def __init__(self, key: bytes):
        self.key = key
        self.lock = threading.RLock()
        self.waiting: dict[tuple[str, int], list[_Waiting]] = {}

    def __repr__(self) -> str:
        return "_State(…)"


_STATE_ATTR = "_kleroterion_survey_state"
_STATE_LOCK = threading.Lock()


def _state(db: Database) -> _State:
    state = getattr(db, _STATE_ATTR, None)
    if state is not None:
        return state
    with _STATE_LOCK:
        state = getattr(db, _STATE_ATTR, None)
        if state is None:
            state = _State(_load_key(db))
            _convert_legacy_marks(db, state.key)
            setattr(db, _STATE_ATTR, state)
            atexit.register(_save_at_exit, weakref.ref(db))
    return state


def member_mark(db: Database, purpose: str, scope: object, session: MemberSession | str) -> str:
    """A member's mark: HMAC-SHA256(survey key, "{purpose}|{scope}|{token}"). ``purpose`` is
    'answered' (scope: the survey), 'endorsed' (scope: the round) or 'proposer' (scope: '')."""
    token = session if isinstance(session, str) else _session_token(session)
    return _hmac(_state(db).key, f"{purpose}|{scope}|{token}")


def _mark_check(key: bytes, kind: str, scope: int) -> str:
    return _hmac(key, f"check|{kind}|{scope}")


_MARK_TABLES = {"wave": ("eval_answered", "hashes", "wave_id"), "round": ("eval_round_voters", "voters", "round_id")}


def _convert_legacy_marks(db: Database, key: bytes) -> None:
    """Lists of marks made before migration 007 (SHA-256 of the token) become HMAC marks."""
    def write(cur):
        legacy = {kind: cur.execute(f"SELECT {idcol}, {col} FROM {table} WHERE mark_check IS NULL").fetchall()
                  for kind, (table, col, idcol) in _MARK_TABLES.items()}
        proposers = cur.execute("SELECT question_id, proposer_hash FROM eval_questions "
                                "WHERE proposer_hash IS NOT NULL").fetchall()
        tokens = [r[0] for r in cur.execute("SELECT DISTINCT token FROM eval_access_codes").fetchall()]
        for kind, rows in legacy.items():
            table, col, idcol = _MARK_TABLES[kind]
            purpose = "answered" if kind == "wave" else "endorsed"
            for scope, marks in rows:
                new = {_legacy_mark(purpose, scope, t): _hmac(key, f"{purpose}|{scope}|{t}") for t in tokens}
                converted = sorted(new.get(m) or _hmac(key, f"unknown|{scope}|{m}") for m in marks)
                cur.execute(f"UPDATE {table} SET {col} = ?, mark_check = ? WHERE {idcol} = ?",
                            [converted, _mark_check(key, kind, scope), scope])
        old = {_legacy_mark("proposer", "", t): _hmac(key, f"proposer||{t}") for t in tokens}
        for qid, h in proposers:
            if h in old:
                cur.execute("UPDATE eval_questions SET proposer_hash = ? WHERE question_id = ?", [old[h], qid])

    needed = db.query("SELECT (SELECT count(*) FROM eval_answered WHERE mark_check IS NULL) + "
                      "(SELECT count(*) FROM eval_round_voters WHERE mark_check IS NULL) + "
                      "(SELECT count(*) FROM eval_questions WHERE proposer_hash IS NOT NULL)")[0][0]
    if needed:
        db.transaction(write)


def _stored_marks(cur, key: bytes, kind: str, scope: int, *, check: bool = True) -> list[str]:
    table, col, idcol = _MARK_TABLES[kind]
    rows = cur.execute(f"SELECT {col}, mark_check FROM {table} WHERE {idcol} = ?", [scope]).fetchall()
    if not rows:
        return []
    marks, mark_check = rows[0]
    if check and mark_check != _mark_check(key, kind, scope):
        raise UserError(KEY_CHANGED.format(what="answered" if kind == "wave" else "endorsed",
                                           thing="survey" if kind == "wave" else "round"))
    return list(marks)


def _waiting_marks(state: _State, scope: tuple[str, int]) -> set[str]:
    return {e.mark for e in state.waiting.get(scope, []) if e.mark}


def _write_batch(cur, key: bytes, scope: tuple[str, int], entries: list[_Waiting]) -> None:
    """Write waiting entries in one transaction: their marks into the sorted list, their answers
    (or endorsements) in random order, each answer set under a fresh random id."""
    kind, sid = scope
    marks = {e.mark for e in entries if e.mark}
    if marks:
        table, col, idcol = _MARK_TABLES[kind]
        stored = _stored_marks(cur, key, kind, sid)
        cur.execute(f"UPDATE {table} SET {col} = ? WHERE {idcol} = ?", [sorted(set(stored) | marks), sid])
    if kind == "wave":
        rows = []
        for e in entries:
            rid = secrets.token_hex(12)            # random: derived from nothing about the member
            rows.extend([rid, sid, e.channel, q, v, e.typed_by] for q, v in e.items)
        rows.sort(key=lambda r: (r[0], r[3]))      # random order of answer sets, question order within
        if rows:
            cur.executemany("INSERT INTO eval_responses (response_id, wave_id, channel, question_id, answer, "
                            "typed_by) VALUES (?, ?, ?, ?, ?, ?)", rows)
    else:
        rows = sorted([sid, q] for e in entries for q in e.items)   # by question: no grouping, no order
        if rows:
            cur.executemany("INSERT INTO eval_endorsements (round_id, question_id) VALUES (?, ?)", rows)


def _add_waiting(db: Database, state: _State, scope: tuple[str, int], entry: _Waiting) -> None:
    """Add an entry; once 2 × BATCH are waiting, write all but BATCH of them, chosen at random. (So a
    batch always holds at least BATCH entries, and so does what is left for the closing.)"""
    pool = state.waiting.setdefault(scope, [])
    pool.append(entry)
    if len(pool) < 2 * BATCH:
        return
    chosen = set(_RNG.sample(range(len(pool)), len(pool) - BATCH))
    batch = [e for i, e in enumerate(pool) if i in chosen]
    _RNG.shuffle(batch)
    try:
        db.transaction(lambda cur: _write_batch(cur, state.key, scope, batch))
    except DatabaseBusy:
        return   # they keep waiting and go with a later batch
    state.waiting[scope] = [e for i, e in enumerate(pool) if i not in chosen]
    _checkpoint(db)


def waiting_count(db: Database, wave_id: int) -> int:
    """Sets of answers (online and paper) waiting in memory for a survey, not yet in the database."""
    state = _state(db)
    with state.lock:
        return sum(1 for e in state.waiting.get(("wave", wave_id), []) if e.items)


def save_waiting(db: Database) -> int:
    """Write what waits in memory wherever at least BATCH entries wait (never a smaller batch).
    Called when the server stops normally; scripts that send answers call it before closing the
    database. Returns how many entries are left waiting (they are lost if the process ends)."""
    state = _state(db)
    left = 0
    with state.lock:
        for scope, pool in list(state.waiting.items()):
            if len(pool) < BATCH:
                left += len(pool)
                continue
            batch = list(pool)
            _RNG.shuffle(batch)
            db.transaction(lambda cur, scope=scope, batch=batch: _write_batch(cur, state.key, scope, batch))
            state.waiting[scope] = []
    _checkpoint(db)
    return left


def _save_at_exit(ref) -> None:
    db = ref()
    if db is None or getattr(db, _STATE_ATTR, None) is None:
        return
    try:
        left = save_waiting(db)
    except Exception:  # noqa: BLE001 - the database is already closed: nothing more can be done
        left = sum(len(p) for p in getattr(db, _STATE_ATTR).waiting.values())
    if left:
        log.warning("%d survey answer(s) or endorsement(s) were still waiting for a batch of %d and were not "
                    "saved; those members will be asked to answer again.", left, BATCH)


# --------------------------------------------------------------------------------------
# Members, settings, the log
# --------------------------------------------------------------------------------------

def current_members(db: Database) -> list[str]:
    """Person ids of the current members (lib.assembly)."""
    return list(assembly.current_members(db))


@dataclass(frozen=True)
class Base:
    count: int
    source: str


def adoption_base(db: Database) -> Base:
    """How many members the agreed share is taken of, and where that number comes from."""
    attended = assembly.attended_last_session(db)
    if attended is not None:
        return Base(int(attended), "members who attended the last session")
    members = current_members(db)
    if members:
        return Base(len(members), "current members (no session attendance is recorded yet)")
    return Base(len(code_holders(db)),
                "members holding an access code (no session attendance or member list is recorded yet)")


MIN_ENDORSEMENTS = 2
"""However few members the share is taken of, a question needs at least this many endorsements: the
member who proposed it cannot adopt it alone."""


def needed_endorsements(share: float, base: int) -> int:
    """The agreed share of the base, rounded up, and never fewer than MIN_ENDORSEMENTS."""
    return max(MIN_ENDORSEMENTS, math.ceil(share * base - 1e-9))


def members_words(n: int, what: str = "member") -> str:
    """'1 member', '2 members' (also '1 endorsement', '3 endorsements')."""
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def adoption_rule_words(share: float, base: Base, limit: int) -> str:
    """The adoption rule in plain words, with this base's numbers (Markdown; holds no text people typed)."""
    needed = needed_endorsements(share, base.count)
    who = base.source.split(" (")[0]               # e.g. "members who attended the last session"
    if base.count == 1:
        who = who.replace("members", "member", 1)
    return (f"A members' question goes into the surveys when at least {share:.0%} of the {base.count} {who} "
            f"endorse it, and never fewer than {MIN_ENDORSEMENTS} members, so nobody can adopt their own question "
            f"alone. Now that means **{members_words(needed, 'endorsement')} or more**. At most {limit} members' "
            "questions go into the surveys in all; if more qualify, the most endorsed go in first (a public lot "
            "decides a tie).")


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
    """Put the core questionnaire in place (once), with its first wording in every language."""
    if db.scalar("SELECT count(*) FROM eval_questions WHERE kind = 'core'"):
        ensure_core_translations(db)
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
    ensure_core_translations(db)


def ensure_core_translations(db: Database) -> None:
    """The core questions' first wording (version 1) in each language from its catalogue (lib/locale), stored
    per language like any translation (migration 012); written once per language, never over an organiser's."""
    from lib.i18n import DEFAULT, LANGUAGES, gettext

    langs = [lang for lang in LANGUAGES if lang != DEFAULT]
    have = {r[0] for r in db.query("SELECT DISTINCT lang FROM eval_wording_translations WHERE translated_by = 'core'")}
    todo = [lang for lang in langs if lang not in have]
    if not todo:
        return

    def write(cur):
        for lang in todo:
            for qid, _stage, wording, _purpose, _waves in CORE_QUESTIONS:
                text = gettext(lang, wording)
                if text == wording or cur.execute(
                        "SELECT count(*) FROM eval_wording_translations WHERE question_id = ? AND version = 1 "
                        "AND lang = ?", [qid, lang]).fetchall()[0][0]:
                    continue
                cur.execute("INSERT INTO eval_wording_translations (question_id, version, lang, wording, "
                            "translated_by) VALUES (?, 1, ?, ?, 'core')", [qid, lang, text])

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
               q.created_at, q.check_state, q.check_reason,
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
    mark = member_mark(db, "proposer", "", token)

    def write(cur):
        _check_active(cur, token)
        n = cur.execute("SELECT nextval('eval_member_q_seq')").fetchall()[0][0]
        qid = f"M{n}"
        cur.execute("INSERT INTO eval_questions (question_id, kind, position, purpose, proposer_hash, status, "
                    "check_state) VALUES (?, 'member', ?, ?, ?, 'ready', 'waiting')", [qid, 1000 + n, why, mark])
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
        if cur.execute("SELECT check_state FROM eval_questions WHERE question_id = ?",
                       [question_id]).fetchall()[0][0] == "declined":
            raise UserError(f"{question_id} was not accepted by the organisers, so it does not need new wording.")
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
                                  [member_mark(db, "proposer", "", token)])}
    return df[df["question_id"].isin(ids)].reset_index(drop=True)


def answer_suggestion(db: Database, session: MemberSession, question_id: str, accept: bool) -> None:
    """The proposer accepts or declines the suggested wording. Both versions are kept."""
    token = _session_token(session)
    mark = member_mark(db, "proposer", "", token)

    def write(cur):
        rows = cur.execute("SELECT proposer_hash, status FROM eval_questions WHERE question_id = ?",
                           [question_id]).fetchall()
        if not rows:
            raise UserError(f"There is no question {question_id}.")
        if rows[0][0] != mark:
            raise UserError("Only the member who proposed this question can accept or decline new wording.")
        if rows[0][1] != "awaiting_proposer":
            raise UserError("There is no suggestion waiting for this question.")
        cur.execute("UPDATE eval_wordings SET state = ?, decided_at = now() "
                    "WHERE question_id = ? AND state = 'suggested'",
                    ["accepted" if accept else "declined", question_id])
        cur.execute("UPDATE eval_questions SET status = 'ready' WHERE question_id = ?", [question_id])
        _log(cur, "member", "wording_accepted" if accept else "wording_declined", question_id=question_id)

    db.transaction(write)


def check_question(db: Database, question_id: str, accept: bool, reason: str | None = None,
                   actor: str = "organiser") -> None:
    """The organisers' check of a member's question before it can be endorsed: accepted, or not
    accepted with a reason the members see. A question not accepted can still be accepted later
    (a mistake put right); an accepted one stays accepted."""
    why = _clean_text(reason, "why the question is not accepted") if not accept else None

    def write(cur):
        rows = cur.execute("SELECT kind, check_state FROM eval_questions WHERE question_id = ?",
                           [question_id]).fetchall()
        if not rows or rows[0][0] != "member":
            raise UserError(f"{question_id} is not a members' question.")
        state = rows[0][1]
        if state == "accepted":
            raise UserError(f"{question_id} has already been accepted.")
        if state == "declined" and not accept:
            raise UserError(f"{question_id} has already been marked as not accepted.")
        cur.execute("UPDATE eval_questions SET check_state = ?, check_reason = ?, checked_by = ? "
                    "WHERE question_id = ?", ["accepted" if accept else "declined", why, actor, question_id])
        _log(cur, actor, "question_accepted" if accept else "question_not_accepted", question_id=question_id,
             detail=why)

    db.transaction(write)


def questions_to_check(db: Database) -> pd.DataFrame:
    """Members' questions waiting for the organisers' check, oldest first."""
    df = questions_frame(db, "member")
    return df[df["check_state"] == "waiting"].reset_index(drop=True)


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
    key = _state(db).key

    def write(cur):
        if cur.execute("SELECT count(*) FROM eval_rounds WHERE status = 'open'").fetchall()[0][0]:
            raise UserError("A round is already open. Close it before opening another.")
        ready = [r[0] for r in cur.execute("SELECT question_id FROM eval_questions WHERE kind = 'member' AND "
                                           "status = 'ready' AND check_state = 'accepted' "
                                           "ORDER BY position").fetchall()]
        if not ready:
            raise UserError("No members' question is ready to be endorsed. (Questions wait for the organisers' "
                            "check, and questions with a wording suggestion wait until the member who proposed "
                            "them accepts or declines it.)")
        rid = cur.execute("SELECT nextval('eval_round_seq')").fetchall()[0][0]
        seed_text = seed or f"Kleroterion endorsement round {rid}, opened {now.date().isoformat()}"
        cur.execute("INSERT INTO eval_rounds (round_id, opened_at, closes_at, opened_by, order_salt, lot_seed, share, "
                    "max_adopted, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')",
                    [rid, now, closes_at, actor, f"round-{rid}", seed_text, s["share"], s["limit"]])
        cur.execute("INSERT INTO eval_round_voters (round_id, voters, mark_check) VALUES (?, [], ?)",
                    [rid, _mark_check(key, "round", rid)])
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
    """Whether this member has endorsed in the round (saved, or waiting in memory for a batch)."""
    state = _state(db)
    mark = member_mark(db, "endorsed", round_id, session)
    with state.lock:
        if mark in _waiting_marks(state, ("round", round_id)):
            return True
        with db.cursor() as cur:
            return mark in _stored_marks(cur, state.key, "round", round_id, check=False)


def endorse(db: Database, session: MemberSession, round_id: int, question_ids: Iterable[str],
            *, now: datetime | None = None) -> int:
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
        with db.cursor() as cur:    # reads only
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
            stored = _stored_marks(cur, state.key, "round", round_id)
        if mark in stored or mark in _waiting_marks(state, scope):
            raise UserError("You have already endorsed in this round; each member endorses once per round.")
        _add_waiting(db, state, scope, _Waiting(mark, tuple(chosen)))
    return len(chosen)


def endorsed_count(db: Database, round_id: int) -> int:
    """How many members have endorsed in a round so far (saved or waiting)."""
    state = _state(db)
    with state.lock:
        with db.cursor() as cur:
            stored = _stored_marks(cur, state.key, "round", round_id, check=False)
        return len(stored) + len(_waiting_marks(state, ("round", round_id)))


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
    state = _state(db)
    scope = ("round", round_id)

    def write(cur):
        rows = cur.execute("SELECT status, share, max_adopted, lot_seed FROM eval_rounds WHERE round_id = ?",
                           [round_id]).fetchall()
        if not rows:
            raise UserError("That endorsement round does not exist.")
        status, share, max_adopted, seed = rows[0]
        if status != "open":
            raise UserError("This round is already closed.")
        waiting = list(state.waiting.get(scope, []))
        if waiting:   # the endorsements still waiting in memory, written before counting
            _RNG.shuffle(waiting)
            _write_batch(cur, state.key, scope, waiting)
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

    with state.lock:
        db.transaction(write)
        state.waiting.pop(scope, None)
    _checkpoint(db)
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


OUTCOME_WORDS = {"adopted": N_("Adopted"), "not_enough": N_("Not enough endorsements"),
                 "no_room": N_("Enough endorsements, but the limit was reached")}


def round_result(db: Database, round_id: int) -> pd.DataFrame:
    """Tallies and outcomes of a closed round (empty while it is open: tallies stay hidden)."""
    return db.query_df("""
        SELECT rq.question_id, w.wording, rq.endorsements, rq.outcome, rq.by_lot, rq.lot_key
        FROM eval_round_questions rq JOIN eval_rounds r USING (round_id)
        JOIN eval_wordings w ON w.question_id = rq.question_id AND w.version = rq.version
        WHERE rq.round_id = ? AND r.status = 'closed'
        ORDER BY rq.outcome = 'adopted' DESC, rq.endorsements DESC, rq.lot_key""", [round_id])


def round_result_table(result: pd.DataFrame, *, codes: bool = False) -> pd.DataFrame:
    """A closed round's result (``round_result``) for people to read: plain column names, the
    question's wording (its code M1, M2 … only with ``codes``, for the organisers, who use them), and
    "Decided by lot" only when the lot decided something. The lot numbers stay out of the table."""
    by_lot = result["by_lot"].fillna(False).astype(bool)
    out = pd.DataFrame({"Question": result["wording"],
                        "Endorsements": result["endorsements"].fillna(0).astype(int),
                        "Decision": result["outcome"].map(OUTCOME_WORDS).fillna("")})
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


def open_wave(db: Database, kind: str, label: str | None = None, actor: str = "organiser",
              *, now: datetime | None = None) -> Wave:
    """Open a survey wave: the core items for this kind of wave plus the adopted members' questions."""
    if kind not in WAVE_KINDS:
        raise UserError(f"Unknown kind of survey {kind!r}; choose one of: {', '.join(WAVE_KINDS.values())}.")
    ensure_core(db)
    now = _now(now)
    name = " ".join(str(label or "").split()) or WAVE_KINDS[kind]
    key = _state(db).key

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
        cur.execute("INSERT INTO eval_answered (wave_id, hashes, mark_check) VALUES (?, [], ?)",
                    [wid, _mark_check(key, "wave", wid)])
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
    """Members who have answered a survey (online or on paper), saved or waiting in memory."""
    state = _state(db)
    with state.lock:
        with db.cursor() as cur:
            stored = _stored_marks(cur, state.key, "wave", wave_id, check=False)
        return len(stored) + len(_waiting_marks(state, ("wave", wave_id)))


def response_count(db: Database, wave_id: int) -> int:
    """Sets of answers saved in the database (not counting those waiting in memory)."""
    return int(db.scalar("SELECT count(DISTINCT response_id) FROM eval_responses WHERE wave_id = ?", [wave_id]) or 0)


def answer_counts(db: Database, wave_id: int) -> dict[str, int]:
    """Sets of answers saved, by channel: {'online': n, 'paper': m}."""
    got = dict(db.query("SELECT channel, count(DISTINCT response_id) FROM eval_responses WHERE wave_id = ? "
                        "GROUP BY channel", [wave_id]))
    return {"online": int(got.get("online", 0)), "paper": int(got.get("paper", 0))}


def answer_state(db: Database, session: MemberSession, wave_id: int) -> str:
    """'saved' (in the database), 'waiting' (in memory, written with the next batch) or 'none'."""
    state = _state(db)
    mark = member_mark(db, "answered", wave_id, session)
    with state.lock:
        if mark in _waiting_marks(state, ("wave", wave_id)):
            return "waiting"
        with db.cursor() as cur:
            stored = _stored_marks(cur, state.key, "wave", wave_id, check=False)
    return "saved" if mark in stored else "none"


def has_answered(db: Database, session: MemberSession, wave_id: int) -> bool:
    return answer_state(db, session, wave_id) != "none"


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


def _checkpoint(db: Database) -> None:
    """Move what was written into the main database file (best effort: DuckDB skips it while another
    transaction is open; the log then holds whole batches only, never one member's answers)."""
    try:
        with db.cursor() as cur:
            cur.execute("CHECKPOINT")
    except Exception:  # noqa: BLE001 - another write is running: it will checkpoint later
        pass


def submit_answers(db: Database, session: MemberSession, wave_id: int, answers: Mapping[str, int]) -> None:
    """A member's answers to a wave: once per member per wave, stored with no link to the member.

    Nothing is written now: the answers (and the member's mark) wait in memory and are written with
    others' in a batch of at least BATCH (see ``_add_waiting``), or when the survey closes."""
    token = _session_token(session)
    state = _state(db)
    mark = member_mark(db, "answered", wave_id, token)
    scope = ("wave", wave_id)
    with state.lock:
        with db.cursor() as cur:    # reads only
            _check_active(cur, token)
            clean = _validate_answers(cur, wave_id, answers)
            stored = _stored_marks(cur, state.key, "wave", wave_id)
        if mark in stored or mark in _waiting_marks(state, scope):
            raise UserError("You have already answered this survey. Each member answers once; thank you!")
        _add_waiting(db, state, scope, _Waiting(mark, tuple(clean)))


def paper_status(db: Database, wave_id: int) -> dict:
    """Paper cards handed out for a survey, paper forms typed in (saved and waiting), how many more
    can be typed in, and who typed them in ({who: count}, saved ones only)."""
    state = _state(db)
    with state.lock:
        cards = int(db.scalar("SELECT coalesce(paper_cards, 0) FROM eval_waves WHERE wave_id = ?", [wave_id]) or 0)
        saved = answer_counts(db, wave_id)["paper"]
        waiting = [e for e in state.waiting.get(("wave", wave_id), []) if e.channel == "paper"]
    by = dict(db.query("SELECT coalesce(typed_by, '(not recorded)'), count(DISTINCT response_id) FROM eval_responses "
                       "WHERE wave_id = ? AND channel = 'paper' GROUP BY ALL ORDER BY 1", [wave_id]))
    for e in waiting:
        who = e.typed_by or "(not recorded)"
        by[who] = by.get(who, 0) + 1
    typed = saved + len(waiting)
    return {"cards": cards, "typed": typed, "left": max(0, cards - typed), "by": by}


def set_paper_cards(db: Database, wave_id: int, cards: int, actor: str = "organiser") -> int:
    """Record how many paper cards were handed out for a survey: typed-in paper forms are capped at it."""
    try:
        n = int(cards)
    except (TypeError, ValueError):
        raise UserError("Write the number of paper cards handed out as a whole number, e.g. 12.") from None
    if not 0 <= n <= PAPER_CARDS_MAX:
        raise UserError(f"The number of paper cards must be between 0 and {PAPER_CARDS_MAX:,}.")
    state = _state(db)

    def write(cur):
        rows = cur.execute("SELECT status, coalesce(paper_cards, 0) FROM eval_waves WHERE wave_id = ?",
                           [wave_id]).fetchall()
        if not rows:
            raise UserError("That survey does not exist.")
        if rows[0][0] != "open":
            raise UserError("This survey has closed; the number of paper cards can no longer change.")
        typed = paper_status(db, wave_id)["typed"]
        if n < typed:
            raise UserError(f"{typed} paper form(s) have already been typed in for this survey, so the number of "
                            f"cards handed out cannot be less than {typed}. Nothing was changed.")
        if n == rows[0][1]:
            raise UserError(f"The survey already records {n} paper card(s); nothing was changed.")
        cur.execute("UPDATE eval_waves SET paper_cards = ? WHERE wave_id = ?", [n, wave_id])
        _log(cur, actor, "paper_cards", wave_id=wave_id, detail=f"{n} paper card(s) handed out (was {rows[0][1]})")
        return n

    with state.lock:
        return db.transaction(write)


def submit_paper_answers(db: Database, wave_id: int, answers: Mapping[str, int], actor: str = "volunteer") -> None:
    """Answers from a paper form, typed in by a volunteer. The form carries no name or code; the
    member's card is ticked separately (``mark_answered_on_paper``). At most as many forms as paper
    cards were handed out (``set_paper_cards``); each keeps who typed it in. Like online answers,
    forms wait in memory and are written in batches."""
    who = " ".join(str(actor or "").split())
    if not who:
        raise UserError("Please say who is typing in the forms (your name): each paper form is recorded with "
                        "who typed it in.")
    state = _state(db)
    scope = ("wave", wave_id)
    with state.lock:
        with db.cursor() as cur:
            clean = _validate_answers(cur, wave_id, answers)
        paper = paper_status(db, wave_id)
        if paper["cards"] == 0:
            raise UserError("No paper cards are recorded as handed out for this survey, so paper forms cannot be "
                            "typed in yet. Nothing was saved. An organiser records the number of cards handed out "
                            "on the Evaluation page (Surveys).")
        if paper["typed"] >= paper["cards"]:
            raise UserError(f"All {paper['cards']} paper card(s) handed out for this survey have been typed in "
                            f"already ({paper['typed']} of {paper['cards']}), so this form was not saved. If more "
                            "cards were handed out, an organiser can change the number on the Evaluation page.")
        _add_waiting(db, state, scope, _Waiting(None, tuple(clean), channel="paper", typed_by=who[:200]))


def mark_answered_on_paper(db: Database, wave_id: int, code: str, actor: str = "volunteer") -> None:
    """Tick a member's access code as 'answered on paper' for a wave, so they cannot answer twice.
    (Written at once: a tick says who answered on paper, not what; the forms wait for a batch.)"""
    session = member_sign_in(db, code)
    if session is None:
        raise UserError("That access code was not recognised. Check it against the card (letters and numbers).")
    state = _state(db)
    mark = member_mark(db, "answered", wave_id, session)

    def write(cur):
        rows = cur.execute("SELECT status FROM eval_waves WHERE wave_id = ?", [wave_id]).fetchall()
        if not rows or rows[0][0] != "open":
            raise UserError("This survey is not open.")
        marks = _stored_marks(cur, state.key, "wave", wave_id)
        if mark in marks or mark in _waiting_marks(state, ("wave", wave_id)):
            raise UserError("This card has already been used for this survey (online or on paper). If the member "
                            "also filled in a paper form, please set that form aside: each member answers once.")
        cur.execute("UPDATE eval_answered SET hashes = ? WHERE wave_id = ?", [sorted([*marks, mark]), wave_id])

    with state.lock:
        db.transaction(write)
    _checkpoint(db)


def close_wave(db: Database, wave_id: int, actor: str = "organiser", *, members_first_days: int | None = None,
               now: datetime | None = None) -> Wave:
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
        stored = cur.execute("SELECT count(DISTINCT response_id) FROM eval_responses WHERE wave_id = ?",
                             [wave_id]).fetchall()[0][0]
        sets = sum(1 for e in waiting if e.items)
        dropped = 0
        if sets and stored + sets < BATCH:
            waiting = [_Waiting(e.mark, ()) for e in waiting if e.mark]
            dropped = sets
        if waiting:
            _RNG.shuffle(waiting)
            _write_batch(cur, state.key, scope, waiting)
        until = now + timedelta(days=days)
        cur.execute("UPDATE eval_waves SET status = 'closed', closed_at = ?, members_first_until = ? "
                    "WHERE wave_id = ?", [now, until, wave_id])
        note = (f"; fewer than {BATCH} sets of answers were given, so those {dropped} were not kept (so few could "
                "be recognised)" if dropped else "")
        _log(cur, actor, "wave_closed", wave_id=wave_id,
             detail=f"members see the results first, for {days} day(s), until {until.date().isoformat()}{note}")

    with state.lock:
        db.transaction(write)
        state.waiting.pop(scope, None)
    _checkpoint(db)
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

def real_answers(per: Mapping[int, int]) -> int:
    """Answers on the agree/disagree scale ("prefer not to say" and blanks left out): what a shown
    breakdown is based on, so what the small-numbers rule counts."""
    return sum(int(per.get(a, 0) or 0) for a in SCALE)


def question_result(per: Mapping[int, int]) -> dict:
    """One question's result from its counts per answer (0 = prefer not to say): ``answers`` (all),
    ``views`` (real answers), ``suppressed`` (fewer than SMALL_GROUP real answers) and a count per
    answer label, each None when suppressed."""
    views = real_answers(per)
    suppressed = views < SMALL_GROUP
    row = {"answers": sum(int(n or 0) for a, n in per.items() if a in ANSWERS), "views": views,
           "suppressed": suppressed}
    for a, label in ANSWERS.items():
        row[label] = None if suppressed else int(per.get(a, 0) or 0)
    return row


def results_frame(db: Database, wave_id: int) -> pd.DataFrame:
    """Per question of a wave: its number in the survey (``position``), counts per answer, n, and
    whether the result is suppressed.

    Questions with fewer than 5 real answers (``views``: "prefer not to say" does not count) are
    suppressed for everybody (counts set to missing): in a group that small, answers could be traced
    to people.
    """
    qs = wave_questions(db, wave_id)
    counts = db.query_df("SELECT question_id, answer, count(*) AS n FROM eval_responses WHERE wave_id = ? "
                         "GROUP BY ALL", [wave_id])
    rows = []
    for _, q in qs.iterrows():
        c = counts[counts["question_id"] == q["question_id"]]
        per = {int(a): int(n) for a, n in zip(c["answer"], c["n"])}
        rows.append({"question_id": q["question_id"], "position": q["position"], "wording": q["wording"],
                     "kind": q["kind"], "stage": q["stage"], **question_result(per)})
    return pd.DataFrame(rows, columns=["question_id", "position", "wording", "kind", "stage", "answers", "views",
                                       "suppressed", *ANSWERS.values()])


def question_label(position, wording: str) -> str:
    """A question as members see it in the survey: its number there and its wording ("3. We had …")."""
    return f"{int(position)}. {wording}"


def diverging_frame(results: pd.DataFrame) -> pd.DataFrame:
    """Long frame for a diverging bar chart: each answer's segment as % of those who gave a view
    (neutral split half each side of zero; 'prefer not to say' left out of the bars)."""
    out = []
    for _, r in results.iterrows():
        if r["suppressed"]:
            continue
        counts = [int(r[ANSWERS[a]] or 0) for a in SCALE]
        total = sum(counts)
        if total < SMALL_GROUP:      # never a breakdown of fewer than 5 real answers, whoever built the frame
            continue
        pct = [100.0 * c / total for c in counts]
        start = -(pct[0] + pct[1] + pct[2] / 2)
        for a, p in zip(SCALE, pct):
            out.append({"question_id": r["question_id"], "question": question_label(r["position"], r["wording"]),
                        "answer": ANSWERS[a], "order": a, "percent": round(p, 1),
                        "start": start, "end": start + p, "count": counts[a - 1]})
            start += p
    return pd.DataFrame(out, columns=["question_id", "question", "answer", "order", "percent", "start", "end",
                                      "count"])


def results_table(results: pd.DataFrame) -> pd.DataFrame:
    """The shown questions of a results frame for people to read: numbered as in the survey, plain
    column names, no internal codes or flags. Suppressed questions are left out entirely."""
    shown = results[~results["suppressed"].astype(bool)]
    out = pd.DataFrame({
        "No.": shown["position"].astype(int),
        "Question": shown["wording"],
        "Part of the process": [STAGES.get(s, "Members' question") if isinstance(s, str) else "Members' question"
                                for s in shown["stage"]],
        "Answers": shown["answers"].astype(int),
        "Gave a view": shown["views"].astype(int),
    })
    for label in ANSWERS.values():
        out[label] = shown[label].astype(int)
    return out.reset_index(drop=True)


def export_frame(db: Database, wave_ids: Iterable[int]) -> pd.DataFrame:
    """Aggregated results for a CSV export (suppressed questions show no counts)."""
    frames = []
    for wid in wave_ids:
        w = get_wave(db, wid)
        r = results_frame(db, wid)
        if r.empty:
            continue
        r.insert(0, "survey", w.label)
        r.insert(1, "number", r.pop("position").astype(int))       # as numbered in that survey
        few = f"fewer than {SMALL_GROUP}"
        r["answers"] = [few if s and a < SMALL_GROUP else a for a, s in zip(r["answers"], r["suppressed"])]
        r["views"] = [few if s else v for v, s in zip(r["views"], r["suppressed"])]
        frames.append(r.drop(columns=["kind", "suppressed"]))
    if not frames:
        return pd.DataFrame(columns=["survey", "number", "question_id", "wording", "stage", "answers", "views",
                                     *ANSWERS.values()])
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


# --------------------------------------------------------------------------------------
# Languages (migration 012): question wordings per language, a member's chosen language
# --------------------------------------------------------------------------------------

def _languages() -> dict[str, str]:
    from lib.i18n import LANGUAGES

    return LANGUAGES


def set_translation(db: Database, question_id: str, lang: str, wording: str, actor: str = "organiser") -> int:
    """The wording of a question's current accepted version in ``lang`` (replacing an earlier
    translation of that version). Returns the version translated."""
    if lang not in _languages():
        raise UserError(f"Choose one of the languages offered: {', '.join(_languages().values())}.")
    text = _clean_text(wording, "the translation")

    def write(cur):
        version, _w = _current_version(cur, question_id)
        cur.execute("DELETE FROM eval_wording_translations WHERE question_id = ? AND version = ? AND lang = ?",
                    [question_id, version, lang])
        cur.execute("INSERT INTO eval_wording_translations (question_id, version, lang, wording, translated_by) "
                    "VALUES (?, ?, ?, ?, ?)", [question_id, version, lang, text, actor])
        _log(cur, actor, "translated", question_id=question_id, detail=f"{lang}, version {version}: {text}")
        return version

    return db.transaction(write)


def translation_of(db: Database, question_id: str, lang: str) -> str | None:
    """The translation of a question's current accepted wording, if there is one."""
    rows = db.query("SELECT t.wording FROM eval_wording_translations t WHERE t.question_id = ? AND t.lang = ? "
                    "AND t.version = (SELECT max(w.version) FROM eval_wordings w WHERE w.question_id = t.question_id "
                    "AND w.state = 'accepted')", [question_id, lang])
    return rows[0][0] if rows else None


def localise(db: Database, frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` (question_id, version, wording) with each wording in ``lang`` where a translation of that
    exact version exists: adds ``original`` (the wording as written) and ``translated`` (False: shown in
    its original wording). English is the language the core was written in, so it always counts as
    translated; members' questions written in another language may still have an English translation."""
    out = frame.copy()
    out["original"] = out["wording"]
    out["translated"] = True
    if out.empty:
        return out
    found = {(q, int(v)): w for q, v, w in db.query(
        "SELECT question_id, version, wording FROM eval_wording_translations WHERE lang = ?", [lang])}
    words, done = [], []
    for q, v, w in zip(out["question_id"], out["version"], out["wording"]):
        t = found.get((q, int(v))) if v == v and v is not None else None
        words.append(t or w)
        done.append(t is not None or lang == "en")
    out["wording"] = words
    out["translated"] = done
    return out


def wave_questions_in(db: Database, wave_id: int, lang: str) -> pd.DataFrame:
    """A wave's questions (wave_questions) in ``lang``, falling back to the wording asked."""
    qs = wave_questions(db, wave_id)
    versions = dict(db.query("SELECT question_id, version FROM eval_wave_questions WHERE wave_id = ?", [wave_id]))
    qs = qs.assign(version=[versions.get(q) for q in qs["question_id"]])
    return localise(db, qs, lang)


def _lang_key(session: MemberSession | str) -> str:
    token = _session_token(session) if isinstance(session, MemberSession) else str(session)
    return _sha("language|" + token)


def member_language(db: Database, session: MemberSession | None) -> str | None:
    """The language a member chose (on any device), or None."""
    if session is None:
        return None
    rows = db.query("SELECT lang FROM member_languages WHERE token_hash = ?", [_lang_key(session)])
    return rows[0][0] if rows and rows[0][0] in _languages() else None


def set_member_language(db: Database, session: MemberSession, lang: str) -> None:
    """Remember a member's language with a hash of their token (nothing else: it is never stored with
    their answers, so it cannot help anyone tell whose answers are whose)."""
    if lang not in _languages():
        raise UserError(f"Choose one of the languages offered: {', '.join(_languages().values())}.")
    key = _lang_key(session)

    def write(cur):
        cur.execute("DELETE FROM member_languages WHERE token_hash = ?", [key])
        cur.execute("INSERT INTO member_languages (token_hash, lang) VALUES (?, ?)", [key, lang])

    db.transaction(write)


def results_in(db: Database, wave_id: int, lang: str) -> pd.DataFrame:
    """results_frame with each question's wording in ``lang`` where translated (the counts are the same in
    every language: answers are stored by question and answer number)."""
    res = results_frame(db, wave_id)
    if res.empty:
        return res
    versions = dict(db.query("SELECT question_id, version FROM eval_wave_questions WHERE wave_id = ?", [wave_id]))
    out = localise(db, res.assign(version=[versions.get(q) for q in res["question_id"]]), lang)
    return out.drop(columns=["version", "original", "translated"])
