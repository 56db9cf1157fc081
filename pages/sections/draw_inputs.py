"""Steps 1 and 2 of the Draw page: freeze the targets, check that the quotas can be met (accepting
the smallest change when they cannot), and start computing the fair lottery."""

from __future__ import annotations

import streamlit as st

from lib.access.auth import actor_name
from lib.draws import explain
from lib import draws
from lib.plaintext import md
from lib.recruitment.targets import latest_version, version_info
from lib.store.settings import set_setting
from lib.errors import UserError
from pages.common import act, current_actor, db, flash
from pages.sections.draw_common import labels, step_header


def steps_1_and_2(published: draws.DrawRecord | None) -> None:
    """``published``: the latest draw when its commitment is public (a new draw may be a re-run of it)."""
    d = db()
    step_header(1)
    inputs = draws.frozen_inputs(d)
    if inputs is None:
        _freeze_first()
        return
    newest = latest_version(d)
    if newest and newest > inputs.target_version:
        st.info(
            f"There is a newer target version ({newest}) that is not frozen yet. The draw uses the frozen "
            f"version {inputs.target_version} unless you freeze the newer one."
        )
        _freeze_with_confirmation(newest, f"Freeze target version {newest} and use it", "freeze_newer")
    pool = draws.draw_instance(d, inputs)
    st.markdown(
        f"Targets **version {inputs.target_version}** (frozen"
        f" by {md(actor_name(inputs.frozen_by) or 'an organiser')}), a panel of **{inputs.panel_size}** "
        f"people, drawn from **{len(pool.people)}** eligible sign-ups."
    )
    if st.session_state.pop("households_changed", False):
        wanted = bool(st.session_state.get("households"))
        if wanted != inputs.one_per_household:
            act(lambda: set_setting(d, "one_per_household", wanted, current_actor()), None)
    # Otherwise the switch shows the stored rule: a second tab's switch, left as it was, must not put back the
    # rule another tab (or organiser) has just changed, at its next click.
    st.session_state["households"] = inputs.one_per_household
    st.toggle(
        "At most one person per household",
        key="households",
        on_change=_households_changed,
        help="People who gave the same address count as one household; at most one of them can be on the panel.",
    )
    key = draws.inputs_hash(pool)
    if published is not None:
        kind, text = explain.earlier_draw_notice(published, key == published.inputs_hash)
        getattr(st, kind)(text)
        if key != published.inputs_hash:
            published = None
    relaxation = _quotas_check(key, inputs)
    if relaxation is None:
        return
    st.divider()
    _step_2(published, relaxation)


def _households_changed() -> None:
    st.session_state["households_changed"] = True


def _seen(latest_id: int | None) -> None:
    """The latest draw the page showed when "Compute" was pressed (the button's arguments are those of its run)."""
    st.session_state["compute_seen"] = latest_id


def _moved_on(e: UserError) -> None:
    """The draw moved on in another tab: say so above the current step, not here under an old one."""
    if isinstance(e, draws.DrawMovedOn):
        st.session_state.pop("new_draw", None)
        flash("warning", str(e))
        st.rerun()
    st.error(md(str(e)))


def _freeze_first() -> None:
    info = version_info(db())
    if info is None:
        st.error(
            "There are no population targets yet, so the draw cannot know which groups to balance. "
            "Enter them on the Targets page first."
        )
        return
    st.markdown(
        f"The draw uses the **latest targets (version {info.version})**, for a panel of "
        f"**{info.panel_size or '?'}** people. Before the draw they are *frozen*: nobody can change "
        "them afterwards, and everyone can see which targets were used."
    )
    _freeze_with_confirmation(
        info.version, f"Freeze target version {info.version} for the draw", "freeze", primary=True
    )


def _quotas_check(key: str, inputs: draws.FrozenInputs) -> list | None:
    """The feasibility check; the relaxation to draw with ([] when none is needed), None to stop here."""
    # The check is quick for most pools; keep its answer for this exact pool and quotas.
    cached = st.session_state.get("feasibility")
    if cached and cached[0] == key:
        report = cached[1]
    else:
        report = draws.check_inputs(db(), inputs)
        st.session_state["feasibility"] = (key, report)
    if report.feasible:
        st.success("Good news: panels that meet every quota exist.")
        return []
    st.warning("No panel can meet every quota as they stand. " + md(report.message()))  # labels, not keys
    if not report.relaxable or not report.relaxation:
        st.error(
            "No change to the quotas can fix this (for example, the panel is larger than the pool). "
            "Bring in more sign-ups or make the panel smaller on the Targets page."
        )
        return None
    st.markdown(
        "The computer suggests the **smallest change** below. Accept it as it is, or edit the new "
        "minimum and maximum; the change is published with the draw."
    )
    edited = st.data_editor(
        explain.relaxation_table(report.relaxation, labels()),
        disabled=["Field", "Group", "Now at least", "Now at most"],
        hide_index=True,
        key="relax_editor",
        width="stretch",
    )
    relaxation = explain.relaxation_from_table(report.relaxation, edited)
    if not st.checkbox("I accept this change to the quotas", key="accept_relax"):
        return None
    return relaxation


def _step_2(published: draws.DrawRecord | None, relaxation: list) -> None:
    step_header(2)
    st.markdown(
        "The computer now works out the **fairest lottery**: the one that gives the people with the "
        "smallest chance as big a chance as possible, while every possible panel meets the quotas. "
        "It then lists 1,000 equally likely panels, so that anybody can check each person's chance by "
        "counting."
    )
    reason = ""
    if published is not None:
        reason = st.text_input("Why is the draw run again? (shown with the re-run)", key="rerun_reason")
    latest = draws.latest_draw(db())
    shown = latest.draw_id if latest else None
    if st.button("Compute the fair lottery", type="primary", key="compute", on_click=_seen, args=(shown,)):
        if published is not None and not reason.strip():
            st.error("Please say why the draw is run again. It is published with the re-run.")
            return
        seen = st.session_state.pop("compute_seen", shown)
        act(
            lambda: draws.start_draw_job(
                db(),
                actor=current_actor(),
                relaxation=relaxation,
                note=reason.strip() or None,
                seen_latest=seen,
            ),
            None,
            show_refusal=_moved_on,
            before_rerun=lambda _job: st.session_state.pop("new_draw", None),
        )


def _freeze_with_confirmation(version: int, label: str, key: str, *, primary: bool = False) -> None:
    """Freezing the targets asks first, saying what freezing means and what can still change."""
    asking = st.session_state.get("confirm_freeze") == (key, version)
    if not asking:
        if st.button(label, type="primary" if primary else "secondary", key=key, icon=":material/lock:"):
            st.session_state["confirm_freeze"] = (key, version)
            st.rerun()
        return
    with st.container(border=True):
        st.markdown(f"**Freeze target version {version}?**")
        st.markdown(
            f"- Version {version} can **never change again**. Everyone can see that the draw used it, and the "
            "quotas it gives are written into the draw's public record.\n"
            "- **What can still change:** sign-ups keep coming in until you compute the lottery (step 2); the "
            "“one person per household” rule can still be switched; and if the targets turn out wrong, you can "
            "start a new version on the Targets page and freeze that one instead, until the commitment is "
            "published.\n"
            "- Do this once everyone agrees on the targets, just before the draw."
        )
        yes, no = st.columns(2)
        if yes.button(f"Yes, freeze version {version}", type="primary", key=f"{key}_confirm"):
            act(
                lambda: draws.freeze_targets(db(), version, actor=current_actor()),
                f"Target version {version} is frozen for the draw.",
                before_rerun=lambda _v: st.session_state.pop("confirm_freeze", None),
            )
        if no.button("Not yet", key=f"{key}_cancel"):
            st.session_state.pop("confirm_freeze", None)
            st.rerun()
