"""Kleroterion: run a citizens' assembly yourselves. Start with:  make run

This file is the router: it works out who is using the app (organiser, volunteer,
assembly member or visitor) and offers only the pages that role may see. A page that is
not offered cannot be opened by typing its address either.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lib import auth
from lib.errors import UserError

st.set_page_config(page_title="Kleroterion", page_icon="🎲", layout="wide")

O, V, M, P = auth.ORGANISER, auth.VOLUNTEER, auth.MEMBER, auth.PUBLIC
EVERYONE = {O, V, M, P}

# (section, file, title, icon, url path, roles that may see it)
PAGES = [
    ("", "pages/home.py", "Overview", ":material/home:", "", EVERYONE),
    ("Recruitment", "pages/signups.py", "Sign-ups", ":material/group_add:", "signups", {O}),
    ("Recruitment", "pages/targets.py", "Targets and quotas", ":material/tune:", "targets", {O}),
    ("Recruitment", "pages/quota_board.py", "Quota board", ":material/checklist:", "quota-board", {O, V}),
    ("The draw", "pages/draw.py", "The draw", ":material/casino:", "draw", {O}),
    ("The draw", "pages/representativeness.py", "How representative?", ":material/bar_chart:",
     "representativeness", {O}),
    ("The assembly", "pages/members.py", "Members", ":material/badge:", "members", {O}),
    ("The assembly", "pages/sessions.py", "Sessions", ":material/event:", "sessions", {O}),
    ("The assembly", "pages/checkin.py", "Check-in", ":material/how_to_reg:", "check-in", {O, V}),
    ("The assembly", "pages/support.py", "Support and stipends", ":material/volunteer_activism:", "support", {O}),
    ("Evaluation", "pages/evaluation_admin.py", "Evaluation", ":material/fact_check:", "evaluation", {O}),
    ("Evaluation", "pages/paper_answers.py", "Type in paper answers", ":material/edit_note:", "paper-answers",
     {O, V}),
    ("Evaluation", "pages/question_wording.py", "Help with wording", ":material/edit:", "question-wording",
     {O, V}),
    ("For members", "pages/member_questions.py", "Our questions", ":material/forum:", "our-questions", {M}),
    ("For members", "pages/member_survey.py", "Survey", ":material/assignment:", "survey", {M}),
    ("For members", "pages/results.py", "Results", ":material/insights:", "results", {O, M, P}),
    ("Open to all", "pages/transparency.py", "Transparency", ":material/visibility:", "transparency", EVERYONE),
    ("Account", "pages/signin.py", "Sign in", ":material/login:", "sign-in", {P}),
]
ROOT = Path(__file__).resolve().parent


def current_role() -> str:
    role = st.session_state.get("role")
    if role in auth.ROLES:
        return role
    # Signed in through an identity provider (st.login), if the group configured one.
    try:
        if getattr(st.user, "is_logged_in", False):
            from lib.resources import secrets_section

            mapped = auth.role_for_email(st.user.get("email"), secrets_section("kleroterion_auth"))
            if mapped:
                st.session_state["role"] = mapped
                return mapped
    except Exception:  # noqa: BLE001 - no auth configured
        pass
    return P


def pages_for(role: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for section, path, title, icon, url, roles in PAGES:
        if role in roles and (ROOT / path).exists():
            out.setdefault(section, []).append(
                st.Page(path, title=title, icon=icon, url_path=url or None, default=(url == "")))
    return out


def sidebar(role: str) -> None:
    with st.sidebar:
        if role != P:
            st.caption(f"Signed in as **{auth.ROLE_LABELS[role]}**")
            if st.button("Sign out", icon=":material/logout:"):
                for key in ("role", "member_session"):
                    st.session_state.pop(key, None)
                try:
                    if getattr(st.user, "is_logged_in", False):
                        st.logout()
                except Exception:  # noqa: BLE001
                    pass
                st.rerun()


try:
    from lib.resources import get_db

    get_db()
except UserError as e:
    st.error(str(e))
    st.stop()

role = current_role()
sidebar(role)
st.navigation(pages_for(role)).run()
