"""How representative is the assembly? The community compared with sign-ups, the panel and beyond."""

from __future__ import annotations

import streamlit as st

from lib.reporting import charts
from lib.plaintext import md
from lib.reporting.representativeness import detail_table, funnel, funnel_table, stage_label
from lib.reporting.transparency import gather, report_html
from pages.common import db, require, run_page


@st.cache_data(show_spinner=False, max_entries=256)
def _spec(kind: str, frame, label: str = "", equal_share: float | None = None) -> dict:
    """A chart's Vega-Lite spec, built once per content (Altair's validation is slow)."""
    if kind == "field":
        return charts.field_chart(frame, label).to_dict()
    if kind == "chance":
        return charts.chance_chart(frame, equal_share=equal_share).to_dict()
    return charts.tvd_chart(frame).to_dict()


@st.cache_data(show_spinner=False, max_entries=256)
def _detail(frame):
    return detail_table(frame)


def body() -> None:
    st.title("How representative is the assembly?")
    if not require("representativeness", "This page is for organisers."):
        return
    data = gather(db())
    if not data.fields:
        st.info("There is nothing to compare yet: set up the questions and bring in sign-ups first.")
        return
    st.caption(
        "Each question's groups in the community (the targets) compared with the people at each stage. "
        "Every chart has the same numbers in a table beside it."
    )
    if not data.targets:
        st.warning("No targets are set yet, so there is no community to compare with. Set them on the Targets page.")
    present = list(dict.fromkeys(data.comp["stage"]))
    chosen = st.multiselect("Stages to show", present, default=present, format_func=stage_label)
    comp = data.comp[data.comp["stage"].isin(chosen)]

    st.download_button(
        "Download the transparency report (a printable page)",
        lambda: report_html(data),
        file_name="transparency-report.html",
        mime="text/html",
        icon=":material/download:",
        help="One page with the targets and their sources, the quotas, the draw's commitment and "
        "public number, the chance curve and these tables. Groups smaller than 5 are hidden, "
        "so it is safe to publish.",
    )

    st.header("How far from the community, per question")
    tv = data.tvd[
        ["field", "Field"]
        + [stage_label(s) for s in chosen if s != "population" and stage_label(s) in data.tvd.columns]
    ]
    if data.targets and len(tv.columns) > 2:
        left, right = st.columns([3, 2])
        left.vega_lite_chart(_spec("tvd", tv), width="stretch")
        shown = tv.drop(columns=["field"]).copy()
        for c in shown.columns[1:]:
            shown[c] = shown[c].map(lambda x: "–" if x != x else f"{x * 100:.1f}%")
        right.dataframe(shown, hide_index=True, width="stretch")
        right.caption(
            "Distance 0% means exactly like the community; 10% means one person in ten would have to "
            "be swapped for someone else to match it."
        )

    st.header("Who gets a chance")
    if data.curve.empty:
        st.info("The chance curve appears once the fair lottery has been computed on the draw page.")
    else:
        left, right = st.columns([3, 2])
        left.vega_lite_chart(_spec("chance", data.curve, equal_share=data.equal_share), width="stretch")
        right.dataframe(data.chances, hide_index=True, width="stretch")
        right.caption(
            "The fair lottery raises the lowest chances as far as the quotas allow. The old-style draw "
            "is what a simple one-at-a-time draw would have given, for comparison."
        )

    st.header("Each question")
    for f in data.fields:
        sub = comp[comp["field"] == f.key]
        if sub.empty:
            continue
        st.subheader(md(f.label))
        left, right = st.columns([3, 2])
        left.vega_lite_chart(_spec("field", sub, f.label), width="stretch", height=320)
        right.dataframe(_detail(sub), hide_index=True, width="stretch")
    st.caption(
        "Points off: percentage points above (+) or below (−) the community's share. Ratio: 1.00 means "
        "exactly as in the community, 0.50 half as many as there should be."
    )

    frame, order = funnel(db())
    if frame is not None:
        st.header("Who stays: the dropout funnel by group")
        st.caption(
            "How many people of each group reached each step, from being selected to completing the "
            "assembly. Groups that lose more people than others need extra support."
        )
        for f in data.fields:
            table = funnel_table(frame, f, order)
            if not table.empty:
                st.subheader(md(f.label))
                st.dataframe(table, hide_index=True, width="stretch")


run_page(body)
