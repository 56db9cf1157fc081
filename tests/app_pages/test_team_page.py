"""Team accounts: an organiser invites a person, who chooses a password and signs in by name; the
record of who did what carries that name; revoking ends the session at once; the first organiser
of a real deployment gets in with the set-up code from the server's log."""

from __future__ import annotations

import logging
import re

import pytest
from streamlit.testing.v1 import AppTest

from lib.access import accounts, auth
from lib.store.db import open_database
from tests.app_pages.helpers import APP, assert_ok, goto, open_app, texts
from tests.app_pages.test_signin_page import SIGNIN, attempt, messages

TEAM = "pages/team.py"
PASSWORD = "kettle orchard lantern"


def button(at, label: str):
    [b] = [b for b in at.button if b.label == label]
    return b


def box(at, label_start: str):
    [t] = [t for t in at.text_input if t.label.startswith(label_start)]
    return t


def fresh_session(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    return goto(at, SIGNIN)


def accept_in_browser(at: AppTest, password: str = PASSWORD, name: str | None = None) -> AppTest:
    if name is not None:
        box(at, "Your name").set_value(name)
    box(at, "New password").set_value(password)
    box(at, "The same password again").set_value(password)
    button(at, "Set my password").click()
    at.run()
    return assert_ok(at)


def database():
    import streamlit as st

    from lib.resources import get_db

    return get_db() if st.runtime.exists() else None


def test_an_organiser_invites_a_volunteer_who_accepts_signs_in_by_name_and_is_recorded(app_env):
    org = goto(open_app("organiser"), TEAM)
    box(org, "Their name").set_value("Sam Lee")
    box(org, "Their e-mail").set_value("Sam@Example.org")
    [r for r in org.radio if r.label == "Role"][0].set_value(auth.VOLUNTEER)
    button(org, "Make an invitation").click()
    org.run()
    assert_ok(org)
    shown = texts(org)
    code = org.session_state["new_invitation"][2]
    assert code in shown and f"sign-in?invite={code}" in "\n".join(str(c.value) for c in org.code)
    assert "Sam Lee" in org.dataframe[0].value["Name"].tolist()
    assert "hash" not in " ".join(org.dataframe[0].value.columns).lower()

    # the volunteer follows the link in a new browser
    vol = fresh_session({"invite": code})
    assert "Welcome, Sam Lee" in texts(vol)
    accept_in_browser(vol, "short")
    assert "at least 10 characters" in messages(vol)
    accept_in_browser(vol)
    assert "Your password is set" in texts(vol)
    attempt(vol, PASSWORD, name="sam@example.org")          # the e-mail works as well as the name
    assert vol.session_state["role"] == auth.VOLUNTEER
    assert vol.session_state["account_name"] == "Sam Lee"
    assert "Signed in as **Sam Lee** (Volunteer)" in "\n".join(c.value for c in vol.sidebar.caption)

    # the code works once
    again = fresh_session({"invite": code})
    assert accounts.INVALID_INVITATION in messages(again)
    assert "New password" not in [t.label for t in again.text_input]


def test_the_record_of_who_did_what_carries_the_account_name(app_env):
    from datetime import date, time

    from lib import assembly as P

    d = open_database(app_env / "app.duckdb")
    _a, code = accounts.invite(d, "Alex Kim", auth.ORGANISER, "organiser")
    accounts.accept(d, code, PASSWORD, PASSWORD)
    d.close()
    at = attempt(fresh_session(), PASSWORD, name="Alex Kim")
    assert at.session_state["role"] == auth.ORGANISER
    goto(at, "pages/sessions.py")
    at.text_input[0].input("Session 1")
    at.date_input[0].set_value(date(2026, 5, 9))
    at.time_input[0].set_value(time(10, 30))
    button(at, "Add the session").click()
    at.run()
    assert_ok(at)
    import streamlit as st

    from lib.resources import get_db

    [s] = P.list_sessions(get_db())
    created_by = get_db().scalar("SELECT created_by FROM assembly_sessions WHERE session_id = ?", [s.session_id])
    assert created_by == "organiser:Alex Kim"
    del st


def test_revoking_an_account_signs_its_session_out_at_once(app_env):
    d = open_database(app_env / "app.duckdb")
    acct, code = accounts.invite(d, "Sam Lee", auth.VOLUNTEER, "organiser")
    accounts.accept(d, code, PASSWORD, PASSWORD)
    d.close()
    vol = attempt(fresh_session(), PASSWORD, name="Sam Lee")
    assert vol.session_state["role"] == auth.VOLUNTEER
    goto(vol, "pages/quota_board.py")

    org = goto(open_app("organiser"), TEAM)
    org.selectbox[0].set_value(acct.account_id)
    org.run()
    org.checkbox(key="revoke_sure").check()
    org.run()
    button(org, "Revoke").click()
    org.run()
    assert_ok(org)
    assert "Revoked" in org.dataframe[0].value["Status"].tolist()

    vol.run()                                  # the volunteer's next click
    assert "role" not in vol.session_state
    assert "you have been signed out" in texts(vol)
    # and the password no longer works
    again = attempt(fresh_session(), PASSWORD, name="Sam Lee")
    assert "role" not in again.session_state


def test_a_new_invitation_replaces_the_old_password(app_env):
    d = open_database(app_env / "app.duckdb")
    acct, code = accounts.invite(d, "Sam Lee", auth.VOLUNTEER, "organiser")
    accounts.accept(d, code, PASSWORD, PASSWORD)
    d.close()
    org = goto(open_app("organiser"), TEAM)
    org.selectbox[0].set_value(acct.account_id)
    org.run()
    button(org, "Make a new invitation").click()
    org.run()
    assert_ok(org)
    new_code = org.session_state["new_invitation"][2]
    assert new_code != code
    at = attempt(fresh_session(), PASSWORD, name="Sam Lee")
    assert "role" not in at.session_state
    vol = accept_in_browser(fresh_session({"invite": new_code}), "a brand new password")
    attempt(vol, "a brand new password", name="Sam Lee")
    assert vol.session_state["role"] == auth.VOLUNTEER


def test_an_organiser_cannot_revoke_their_own_account(app_env):
    d = open_database(app_env / "app.duckdb")
    acct, code = accounts.invite(d, "Alex Kim", auth.ORGANISER, "organiser")
    accounts.accept(d, code, PASSWORD, PASSWORD)
    d.close()
    at = attempt(fresh_session(), PASSWORD, name="Alex Kim")
    goto(at, TEAM)
    assert at.checkbox(key="revoke_sure").disabled
    assert "This is your own account" in texts(at)


def test_volunteers_cannot_open_the_team_page(app_env):
    at = open_app("volunteer")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(TEAM)


def test_the_first_organiser_of_a_real_deployment_uses_the_set_up_code_from_the_log(app_env, monkeypatch, caplog):
    monkeypatch.setenv("KLEROTERION_DEMO", "0")
    with caplog.at_level(logging.WARNING, logger="kleroterion"):
        at = fresh_session()
    assert "No organiser can sign in yet" in texts(at)
    assert auth.DEMO_PASSWORDS[auth.ORGANISER] not in texts(at)
    [code] = re.findall(r"set-up code for the first organiser.*?: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})",
                        caplog.text)
    box(at, "Your invitation code").set_value(code.lower().replace("-", " "))   # typed loosely
    button(at, "Continue").click()
    at.run()
    assert "set-up code for the first organiser" in texts(at)
    accept_in_browser(at, name="Jo Bloggs")
    attempt(at, PASSWORD, name="jo bloggs")
    assert at.session_state["role"] == auth.ORGANISER and at.session_state["account_name"] == "Jo Bloggs"
    # the set-up code is used up, and no new one is made now that an organiser exists
    import streamlit as st

    from lib.resources import get_db

    assert accounts.pending_invitation(get_db(), code) is None
    assert accounts.ensure_setup_invitation(get_db()) is None
    del st
