"""Targets and quotas: what the community looks like, and the seats each group gets on the panel."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.access.auth import actor_in_sentence, actor_in_words, actor_name
from lib.recruitment.categories import load_fields
from lib.plaintext import md
from lib.recruitment.quota_board import eligible_counts, pool_signature
from lib.recruitment.quotas import derive_quotas, target_warnings
from lib.store.settings import get_setting
from lib.recruitment.targets import (Target, all_versions, load_seat_bands, load_targets, read_targets_file,
                                     save_target_version, seats_source, start_new_version, targets_from_rows,
                                     version_info)
from pages.common import act, current_actor, db, require, run_page, show_flashes

SHARE_COL, SOURCE_COL = "Share of the community (%)", "Source (e.g. census table and date)"


def _show_feasibility(database, qkey: tuple, k: int) -> None:
    """Whether the sign-ups ready for the draw can meet these quotas, and the smallest change if not."""
    with st.spinner("Checking every possible panel …"):
        res = _feasibility(database.path, pool_signature(database), qkey, k,
                           bool(get_setting(database, "one_per_household", False)))
    if res["feasible"]:
        st.success(f"Yes: a panel of {k} that meets every quota can be drawn from the {res['pool']} people "
                   "ready for the draw.", icon=":material/check_circle:")
    else:
        st.error("Not yet: no panel can meet all these quotas with the people ready for the draw. "
                 + md(" ".join(res["diagnosis"])), icon=":material/error:")
        if res["relaxation"]:
            st.markdown("**Smallest change that would work** (or find more sign-ups of these kinds):\n"
                        + "\n".join(f"- {md(c[0].upper() + c[1:])}" for c in res["relaxation"]))


@st.cache_data(show_spinner=False, max_entries=32)
def _feasibility(db_path: str, pool_sig: tuple, quotas: tuple, panel_size: int, one_per_household: bool) -> dict:
    """Whether the current pool can meet the quotas (cached per pool state and quotas)."""
    from lib.recruitment.quotas import build_instance
    from lib.sortition.feasibility import check_feasibility
    from lib.sortition.audit.model import Quota

    from lib.draws.feasibility import feasibility_labels

    instance = build_instance(db(), [Quota(*q) for q in quotas], panel_size, one_per_household=one_per_household)
    labels = feasibility_labels(db())      # the questions and answers as set up, not their keys
    report = check_feasibility(instance, labels=labels)
    return {"feasible": report.feasible, "diagnosis": list(report.diagnosis),
            "relaxation": [c.describe(labels) for c in report.relaxation], "seats": report.seats,
            "relaxable": report.relaxable, "pool": len(instance.people)}


def _editor_frame(fields, targets: list[Target]) -> pd.DataFrame:
    have = {(t.field, t.value): t for t in targets}
    rows = []
    for f in fields:
        for v in f.values:
            t = have.get((f.key, v))
            rows.append({"field": f.key, "value": v, "Question": f.label, "Group": f.value_labels.get(v, v),
                         SHARE_COL: None if t is None else round(t.share * 100, 3),
                         SOURCE_COL: "" if t is None else (t.source or "")})
    return pd.DataFrame(rows)


def body() -> None:
    st.title("Targets and quotas")
    show_flashes()
    if not require("targets", "Only organisers can set the targets."):
        return
    database = db()
    fields = load_fields(database)
    if not fields:
        st.info("First describe the questions the panel is balanced on (age band, area …) on the page "
                "“Set up the assembly”.")
        st.page_link("pages/setup.py", label="Set up the assembly", icon=":material/arrow_forward:")
        return
    info = version_info(database)
    if info is not None and load_seat_bands(database, info.version) and not st.session_state.get("targets_use_shares"):
        quota_table_version(database, fields, info)
        return
    saved = load_targets(database, info.version) if info else []
    frozen = bool(info and info.frozen)

    version_line(info)

    # 1. Panel size and rules --------------------------------------------------------------
    st.subheader("1. The panel")
    assembly = get_setting(database, "assembly", {}) or {}
    default_k = int((info.panel_size if info and info.panel_size else None) or assembly.get("panel_size") or 30)
    c1, c2, c3 = st.columns(3)
    k = int(c1.number_input("Panel size (people)", min_value=1, max_value=5000, value=default_k, step=1,
                            disabled=frozen))
    slack = int(c2.number_input("Extra room each way (seats)", min_value=0, max_value=10,
                                value=int(info.slack if info else 0), step=1, disabled=frozen,
                                help="0: each group gets the whole numbers just below and above its fair share of "
                                     "seats. 1: one seat more room each way, which makes the quotas easier to meet."))
    threshold = float(c3.number_input("Small groups: a seat for a fair share of at least", min_value=0.0,
                                      max_value=1.0, value=float(info.small_group_threshold if info else 0.5),
                                      step=0.1, format="%.1f", disabled=frozen,
                                      help="A group whose fair share of seats is at least this (e.g. half a seat) "
                                           "is guaranteed one seat. 0 guarantees a seat to every group with a "
                                           "target above zero."))

    # 2. The shares ------------------------------------------------------------------------
    st.subheader("2. What the community looks like")
    base = st.session_state.get("targets_upload") or saved
    base_id = st.session_state.get("targets_upload_id", 0)
    if not frozen:
        upload_shares(fields, base_id)
    frame = _editor_frame(fields, base)
    edited = st.data_editor(
        frame, key=f"targets_editor_{base_id}", hide_index=True, disabled=["Question", "Group"] if not frozen else True,
        column_order=["Question", "Group", SHARE_COL, SOURCE_COL],
        column_config={SHARE_COL: st.column_config.NumberColumn(min_value=0.0, max_value=100.0, format="%.1f"),
                       SOURCE_COL: st.column_config.TextColumn(width="large")})
    draft, errors = targets_from_rows(edited.to_dict("records"), SHARE_COL, SOURCE_COL)
    for e in errors:
        st.error(md(e))
    for w in target_warnings(draft, fields):
        st.warning(md(w))

    # 3. Seats per group ---------------------------------------------------------------------
    st.subheader("3. Seats for each group")
    quotas = derive_quotas(draft, k, slack=slack, small_group_threshold=threshold)
    if not quotas:
        st.info("Enter at least one share to see the seats.")
    else:
        seats_and_feasibility(database, fields, quotas, k)

    # 5. Save and freeze ---------------------------------------------------------------------
    st.subheader("5. Save")
    if frozen:
        st.info("The targets are frozen, so they cannot be saved again.")
        new_version_form(database, info)
    else:
        with st.form("save_targets"):
            who = st.text_input("Your name", value=_signed_in_name(), max_chars=80)
            why = st.text_input("Why are the targets changing?", max_chars=300,
                                placeholder="e.g. census 2021 figures for the whole town")
            go = st.form_submit_button(f"Save as version {(info.version + 1) if info else 1}", type="primary",
                                       disabled=bool(errors))
        if go:
            act(lambda: save_target_version(database, draft, panel_size=k, slack=slack, small_group_threshold=threshold,
                                            note=why, actor=who, labels={f.key: f.label for f in fields}),
                lambda v: f"Saved as version {v}.",
                before_rerun=lambda _v: st.session_state.update(targets_upload=None, targets_upload_id=base_id + 1))
        freeze_button(database, info)

    history(database)


def version_line(info) -> None:
    """The targets' version in force: none yet, frozen for the draw (by whom, when), or saved and not frozen."""
    if info is None:
        st.info("No targets yet. Enter what the community looks like below, or upload them as a CSV file.")
    elif info.frozen:
        st.success(f"**Frozen for the draw**: version {info.version} was frozen by {md(actor_name(info.frozen_by) or 'an organiser')} "
                   f"on {info.frozen_at:%d %b %Y at %H:%M}. These targets can no longer change, so everybody can "
                   "check the draw used exactly them.", icon=":material/lock:")
    else:
        st.caption(f"Version {info.version}, saved by {md(actor_in_sentence(info.created_by))} on "
                   f"{info.created_at:%d %b %Y at %H:%M}: “{md(info.note or '')}”. Not frozen yet.")


def upload_shares(fields, base_id: int) -> None:
    with st.expander("Upload the shares as a CSV file instead"):
        st.caption("Columns: field, value, share and optionally source. Shares as fractions (0.14) or "
                   "percentages (14 or 14%). Field and value are the short names shown in the table below.")
        upload = st.file_uploader("Targets file (CSV)", type=["csv"], key="targets_file")
        if st.button("Use this file", disabled=upload is None):
            act(lambda: read_targets_file(upload.getvalue(), fields, upload.name),
                lambda loaded: f"Read {len(loaded)} shares from {md(upload.name)}. Check them below, then save.",
                show_refusal=lambda e: st.error(f"{md(e)} Nothing was changed."),
                before_rerun=lambda loaded: st.session_state.update(targets_upload=loaded,
                                                                    targets_upload_id=base_id + 1))


def seats_and_feasibility(database, fields, quotas, k: int) -> None:
    """3. The seats of each group beside the sign-ups ready for the draw; 4. whether they can be met."""
    eligible = eligible_counts(database)
    labels = {f.key: f.label for f in fields}
    vlabels = {(f.key, v): f.value_labels.get(v, v) for f in fields for v in f.values}
    st.dataframe(pd.DataFrame([{
        "Question": labels.get(q.field, q.field), "Group": vlabels.get((q.field, q.value), q.value),
        "Community": f"{q.share * 100:.1f}%", "Fair share of seats": round(q.ideal, 2),
        "Fewest seats": q.min, "Most seats": q.max,
        "Ready for the draw": eligible.get((q.field, q.value), 0)} for q in quotas]),
        hide_index=True, width="stretch")
    st.subheader("4. Can the sign-ups so far meet these quotas?")
    _show_feasibility(database, tuple((q.field, q.value, q.min, q.max) for q in quotas), k)


def freeze_button(database, info) -> None:
    from lib.draws.records import freeze_targets

    if info is not None:
        with st.popover("Freeze these targets for the draw", icon=":material/lock:"):
            st.write(f"Freezing version {info.version} means it can never change again. Do this just before "
                     "the draw, once everyone agrees.")
            st.write("What can still change: sign-ups keep coming in until the lottery is computed, and if the "
                     "targets turn out wrong you can start a new version and freeze that one instead, until the "
                     "draw's commitment is published.")
            if st.button("Yes, freeze them", type="primary"):
                act(lambda: freeze_targets(database, info.version, actor=current_actor()),
                    f"Version {info.version} is frozen for the draw.")


def new_version_form(database, info) -> None:
    """After the freeze: a new version to change, the frozen one kept exactly as it was."""
    with st.expander("Change them anyway: start a new version", icon=":material/edit:"):
        st.write(f"Version {info.version} stays exactly as it was frozen (the draw's record uses it). A new version "
                 "starts with the same numbers; change it, then freeze it again before the draw.")
        with st.form("new_target_version"):
            who = st.text_input("Your name", value=_signed_in_name(), max_chars=80)
            why = st.text_input("Why start a new version?", max_chars=300)
            go = st.form_submit_button(f"Start version {info.version + 1}")
        if go:
            act(lambda: start_new_version(database, actor=who, note=why.strip() or "New version after the freeze"),
                lambda v: f"Version {v} started from version {info.version}, which stays frozen.")


def quota_table_version(database, fields, info) -> None:
    """The latest version is an imported quota table: its seats exactly, whether the pool can meet them."""
    k = int(info.panel_size)
    source = seats_source(database, info.version) or "a quota table"
    if info.frozen:
        st.success(f"**Frozen for the draw**: version {info.version} was frozen by {md(actor_name(info.frozen_by) or 'an organiser')} "
                   f"on {info.frozen_at:%d %b %Y at %H:%M}. These quotas can no longer change.", icon=":material/lock:")
    else:
        st.caption(f"Version {info.version}, saved by {md(actor_in_sentence(info.created_by))} on "
                   f"{info.created_at:%d %b %Y at %H:%M}: “{md(info.note or '')}”. Not frozen yet.")
    st.subheader(f"Seats for each group, from {md(source)}")
    st.write(f"These fewest and most seats come straight from the quota table, for a panel of {k}. To change them, "
             "bring a new table on “Set up the assembly” (step 3), or enter the community's shares instead.")
    bands = load_seat_bands(database, info.version)
    eligible = eligible_counts(database)
    flex = any(b.min_flex is not None or b.max_flex is not None for b in bands)
    by_key = {f.key: f for f in fields}
    st.dataframe(pd.DataFrame([{
        "Question": by_key[b.field].label if b.field in by_key else b.field,
        "Group": by_key[b.field].label_of(b.value) if b.field in by_key else b.value,
        "Fewest seats": b.min, "Most seats": b.max,
        **({"Fewest if relaxed": b.min_flex, "Most if relaxed": b.max_flex} if flex else {}),
        "Ready for the draw": eligible.get((b.field, b.value), 0)} for b in bands]), hide_index=True, width="stretch")
    st.subheader("Can the sign-ups so far meet these quotas?")
    _show_feasibility(database, tuple((b.field, b.value, b.min, b.max) for b in bands), k)
    if info.frozen:
        new_version_form(database, info)
    else:
        freeze_button(database, info)
        if st.button("Enter the community's shares instead"):
            st.session_state["targets_use_shares"] = True
            st.rerun()
    history(database)


def history(database) -> None:
    st.subheader("History")
    hist = all_versions(database)
    if hist:
        st.dataframe(pd.DataFrame([{
            "Version": h.version, "When": f"{h.created_at:%d %b %Y %H:%M}", "Who": actor_in_words(h.created_by) or "–",
            "Why": h.note or "–", "What changed": h.changes or ("First version." if h.version == 1 else "–"),
            "Panel size": h.panel_size,
            "Frozen": f"{h.frozen_at:%d %b %Y %H:%M} by {actor_in_sentence(h.frozen_by)}" if h.frozen else "no"}
            for h in hist]), hide_index=True, width="stretch")
    else:
        st.caption("Nothing saved yet.")


def _signed_in_name() -> str:
    if st.session_state.get("account_name"):
        return str(st.session_state["account_name"])
    try:
        if getattr(st.user, "is_logged_in", False):
            return str(st.user.get("name") or st.user.get("email") or "")
    except Exception:  # noqa: BLE001 - no identity provider configured
        pass
    return ""


run_page(body)
