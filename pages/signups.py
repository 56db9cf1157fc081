"""Sign-ups: bring them in from the sheet, see what needs fixing, preview (contacts masked)."""

from __future__ import annotations

import os

import streamlit as st

from lib.categories import load_fields
from lib.errors import UserError
from lib.plaintext import md
from lib.settings import get_setting, set_setting
from lib.signups import store
from lib.signups.grid import Grid
from lib.signups.mapping import (CONTACT_ROLES, ROLE_LABELS, Mapping, check_mapping, field_role,
                                 load_mapping, save_mapping, suggest_mapping)
from lib.signups.sources import UPLOAD_TYPES, grid_from_google_sheet, grid_from_published_csv, grid_from_upload
from lib.signups.sync import record_failed_sync, sync_grid
from pages.common import db, flash, run_page, show_flashes
from pages.common import current_actor

NOT_USED = "— not in the sheet —"


def _sync(grid: Grid, kind: str, label: str) -> None:
    """Sync a fetched grid, or ask for the column mapping first if it does not fit."""
    fields = load_fields(db())
    mapping = load_mapping(db())
    if mapping is None or check_mapping(mapping, grid.headers, fields):
        st.session_state["pending"] = (grid, kind, label)
        flash("warning", "Please check which column holds what (below), then press “Save and bring in”.")
        return
    result = sync_grid(db(), grid, mapping, source_kind=kind, source_label=label, actor=current_actor())
    flash("success", f"Done: {result.summary()}")


def _fetch_and_sync(fetch, kind: str, label: str) -> None:
    try:
        grid = fetch()
    except UserError as e:
        record_failed_sync(db(), kind, label, str(e), actor=current_actor())
        flash("error", f"{md(e)} Your sign-ups from before are unchanged.")
        return
    try:
        _sync(grid, kind, label)
    except UserError as e:
        flash("error", f"{md(e)} Your sign-ups from before are unchanged.")


def status_banner() -> None:
    last = store.last_sync(db())
    good = store.last_good_sync(db())
    if last is None:
        st.info("No sign-ups have been brought in yet. Choose where they come from below.")
        return
    when = last["started_at"].strftime("%d %b %Y at %H:%M")
    if last["status"] == "ok":
        st.success(f"Last brought in on {when}: {md(last['message'])}")
    else:
        st.error(f"The last attempt, on {when}, did not work: {md(last['message'])}")
        if good is not None:
            st.caption(f"The sign-ups from {good['started_at'].strftime('%d %b %Y at %H:%M')} are still here, "
                       "unchanged.")


def sources_section() -> None:
    st.subheader("Bring in the latest sign-ups")
    tabs = st.tabs(["Google Sheet", "Upload a file", "Published sheet link", "Demo sign-ups"])
    with tabs[0]:
        saved = get_setting(db(), "sheet_source", {}) or {}
        from lib.resources import secrets_section

        creds = secrets_section("gcp_service_account")
        if not creds:
            st.info("To read a Google Sheet, Kleroterion needs a Google service account key in "
                    "`.streamlit/secrets.toml`. The guide docs/GOOGLE_SHEETS.md shows how, step by step. "
                    "Until then you can upload the sheet as a file.")
        with st.form("sheet_form"):
            url = st.text_input("The sheet's web address (or its key)", value=saved.get("spreadsheet", ""))
            worksheet = st.text_input("The tab's name", value=saved.get("worksheet", "Form responses 1"))
            go = st.form_submit_button("Bring in sign-ups from the sheet", type="primary", disabled=not creds)
        if go:
            if not url.strip():
                st.error("Paste the sheet's web address first.")
            else:
                set_setting(db(), "sheet_source", {"spreadsheet": url.strip(), "worksheet": worksheet.strip()},
                            current_actor())
                _fetch_and_sync(lambda: grid_from_google_sheet(creds, url.strip(), worksheet.strip(),
                                                               os.environ.get("KLEROTERION_SHEETS_API_BASE")),
                                "google_sheet", f"{url.strip()} / {worksheet.strip()}")
                st.rerun()
    with tabs[1]:
        up = st.file_uploader("A CSV or Excel (.xlsx) file of the sign-ups, with the questions in the first row",
                              type=list(UPLOAD_TYPES))
        if up is not None and st.button("Bring in sign-ups from this file", type="primary"):
            data = up.getvalue()
            kind = "excel" if up.name.lower().endswith(".xlsx") else "csv"
            _fetch_and_sync(lambda: grid_from_upload(up.name, data), kind, up.name)
            st.rerun()
    with tabs[2]:
        try:
            from lib.signups.published_csv import PUBLIC_WARNING
        except ImportError:  # pragma: no cover - module ships with the app
            PUBLIC_WARNING = "Anyone with the link can read a published sheet."
        st.warning(PUBLIC_WARNING)
        with st.form("published_form"):
            link = st.text_input("The “published to the web” CSV link")
            go = st.form_submit_button("Bring in sign-ups from the link")
        if go:
            if not link.strip():
                st.error("Paste the link first.")
            else:
                _fetch_and_sync(lambda: grid_from_published_csv(link.strip()), "published_csv", link.strip())
                st.rerun()
    with tabs[3]:
        st.write("The demo assembly's made-up sign-ups, to try things out.")
        if st.button("Bring in the demo sign-ups"):
            from lib.demo import DEMO_SOURCE_LABEL, demo_signups_grid

            _fetch_and_sync(demo_signups_grid, "demo", DEMO_SOURCE_LABEL)
            st.rerun()


def mapping_section() -> None:
    fields = load_fields(db())
    pending = st.session_state.get("pending")
    mapping = load_mapping(db())
    headers = pending[0].headers if pending else sorted(set((mapping.columns.values() if mapping else [])))
    expanded = pending is not None
    with st.expander("Which column holds what", expanded=expanded, icon=":material/table_view:"):
        if not headers:
            st.write("Bring in a sheet first; then you can choose its columns here.")
            return
        if pending:
            st.write(f"The sheet has {len(pending[0].headers)} columns and {pending[0].row_count} rows. "
                     "Check each choice below. Only the answers used for the quotas are required.")
        base = mapping if (mapping and not (pending and check_mapping(mapping, headers, fields))) else \
            suggest_mapping(headers, fields)
        options = [NOT_USED] + list(headers)
        with st.form("mapping_form"):
            chosen: dict[str, str] = {}
            st.markdown("**Answers used for the quotas** (required)")
            for f in fields:
                role = field_role(f.key)
                current = base.column(role)
                chosen[role] = st.selectbox(md(f.label), options, index=options.index(current) if current in options else 0,
                                            key=f"map_{role}")
            st.markdown("**Contact details and identity** (optional, kept private)")
            for role in ("id",) + CONTACT_ROLES:
                current = base.column(role)
                chosen[role] = st.selectbox(ROLE_LABELS[role], options,
                                            index=options.index(current) if current in options else 0,
                                            key=f"map_{role}")
            label = "Save and bring in" if pending else "Save"
            submitted = st.form_submit_button(label, type="primary")
        if submitted:
            new = Mapping({r: c for r, c in chosen.items() if c != NOT_USED})
            problems = check_mapping(new, headers, fields)
            if problems:
                for p in problems:
                    st.error(md(p))
                return
            save_mapping(db(), new, actor=current_actor())
            if pending:
                grid, kind, label_ = pending
                del st.session_state["pending"]
                try:
                    result = sync_grid(db(), grid, new, source_kind=kind, source_label=label_, actor=current_actor())
                    flash("success", f"Done: {result.summary()}")
                except UserError as e:
                    flash("error", f"{md(e)} Your sign-ups from before are unchanged.")
            else:
                flash("success", "Column choices saved.")
            st.rerun()


def body() -> None:
    st.title("Sign-ups")
    show_flashes()
    status_banner()
    counts = store.signup_counts(db())
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Signed up", counts["current"])
    c2.metric("Ready for the draw", counts["eligible"])
    c3.metric("With a problem to fix", counts["blocked"])
    c4.metric("No longer in the sheet", counts["removed"])

    sources_section()
    mapping_section()

    st.subheader("Problems to look at")
    problems = store.problem_list(db())
    if problems.empty:
        st.write("No problems found. 🎉")
    else:
        must = int((problems["Importance"] == "Must fix").sum())
        st.write(f"{must} must be fixed before those people can be in the draw; "
                 f"{len(problems) - must} are worth a check. Nothing has been left out: every row is kept.")
        only_must = st.toggle("Show only the ones that must be fixed", value=False)
        shown = problems[problems["Importance"] == "Must fix"] if only_must else problems
        st.dataframe(shown, hide_index=True, width="stretch",
                     column_config={"What to do": st.column_config.TextColumn(width="large")})

    st.subheader("Preview")
    st.caption("Names and contact details are hidden here. Everyone is known by a pseudonym (P-0001 …).")
    st.dataframe(store.preview(db(), limit=200), hide_index=True, width="stretch")

    with st.expander("History of bringing in sign-ups", icon=":material/history:"):
        st.dataframe(store.last_syncs(db(), 20), hide_index=True, width="stretch")


run_page(body)
