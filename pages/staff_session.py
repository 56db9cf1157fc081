"""The Streamlit side of signing in (not a page): who is signed in in this browser session, the
"stay signed in" cookie, and signing out. The rules live in lib/access/auth.py and lib/access/accounts.py.

Session state: ``role``; with a personal account also ``account_id``, ``account_name`` and
``account_version``; with a cookie ``session_token`` and ``session_claims``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from lib.access import accounts, auth
from lib.i18n import N_
from lib.store import config
from lib.resources import secrets_section
from pages.common import db, flash

log = logging.getLogger("kleroterion")

SESSION_KEYS = (
    "role",
    "member_session",
    "account_id",
    "account_name",
    "account_version",
    "session_token",
    "session_claims",
)


def auth_secrets() -> dict:
    return secrets_section("kleroterion_auth") or {}


def login_configured() -> bool:
    return bool(secrets_section("auth"))


def idp_identity() -> dict | None:
    """Who is signed in through the organisation's identity provider (st.login), or None."""
    try:
        if getattr(st.user, "is_logged_in", False):
            return {k: st.user.get(k) for k in ("email", "email_verified", "name")}
    except Exception:  # noqa: BLE001 - no identity provider configured
        pass
    return None


DEMO_ENDED = (
    "The demo passwords have stopped working, because this database now holds real sign-ups (or a "
    "password was set up), so you have been signed out. Sign in with your own account; if there is none "
    "yet, the sign-in page says how the first organiser gets in."
)
DEMO_ADVICE = N_(
    "The demo passwords work only while the database holds nothing but the demo. Before you bring "
    "in real sign-ups, invite yourself on “Team accounts” (or set a password, see the README), or you "
    "will need the one-time set-up code from the server's log to get back in."
)

_warned: set[tuple[str, str]] = set()


def credentials() -> dict[str, auth.Credential]:
    """How each role's shared password is checked right now (the demo's only in the demo)."""
    demo_database = config.demo_enabled() and accounts.holds_demo_assembly(db())
    creds = auth.role_credentials(auth_secrets(), demo_database=demo_database, login_configured=login_configured())
    for cred in creds.values():
        if cred.kind == "unsafe" and (cred.role, cred.stored or "") not in _warned:
            _warned.add((cred.role, cred.stored or ""))
            log.warning("Sign-in: %s", cred.unsafe_message())
    return creds


def throttle() -> auth.Throttle:
    return auth.throttle_for(db().path)


def client() -> tuple[str, str]:
    try:
        return auth.client_key(st.context.ip_address, dict(st.context.headers or {}))
    except Exception:  # noqa: BLE001 - no browser connection (e.g. AppTest)
        return auth.client_key(None, None)


def _secret() -> bytes:
    return auth.session_secret(Path(db().path + ".session-key"), auth_secrets().get("session_secret"))


def _set(signed: accounts.SignedIn) -> None:
    for key in SESSION_KEYS:
        st.session_state.pop(key, None)
    st.session_state["role"] = signed.role
    if signed.account_id is not None:
        st.session_state["account_id"] = signed.account_id
        st.session_state["account_name"] = signed.name
        st.session_state["account_version"] = signed.version


def establish(signed: accounts.SignedIn) -> None:
    """Sign this browser session in, and have the browser keep a cookie so that a reload keeps it."""
    _set(signed)
    token, claims = auth.issue_token(_secret(), signed.subject, signed.version)
    st.session_state["session_token"] = token
    st.session_state["session_claims"] = claims
    st.session_state.pop("_clear_cookie", None)


MEMBER_SUBJECT = "member"


def establish_member(session) -> None:
    """Sign an assembly member in (their access code checked), with a cookie so that a reload keeps it.
    The cookie carries the member's session token (as secret as the code on their card), signed."""
    for key in SESSION_KEYS:
        st.session_state.pop(key, None)
    st.session_state["role"] = auth.MEMBER
    st.session_state["member_session"] = session
    token, claims = auth.issue_token(_secret(), MEMBER_SUBJECT, session.token)
    st.session_state["session_token"] = token
    st.session_state["session_claims"] = claims
    st.session_state.pop("_clear_cookie", None)


def _member_from(claims):
    from lib.evaluation import member_session_for

    if claims is None or claims.subject != MEMBER_SUBJECT or accounts.token_ended(db(), claims.token_id):
        return None
    return member_session_for(db(), claims.version)


def sign_out(message: str | None = None) -> None:
    claims = st.session_state.get("session_claims")
    if claims is not None:
        accounts.end_token(db(), claims)  # a copy of the cookie cannot sign in again
    had_cookie = claims is not None
    for key in SESSION_KEYS:
        st.session_state.pop(key, None)
    if had_cookie:
        st.session_state["_clear_cookie"] = True
    if message:
        flash("warning", message)


def _cookie_value() -> str | None:
    try:
        return st.context.cookies.get(auth.COOKIE_NAME)
    except Exception:  # noqa: BLE001 - no browser connection
        return None


def restore_from_cookie() -> None:
    """Once per browser session (a page load or reload): sign in from a genuine, unexpired cookie
    whose account (or shared password) still stands."""
    if st.session_state.get("_cookie_checked"):
        return
    st.session_state["_cookie_checked"] = True
    token = _cookie_value()
    if not token or st.session_state.get("role"):
        return
    claims = auth.read_token(_secret(), token)
    if claims is not None and claims.subject == MEMBER_SUBJECT:
        member = _member_from(claims)
        if member is None:
            st.session_state["_clear_cookie"] = True
            return
        st.session_state["role"] = auth.MEMBER
        st.session_state["member_session"] = member
        st.session_state["session_token"] = token
        st.session_state["session_claims"] = claims
        return
    signed = accounts.restore(db(), claims, credentials()) if claims else None
    if signed is None:
        st.session_state["_clear_cookie"] = True
        return
    _set(signed)
    st.session_state["session_token"] = token
    st.session_state["session_claims"] = claims


def still_valid() -> None:
    """On every run: a session whose account was revoked (or whose cookie was signed out in another
    window, or whose shared password changed) ends now, not at the next reload."""
    account_id = st.session_state.get("account_id")
    claims = st.session_state.get("session_claims")
    if claims is not None and claims.subject == MEMBER_SUBJECT:
        if _member_from(claims) is None:
            sign_out(
                "Your access code no longer works, so you have been signed out. Ask the organisers for a new card."
            )
        return
    if account_id is not None:
        if accounts.still_signed_in(db(), account_id, st.session_state.get("account_version")) is None:
            sign_out(
                "Your account was changed by an organiser, so you have been signed out. Sign in again, "
                "or ask an organiser."
            )
            return
    if claims is not None:
        if accounts.token_ended(db(), claims.token_id):
            sign_out()
            return
        if account_id is None and accounts.restore(db(), claims, credentials()) is None:
            role = st.session_state.get("role")
            if role in auth.STAFF_ROLES and claims.version == auth.Credential(role, "demo").fingerprint():
                sign_out(DEMO_ENDED)
            else:
                sign_out("The shared password was changed, so you have been signed out. Please sign in again.")


def cookie_element() -> None:
    """Set (or clear) the cookie in the browser. Drawn on every run until the browser has it: a
    sign-in is followed at once by a move to another page, which may come before a first drawing."""
    token = st.session_state.get("session_token")
    if token and _cookie_value() != token:
        st.html(auth.cookie_script(token), unsafe_allow_javascript=True)
    elif not token and st.session_state.get("_clear_cookie"):
        st.html(auth.cookie_script(None), unsafe_allow_javascript=True)
