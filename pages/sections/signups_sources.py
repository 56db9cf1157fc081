"""Where the Sign-ups page brings sign-ups in from: a Google Sheet, a file, a published link or the
demo's; and the box that asks before a sync that would retire many people or change the pool of a
draw being prepared. How each try ends is worked out by lib.recruitment.signups.bring_in."""

from __future__ import annotations

import hashlib
import os
from typing import Callable

import streamlit as st

from lib.demo.load import DEMO_SOURCE_LABEL, demo_signups_grid
from lib.errors import UserError
from lib.plaintext import md
from lib.recruitment.signups import bring_in, overview
from lib.recruitment.signups.grid import Grid
from lib.recruitment.signups.published_csv import PUBLIC_WARNING
from lib.recruitment.signups.sources import (
    UPLOAD_TYPES,
    grid_from_google_sheet,
    grid_from_published_csv,
    grid_from_upload,
    guess_upload_encoding,
    upload_kind,
    workbook_sheet_names,
)
from lib.resources import secrets_section
from lib.store.demo_marker import is_demo_database
from lib.store.settings import get_setting, set_setting
from pages.common import current_actor, db, flash

SPINNER = "Bringing in the sign-ups…"


def show(outcome: bring_in.Outcome) -> None:
    """Keep what a try at bringing sign-ups in ended with for the next run of the page."""
    for kind, text in outcome.notices:
        flash(kind, text)
    if outcome.held is not None:
        st.session_state["confirm"] = outcome.held
    if outcome.pending is not None:
        st.session_state["pending"] = outcome.pending


def fetch_and_sync(fetch: Callable[[], Grid], kind: str, label: str, source: dict | None = None) -> None:
    with st.spinner(SPINNER):
        show(bring_in.fetch_and_sync(db(), fetch, kind=kind, label=label, actor=current_actor(), source=source))


def confirmation_section() -> None:
    """The held sync: its numbers, and a plain yes or no. Nothing changes until yes."""
    held = st.session_state.get("confirm")
    if not held:
        return
    with st.container(border=True):
        st.subheader("Please confirm before anything changes")
        st.warning(md(held["message"]))
        c1, c2 = st.columns(2)
        if c1.button(overview.confirm_label(held), type="primary", key="confirm_yes"):
            del st.session_state["confirm"]
            with st.spinner(SPINNER):
                show(bring_in.confirm(db(), held, actor=current_actor()))
            st.rerun()
        if c2.button("No, keep the sign-ups as they are", key="confirm_no"):
            del st.session_state["confirm"]
            show(bring_in.decline(db(), held, actor=current_actor()))
            st.rerun()


def _remember(key: tuple, make):
    """Work done on an upload (guess, sheet names, preview) is kept for the next reruns of the page."""
    cache = st.session_state.setdefault("_upload_cache", {})
    if any(k[1] != key[1] for k in cache):  # another file: forget the last one's work (memory)
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


def _sheet_choice(name: str, data: bytes, digest: str) -> str | None:
    names = _remember(("sheets", digest), lambda: workbook_sheet_names(name, data))
    if len(names) > 1:
        return st.selectbox("Which sheet holds the sign-ups?", names, key=f"sheet_{digest}")
    return names[0] if names else None


def _encoding_choice(name: str, data: bytes, digest: str) -> str | None:
    guess = _remember(("encoding", digest), lambda: guess_upload_encoding(data, name))
    labels = [guess.label(c) for c in guess.options]
    if not guess.certain:
        st.warning(guess.note)
    if len(labels) > 1:
        chosen = st.selectbox("Letters in this file are read as", labels, key=f"enc_{digest}")
        return guess.options[labels.index(chosen)]
    st.caption(f"Letters in this file are read as {labels[0] if labels else 'UTF-8'}.")
    return guess.encoding


def upload_tab() -> None:
    up = st.file_uploader(
        "A CSV, Excel (.xlsx) or OpenDocument (.ods) file of the sign-ups, with the questions in the first row",
        type=list(UPLOAD_TYPES),
    )
    if up is None:
        return
    data = up.getvalue()
    digest = hashlib.sha256(data).hexdigest()[:16]
    sheet = encoding = None
    kind = "csv"
    try:
        kind = upload_kind(up.name, data)
        if kind in ("xlsx", "ods"):
            sheet = _sheet_choice(up.name, data, digest)
        else:
            encoding = _encoding_choice(up.name, data, digest)
        grid = _remember(
            ("grid", digest, sheet, encoding), lambda: grid_from_upload(up.name, data, sheet=sheet, encoding=encoding)
        )
        st.caption(
            f"The first rows as Kleroterion reads them ({grid.row_count} rows in all). Check that names "
            "with accents look right before bringing the file in."
        )
        st.dataframe(overview.first_rows(grid), hide_index=True, width="stretch")
    except UserError as e:
        st.error(f"{md(e)} Nothing has been brought in.")
    if st.button("Bring in sign-ups from this file", type="primary"):
        fetch_and_sync(
            lambda: grid_from_upload(up.name, data, sheet=sheet, encoding=encoding),
            overview.FILE_KINDS.get(kind, "csv"),
            up.name,
        )
        st.rerun()


def _sheet_tab() -> None:
    saved = get_setting(db(), "sheet_source", {}) or {}
    creds = secrets_section("gcp_service_account")
    if not creds:
        st.info(
            "To read a Google Sheet, Kleroterion needs a Google service account key in "
            "`.streamlit/secrets.toml`. The guide docs/GOOGLE_SHEETS.md shows how, step by step. "
            "Until then you can upload the sheet as a file."
        )
    with st.form("sheet_form"):
        url = st.text_input("The sheet's web address (or its key)", value=saved.get("spreadsheet", "")).strip()
        worksheet = st.text_input("The tab's name", value=saved.get("worksheet", "Form responses 1")).strip()
        go = st.form_submit_button("Bring in sign-ups from the sheet", type="primary", disabled=not creds)
    if not go:
        return
    if not url:
        st.error("Paste the sheet's web address first.")
        return
    set_setting(db(), "sheet_source", {"spreadsheet": url, "worksheet": worksheet}, current_actor())
    fetch_and_sync(
        lambda: grid_from_google_sheet(creds, url, worksheet, os.environ.get("KLEROTERION_SHEETS_API_BASE")),
        "google_sheet",
        f"{url} / {worksheet}",
        {"kind": "google_sheet", "spreadsheet": url, "worksheet": worksheet},
    )
    st.rerun()


def _published_tab() -> None:
    st.warning(PUBLIC_WARNING)
    with st.form("published_form"):
        link = st.text_input("The “published to the web” CSV link").strip()
        go = st.form_submit_button("Bring in sign-ups from the link")
    if not go:
        return
    if not link:
        st.error("Paste the link first.")
        return
    fetch_and_sync(lambda: grid_from_published_csv(link), "published_csv", link, {"kind": "published_csv", "url": link})
    st.rerun()


def sources_section() -> None:
    st.subheader("Bring in the latest sign-ups")
    demo = is_demo_database(db())  # a real assembly is never offered the demo's made-up people
    tabs = st.tabs(
        ["Google Sheet", "Upload a file", "Published sheet link"] + (["Demo sign-ups"] if demo else []),
        key="signups_source_tab",
        on_change="rerun",
    )  # kept after bringing sign-ups in
    with tabs[0]:
        _sheet_tab()
    with tabs[1]:
        upload_tab()
    with tabs[2]:
        _published_tab()
    if not demo:
        return
    with tabs[3]:
        st.write("The demo assembly's made-up sign-ups, to try things out.")
        if st.button("Bring in the demo sign-ups"):
            fetch_and_sync(demo_signups_grid, "demo", DEMO_SOURCE_LABEL)
            st.rerun()
