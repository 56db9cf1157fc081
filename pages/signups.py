"""Sign-ups: bring them in from the sheet, see what needs fixing, preview (contacts masked).

Uploads show how the file reads before anything changes: the encoding (a choice when the guess is
uncertain), the sheet of a workbook, and the first rows. A sync that would retire many people, or
change the pool while a draw is being prepared, waits here for the organiser's confirmation.

Once sign-ups come from a Google Sheet or a published link, the server brings them in again by itself
(lib/recruitment/signups/live.py): the top of the page says when it last did, what went wrong last, and shows a
confirmation that the automatic sync is waiting for. Only one sync runs at a time: a button pressed
while another sync runs waits a little, then says so.

The page's parts are drawn by pages/sections/signups_*.py; what they say and how a sync ends are worked
out in lib/recruitment/signups/ (overview.py, bring_in.py).
"""

from __future__ import annotations

import streamlit as st

from lib.recruitment.signups import overview, store
from lib.resources import live_sync
from pages.common import db, require, run_page, show_flashes
from pages.sections.signups_settings import automatic_section, mapping_section, safety_section
from pages.sections.signups_sources import confirmation_section, sources_section
from pages.sections.signups_status import status_banner


def problems_section() -> None:
    st.subheader("Problems to look at")
    st.caption(
        "**Must fix**: that person is not in the draw until the sheet is corrected: an empty or unknown "
        "answer, the same person twice (the same email address, or the same phone number and name), or no "
        "email, phone or address at all, so nobody could tell them they were drawn. **Check**: they stay in "
        "the draw; have a look anyway: people who live together often share an address and a landline, so a "
        "shared address or a phone shared under another name is fine (with “one person per household”, the "
        "draw picks at most one person per address); someone with only an address can be told by post."
    )
    problems = store.problem_list(db())
    if problems.empty:
        st.write("No problems found. 🎉")
        return
    st.write(overview.problems_summary(problems))
    only_must = st.toggle("Show only the ones that must be fixed", value=False)
    st.dataframe(
        overview.must_fix_only(problems) if only_must else problems,
        hide_index=True,
        width="stretch",
        column_config={"What to do": st.column_config.TextColumn(width="large")},
    )


def preview_section() -> None:
    """Every sign-up, a page at a time, with a search by pseudonym or row (it used to stop at 200 rows
    without saying so)."""
    st.subheader("Preview")
    st.caption("Names and contact details are hidden here. Everyone is known by a pseudonym (P-0001 …).")
    left, right = st.columns([3, 1])
    search = left.text_input(
        "Find a sign-up: pseudonym or row number of the sheet",
        key="preview_search",
        placeholder="For example P-0042, or 42",
    )
    total = store.preview_count(db(), search)
    at = overview.preview_page(total, st.session_state.get("preview_page"))
    if at.pages > 1:
        if st.session_state.get("preview_page") != at.page:  # e.g. fewer pages after a search
            st.session_state["preview_page"] = at.page
        at = overview.preview_page(
            total,
            right.number_input(f"Page (of {at.pages})", min_value=1, max_value=at.pages, step=1, key="preview_page"),
        )
    rows = store.preview(db(), offset=at.offset, search=search)
    kind, text = overview.preview_caption(total, at.offset, len(rows), search)
    getattr(st, kind)(text)
    if not rows.empty:
        st.dataframe(rows, hide_index=True, width="stretch")


def body() -> None:
    if not require("signups", "This page is for organisers only. Sign in first."):
        return
    st.title("Sign-ups")
    show_flashes()
    live_sync()  # the server keeps bringing in the connected sheet
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
    problems_section()
    preview_section()
    with st.expander("History of bringing in sign-ups", icon=":material/history:"):
        st.dataframe(store.last_syncs(db(), 20), hide_index=True, width="stretch")


run_page(body)
