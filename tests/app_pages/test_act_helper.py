"""Issue 14, point 3: one helper for "run an action, show a plain error, flash, rerun" (pages.common.act), here
through the pages that use it: a refusal, the database being busy, and a success."""

from __future__ import annotations

from lib.assembly import participation as P
from lib.store.db import DatabaseBusy
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
