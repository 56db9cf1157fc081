"""The Sign-ups page's settings: which column holds what, automatic updates, and the safety check
before people are marked as gone."""

from __future__ import annotations

import streamlit as st

from lib.plaintext import md
from lib.recruitment.categories import load_fields
from lib.recruitment.signups import bring_in, live, overview
from lib.recruitment.signups.mapping import (
    CONTACT_ROLES,
    ROLE_LABELS,
    check_mapping,
    field_role,
    load_mapping,
    save_mapping,
)
from lib.recruitment.signups.sync import retire_share
from lib.store.settings import set_setting
from pages.common import act, current_actor, db
from pages.sections.signups_sources import SPINNER, show


def _choice(label: str, options: list[str], current: str | None, role: str) -> str:
    return st.selectbox(label, options, index=options.index(current) if current in options else 0, key=f"map_{role}")


def mapping_section() -> None:
    fields = load_fields(db())
    pending = st.session_state.get("pending")
    mapping = load_mapping(db())
    headers = overview.mapping_headers(pending[0].headers if pending else None, mapping)
    with st.expander("Which column holds what", expanded=pending is not None, icon=":material/table_view:"):
        if not headers:
            st.write("Bring in a sheet first; then you can choose its columns here.")
            return
        if pending:
            st.write(
                f"The sheet has {len(pending[0].headers)} columns and {pending[0].row_count} rows. "
                "Check each choice below. Only the answers used for the quotas are required."
            )
        base = overview.mapping_start(mapping, headers, fields, waiting=pending is not None)
        options = [overview.NOT_USED] + list(headers)
        with st.form("mapping_form"):
            chosen: dict[str, str] = {}
            st.markdown("**Answers used for the quotas** (required)")
            for f in fields:
                role = field_role(f.key)
                chosen[role] = _choice(md(f.label), options, base.column(role), role)
            st.markdown("**Contact details and identity** (optional, kept private)")
            for role in ("id",) + CONTACT_ROLES:
                chosen[role] = _choice(ROLE_LABELS[role], options, base.column(role), role)
            submitted = st.form_submit_button("Save and bring in" if pending else "Save", type="primary")
        if submitted:
            _save(overview.chosen_mapping(chosen), headers, fields, pending)


def _save(new, headers: list[str], fields: list, pending: tuple | None) -> None:
    problems = check_mapping(new, headers, fields)
    if problems:
        for p in problems:
            st.error(md(p))
        return
    if not pending:
        act(lambda: save_mapping(db(), new, actor=current_actor()), "Column choices saved.")
        return
    save_mapping(db(), new, actor=current_actor())
    grid, kind, label, source = pending
    del st.session_state["pending"]
    with st.spinner(SPINNER):
        show(bring_in.sync_with(db(), grid, new, kind=kind, label=label, actor=current_actor(), source=source))
    st.rerun()


def automatic_section() -> None:
    with st.expander("Automatic updates", icon=":material/update:"):
        settings = live.live_settings(db())
        st.write(
            "Once sign-ups have come from a Google Sheet or a published link, Kleroterion brings in new ones "
            "by itself, so the quota board follows the form through the day. A change that needs your "
            "confirmation is never brought in by itself: it waits for you at the top of this page."
        )
        with st.form("live_form"):
            on = st.toggle("Bring in new sign-ups by themselves", value=settings.enabled)
            minutes = st.number_input(
                "How often, in minutes",
                min_value=live.PAGE_MIN_MINUTES,
                max_value=24 * 60,
                value=max(live.PAGE_MIN_MINUTES, int(round(settings.seconds / 60))),
                step=1,
            )
            if st.form_submit_button("Save"):
                act(
                    lambda: live.save_live_settings(db(), enabled=on, seconds=int(minutes) * 60, actor=current_actor()),
                    lambda saved: (
                        f"Saved: new sign-ups are brought in by themselves, {saved.every_words}."
                        if on
                        else "Saved: new sign-ups are brought in only when somebody presses a button."
                    ),
                )


def safety_section() -> None:
    with st.expander("Safety check before people are marked as gone", icon=":material/shield:"):
        share = retire_share(db())
        st.write(
            "When bringing in a sheet would mark more than this share of the people signed up as no longer "
            "in the sheet, Kleroterion shows the numbers and waits for an organiser to confirm. While a draw "
            "is being prepared, any change to the sign-ups waits for a confirmation."
        )
        with st.form("safety_form"):
            pct = st.number_input(
                "Ask first when more than this percentage would be marked as gone",
                min_value=0,
                max_value=100,
                value=int(round(share * 100)),
                step=1,
            )
            if st.form_submit_button("Save"):
                act(
                    lambda: set_setting(db(), "retire_confirm_share", pct / 100, current_actor()),
                    f"Saved: Kleroterion asks first when more than {pct}% would be marked as gone.",
                )
