"""Evaluation (organisers): access cards, the core questionnaire, members' questions and their
endorsement rounds, survey waves, publishing results, "you said, we did", and the log."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import streamlit as st

from lib import evaluation as ev
from lib.plaintext import count, md
from pages.common import act, db, require, run_page, show_flashes
from pages.eval_common import actor, status_words, when
from pages.sections.evaluation_cards import cards_tab

ACTOR = actor("organiser")


def core_tab() -> None:
    st.markdown(
        "The core questions follow the three stages of the OECD *Evaluation Guidelines for Representative "
        "Deliberative Processes* (2021). You may reword an item; every earlier wording is kept, and each "
        "survey keeps the wording it asked."
    )
    core = ev.questions_frame(db(), "core")
    show = core.assign(
        stage=core["stage"].map(ev.STAGES), waves=core["waves"].map(lambda ws: ", ".join(ev.WAVE_KINDS[w] for w in ws))
    )
    st.dataframe(
        show[["question_id", "stage", "wording", "version", "waves"]].rename(
            columns={
                "question_id": "Item",
                "stage": "Stage",
                "wording": "Wording",
                "version": "Version",
                "waves": "Asked in",
            }
        ),
        hide_index=True,
        width="stretch",
    )
    words = core.set_index("question_id")["wording"].to_dict()
    qid = st.selectbox("Reword an item", list(words), format_func=lambda q: f"{q}: {words[q]}", key="core_pick")
    with st.form("core_edit"):
        text = st.text_area("New wording", value=words[qid], max_chars=ev.MAX_TEXT)
        ok = st.form_submit_button("Save the new wording")
    if ok:
        act(lambda: ev.edit_core_wording(db(), qid, text, ACTOR), f"{qid} reworded; the old wording is kept.")
    with st.expander(f"Every wording of {qid}"):
        st.dataframe(ev.wording_history(db(), qid), hide_index=True, width="stretch")


def members_tab() -> None:
    s = ev.eval_settings(db())
    base = ev.adoption_base(db())
    st.markdown(ev.adoption_rule_words(s["share"], base, s["limit"]))  # plain words, this base's numbers
    if base.source != "members who attended the last session":
        st.caption(f"No attendance is recorded yet, so the share is taken of the {base.count} {base.source}.")
    with st.expander("Change the agreed share, the limit or the members-first period"):
        with st.form("eval_settings"):
            share = st.slider("Agreed share (%)", 5, 100, int(round(s["share"] * 100)), step=5)
            limit = st.number_input("Most members' questions in the surveys", 1, 20, s["limit"])
            days = st.number_input(
                "Days members see results before they can be published", 0, 90, s["members_first_days"]
            )
            ok = st.form_submit_button("Save")
        if ok:
            act(
                lambda: ev.save_eval_settings(
                    db(), share=share / 100, limit=int(limit), members_first_days=int(days), actor=ACTOR
                ),
                "Saved.",
            )
    qs = ev.questions_frame(db(), "member")
    check_section()
    if qs.empty:
        st.info("No member has proposed a question yet. Members propose them on their “Our questions” page.")
    else:
        where = [status_words(r.status, r.check_state, r.check_reason) for r in qs.itertuples()]
        st.dataframe(
            qs.assign(status=where)[["question_id", "wording", "purpose", "status", "suggestion"]].rename(
                columns={
                    "question_id": "Question",
                    "wording": "Wording",
                    "purpose": "What they want to learn",
                    "status": "Where it is",
                    "suggestion": "Suggested wording (waiting)",
                }
            ),
            hide_index=True,
            width="stretch",
        )
    st.subheader("Endorsement round")
    rnd = ev.open_round_now(db())
    if rnd is not None:
        voters = ev.endorsed_count(db(), rnd.round_id)
        st.markdown(
            f"Round {rnd.round_id} is open until **{when(rnd.closes_at)}**. {count(voters, 'member')} "
            f"{'has' if voters == 1 else 'have'} endorsed so far (how many endorsed each question stays hidden until it closes)."
        )
        st.caption(f"Public seed for the lot: “{md(rnd.lot_seed)}”")
        if st.button("Close the round now and count", type="primary"):
            act(lambda: ev.close_round(db(), rnd.round_id, ACTOR), f"Round {rnd.round_id} closed and counted.")
    else:
        ready = int(((qs["status"] == "ready") & (qs["check_state"] == "accepted")).sum()) if not qs.empty else 0
        st.caption(f"{count(ready, 'accepted question')} ready for a new round.")
        with st.form("open_round"):
            default = datetime.now().astimezone() + timedelta(days=7)
            d = st.date_input("Closes on", value=default.date())
            t = st.time_input("at", value=time(18, 0))
            seed = st.text_input(
                "Public seed for breaking ties (optional)",
                help="Something nobody can steer and everybody can check, fixed now: e.g. the "
                "date and a phrase read out at the session. Left empty, the round number and "
                "today's date are used.",
            )
            ok = st.form_submit_button("Open the round", type="primary", disabled=ready == 0)
        if ok:
            closes = datetime.combine(d, t).astimezone()
            act(lambda: ev.open_round(db(), closes, ACTOR, lot_seed=seed), "Round opened. Members can endorse now.")
    closed = [r for r in ev.rounds(db()) if r.status == "closed"]
    for r in reversed(closed):
        with st.expander(
            f"Round {r.round_id}: closed {when(r.closed_at)}, {r.needed} needed "
            f"({r.share:.0%} of {r.base} {md(r.base_source)})"
        ):
            st.caption(f"Lot seed: “{md(r.lot_seed)}”. Lot number = SHA-256(seed|question); smallest wins a tie.")
            st.dataframe(
                ev.round_result_table(ev.round_result(db(), r.round_id), codes=True), hide_index=True, width="stretch"
            )
    obj = ev.objections_frame(db())
    if not obj.empty:
        st.subheader("Objections")
        st.dataframe(obj, hide_index=True, width="stretch")
    st.page_link(
        "pages/question_wording.py", label="Suggest clearer wording for a members' question", icon=":material/edit:"
    )


def check_section() -> None:
    """The organisers' check of members' questions: accepted, or not accepted with a reason the
    member sees. Nothing goes into an endorsement round before it is accepted."""
    waiting = ev.questions_to_check(db())
    st.subheader("Questions to check")
    if waiting.empty:
        st.caption("No members' question is waiting for a check.")
        return
    st.markdown(
        f"{count(len(waiting), 'question')} from members {'waits' if len(waiting) == 1 else 'wait'} for your "
        "check before members can endorse them. "
        "Accept a question if it is about this assembly and can be asked of everyone; if not, say why in "
        "plain words: the member who proposed it will read your reason."
    )
    for q in waiting.itertuples():
        with st.container(border=True):
            st.markdown(f"**{q.question_id}.** {md(q.wording)}")
            st.caption(f"What they want to learn: {md(q.purpose)}")
            if st.button("Accept", key=f"accept_{q.question_id}", type="primary"):
                act(
                    lambda q=q: ev.check_question(db(), q.question_id, True, actor=ACTOR),
                    f"{q.question_id} accepted: it goes into the next endorsement round.",
                )
            with st.expander("Do not accept"):
                with st.form(f"decline_{q.question_id}", clear_on_submit=True):
                    reason = st.text_area("Why not (the member will see this)", max_chars=ev.MAX_TEXT)
                    no = st.form_submit_button("Do not accept this question")
                if no:
                    act(
                        lambda q=q, reason=reason: ev.check_question(db(), q.question_id, False, reason, actor=ACTOR),
                        f"{q.question_id} not accepted; the member who proposed it sees your reason.",
                    )


def paper_cards(w: ev.Wave) -> None:
    paper = ev.paper_status(db(), w.wave_id)
    by = ", ".join(f"{md(who)}: {n}" for who, n in paper["by"].items())
    st.caption(
        f"Paper cards handed out: {paper['cards']}. Paper forms typed in: {paper['typed']}"
        + (f" (typed in by {by})" if by else "")
        + "."
    )
    if w.status != "open":
        return
    with st.form(f"cards_{w.wave_id}"):
        n = st.number_input(
            "Paper cards handed out for this survey",
            min_value=0,
            max_value=ev.PAPER_CARDS_MAX,
            value=paper["cards"],
            step=1,
            help="Volunteers can type in at most this many paper forms for this survey.",
        )
        ok = st.form_submit_button("Save the number of paper cards")
    if ok:
        act(
            lambda: ev.set_paper_cards(db(), w.wave_id, int(n), ACTOR),
            f"Saved: {count(int(n), 'paper card')} handed out for “{md(w.label)}”.",
        )


def waves_tab() -> None:
    st.markdown(
        "Each survey has the core items for its moment plus the members' questions adopted when it opens. "
        "Answers are anonymous; results show once a survey closes, to members first."
    )
    last = ev.last_session_title(db())
    with st.form("open_wave"):
        kind = st.selectbox("Which survey", list(ev.WAVE_KINDS), format_func=ev.WAVE_KINDS.get)
        label = st.text_input("Name (optional)", placeholder=f"e.g. After {last or 'session 2'}")
        ok = st.form_submit_button("Open this survey", type="primary")
    if ok:
        act(
            lambda: ev.open_wave(db(), kind, ev.new_wave_label(kind, label, last), ACTOR),
            "Survey opened. Members can answer it now.",
        )
    now = datetime.now(timezone.utc)
    for w in reversed(ev.waves(db())):
        with st.container(border=True):
            st.markdown(f"**{md(w.label)}** · {ev.WAVE_KINDS[w.kind]} · opened {when(w.opened_at)}")
            counts = ev.answer_counts(db(), w.wave_id)
            c1, c2, c3, c4 = st.columns(4)
            c1.metric("Members who answered", ev.answered_count(db(), w.wave_id))
            c2.metric("Answers stored: online", counts["online"])
            c3.metric("Answers stored: paper", counts["paper"])
            c4.metric(
                "Waiting to be written",
                ev.waiting_count(db(), w.wave_id),
                help=f"Answers are written {ev.BATCH} or more at a time, in a shuffled order, and the rest "
                "when the survey closes, so nobody can tell whose answers were written when.",
            )
            paper_cards(w)
            if w.status == "open":
                if st.button("Close this survey", key=f"close_{w.wave_id}"):
                    act(
                        lambda w=w: ev.close_wave(db(), w.wave_id, ACTOR),
                        "Survey closed. Members can see the results now.",
                    )
            elif w.published_at is None:
                wait = w.members_first_until is not None and now < w.members_first_until
                st.caption(
                    f"Members see the results first, until {when(w.members_first_until)}."
                    if wait
                    else "Members have had their time with the results."
                )
                if st.button("Publish the results", key=f"pub_{w.wave_id}", disabled=wait):
                    act(lambda w=w: ev.publish_wave(db(), w.wave_id, ACTOR), "Results published.")
            else:
                st.caption(f"Published {when(w.published_at)}.")


def said_tab() -> None:
    st.markdown(
        "For each finding, record what members said and what the organisers did about it. Members and, "
        "once results are published, everybody can read this."
    )
    ws = [w for w in ev.waves(db()) if w.status == "closed"]
    with st.form("you_said", clear_on_submit=True):
        labels = {None: "(not tied to one survey)", **{w.wave_id: w.label for w in ws}}
        wid = st.selectbox("Survey", list(labels), format_func=labels.get)
        qid = st.text_input("Question number (optional)", placeholder="e.g. 5, as numbered in that survey")
        said = st.text_area("You said", max_chars=2000)
        did = st.text_area("We did", max_chars=2000)
        ok = st.form_submit_button("Add to the record", type="primary")
    if ok:
        act(
            lambda: ev.add_you_said(db(), said, did, wave_id=wid, question_id=qid.strip().upper() or None, actor=ACTOR),
            "Added.",
        )
    st.dataframe(ev.you_said_frame(db()), hide_index=True, width="stretch")


def body() -> None:
    st.title("Evaluation")
    show_flashes()
    if not require("evaluation_admin", "This page is for organisers only. Sign in first."):
        return
    ev.close_due_rounds(db())
    tabs = st.tabs(
        ["Access cards", "Core questions", "Members' questions", "Surveys", "You said, we did", "Log"],
        key="evaluation_tab",
        on_change="rerun",
    )  # kept after a save
    # only the open tab is drawn (a click on another tab reruns the page): all six cost every run of the page
    for tab, draw in zip(tabs, (lambda: cards_tab(ACTOR), core_tab, members_tab, waves_tab, said_tab, log_tab)):
        if tab.open:
            with tab:
                draw()


def log_tab() -> None:
    st.caption("Everything that happened, in order. Who endorsed or answered what is never recorded.")
    st.dataframe(ev.log_table(db()), hide_index=True, width="stretch")


run_page(body)
