"""Survey results: members see them first; the organisers publish them afterwards. Questions with
fewer than 5 answers are not shown to anyone."""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from lib.evaluation import survey as ev
from lib.evaluation.report import likert_chart, report_html
from lib.plaintext import md
from lib.privacy import SMALL_GROUP, safe_csv_bytes
from lib.store.settings import get_setting
from pages.common import db, run_page
from pages.eval_common import when


def status_line(w: ev.Wave) -> str:
    if w.published_at is not None:
        return f"Published on {when(w.published_at)}."
    if w.members_first_until and w.members_first_until > datetime.now(timezone.utc):
        return f"For members only until {when(w.members_first_until)}; then the organisers may publish them."
    return "Seen by members; not yet published."


def body() -> None:
    st.title("Results")
    role = st.session_state.get("role", "public")
    if role == "member" and not isinstance(st.session_state.get("member_session"), ev.MemberSession):
        st.info("Please sign in with the access code on your card to see members' results.")
        return
    visible = ev.visible_waves(db(), role)
    if role == "public":
        st.markdown("What assembly members said in their anonymous surveys, once members have seen it first.")
    else:
        st.markdown("Results of the anonymous surveys. Members see them first; the organisers publish them after "
                    "that. A survey's results appear once it has closed.")
    if not visible:
        st.info("No results to show yet." + (" Results are shown here once members have seen them and the "
                                             "organisers publish them." if role == "public" else ""))
        return
    labels = {w.wave_id: w.label for w in visible}
    wid = st.selectbox("Survey", list(labels)[::-1], format_func=labels.get, key="results_wave")
    wave = ev.get_wave(db(), wid)
    st.caption(status_line(wave))
    res = ev.results_frame(db(), wid)
    div = ev.diverging_frame(res)
    c1, c2 = st.columns(2)
    c1.metric("People who answered", ev.answered_count(db(), wid) if role == "organiser"
              else _count(ev.answered_count(db(), wid)))
    c2.metric("Questions shown", f"{int((~res['suppressed']).sum())} of {len(res)}")
    st.caption(channels_line(wid, role))
    if not div.empty:
        st.altair_chart(likert_chart(div, title=wave.label), width="stretch")
    hidden = res[res["suppressed"]]
    if not hidden.empty:
        st.warning(f"{len(hidden)} question(s) had fewer than {SMALL_GROUP} answers, so their results are not shown "
                   f"to anyone (with so few, answers could be recognised): {', '.join(hidden['question_id'])}.")
    table = res[~res["suppressed"]].drop(columns=["position", "kind", "suppressed"])
    table = table.assign(stage=table["stage"].map(lambda s: ev.STAGES.get(s, "Members' question")
                                                 if isinstance(s, str) else "Members' question"))
    with st.expander("The numbers behind the chart"):
        st.dataframe(table, hide_index=True, width="stretch")
    said = ev.you_said_frame(db(), [w.wave_id for w in visible])
    st.subheader("You said, we did")
    if said.empty:
        st.caption("The organisers' response to each finding will be recorded here.")
    else:
        for r in said.itertuples():
            with st.container(border=True):
                st.markdown(f"**You said:** {md(r.you_said)}")
                st.markdown(f"**We did:** {md(r.we_did)}")
                survey = md(r.survey) if isinstance(r.survey, str) else ""
                question = f" · question {md(r.question_id)}" if isinstance(r.question_id, str) else ""
                st.caption(f"{survey}{question}")
    name = (get_setting(db(), "assembly", {}) or {}).get("name", "")
    ids = [w.wave_id for w in visible]
    d1, d2 = st.columns(2)
    d1.download_button("Download the results (CSV)", safe_csv_bytes(ev.export_frame(db(), ids)),
                       file_name="evaluation-results.csv", mime="text/csv", icon=":material/download:")
    sections = [(w.label, f"{status_line(w)} {channels_line(w.wave_id, role)}", ev.results_frame(db(), w.wave_id))
                for w in visible]
    d2.download_button("Download a printable report", report_html(name, sections, said),
                       file_name="evaluation-report.html", mime="text/html", icon=":material/print:")


def channels_line(wave_id: int, role: str) -> str:
    """Online and paper answers counted apart (paper forms are capped at the cards handed out)."""
    counts = ev.answer_counts(db(), wave_id)
    cards = ev.paper_status(db(), wave_id)["cards"]
    show = (lambda n: str(n)) if role == "organiser" else _count
    line = f"Answers given online: {show(counts['online'])}. Paper forms typed in: {show(counts['paper'])}"
    return line + (f" (of {cards} paper card(s) handed out)." if cards else ".")


def _count(n: int) -> str:
    return str(n) if n >= SMALL_GROUP or n == 0 else f"fewer than {SMALL_GROUP}"


run_page(body)
