"""Questions and wordings: the core items (an organiser may reword one; every wording is kept), members'
own questions (proposed, checked by an organiser, clearer wording suggested and accepted by the proposer).
"""

from __future__ import annotations

import pandas as pd

from lib.errors import UserError
from lib.evaluation.access_codes import MemberSession, _check_active, _session_token
from lib.evaluation.answers import member_mark
from lib.evaluation.event_log import _log
from lib.evaluation.vocabulary import CORE_QUESTIONS, MAX_TEXT
from lib.store.db import Database

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
            cur.execute(
                "INSERT INTO eval_questions (question_id, kind, stage, position, waves, purpose, status) "
                "VALUES (?, 'core', ?, ?, ?, ?, 'core')",
                [qid, stage, pos, waves, purpose],
            )
            cur.execute(
                "INSERT INTO eval_wordings (question_id, version, wording, author, state) "
                "VALUES (?, 1, ?, 'core', 'accepted')",
                [qid, wording],
            )

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
                if (
                    text == wording
                    or cur.execute(
                        "SELECT count(*) FROM eval_wording_translations WHERE question_id = ? AND version = 1 "
                        "AND lang = ?",
                        [qid, lang],
                    ).fetchall()[0][0]
                ):
                    continue
                cur.execute(
                    "INSERT INTO eval_wording_translations (question_id, version, lang, wording, "
                    "translated_by) VALUES (?, 1, ?, ?, 'core')",
                    [qid, lang, text],
                )

    db.transaction(write)


def _clean_text(text: str | None, what: str, *, max_len: int = MAX_TEXT) -> str:
    t = " ".join(str(text or "").split())
    if not t:
        raise UserError(f"Please write {what}: it is empty.")
    if len(t) > max_len:
        raise UserError(
            f"{what[0].upper()}{what[1:]} is too long ({len(t)} characters); please keep it under {max_len}."
        )
    return t


def _current_version(cur, qid: str) -> tuple[int, str]:
    rows = cur.execute(
        "SELECT version, wording FROM eval_wordings WHERE question_id = ? AND state = 'accepted' "
        "ORDER BY version DESC LIMIT 1",
        [qid],
    ).fetchall()
    if not rows:
        raise UserError(f"There is no question {qid}.")
    return rows[0][0], rows[0][1]


def questions_frame(db: Database, kind: str | None = None) -> pd.DataFrame:
    """One row per question with its current (accepted) wording and any suggestion waiting."""
    ensure_core(db)
    where = "WHERE q.kind = ?" if kind else ""
    return db.query_df(
        f"""
        SELECT q.question_id, q.kind, q.stage, q.position, q.waves, q.purpose, q.status, q.round_id,
               q.created_at, q.check_state, q.check_reason,
               (SELECT w.wording FROM eval_wordings w WHERE w.question_id = q.question_id AND w.state = 'accepted'
                 ORDER BY w.version DESC LIMIT 1) AS wording,
               (SELECT max(w.version) FROM eval_wordings w WHERE w.question_id = q.question_id
                 AND w.state = 'accepted') AS version,
               (SELECT w.wording FROM eval_wordings w WHERE w.question_id = q.question_id AND w.state = 'suggested'
                 ORDER BY w.version DESC LIMIT 1) AS suggestion
        FROM eval_questions q {where}
        ORDER BY q.kind, q.position""",
        [kind] if kind else None,
    )


def wording_history(db: Database, question_id: str) -> pd.DataFrame:
    return db.query_df(
        "SELECT version, wording, author, state, created_at, decided_at FROM eval_wordings "
        "WHERE question_id = ? ORDER BY version",
        [question_id],
    )


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
        new = cur.execute("SELECT max(version) + 1 FROM eval_wordings WHERE question_id = ?", [question_id]).fetchall()[
            0
        ][0]
        cur.execute(
            "INSERT INTO eval_wordings (question_id, version, wording, author, state) "
            "VALUES (?, ?, ?, 'organiser', 'accepted')",
            [question_id, new, text],
        )
        _log(cur, actor, "core_reworded", question_id=question_id, detail=f"version {version} -> {new}")
        return new

    return db.transaction(write)


ALREADY_PROPOSED = (
    "The same question has already been proposed ({qid}), so it was not added again. Members can endorse it "
    "in an endorsement round once the organisers have checked it."
)


def _comparable(text: str) -> str:
    """A question's wording as compared for sameness: case, spaces and the closing full stop or question mark
    do not count."""
    return " ".join(str(text).casefold().split()).rstrip(" .?!")


def _same_question(cur, text: str) -> str | None:
    """The members' question (M3 …) that already asks ``text`` in any of its wordings, unless the organisers did
    not accept it or a round did not adopt it (then it may be proposed again); None if there is none."""
    rows = cur.execute(
        "SELECT q.question_id, w.wording FROM eval_questions q JOIN eval_wordings w ON w.question_id = q.question_id "
        "WHERE q.kind = 'member' AND coalesce(q.check_state, '') <> 'declined' "
        "AND coalesce(q.status, '') <> 'not_adopted' ORDER BY q.position"
    ).fetchall()
    wanted = _comparable(text)
    return next((qid for qid, wording in rows if _comparable(wording) == wanted), None)


def propose_question(db: Database, session: MemberSession, wording: str, purpose: str) -> str:
    """A member proposes a question and says what they want to learn. Returns its id (M1, M2 …)."""
    token = _session_token(session)
    text = _clean_text(wording, "your question")
    why = _clean_text(purpose, "what you want to learn from it")
    mark = member_mark(db, "proposer", "", token)

    def write(cur):
        _check_active(cur, token)
        same = _same_question(cur, text)
        if same:
            raise UserError(ALREADY_PROPOSED.format(qid=same))
        n = cur.execute("SELECT nextval('eval_member_q_seq')").fetchall()[0][0]
        qid = f"M{n}"
        cur.execute(
            "INSERT INTO eval_questions (question_id, kind, position, purpose, proposer_hash, status, "
            "check_state) VALUES (?, 'member', ?, ?, ?, 'ready', 'waiting')",
            [qid, 1000 + n, why, mark],
        )
        cur.execute(
            "INSERT INTO eval_wordings (question_id, version, wording, author, state) "
            "VALUES (?, 1, ?, 'proposer', 'accepted')",
            [qid, text],
        )
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
        if (
            cur.execute("SELECT check_state FROM eval_questions WHERE question_id = ?", [question_id]).fetchall()[0][0]
            == "declined"
        ):
            raise UserError(f"{question_id} was not accepted by the organisers, so it does not need new wording.")
        if status == "awaiting_proposer":
            raise UserError(f"{question_id} already has a suggestion waiting for the member who proposed it.")
        if status == "in_round":
            raise UserError(f"{question_id} is being endorsed right now; suggest new wording after the round closes.")
        if status == "adopted":
            raise UserError(
                f"{question_id} has been adopted; its wording can change only if a member objects and it is reopened."
            )
        _v, current = _current_version(cur, question_id)
        if current == text:
            raise UserError("That is the wording it already has.")
        new = cur.execute("SELECT max(version) + 1 FROM eval_wordings WHERE question_id = ?", [question_id]).fetchall()[
            0
        ][0]
        cur.execute(
            "INSERT INTO eval_wordings (question_id, version, wording, author, state) VALUES (?, ?, ?, ?, 'suggested')",
            [question_id, new, text, actor],
        )
        cur.execute("UPDATE eval_questions SET status = 'awaiting_proposer' WHERE question_id = ?", [question_id])
        _log(cur, actor, "wording_suggested", question_id=question_id, detail=text)
        return new

    return db.transaction(write)


def my_questions(db: Database, session: MemberSession) -> pd.DataFrame:
    """The questions this member proposed (with any suggestion waiting for them)."""
    token = _session_token(session)
    df = questions_frame(db, "member")
    ids = {
        r[0]
        for r in db.query(
            "SELECT question_id FROM eval_questions WHERE proposer_hash = ?", [member_mark(db, "proposer", "", token)]
        )
    }
    return df[df["question_id"].isin(ids)].reset_index(drop=True)


def answer_suggestion(db: Database, session: MemberSession, question_id: str, accept: bool) -> None:
    """The proposer accepts or declines the suggested wording. Both versions are kept."""
    token = _session_token(session)
    mark = member_mark(db, "proposer", "", token)

    def write(cur):
        rows = cur.execute(
            "SELECT proposer_hash, status FROM eval_questions WHERE question_id = ?", [question_id]
        ).fetchall()
        if not rows:
            raise UserError(f"There is no question {question_id}.")
        if rows[0][0] != mark:
            raise UserError("Only the member who proposed this question can accept or decline new wording.")
        if rows[0][1] != "awaiting_proposer":
            raise UserError("There is no suggestion waiting for this question.")
        cur.execute(
            "UPDATE eval_wordings SET state = ?, decided_at = now() WHERE question_id = ? AND state = 'suggested'",
            ["accepted" if accept else "declined", question_id],
        )
        cur.execute("UPDATE eval_questions SET status = 'ready' WHERE question_id = ?", [question_id])
        _log(cur, "member", "wording_accepted" if accept else "wording_declined", question_id=question_id)

    db.transaction(write)


def check_question(
    db: Database, question_id: str, accept: bool, reason: str | None = None, actor: str = "organiser"
) -> None:
    """The organisers' check of a member's question before it can be endorsed: accepted, or not
    accepted with a reason the members see. A question not accepted can still be accepted later
    (a mistake put right); an accepted one stays accepted."""
    why = _clean_text(reason, "why the question is not accepted") if not accept else None

    def write(cur):
        rows = cur.execute(
            "SELECT kind, check_state FROM eval_questions WHERE question_id = ?", [question_id]
        ).fetchall()
        if not rows or rows[0][0] != "member":
            raise UserError(f"{question_id} is not a members' question.")
        state = rows[0][1]
        if state == "accepted":
            raise UserError(f"{question_id} has already been accepted.")
        if state == "declined" and not accept:
            raise UserError(f"{question_id} has already been marked as not accepted.")
        cur.execute(
            "UPDATE eval_questions SET check_state = ?, check_reason = ?, checked_by = ? WHERE question_id = ?",
            ["accepted" if accept else "declined", why, actor, question_id],
        )
        _log(
            cur, actor, "question_accepted" if accept else "question_not_accepted", question_id=question_id, detail=why
        )

    db.transaction(write)


def questions_to_check(db: Database) -> pd.DataFrame:
    """Members' questions waiting for the organisers' check, oldest first."""
    df = questions_frame(db, "member")
    return df[df["check_state"] == "waiting"].reset_index(drop=True)
