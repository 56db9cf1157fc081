"""Helpers shared by the evaluation pages (not a page itself).

Everything members (and volunteers) typed — questions, what they want to learn, wording
suggestions, reasons, "you said, we did" — is shown with ``lib.plaintext.md`` inside Markdown, so
a link or an image in it shows as plain text.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from lib.evaluation import survey as ev
from lib.plaintext import md

ANSWER_CHOICES = [5, 4, 3, 2, 1, 0]   # agree first reads naturally; "prefer not to say" last

WAITING_NOTE = (f"To keep answers anonymous, they are not written down the moment they are sent: they wait in "
                f"the server's memory and are written together with other members' answers, at least "
                f"{ev.BATCH} at a time and in a shuffled order (or when the survey closes). If the server "
                "stops unexpectedly before then, answers still waiting are lost; this page will then ask you "
                "to answer again.")


def member_session() -> ev.MemberSession | None:
    """The signed-in member's session, or None (with a plain message shown)."""
    session = st.session_state.get("member_session")
    if isinstance(session, ev.MemberSession):
        return session
    st.info("Please sign in with the access code on your card (menu: “Sign out”, then “Sign in” → "
            "“Assembly member”). Ask a volunteer if you have lost your card.")
    return None


def actor(default: str = "organiser") -> str:
    """Who is doing this, for the record: pages.common.current_actor() ("volunteer:Sam Lee" with a
    personal account, the role alone with a shared password)."""
    from pages.common import current_actor

    return current_actor() or default


def has_personal_name(who: str) -> bool:
    """Whether the record names a person (an account), not only a role."""
    return ":" in who or "@" in who


def when(dt: datetime | None) -> str:
    if dt is None:
        return ""
    return dt.astimezone().strftime("%d %b %Y at %H:%M")


def answer_radios(questions, key_prefix: str) -> dict[str, int | None]:
    """One agree/disagree question per row; nothing chosen to start with."""
    out = {}
    for q in questions.itertuples():
        out[q.question_id] = st.radio(
            f"**{q.position}.** {md(q.wording)}", ANSWER_CHOICES, index=None, horizontal=True,
            format_func=lambda a: ev.ANSWERS[a], key=f"{key_prefix}_{q.question_id}")
    return out


def status_words(status: str, check_state: str | None = None, reason: str | None = None) -> str:
    """Where a members' question is, in plain words (the reason is the organisers' text: escape it
    with md() before putting it in Markdown)."""
    if check_state == "waiting":
        return "Waiting for a check by the organisers"
    if check_state == "declined":
        return f"Not accepted by the organisers: {reason}" if isinstance(reason, str) and reason else \
            "Not accepted by the organisers"
    words = {"ready": "Accepted: waiting for the next endorsement round",
             "awaiting_proposer": "New wording suggested: waiting for the member who proposed it",
             "in_round": "Being endorsed now", "adopted": "Adopted: part of the surveys",
             "not_adopted": "Not adopted"}
    return words.get(status, status)


def question_status(q) -> str:
    """status_words for a row of ev.questions_frame (escaped for Markdown)."""
    return md(status_words(q.status, getattr(q, "check_state", None), getattr(q, "check_reason", None)))
