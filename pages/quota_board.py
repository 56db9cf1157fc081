"""Quota board: for volunteers out recruiting, on a phone. Counts only, never names.

It follows the sign-up sheet by itself: the server brings in new sign-ups every few minutes
(lib/recruitment/signups/live.py), and a small fragment here looks every WATCH_SECONDS at a cheap fingerprint of the
sign-ups; when it changed, the page is drawn again. "Last synced N minutes ago" and the last failure, in
plain words, come from the sync log.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from lib.access.auth import ORGANISER
from lib.plaintext import md
from lib.recruitment.quota_board import (
    SAFETY_FACTOR,
    below_share_lines,
    board_signature,
    board_table,
    build_board,
    look_for_lines,
    shown_count,
)
from lib.recruitment.signups.live import ago_words, live_status, source_words
from pages.common import db, require, run_page, show_errors

WATCH_SECONDS = 10


@st.cache_data(show_spinner=False, max_entries=8)
def _board(db_path: str, signature: tuple):
    """The counts, computed once per state of the sign-ups and targets (see board_signature)."""
    return build_board(db())


def _organiser() -> bool:
    return st.session_state.get("role") == ORGANISER


@st.fragment(run_every=WATCH_SECONDS)
def sync_watch() -> None:
    """Every few seconds: when did the sign-ups last come in, did the last try work, and is there
    anything new? (One small query; the board is drawn again only when something changed.)"""
    changed = False
    try:
        database = db()
        seen = st.session_state.get("_board_seen")
        changed = seen is not None and board_signature(database) != seen
        if not changed:
            sync_status_lines(live_status(database))
    except Exception:  # noqa: BLE001 - a status line must never break the board
        import logging

        logging.getLogger("kleroterion").exception("Kleroterion: the quota board's sync status failed")
        from pages.common import strict_errors

        if strict_errors():
            raise
    if changed:
        st.rerun()  # new sign-ups: draw the whole board again


def sync_status_lines(status) -> None:
    if status.last_ok_seconds is None:
        st.caption("No sign-ups have been brought in yet.")
    elif status.live:
        st.caption(
            f"{status.synced_words()} New sign-ups come in from {md(source_words(status.source))} by "
            f"themselves, {status.settings.every_words}."
        )
    else:
        st.caption(f"{status.synced_words()} The board changes when an organiser brings in new sign-ups.")
    if status.pending:
        st.info(
            "New changes from the sign-up sheet are waiting for an organiser to check them; until then the "
            "counts below stay as they are.",
            icon=":material/hourglass_top:",
        )
    elif status.failure:
        older = (
            f" The counts below are from {ago_words(status.last_ok_seconds)}."
            if status.last_ok_seconds is not None
            else ""
        )
        st.warning(md(status.failure_words(organiser=_organiser())) + older, icon=":material/sync_problem:")


@st.fragment
def live_board() -> None:
    show_errors(_board_body)  # a fragment reruns by itself, without app.py's router: no router check here


def _board_body() -> None:
    organiser = _organiser()
    database = db()
    signature = board_signature(database)
    st.session_state["_board_seen"] = signature
    board = _board(database.path, signature)
    top = st.columns([3, 1], vertical_alignment="center")
    top[0].caption(f"Updated at {datetime.now():%H:%M:%S}. It changes by itself when new sign-ups come in.")
    # Pressing the button reruns this fragment, which reads the counts afresh.
    top[1].button("Refresh now", icon=":material/refresh:", key="board_refresh")
    c1, c2, c3 = st.columns(3)
    c1.metric("Signed up", shown_count(board.total_signups, organiser))
    c2.metric("Ready for the draw", shown_count(board.total_eligible, organiser))
    c3.metric("Seats on the panel", board.panel_size or "not set")
    if not board.rows:
        st.info("The organisers have not set up the questions yet, so there is nothing to count.")
        return
    if not board.has_targets:
        st.info("The organisers have not set the targets yet: the board shows sign-ups only.")

    st.subheader("Who to look for next")
    lines = look_for_lines(board, organiser=organiser)
    if lines:
        st.markdown("\n".join(f"- {line}" for line in lines))
    elif not board.has_targets:
        st.caption("Once the organisers set the targets, this shows which groups still need more sign-ups.")
    else:
        st.success(
            "Every group has enough sign-ups to be safe. Keep going: more sign-ups give everyone a fairer chance."
        )
    welcome = below_share_lines(board, organiser=organiser)
    if welcome:
        st.markdown(
            "**Safe, but still fewer than their share of the community** (more of them are welcome):\n"
            + "\n".join(f"- {line}" for line in welcome)
        )
    with st.expander("What do the columns mean?"):
        st.markdown(
            "- **Signed up**: people of that kind who have signed up so far.\n"
            "- **Share (target)**: their share of all sign-ups, and in brackets their share of the whole "
            "community.\n"
            "- **Seats**: how many seats on the panel that group will get (fewest–most).\n"
            f"- **Still needed**: how many more sign-ups of that kind to find *to be safe*. Not everyone can "
            f"be picked and some people drop out, so we aim for {SAFETY_FACTOR} sign-ups ready for the draw for "
            "every seat a group is sure to get.\n"
            + (
                ""
                if organiser
                else "- Groups with fewer than 5 people are shown as “fewer than 5”, so nobody can be recognised."
            )
        )

    st.subheader("Every group")
    for f in dict.fromkeys((r.field, r.field_label) for r in board.rows):
        rows = [r for r in board.rows if r.field == f[0]]
        short = sum(1 for r in rows if r.still_needed > 0)
        with st.expander(f"{md(f[1])} · {board.field_status(f[0])}", expanded=bool(short)):
            table = board_table(board, f[0], organiser=organiser)
            table["Group"] = table["Group"].map(md)  # st.table renders its cells as Markdown
            st.table(table, hide_index=True, border="horizontal")


def body() -> None:
    st.title("Quota board")
    st.caption("Who has signed up so far, compared with the community. Counts only: no names.")
    if not require("quota_board", "The quota board is for organisers and volunteers. Please sign in."):
        return
    from lib.resources import live_sync

    live_sync()  # the server keeps bringing in the connected sheet
    st.session_state["_board_seen"] = board_signature(db())
    sync_watch()
    live_board()


run_page(body)
