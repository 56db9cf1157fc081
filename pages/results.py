"""Survey results: members see them first; the organisers publish them afterwards. Questions with
fewer than 5 answers are not shown to anyone."""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from lib.access.auth import MEMBER, ORGANISER, PUBLIC
from lib import evaluation as ev
from lib.evaluation.report import likert_chart, report_html
from lib.plaintext import md
from lib.privacy import SMALL_GROUP, safe_csv_bytes
from lib.store.settings import get_setting
from pages.common import db, run_page
from pages.eval_common import when
from pages.language import _, current_language, ngettext, survey_name, table_in_language, translator


def status_line(w: ev.Wave) -> str:
    if w.published_at is not None:
        return _("Published on {date}.").format(date=when(w.published_at))
    if w.members_first_until and w.members_first_until > datetime.now(timezone.utc):
        return _("For members only until {date}; then the organisers may publish them.").format(
            date=when(w.members_first_until)
        )
    return _("Seen by members; not yet published.")


def body() -> None:
    st.title(_("Results"))
    role = st.session_state.get("role", PUBLIC)
    if role == MEMBER and not isinstance(st.session_state.get("member_session"), ev.MemberSession):
        st.info(_("Please sign in with the access code on your card to see members' results."))
        return
    visible = ev.visible_waves(db(), role)
    if role == PUBLIC:
        st.markdown(_("What assembly members said in their anonymous surveys, once members have seen it first."))
    else:
        st.markdown(
            _(
                "Results of the anonymous surveys. Members see them first; the organisers publish them "
                "after that. A survey's results appear once it has closed."
            )
        )
    if not visible:
        st.info(
            _("No results to show yet.")
            + (
                " " + _("Results are shown here once members have seen them and the organisers publish them.")
                if role == PUBLIC
                else ""
            )
        )
        return
    labels = {w.wave_id: survey_name(w.label) for w in visible}
    wid = st.selectbox(_("Survey"), list(labels)[::-1], format_func=labels.get, key="results_wave")
    wave = ev.get_wave(db(), wid)
    st.caption(status_line(wave))
    res = ev.results_in(db(), wid, current_language())  # the questions in the reader's language
    div = ev.diverging_frame(res)
    c1, c2 = st.columns(2)
    c1.metric(
        _("People who answered"),
        ev.answered_count(db(), wid) if role == ORGANISER else _count(ev.answered_count(db(), wid)),
    )
    c2.metric(
        _("Questions shown"), _("{shown} of {total}").format(shown=int((~res["suppressed"]).sum()), total=len(res))
    )
    st.caption(channels_line(wid, role))
    if not div.empty:
        st.altair_chart(likert_chart(div, title=survey_name(wave.label), tr=translator()), width="stretch")
    hidden = res[res["suppressed"]]
    if not hidden.empty:
        st.warning(
            ngettext(
                "{n} question had fewer than {small} real answers (“Prefer not to say” does not "
                "count), so its results are not shown to anyone (with so few, answers could be recognised): "
                "question {numbers}.",
                "{n} questions had fewer than {small} real answers (“Prefer not to say” does not "
                "count), so their results are not shown to anyone (with so few, answers could be "
                "recognised): questions {numbers}.",
                len(hidden),
            ).format(n=len(hidden), small=SMALL_GROUP, numbers=", ".join(str(int(p)) for p in hidden["position"]))
        )
    table = table_in_language(ev.results_table(res))  # numbered as in the survey, plain names
    with st.expander(_("The numbers behind the chart")):
        st.dataframe(table, hide_index=True, width="stretch")
    said = ev.you_said_frame(db(), [w.wave_id for w in visible])
    st.subheader(_("You said, we did"))
    if said.empty:
        st.caption(_("The organisers' response to each finding will be recorded here."))
    else:
        for r in said.itertuples():
            with st.container(border=True):
                st.markdown(_("**You said:** {text}").format(text=md(r.you_said)))
                st.markdown(_("**We did:** {text}").format(text=md(r.we_did)))
                survey = md(r.survey) if isinstance(r.survey, str) else ""
                question = (
                    " · " + _("question {id}").format(id=md(r.question_id)) if isinstance(r.question_id, str) else ""
                )
                st.caption(f"{survey}{question}")
    name = (get_setting(db(), "assembly", {}) or {}).get("name", "")
    ids = [w.wave_id for w in visible]
    d1, d2 = st.columns(2)
    d1.download_button(
        _("Download the results (CSV)"),
        safe_csv_bytes(ev.export_frame(db(), ids)),
        file_name="evaluation-results.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    sections = [
        (
            survey_name(w.label),
            f"{status_line(w)} {channels_line(w.wave_id, role)}",
            ev.results_in(db(), w.wave_id, current_language()),
        )
        for w in visible
    ]
    d2.download_button(
        _("Download a printable report"),
        report_html(name, sections, said, tr=translator()),
        file_name="evaluation-report.html",
        mime="text/html",
        icon=":material/print:",
    )


def channels_line(wave_id: int, role: str) -> str:
    """Online and paper answers counted apart (paper forms are capped at the cards handed out)."""
    counts = ev.answer_counts(db(), wave_id)
    cards = ev.paper_status(db(), wave_id)["cards"]
    show = (lambda n: str(n)) if role == ORGANISER else _count
    line = _("Answers given online: {online}. Paper forms typed in: {paper}").format(
        online=show(counts["online"]), paper=show(counts["paper"])
    )
    return line + (
        " " + ngettext("(of {n} paper card handed out).", "(of {n} paper cards handed out).", cards).format(n=cards)
        if cards
        else "."
    )


def _count(n: int) -> str:
    return str(n) if n >= SMALL_GROUP or n == 0 else _("fewer than {n}").format(n=SMALL_GROUP)


run_page(body)
