"""The draw: a step-by-step ceremony for organisers.

1 check the quotas → 2 compute the fair lottery → 3 publish the commitment → 4 enter the
public random number → 5 reveal the panel → 6 download the audit bundle and lists.
Every step is stored (lib/draws/records.py), so reloading the page comes back to the right step:
lib.draws.ceremony_steps works out what to show from the stored draw. The steps are drawn by
pages/sections/draw_*.py.
"""

from __future__ import annotations

import streamlit as st

from lib import draws
from lib.draws.ceremony_steps import draw_screen
from pages.common import db, flash, require, run_page, show_flashes
from pages.sections.draw_ceremony import ceremony
from pages.sections.draw_common import show_job, step_header
from pages.sections.draw_inputs import steps_1_and_2
from pages.sections.draw_lottery import chances, rerun_note, relaxation_note, stale_warning, which_lottery
from pages.sections.draw_replacements import history, replacements


def _new_draw(rec: draws.DrawRecord | None) -> None:
    """Steps 1 and 2: the first draw, or a new one the organiser chose to start."""
    steps_1_and_2(rec if rec is not None and rec.is_committed else None)
    if st.session_state.get("new_draw") and st.button("Back to the current draw", key="back"):
        st.session_state.pop("new_draw", None)
        st.rerun()


def _computed(rec: draws.DrawRecord) -> None:
    """The lottery is ready and nothing is published: its chances in full, then step 3."""
    stale_warning(rec)
    step_header(2)
    st.success(
        f"The fair lottery is ready: {rec.m} equally likely panels of {rec.panel_size}, from "
        f"{rec.pool_size} sign-ups. Here is each person's chance of being picked."
    )
    chances(rec)
    if rec.kind == "draw":
        which_lottery(rec)
    st.divider()
    ceremony(rec, "d_")
    if st.button("Start again (nothing has been published yet)", key="restart"):
        st.session_state["new_draw"] = True
        st.rerun()


def _published(rec: draws.DrawRecord) -> None:
    """The commitment is public (or withdrawn): steps 3 to 6, the chances folded away."""
    with st.expander("Each person's chance in this lottery"):
        chances(rec)
    ceremony(rec, "d_")
    with st.expander("Run the draw again"):
        st.warning(
            "A draw should be run once. If you run it again, the new draw is recorded as a "
            "**re-run** of this one, and both are shown to everyone."
        )
        if st.button("I understand: start a new draw", key="rerun"):
            st.session_state["new_draw"] = True
            st.rerun()


def _where(d) -> tuple:
    """Where the draw is, as stored: the latest draw and its step, the last computations, the frozen targets."""
    rec = draws.latest_draw(d)
    jobs = [draws.last_job(d, kind) for kind in ("draw", "replacement")]
    inputs = draws.frozen_inputs(d)
    return (
        (rec.draw_id, rec.status) if rec else None,
        tuple((j.job_id, j.status) if j else None for j in jobs),
        (inputs.target_version, inputs.one_per_household) if inputs else None,
    )


@st.fragment(run_every=3.0)
def _watch(shown: tuple) -> None:
    """A page left open in a second tab (or by a second organiser) follows the draw within a few seconds,
    instead of offering a step that is over (e.g. "Compute" once the lottery is ready)."""
    if _where(db()) != shown:
        st.session_state.pop("new_draw", None)
        flash(
            "info", "The draw has moved on (in another tab or by another organiser): this page now shows where it is."
        )
        st.rerun(scope="app")


def body() -> None:
    if not require("draw", "Only organisers can run the draw. Please sign in as an organiser."):
        return
    st.title("The draw")
    st.caption("A fair, public draw in six steps. Every step is saved: you can close this page and come back.")
    show_flashes()
    d = db()
    shown = _where(d)
    rec = draws.latest_draw(d)
    screen = draw_screen(
        rec.status if rec else None, computing=show_job("draw"), starting_again=bool(st.session_state.get("new_draw"))
    )
    if screen == "inputs":
        _new_draw(rec)
    elif rec is not None and screen in ("lottery", "ceremony"):
        rerun_note(rec)
        relaxation_note(rec)
        (_computed if screen == "lottery" else _published)(rec)
    if draws.chain_tip(d) is not None:
        st.divider()
        replacements()
    history()
    if screen != "computing":  # while computing, the progress follows the job (draw_common)
        _watch(shown)


run_page(body)
