"""The evaluation log (``eval_log``): what was done and by whom, never who endorsed or answered what."""

from __future__ import annotations

import pandas as pd

from lib.store.db import Database


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
