"""Issue 14, point 3: one helper for "run an action, show a plain error, flash, rerun" (pages.common.act), here
through the pages that use it: a refusal, the database being busy, and a success."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lib import assembly as P
from lib.store.db import DatabaseBusy
from pages.common import act
from tests.app_pages.helpers import assert_ok, goto, open_app, texts, visible
from tests.app_pages.participation_fixtures import app_db, demo_file, fast_app_env  # noqa: F401

SESSIONS = "pages/sessions.py"
BUSY = "The database is busy with another change. Nothing was saved: try again in a moment."


def add_session(at, name: str):
    at.text_input[0].input(name)
    [b for b in at.button if b.label == "Add the session"][0].click().run()
    return assert_ok(at)


def test_a_busy_database_is_said_plainly_and_nothing_is_recorded(fast_app_env, monkeypatch):
    def busy(*_a, **_k):
        raise DatabaseBusy(BUSY)

    monkeypatch.setattr(P, "schedule_session", busy)
    at = add_session(goto(open_app(), SESSIONS), "Session 1")
    assert [visible(e.value) for e in at.error] == [BUSY]        # plain words, not "Something went wrong"
    assert not at.success and "Session added" not in texts(at)


def test_a_success_is_told_after_the_rerun_once(fast_app_env):
    at = add_session(goto(open_app(), SESSIONS), "Session 1")
    assert texts(at).count("Session added (number 1). Volunteers can now check people in for it.") == 1
    assert [s.title for s in P.list_sessions(app_db())] == ["Session 1"]
    at.run()                                                   # the message was for that one rerun
    assert "Session added" not in texts(at)


def test_a_refusal_keeps_the_page_and_records_nothing(fast_app_env):
    at = add_session(goto(open_app(), SESSIONS), "   ")
    assert "Please give the session a name" in texts(at)
    assert not at.success and P.list_sessions(app_db()) == []


# --- the kind of message act flashes (success, info, warning; or error for a result that failed) ------------


def _act_page(kind):
    import streamlit as st

    from pages.common import act, show_flashes

    show_flashes()
    if st.button("Save"):
        act(lambda: 3, lambda n: f"Saved {n} things.", kind=kind)


def _shown(at) -> dict[str, list[str]]:
    return {k: [visible(e.value) for e in getattr(at, k)] for k in ("success", "info", "warning", "error")}


@pytest.mark.parametrize("kind", ["success", "info", "warning"])
def test_act_flashes_its_message_as_the_kind_asked_once(kind):
    at = AppTest.from_function(_act_page, args=(kind,))
    at.run()
    at.button[0].click().run()
    assert_ok(at)
    assert _shown(at) == {k: ["Saved 3 things."] if k == kind else [] for k in ("success", "info", "warning", "error")}
    at.run()
    assert _shown(at) == {k: [] for k in ("success", "info", "warning", "error")}


def test_act_asks_the_result_which_kind_of_message_it_is():
    at = AppTest.from_function(_act_page, args=(lambda n: "warning" if n > 2 else "success",))
    at.run()
    at.button[0].click().run()
    assert _shown(at)["warning"] == ["Saved 3 things."] and not at.success


def test_act_refuses_a_kind_of_message_the_page_cannot_show_before_doing_anything():
    done = []
    with pytest.raises(ValueError, match="shout"):
        act(lambda: done.append(1), "Saved.", kind="shout")
    assert done == []
