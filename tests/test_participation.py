"""Participation rules: status timeline, attendance, needs a call, stipends, quota breaks."""

from __future__ import annotations

import shutil
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pandas as pd
import pytest

from lib import assembly as P
from lib.errors import UserError
from lib.recruitment.signups.store import pool_frame
from tests.draw_fixtures import demo_template as demo_template_file
from lib.sortition.audit.model import Quota

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    """The demo assembly loaded once per module; each test works on its own copy of the file."""
    return demo_template_file(tmp_path_factory.mktemp("participation"))


@pytest.fixture
def demo_db(demo_template, tmp_path):
    from lib.store.db import open_database

    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_template, path)
    database = open_database(path)
    yield database
    database.close()


@pytest.fixture
def panel(demo_db):
    """30 demo sign-ups enrolled as a panel (there is no drawn panel in the demo)."""
    ids = list(pool_frame(demo_db)["person_id"][:30])
    P.enrol_panel(demo_db, ids, None, "organiser", now=T0)
    return ids


def contacts(db, ids):
    return {r[0]: r[1:] for r in db.query(
        "SELECT person_id, name, email, phone FROM contacts WHERE list_contains(?, person_id)", [ids])}


# --- enrolment and the status timeline ---------------------------------------------------------

def test_enrol_is_idempotent_and_everyone_starts_selected(demo_db, panel):
    assert P.enrol_panel(demo_db, panel + panel[:3], None, "organiser") == []
    st = P.member_statuses(demo_db)
    assert list(st["person_id"]) == sorted(panel)
    assert set(st["status"]) == {"selected"}
    assert P.current_members(demo_db) == sorted(panel)
    assert len(P.member_events_frame(demo_db)) == 30


def test_enrol_refuses_unknown_pseudonyms_and_enrols_nobody(demo_db):
    with pytest.raises(UserError, match="P-9999"):
        P.enrol_panel(demo_db, ["P-0001", "P-9999"], None, "organiser")
    assert P.current_members(demo_db) == []


def test_timeline_appends_every_change_with_time_and_actor(demo_db, panel):
    pid = panel[0]
    steps = [("contacted", "ann"), ("confirmed", "ann"), ("active", "bo"), ("completed", "cy")]
    for i, (status, who) in enumerate(steps, start=1):
        P.change_status(demo_db, pid, status, who, now=T0 + timedelta(days=i))
    ev = P.member_events_frame(demo_db, pid)
    assert list(ev["status"]) == ["selected", "contacted", "confirmed", "active", "completed"]
    assert list(ev["actor"]) == ["organiser", "ann", "ann", "bo", "cy"]
    assert [t.to_pydatetime() for t in ev["recorded_at"]] == [T0 + timedelta(days=i) for i in range(5)]
    row = P.member_statuses(demo_db).set_index("person_id").loc[pid]
    assert row["status"] == "completed" and row["since"].to_pydatetime() == T0 + timedelta(days=4)
    # completed members still count as members
    assert pid in P.current_members(demo_db)


@pytest.mark.parametrize("path, bad, expected", [
    ([], "confirmed", "is “Selected”, so they cannot be marked “Confirmed” now. From here they can only be "
                      "marked: Contacted, Withdrawn."),
    (["contacted"], "active", "cannot be marked “Taking part”"),
    (["contacted", "confirmed", "active", "completed"], "withdrawn", "That is the last step"),
    (["contacted", "confirmed", "active"], "selected", "cannot be marked “Selected”"),
])
def test_invalid_transitions_are_refused_in_plain_words(demo_db, panel, path, bad, expected):
    pid = panel[1]
    for s in path:
        P.change_status(demo_db, pid, s, "organiser")
    n = len(P.member_events_frame(demo_db, pid))
    with pytest.raises(UserError) as e:
        P.change_status(demo_db, pid, bad, "organiser", reason="some reason")
    assert expected in str(e.value)
    assert len(P.member_events_frame(demo_db, pid)) == n


def test_withdrawn_member_cannot_come_back_and_needs_a_reason(demo_db, panel):
    pid = panel[2]
    with pytest.raises(UserError, match="say why"):
        P.change_status(demo_db, pid, "withdrawn", "organiser", reason="  ")
    P.change_status(demo_db, pid, "withdrawn", "organiser", reason="New job, no evenings free")
    with pytest.raises(UserError, match="can only be marked: Replaced"):
        P.change_status(demo_db, pid, "active", "organiser")
    assert pid not in P.current_members(demo_db)
    assert P.member_events_frame(demo_db, pid)["reason"].iloc[-1] == "New job, no evenings free"


def test_not_on_the_panel_is_refused(demo_db, panel):
    outsider = [p for p in pool_frame(demo_db)["person_id"] if p not in panel][0]
    with pytest.raises(UserError, match=f"{outsider} is not on the panel"):
        P.change_status(demo_db, outsider, "contacted", "organiser")


def test_replacement_is_enrolled_and_the_replaced_member_records_by_whom(demo_db, panel):
    old = panel[3]
    new = [p for p in pool_frame(demo_db)["person_id"] if p not in panel][0]
    P.change_status(demo_db, old, "withdrawn", "organiser", reason="Moved away")
    with pytest.raises(UserError, match="not on the panel yet"):
        P.change_status(demo_db, old, "replaced", "organiser", replaced_by=new)
    assert P.enrol_panel(demo_db, [new], 7, "organiser", replaces={new: old}) == [new]
    assert P.enrol_panel(demo_db, [new], 7, "organiser", replaces={new: old}) == []   # idempotent
    m = P.members_frame(demo_db).set_index("person_id")
    assert m.loc[old, "status"] == "replaced" and m.loc[old, "replaced_by"] == new
    assert m.loc[new, "status"] == "selected" and m.loc[new, "replaces"] == old and m.loc[new, "draw_id"] == 7
    assert list(P.member_events_frame(demo_db, old)["status"]) == ["selected", "withdrawn", "replaced"]
    assert new in P.current_members(demo_db) and old not in P.current_members(demo_db)
    f = P.funnel_frame(demo_db).set_index("person_id")
    assert f.loc[old, "withdrawn"] and f.loc[old, "replaced"] and not f.loc[old, "confirmed"]


def test_dropout_funnel_by_group(demo_db, panel):
    a, b, c = panel[0], panel[1], panel[2]
    for pid in (a, b):
        P.change_status(demo_db, pid, "contacted", "o")
        P.change_status(demo_db, pid, "confirmed", "o")
    sid = P.schedule_session(demo_db, "S1", datetime(2026, 3, 7, 10), None, "o")
    P.mark_many(demo_db, sid, {a: "present", b: "absent"}, "v")
    P.change_status(demo_db, b, "withdrawn", "o", reason="ill")
    P.change_status(demo_db, c, "withdrawn", "o", reason="no reply")
    f = P.funnel_by_group(demo_db)
    assert list(f.columns) == ["field", "value", "stage", "count"]
    genders = dict(demo_db.query("SELECT person_id, value FROM person_values WHERE field = 'gender' AND "
                                 "list_contains(?, person_id)", [panel]))
    g = genders[a]
    got = f[(f["field"] == "gender") & (f["value"] == g)].set_index("stage")["count"]
    assert list(got.index) == list(P.FUNNEL_STAGES)
    expect = {"selected": sum(1 for p in panel if genders[p] == g),
              "contacted": sum(1 for p in (a, b) if genders[p] == g),
              "confirmed": sum(1 for p in (a, b) if genders[p] == g), "attended": 1, "completed": 0,
              "withdrawn": sum(1 for p in (b, c) if genders[p] == g)}
    assert got.to_dict() == expect
    assert f[f["field"] == "gender"].groupby("stage")["count"].sum()["selected"] == 30


def test_replacing_by_hand_records_both_sides(demo_db, panel):
    old = panel[5]
    new = [p for p in pool_frame(demo_db)["person_id"] if p not in panel][0]
    P.enrol_panel(demo_db, [new], None, "organiser")
    P.change_status(demo_db, old, "withdrawn", "organiser", reason="Moved away")
    with pytest.raises(UserError, match="cannot replace themselves"):
        P.change_status(demo_db, old, "replaced", "organiser", replaced_by=old)
    P.change_status(demo_db, old, "replaced", "organiser", replaced_by=new)
    m = P.members_frame(demo_db).set_index("person_id")
    assert (m.loc[old, "status"], m.loc[old, "replaced_by"], m.loc[new, "replaces"]) == ("replaced", new, old)


def test_two_people_changing_one_member_at_once_cannot_both_succeed(demo_db, panel):
    pid = panel[4]
    barrier = threading.Barrier(2)
    results = []

    def contact():
        barrier.wait()
        try:
            P.change_status(demo_db, pid, "contacted", "volunteer")
            results.append("ok")
        except UserError as e:
            results.append(str(e))

    threads = [threading.Thread(target=contact) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    assert list(P.member_events_frame(demo_db, pid)["status"]) == ["selected", "contacted"]


# --- sessions and attendance -------------------------------------------------------------------

def test_marking_is_idempotent_and_the_last_mark_wins_with_every_write_logged(demo_db, panel):
    sid = P.schedule_session(demo_db, "Session 1", datetime(2026, 3, 7, 10), "Library", "organiser")
    P.mark_attendance(demo_db, sid, panel[0], "present", "v1")
    P.mark_attendance(demo_db, sid, panel[0], "present", "v1")
    s = P.session_summary(demo_db, sid)
    assert s["present"] == 1 and s["attended"] == 1 and s["unmarked"] == 29 and s["members"] == 30
    P.mark_attendance(demo_db, sid, panel[0], "Late or part", "v2")
    assert P.session_marks(demo_db, sid) == {panel[0]: "late"}
    log = P.attendance_log_frame(demo_db, sid)
    # the same mark again records nothing; a correction is a new row
    assert list(log["mark"]) == ["present", "late"] and list(log["actor"]) == ["v1", "v2"]
    assert len(P.attendance_frame(demo_db)) == 1


def test_checking_someone_in_twice_records_once_and_says_when(demo_db, panel):
    sid = P.schedule_session(demo_db, "Session 1", datetime(2026, 3, 7, 18), "Library", "organiser")
    at = datetime(2026, 3, 7, 18, 2).astimezone()
    first = P.mark_attendance(demo_db, sid, panel[0], "present", "volunteer Ana", now=at)
    again = P.mark_attendance(demo_db, sid, panel[0], "present", "volunteer Bo", now=at + timedelta(minutes=3))
    assert first.recorded and first.outcome == "recorded"
    assert not again.recorded and again.outcome == "already"
    assert (again.mark, again.time, again.actor) == ("present", "18:02", "volunteer Ana")
    log = P.attendance_log_frame(demo_db, sid)
    assert len(log) == 1 and list(log["actor"]) == ["volunteer Ana"]
    # a paper sheet saying the same thing records nothing new either
    assert P.mark_many(demo_db, sid, {panel[0]: "present", panel[1]: "present"}, "v") == 1
    assert len(P.attendance_log_frame(demo_db, sid)) == 2


def test_a_stale_or_replayed_tap_never_overwrites_a_newer_mark(demo_db, panel):
    sid = P.schedule_session(demo_db, "Session 1", datetime(2026, 3, 7, 18), None, "organiser")
    # volunteer A's list shows panel[0] unmarked; meanwhile volunteer B marks them late
    P.mark_attendance(demo_db, sid, panel[0], "late", "volunteer B", seen=None)
    stale = P.mark_attendance(demo_db, sid, panel[0], "absent", "volunteer A", seen=None)
    assert stale.outcome == "changed_meanwhile" and (stale.mark, stale.actor) == ("late", "volunteer B")
    assert P.session_marks(demo_db, sid) == {panel[0]: "late"}
    # the same correction made on an up-to-date list goes through
    fixed = P.mark_attendance(demo_db, sid, panel[0], "absent", "volunteer A", seen="late")
    assert fixed.recorded and P.session_marks(demo_db, sid) == {panel[0]: "absent"}
    assert list(P.attendance_log_frame(demo_db, sid)["mark"]) == ["late", "absent"]


def test_many_volunteers_checking_the_same_person_in_at_once_record_one_check_in(demo_db, panel):
    sid = P.schedule_session(demo_db, "Session 1", datetime(2026, 3, 7, 18), None, "organiser")
    people = panel[:5]
    errors = []
    for pid in people:
        barrier = threading.Barrier(4)

        def tap(k, pid=pid, barrier=barrier):
            barrier.wait()
            try:
                P.mark_attendance(demo_db, sid, pid, "present", f"volunteer {k}")
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=tap, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    log = P.attendance_log_frame(demo_db, sid)
    assert sorted(log["person_id"]) == sorted(people), log      # one record each, nobody lost
    assert P.session_summary(demo_db, sid)["present"] == len(people)


def test_marks_are_checked_and_a_bad_sheet_saves_nothing(demo_db, panel):
    sid = P.schedule_session(demo_db, "Session 1", datetime(2026, 3, 7, 10), None, "organiser")
    with pytest.raises(UserError, match="“maybe” is not an attendance mark"):
        P.mark_attendance(demo_db, sid, panel[0], "maybe", "v")
    with pytest.raises(UserError, match="Not on the panel: P-9999"):
        P.mark_many(demo_db, sid, {panel[0]: "present", "P-9999": "present"}, "v")
    P.change_status(demo_db, panel[1], "withdrawn", "organiser", reason="ill")
    with pytest.raises(UserError, match="withdrew"):
        P.mark_many(demo_db, sid, {panel[0]: "present", panel[1]: "present"}, "v")
    assert P.attendance_log_frame(demo_db).empty
    P.cancel_session(demo_db, sid, "organiser")
    with pytest.raises(UserError, match="cancelled"):
        P.mark_attendance(demo_db, sid, panel[0], "present", "v")
    with pytest.raises(UserError, match="no session number 999"):
        P.mark_attendance(demo_db, 999, panel[0], "present", "v")


def test_coming_to_a_session_makes_a_confirmed_member_active(demo_db, panel):
    sid = P.schedule_session(demo_db, "Session 1", datetime(2026, 3, 7, 10), None, "organiser")
    P.change_status(demo_db, panel[0], "contacted", "o")
    P.change_status(demo_db, panel[0], "confirmed", "o")
    P.mark_many(demo_db, sid, {panel[0]: "present", panel[1]: "late", panel[2]: "absent"}, "v")
    st = P.member_statuses(demo_db).set_index("person_id")["status"]
    assert st[panel[0]] == "active" and st[panel[1]] == "selected" and st[panel[2]] == "selected"
    assert P.member_events_frame(demo_db, panel[0])["actor"].iloc[-1] == "v"


def test_two_volunteers_saving_at_once_lose_and_duplicate_nothing(demo_db, panel):
    sid = P.schedule_session(demo_db, "Session 1", datetime(2026, 3, 7, 10), None, "organiser")
    both = panel[:6]                       # both volunteers mark these (e.g. a paper sheet and the door)
    for pid in both:                       # confirmed: turning up makes them "taking part", exactly once
        P.change_status(demo_db, pid, "contacted", "o")
        P.change_status(demo_db, pid, "confirmed", "o")
    mine = {0: panel[6:18], 1: panel[18:30]}
    barrier = threading.Barrier(2)
    errors = []

    def volunteer(k):
        barrier.wait()
        try:
            for pid in both + mine[k]:
                mark = "present" if k == 0 else "late"
                P.mark_attendance(demo_db, sid, pid, mark, f"volunteer {k}")
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=volunteer, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    log = P.attendance_log_frame(demo_db, sid)
    assert len(log) == 2 * 6 + 24                               # every write logged
    assert log["mark_id"].is_unique
    current = P.attendance_frame(demo_db)
    assert len(current) == 30 and current["person_id"].is_unique  # one mark each, nobody lost
    by_pid = current.set_index("person_id")["mark"]
    for pid in both:                                            # the later write wins
        last = log[log["person_id"] == pid].sort_values("mark_id")["mark"].iloc[-1]
        assert by_pid[pid] == last
    assert P.session_summary(demo_db, sid)["attended"] == 30
    events = P.member_events_frame(demo_db)
    for pid in both:
        assert list(events[events["person_id"] == pid]["status"]) == ["selected", "contacted", "confirmed", "active"]


def test_attended_last_session_counts_present_and_late_at_the_latest_recorded_session(demo_db, panel):
    assert P.attended_last_session(demo_db) is None
    s1 = P.schedule_session(demo_db, "Session 1", datetime(2026, 3, 7, 10), None, "o")
    s2 = P.schedule_session(demo_db, "Session 2", datetime(2026, 3, 14, 10), None, "o")
    P.schedule_session(demo_db, "Session 3", datetime(2026, 3, 21, 10), None, "o")   # nothing recorded yet
    P.mark_many(demo_db, s1, {p: "present" for p in panel[:20]}, "v")
    assert P.attended_last_session(demo_db) == 20
    P.mark_many(demo_db, s2, {panel[0]: "present", panel[1]: "late", panel[2]: "excused", panel[3]: "absent"}, "v")
    assert P.attended_last_session(demo_db) == 2
    df = P.attendance_frame(demo_db)
    assert list(df.columns) == ["session_id", "session_date", "person_id", "mark"]
    assert len(df) == 24


def test_default_session_is_todays_else_the_next_else_the_last(demo_db):
    assert P.default_session(demo_db) is None
    a = P.schedule_session(demo_db, "A", datetime(2026, 3, 7, 10), None, "o")
    b = P.schedule_session(demo_db, "B", datetime(2026, 3, 14, 10), None, "o")
    assert P.default_session(demo_db, datetime(2026, 3, 7, 18)).session_id == a
    assert P.default_session(demo_db, datetime(2026, 3, 8, 9)).session_id == b
    assert P.default_session(demo_db, datetime(2026, 4, 1, 9)).session_id == b


# --- the door: first names only ----------------------------------------------------------------

def test_checkin_roster_searches_first_name_or_pseudonym_never_surname(demo_db, panel):
    sid = P.schedule_session(demo_db, "Session 1", datetime(2026, 3, 7, 10), None, "o")
    c = contacts(demo_db, panel)
    roster = P.checkin_roster(demo_db, sid)
    assert list(roster.columns) == ["person_id", "first_name", "mark"]
    assert len(roster) == 30
    pid = panel[5]
    full = c[pid][0]
    first, surname = full.split()[0], full.split()[-1]
    assert roster.set_index("person_id").loc[pid, "first_name"] == first
    assert pid in set(P.checkin_roster(demo_db, sid, first.lower())["person_id"])
    assert list(P.checkin_roster(demo_db, sid, pid)["person_id"]) == [pid]
    number = pid.split("-")[1].lstrip("0")
    assert pid in set(P.checkin_roster(demo_db, sid, number)["person_id"])
    firsts = {n.split()[0].lower() for n, _e, _p in c.values()}
    if not any(f.startswith(surname.lower()) for f in firsts):
        assert P.checkin_roster(demo_db, sid, surname).empty
    # nothing in the roster is a surname, an email or a phone number
    flat = " ".join(map(str, roster.to_numpy().ravel()))
    for name, email, phone in c.values():
        assert name not in flat and email not in flat and phone not in flat


def test_accents_and_case_do_not_matter_in_the_search(demo_db, panel):
    sid = P.schedule_session(demo_db, "S", datetime(2026, 3, 7, 10), None, "o")
    roster = P.checkin_roster(demo_db, sid)
    accented = [n for n in roster["first_name"] if any(ord(ch) > 127 for ch in n)]
    if not accented:
        pytest.fail("the demo panel should include an accented first name (e.g. Zoë)")
    name = accented[0]
    import unicodedata
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)).upper()
    assert name in set(P.checkin_roster(demo_db, sid, plain)["first_name"])


def test_sign_in_sheet_lists_first_names_and_pseudonyms_only(demo_db, panel):
    sid = P.schedule_session(demo_db, "Session <1>", datetime(2026, 3, 7, 10), "Hall & garden", "o")
    page = P.sign_in_sheet_html(demo_db, sid)
    assert "Session &lt;1&gt;" in page and "Hall &amp; garden" in page
    for pid, (name, email, phone) in contacts(demo_db, panel).items():
        assert pid in page and name.split()[0] in page
        assert name not in page and email not in page and phone not in page
    assert page.count("☐") == 30 * 4


def test_the_sign_in_sheet_never_prints_an_email_given_as_a_name(demo_db, panel):
    demo_db.query("UPDATE contacts SET name = 'kwame.asante@example.org' WHERE person_id = ?", [panel[0]])
    demo_db.query("UPDATE contacts SET name = 'Asante, Kwame' WHERE person_id = ?", [panel[1]])
    sid = P.schedule_session(demo_db, "Session 1", datetime(2026, 3, 7, 10), None, "o")
    page = P.sign_in_sheet_html(demo_db, sid)
    assert "kwame.asante" not in page and "Asante" not in page
    assert f"<tr><td>(no name given)</td><td class=id>{panel[0]}</td>" in page
    assert f"<tr><td>Kwame</td><td class=id>{panel[1]}</td>" in page


# --- needs a call, with a fixed clock ----------------------------------------------------------

def test_no_reply_for_48_hours_since_contacted(demo_db, panel):
    pid, other = panel[0], panel[1]
    P.change_status(demo_db, pid, "contacted", "o", now=T0)
    P.change_status(demo_db, other, "contacted", "o", now=T0)
    assert P.needs_a_call(demo_db, T0 + timedelta(hours=47)).empty
    calls = P.needs_a_call(demo_db, T0 + timedelta(hours=49)).set_index("person_id")
    assert set(calls.index) == {pid, other}
    assert calls.loc[pid, "no_reply"] and "No reply since they were contacted 2 days ago" in calls.loc[pid, "reasons"]
    # a message left is not a reply; a reply (or confirming) takes them off the list
    P.log_contact(demo_db, pid, "phone", "left a message", None, "o", now=T0 + timedelta(hours=30))
    P.log_contact(demo_db, other, "text", "they replied", "Will come", "o", now=T0 + timedelta(hours=30))
    calls = P.needs_a_call(demo_db, T0 + timedelta(hours=49))
    assert list(calls["person_id"]) == [pid]
    P.change_status(demo_db, pid, "confirmed", "o", now=T0 + timedelta(hours=50))
    assert P.needs_a_call(demo_db, T0 + timedelta(hours=100)).empty


def test_unresolved_support_needs_a_call_until_sorted(demo_db, panel):
    pid = panel[2]
    P.add_support_need(demo_db, pid, "childcare", "Two children under 5", "o", now=T0)
    P.add_support_need(demo_db, pid, "travel", None, "o", now=T0)
    with pytest.raises(UserError, match="already has an open childcare need"):
        P.add_support_need(demo_db, pid, "childcare", None, "o")
    calls = P.needs_a_call(demo_db, T0)
    assert list(calls["person_id"]) == [pid]
    assert calls["reasons"].iloc[0] == "Support not sorted yet: childcare, travel"
    P.resolve_support_need(demo_db, pid, "childcare", "Crèche booked", "o")
    P.resolve_support_need(demo_db, pid, "travel", "Bus pass", "o")
    assert P.needs_a_call(demo_db, T0).empty
    with pytest.raises(UserError, match="no open travel need"):
        P.resolve_support_need(demo_db, pid, "travel", None, "o")
    P.add_support_need(demo_db, pid, "travel", "Bus route cut", "o")          # reopened
    sf = P.support_frame(demo_db).set_index("need")
    assert not sf.loc["travel", "resolved"] and sf.loc["childcare", "resolved"]
    assert list(P.support_log_frame(demo_db)["action"]) == ["raised", "raised", "resolved", "resolved", "reopened"]


def test_missing_the_last_recorded_session(demo_db, panel):
    start = datetime(2026, 3, 7, 10)                        # local wall-clock time
    sid = P.schedule_session(demo_db, "Session 1", start, None, "o")
    after = start.astimezone() + timedelta(hours=5)
    assert P.needs_a_call(demo_db, after).empty             # nothing recorded yet: nobody missed it
    marks = {p: "present" for p in panel[:26]}
    marks.update({panel[26]: "absent", panel[27]: "excused"})     # panel[28], [29] have no mark
    P.mark_many(demo_db, sid, marks, "v", now=after)
    calls = P.needs_a_call(demo_db, after).set_index("person_id")
    assert set(calls.index) == {panel[26], panel[28], panel[29]}
    assert calls["missed_session"].all()
    assert calls.loc[panel[26], "reasons"] == "Missed Session 1 (07 Mar)"
    # a call logged after the session takes them off the list
    P.log_contact(demo_db, panel[26], "phone", "no answer", None, "o", now=after + timedelta(hours=1))
    assert panel[26] not in set(P.needs_a_call(demo_db, after + timedelta(hours=2))["person_id"])
    # a session in the future does not count yet
    assert P.needs_a_call(demo_db, start.astimezone() - timedelta(days=1)).empty


def test_a_member_marked_absent_needs_a_call_at_once(demo_db, panel):
    """An Absent mark is a clear sign: the member is on the call list as soon as they are marked,
    even when the session is still to come by the clock (the door's default session is today's,
    else the next one) or they joined the panel after it started (a replacement)."""
    start = datetime(2026, 3, 14, 18, 30)                   # the next session, local time
    s1 = P.schedule_session(demo_db, "Session 1", datetime(2026, 3, 7, 18, 30), None, "o")
    s2 = P.schedule_session(demo_db, "Session 2", start, None, "o")
    P.mark_many(demo_db, s1, {p: "present" for p in panel}, "v", now=datetime(2026, 3, 7, 18, 40).astimezone())
    early = start.astimezone() - timedelta(hours=3)         # marked at the door before the clock says it started
    P.mark_attendance(demo_db, s2, panel[0], "absent", "v", now=early)
    P.mark_attendance(demo_db, s2, panel[1], "excused", "v", now=early)
    calls = P.needs_a_call(demo_db, early + timedelta(minutes=5)).set_index("person_id")
    assert list(calls.index) == [panel[0]]
    assert calls.loc[panel[0], "missed_session"]
    assert calls.loc[panel[0], "reasons"] == "Marked absent for Session 2 (14 Mar)"
    # after the session, the absent member is still there, the others (no mark yet) too
    later = start.astimezone() + timedelta(hours=4)
    calls = P.needs_a_call(demo_db, later).set_index("person_id")
    assert calls.loc[panel[0], "reasons"] == "Missed Session 2 (14 Mar)"
    # a replacement enrolled after the session started and marked absent is listed too
    new = [p for p in pool_frame(demo_db)["person_id"] if p not in panel][0]
    P.enrol_panel(demo_db, [new], None, "o", now=later)
    P.mark_attendance(demo_db, s2, new, "absent", "v", now=later + timedelta(minutes=1))
    calls = P.needs_a_call(demo_db, later + timedelta(minutes=2)).set_index("person_id")
    assert new in calls.index and calls.loc[new, "missed_session"]
    # a contact logged after the mark takes them off; coming to the next session too
    P.log_contact(demo_db, panel[0], "phone", "spoke with them", None, "o", now=later + timedelta(hours=1))
    assert panel[0] not in set(P.needs_a_call(demo_db, later + timedelta(hours=2))["person_id"])


def test_newcomers_enrolled_after_a_session_did_not_miss_it(demo_db, panel):
    start = datetime(2026, 3, 7, 10)
    sid = P.schedule_session(demo_db, "Session 1", start, None, "o")
    P.mark_many(demo_db, sid, {p: "present" for p in panel}, "v", now=start.astimezone())
    new = [p for p in pool_frame(demo_db)["person_id"] if p not in panel][0]
    P.enrol_panel(demo_db, [new], None, "o", now=start.astimezone() + timedelta(days=1))
    assert P.needs_a_call(demo_db, start.astimezone() + timedelta(days=2)).empty


def test_groups_most_at_risk_come_first(demo_db, panel):
    values = demo_db.query_df("SELECT person_id, value FROM person_values WHERE field = 'age' AND "
                              "list_contains(?, person_id)", [panel])
    young = list(values.loc[values["value"] == "16-24", "person_id"])
    assert len(young) >= 1
    for pid in young:
        P.change_status(demo_db, pid, "withdrawn", "o", reason="exams")
    risk = P.risk_by_group(demo_db, T0)
    top = risk.iloc[0]
    assert (top["field"], top["value"]) == ("age", "16-24")
    assert top["share_at_risk"] == 1.0 and top["withdrawn"] == len(young) and top["above_average"]
    assert not risk[(risk["field"] == "age") & (risk["value"] != "16-24")]["withdrawn"].any()


def test_call_list_puts_people_in_the_groups_most_at_risk_first(demo_db, panel):
    ages = dict(demo_db.query("SELECT person_id, value FROM person_values WHERE field = 'age' AND "
                              "list_contains(?, person_id)", [panel]))
    group = max(set(ages.values()), key=lambda v: list(ages.values()).count(v))
    inside = [p for p in panel if ages.get(p) == group]
    outside = [p for p in panel if ages.get(p) not in (None, group)]
    for pid in inside[1:]:
        P.change_status(demo_db, pid, "withdrawn", "o", reason="exams")
    P.add_support_need(demo_db, inside[0], "travel", None, "o", now=T0)
    P.change_status(demo_db, outside[0], "contacted", "o", now=T0)
    P.add_support_need(demo_db, outside[0], "childcare", None, "o", now=T0)
    calls, risk = P.call_list(demo_db, T0 + timedelta(days=3))
    assert list(calls["person_id"]) == [inside[0], outside[0]]     # fewer reasons, but in a group at risk
    top = risk.iloc[0]
    assert (top["field"], top["value"]) == ("age", group)
    assert f"Age band: {top['value_label']}" in calls["risk_groups"].iloc[0]
    assert "Age band" not in calls["risk_groups"].iloc[1]


# --- stipends ----------------------------------------------------------------------------------

def test_stipend_arithmetic(demo_db, panel):
    P.set_stipend(demo_db, "25.50", "treasurer")
    s1 = P.schedule_session(demo_db, "S1", datetime(2026, 3, 7, 10), None, "o")
    s2 = P.schedule_session(demo_db, "S2", datetime(2026, 3, 14, 10), None, "o")
    s3 = P.schedule_session(demo_db, "S3", datetime(2026, 3, 21, 10), None, "o")
    a, b = panel[0], panel[1]
    P.mark_many(demo_db, s1, {a: "present", b: "excused"}, "v")
    P.mark_many(demo_db, s2, {a: "late", b: "absent"}, "v")
    P.mark_many(demo_db, s3, {a: "present", b: "present"}, "v")
    P.mark_attendance(demo_db, s3, b, "absent", "v")          # corrected: b was not there after all
    P.cancel_session(demo_db, s3, "o")                        # a cancelled session pays nothing
    P.record_payment(demo_db, a, "30", "treasurer", method="bank transfer")
    P.record_payment(demo_db, a, "£0.50", "treasurer")
    df = P.stipends_frame(demo_db).set_index("person_id")
    assert df.loc[a, "sessions_attended"] == 2
    assert df.loc[a, "owed"] == Decimal("51.00") and df.loc[a, "paid"] == Decimal("30.50")
    assert df.loc[a, "balance"] == Decimal("20.50")
    assert df.loc[b, "owed"] == Decimal("0.00") and df.loc[b, "balance"] == Decimal("0.00")
    for bad, msg in [("-5", "cannot be negative"), ("abc", "is not a number"), ("1.234", "two decimal"),
                     ("0", "more than zero"), ("nan", "not a number")]:
        with pytest.raises(UserError, match=msg):
            P.record_payment(demo_db, a, bad, "t")
    with pytest.raises(UserError, match="not on the panel"):
        P.record_payment(demo_db, "P-9999", "5", "t")


def test_treasurer_export_uses_pseudonyms_unless_names_are_asked_for(demo_db, panel):
    P.set_stipend(demo_db, "20", "o")
    sid = P.schedule_session(demo_db, "S1", datetime(2026, 3, 7, 10), None, "o")
    P.mark_attendance(demo_db, sid, panel[0], "present", "v")
    plain = P.treasurer_export(demo_db).decode("utf-8-sig")
    df = pd.read_csv(__import__("io").StringIO(plain))
    assert list(df.columns) == ["Pseudonym", "Status", "Sessions attended", "Owed", "Paid", "Still to pay"]
    assert len(df) == 30 and df.set_index("Pseudonym").loc[panel[0], "Still to pay"] == 20.0
    c = contacts(demo_db, panel)
    assert not any(name in plain or email in plain for name, email, _ in c.values())
    named = P.treasurer_export(demo_db, include_names=True).decode("utf-8-sig")
    assert c[panel[0]][0] in named and "Name" in named.splitlines()[0]


# --- quotas and withdrawals --------------------------------------------------------------------

def test_withdrawal_shows_which_quotas_it_breaks(demo_db, panel):
    ages = dict(demo_db.query("SELECT person_id, value FROM person_values WHERE field = 'age' AND "
                              "list_contains(?, person_id)", [panel]))
    group = max(set(ages.values()), key=lambda v: list(ages.values()).count(v))
    n = list(ages.values()).count(group)
    quotas = [Quota("age", group, n, n + 2), Quota("gender", "Woman", 0, 30)]
    assert P.quota_breaks(demo_db, quotas=quotas) == []
    leaver = next(p for p in panel if ages.get(p) == group)
    stayer = next(p for p in panel if ages.get(p) != group)
    P.change_status(demo_db, stayer, "withdrawn", "o", reason="moved")
    assert P.withdrawal_breaks(demo_db, stayer, quotas) == []
    P.change_status(demo_db, leaver, "withdrawn", "o", reason="moved")
    breaks = P.withdrawal_breaks(demo_db, leaver, quotas)
    assert [(b.field, b.value, b.count, b.min, b.short) for b in breaks] == [("age", group, n - 1, n, 1)]
    assert breaks[0].message == (f"Age band: {breaks[0].value_label}: {n - 1} on the panel now, the quota asks "
                                 f"for at least {n} (1 short).")
    assert P.awaiting_replacement(demo_db) == [stayer, leaver]


def test_record_withdrawal_uses_the_quotas_of_the_targets(demo_db, panel):
    quotas = P.panel_quotas(demo_db)
    assert quotas and {q.field for q in quotas} >= {"gender", "age"}
    status = P.quota_status(demo_db)
    assert len(status) == len(quotas)
    pid = panel[0]
    before = status.set_index(["field", "value"])
    breaks = P.record_withdrawal(demo_db, pid, "Caring for a parent", "organiser")
    own = dict(demo_db.query("SELECT field, value FROM person_values WHERE person_id = ?", [pid]))
    expected = [(f, v) for (f, v), r in before.iterrows() if own.get(f) == v and r["count"] - 1 < r["min"]]
    assert [(b.field, b.value) for b in breaks] == expected
    assert P.member_statuses(demo_db).set_index("person_id").loc[pid, "status"] == "withdrawn"


# --- the draw (lib.draws.records): start tracking, frozen quotas, replacement rounds --------------------

def record_revealed(db, draw_id, kind, selected, *, replaces=(), quotas=(), root_id=None):
    """A draws row as lib.draws.records leaves it once revealed (computing a real LEXIMIN draw on the demo
    takes minutes, too long for a unit test)."""
    import json

    db.query("""INSERT INTO draws (draw_id, kind, status, panel_size, algorithm, inputs_hash, options_hash, m,
                pool_size, lottery, probabilities, quotas, relaxation, diagnosis, selected_ids, panel_after, replaces,
                round, parent_id, root_id, commitment, public_number)
                VALUES (?, ?, 'revealed', ?, 'leximin', 'x', 'y', 1, 600, ''::BLOB, '{}', ?, '[]', '[]', ?, ?, ?, ?, ?,
                        ?, 'c', '12345')""",
             [draw_id, kind, len(selected), json.dumps([list(q) for q in quotas]), list(selected), list(selected),
              list(replaces), 0 if kind == "draw" else 1, root_id, root_id])


def test_tracking_starts_from_the_revealed_draw_with_its_frozen_quotas(demo_db):
    ids = list(pool_frame(demo_db)["person_id"][:30])
    assert P.draw_panel_to_enrol(demo_db) is None
    record_revealed(demo_db, 1, "draw", ids, quotas=[("gender", "Woman", 14, 16), ("age", "16-24", 4, 5)])
    assert P.draw_panel_to_enrol(demo_db) == (1, ids)
    P.enrol_panel(demo_db, ids, 1, "organiser")
    assert P.draw_panel_to_enrol(demo_db) is None                 # already tracking
    assert set(P.members_frame(demo_db)["draw_id"]) == {1}
    status = P.quota_status(demo_db).set_index(["field", "value"])
    assert list(status.index) == [("gender", "Woman"), ("age", "16-24")]
    assert (status.loc[("age", "16-24"), "min"], status.loc[("age", "16-24"), "max"]) == (4, 5)


def test_revealed_replacement_rounds_join_the_panel_replacing_the_dropouts(demo_db):
    pool = list(pool_frame(demo_db)["person_id"])
    ids, reserve = pool[:30], pool[30:32]
    record_revealed(demo_db, 1, "draw", ids)
    P.enrol_panel(demo_db, ids, 1, "organiser")
    assert P.sync_replacements(demo_db, "organiser") == []
    P.change_status(demo_db, ids[0], "withdrawn", "organiser", reason="moved away")
    # the second dropout was never recorded as withdrawn here: the round still replaces them
    record_revealed(demo_db, 2, "replacement", reserve, replaces=[ids[0], ids[1]], root_id=1)
    assert P.sync_replacements(demo_db, "organiser") == [(ids[0], reserve[0]), (ids[1], reserve[1])]
    assert P.sync_replacements(demo_db, "organiser") == []        # idempotent
    m = P.members_frame(demo_db).set_index("person_id")
    assert m.loc[ids[0], "replaced_by"] == reserve[0] and m.loc[reserve[1], "replaces"] == ids[1]
    assert list(P.member_events_frame(demo_db, ids[1])["status"]) == ["selected", "withdrawn", "replaced"]
    assert sorted(P.current_members(demo_db)) == sorted(ids[2:] + reserve)
    assert P.awaiting_replacement(demo_db) == []


def test_marks_saved_before_migration_013_are_the_current_marks_after_it(demo_db, panel):
    """A database from before check-ins were recorded once: its log (duplicates and corrections
    included) gives the same current marks once migration 013 has run."""
    sid = P.schedule_session(demo_db, "Session 1", datetime(2026, 3, 7, 10), None, "o")
    demo_db.query("DROP TABLE attendance_now")
    demo_db.query("DELETE FROM schema_version WHERE version = 13")
    rows = [(panel[0], "present"), (panel[0], "present"), (panel[1], "absent"), (panel[1], "late"), (panel[2], "excused")]
    for i, (pid, mark) in enumerate(rows):
        demo_db.query("INSERT INTO attendance_log (session_id, person_id, mark, recorded_at, actor, source) "
                      "VALUES (?, ?, ?, ?, 'v', 'door')", [sid, pid, mark, T0 + timedelta(minutes=i)])
    assert demo_db.migrate() == [13]
    assert P.session_marks(demo_db, sid) == {panel[0]: "present", panel[1]: "late", panel[2]: "excused"}
    again = P.mark_attendance(demo_db, sid, panel[1], "late", "v2")
    assert again.outcome == "already" and again.at == T0 + timedelta(minutes=3)


def test_member_names_are_the_full_names_of_everyone_ever_on_the_panel(demo_db, panel):
    """The Members and Support pages (organisers only) name the panel: nobody outside it, withdrawn members too."""
    P.record_withdrawal(demo_db, panel[0], "moved away", "organiser", now=T0)
    names = P.member_names(demo_db)
    assert sorted(names) == sorted(panel)
    assert names == {pid: name for pid, (name, _e, _p) in contacts(demo_db, panel).items()}
    outsider = list(pool_frame(demo_db)["person_id"])[40]
    assert outsider not in names


def test_a_pulse_survey_left_unnamed_is_named_after_the_last_session_with_attendance(demo_db, panel):
    from lib import evaluation as ev

    assert ev.last_session_title(demo_db) is None                 # nothing recorded yet
    start = datetime(2026, 3, 7, 10)
    sid = P.schedule_session(demo_db, "Session 1", start, None, "o")
    P.schedule_session(demo_db, "Session 2", start + timedelta(days=7), None, "o")   # no marks: not counted
    P.mark_many(demo_db, sid, {panel[0]: "present"}, "v", now=start.astimezone() + timedelta(hours=5))
    last = ev.last_session_title(demo_db)
    assert last == "Session 1"
    assert ev.new_wave_label("pulse", "  ", last) == "After Session 1"
    assert ev.new_wave_label("pulse", "Mid-point check", last) == "Mid-point check"   # as typed
    assert ev.new_wave_label("baseline", "", last) == ""          # open_wave names it after its kind
    assert ev.new_wave_label("pulse", "", None) == ""
