"""The Check-in page (volunteers at the door), run through AppTest on the real app."""

from __future__ import annotations

import pytest

from lib.assembly import participation as P
from tests.app_pages.helpers import assert_ok, goto, open_app, texts
from tests.app_pages.participation_fixtures import demo_file, enrol_demo_panel, fast_app_env, session_today  # noqa: F401

CHECKIN = "pages/checkin.py"


def enrol_with_session(n: int = 30):
    d, ids = enrol_demo_panel(n)
    return d, ids, [session_today(d)]


def demo_contacts(d, ids):
    return d.query("SELECT person_id, name, email, phone FROM contacts WHERE list_contains(?, person_id)", [ids])


def everything(at) -> str:
    parts = [texts(at)]
    parts += [str(b.label) for b in at.button]
    parts += [f"{r.label} {r.options}" for r in at.radio]
    parts += [f"{s.label} {s.options}" for s in at.selectbox]
    parts += [str(df.value) for df in at.dataframe]
    return "\n".join(parts)


def button(at, label, n=0):
    return [b for b in at.button if b.label == label][n]


def test_without_sessions_the_volunteer_is_told_what_to_do(fast_app_env):
    at = goto(open_app("volunteer"), CHECKIN)
    assert "No sessions have been scheduled yet" in texts(at)


@pytest.mark.parametrize("role", ["volunteer", "organiser"])
def test_search_by_first_name_and_check_in(fast_app_env, role):
    at = open_app(role)
    d, ids, [sid] = enrol_with_session()
    goto(at, CHECKIN)
    assert "Checked in: 0 of 30" in texts(at)
    pid = ids[4]
    first = P.first_name(d.scalar("SELECT name FROM contacts WHERE person_id = ?", [pid]))
    at.text_input(key="checkin_search").input(pid).run()
    assert len([b for b in at.button if b.label == "Present"]) == 1
    assert first in texts(at)
    button(at, "Present").click().run()
    assert_ok(at)
    assert f"{first} ({pid}): present." in texts(at)
    assert "Checked in: 1 of 30" in texts(at)
    assert P.session_marks(d, sid) == {pid: "present"}
    log = P.attendance_log_frame(d, sid)
    assert list(log["actor"]) == [role] and list(log["source"]) == ["door"]


def test_volunteer_never_sees_a_surname_or_contact_detail(fast_app_env):
    at = open_app("volunteer")
    d, ids, _ = enrol_with_session()
    goto(at, CHECKIN)
    shown = everything(at)
    assert "P-0001" in shown
    for pid, name, email, phone in demo_contacts(d, ids):
        assert P.first_name(name) in shown
        assert name not in shown and email not in shown and phone not in shown


def test_paper_sheet_download_and_typing_it_in(fast_app_env):
    at = open_app("volunteer")
    d, ids, [sid] = enrol_with_session(n=8)
    goto(at, CHECKIN)
    dl = [e for e in at.get("download_button")]
    assert dl, "the printable sign-in sheet should be offered"
    radios = {r.key: r for r in at.radio}
    radios[f"sheet_{sid}_{ids[0]}"].set_value("Present")
    radios[f"sheet_{sid}_{ids[1]}"].set_value("Late or part")
    radios[f"sheet_{sid}_{ids[2]}"].set_value("Excused")
    [b for b in at.button if b.label == "Save the sheet"][0].click().run()
    assert_ok(at)
    assert "Saved 3 marks from the paper sheet." in texts(at)
    assert P.session_marks(d, sid) == {ids[0]: "present", ids[1]: "late", ids[2]: "excused"}
    assert set(P.attendance_log_frame(d, sid)["source"]) == {"sheet"}


def test_a_member_page_visitor_cannot_open_checkin(fast_app_env):
    at = open_app("member")
    enrol_with_session()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(CHECKIN)
