"""Sign-ups: bring them in from the sheet, see what needs fixing, preview (contacts masked).

Uploads show how the file reads before anything changes: the encoding (a choice when the guess is
uncertain), the sheet of a workbook, and the first rows. A sync that would retire many people, or
change the pool while a draw is being prepared, waits here for the organiser's confirmation.

Once sign-ups come from a Google Sheet or a published link, the server brings them in again by itself
(lib/recruitment/signups/live.py): the top of the page says when it last did, what went wrong last, and shows a
confirmation that the automatic sync is waiting for. Only one sync runs at a time: a button pressed
while another sync runs waits a little, then says so.
"""

from __future__ import annotations

import hashlib
import os

import pandas as pd
import streamlit as st

from lib.recruitment.categories import load_fields
from lib.errors import UserError
from lib.plaintext import md
from lib.store.settings import get_setting, set_setting
from lib.recruitment.signups import live, store
from lib.recruitment.signups.grid import Grid
from lib.recruitment.signups.mapping import (CONTACT_ROLES, ROLE_LABELS, Mapping, check_mapping, field_role,
                                 load_mapping, save_mapping, suggest_mapping)
from lib.recruitment.signups.sources import (UPLOAD_TYPES, grid_from_google_sheet, grid_from_published_csv, grid_from_upload,
                                 guess_upload_encoding, upload_kind, workbook_sheet_names)
from lib.recruitment.signups.slot import SyncBusy, sync_slot
from lib.recruitment.signups.sync import (LIVE_KINDS, ConfirmationNeeded, record_failed_sync, record_unexpected_failure,
                              retire_share, sync_grid)
from pages.common import db, flash, run_page, show_flashes
from pages.common import current_actor

NOT_USED = "— not in the sheet —"


FILE_KINDS = {"csv": "csv", "xlsx": "excel", "ods": "ods"}


def _run_sync(grid: Grid, mapping: Mapping, kind: str, label: str, confirmed=None, source: dict | None = None) -> None:
    """Sync; a sync that needs the organiser's confirmation is kept for the confirmation box."""
    try:
        with st.spinner("Bringing in the sign-ups…"):
            result = sync_grid(db(), grid, mapping, source_kind=kind, source_label=label, actor=current_actor(),
                               confirmed=confirmed, source=source, wait=live.MANUAL_WAIT_SECONDS)
    except ConfirmationNeeded as e:
        st.session_state["confirm"] = {"grid": grid, "mapping": mapping.to_json(), "kind": kind, "label": label,
                                       "counts": e.counts, "message": str(e), "reason": e.reason, "source": source}
        return
    except SyncBusy as e:
        flash("error", md(e))
        return
    except UserError as e:
        flash("error", f"{md(e)} Your sign-ups from before are unchanged.")
        return
    flash("success", f"Done: {md(result.summary())}")


def _sync(grid: Grid, kind: str, label: str, source: dict | None = None) -> None:
    """Sync a fetched grid, or ask for the column mapping first if it does not fit."""
    fields = load_fields(db())
    mapping = load_mapping(db())
    if mapping is None or check_mapping(mapping, grid.headers, fields):
        chosen = [c for c in (mapping.columns.values() if mapping else []) if c]
        if chosen and not any(c in grid.headers for c in chosen):
            try:        # refused (and logged) with the missing columns named; the organiser may still re-map
                sync_grid(db(), grid, mapping, source_kind=kind, source_label=label, actor=current_actor())
            except UserError as e:
                flash("error", md(e))
        st.session_state["pending"] = (grid, kind, label, source)
        flash("warning", "Please check which column holds what (below), then press “Save and bring in”.")
        return
    _run_sync(grid, mapping, kind, label, source=source)


def _fetch_and_sync(fetch, kind: str, label: str, source: dict | None = None) -> None:
    """Read the sheet and bring it in, holding the sync slot throughout (one sync at a time: a running
    one is waited for a little, then the organiser is told plainly)."""
    try:
        with st.spinner("Bringing in the sign-ups…"), sync_slot(db(), current_actor(), wait=live.MANUAL_WAIT_SECONDS):
            _fetch_and_sync_now(fetch, kind, label, source)
    except SyncBusy as e:
        flash("error", md(e))


def _fetch_and_sync_now(fetch, kind: str, label: str, source: dict | None) -> None:
    try:
        grid = fetch()
    except UserError as e:
        record_failed_sync(db(), kind, label, str(e), actor=current_actor())
        flash("error", f"{md(e)} Your sign-ups from before are unchanged.")
        return
    except Exception as e:      # a bug: in the sync log too, then the page's own error handling
        if not getattr(e, "_kleroterion_logged", False):
            record_unexpected_failure(db(), kind, label, e, actor=current_actor())
        raise
    try:
        _sync(grid, kind, label, source)
    except SyncBusy:
        raise
    except UserError as e:
        flash("error", f"{md(e)} Your sign-ups from before are unchanged.")


def confirmation_section() -> None:
    """The held sync: its numbers, and a plain yes or no. Nothing changes until yes."""
    held = st.session_state.get("confirm")
    if not held:
        return
    what = "file" if held["kind"] in FILE_KINDS.values() else "sheet"
    yes = (f"Yes, bring in the {what} and retire them" if held["reason"] == "retire"
           else f"Yes, bring in the {what} with these changes")
    with st.container(border=True):
        st.subheader("Please confirm before anything changes")
        st.warning(md(held["message"]))
        c1, c2 = st.columns(2)
        if c1.button(yes, type="primary", key="confirm_yes"):
            del st.session_state["confirm"]
            _run_sync(held["grid"], Mapping(dict(held["mapping"])), held["kind"], held["label"],
                      confirmed=held["counts"], source=held.get("source"))
            st.rerun()
        if c2.button("No, keep the sign-ups as they are", key="confirm_no"):
            del st.session_state["confirm"]
            record_failed_sync(db(), held["kind"], held["label"], "Not brought in: the organiser chose to keep the "
                               "sign-ups as they were.", actor=current_actor())
            flash("info", "Nothing was changed: the sign-ups are as they were.")
            st.rerun()


def _remember(key: tuple, make):
    """Work done on an upload (guess, sheet names, preview) is kept for the next reruns of the page."""
    cache = st.session_state.setdefault("_upload_cache", {})
    if any(k[1] != key[1] for k in cache):      # another file: forget the last one's work (memory)
        cache.clear()
    if key not in cache:
        try:
            cache[key] = ("ok", make())
        except UserError as e:
            cache[key] = ("error", e)
    status, value = cache[key]
    if status == "error":
        raise value
    return value


def _preview(grid: Grid, n: int = 5) -> pd.DataFrame:
    part = grid.table.slice(0, n)
    return pd.DataFrame({h: part.column(f"c{i}").to_pylist() for i, h in enumerate(grid.headers)})


def upload_tab() -> None:
    up = st.file_uploader("A CSV, Excel (.xlsx) or OpenDocument (.ods) file of the sign-ups, with the questions in "
                          "the first row", type=list(UPLOAD_TYPES))
    if up is None:
        return
    data = up.getvalue()
    digest = hashlib.sha256(data).hexdigest()[:16]
    sheet = encoding = None
    kind = "csv"
    try:
        kind = upload_kind(up.name, data)
        if kind in ("xlsx", "ods"):
            names = _remember(("sheets", digest), lambda: workbook_sheet_names(up.name, data))
            if len(names) > 1:
                sheet = st.selectbox("Which sheet holds the sign-ups?", names, key=f"sheet_{digest}")
            else:
                sheet = names[0] if names else None
        else:
            guess = _remember(("encoding", digest), lambda: guess_upload_encoding(data, up.name))
            labels = [guess.label(c) for c in guess.options]
            if not guess.certain:
                st.warning(guess.note)
            if len(labels) > 1:
                chosen = st.selectbox("Letters in this file are read as", labels, key=f"enc_{digest}")
                encoding = guess.options[labels.index(chosen)]
            else:
                encoding = guess.encoding
                st.caption(f"Letters in this file are read as {labels[0] if labels else 'UTF-8'}.")
        grid = _remember(("grid", digest, sheet, encoding),
                         lambda: grid_from_upload(up.name, data, sheet=sheet, encoding=encoding))
        st.caption(f"The first rows as Kleroterion reads them ({grid.row_count} rows in all). Check that names "
                   "with accents look right before bringing the file in.")
        st.dataframe(_preview(grid), hide_index=True, width="stretch")
    except UserError as e:
        st.error(f"{md(e)} Nothing has been brought in.")
    if st.button("Bring in sign-ups from this file", type="primary"):
        _fetch_and_sync(lambda: grid_from_upload(up.name, data, sheet=sheet, encoding=encoding),
                        FILE_KINDS.get(kind, "csv"), up.name)
        st.rerun()


def safety_section() -> None:
    with st.expander("Safety check before people are marked as gone", icon=":material/shield:"):
        share = retire_share(db())
        st.write("When bringing in a sheet would mark more than this share of the people signed up as no longer "
                 "in the sheet, Kleroterion shows the numbers and waits for an organiser to confirm. While a draw "
                 "is being prepared, any change to the sign-ups waits for a confirmation.")
        with st.form("safety_form"):
            pct = st.number_input("Ask first when more than this percentage would be marked as gone", min_value=0,
                                  max_value=100, value=int(round(share * 100)), step=1)
            if st.form_submit_button("Save"):
                set_setting(db(), "retire_confirm_share", pct / 100, current_actor())
                flash("success", f"Saved: Kleroterion asks first when more than {pct}% would be marked as gone.")
                st.rerun()


def _sheet_key() -> dict | None:
    from lib.resources import secrets_section
    from lib.recruitment.signups.sheets import SECRETS_SECTION

    return secrets_section(SECRETS_SECTION)


def _when(row: dict) -> str:
    return row["started_at"].strftime("%d %b %Y at %H:%M")


@st.fragment(run_every=30)
def status_banner() -> None:
    """When the sign-ups were last brought in, what went wrong last, and what the automatic sync is doing
    (drawn again every 30 seconds, so "3 minutes ago" stays true)."""
    try:
        _status_banner()
    except UserError as e:
        st.error(md(e))


def _status_banner() -> None:
    database = db()
    status = live.live_status(database)
    last = store.last_sync(database)
    good = store.last_good_sync(database)
    if last is None:
        st.info("No sign-ups have been brought in yet. Choose where they come from below.")
        return
    if good is not None:
        text = f"Last synced {live.ago_words(status.last_ok_seconds)} (on {_when(good)}): {md(good['message'])}"
        (st.success if last["status"] == "ok" else st.info)(text)
    if status.running:
        st.info(md(live.running_words(status.running)), icon=":material/sync:")
    if status.pending:
        pending_section(status.pending)
    elif last["status"] != "ok":
        st.error(md(status.failure_words()) + (
            f" The sign-ups from {live.ago_words(status.last_ok_seconds)} are still here, unchanged."
            if good is not None else ""))
    if status.declined:
        st.caption("You chose to keep the sign-ups as they were. The automatic sync asks again when the sheet "
                   "changes.")
    live_line(status)


def live_line(status) -> None:
    if status.live:
        line = (f"New sign-ups are brought in from {md(live.source_words(status.source))} by themselves, "
                f"{status.settings.every_words}.")
        if status.failures_in_a_row:
            line += (" After a failed try it waits longer each time (up to an hour), and goes back to "
                     f"{status.settings.every_words} after a try that works.")
        if status.next_seconds is not None and not status.running:
            line += f" Next look {_in_words(status.next_seconds)}."
        c1, c2 = st.columns([4, 1], vertical_alignment="center")
        c1.caption(line)
        if c2.button("Sync now", icon=":material/sync:", key="sync_now"):
            _sync_now()
    elif status.source:
        st.caption(f"Bringing in new sign-ups from {md(live.source_words(status.source))} by themselves is "
                   "switched off (see “Automatic updates” below).")
    elif status.last_ok_kind and status.last_ok_kind not in LIVE_KINDS:
        where = "are the demo's" if status.last_ok_kind == "demo" else "came from a file"
        st.caption(f"These sign-ups {where}, so nothing is brought in by itself. Bring them in from a Google Sheet "
                   "or a published link and they will be kept up to date automatically.")


def _in_words(seconds: float) -> str:
    if seconds < 60:
        return "in less than a minute"
    minutes = round(seconds / 60)
    return "in about a minute" if minutes == 1 else f"in about {minutes} minutes"


def _sync_now() -> None:
    try:
        with st.spinner("Bringing in the sign-ups…"):
            result = live.sync_connected_now(db(), _sheet_key(), current_actor())
    except UserError as e:
        flash("error", md(e))
    else:
        _flash_result(result)
    st.rerun()


def _flash_result(result) -> None:
    if result.status == "ok":
        flash("success", f"Done: {md(result.summary())}")
    elif result.confirmation is not None:
        flash("warning", "Nothing has been changed yet: please confirm below.")
    else:
        flash("error", f"{md(result.message)} Your sign-ups from before are unchanged.")


def pending_section(pending: dict) -> None:
    """A sync (usually the automatic one) held for the organiser: the numbers, and a plain yes or no."""
    counts = pending.get("counts") or [0, 0, 0, 0]
    retire = pending.get("reason") == "retire"
    with st.container(border=True):
        st.subheader("The latest sign-ups are waiting for you")
        st.warning(md(pending.get("message", "")))
        st.caption(f"Found {live.ago_words(_age(pending.get('at')))} in {md(live.source_words(pending.get('source')))}. "
                   "The sheet is read again when you answer, so the numbers are checked once more.")
        c1, c2 = st.columns(2)
        yes = f"Yes, bring them in ({counts[2]} no longer in the sheet)" if retire else "Yes, bring in these changes"
        if c1.button(yes, type="primary", key="live_confirm_yes"):
            try:
                with st.spinner("Bringing in the sign-ups…"):
                    result = live.confirm_pending(db(), _sheet_key(), current_actor())
            except UserError as e:
                flash("error", md(e))
            else:
                if result.confirmation is not None:
                    flash("warning", "The sheet changed since these numbers were found, so nothing was changed. "
                                     "Please look at the new numbers.")
                else:
                    _flash_result(result)
            st.rerun()
        if c2.button("No, keep the sign-ups as they are", key="live_confirm_no"):
            live.decline_pending(db(), current_actor())
            flash("info", "Nothing was changed: the sign-ups are as they were.")
            st.rerun()


def _age(text) -> float | None:
    from datetime import datetime, timezone

    try:
        return (datetime.now(timezone.utc) - datetime.fromisoformat(str(text))).total_seconds()
    except ValueError:
        return None


def automatic_section() -> None:
    with st.expander("Automatic updates", icon=":material/update:"):
        settings = live.live_settings(db())
        st.write("Once sign-ups have come from a Google Sheet or a published link, Kleroterion brings in new ones "
                 "by itself, so the quota board follows the form through the day. A change that needs your "
                 "confirmation is never brought in by itself: it waits for you at the top of this page.")
        with st.form("live_form"):
            on = st.toggle("Bring in new sign-ups by themselves", value=settings.enabled)
            minutes = st.number_input("How often, in minutes", min_value=live.PAGE_MIN_MINUTES, max_value=24 * 60,
                                      value=max(live.PAGE_MIN_MINUTES, int(round(settings.seconds / 60))), step=1)
            if st.form_submit_button("Save"):
                saved = live.save_live_settings(db(), enabled=on, seconds=int(minutes) * 60, actor=current_actor())
                flash("success", f"Saved: new sign-ups are brought in by themselves, {saved.every_words}." if on
                      else "Saved: new sign-ups are brought in only when somebody presses a button.")
                st.rerun()


def sources_section() -> None:
    st.subheader("Bring in the latest sign-ups")
    tabs = st.tabs(["Google Sheet", "Upload a file", "Published sheet link", "Demo sign-ups"],
                   key="signups_source_tab", on_change="rerun")   # kept after bringing sign-ups in
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
                                "google_sheet", f"{url.strip()} / {worksheet.strip()}",
                                {"kind": "google_sheet", "spreadsheet": url.strip(), "worksheet": worksheet.strip()})
                st.rerun()
    with tabs[1]:
        upload_tab()
    with tabs[2]:
        from lib.recruitment.signups.published_csv import PUBLIC_WARNING

        st.warning(PUBLIC_WARNING)
        with st.form("published_form"):
            link = st.text_input("The “published to the web” CSV link")
            go = st.form_submit_button("Bring in sign-ups from the link")
        if go:
            if not link.strip():
                st.error("Paste the link first.")
            else:
                _fetch_and_sync(lambda: grid_from_published_csv(link.strip()), "published_csv", link.strip(),
                                {"kind": "published_csv", "url": link.strip()})
                st.rerun()
    with tabs[3]:
        st.write("The demo assembly's made-up sign-ups, to try things out.")
        if st.button("Bring in the demo sign-ups"):
            from lib.demo.load import DEMO_SOURCE_LABEL, demo_signups_grid

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
                grid, kind, label_, source = pending
                del st.session_state["pending"]
                _run_sync(grid, new, kind, label_, source=source)
            else:
                flash("success", "Column choices saved.")
            st.rerun()


def preview_section() -> None:
    """Every sign-up, a page at a time, with a search by pseudonym or row (it used to stop at 200 rows
    without saying so)."""
    st.subheader("Preview")
    st.caption("Names and contact details are hidden here. Everyone is known by a pseudonym (P-0001 …).")
    left, right = st.columns([3, 1])
    search = left.text_input("Find a sign-up: pseudonym or row number of the sheet", key="preview_search",
                             placeholder="For example P-0042, or 42")
    total = store.preview_count(db(), search)
    pages = max(1, -(-total // store.PREVIEW_PAGE))
    page = 1
    if pages > 1:
        if not 1 <= int(st.session_state.get("preview_page") or 1) <= pages:   # e.g. fewer pages after a search
            st.session_state["preview_page"] = 1
        st.session_state.setdefault("preview_page", 1)
        page = int(right.number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1,
                                      key="preview_page"))
    start = (page - 1) * store.PREVIEW_PAGE
    rows = store.preview(db(), offset=start, search=search)
    found = f" matching “{md(search.strip())}”" if search.strip() else ""
    if rows.empty:
        st.info(f"No sign-up{found}. Search by pseudonym (like P-0042) or by the row number in the sheet."
                if found else "No sign-ups yet.")
        return
    if total > len(rows):
        st.caption(f"Showing sign-ups {start + 1}–{start + len(rows)} of {total}{found}. Choose another page, "
                   "or search by pseudonym or row number.")
    else:
        st.caption(f"Showing all {total} sign-ups{found}.")
    st.dataframe(rows, hide_index=True, width="stretch")


def body() -> None:
    st.title("Sign-ups")
    show_flashes()
    from lib.resources import live_sync

    live_sync()                                   # the server keeps bringing in the connected sheet
    status_banner()
    counts = store.signup_counts(db())
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Signed up", counts["current"])
    c2.metric("Ready for the draw", counts["eligible"])
    c3.metric("With a problem to fix", counts["blocked"])
    c4.metric("No longer in the sheet", counts["removed"])

    confirmation_section()
    sources_section()
    mapping_section()
    automatic_section()
    safety_section()

    st.subheader("Problems to look at")
    st.caption("**Must fix**: that person is not in the draw until the sheet is corrected: an empty or unknown "
               "answer, the same person twice (the same email address, or the same phone number and name), or no "
               "email, phone or address at all, so nobody could tell them they were drawn. **Check**: they stay in "
               "the draw; have a look anyway: people who live together often share an address and a landline, so a "
               "shared address or a phone shared under another name is fine (with “one person per household”, the "
               "draw picks at most one person per address); someone with only an address can be told by post.")
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

    preview_section()

    with st.expander("History of bringing in sign-ups", icon=":material/history:"):
        st.dataframe(store.last_syncs(db(), 20), hide_index=True, width="stretch")


run_page(body)
