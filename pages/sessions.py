"""Sessions (organisers): schedule the assembly's sessions and see who came to each."""

from __future__ import annotations

from datetime import date, datetime, time

import pandas as pd
import streamlit as st

from lib import assembly as P
from lib.access.auth import actor_in_words
from lib.plaintext import md
from pages.common import act, db, require, run_page, show_flashes
from pages.common import current_actor


def schedule_form(expanded: bool) -> None:
    with (
        st.expander("Schedule a session", expanded=expanded, icon=":material/add:"),
        st.form("new_session", clear_on_submit=True),
    ):
        title = st.text_input("Name", placeholder="Session 1: learning about the issue")
        c1, c2 = st.columns(2)
        day = c1.date_input("Date", value=date.today(), format="DD/MM/YYYY")
        start = c2.time_input("Starts at", value=time(10, 0))
        place = st.text_input("Where", placeholder="Riverside community centre, main hall")
        if st.form_submit_button("Add the session", type="primary"):
            act(
                lambda: P.schedule_session(db(), title, datetime.combine(day, start), place, current_actor()),
                lambda sid: f"Session added (number {sid}). Volunteers can now check people in for it.",
            )


def overview(sessions: list[P.Session]) -> None:
    rows = []
    for s in sessions:
        sm = P.session_summary(db(), s.session_id)
        rows.append(
            {
                "Number": s.session_id,
                "Session": s.title,
                "When": s.starts_at.strftime("%a %d %b %Y %H:%M"),
                "Where": s.place or "",
                "Present": sm["present"],
                "Late or part": sm["late"],
                "Excused": sm["excused"],
                "Absent": sm["absent"],
                "Not marked": sm["unmarked"],
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def detail(sessions: list[P.Session]) -> None:
    ids = [s.session_id for s in sessions]
    labels = {s.session_id: s.label for s in sessions}
    default = P.default_session(db())
    sid = st.selectbox(
        "Look at one session",
        ids,
        format_func=lambda i: labels[i],
        key="sessions_pick",
        index=ids.index(default.session_id) if default else len(ids) - 1,
    )
    marks = P.session_marks(db(), sid)
    members = P.current_members(db())
    table = pd.DataFrame({"Pseudonym": sorted(set(members) | set(marks))})
    table["Mark"] = table["Pseudonym"].map(lambda p: P.MARK_LABELS.get(marks.get(p), "not marked"))
    st.dataframe(table, hide_index=True, width="stretch")
    st.page_link(
        "pages/checkin.py", label="Mark or correct attendance on the Check-in page", icon=":material/how_to_reg:"
    )
    log = P.attendance_log_frame(db(), sid)
    with st.expander(f"Every mark saved for this session ({len(log)})"):
        if log.empty:
            st.caption("No marks yet.")
        else:
            st.dataframe(
                pd.DataFrame(
                    {
                        "When": log["recorded_at"].dt.strftime("%d %b %H:%M:%S"),
                        "Pseudonym": log["person_id"],
                        "Mark": log["mark"].map(P.MARK_LABELS),
                        "By": log["actor"].map(actor_in_words),
                        "How": log["source"].map(
                            {"door": "at the door", "sheet": "paper sheet", "organiser": "organiser"}
                        ),
                    }
                ),
                hide_index=True,
                width="stretch",
            )
    with st.expander("Cancel this session"):
        sure = st.checkbox("Yes, this session will not take place", key=f"cancel_sure_{sid}")
        if st.button("Cancel the session", disabled=not sure, key=f"cancel_{sid}"):
            act(
                lambda: P.cancel_session(db(), sid, current_actor()),
                f"{md(labels[sid])} is cancelled. Marks already saved are kept but no longer count.",
            )


def body() -> None:
    st.title("Sessions")
    if not require("sessions", "This page is for organisers only. Sign in first."):
        return
    show_flashes()
    sessions = P.list_sessions(db())
    schedule_form(expanded=not sessions)
    if not sessions:
        st.info("No sessions yet. Add the first one above.")
        return
    attended = P.attended_last_session(db())
    if attended is not None:
        st.metric("Came to the last session with attendance recorded", attended)
    overview(sessions)
    detail(sessions)


run_page(body)
