"""The survey, for assembly members: answer each open survey once. Answers are anonymous."""

from __future__ import annotations

import streamlit as st

from lib import evaluation as ev
from lib.plaintext import md
from lib.errors import UserError
from lib.i18n import N_
from pages.common import db, flash, run_page, show_errors, show_flashes
from pages.eval_common import answer_radios, member_session, waiting_note
from pages.language import _, current_language, ngettext, survey_name


def body() -> None:
    st.title(_("Survey"))
    show_flashes()
    session = member_session()
    if session is None:
        return
    st.markdown(
        _(
            "Your answers are **anonymous**: they are stored with no link to you, and nobody, not even the "
            "organisers, can see who said what. Results are shown only for questions at least 5 people "
            "answered; if fewer than 5 people answer a survey, their answers are not kept at all. You can "
            "answer each survey once."
        )
    )
    with st.expander(_("How your answers are kept anonymous")):
        st.markdown(
            waiting_note()
            + " "
            + _(
                "The database keeps only a scrambled mark saying that you have "
                "answered (made with a key that is not stored in the database), "
                "never which answers are yours."
            )
        )
    open_waves = [w for w in ev.waves(db()) if w.status == "open"]
    if not open_waves:
        st.info(_("There is no survey to answer right now. You will be told when the next one opens."))
        return
    for wave in open_waves:
        survey_fragment(session, wave)


@st.fragment
def survey_fragment(session: ev.MemberSession, wave: ev.Wave) -> None:
    """One survey on its own: sending it reruns only this part of the page, not the whole app (faster on a
    busy server). A fragment reruns without app.py's router, hence show_errors rather than run_page."""
    show_errors(lambda: one_survey(session, wave))


def one_survey(session: ev.MemberSession, wave: ev.Wave) -> None:
    show_flashes()
    st.subheader(md(survey_name(wave.label)))
    state = ev.answer_state(db(), session, wave.wave_id)
    if state == "saved":
        st.success(_("You have answered this survey. Thank you!"))
        return
    if state == "waiting":
        st.success(
            _(
                "You have answered this survey. Thank you! Your answers are waiting in the server's "
                "memory to be written together with other members' answers (at least {batch} at a "
                "time). If the server stops before then, they are lost and this page will ask you to "
                "answer again."
            ).format(batch=ev.BATCH)
        )
        return
    questions = ev.wave_questions_in(db(), wave.wave_id, current_language())
    st.caption(
        ngettext(
            "{n} question. Choose how much you agree, or “Prefer not to say”.",
            "{n} questions. For each, choose how much you agree, or “Prefer not to say”.",
            len(questions),
        ).format(n=len(questions))
    )
    confirm = f"survey_confirm_{wave.wave_id}"  # asking "send anyway?" (the answers stay in the form)
    ids = questions["question_id"].tolist()
    # The buttons act in their callbacks, before this fragment's run: that one run then draws the question,
    # the thank-you or the refusal. (Acting after the form, then asking Streamlit to run again, took two.)
    args = (session, wave, f"w{wave.wave_id}", ids)
    with st.form(f"survey_{wave.wave_id}"):
        answers = answer_radios(questions, f"w{wave.wave_id}")
        missing = [q for q, a in answers.items() if a is None]
        if st.session_state.get(confirm) and missing:  # inside the form, so an answer chosen now is sent too
            numbers = ", ".join(
                str(int(q.position)) for q in questions.itertuples() if answers.get(q.question_id) is None
            )
            st.warning(
                _("You have not answered {n} of {total} questions. Send anyway?").format(
                    n=len(missing), total=len(answers)
                )
                + " "
                + _("Not answered: {numbers}. You can answer each survey only once.").format(numbers=numbers)
            )
            c1, c2 = st.columns(2)
            with c1:
                st.form_submit_button(_("Send anyway"), type="primary", width="stretch", on_click=send, args=args)
            with c2:
                st.form_submit_button(
                    _("Go back"), width="stretch", on_click=st.session_state.pop, args=(confirm, None)
                )
        else:
            st.form_submit_button(
                _("Send my answers"), type="primary", width="stretch", on_click=send, args=(*args, True)
            )


SURVEY_CHANGED = N_(
    "This survey changed since you opened this page (the organisers restored a backup or opened another "
    "survey), so your answers were not sent and nothing was kept. Please answer the survey shown below."
)


def send(session: ev.MemberSession, wave: ev.Wave, prefix: str, ids: list, ask: bool = False) -> None:
    """A send button's callback: with some questions unanswered (and ``ask``), ask first; otherwise send the
    member's answers. The run that follows shows the thank-you, the question or the reason in plain words."""
    confirm = f"survey_confirm_{wave.wave_id}"
    answers = {q: st.session_state.get(f"{prefix}_{q}") for q in ids}
    missing = [q for q, a in answers.items() if a is None]
    try:
        if ask and missing and len(missing) < len(answers):
            ev.check_survey(db(), wave.wave_id, wave.opened_at)  # before asking "send anyway?" about it
            st.session_state[confirm] = True
            return
        st.session_state.pop(confirm, None)
        ev.submit_answers(db(), session, wave.wave_id, answers, opened_at=wave.opened_at)
    except ev.SurveyChanged:
        st.session_state.pop(confirm, None)
        for q in ids:  # those answers were for another survey: the one shown now starts empty
            st.session_state.pop(f"{prefix}_{q}", None)
        flash("error", _(SURVEY_CHANGED))
        return
    except UserError as e:  # said above the survey by the run that follows; what was chosen stays in the form
        flash("error", md(e))
        return
    note = (
        " "
        + ngettext(
            "You left {n} question blank; that is fine.", "You left {n} questions blank; that is fine.", len(missing)
        ).format(n=len(missing))
        if missing
        else ""
    )
    flash(
        "success",
        _("Thank you: your answers to “{survey}” are received.").format(survey=md(survey_name(wave.label))) + note,
    )


run_page(body)
