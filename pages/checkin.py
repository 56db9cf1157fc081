"""Check-in at the door (volunteers, on a phone): find a member by first name or pseudonym, mark them.

Volunteers see first names and pseudonyms only, never a surname or a contact detail. A
printable sign-in sheet is the fallback when phones fail; it can be typed in afterwards.
"""

from __future__ import annotations

import streamlit as st

from lib import assembly as P
from lib.errors import UserError
from lib.plaintext import md
from pages.common import act, db, require, run_page, show_errors, show_flashes
from pages.common import current_actor

BLANK = "—"
ROWS = 6  # people drawn with their buttons at once when the list is asked for: one screen of a phone; every row
# is seven elements the phone builds again after each tap from the list. Anyone else: search.
BIG_BUTTONS = """<style>
div[data-testid="stButton"] button, div[data-testid="stFormSubmitButton"] button {
  min-height: 3.1rem; font-size: 1.1rem; }
div[data-testid="stTextInput"] input { font-size: 1.2rem; min-height: 2.8rem; }
</style>"""


def actor() -> str:
    if st.session_state.get("account_name"):
        return current_actor()  # a personal account: the record carries its name
    role = st.session_state.get("role", "volunteer")
    name = (st.session_state.get("checkin_actor") or "").strip()
    return f"{role} {name}".strip()


def _mark(session_id: int, person_id: str, first: str, mark: str, seen: str | None = None) -> None:
    # Recorded once per person and session (lib.assembly.attendance): a double tap or a replayed click
    # is told "already", and a tap on a list that is out of date never overwrites a newer mark.
    who = f"{md(first) if first else person_id} ({person_id})"
    try:
        done = P.mark_attendance(db(), session_id, person_id, mark, actor(), source="door", seen=seen)
    except UserError as e:
        _note("error", md(e))
        return
    label = P.MARK_LABELS[done.mark].lower()
    if done.outcome == "changed_meanwhile":  # the list stays on this person, now up to date
        _note(
            "warning",
            f"{who} was marked {label} at {done.time} by someone else just now, so your tap was "
            f"not saved. If they should be marked {P.MARK_LABELS[mark].lower()}, tap it again.",
        )
        return
    if done.outcome == "recorded":
        _note("success", f"{who}: {label}.")
    else:
        _note("info", f"{who} was already marked {label} at {done.time}. Nothing new was recorded.")
    st.session_state["checkin_search"] = ""


def _keep_list() -> None:
    st.session_state["checkin_list_on"] = st.session_state["checkin_list"]


def _note(kind: str, message: str) -> None:
    """The answer to a tap, shown by the door list's next run in the place kept for it (door)."""
    st.session_state["checkin_note"] = (kind, message)


@st.fragment
def door_fragment(session: P.Session) -> None:
    """The door list on its own: a search or a tap reruns only this part of the page, not the whole app
    (a fragment reruns by itself, without app.py's router, hence show_errors rather than run_page)."""
    show_errors(lambda: door(session))


def door(session: P.Session) -> None:
    # The confirmation of a tap, right above the list it came from, in a place kept for it whether or not there
    # is one (an empty placeholder when there is none): the search box and the list keep their places, so the phone
    # updates them rather than rebuilding. The answer is the run's first element, and one element: a box around it
    # was one more message for the phone to handle before the answer, on every tap.
    if "checkin_note" in st.session_state:
        kind, message = st.session_state.pop("checkin_note")
        getattr(st, kind)(message)
    else:
        st.empty()
    summary = P.session_summary(db(), session.session_id)
    st.markdown(f"Checked in: {summary['attended']} of {summary['members']} · not marked yet: {summary['unmarked']}")
    st.text_input(
        "Find someone: first name or pseudonym", key="checkin_search", placeholder="For example Amira, or P-0042, or 42"
    )
    search = st.session_state.get("checkin_search", "")
    searching = bool(search.strip())
    # The switch keeps its place while a name is typed (greyed out, as the search decides what is listed): the phone
    # then updates it after a search and after a tap instead of removing it and building it again each time.
    list_on = st.toggle(
        f"Show who is still to come ({summary['unmarked']})",
        value=st.session_state.get("checkin_list_on", False),
        key="checkin_list",
        on_change=_keep_list,
        disabled=searching,
        help="A short list of people not marked yet, for a small door. Searching is quicker.",
    )
    if not searching and not list_on:
        # After each tap the search box is empty again: the phone then redraws the answer, the count and the
        # box, not a list of people it was not asked for (six rows were 48 elements to build after every tap).
        return
    roster = P.checkin_roster(db(), session.session_id, search)
    if roster.empty:
        st.warning(
            "Nobody on the panel matches that. Check the spelling, or try the number on their badge "
            "(like P-0042). Not on the list? Write their name on the paper sheet and tell an organiser."
        )
        return
    if not search.strip():
        # not yet marked first: that is who is still to arrive
        roster = roster.assign(_done=roster["mark"].notna()).sort_values("_done", kind="stable")
    shown = roster.head(ROWS)
    if len(roster) > len(shown):
        st.caption(f"Showing {len(shown)} of {len(roster)}: type a name or number to find someone quickly.")
    for r in shown.itertuples():
        with st.container(border=True, key=f"checkin_row_{r.person_id}"):
            now = P.MARK_LABELS[r.mark] if isinstance(r.mark, str) else "not marked yet"
            st.markdown(f"**{md(r.first_name) if r.first_name else P.NO_NAME}** · `{r.person_id}` — {now}")
            # two big buttons a row on a phone, four on a wider screen
            with st.container(horizontal=True, wrap=True, gap="small"):
                for m in P.MARKS:
                    st.button(
                        P.MARK_LABELS[m],
                        key=f"mark_{session.session_id}_{r.person_id}_{m}",
                        type="primary" if r.mark == m else "secondary",
                        width=145,
                        on_click=_mark,
                        args=(
                            session.session_id,
                            r.person_id,
                            r.first_name,
                            m,
                            r.mark if isinstance(r.mark, str) else None,
                        ),
                    )


def paper(session: P.Session) -> None:
    st.markdown(
        "If phones or the internet fail, print the sheet, tick boxes at the door, and type the "
        "ticks in here afterwards."
    )
    st.download_button(
        "Download the sign-in sheet to print",
        P.sign_in_sheet_html(db(), session.session_id),
        file_name=f"sign-in-sheet-session-{session.session_id}.html",
        mime="text/html",
        icon=":material/print:",
    )
    roster = P.checkin_roster(db(), session.session_id)
    labels = [BLANK] + [P.MARK_LABELS[m] for m in P.MARKS]
    by_label = {P.MARK_LABELS[m]: m for m in P.MARKS}
    with st.form(f"sheet_{session.session_id}"):
        st.markdown("**Type in the paper sheet.** Leave “—” for anyone without a tick.")
        for r in roster.itertuples():
            current = P.MARK_LABELS[r.mark] if isinstance(r.mark, str) else BLANK
            st.radio(
                f"{md(r.first_name)} · {r.person_id}",
                labels,
                index=labels.index(current),
                horizontal=True,
                key=f"sheet_{session.session_id}_{r.person_id}",
            )
        submitted = st.form_submit_button("Save the sheet", type="primary", width="stretch")
    if submitted:
        marks = {}
        for r in roster.itertuples():
            choice = st.session_state.get(f"sheet_{session.session_id}_{r.person_id}", BLANK)
            if choice != BLANK and by_label[choice] != r.mark:
                marks[r.person_id] = by_label[choice]
        if not marks:
            st.info("Nothing new to save: the marks are the same as before.")
            return
        act(
            lambda: P.mark_many(db(), session.session_id, marks, actor(), source="sheet"),
            lambda n: f"Saved {n} mark{'s' if n != 1 else ''} from the paper sheet.",
        )


def body() -> None:
    st.markdown(BIG_BUTTONS, unsafe_allow_html=True)
    st.title("Check-in")
    if not require("checkin", "This page is for organisers and volunteers only. Sign in first."):
        return
    show_flashes()
    sessions = P.list_sessions(db())
    if not sessions:
        st.info("No sessions have been scheduled yet. An organiser adds them on the Sessions page.")
        return
    try:  # newcomers of a revealed replacement draw can be checked in without anyone opening Members
        P.sync_replacements(db(), "replacement draw")
    except UserError:
        pass  # the Members page tells the organiser what is wrong
    if not P.current_members(db()):
        st.info(
            "Nobody is on the panel yet. Once the panel is drawn and an organiser starts tracking it, "
            "members appear here."
        )
        return
    ids = [s.session_id for s in sessions]
    labels = {s.session_id: s.label for s in sessions}
    default = P.default_session(db())
    if st.session_state.get("checkin_session") not in ids:
        st.session_state["checkin_session"] = default.session_id if default else ids[-1]
    sid = st.selectbox("Session", ids, format_func=lambda i: labels[i], key="checkin_session")
    session = next(s for s in sessions if s.session_id == sid)
    # a kept tab: after saving the paper sheet the page stays on it (without a key it jumped back to the first)
    t1, t2 = st.tabs(["At the door", "Paper sheet"], key="checkin_tab", on_change="rerun")
    with t1:
        if t1.open:  # only the open tab is drawn: the paper sheet is a radio per member,
            door_fragment(session)  # which made every run of the door's page slow (1.3 s of 1.4 s)
    with t2:
        if t2.open:
            paper(session)
    with st.expander("Who is checking people in?"):
        st.text_input("Your first name (optional: it goes in the record of who marked whom)", key="checkin_actor")


run_page(body)
