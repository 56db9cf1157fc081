"""Helpers shared by the evaluation pages (not a page itself).

Everything members (and volunteers) typed — questions, what they want to learn, wording
suggestions, reasons, "you said, we did" — is shown with ``lib.plaintext.md`` inside Markdown, so
a link or an image in it shows as plain text.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from lib import evaluation as ev
from lib.plaintext import md
from pages.language import _, translator

ANSWER_CHOICES = [5, 4, 3, 2, 1, 0]  # agree first reads naturally; "prefer not to say" last

WAITING_NOTE = (
    f"To keep answers anonymous, they are not written down the moment they are sent: they wait in "
    f"the server's memory and are written together with other members' answers, at least "
    f"{ev.BATCH} at a time and in a shuffled order (or when the survey closes). If the server "
    "stops unexpectedly before then, answers still waiting are lost; this page will then ask you "
    "to answer again."
)


def waiting_note() -> str:
    """WAITING_NOTE in the reader's language."""
    return _(
        "To keep answers anonymous, they are not written down the moment they are sent: they wait in the "
        "server's memory and are written together with other members' answers, at least {batch} at a time "
        "and in a shuffled order (or when the survey closes). If the server stops unexpectedly before then, "
        "answers still waiting are lost; this page will then ask you to answer again."
    ).format(batch=ev.BATCH)


def member_session() -> ev.MemberSession | None:
    """The signed-in member's session, or None (with a plain message shown)."""
    session = st.session_state.get("member_session")
    if isinstance(session, ev.MemberSession):
        return session
    st.info(
        _(
            "Please sign in with the access code on your card (menu: “Sign out”, then “Sign in” → "
            "“Assembly member”). Ask a volunteer if you have lost your card."
        )
    )
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
    from pages.language import current_language

    lang = current_language()
    if lang != "en":  # the month's name in the reader's language (Babel's CLDR data)
        from babel.dates import format_datetime

        return format_datetime(dt.astimezone(), "d MMM y, HH:mm", locale=lang)
    return dt.astimezone().strftime("%d %b %Y at %H:%M")


def answer_radios(questions, key_prefix: str) -> dict[str, int | None]:
    """One agree/disagree question per row; nothing chosen to start with. A question with no translation
    in the reader's language (``translated`` False, from ev.wave_questions_in) says so plainly."""
    out = {}
    tr = translator()  # bound now: the radio formats its choices later too
    for q in questions.itertuples():
        untranslated = getattr(q, "translated", True) is False
        out[q.question_id] = st.radio(
            f"**{q.position}.** {md(q.wording)}",
            ANSWER_CHOICES,
            index=None,
            horizontal=True,
            format_func=lambda a: tr(ev.ANSWERS[a]),
            key=f"{key_prefix}_{q.question_id}",
            help=_("This question has not been translated yet, so it is shown as it was written.")
            if untranslated
            else None,
        )
        if untranslated:
            st.caption(_("Not translated yet: shown as it was written."))
    return out


def status_words(status: str, check_state: str | None = None, reason: str | None = None) -> str:
    """Where a members' question is, in plain words (the reason is the organisers' text: escape it
    with md() before putting it in Markdown)."""
    if check_state == "waiting":
        return _("Waiting for a check by the organisers")
    if check_state == "declined":
        return (
            _("Not accepted by the organisers: {reason}").format(reason=reason)
            if isinstance(reason, str) and reason
            else _("Not accepted by the organisers")
        )
    words = {
        "ready": _("Accepted: waiting for the next endorsement round"),
        "awaiting_proposer": _("New wording suggested: waiting for the member who proposed it"),
        "in_round": _("Being endorsed now"),
        "adopted": _("Adopted: part of the surveys"),
        "not_adopted": _("Not adopted"),
    }
    return words.get(status, status)


def question_status(q) -> str:
    """status_words for a row of ev.questions_frame (escaped for Markdown)."""
    return md(status_words(q.status, getattr(q, "check_state", None), getattr(q, "check_reason", None)))
