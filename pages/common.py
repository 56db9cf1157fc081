"""Small helpers shared by the pages (not a page itself).

- ``require(page, refusal)``: whether this session's role may open the page, by the one page list
  (lib/access/pages.py, which app.py's menu is built from); if not, the refusal is shown plainly.
- ``act(action, success)``: run an action (a save); a refusal (UserError, the database busy included)
  is shown plainly where the person is and nothing else happens; on success the message is flashed and
  the page (or only the fragment tapped in) reruns.
Every page uses them (issue 14): tests/app_pages/test_page_roles.py checks that each staff page asks
``require`` and that no page writes a role out; tests/app_pages/test_act_helper.py covers ``act``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from contextlib import contextmanager
from typing import Callable, TypeVar

import streamlit as st

from lib.errors import UserError
from lib.i18n import N_
from lib.plaintext import md
from lib.resources import get_db

log = logging.getLogger("kleroterion")
T = TypeVar("T")


def db():
    return get_db()


GENERIC_ERROR = "Something went wrong on our side and this page could not be shown."
GENERIC_MESSAGE = N_(
    "Something went wrong on our side and this page could not be shown. Nothing you saved was lost. "
    "Try again; if it keeps happening, tell the organisers (the details are in the server's log)."
)


def strict_errors() -> bool:
    """Under the test suite (KLEROTERION_STRICT=1) an unexpected error is raised, not hidden, so that a
    broken page fails its tests instead of showing the friendly message below."""
    return os.environ.get("KLEROTERION_STRICT") == "1"


_router = threading.local()


@contextmanager
def routed():
    """app.py runs the chosen page inside this. A page run any other way is refused by run_page: a
    freshly started server whose first request is a page's address runs that file directly (Streamlit's
    old "pages folder" mode, until app.py first calls st.navigation), with no sign-in check at all."""
    _router.on = True
    try:
        yield
    finally:
        _router.on = False


def _run_by_router() -> bool:
    if getattr(_router, "on", False):
        return True
    # Streamlit's AppTest (the page tests, in the test process only) runs page files that way on every run;
    # the tests set the role themselves. A real server never imports it.
    return "streamlit.testing.v1.app_test" in sys.modules


def through_pages_folder() -> bool:
    """Whether this run went through Streamlit's old "pages folder" mode (a freshly started server's first runs).
    Asked of the run itself (Streamlit's runner called its ``_mpa_v1`` on the way to this line), not of the flag
    Streamlit keeps for the whole server (``PagesManager.uses_pages_directory``): any session's run may turn that
    off meanwhile. Two first visitors at the same instant both came in through that mode, and the second found
    the flag already off (turned off by the first one's app.py), so it kept "Page not found"."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:  # pragma: no cover - another Streamlit version
        return False
    if not hasattr(script_runner, "_mpa_v1"):  # pragma: no cover - another Streamlit version: the flag as before
        return bool(PagesManager.uses_pages_directory)
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "_mpa_v1" and frame.f_globals.get("__name__") == script_runner.__name__:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def leave_pages_folder_mode_for_good() -> None:
    """Turn Streamlit's old "pages folder" mode off for the whole server (st.navigation does too)."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - another Streamlit version
        return
    PagesManager.uses_pages_directory = False


def run_page(body: Callable[[], None]) -> None:
    """Run a page body; people see plain words, never a traceback."""
    if not _run_by_router():
        if through_pages_folder():  # leave that mode for good and run again through app.py, which checks who
            leave_pages_folder_mode_for_good()  # may see the page
            st.rerun()
        st.warning("This page opens from Kleroterion's menu. [Go to the start page](./)")
        return

    def page() -> None:
        demo_banner()
        body()

    show_errors(page)


def show_errors(body: Callable[[], None]) -> None:
    """Run part of a page (a fragment, which reruns on its own without app.py): plain words for people,
    never a traceback; unexpected errors are logged (and raised under the test suite)."""
    try:
        body()
    except UserError as e:
        st.error(md(said(str(e))))  # messages may repeat what somebody typed: plain text
    except Exception:  # noqa: BLE001 - the last line of defence for the UI
        log.error("Unexpected error on a page:\n%s", traceback.format_exc())
        if strict_errors():
            raise
        try:
            message = said(GENERIC_MESSAGE)  # a member or a visitor reads it in their language
        except Exception:  # noqa: BLE001 - the last line of defence must not fail on a language
            message = GENERIC_MESSAGE
        st.error(message)


def demo_banner() -> None:
    """On every page of the demo database: these are made-up people (the marker in lib/demo/load.py)."""
    from lib.demo.load import BANNER, MIXED_WARNING
    from lib.store.demo_marker import is_demo_database, real_sign_ups_brought_in

    if is_demo_database(db()):
        from pages.language import _

        st.info(_(BANNER), icon=":material/science:")
        if real_sign_ups_brought_in(db()):
            st.warning(MIXED_WARNING, icon=":material/warning:")


def current_actor() -> str:
    """Who is acting, for the record of who did what: "organiser:Sam Lee" when signed in with a
    personal account, "organiser" with the group's shared password, the e-mail address with an
    organisation account (st.login)."""
    from lib.access.auth import actor_label

    name = st.session_state.get("account_name")
    if not name:
        try:
            if getattr(st.user, "is_logged_in", False) and st.user.get("email"):
                name = str(st.user.get("email"))
        except Exception:  # noqa: BLE001 - no login configured
            pass
    return actor_label(st.session_state.get("role"), name)


def rerun_here() -> None:
    """st.rerun of only the fragment this runs in when the run is that fragment's own (a tap inside it):
    the rest of the page and app.py are not run again. In a whole-page run (or under AppTest, which always
    runs the whole page) a fragment-scoped rerun is not allowed, so the page reruns."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    st.rerun(scope="fragment" if ctx is not None and ctx.fragment_ids_this_run else "app")


FLASH_KINDS = ("success", "info", "warning", "error")


def flash(kind: str, message: str) -> None:
    """Show a message on the next rerun (e.g. after a button press that reruns)."""
    st.session_state.setdefault("_flash", []).append((kind, message))


def show_flashes() -> None:
    for kind, message in st.session_state.pop("_flash", []):
        getattr(st, kind)(message)


def require(page: str, refusal: str) -> bool:
    """Whether this session's role may open ``page`` ("setup" for pages/setup.py), by the app's one page list.
    The menu hides a page from other roles already; this is belt and braces. If not, ``refusal`` is shown."""
    from lib.access.pages import may_open

    if may_open(st.session_state.get("role"), page):
        return True
    st.error(refusal)
    return False


def said(message: str) -> str:
    """A refusal written in English in lib, in the language of a member's or visitor's page (lib/i18n.said)."""
    from lib import i18n
    from pages.language import current_language

    return i18n.said(current_language(), message)


def act(
    action: Callable[[], T],
    success: str | Callable[[T], str] | None,
    *,
    kind: str | Callable[[T], str] = "success",
    show_refusal: Callable[[UserError], None] | None = None,
    before_rerun: Callable[[T], None] | None = None,
    whole_page: bool = False,
) -> bool:
    """Run ``action``. A refusal (UserError; the database being busy is one) is shown plainly here (or by
    ``show_refusal``) and False is returned: what was typed stays on the page. Otherwise ``success`` (a
    message, or a function of the action's result giving one; None: no message) is shown after a rerun of
    the page, or of only the fragment this runs in (rerun_here; ``whole_page``: the page, as the action changed
    what the rest of it shows), as ``kind`` ("success", "info", "warning", or "error" for a result that went
    wrong; or a function of the result giving one); ``before_rerun`` gets the result first (to keep it in the
    session). The rerun ends this run, so a success does not return."""
    if not callable(kind) and kind not in FLASH_KINDS:
        raise ValueError(f"act: unknown kind of message {kind!r}; use one of {FLASH_KINDS}")
    try:
        result = action()
    except UserError as e:
        if show_refusal is not None:
            show_refusal(e)
        else:
            st.error(md(said(str(e))))  # plain text (it may repeat what somebody typed), in the reader's language
        return False
    message = success(result) if callable(success) else success
    if message:
        flash(kind(result) if callable(kind) else kind, message)
    if before_rerun is not None:
        before_rerun(result)
    if whole_page:
        st.rerun()
    rerun_here()
    return True
