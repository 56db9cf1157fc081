"""Helpers shared by the evaluation pages (not a page itself)."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from lib import evaluation as ev

ANSWER_CHOICES = [5, 4, 3, 2, 1, 0]   # agree first reads naturally; "prefer not to say" last


def member_session() -> ev.MemberSession | None:
    """The signed-in member's session, or None (with a plain message shown)."""
    session = st.session_state.get("member_session")
    if isinstance(session, ev.MemberSession):
        return session
    st.info("Please sign in with the access code on your card (menu: “Sign out”, then “Sign in” → "
            "“Assembly member”). Ask a volunteer if you have lost your card.")
    return None


def when(dt: datetime | None) -> str:
    if dt is None:
        return ""
    return dt.astimezone().strftime("%d %b %Y at %H:%M")


def answer_radios(questions, key_prefix: str) -> dict[str, int | None]:
    """One agree/disagree question per row; nothing chosen to start with."""
    out = {}
    for q in questions.itertuples():
        out[q.question_id] = st.radio(
            f"**{q.position}.** {q.wording}", ANSWER_CHOICES, index=None, horizontal=True,
            format_func=lambda a: ev.ANSWERS[a], key=f"{key_prefix}_{q.question_id}")
    return out


def status_words(status: str) -> str:
    return {"ready": "Waiting for the next endorsement round",
            "awaiting_proposer": "New wording suggested: waiting for the member who proposed it",
            "in_round": "Being endorsed now", "adopted": "Adopted: part of the surveys",
            "not_adopted": "Not adopted"}.get(status, status)
