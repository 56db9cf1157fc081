"""Sign in: organisers and volunteers with their own account (or the group's shared password);
members with their access code; an invited person chooses their password."""

from __future__ import annotations

import logging
import re

import streamlit as st

from lib.access import accounts, auth
from lib.errors import UserError
from lib.evaluation import member_sign_in
from lib.i18n import N_
from lib.plaintext import md
from pages import staff_session
from pages.common import act, db, run_page, show_flashes
from pages.common import said as said_in_language
from pages.language import _, ngettext

log = logging.getLogger("kleroterion")

STAFF_TAB, MEMBER_TAB, INVITE_TAB = N_("Organiser or volunteer"), N_("Assembly member"), N_("I have an invitation")


def signed_in(signed: accounts.SignedIn) -> None:
    staff_session.establish(signed)
    st.session_state["_go_to"] = st.session_state.pop("return_to", None)   # back to the page they were on
    st.switch_page("pages/home.py")  # the Overview with the new menu (app.py then opens that page)


ORG_BUTTON = N_("Sign in with your organisation's account")
ROLE_WORDS = {auth.ORGANISER: N_("Organiser"), auth.VOLUNTEER: N_("Volunteer")}
# the sign-in refusals written in lib/access (N_ there), shown in the reader's language
_TRIES = re.compile(r"Too many wrong tries\. Please wait (\d+) (seconds|minutes), then try again\..*", re.S)


def too_many_tries(seconds: float) -> str:
    return said(auth.too_many_tries(seconds))


def said(message: str) -> str:
    """A refusal from lib/access in the reader's language (its English when it has no translation)."""
    m = _TRIES.fullmatch(message)
    if m:
        n = int(m[1])
        wait = (ngettext("{n} second", "{n} seconds", n) if m[2] == "seconds"
                else ngettext("{n} minute", "{n} minutes", n)).format(n=n)
        return _("Too many wrong tries. Please wait {wait}, then try again. (This stops anyone from guessing "
                 "passwords.)").format(wait=wait)
    if message == accounts.INVALID_INVITATION:
        return _("That invitation code does not work: it may be mistyped, used already or out of date "
                 "(invitations last {days} days). Ask an organiser for a new one.").format(days=accounts.INVITE_DAYS)
    return said_in_language(message)


def organisation_account() -> None:
    """The identity provider's button (st.login), when the group configured one (`[auth]` in the secrets)."""
    if not staff_session.login_configured():
        return
    identity = staff_session.idp_identity()
    if identity and not auth.role_for_identity(identity, staff_session.auth_secrets()):
        email = md(str(identity.get("email") or _("no e-mail address")))
        if str(identity.get("email_verified", "")).strip().lower() in ("false", "0", "no"):
            st.warning(_("Your organisation's account ({email}) says its e-mail address is not confirmed, so it "
                         "cannot be used here. Confirm it with your organisation, or sign in with your name and "
                         "password.").format(email=email))
        else:
            st.warning(_("You signed in with your organisation's account as {email}, but that address is not on "
                         "this assembly's list of organisers or volunteers. Ask an organiser to add it, or sign in "
                         "with your name and password.").format(email=email))
        if st.button(_("Sign out of that account")):
            st.logout()
        return
    if st.button(_(ORG_BUTTON), icon=":material/account_circle:"):
        st.login()
    st.caption(_("Or with your name and password:"))


def staff_tab(creds: dict[str, auth.Credential]) -> None:
    organisation_account()
    shared = [r for r in auth.STAFF_ROLES if creds[r].usable]
    have_accounts = accounts.has_accounts(db())
    if any(c.kind == "demo" for c in creds.values()):
        st.info(_("**Demo passwords** — organiser: `{organiser}`, volunteer: `{volunteer}`.").format(
            organiser=auth.DEMO_PASSWORDS[auth.ORGANISER], volunteer=auth.DEMO_PASSWORDS[auth.VOLUNTEER])
            + " " + _(staff_session.DEMO_ADVICE))
    for cred in creds.values():
        if cred.kind == "unsafe":
            st.error(cred.unsafe_message())
    organiser_way_in = (creds[auth.ORGANISER].usable or accounts.has_active_organiser(db())
                        or staff_session.login_configured())
    if not organiser_way_in:
        setup_notice()
    if not shared and not have_accounts:
        return
    with st.form("signin"):
        if shared:
            words = {r: _(ROLE_WORDS[r]) for r in auth.STAFF_ROLES}     # read now, in this page's language
            who = st.radio(_("I am"), list(auth.STAFF_ROLES), format_func=words.get, horizontal=True)
        else:
            who = auth.ORGANISER
        name = ""
        if have_accounts or not shared:
            name = st.text_input(_("Your name or e-mail"), max_chars=200, autocomplete="username",
                                 help=_("As it is written in your invitation."))
            if shared:
                st.caption(_("With your own account, leave “I am” as it is: your account knows your role. "
                             "Leave your name empty if you use your group's shared password."))
        password = st.text_input(_("Password"), type="password", max_chars=200, autocomplete="current-password")
        ok = st.form_submit_button(_("Sign in"), type="primary")
    st.caption(_("Forgotten your password? An organiser can send you a new invitation."))
    if ok:
        try:
            result = accounts.sign_in(db(), staff_session.throttle(), identifier=name, password=password, role=who,
                                      client=staff_session.client(), credentials=creds)
        except UserError as e:
            st.error(said(str(e)))
        else:
            signed_in(result)


def setup_notice() -> None:
    """No organiser can sign in: the first one gets a one-time set-up code from the server's log."""
    from lib.access.accounts import SETUP_HOURS, ensure_setup_invitation

    key = db().path
    if key not in accounts.setup_codes_logged:
        code = ensure_setup_invitation(db())
        accounts.setup_codes_logged.add(key)
        if code:
            log.warning("Kleroterion: no organiser can sign in yet. One-time set-up code for the first organiser "
                        "(valid %d hours, until the app restarts): %s  On the sign-in page choose "
                        "“I have an invitation” and type it, or open <the app's address>/sign-in?invite=%s",
                        SETUP_HOURS, code, code)
    st.warning(_("No organiser can sign in yet. Whoever runs the server: the server's log holds a one-time "
                 "set-up code for the first organiser. Choose “I have an invitation” above and type it. "
                 "(Or set a shared organiser password: see the README's Secrets section.)"))


def invitation_used() -> None:
    """The invitation's code is spent: forget it, in the page and in its address."""
    st.session_state.pop("invite_code", None)
    if "invite" in st.query_params:
        del st.query_params["invite"]


def invitation_tab() -> None:
    code = st.session_state.get("invite_code")
    from_link = str(st.query_params.get("invite", ""))[:40]
    if code is None and from_link and st.session_state.get("_invite_link_checked") != from_link:
        st.session_state["_invite_link_checked"] = from_link      # checked (and counted) once, not every run
        code, problem = check_code(from_link)
        if problem:
            st.error(problem)
    if code is None:
        with st.form("invite_code_form"):
            typed = st.text_input(_("Your invitation code (four groups of four letters and digits)"), max_chars=40)
            go = st.form_submit_button(_("Continue"), type="primary")
        if go:
            code, problem = check_code(typed)
            if problem:
                st.error(problem)
                return
            st.rerun()
        return
    pending = accounts.pending_invitation(db(), code)
    if pending is None:
        st.session_state.pop("invite_code", None)
        st.error(said(accounts.INVALID_INVITATION))
        return
    if pending.name:
        st.success(_("Welcome, {name}. You are invited as **{role}**. Choose your password.").format(
            name=md(pending.name), role=_(ROLE_WORDS.get(pending.role, auth.ROLE_LABELS[pending.role])).lower()))
    else:
        st.success(_("This is the set-up code for the first organiser. Type your name and choose your password."))
    st.write(_("Use at least {n} characters. Three or four unrelated words are easy to remember and hard to "
               "guess. Do not use a password you use anywhere else.").format(n=auth.MIN_PASSWORD_LENGTH))
    with st.form("accept_form"):
        name = None if pending.name else st.text_input(_("Your name (as your team knows you)"), max_chars=80)
        pw = st.text_input(_("New password"), type="password", max_chars=200, autocomplete="new-password")
        again = st.text_input(_("The same password again"), type="password", max_chars=200,
                              autocomplete="new-password")
        go = st.form_submit_button(_("Set my password"), type="primary")
    if go:
        act(lambda: accounts.accept(db(), code, pw, again, name=name),
            lambda acct: _("Your password is set, {name}. Now sign in with your name ({name}) and your new "
                           "password.").format(name=md(acct.name)),
            before_rerun=lambda _acct: invitation_used())


def check_code(code: str) -> tuple[str | None, str | None]:
    """A typed or linked invitation code, checked against guessing (per client, with back-off).
    Returns (the code, None) or (None, what is wrong)."""
    throttle, keys = staff_session.throttle(), [auth.invitation_key(staff_session.client())]
    wait = throttle.begin(keys)
    if wait > 0:
        return None, too_many_tries(wait)
    if accounts.pending_invitation(db(), code) is None:
        return None, said(accounts.INVALID_INVITATION)
    throttle.succeeded(keys, forget=())
    st.session_state["invite_code"] = code
    return code, None


def member_tab() -> None:
    with st.form("member_signin"):
        code = st.text_input(_("Your access code (on your card)"), max_chars=20,
                             value=str(st.query_params.get("code", ""))[:20])  # from the card's QR link
        go = st.form_submit_button(_("Open my pages"), type="primary")
    if go:
        throttle, keys = staff_session.throttle(), [auth.member_code_key(staff_session.client())]
        wait = throttle.begin(keys)
        if wait > 0:
            st.error(too_many_tries(wait))
            return
        session = member_sign_in(db(), code)
        if session is None:
            st.error(_("That code was not recognised. Check it against your card (letters and numbers, "
                       "no spaces needed) or ask a volunteer."))
        else:
            throttle.succeeded(keys, forget=())
            staff_session.establish_member(session)
            st.switch_page("pages/home.py")  # land on the Overview with the new menu


def body() -> None:
    st.title(_("Sign in"))
    show_flashes()
    st.write(_("Organisers and volunteers sign in with their name and own password (or the group's shared "
               "password). Assembly members use the access code on their card."))
    creds = staff_session.credentials()
    invited = bool(st.query_params.get("invite")) or "invite_code" in st.session_state
    tab_staff, tab_member, tab_invite = st.tabs([_(STAFF_TAB), _(MEMBER_TAB), _(INVITE_TAB)],
                                                default=_(INVITE_TAB) if invited else _(STAFF_TAB))
    with tab_staff:
        staff_tab(creds)
    with tab_member:
        member_tab()
    with tab_invite:
        invitation_tab()


run_page(body)
