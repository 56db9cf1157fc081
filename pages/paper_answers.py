"""Paper answers: a volunteer types in paper survey forms, and separately ticks the member's card
as 'answered on paper' so they cannot answer again online. The two are never linked. Typed-in
forms are capped at the number of paper cards an organiser recorded as handed out, and each keeps
who typed it in."""

from __future__ import annotations

import streamlit as st

from lib import evaluation as ev
from lib.plaintext import count, md
from pages.common import act, db, require, run_page, show_flashes
from pages.eval_common import actor, answer_radios, has_personal_name


def typist() -> str:
    """Who is typing the forms in: the signed-in person, or the role plus the name typed here."""
    who = actor("volunteer")
    if has_personal_name(who):
        st.caption(f"Forms you type in are recorded as typed in by {md(who)}.")
        return who
    name = st.text_input(
        "Your name (kept with each paper form you type in, so the organisers can check the count)",
        key="paper_typist",
        max_chars=80,
    )
    name = " ".join(name.split())
    return f"{who}:{name}" if name else ""


def body() -> None:
    st.title("Type in paper answers")
    show_flashes()
    if not require("paper_answers", "This page is for organisers and volunteers only. Sign in first."):
        return
    open_waves = [w for w in ev.waves(db()) if w.status == "open"]
    if not open_waves:
        st.info("No survey is open, so there is nothing to type in. Organisers open surveys on the Evaluation page.")
        return
    labels = {w.wave_id: w.label for w in open_waves}
    wid = st.selectbox("Survey", list(labels), format_func=labels.get, key="paper_wave")
    st.markdown(
        "Paper forms carry **no name and no code**. Type in each form as it is, then put it in the "
        "“done” pile. Tick members' cards separately (second tab), in any order, so forms and cards "
        "cannot be matched up."
    )
    t1, t2 = st.tabs(
        ["Type in a paper form", "Tick a card as answered on paper"], key="paper_tab", on_change="rerun"
    )  # kept after a save
    with t1:
        paper = ev.paper_status(db(), wid)
        if paper["cards"] == 0:
            st.info(
                "No paper cards are recorded as handed out for this survey yet, so paper forms cannot be typed "
                "in. An organiser records how many were handed out on the Evaluation page (Surveys)."
            )
        elif paper["left"] == 0:
            st.warning(
                (
                    "The paper card handed out for this survey has been typed in already. "
                    if paper["cards"] == 1
                    else f"All {paper['cards']} paper cards handed out for this survey have been typed in already. "
                )
                + "If more cards were handed out, ask an organiser to change the number on the Evaluation "
                "page; otherwise set any extra form aside."
            )
        else:
            st.caption(
                f"Paper forms typed in: {paper['typed']} of the {count(paper['cards'], 'paper card')} handed out "
                f"({paper['left']} left)."
            )
            who = typist()
            questions = ev.wave_questions(db(), wid)
            with st.form(f"paper_{wid}", clear_on_submit=True):
                answers = answer_radios(questions, f"paper{wid}")
                sent = st.form_submit_button("Save this paper form", type="primary", width="stretch")
            if sent:
                act(lambda: ev.submit_paper_answers(db(), wid, answers, actor=who), "Paper form saved. Next one!")
    with t2:
        with st.form(f"tick_{wid}", clear_on_submit=True):
            code = st.text_input("The access code on the member's card", max_chars=20)
            ok = st.form_submit_button("Tick as answered on paper", width="stretch")
        if ok:
            act(
                lambda: ev.mark_answered_on_paper(db(), wid, code, actor=actor("volunteer")),
                "Card ticked: this member has answered this survey on paper.",
            )
        st.caption(f"Members who have answered so far (online or on paper): {ev.answered_count(db(), wid)}")


run_page(body)
