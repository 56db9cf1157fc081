"""Kleroterion: run a citizens' assembly yourselves. Start with:  make run"""

from __future__ import annotations

import streamlit as st

from lib.errors import UserError

st.set_page_config(page_title="Kleroterion", page_icon="🎲", layout="wide")


def _pages() -> dict[str, list]:
    return {
        "": [st.Page("pages/home.py", title="Overview", icon=":material/home:", default=True)],
        "Recruitment": [st.Page("pages/signups.py", title="Sign-ups", icon=":material/group_add:",
                                url_path="signups")],
    }


try:
    from lib.resources import get_db

    get_db()
except UserError as e:
    st.error(str(e))
    st.stop()

st.navigation(_pages()).run()
