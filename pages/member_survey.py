"""The survey, for assembly members: answer each open survey once. Answers are anonymous."""

from __future__ import annotations

import streamlit as st

from lib.evaluation import survey as ev
from lib.errors import UserError
from lib.plaintext import md
from pages.common import db, flash, run_page, show_flashes
from pages.eval_common import answer_radios, member_session, waiting_note
from pages.language import _, current_language, ngettext


def body() -> None:
    st.title(_("Survey"))
    show_flashes()
    session = member_session()
    if session is None:
        return
    st.markdown(_("Your answers are **anonymous**: they are stored with no link to you, and nobody, not even the "
                  "organisers, can see who said what. Results are shown only for questions at least 5 people "
                  "answered; if fewer than 5 people answer a survey, their answers are not kept at all. You can "
                  "answer each survey once."))
    with st.expander(_("How your answers are kept anonymous")):
        st.markdown(waiting_note() + " " + _("The database keeps only a scrambled mark saying that you have "
                                             "answered (made with a key that is not stored in the database), "
                                             "never which answers are yours."))
    open_waves = [w for w in ev.waves(db()) if w.status == "open"]
    if not open_waves:
        st.info(_("There is no survey to answer right now. You will be told when the next one opens."))
        return
    for wave in open_waves:
        st.subheader(md(wave.label))
        state = ev.answer_state(db(), session, wave.wave_id)
        if state == "saved":
            st.success(_("You have answered this survey. Thank you!"))
            continue
        if state == "waiting":
            st.success(_("You have answered this survey. Thank you! Your answers are waiting in the server's "
                         "memory to be written together with other members' answers (at least {batch} at a "
                         "time). If the server stops before then, they are lost and this page will ask you to "
                         "answer again.").format(batch=ev.BATCH))
            continue
        questions = ev.wave_questions_in(db(), wave.wave_id, current_language())
        st.caption(ngettext("{n} question. Choose how much you agree, or “Prefer not to say”.",
                            "{n} questions. For each, choose how much you agree, or “Prefer not to say”.",
                            len(questions)).format(n=len(questions)))
        with st.form(f"survey_{wave.wave_id}"):
            answers = answer_radios(questions, f"w{wave.wave_id}")
            sent = st.form_submit_button(_("Send my answers"), type="primary", width="stretch")
        if sent:
            missing = [q for q, a in answers.items() if a is None]
            try:
                ev.submit_answers(db(), session, wave.wave_id, answers)
            except UserError as e:
                st.error(str(e))
                continue
            note = (" " + ngettext("You left {n} question blank; that is fine.",
                                   "You left {n} questions blank; that is fine.", len(missing)).format(n=len(missing))
                    if missing else "")
            flash("success", _("Thank you: your answers to “{survey}” are received.").format(survey=md(wave.label))
                  + note)
            st.rerun()


run_page(body)
