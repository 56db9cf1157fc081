"""Anonymous answers (see docs/EVALUATION.md, docs/adr/0002-survey-anonymity.md): nothing is written to the
database when a member sends answers or endorsements. They wait in the server's memory and are written in
batches, in random order, at least ``BATCH`` (5) at a time (and the rest when the survey or round closes).
Who has answered is a sorted list of HMAC marks made with a key kept outside the database, so the tokens in
the database do not let anyone recompute them. Answers waiting in memory are lost if the server stops
abruptly; the member is then asked to answer again.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import os
import secrets
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping

from lib.errors import UserError
from lib.evaluation.access_codes import MemberSession, _check_active, _session_token
from lib.evaluation.vocabulary import _RNG, ANSWERS, BATCH, KEY_ENV, KEY_FILE_ENV, KEY_SUFFIX, _sha, log
from lib.store.db import Database, DatabaseBusy
from lib.plaintext import count

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

KEY_CHANGED = (
    "The app cannot check who has already {what}: the survey key (a file kept beside the "
    "database, see docs/EVALUATION.md) is missing or has changed since this {thing} opened. Nothing "
    "was saved. The organisers can put the key file back, or close this {thing} and open a new one."
)


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
        raise UserError(
            f"The survey key file {path} is damaged (it should hold 64 letters and digits). Put back "
            "the copy you kept, or see docs/EVALUATION.md."
        )
    return key


@dataclass
class _Waiting:
    """One member's answers (or endorsements), or one paper form, waiting to be written."""

    mark: str | None  # the member's mark; None for a paper form
    items: tuple  # answers: ((question_id, answer), ...); endorsements: (question_id, ...)
    channel: str = "online"
    typed_by: str | None = None

    def __repr__(self) -> str:  # never in a log or traceback
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
        legacy = {
            kind: cur.execute(f"SELECT {idcol}, {col} FROM {table} WHERE mark_check IS NULL").fetchall()
            for kind, (table, col, idcol) in _MARK_TABLES.items()
        }
        proposers = cur.execute(
            "SELECT question_id, proposer_hash FROM eval_questions WHERE proposer_hash IS NOT NULL"
        ).fetchall()
        tokens = [r[0] for r in cur.execute("SELECT DISTINCT token FROM eval_access_codes").fetchall()]
        for kind, rows in legacy.items():
            table, col, idcol = _MARK_TABLES[kind]
            purpose = "answered" if kind == "wave" else "endorsed"
            for scope, marks in rows:
                new = {_legacy_mark(purpose, scope, t): _hmac(key, f"{purpose}|{scope}|{t}") for t in tokens}
                converted = sorted(new.get(m) or _hmac(key, f"unknown|{scope}|{m}") for m in marks)
                cur.execute(
                    f"UPDATE {table} SET {col} = ?, mark_check = ? WHERE {idcol} = ?",
                    [converted, _mark_check(key, kind, scope), scope],
                )
        old = {_legacy_mark("proposer", "", t): _hmac(key, f"proposer||{t}") for t in tokens}
        for qid, h in proposers:
            if h in old:
                cur.execute("UPDATE eval_questions SET proposer_hash = ? WHERE question_id = ?", [old[h], qid])

    needed = db.query(
        "SELECT (SELECT count(*) FROM eval_answered WHERE mark_check IS NULL) + "
        "(SELECT count(*) FROM eval_round_voters WHERE mark_check IS NULL) + "
        "(SELECT count(*) FROM eval_questions WHERE proposer_hash IS NOT NULL)"
    )[0][0]
    if needed:
        db.transaction(write)


def _stored_marks(cur, key: bytes, kind: str, scope: int, *, check: bool = True) -> list[str]:
    table, col, idcol = _MARK_TABLES[kind]
    rows = cur.execute(f"SELECT {col}, mark_check FROM {table} WHERE {idcol} = ?", [scope]).fetchall()
    if not rows:
        return []
    marks, mark_check = rows[0]
    if check and mark_check != _mark_check(key, kind, scope):
        raise UserError(
            KEY_CHANGED.format(
                what="answered" if kind == "wave" else "endorsed", thing="survey" if kind == "wave" else "round"
            )
        )
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
        rows: list[list[Any]] = []
        for e in entries:
            rid = secrets.token_hex(12)  # random: derived from nothing about the member
            rows.extend([rid, sid, e.channel, q, v, e.typed_by] for q, v in e.items)
        rows.sort(key=lambda r: (r[0], r[3]))  # random order of answer sets, question order within
        if rows:
            cur.executemany(
                "INSERT INTO eval_responses (response_id, wave_id, channel, question_id, answer, "
                "typed_by) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
    else:
        rows = sorted([sid, q] for e in entries for q in e.items)  # by question: no grouping, no order
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
        return  # they keep waiting and go with a later batch
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

            def write(cur: Any, scope: tuple[str, int] = scope, batch: list[_Waiting] = batch) -> None:
                _write_batch(cur, state.key, scope, batch)

            db.transaction(write)
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
        log.warning(
            "%s (survey answers or endorsements) were still waiting for a batch of %d and were not "
            "saved; those members will be asked to answer again.",
            count(left, "entry", "entries"),
            BATCH,
        )


def marked_count(db: Database, kind: str, scope_id: int) -> int:
    """Members marked as having taken part in a survey ("wave") or an endorsement round ("round"), whether
    their mark is saved or still waiting in memory."""
    state = _state(db)
    with state.lock:
        with db.cursor() as cur:
            stored = _stored_marks(cur, state.key, kind, scope_id, check=False)
        return len(stored) + len(_waiting_marks(state, (kind, scope_id)))


def answered_count(db: Database, wave_id: int) -> int:
    """Members who have answered a survey (online or on paper), saved or waiting in memory."""
    return marked_count(db, "wave", wave_id)


def write_and_close(db: Database, scope: tuple[str, int], write: Callable[[Any], None]) -> None:
    """Close a survey or a round: ``write`` (one transaction) writes what still waits for ``scope`` and marks it
    closed, under the answers' lock; then nothing waits for it any more, and the log is checkpointed so that it
    holds nothing linkable."""
    state = _state(db)
    with state.lock:
        db.transaction(write)
        state.waiting.pop(scope, None)
    _checkpoint(db)


def response_count(db: Database, wave_id: int) -> int:
    """Sets of answers saved in the database (not counting those waiting in memory)."""
    return int(db.scalar("SELECT count(DISTINCT response_id) FROM eval_responses WHERE wave_id = ?", [wave_id]) or 0)


def answer_counts(db: Database, wave_id: int) -> dict[str, int]:
    """Sets of answers saved, by channel: {'online': n, 'paper': m}."""
    got = dict(
        db.query(
            "SELECT channel, count(DISTINCT response_id) FROM eval_responses WHERE wave_id = ? GROUP BY channel",
            [wave_id],
        )
    )
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
    asked = {
        r[0] for r in cur.execute("SELECT question_id FROM eval_wave_questions WHERE wave_id = ?", [wave_id]).fetchall()
    }
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
    return sorted(clean)  # question order, never the order the member saw the questions


def _checkpoint(db: Database) -> None:
    """Move what was written into the main database file (best effort: DuckDB skips it while another
    transaction is open; the log then holds whole batches only, never one member's answers)."""
    try:
        with db.cursor() as cur:
            cur.execute("CHECKPOINT")
    except Exception:  # noqa: BLE001 - another write is running: it will checkpoint later
        pass


class SurveyChanged(UserError):
    """The survey under this number is not the one the member's page showed: a backup was restored meanwhile
    (an older one, then another survey opened and took the same number)."""


def _check_survey(cur, wave_id: int, opened_at: datetime) -> None:
    found = cur.execute("SELECT opened_at FROM eval_waves WHERE wave_id = ?", [wave_id]).fetchall()
    if not found or found[0][0] != opened_at:
        raise SurveyChanged("This survey is not the one your page showed any more.")


def check_survey(db: Database, wave_id: int, opened_at: datetime) -> None:
    """SurveyChanged when survey ``wave_id`` is not the one opened at ``opened_at`` (see ``submit_answers``)."""
    with db.cursor() as cur:
        _check_survey(cur, wave_id, opened_at)


def submit_answers(
    db: Database,
    session: MemberSession,
    wave_id: int,
    answers: Mapping[str, int],
    *,
    opened_at: datetime | None = None,
) -> None:
    """A member's answers to a wave: once per member per wave, stored with no link to the member.

    ``opened_at``: when the survey the member answered was opened (the page's Wave). The number alone can name
    another survey after a backup is restored; then SurveyChanged, and nothing is kept.

    Nothing is written now: the answers (and the member's mark) wait in memory and are written with
    others' in a batch of at least BATCH (see ``_add_waiting``), or when the survey closes."""
    token = _session_token(session)
    state = _state(db)
    mark = member_mark(db, "answered", wave_id, token)
    scope = ("wave", wave_id)
    with state.lock:
        with db.cursor() as cur:  # reads only
            if opened_at is not None:
                _check_survey(cur, wave_id, opened_at)
            _check_active(cur, token)
            clean = _validate_answers(cur, wave_id, answers)
            stored = _stored_marks(cur, state.key, "wave", wave_id)
        if mark in stored or mark in _waiting_marks(state, scope):
            raise UserError("You have already answered this survey. Each member answers once; thank you!")
        _add_waiting(db, state, scope, _Waiting(mark, tuple(clean)))
