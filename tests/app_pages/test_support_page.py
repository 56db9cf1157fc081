"""The Support and stipends page (organisers), run through AppTest on the real app."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from lib import assembly as P
from tests.app_pages.helpers import assert_ok, goto, open_app, texts
from tests.app_pages.participation_fixtures import demo_file, enrol_demo_panel, fast_app_env  # noqa: F401

SUPPORT = "pages/support.py"


def enrol(n: int = 12):
    return enrol_demo_panel(n, now=datetime.now(timezone.utc) - timedelta(days=5))


def frame(at, column):
    return [df.value for df in at.dataframe if column in df.value.columns][0]


def open_tab(at, label):
    """A click on one of the page's tabs (only the open tab is drawn)."""
    at.session_state["support_tab"] = label
    at.run()
    assert_ok(at)


def submit(at, label):
    [b for b in at.button if b.label == label][0].click().run()
    assert_ok(at)


def test_needs_a_call_lists_who_and_why_with_a_phone_number_for_the_organiser(fast_app_env):
    at = open_app()
    d, ids = enrol()
    P.change_status(d, ids[0], "contacted", "organiser", now=datetime.now(timezone.utc) - timedelta(hours=72))
    P.add_support_need(d, ids[1], "travel", "No bus on Sundays", "organiser")
    goto(at, SUPPORT)
    calls = frame(at, "Why")
    assert list(calls["Pseudonym"]) == [ids[0], ids[1]]
    assert calls["Why"].iloc[0] == "No reply since they were contacted 3 days ago"
    assert calls["Why"].iloc[1] == "Support not sorted yet: travel"
    phone = d.scalar("SELECT phone FROM contacts WHERE person_id = ?", [ids[0]])
    assert calls["Phone"].iloc[0] == phone
    assert "2 members to call." in texts(at)
    risk = frame(at, "Higher than average")
    assert risk["Higher than average"].iloc[0] == "▲ yes"
    # logging the reply and sorting the support empties the list
    open_tab(at, "Contact log")
    at.selectbox(key="contact_member").set_value(ids[0])
    at.selectbox(key="contact_outcome").set_value("they replied")
    submit(at, "Save")
    assert f"Contact with {ids[0]} logged." in texts(at)
    open_tab(at, "Support needs")
    at.selectbox(key="resolve_pick").set_value(f"{ids[1]}|travel")
    submit(at, "Mark as sorted")
    assert f"Travel for {ids[1]} is sorted." in texts(at)
    open_tab(at, "Needs a call")
    assert "Nobody needs a call right now." in texts(at)


def test_a_member_marked_absent_at_the_door_needs_a_call_at_once(fast_app_env):
    """Issue 15: a volunteer marks someone Absent for the next session (the door's default when
    there is none today); the organiser sees them on "Needs a call" straight away."""
    at = open_app()
    d, ids = enrol()
    tomorrow = (datetime.now() + timedelta(days=1)).replace(hour=18, minute=30, second=0, microsecond=0)
    sid = P.schedule_session(d, "Session 2", tomorrow, "Town hall", "organiser")
    P.mark_attendance(d, sid, ids[4], "absent", "volunteer")
    goto(at, SUPPORT)
    calls = frame(at, "Why")
    assert list(calls["Pseudonym"]) == [ids[4]]
    assert calls["Why"].iloc[0] == f"Marked absent for Session 2 ({tomorrow:%d %b})"
    assert "marked absent, as soon as a volunteer marks them" in texts(at)


def test_recording_a_support_need(fast_app_env):
    at = open_app()
    d, ids = enrol()
    goto(at, SUPPORT)
    open_tab(at, "Support needs")
    at.selectbox(key="need_member").set_value(ids[3])
    at.selectbox(key="need_kind").set_value("childcare")
    submit(at, "Save the need")
    assert f"Childcare need recorded for {ids[3]}." in texts(at)
    assert list(P.support_frame(d, open_only=True)["person_id"]) == [ids[3]]
    # the same need twice is refused in plain words
    at.selectbox(key="need_member").set_value(ids[3])
    at.selectbox(key="need_kind").set_value("childcare")
    submit(at, "Save the need")
    assert f"{ids[3]} already has an open childcare need." in texts(at)


def test_stipends_owed_paid_and_the_treasurer_file(fast_app_env):
    at = open_app()
    d, ids = enrol()
    sid = P.schedule_session(d, "Session 1", datetime(2026, 5, 9, 10), None, "organiser")
    P.mark_many(d, sid, {ids[0]: "present", ids[1]: "late", ids[2]: "excused"}, "volunteer")
    goto(at, SUPPORT)
    open_tab(at, "Stipends")
    amount = [t for t in at.text_input if t.label == "Amount per session attended"][0]
    amount.input("30")
    submit(at, "Save the amount")
    assert {m.label: m.value for m in at.metric}["Owed in total"] == "£60.00"
    at.selectbox(key="pay_member").set_value(ids[0])
    [t for t in at.text_input if t.label == "Amount (£)"][0].input("20")
    submit(at, "Save the payment")
    m = {x.label: x.value for x in at.metric}
    assert (m["Paid"], m["Still to pay"]) == ("£20.00", "£40.00")
    table = frame(at, "Still to pay").set_index("Pseudonym")
    assert table.loc[ids[0], "Still to pay"] == 10.0 and table.loc[ids[2], "Owed"] == 0.0
    assert P.stipends_frame(d).set_index("person_id").loc[ids[0], "paid"] == Decimal("20.00")
    # a bad amount is refused in plain words
    at.selectbox(key="pay_member").set_value(ids[1])
    [t for t in at.text_input if t.label == "Amount (£)"][0].input("ten pounds")
    submit(at, "Save the payment")
    assert "The payment “ten pounds” is not a number." in texts(at)
    # the treasurer file: pseudonyms only unless names are asked for, and then a plain warning
    assert "The file lists pseudonyms only" in texts(at)
    at.checkbox(key="export_names").check().run()
    assert "This file will contain members' full names." in texts(at)


def test_only_the_open_tab_is_drawn(fast_app_env):
    """Opening the page draws "Needs a call" only: the other three tabs' forms and tables are not built (each
    was work for the server and the browser on every run of the page); a click on a tab draws that one."""
    at = open_app()
    enrol()
    goto(at, SUPPORT)
    labels = [b.label for b in at.button]
    assert "Save the payment" not in labels and "Save the need" not in labels and "Save" not in labels
    assert not [t for t in at.text_input if t.label == "Amount per session attended"]
    open_tab(at, "Stipends")
    assert [t for t in at.text_input if t.label == "Amount per session attended"]
    assert "Save the need" not in [b.label for b in at.button]


def test_volunteers_cannot_open_support(fast_app_env):
    at = open_app("volunteer")
    enrol()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(SUPPORT)
