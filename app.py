"""Kleroterion: run a citizens' assembly yourselves. Start with:  make run

This file is the router: it works out who is using the app (organiser, volunteer,
assembly member or visitor) and offers only the pages that role may see. A page that is
not offered cannot be opened by typing its address either.
"""

from __future__ import annotations


import streamlit as st

from lib.access import auth
from lib.access.pages import PAGES
from lib.errors import UserError

st.set_page_config(page_title="Kleroterion", page_icon="🎲", layout="wide")
# Tabs wrap onto a second line instead of running off the side of a phone (390 px: the sign-in page's third
# tab, the Evaluation page's last two), where a member would have to find Streamlit's small scroll arrow
# (tests/e2e/test_phone_width.py). Style only: Streamlit puts it out of the page's flow.
st.html(
    "<style>[data-testid='stTabs'] [role='tablist'] {flex-wrap: wrap; row-gap: 0.25rem}"
    " [data-testid='stTabsScrollLeft'], [data-testid='stTabsScrollRight'] {display: none}</style>"
)

P = auth.PUBLIC  # the page list, with the roles that may open each page, is lib/access/pages.py


def current_role() -> str:
    """The role of this browser session: signed in on the sign-in page, kept across a reload by the
    signed sign-in cookie (pages/staff_session.py), or through an identity provider (st.login)."""
    from pages import staff_session

    staff_session.restore_from_cookie()
    staff_session.still_valid()
    role = st.session_state.get("role")
    if role in auth.ROLES and not st.session_state.get("idp_email"):
        return role
    # Signed in through an identity provider (st.login), if the group configured one: the role is worked out
    # again on every run, so that an address taken off the lists loses its pages at once.
    identity = staff_session.idp_identity()
    from lib.resources import secrets_section

    mapped = auth.role_for_identity(identity, secrets_section("kleroterion_auth"))
    if mapped:
        st.session_state["role"] = mapped
        st.session_state["idp_email"] = str(identity.get("email"))
        return mapped
    if st.session_state.pop("idp_email", None):
        st.session_state.pop("role", None)
    return P


def requested_path() -> str:
    """The page address the browser asked for (e.g. "check-in" from a bookmark), if known."""
    try:
        url = st.context.url or ""
    except Exception:  # noqa: BLE001 - not in a browser session (e.g. AppTest)
        return ""
    from urllib.parse import urlparse

    parts = [p for p in urlparse(url).path.split("/") if p]
    return parts[-1] if parts else ""


def locked_page(title: str, roles: set[str], role: str):
    """Shown instead of "page not found" when someone opens a page their role may not see."""
    names = sorted(auth.ROLE_LABELS[r].lower() + "s" for r in roles if r != P) or ["signed-in people"]
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    def body() -> None:
        st.title(title)
        if role == P:
            st.session_state["return_to"] = requested_path()  # back here after signing in
            st.info(f"“{title}” is for {who}. Please sign in first; then open it from the menu.")
            st.page_link("pages/signin.py", label="Sign in", icon=":material/login:")
        else:
            st.warning(f"“{title}” is only for {who}, so it is not open to you. Use the menu for your pages.")

    return body


def menu_title(title: str, role: str) -> str:
    """Members and visitors read the menu in their language (pages/language.py)."""
    if role not in (auth.MEMBER, P):
        return title
    from pages.language import menu_title as translated

    return translated(title)


def pages_for(role: str) -> dict[str, list]:
    out: dict[str, list] = {}
    wanted = requested_path()
    for section, path, title, icon, url, roles in PAGES:
        if role in roles:
            out.setdefault(menu_title(section, role), []).append(
                st.Page(path, title=menu_title(title, role), icon=icon, url_path=url or None, default=(url == ""))
            )
        elif url and url == wanted and roles - {P}:
            out.setdefault("", []).append(
                st.Page(locked_page(title, roles, role), title=title, icon=":material/lock:", url_path=url)
            )
    return out


def sidebar(role: str) -> None:
    from lib.plaintext import md
    from pages import staff_session

    with st.sidebar:
        if role != P:
            name = st.session_state.get("account_name") or st.session_state.get("idp_email")
            st.caption(
                f"Signed in as **{md(name)}** ({auth.ROLE_LABELS[role]})"
                if name
                else menu_title(f"Signed in as **{auth.ROLE_LABELS[role]}**", role)
            )
            if st.button(menu_title("Sign out", role), icon=":material/logout:"):
                staff_session.sign_out()
                try:
                    if getattr(st.user, "is_logged_in", False):
                        st.logout()
                except Exception:  # noqa: BLE001
                    pass
                st.rerun()
        staff_session.cookie_element()


def menu_on() -> None:
    """.streamlit/config.toml turns Streamlit's own side menu off (client.showSidebarNavigation = false):
    on a freshly started server it listed the pages folder's source files ("app", "checkin", "common", …)
    for the seconds of the first run, until st.navigation. Our menu is turned on here, just before it."""
    from streamlit import config

    if config.get_option("client.showSidebarNavigation") is False:
        config.set_option("client.showSidebarNavigation", True)


def leave_pages_folder_mode() -> None:
    """A freshly started server's first run goes through Streamlit's old "pages folder" mode (until app.py
    first calls st.navigation): a first visit by a link that is not a file name of pages/ (/sign-in,
    /check-in, /survey: a volunteer reloading at the door after a restart) got "Page not found" in front
    of the page. Leave that mode for good and load the same address again, now routed by our menu. Asked of this
    run (pages.common.through_pages_folder): two first visitors at the same instant both come in through that mode,
    and the first one's run may have left it before the second one's gets here."""
    from pages.common import leave_pages_folder_mode_for_good, through_pages_folder

    if through_pages_folder() and requested_path():
        leave_pages_folder_mode_for_good()
        import json
        from urllib.parse import urlencode, urlparse

        asked = urlparse(st.context.url or "")
        # st.context.url has no query: the card's ?code=… (or an invitation's ?invite=…) comes from st.query_params
        query = urlencode(st.query_params.to_dict())
        target = "/" + "/".join(p for p in asked.path.split("/") if p) + (f"?{query}" if query else "")
        # the browser has already been moved to "/" by the "Page not found" box: go to the address asked for
        js = json.dumps(target).replace("<", "\\u003c")
        st.html(f"<script>(window.parent || window).location.replace({js});</script>", unsafe_allow_javascript=True)
        st.stop()


def go_back(pages: dict[str, list]) -> None:
    """Right after signing in: open the page the person was on (e.g. a bookmarked Check-in)."""
    wanted = st.session_state.pop("_go_to", None)
    if not wanted:
        return
    for group in pages.values():
        for pg in group:
            if pg.url_path == wanted:
                st.switch_page(pg)


leave_pages_folder_mode()
try:
    import logging

    from lib.backup import start_scheduled_backups
    from lib.resources import get_db

    start_scheduled_backups(get_db(), log=logging.getLogger("kleroterion").warning)  # KLEROTERION_BACKUP_DIR
except UserError as e:
    st.error(str(e))
    st.stop()
except Exception:  # noqa: BLE001 - never a traceback in the UI
    import logging
    import traceback

    logging.getLogger("kleroterion").error("The database could not be opened:\n%s", traceback.format_exc())
    st.error(
        "The app could not open its database, so nothing can be shown right now. Nothing stored was "
        "changed. Tell whoever runs the app: the details are in the server's log."
    )
    st.stop()

role = current_role()
sidebar(role)
_pages = pages_for(role)
menu_on()
_nav = st.navigation(_pages)
go_back(_pages)
if role in (auth.MEMBER, P):
    from pages.language import picker

    picker()  # members and visitors: "Language / Idioma" at the top of every page (a phone hides the side menu)
with st.sidebar:
    from pages.language import mark_page_language

    mark_page_language()  # <html lang="…"> for screen readers, in the side menu (no gap above the page)
from pages.common import routed  # noqa: E402 - a page run outside the router is refused (pages/common.py)

with routed():
    _nav.run()
