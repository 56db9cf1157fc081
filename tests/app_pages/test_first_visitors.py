"""A freshly started server's first runs go through Streamlit's old "pages folder" mode (until app.py first calls
st.navigation), which answers an address that is not a file name of pages/ (/sign-in, /check-in, /survey) with a
"Page not found" box and moves the browser to "/". app.leave_pages_folder_mode sends that browser back to the
address it asked for (the browser journey: tests/e2e/test_first_load_menu.py).

Two first visitors at the same instant: both runs enter that mode before either reaches app.py's first line, and
the first one's app.py leaves it (the flag Streamlit keeps for the whole server) before the second one's app.py
looks. The second visitor must still be sent back to their address, and a second visitor who asked for a page's
file name must still get the page rather than "This page opens from Kleroterion's menu". AppTest runs each first
run through that mode; here the other visitor's app.py leaves it while this run is on its way in."""

from __future__ import annotations

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from tests.app_pages.helpers import APP, assert_ok, texts


@pytest.fixture
def other_visitor_first(monkeypatch):
    """The other first visitor's app.py leaves the pages-folder mode just as this run has entered it."""
    real = script_runner._mpa_v1
    entered: list[bool] = []

    def racing(main_script_path):
        entered.append(True)
        PagesManager.uses_pages_directory = False
        return real(main_script_path)

    monkeypatch.setattr(script_runner, "_mpa_v1", racing)
    return entered


def redirects(at: AppTest) -> list[str]:
    return [str(h.value) for h in at.html if "location.replace" in str(h.value)]


def test_the_second_of_two_first_visitors_is_sent_back_to_the_address_asked_for(app_env, other_visitor_first):
    at = AppTest.from_file(APP, default_timeout=60)
    at.context = {"url": "http://127.0.0.1:8501/sign-in"}
    at.query_params["code"] = "ABCD"
    at.run()
    assert not at.exception, at.exception
    assert other_visitor_first, "the run did not go through the pages-folder mode"
    assert redirects(at) == ['<script>(window.parent || window).location.replace("/sign-in?code=ABCD");</script>']
    assert PagesManager.uses_pages_directory is False


def test_the_second_of_two_first_visitors_to_a_page_file_name_gets_the_page(app_env, other_visitor_first,
                                                                           monkeypatch):
    """/members is both the Members page's address and its file's name: the old mode runs the file itself, outside
    app.py's router (pages.common.run_page then runs the app again, routed)."""
    import pages.common

    # as on a real server: AppTest alone counts as routed (tests set the role themselves)
    monkeypatch.setattr(pages.common, "_run_by_router", lambda: getattr(pages.common._router, "on", False))
    at = AppTest.from_file(APP, default_timeout=60)
    at.context = {"url": "http://127.0.0.1:8501/members"}
    at.session_state["role"] = "organiser"
    at.switch_page("pages/members.py")
    at.run()
    assert_ok(at)
    assert other_visitor_first
    assert "This page opens from Kleroterion's menu" not in texts(at)
    assert [t.value for t in at.title] == ["Members"]

