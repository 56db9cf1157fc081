"""Team accounts (organisers only): invite organisers and volunteers, see who has an account,
revoke one, or send a new invitation. Passwords and codes are never shown again after the moment
they are made."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlparse

import pandas as pd
import streamlit as st

from lib.access import accounts, auth
from lib.plaintext import md
from pages import staff_session
from pages.common import act, current_actor, db, require, run_page, show_flashes


def invitation_link(code: str) -> str:
    """The sign-in page's address with the code, from the address the organiser is using now."""
    try:
        url = urlparse(st.context.url or "")
    except Exception:  # noqa: BLE001 - no browser (AppTest)
        url = urlparse("")
    if not url.scheme or not url.netloc:
        return f"<the app's address>/sign-in?invite={code}"
    parts = [p for p in url.path.split("/") if p]
    base = "/".join(parts[:-1])  # drop this page's own name
    return f"{url.scheme}://{url.netloc}/{base + '/' if base else ''}sign-in?invite={code}"


def show_new_invitation() -> None:
    new = st.session_state.get("new_invitation")
    if not new:
        return
    name, role, code = new
    with st.container(border=True):
        st.success(
            f"Invitation for **{md(name)}** ({auth.ROLE_LABELS[role].lower()}). Give them this link or "
            f"code (in person, by message or by e-mail). It works once, for {accounts.INVITE_DAYS} days. "
            "It is shown only now: if it is lost, invite them again."
        )
        st.code(invitation_link(code), language=None)
        st.caption(f"Or, on the sign-in page, “I have an invitation” and the code:  {code}")
        if st.button("Done: I have passed it on"):
            st.session_state.pop("new_invitation", None)
            st.rerun()


def invite_form() -> None:
    with (
        st.expander("Invite someone", expanded=not accounts.list_accounts(db()), icon=":material/person_add:"),
        st.form("invite_form", clear_on_submit=True),
    ):
        name = st.text_input(
            "Their name (as the team knows them; it goes in the record of who did what)", max_chars=accounts.NAME_MAX
        )
        email = st.text_input("Their e-mail (optional: they can then sign in with it)", max_chars=200)
        role = st.radio(
            "Role", list(auth.STAFF_ROLES), format_func=lambda r: auth.ROLE_LABELS[r], horizontal=True, index=1
        )
        go = st.form_submit_button("Make an invitation", type="primary")
    if go:
        act(
            lambda: accounts.invite(db(), name, role, current_actor(), email=email),
            None,
            before_rerun=lambda made: st.session_state.update(new_invitation=(made[0].name, made[0].role, made[1])),
        )


def status_words(a: accounts.Account, now: datetime) -> str:
    if a.status == "invited":
        if a.invite_expires is not None and a.invite_expires <= now:
            return "Invitation out of date"
        until = a.invite_expires.strftime("%d %b") if a.invite_expires is not None else "?"
        return f"Invited (until {until})"
    return accounts.STATUS_LABELS.get(a.status, a.status)


def account_list() -> list[accounts.Account]:
    rows = accounts.list_accounts(db())
    if not rows:
        st.info("No personal accounts yet. Invite your fellow organisers and volunteers above.")
        return rows
    now = datetime.now(timezone.utc)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Name": a.name,
                    "E-mail": a.email or "",
                    "Role": auth.ROLE_LABELS[a.role],
                    "Status": status_words(a, now),
                    "Last signed in": a.last_sign_in.strftime("%d %b %Y %H:%M") if a.last_sign_in is not None else "",
                    "Invited by": auth.actor_in_words(a.created_by),
                }
                for a in rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    return rows


def reinvited(a: accounts.Account, code: str, own) -> None:
    """A new invitation for an account: shown once; inviting yourself again signs you out here."""
    st.session_state["new_invitation"] = (a.name, a.role, code)
    if a.account_id == own:
        staff_session.sign_out()


def manage(rows: list[accounts.Account]) -> None:
    if not rows:
        return
    st.subheader("Change an account")
    ids = [a.account_id for a in rows]
    by_id = {a.account_id: a for a in rows}
    pick = st.selectbox(
        "Account",
        ids,
        format_func=lambda i: (
            f"{by_id[i].name} ({auth.ROLE_LABELS[by_id[i].role]}, {accounts.STATUS_LABELS[by_id[i].status].lower()})"
        ),
    )
    a = by_id[pick]
    own = st.session_state.get("account_id")
    c1, c2 = st.columns(2)
    with c1:
        st.write(
            "**Invite again**: a new one-time code. Their old password and any old invitation stop "
            "working, and they are signed out everywhere. For a forgotten password, or to bring back a "
            "revoked account."
        )
        if st.button("Make a new invitation", key="reinvite"):
            act(
                lambda: accounts.reinvite(db(), a.account_id, current_actor()),
                None,
                before_rerun=lambda code: reinvited(a, code, own),
            )
    with c2:
        st.write(
            "**Revoke**: they can no longer sign in, and every browser signed in with this account is "
            "signed out at once. The record of what they did stays."
        )
        sure = st.checkbox(
            f"Yes, revoke {md(a.name)}'s account",
            key="revoke_sure",
            disabled=a.status == "revoked" or a.account_id == own,
        )
        if st.button("Revoke", key="revoke", disabled=not sure):
            act(
                lambda: accounts.revoke(db(), a.account_id, current_actor(), own_account_id=own),
                f"{md(a.name)}'s account is revoked.",
            )
        if a.account_id == own:
            st.caption("This is your own account: another organiser can revoke it.")


def shared_passwords() -> None:
    creds = staff_session.credentials()
    words = {
        "password": "set up",
        "demo": "the public demo password (demo only)",
        "none": "not set up (locked)",
        "unsafe": "refused: not set up safely",
    }
    st.subheader("Shared passwords")
    st.write(
        "For very small groups, each role can also have one shared password (set in the server's "
        "secrets, see the README). With it, the record of who did what says only “organiser” or "
        "“volunteer”; personal accounts say who."
    )
    for role in auth.STAFF_ROLES:
        st.write(f"- {auth.ROLE_LABELS[role]}s: {words[creds[role].kind]}")
    if any(c.kind == "demo" for c in creds.values()):
        st.warning(staff_session.DEMO_ADVICE)


def body() -> None:
    st.title("Team accounts")
    show_flashes()
    if not require("team", "This page is for organisers only. Sign in first."):
        return
    st.write(
        "Each organiser and volunteer can have their own account: you invite them here, they choose "
        "their own password, and the record of who did what shows their name."
    )
    show_new_invitation()
    invite_form()
    rows = account_list()
    manage(rows)
    shared_passwords()


run_page(body)
