"""The computed lottery on the Draw page: each person's chance beside the greedy draw's, the choice
between the two kinds of lottery, and the notes that go with a draw (re-run, relaxed quotas, changed
sign-ups). The sentences and tables come from lib.draws.explain."""

from __future__ import annotations

import streamlit as st

from lib.draws import explain
from lib import draws
from lib.plaintext import md
from lib.reporting.charts import chance_chart, chance_explanation
from lib.reporting.representativeness import chance_curve
from pages.common import act, current_actor, db


def chances(rec: draws.DrawRecord) -> None:
    said = explain.chances(rec)
    c1, c2 = st.columns(2)
    c1.metric("Smallest chance in the fair lottery", said["fair_min"])
    c2.metric("Smallest chance with the usual greedy draw", said["greedy_min"])
    if said["trials"]:
        st.markdown(said["trials"])
    if said["caveat"]:
        st.caption(said["caveat"])
    if rec.legacy_note:
        st.caption(rec.legacy_note)
    if said["zero"]:
        kind, text = said["zero"]
        getattr(st, kind)(text)
    if said["stop"]:
        st.caption(said["stop"])
    curve = chance_curve(rec.probabilities, rec.legacy_probabilities)
    st.altair_chart(chance_chart(curve, equal_share=rec.panel_size / max(1, rec.pool_size)), width="stretch")
    st.markdown(chance_explanation(rec.probabilities, panel_size=rec.panel_size, pool_size=rec.pool_size))
    with st.expander("The numbers behind the chart"):
        st.dataframe(explain.chances_table(rec), hide_index=True, width="stretch")


def which_lottery(rec: draws.DrawRecord) -> None:
    """Both kinds of lottery side by side (smallest and largest chance) before the commitment; the organiser
    chooses which one to publish (issue 12, item 7)."""
    d = db()
    alts = draws.alternatives(d, rec)
    alts[rec.algorithm] = rec
    labels = draws.OBJECTIVE_LABELS
    st.subheader("Which lottery do you want to publish?")
    st.markdown(
        "There are two ways to make the lottery fair. The **fairest for the least likely** gives the "
        "people with the smallest chance as big a chance as possible, but it can make a few people almost "
        "sure to be picked: anyone in a rare group, or anyone who falsely claims to be, is then all but "
        "certain to get a seat. The **balanced** lottery keeps everybody's chance close to the average from "
        "both sides: nobody too unlikely, nobody nearly certain."
    )
    st.dataframe(explain.lotteries_table(rec, alts), hide_index=True, width="stretch")
    missing = [k for k in labels if k not in alts]
    if missing:
        other = missing[0]
        st.caption(
            "Compute the other lottery to compare them before you publish. Nothing is published until you "
            "press “Publish the commitment”."
        )
        if st.button(f"Also compute: {labels[other]}", key=f"compute_{other}"):
            act(
                lambda: draws.start_draw_job(
                    d,
                    actor=current_actor(),
                    relaxation=rec.relaxation,
                    note=rec.note,
                    objective=other,
                ),
                None,
            )
        return
    st.markdown(f"The lottery that will be published is **{labels[rec.algorithm]}**.")
    for key, r in alts.items():
        if key != rec.algorithm and st.button(f"Publish the other one instead: {labels[key]}", key=f"choose_{key}"):
            act(
                lambda r=r: draws.choose_draw(d, r.draw_id, actor=current_actor()),
                f"The lottery to publish is now: {labels[key]}.",
            )


def changes_text(rec: draws.DrawRecord) -> str:
    """The relaxed quotas in words, naming questions and answers by their labels."""
    labels = draws.feasibility_labels(db())
    try:
        return "; ".join(md(c.describe(labels)) for c in draws.quota_changes(rec.relaxation))
    except (KeyError, TypeError, ValueError):  # an old record without the numbers: its stored words
        return "; ".join(md(c.get("change", "")) for c in rec.relaxation)


def relaxation_note(rec: draws.DrawRecord) -> None:
    if rec.relaxation:
        st.warning("These quotas were relaxed so that a panel is possible: " + changes_text(rec) + ".")


def stale_warning(rec: draws.DrawRecord) -> None:
    d = db()
    inputs = draws.frozen_inputs(d)
    try:
        same = inputs is not None and draws.inputs_hash(draws.draw_instance(d, inputs)) == rec.inputs_hash
    except Exception:  # noqa: BLE001 - e.g. no eligible sign-ups any more
        same = False
    if not same:
        st.warning(
            "The sign-ups or the quotas have changed since this lottery was computed. It does not include "
            "the changes. Press “Start again” below to compute a new one (nothing has been published yet)."
        )


def rerun_note(rec: draws.DrawRecord) -> None:
    text = explain.rerun_warning(rec)
    if text:
        st.warning(text)
