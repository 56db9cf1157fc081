"""Sign in: organisers and volunteers with a password; members with their access code."""

from __future__ import annotations

import streamlit as st

from lib import auth, config
from lib.resources import secrets_section
from pages.common import run_page


def body() -> None:
    st.title("Sign in")
    st.write("Organisers and volunteers sign in with the password the organisers gave them. "
             "Assembly members use the access code on their card.")
    auth_secrets = secrets_section("kleroterion_auth")
    demo = config.demo_enabled() and not (auth_secrets or {}).get("organiser_password_hash")
    hashes = auth.password_hashes(auth_secrets, demo=config.demo_enabled())
    if demo:
        st.info(f"**Demo passwords** — organiser: `{auth.DEMO_PASSWORDS[auth.ORGANISER]}`, "
                f"volunteer: `{auth.DEMO_PASSWORDS[auth.VOLUNTEER]}`")
    tab_staff, tab_member = st.tabs(["Organiser or volunteer", "Assembly member"])
    with tab_staff:
        if not hashes:
            st.warning("No passwords are set up yet. An organiser runs `python -m lib.auth` and puts the "
                       "result in `.streamlit/secrets.toml` (see the README).")
        with st.form("signin"):
            who = st.radio("I am", [auth.ORGANISER, auth.VOLUNTEER], format_func=lambda r: auth.ROLE_LABELS[r],
                           horizontal=True)
            password = st.text_input("Password", type="password")
            ok = st.form_submit_button("Sign in", type="primary")
        if ok:
            if auth.check_password(who, password, hashes):
                st.session_state["role"] = who
                st.switch_page("pages/home.py")  # land on the Overview with the new menu
            else:
                st.error("That password is not right. Check it with the organisers and try again.")
        if (secrets_section("auth") or {}):
            st.divider()
            if st.button("Sign in with your organisation's account"):
                st.login()
    with tab_member:
        try:
            from lib.evaluation import member_sign_in  # provided by the evaluation module
        except ImportError:
            st.write("Member pages open once the panel has been drawn and access codes are printed.")
            return
        with st.form("member_signin"):
            code = st.text_input("Your access code (on your card)", max_chars=20,
                                 value=str(st.query_params.get("code", ""))[:20])  # from the card's QR link
            go = st.form_submit_button("Open my pages", type="primary")
        if go:
            from pages.common import db

            session = member_sign_in(db(), code)
            if session is None:
                st.error("That code was not recognised. Check it against your card (letters and numbers, "
                         "no spaces needed) or ask a volunteer.")
            else:
                st.session_state["role"] = auth.MEMBER
                st.session_state["member_session"] = session
                st.switch_page("pages/home.py")  # land on the Overview with the new menu


run_page(body)
