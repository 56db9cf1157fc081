"""The top of the Sign-ups page: when the sign-ups were last brought in, what went wrong last, a sync
the automatic sync holds for the organiser, and what the automatic sync does. The words come from
lib.recruitment.signups.overview."""

from __future__ import annotations

import streamlit as st

from lib.errors import UserError
from lib.plaintext import md
from lib.recruitment.signups import live, overview, store
from lib.recruitment.signups.sheets import SECRETS_SECTION
from lib.recruitment.signups.sync import SyncResult
from lib.resources import secrets_section
from pages.common import act, current_actor, db
from pages.sections.signups_sources import SPINNER


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
    notices = overview.banner(status, last, store.last_good_sync(database))
    for kind, text in notices:
        if kind == "running":
            st.info(text, icon=":material/sync:")
        elif kind == "pending":
            pending_section(status.pending or {})
        else:
            getattr(st, kind)(text)
    if last is not None:
        _live_line(status)


def _live_line(status: live.LiveStatus) -> None:
    line = overview.live_line(status)
    if line is None:
        return
    if not status.live:
        st.caption(line)
        return
    c1, c2 = st.columns([4, 1], vertical_alignment="center")
    c1.caption(line)
    if c2.button("Sync now", icon=":material/sync:", key="sync_now"):
        with st.spinner(SPINNER):
            act(
                lambda: live.sync_connected_now(db(), secrets_section(SECRETS_SECTION), current_actor()),
                _result_words,
                kind=_result_kind,
                whole_page=True,
            )


def _result_kind(result: SyncResult) -> str:
    """How a sync that ran ended: brought in, waiting for a confirmation, or failed (nothing changed)."""
    if result.status == "ok":
        return "success"
    return "warning" if result.confirmation is not None else "error"


def _result_words(result: SyncResult) -> str:
    if result.status == "ok":
        return f"Done: {md(result.summary())}"
    if result.confirmation is not None:
        return "Nothing has been changed yet: please confirm below."
    return f"{md(result.message)} Your sign-ups from before are unchanged."


def _confirmed_words(result: SyncResult) -> str:
    """A held sync the organiser said yes to: brought in, unless the sheet changed meanwhile."""
    if result.confirmation is not None:
        return (
            "The sheet changed since these numbers were found, so nothing was changed. Please look at the new numbers."
        )
    return _result_words(result)


def _confirmed_kind(result: SyncResult) -> str:
    return "warning" if result.confirmation is not None else _result_kind(result)


def pending_section(pending: dict) -> None:
    """A sync (usually the automatic one) held for the organiser: the numbers, and a plain yes or no."""
    with st.container(border=True):
        st.subheader("The latest sign-ups are waiting for you")
        st.warning(md(pending.get("message", "")))
        st.caption(overview.pending_found(pending))
        c1, c2 = st.columns(2)
        if c1.button(overview.pending_label(pending), type="primary", key="live_confirm_yes"):
            with st.spinner(SPINNER):
                act(
                    lambda: live.confirm_pending(db(), secrets_section(SECRETS_SECTION), current_actor()),
                    _confirmed_words,
                    kind=_confirmed_kind,
                    whole_page=True,
                )
        if c2.button("No, keep the sign-ups as they are", key="live_confirm_no"):
            act(
                lambda: live.decline_pending(db(), current_actor()),
                "Nothing was changed: the sign-ups are as they were.",
                kind="info",
                whole_page=True,
            )
