"""The language of this browser session, and the picker (not a page itself).

Where the choice is remembered:
* in the session (``st.session_state["lang"]``), for every page of this visit;
* in the address, ``?lang=es``, put back on every run, so a reload, a bookmark or a shared link keeps it
  (Streamlit drops query parameters when moving between pages);
* for a signed-in member, with their member token (lib.evaluation.set_member_language), so their phone
  and a library computer open in their language. Only the language is kept; answers never carry it.

Pages call ``_("English text")`` and ``ngettext(singular, plural, n)``; the words come from
lib/locale (lib/i18n.py).
"""

from __future__ import annotations

import streamlit as st

from lib.access.auth import STAFF_ROLES
from lib import i18n

KEY = "lang"
_FROM = "_lang_from"  # where this session's language came from: default, link, member or chosen


def _member_session():
    from lib.evaluation import MemberSession

    session = st.session_state.get("member_session")
    return session if isinstance(session, MemberSession) else None


def current_language() -> str:
    """The language chosen in this session, else the one in the address, else a member's stored
    preference, else English. A member who signs in after the page fell back to English gets their own.
    Organisers and volunteers read English (their pages are not translated, and they have no picker)."""
    if st.session_state.get("role") in STAFF_ROLES:
        return i18n.DEFAULT
    lang = st.session_state.get(KEY)
    member = _member_session()
    from_link = st.query_params.get(KEY)
    if from_link and st.session_state.get(_FROM) == "default" and i18n.normalise(from_link) != lang:
        lang = None  # a link (?lang=es) opened in a session that had only the default
    if lang in i18n.LANGUAGES and not (member is not None and st.session_state.get(_FROM) == "default"):
        if member is not None and st.session_state.get("_lang_saved") != (member.token, lang):
            _remember(member, lang)  # chosen (or from the card's link) before signing in: kept for them too
        return lang
    if lang not in i18n.LANGUAGES and from_link:
        lang, source = i18n.normalise(from_link), "link"
    else:
        lang, source = lang if lang in i18n.LANGUAGES else i18n.DEFAULT, "default"
        if member is not None:
            from lib.evaluation import member_language
            from pages.common import db

            lang, source = member_language(db(), member) or lang, "member"
            st.session_state["_lang_saved"] = (member.token, lang)
    st.session_state[KEY] = lang
    st.session_state[_FROM] = source
    return lang


def _(message: str) -> str:
    return i18n.gettext(current_language(), message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.ngettext(current_language(), singular, plural, n)


def translator() -> i18n.Translator:
    return i18n.Translator(current_language())


def _remember(member, lang: str) -> None:
    from lib.evaluation import set_member_language
    from pages.common import db

    set_member_language(db(), member, lang)
    st.session_state["_lang_saved"] = (member.token, lang)


def _chosen() -> None:
    lang = i18n.normalise(st.session_state.get("_lang_picker"))
    st.session_state[KEY] = lang
    st.session_state[_FROM] = "chosen"
    member = _member_session()
    if member is not None:
        _remember(member, lang)


def keep_in_address(lang: str | None = None) -> None:
    """Put ``?lang=`` back in the address (a move between pages drops it); English needs none."""
    lang = lang or current_language()
    if lang != i18n.DEFAULT:
        if st.query_params.get(KEY) != lang:
            st.query_params[KEY] = lang
    elif KEY in st.query_params:
        del st.query_params[KEY]


def picker() -> str:
    """The language picker ("Language / Idioma": English or Español), at the top of every member and visitor
    page. Returns the language in use."""
    lang = current_language()
    keep_in_address(lang)
    st.session_state["_lang_picker"] = lang
    # a drop-down, not radios or a segmented control (both are radio groups): the page's radio groups stay the
    # survey's questions, for people using a screen reader and for the tests and benchmarks that count them
    st.selectbox(
        i18n.picker_label(),
        list(i18n.LANGUAGES),
        format_func=i18n.language_label,
        key="_lang_picker",
        on_change=_chosen,
        width=220,
    )
    return lang


def mark_page_language(lang: str | None = None) -> None:
    """Tell the browser the page's language (``<html lang="es">``), so a screen reader reads Spanish with Spanish
    sounds (WCAG 3.1.1). Streamlit writes ``lang="en"`` whatever the words; drawn on every run, for every role
    (an organiser who signed in after browsing in Spanish reads English again). The script is ours, with a
    language code from lib.i18n.LANGUAGES only, never text from a link."""
    lang = i18n.normalise(lang or current_language())
    st.html(f"<script>document.documentElement.lang = '{lang}';</script>", unsafe_allow_javascript=True)


# The menu's words (app.py's PAGES and sections), for members and visitors.
_MENU = [
    i18n.N_("Overview"),
    i18n.N_("For members"),
    i18n.N_("Our questions"),
    i18n.N_("Survey"),
    i18n.N_("Results"),
    i18n.N_("Open to all"),
    i18n.N_("Transparency"),
    i18n.N_("Account"),
    i18n.N_("Sign in"),
    i18n.N_("Sign out"),
    i18n.N_("The draw, live (projector)"),
    i18n.N_("Signed in as **Assembly member**"),
]


def menu_title(title: str) -> str:
    return _(title) if title else title


# Column headings of the public tables built in lib (lib.reporting.transparency, lib.reporting.representativeness): shown
# in the reader's language. The cells are numbers, codes and shares; a few words in them stay English.
_TABLE_WORDS = [
    i18n.N_("Step"),
    i18n.N_("When (UTC)"),
    i18n.N_("What happened"),
    i18n.N_("For"),
    i18n.N_("Commitment"),
    i18n.N_("Public number"),
    i18n.N_("Reason given"),
    i18n.N_("Method"),
    i18n.N_("Lowest chance"),
    i18n.N_("Middle (median)"),
    i18n.N_("Highest chance"),
    i18n.N_("People under half the equal chance"),
    i18n.N_("Group"),
    i18n.N_("Community"),
    i18n.N_("Community (target)"),
    i18n.N_("Signed up"),
    i18n.N_("Ready for the draw"),
    i18n.N_("Selected"),
    i18n.N_("Confirmed"),
    i18n.N_("Completed"),
    i18n.N_("fewer than 5"),
    i18n.N_("not shown"),
    # the survey results' table (lib.evaluation.results_table)
    i18n.N_("No."),
    i18n.N_("Question"),
    i18n.N_("Part of the process"),
    i18n.N_("Answers"),
    i18n.N_("Gave a view"),
    i18n.N_("Members' question"),
]
_CELL_WORDS = {
    "fewer than 5",
    "not shown",
    "Members' question",
    "Integrity of the process design",
    "The deliberative experience",
    "Pathways to impact",
    # the two ways of drawing in the chances table (lib.reporting.representativeness)
    i18n.N_("Fair lottery (this draw)"),
    i18n.N_("Old-style draw (for comparison)"),
}
_ATTENDING = i18n.N_("Attending {date}")  # lib.reporting.representativeness.stage_label, per session


def _heading(lang: str, c):
    if not isinstance(c, str) or not c:
        return c
    if c.startswith("Attending ") and " " not in c[len("Attending ") :]:
        return i18n.gettext(lang, _ATTENDING).format(date=c[len("Attending ") :])
    return i18n.gettext(lang, c)


def table_in_language(frame):
    """A public table with its headings (and the words "fewer than 5", "not shown") in the reader's
    language; a heading with no translation stays as it is."""
    lang = current_language()
    if lang == i18n.DEFAULT or frame is None or getattr(frame, "empty", True):
        return frame
    out = frame.rename(columns=lambda c: _heading(lang, c))
    return out.map(lambda v: i18n.gettext(lang, v) if isinstance(v, str) and v in _CELL_WORDS else v)


# Refusals written in lib (lib.evaluation) that members can meet on their pages: pages.common.act
# shows them through lib.i18n.said, which finds them here with their {placeholders} filled in.
_MEMBER_REFUSALS = [
    i18n.N_("Please write {what}: it is empty."),
    i18n.N_("{What} is too long ({n} characters); please keep it under {most}."),
    i18n.N_("your question"),
    i18n.N_("what you want to learn from it"),
    i18n.N_("your reason for objecting"),
    i18n.N_("Your question"),
    i18n.N_("What you want to learn from it"),
    i18n.N_("Your reason for objecting"),
    i18n.N_("No question was answered. Choose an answer (or “Prefer not to say”) for at least one."),
    i18n.N_("You have already answered this survey. Each member answers once; thank you!"),
    i18n.N_("This survey has closed, so answers are no longer taken."),
    i18n.N_("That survey does not exist."),
    i18n.N_("Tick at least one question to endorse it."),
    i18n.N_("You have already endorsed in this round; each member endorses once per round."),
    i18n.N_("This round has closed, so endorsements are no longer taken."),
    i18n.N_("That endorsement round does not exist."),
    i18n.N_("Please sign in with the access code on your card first."),
    i18n.N_("Your access code no longer works (it was replaced or stopped). Ask the organisers for a new card."),
    i18n.N_("Only the member who proposed this question can accept or decline new wording."),
    i18n.N_("There is no suggestion waiting for this question."),
    i18n.N_(
        "The same question has already been proposed ({qid}), so it was not added again. Members can endorse it "
        "in an endorsement round once the organisers have checked it."
    ),
]


# The names a survey gets when the organisers leave its name empty (lib.evaluation.WAVE_KINDS): the app's
# words, so shown in the reader's language; a name an organiser typed is theirs and stays as written.
_SURVEY_NAMES = {
    i18n.N_("Baseline (at the start)"),
    i18n.N_("After a session (short)"),
    i18n.N_("End of the process"),
    i18n.N_("Follow-up after 3 months"),
    i18n.N_("Follow-up after 12 months"),
}


def survey_name(label: str) -> str:
    return _(label) if label in _SURVEY_NAMES else label
