"""Languages (migration 012): question wordings per language, and a member's chosen language."""

from __future__ import annotations

import pandas as pd

from lib.errors import UserError
from lib.evaluation.access_codes import MemberSession, _session_token
from lib.evaluation.event_log import _log
from lib.evaluation.questions import _clean_text, _current_version
from lib.evaluation.results import results_frame
from lib.evaluation.surveys import wave_questions
from lib.evaluation.vocabulary import _sha
from lib.store.db import Database

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
        cur.execute(
            "DELETE FROM eval_wording_translations WHERE question_id = ? AND version = ? AND lang = ?",
            [question_id, version, lang],
        )
        cur.execute(
            "INSERT INTO eval_wording_translations (question_id, version, lang, wording, translated_by) "
            "VALUES (?, ?, ?, ?, ?)",
            [question_id, version, lang, text, actor],
        )
        _log(cur, actor, "translated", question_id=question_id, detail=f"{lang}, version {version}: {text}")
        return version

    return db.transaction(write)


def translation_of(db: Database, question_id: str, lang: str) -> str | None:
    """The translation of a question's current accepted wording, if there is one."""
    rows = db.query(
        "SELECT t.wording FROM eval_wording_translations t WHERE t.question_id = ? AND t.lang = ? "
        "AND t.version = (SELECT max(w.version) FROM eval_wordings w WHERE w.question_id = t.question_id "
        "AND w.state = 'accepted')",
        [question_id, lang],
    )
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
    found = {
        (q, int(v)): w
        for q, v, w in db.query(
            "SELECT question_id, version, wording FROM eval_wording_translations WHERE lang = ?", [lang]
        )
    }
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
