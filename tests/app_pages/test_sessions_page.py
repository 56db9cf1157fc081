"""The Sessions page (organisers), run through AppTest on the real app."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from lib import assembly as P
from tests.app_pages.helpers import assert_ok, goto, open_app, texts
from tests.app_pages.participation_fixtures import app_db, demo_file, enrol_demo_panel, fast_app_env  # noqa: F401

SESSIONS = "pages/sessions.py"


def test_organiser_schedules_a_session(fast_app_env):
    at = goto(open_app(), SESSIONS)
    assert "No sessions yet" in texts(at)
    at.text_input[0].input("Session 1: the facts")
    at.date_input[0].set_value(date(2026, 5, 9))
    at.time_input[0].set_value(time(10, 30))
    at.text_input[1].input("Town hall")
    [b for b in at.button if b.label == "Add the session"][0].click().run()
    assert_ok(at)
    assert "Session added (number 1)" in texts(at)
    [s] = P.list_sessions(app_db())
    assert (s.title, s.starts_at, s.place) == ("Session 1: the facts", datetime(2026, 5, 9, 10, 30), "Town hall")


def test_a_session_without_a_name_is_refused(fast_app_env):
    at = goto(open_app(), SESSIONS)
    [b for b in at.button if b.label == "Add the session"][0].click().run()
    assert "Please give the session a name" in texts(at)


def test_attendance_overview_log_and_cancel(fast_app_env):
    at = open_app()
    d, ids = enrol_demo_panel(10)
    sid = P.schedule_session(d, "Session 1", datetime(2026, 5, 9, 10), None, "organiser")
    P.mark_many(d, sid, {ids[0]: "present", ids[1]: "late", ids[2]: "absent"}, "volunteer", source="sheet")
    P.mark_attendance(d, sid, ids[2], "excused", "volunteer")
    goto(at, SESSIONS)
    overview = at.dataframe[0].value.iloc[0]
    assert (overview["Present"], overview["Late or part"], overview["Excused"], overview["Absent"],
            overview["Not marked"]) == (1, 1, 1, 0, 7)
    assert "Came to the last session with attendance recorded: 2" in texts(at)
    log = at.dataframe[2].value
    assert len(log) == 4 and list(log["How"]) == ["paper sheet"] * 3 + ["at the door"]
    at.checkbox(key=f"cancel_sure_{sid}").check().run()
    at.button(key=f"cancel_{sid}").click().run()
    assert "is cancelled" in texts(at)
    assert P.list_sessions(d) == []


def test_volunteers_cannot_open_sessions(fast_app_env):
    at = open_app("volunteer")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(SESSIONS)
