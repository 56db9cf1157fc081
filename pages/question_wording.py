"""Help with wording: volunteers (and organisers) suggest clearer wording for members' questions.
The member who proposed the question decides whether to use it; both versions are kept."""

from __future__ import annotations

import streamlit as st

from lib.evaluation import survey as ev
from lib.errors import UserError
from lib.plaintext import md
from pages.common import db, flash, run_page, show_flashes
from pages.eval_common import actor, question_status


def body() -> None:
    st.title("Help with wording")
    show_flashes()
    st.markdown("Members propose their own survey questions. If a question could be clearer (shorter words, one "
                "idea at a time, something people can agree or disagree with), suggest new wording. The member "
                "who proposed it chooses whether to use it.")
    qs = ev.questions_frame(db(), "member")
    if qs.empty:
        st.info("No member has proposed a question yet.")
        return
    for q in qs.itertuples():
        with st.container(border=True):
            st.markdown(f"**{q.question_id}.** {md(q.wording)}")
            st.caption(f"What they want to learn: {md(q.purpose)} · {question_status(q)}")
            if isinstance(q.suggestion, str):
                st.caption(f"Suggested wording waiting: “{md(q.suggestion)}”")
    can = qs[qs["status"].isin(["ready", "not_adopted"]) & (qs["check_state"] != "declined")]
    if can.empty:
        st.caption("No question can take a suggestion right now (they are being endorsed, adopted, or already "
                   "have a suggestion waiting).")
        return
    with st.form("suggest", clear_on_submit=True):
        qid = st.selectbox("Question", can["question_id"].tolist(),
                           format_func=lambda i: f"{i}: {can.set_index('question_id').loc[i, 'wording']}")
        text = st.text_area("Clearer wording", max_chars=ev.MAX_TEXT)
        ok = st.form_submit_button("Suggest this wording", type="primary")
    if ok:
        try:
            ev.suggest_wording(db(), qid, text, actor=actor("volunteer"))
        except UserError as e:
            st.error(str(e))
        else:
            flash("success", f"Suggestion sent. The member who proposed {qid} will see it on their page.")
            st.rerun()


run_page(body)
