"""The Members page (organisers), run through AppTest on the real app."""

from __future__ import annotations

import pytest

from lib import assembly as P
from lib.recruitment.signups.store import pool_frame
from tests.app_pages.helpers import assert_ok, goto, open_app, texts
from tests.app_pages.participation_fixtures import demo_file, enrol_demo_panel, fast_app_env  # noqa: F401

MEMBERS = "pages/members.py"


def enrol(n: int = 30) -> tuple:
    return enrol_demo_panel(n)


def test_before_the_draw_the_organiser_is_told_to_draw_first(fast_app_env):
    at = goto(open_app(), MEMBERS)
    assert "Nobody is on the panel yet" in texts(at)
    assert not [b for b in at.button if b.label == "Start tracking the drawn panel"]


def test_members_table_and_a_status_change(fast_app_env):
    at = open_app()
    d, ids = enrol()
    goto(at, MEMBERS)
    m = {x.label: x.value for x in at.metric}
    assert m["On the panel"] == "30" and m["Not yet confirmed"] == "30" and m["Withdrawn"] == "0"
    table = [df.value for df in at.dataframe if "Pseudonym" in df.value.columns][0]
    assert list(table["Pseudonym"]) == sorted(ids) and set(table["Status"]) == {"Selected"}
    at.selectbox(key="member_pick").set_value(ids[0]).run()
    # only the allowed next steps are offered
    assert at.radio(key=f"member_new_{ids[0]}").options == ["Contacted", "Withdrawn"]
    at.radio(key=f"member_new_{ids[0]}").set_value("contacted").run()
    [b for b in at.button if b.label == "Save the change"][0].click().run()
    assert_ok(at)
    assert f"{ids[0]} is now “Contacted”." in texts(at)
    ev = P.member_events_frame(d, ids[0])
    assert list(ev["status"]) == ["selected", "contacted"] and ev["actor"].iloc[-1] == "organiser"


def test_withdrawal_without_reason_is_refused_then_shows_quota_breaks(fast_app_env):
    at = open_app()
    d, ids = enrol()
    goto(at, MEMBERS)
    pid = ids[0]
    at.selectbox(key="member_pick").set_value(pid).run()
    at.radio(key=f"member_new_{pid}").set_value("withdrawn").run()
    [b for b in at.button if b.label == "Save the change"][0].click().run()
    assert f"Please say why {pid} is withdrawing" in texts(at)
    assert pid in P.current_members(d)
    at.text_input(key=f"member_reason_{pid}").input("Moved to another town").run()
    [b for b in at.button if b.label == "Save the change"][0].click().run()
    assert_ok(at)
    out = texts(at)
    assert f"{pid} is now recorded as withdrawn." in out
    expected = P.withdrawal_breaks(d, pid)
    if expected:
        assert f"Without {pid}, the panel no longer meets" in out
        assert expected[0].message in out
    else:
        assert f"Without {pid}, every quota is still met." in out
    assert f"Waiting for a replacement: {pid}." in out
    assert pid not in P.current_members(d)


def test_volunteers_cannot_open_members(fast_app_env):
    at = open_app("volunteer")
    enrol()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(MEMBERS)


def test_start_tracking_the_drawn_panel(fast_app_env):
    from tests.app_pages.participation_fixtures import app_db
    from tests.test_participation import record_revealed

    at = open_app()
    d = app_db()
    ids = list(pool_frame(d)["person_id"][:30])
    record_revealed(d, 1, "draw", ids)
    goto(at, MEMBERS)
    assert "The draw (number 1) picked 30 people." in texts(at)
    [b for b in at.button if b.label == "Start tracking the drawn panel"][0].click().run()
    assert_ok(at)
    assert "30 members are now on the panel" in texts(at)
    assert sorted(P.current_members(d)) == sorted(ids)


def test_a_members_history_says_who_in_words_not_the_records_role_and_name_form(fast_app_env):
    """The "By" column read "organiser:Sam Lee" (the record's internal form) and "organiser"."""
    at = open_app()
    d, ids = enrol()
    P.change_status(d, ids[0], "contacted", "organiser:Sam Lee")
    P.change_status(d, ids[0], "confirmed", "volunteer")
    goto(at, MEMBERS)
    at.selectbox(key="member_pick").set_value(ids[0]).run()
    assert_ok(at)
    history = [df.value for df in at.dataframe if "By" in df.value.columns][0]
    assert list(history["By"])[-2:] == ["Sam Lee", "A volunteer"]
    assert not any(":" in str(x) for x in history["By"])
