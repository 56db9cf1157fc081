"""Replacements and the list of every draw, at the foot of the Draw page."""

from __future__ import annotations

import streamlit as st

from lib.assembly import awaiting_replacement
from lib.draws import explain
from lib import draws
from lib.draws.ceremony_steps import earlier_rounds, open_round
from lib.plaintext import count
from pages.common import act, current_actor, db
from pages.sections.draw_common import show_job
from pages.sections.draw_ceremony import ceremony, result
from pages.sections.draw_lottery import changes_text, rerun_note


def replacements() -> None:
    d = db()
    tip = draws.chain_tip(d)
    if tip is None:
        return
    st.header("Replacements")
    st.markdown(
        "When panel members drop out, draw replacements from the people who were not selected, through "
        "the same public steps. The new members are chosen so that the panel meets the quotas again."
    )
    rounds = draws.replacement_rounds(d)
    if show_job("replacement"):
        return
    rec = open_round(rounds, tip.draw_id)
    if rec is not None:
        _open_round(rec)
        if not st.session_state.get("replacement_new"):
            return
    elif tip.kind == "replacement":
        with st.expander(f"Latest replacement round ({tip.round}): result and downloads", expanded=True):
            result(tip, f"r{tip.draw_id}_")
    _new_round(tip.panel_after)
    _earlier(earlier_rounds(rounds, tip.draw_id))


def _open_round(rec: draws.DrawRecord) -> None:
    st.subheader(f"Replacement round {rec.round}: replacing {', '.join(rec.replaces)}")
    rerun_note(rec)
    if rec.relaxation:
        st.warning("The people left could not meet every quota, so these were relaxed: " + changes_text(rec) + ".")
    st.caption(
        f"Reserve pool: {rec.pool_size} people. Smallest chance among them: {draws.chance_text(rec.min_probability)}."
    )
    ceremony(rec, f"r{rec.draw_id}_")
    if rec.status == "computed" and st.button("Cancel this round (nothing was published)", key=f"cancel_{rec.draw_id}"):
        st.session_state["replacement_new"] = True


def _new_round(panel: list[str]) -> None:
    withdrawn = [p for p in awaiting_replacement(db()) if p in panel]
    if withdrawn:
        st.info(
            f"{count(len(withdrawn), 'member')} withdrew and {'is' if len(withdrawn) == 1 else 'are'} waiting "
            f"for a replacement: {', '.join(withdrawn)}."
        )
    picked = st.multiselect(
        "Who dropped out? (pseudonyms of current panel members)", options=panel, default=withdrawn, key="dropouts"
    )
    if st.button("Prepare the replacement round", type="primary", key="prepare_replacement"):
        if not picked:
            st.error("Choose at least one panel member who dropped out.")
            return
        act(
            lambda: draws.start_replacement_job(db(), picked, actor=current_actor()),
            None,
            before_rerun=lambda _job: st.session_state.pop("replacement_new", None),
        )


def _earlier(done: list[draws.DrawRecord]) -> None:
    if not done:
        return
    with st.expander(f"Earlier replacement rounds ({len(done)})"):
        for r in done:
            st.markdown(
                f"**Round {r.round}** (draw {r.draw_id}): {', '.join(r.selected_ids)} replace {', '.join(r.replaces)}."
            )
            st.download_button(
                "Audit bundle of this round",
                draws.draw_bundle(db(), r.draw_id) or b"",
                file_name=f"replacement-round-{r.round}-draw-{r.draw_id}-bundle.zip",
                key=f"old_bundle_{r.draw_id}",
                mime="application/zip",
            )


def history() -> None:
    records = draws.list_draws(db())
    if not records:
        return
    with st.expander(f"Every draw so far ({len(records)})"):
        st.dataframe(explain.history_table(records), hide_index=True, width="stretch")
