"""Paper answers: an organiser records how many paper cards were handed out for a survey; typed-in paper
forms are capped at that number and each keeps who typed it in.
"""

from __future__ import annotations

from typing import Mapping

from lib.errors import UserError
from lib.evaluation.access_codes import member_sign_in
from lib.evaluation.answers import (
    _add_waiting,
    _checkpoint,
    _state,
    _stored_marks,
    _validate_answers,
    _Waiting,
    _waiting_marks,
    answer_counts,
    member_mark,
)
from lib.evaluation.event_log import _log
from lib.evaluation.vocabulary import PAPER_CARDS_MAX
from lib.store.db import Database
from lib.plaintext import count


def paper_status(db: Database, wave_id: int) -> dict:
    """Paper cards handed out for a survey, paper forms typed in (saved and waiting), how many more
    can be typed in, and who typed them in ({who: count}, saved ones only)."""
    state = _state(db)
    with state.lock:
        cards = int(db.scalar("SELECT coalesce(paper_cards, 0) FROM eval_waves WHERE wave_id = ?", [wave_id]) or 0)
        saved = answer_counts(db, wave_id)["paper"]
        waiting = [e for e in state.waiting.get(("wave", wave_id), []) if e.channel == "paper"]
    by = dict(
        db.query(
            "SELECT coalesce(typed_by, '(not recorded)'), count(DISTINCT response_id) FROM eval_responses "
            "WHERE wave_id = ? AND channel = 'paper' GROUP BY ALL ORDER BY 1",
            [wave_id],
        )
    )
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
        rows = cur.execute(
            "SELECT status, coalesce(paper_cards, 0) FROM eval_waves WHERE wave_id = ?", [wave_id]
        ).fetchall()
        if not rows:
            raise UserError("That survey does not exist.")
        if rows[0][0] != "open":
            raise UserError("This survey has closed; the number of paper cards can no longer change.")
        typed = paper_status(db, wave_id)["typed"]
        if n < typed:
            raise UserError(
                f"{count(typed, 'paper form')} {'has' if typed == 1 else 'have'} already been typed in for this survey, so the number of "
                f"cards handed out cannot be less than {typed}. Nothing was changed."
            )
        if n == rows[0][1]:
            raise UserError(f"The survey already records {count(n, 'paper card')}; nothing was changed.")
        cur.execute("UPDATE eval_waves SET paper_cards = ? WHERE wave_id = ?", [n, wave_id])
        _log(
            cur, actor, "paper_cards", wave_id=wave_id, detail=f"{count(n, 'paper card')} handed out (was {rows[0][1]})"
        )
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
        raise UserError(
            "Please say who is typing in the forms (your name): each paper form is recorded with who typed it in."
        )
    state = _state(db)
    scope = ("wave", wave_id)
    with state.lock:
        with db.cursor() as cur:
            clean = _validate_answers(cur, wave_id, answers)
        paper = paper_status(db, wave_id)
        if paper["cards"] == 0:
            raise UserError(
                "No paper cards are recorded as handed out for this survey, so paper forms cannot be "
                "typed in yet. Nothing was saved. An organiser records the number of cards handed out "
                "on the Evaluation page (Surveys)."
            )
        if paper["typed"] >= paper["cards"]:
            raise UserError(
                (
                    f"All {count(paper['cards'], 'paper card')} handed out for this survey have been typed in "
                    if paper["cards"] != 1
                    else "The 1 paper card handed out for this survey has been typed in "
                )
                + f"already ({paper['typed']} of {paper['cards']}), so this form was not saved. If more "
                "cards were handed out, an organiser can change the number on the Evaluation page."
            )
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
            raise UserError(
                "This card has already been used for this survey (online or on paper). If the member "
                "also filled in a paper form, please set that form aside: each member answers once."
            )
        cur.execute("UPDATE eval_answered SET hashes = ? WHERE wave_id = ?", [sorted([*marks, mark]), wave_id])

    with state.lock:
        db.transaction(write)
    _checkpoint(db)
