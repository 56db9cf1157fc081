"""Our questions: members propose their own survey questions, endorse them anonymously, and can
object to a decision (which reopens the question for a new round)."""

from __future__ import annotations

import time

import streamlit as st

from lib import evaluation as ev
from lib.i18n import N_
from lib.plaintext import md
from pages.common import act, db, run_page, show_flashes
from pages.eval_common import member_session, question_status, when
from pages.language import _, current_language, ngettext


def in_language(question_id: str, wording: str) -> str:
    """A question in the member's language when an organiser translated it, else as it was written."""
    return ev.translation_of(db(), question_id, current_language()) or wording


def _base_words(count, source) -> str:
    """ "2 members who attended the last session", in the member's language (a round's base)."""
    if source == "members who attended the last session":
        return ngettext(
            "{count} member who attended the last session", "{count} members who attended the last session", count
        ).format(count=count)
    return f"{count} {md(_(source or ''))}"


# the words of a closed round's table (lib.evaluation.round_result_table), for make messages
_TABLE_WORDS = [N_("Question"), N_("Endorsements"), N_("Decision"), N_("Decided by lot"), N_("yes")]


def rule_words(share: float, base: ev.Base, limit: int) -> str:
    """The adoption rule in plain words, with this round's numbers (lib.evaluation.needed_endorsements)."""
    needed = ev.needed_endorsements(share, base.count)
    if base.source == "members who attended the last session":
        of = ngettext(
            "{count} member who attended the last session", "{count} members who attended the last session", base.count
        ).format(count=base.count)
    else:
        of = f"{base.count} {_(base.source)}"
    return _(
        "A question goes into the surveys if at least **{share:.0%}** of the {of} endorse it, and never fewer "
        "than {least} members, so nobody can adopt their own question alone: that is **{needed} or more**. "
        "Up to {limit} members' questions go into the surveys in all."
    ).format(share=share, of=of, least=ev.MIN_ENDORSEMENTS, needed=needed, limit=limit)


def endorse_section(session: ev.MemberSession) -> None:
    st.subheader(_("Endorse questions"))
    rnd = ev.open_round_now(db())
    if rnd is None:
        st.info(_("No endorsement round is open right now. The organisers open one when new questions are ready."))
        return
    ev.eval_settings(db())
    base = ev.adoption_base(db())
    st.markdown(
        _("Open until **{closes}**.").format(closes=when(rnd.closes_at))
        + " "
        + rule_words(rnd.share, base, rnd.max_adopted)
        + " "
        + _("How many endorsed each question is shown only when the round closes.")
    )
    if base.source != "members who attended the last session":
        st.caption(_("Note: the share is taken of the {source}.").format(source=_(base.source)))
    with st.expander(_("How the order and any tie are decided")):
        st.markdown(
            _(
                "Each member sees the questions in their own order, so none is favoured by coming first. If questions "
                "with the same number of endorsements compete for the last place, a public lot decides: for each "
                "question we compute SHA-256 of “{seed}|question number” and the smallest result wins. The seed was "
                "fixed when the round opened, so nobody can steer it, and anyone can check it."
            ).format(seed=md(rnd.lot_seed))
        )
    if ev.has_endorsed(db(), session, rnd.round_id):
        st.success(_("You have endorsed in this round. Thank you! Results appear when it closes."))
        return
    options = ev.round_options(db(), session, rnd.round_id)
    with st.form(f"endorse_{rnd.round_id}"):
        st.caption(_("Tick every question you would like in the surveys. You can endorse once in each round."))
        ticks = {}
        for o in options.itertuples():
            ticks[o.question_id] = st.checkbox(
                md(in_language(o.question_id, o.wording)),
                key=f"end_{rnd.round_id}_{o.question_id}",
                help=_("What the member who proposed it wants to learn: {purpose}").format(purpose=md(o.purpose)),
            )
        ok = st.form_submit_button(_("Endorse the ticked questions"), type="primary", width="stretch")
    if ok:
        chosen = [q for q, t in ticks.items() if t]
        act(
            lambda: ev.endorse(db(), session, rnd.round_id, chosen),
            ngettext(
                "Thank you: your endorsement of {n} question is received, anonymously. (Like survey answers, "
                "endorsements are written together, at least {batch} members' at a time, or when the round "
                "closes.)",
                "Thank you: your endorsement of {n} questions is received, anonymously. (Like survey "
                "answers, endorsements are written together, at least {batch} members' at a time, or when "
                "the round closes.)",
                len(chosen),
            ).format(n=len(chosen), batch=ev.BATCH),
        )


def propose_section(session: ev.MemberSession) -> None:
    st.subheader(_("Propose a question"))
    st.markdown(
        _(
            "What would you like the surveys to ask? Write it as a statement people can agree or disagree "
            "with, for example “I felt comfortable asking the experts questions.” The organisers check each "
            "question before it can be endorsed (for example, that it is about this assembly and names "
            "nobody); you will see their answer under “Your questions”."
        )
    )
    n = st.session_state.get("propose_form", 0)  # a new form (empty boxes) only after a save
    with st.form(f"propose_{n}", clear_on_submit=False):  # a refused proposal keeps what was typed
        wording = st.text_area(_("Your question"), max_chars=ev.MAX_TEXT, key=f"propose_wording_{n}")
        purpose = st.text_area(
            _("What do you want to learn from it?"), max_chars=ev.MAX_TEXT, key=f"propose_purpose_{n}"
        )
        ok = st.form_submit_button(_("Propose this question"), type="primary")
    thanks = _(
        "Thank you: your question is saved. It is waiting for a check by the organisers; once "
        "accepted, it goes into the next endorsement round."
    )
    if ok and not (wording or "").strip() and not (purpose or "").strip() and _just_saved():
        # the second tap of a double tap, arriving after the first one saved and emptied the boxes
        st.success(thanks)
    elif ok:
        act(
            lambda: ev.propose_question(db(), session, wording, purpose),
            thanks,
            before_rerun=lambda _r: st.session_state.update(propose_form=n + 1, proposed_at=time.monotonic()),
        )


def _just_saved(within: float = 60.0) -> bool:
    """A question was saved in this session less than ``within`` seconds ago."""
    at = st.session_state.get("proposed_at")
    return at is not None and time.monotonic() - at < within


def mine_section(session: ev.MemberSession) -> None:
    mine = ev.my_questions(db(), session)
    if mine.empty:
        return
    st.subheader(_("Your questions"))
    for q in mine.itertuples():
        with st.container(border=True):
            st.markdown(f"**{md(q.wording)}**")  # by its wording: members never see the code M1
            st.caption(question_status(q))
            if q.status == "awaiting_proposer" and isinstance(q.suggestion, str):
                st.markdown(
                    _("A volunteer suggests clearer wording: **“{wording}”**. Use it?").format(wording=md(q.suggestion))
                )
                c1, c2 = st.columns(2)
                if c1.button(_("Use the new wording"), key=f"acc_{q.question_id}", type="primary"):
                    act(
                        lambda q=q: ev.answer_suggestion(db(), session, q.question_id, True),
                        _("The new wording is used. Your first wording is kept in the record."),
                    )
                if c2.button(_("Keep my wording"), key=f"dec_{q.question_id}"):
                    act(
                        lambda q=q: ev.answer_suggestion(db(), session, q.question_id, False),
                        _("Your wording is kept."),
                    )


def decisions_section(session: ev.MemberSession) -> None:
    closed = [r for r in ev.rounds(db()) if r.status == "closed"]
    if not closed:
        return
    st.subheader(_("Decisions"))
    for rnd in reversed(closed):
        res = ev.round_result(db(), rnd.round_id)
        st.markdown(
            ngettext(
                "**Round {round}**, closed {date}: {needed} endorsement needed ({share:.0%} of {of}).",
                "**Round {round}**, closed {date}: {needed} endorsements needed ({share:.0%} of {of}).",
                int(rnd.needed or 0),
            ).format(
                round=rnd.round_id,
                date=when(rnd.closed_at),
                needed=rnd.needed,
                share=rnd.share,
                of=_base_words(rnd.base, rnd.base_source),
            )
        )
        table = ev.round_result_table(res)  # plain columns, no codes
        table["Decision"] = table["Decision"].map(lambda v: _(v) if v else v)
        if "Decided by lot" in table.columns:
            table["Decided by lot"] = table["Decided by lot"].map(lambda v: _(v) if v else v)
        st.dataframe(table.rename(columns=lambda c: _(c)), hide_index=True, width="stretch")
    qs = ev.questions_frame(db(), "member")
    decided = qs[qs["status"].isin(["adopted", "not_adopted"])]
    if decided.empty:
        return
    with st.expander(_("Object to a decision")):
        st.markdown(
            _(
                "Any member may object, with a reason. The question then goes back into the next round, "
                "and your reason is shown in the record (without your name)."
            )
        )
        with st.form("object", clear_on_submit=True):
            qid = st.selectbox(
                _("Question"),
                decided["question_id"].tolist(),
                format_func=lambda i: in_language(i, decided.set_index("question_id").loc[i, "wording"]),
            )
            reason = st.text_area(_("Your reason"), max_chars=ev.MAX_TEXT)
            ok = st.form_submit_button(_("Object and reopen"))
        if ok:
            act(
                lambda: ev.object_to(db(), session, qid, reason),
                _("Your objection is recorded. The question goes back into the next round."),
            )


def body() -> None:
    st.title(_("Our questions"))
    show_flashes()
    session = member_session()
    if session is None:
        return
    ev.close_due_rounds(db())
    st.markdown(
        _(
            "You, the members, help decide how this assembly is judged: propose questions for the surveys, "
            "and endorse the ones you want asked."
        )
    )
    endorse_section(session)
    propose_section(session)
    mine_section(session)
    decisions_section(session)
    adopted = ev.questions_frame(db(), "member")
    adopted = adopted[adopted["status"] == "adopted"]
    if not adopted.empty:
        st.subheader(_("Members' questions in the surveys"))
        for q in adopted.itertuples():
            st.markdown(f"- {md(in_language(q.question_id, q.wording))}")


run_page(body)
