"""The evaluation log (``eval_log``): what was done and by whom, never who endorsed or answered what."""

from __future__ import annotations

import pandas as pd

from lib.access.auth import actor_in_words
from lib.store.db import Database

# what each recorded event means, in the words of the organisers' Log tab
EVENT_WORDS = {
    "codes_issued": "Access cards made",
    "codes_revoked": "Access cards stopped",
    "core_reworded": "Standard question reworded",
    "proposed": "Question proposed by a member",
    "wording_suggested": "New wording suggested",
    "wording_accepted": "New wording accepted by the member",
    "wording_declined": "New wording declined by the member",
    "question_accepted": "Question accepted for endorsement",
    "question_not_accepted": "Question not accepted",
    "translated": "Question translated",
    "round_opened": "Endorsement round opened",
    "round_closed": "Endorsement round closed",
    "objection": "Objection to a decision",
    "paper_cards": "Paper answers typed in",
    "settings": "Evaluation settings changed",
    "wave_opened": "Survey opened",
    "wave_closed": "Survey closed",
    "wave_published": "Survey results shared",
    "you_said_we_did": "\u201cYou said, we did\u201d written",
}
LOG_COLUMNS = ["When", "By", "What happened", "About", "Details"]


def _log(
    cur,
    actor: str,
    event: str,
    *,
    question_id: str | None = None,
    round_id: int | None = None,
    wave_id: int | None = None,
    detail: str | None = None,
) -> None:
    cur.execute(
        "INSERT INTO eval_log (event_id, actor, event, question_id, round_id, wave_id, detail) "
        "VALUES (nextval('eval_log_seq'), ?, ?, ?, ?, ?, ?)",
        [actor, event, question_id, round_id, wave_id, detail],
    )


def log_frame(db: Database) -> pd.DataFrame:
    return db.query_df(
        "SELECT logged_at, actor, event, question_id, round_id, wave_id, detail FROM eval_log ORDER BY event_id"
    )


def _about(question_id, round_id, wave_id) -> str:
    parts = []
    if isinstance(question_id, str) and question_id:
        parts.append(f"question {question_id}")
    if round_id is not None and not pd.isna(round_id):
        parts.append(f"endorsement round {int(round_id)}")
    if wave_id is not None and not pd.isna(wave_id):
        parts.append(f"survey {int(wave_id)}")
    return ", ".join(parts)


def log_table(db: Database) -> pd.DataFrame:
    """The log for people to read: when, who (a name or a role, never the record's "role:name" form), what
    happened in words (never the internal event key), what it was about, and the details; the same order
    as ``log_frame``."""
    raw = log_frame(db)
    rows = [
        {
            "When": pd.Timestamp(r.logged_at).strftime("%d %b %Y %H:%M") if not pd.isna(r.logged_at) else "",
            "By": actor_in_words(r.actor),
            "What happened": EVENT_WORDS.get(r.event, str(r.event).replace("_", " ").capitalize()),
            "About": _about(r.question_id, r.round_id, r.wave_id),
            "Details": "" if r.detail is None or pd.isna(r.detail) else str(r.detail),
        }
        for r in raw.itertuples(index=False)
    ]
    return pd.DataFrame(rows, columns=LOG_COLUMNS)
