"""The survey, for assembly members: answer each open survey once. Answers are anonymous."""

from __future__ import annotations

import streamlit as st

from lib.evaluation import survey as ev
from lib.errors import UserError
from lib.plaintext import md
from pages.common import db, flash, run_page, show_flashes
from pages.eval_common import WAITING_NOTE, answer_radios, member_session


def body() -> None:
    st.title("Survey")
    show_flashes()
    session = member_session()
    if session is None:
        return
    st.markdown("Your answers are **anonymous**: they are stored with no link to you, and nobody, not even the "
                "organisers, can see who said what. Results are shown only for questions at least 5 people "
                "answered; if fewer than 5 people answer a survey, their answers are not kept at all. You can "
                "answer each survey once.")
    with st.expander("How your answers are kept anonymous"):
        st.markdown(WAITING_NOTE + " The database keeps only a scrambled mark saying that you have answered "
                    "(made with a key that is not stored in the database), never which answers are yours.")
    open_waves = [w for w in ev.waves(db()) if w.status == "open"]
    if not open_waves:
        st.info("There is no survey to answer right now. You will be told when the next one opens.")
        return
    for wave in open_waves:
        st.subheader(md(wave.label))
        state = ev.answer_state(db(), session, wave.wave_id)
        if state == "saved":
            st.success("You have answered this survey. Thank you!")
            continue
        if state == "waiting":
            st.success("You have answered this survey. Thank you! Your answers are waiting in the server's memory "
                       f"to be written together with other members' answers (at least {ev.BATCH} at a time). If "
                       "the server stops before then, they are lost and this page will ask you to answer again.")
            continue
        questions = ev.wave_questions(db(), wave.wave_id)
        st.caption(f"{len(questions)} questions. For each, choose how much you agree, or “Prefer not to say”.")
        with st.form(f"survey_{wave.wave_id}"):
            answers = answer_radios(questions, f"w{wave.wave_id}")
            sent = st.form_submit_button("Send my answers", type="primary", width="stretch")
        if sent:
            missing = [q for q, a in answers.items() if a is None]
            try:
                ev.submit_answers(db(), session, wave.wave_id, answers)
            except UserError as e:
                st.error(str(e))
                continue
            note = (f" You left {len(missing)} question(s) blank; that is fine." if missing else "")
            flash("success", f"Thank you: your answers to “{md(wave.label)}” are received.{note}")
            st.rerun()


run_page(body)
