"""Results: only for closed surveys, only for questions with at least 5 *real* answers (on the
agree/disagree scale), for everybody, organisers included; tables, charts' frames, the export, and
"you said, we did".
"""

from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

from lib.evaluation.event_log import _log
from lib.evaluation.questions import _clean_text
from lib.evaluation.surveys import get_wave, wave_questions
from lib.evaluation.vocabulary import ANSWERS, SCALE, STAGES
from lib.privacy import SMALL_GROUP
from lib.store.db import Database

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
    row: dict[str, int | bool | None] = {
        "answers": sum(int(n or 0) for a, n in per.items() if a in ANSWERS),
        "views": views,
        "suppressed": suppressed,
    }
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
    counts = db.query_df(
        "SELECT question_id, answer, count(*) AS n FROM eval_responses WHERE wave_id = ? GROUP BY ALL", [wave_id]
    )
    rows = []
    for _, q in qs.iterrows():
        c = counts[counts["question_id"] == q["question_id"]]
        per = {int(a): int(n) for a, n in zip(c["answer"], c["n"])}
        rows.append(
            {
                "question_id": q["question_id"],
                "position": q["position"],
                "wording": q["wording"],
                "kind": q["kind"],
                "stage": q["stage"],
                **question_result(per),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "question_id",
            "position",
            "wording",
            "kind",
            "stage",
            "answers",
            "views",
            "suppressed",
            *ANSWERS.values(),
        ],
    )


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
        if total < SMALL_GROUP:  # never a breakdown of fewer than 5 real answers, whoever built the frame
            continue
        pct = [100.0 * c / total for c in counts]
        start = -(pct[0] + pct[1] + pct[2] / 2)
        for a, p in zip(SCALE, pct):
            out.append(
                {
                    "question_id": r["question_id"],
                    "question": question_label(r["position"], r["wording"]),
                    "answer": ANSWERS[a],
                    "order": a,
                    "percent": round(p, 1),
                    "start": start,
                    "end": start + p,
                    "count": counts[a - 1],
                }
            )
            start += p
    return pd.DataFrame(out, columns=["question_id", "question", "answer", "order", "percent", "start", "end", "count"])


def results_table(results: pd.DataFrame) -> pd.DataFrame:
    """The shown questions of a results frame for people to read: numbered as in the survey, plain
    column names, no internal codes or flags. Suppressed questions are left out entirely."""
    shown = results[~results["suppressed"].astype(bool)]
    out = pd.DataFrame(
        {
            "No.": shown["position"].astype(int),
            "Question": shown["wording"],
            "Part of the process": [
                STAGES.get(s, "Members' question") if isinstance(s, str) else "Members' question"
                for s in shown["stage"]
            ],
            "Answers": shown["answers"].astype(int),
            "Gave a view": shown["views"].astype(int),
        }
    )
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
        r.insert(1, "number", r.pop("position").astype(int))  # as numbered in that survey
        few = f"fewer than {SMALL_GROUP}"
        r["answers"] = [few if s and a < SMALL_GROUP else a for a, s in zip(r["answers"], r["suppressed"])]
        r["views"] = [few if s else v for v, s in zip(r["views"], r["suppressed"])]
        frames.append(r.drop(columns=["kind", "suppressed"]))
    if not frames:
        return pd.DataFrame(
            columns=["survey", "number", "question_id", "wording", "stage", "answers", "views", *ANSWERS.values()]
        )
    return pd.concat(frames, ignore_index=True)


def add_you_said(
    db: Database,
    you_said: str,
    we_did: str,
    *,
    wave_id: int | None = None,
    question_id: str | None = None,
    actor: str = "organiser",
) -> int:
    said = _clean_text(you_said, "what members said", max_len=2000)
    did = _clean_text(we_did, "what was done about it", max_len=2000)

    def write(cur):
        eid = cur.execute("SELECT nextval('eval_said_seq')").fetchall()[0][0]
        cur.execute(
            "INSERT INTO eval_you_said (entry_id, wave_id, question_id, you_said, we_did, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [eid, wave_id, question_id, said, did, actor],
        )
        _log(cur, actor, "you_said_we_did", wave_id=wave_id, question_id=question_id, detail=did)
        return eid

    return db.transaction(write)


def you_said_frame(db: Database, wave_ids: Iterable[int] | None = None) -> pd.DataFrame:
    df = db.query_df(
        "SELECT s.entry_id, s.wave_id, w.label AS survey, s.question_id, s.you_said, s.we_did, "
        "s.created_at FROM eval_you_said s LEFT JOIN eval_waves w USING (wave_id) ORDER BY s.entry_id"
    )
    if wave_ids is not None:
        keep = set(wave_ids)
        df = df[df["wave_id"].isna() | df["wave_id"].isin(keep)].reset_index(drop=True)
    return df
