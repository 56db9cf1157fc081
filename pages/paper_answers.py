"""Paper answers: a volunteer types in paper survey forms, and separately ticks the member's card
as 'answered on paper' so they cannot answer again online. The two are never linked."""

from __future__ import annotations

import streamlit as st

from lib import evaluation as ev
from lib.errors import UserError
from pages.common import db, flash, run_page, show_flashes
from pages.eval_common import answer_radios


def body() -> None:
    st.title("Type in paper answers")
    show_flashes()
    role = st.session_state.get("role", "volunteer")
    open_waves = [w for w in ev.waves(db()) if w.status == "open"]
    if not open_waves:
        st.info("No survey is open, so there is nothing to type in. Organisers open surveys on the Evaluation page.")
        return
    labels = {w.wave_id: w.label for w in open_waves}
    wid = st.selectbox("Survey", list(labels), format_func=labels.get, key="paper_wave")
    st.markdown("Paper forms carry **no name and no code**. Type in each form as it is, then put it in the "
                "“done” pile. Tick members' cards separately (second tab), in any order, so forms and cards "
                "cannot be matched up.")
    t1, t2 = st.tabs(["Type in a paper form", "Tick a card as answered on paper"])
    with t1:
        questions = ev.wave_questions(db(), wid)
        with st.form(f"paper_{wid}", clear_on_submit=True):
            answers = answer_radios(questions, f"paper{wid}")
            sent = st.form_submit_button("Save this paper form", type="primary", width="stretch")
        if sent:
            try:
                ev.submit_paper_answers(db(), wid, answers, actor=role)
            except UserError as e:
                st.error(str(e))
            else:
                flash("success", "Paper form saved. Next one!")
                st.rerun()
    with t2:
        with st.form(f"tick_{wid}", clear_on_submit=True):
            code = st.text_input("The access code on the member's card", max_chars=20)
            ok = st.form_submit_button("Tick as answered on paper", width="stretch")
        if ok:
            try:
                ev.mark_answered_on_paper(db(), wid, code, actor=role)
            except UserError as e:
                st.error(str(e))
            else:
                flash("success", "Card ticked: this member has answered this survey on paper.")
                st.rerun()
        st.caption(f"Members who have answered so far (online or on paper): {ev.answered_count(db(), wid)}")


run_page(body)
