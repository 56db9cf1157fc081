"""The Check-in page (volunteers at the door), run through AppTest on the real app."""

from __future__ import annotations

import pytest

from lib import assembly as P
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
    at.session_state["checkin_tab"] = "Paper sheet"          # both tabs (only the open one is drawn)
    at.run()
    shown += everything(at)
    assert "P-0001" in shown
    for pid, name, email, phone in demo_contacts(d, ids):
        assert P.first_name(name) in shown
        assert name not in shown and email not in shown and phone not in shown


def test_paper_sheet_download_and_typing_it_in(fast_app_env):
    at = open_app("volunteer")
    d, ids, [sid] = enrol_with_session(n=8)
    at.session_state["checkin_tab"] = "Paper sheet"          # the tab chosen (only the open tab is drawn)
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


# --- replacements at the door, and a check-in recorded once (issue 15) -------------------------

@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    from tests.draw_fixtures import small_demo_template

    return small_demo_template(tmp_path_factory.mktemp("small-demo"))


def find(at, text):
    at.text_input(key="checkin_search").input(text).run()
    return at


def test_a_revealed_replacement_is_found_at_the_door_without_opening_the_members_page(app_env, small_file):
    import shutil

    from lib import draws
    from tests.app_pages.participation_fixtures import app_db

    shutil.copy(small_file, app_env / "app.duckdb")
    at = open_app("volunteer")
    d = app_db()
    draws.freeze_targets(d, actor="organiser")
    rec = draws.compute_draw(d, actor="organiser", M=100, time_limit=30, legacy_seconds=0.3)
    draws.commit_draw(d, rec.draw_id, actor="organiser")
    first = draws.reveal_draw(d, rec.draw_id, "12 07 33 41", actor="organiser")
    P.enrol_panel(d, first.selected_ids, first.draw_id, "organiser")     # "Start tracking the drawn panel"
    dropout = first.selected_ids[0]
    P.record_withdrawal(d, dropout, "Moved away", "organiser")
    r = draws.prepare_replacement(d, [dropout], "organiser", M=100, time_limit=30)
    draws.commit_draw(d, r.draw_id, actor="organiser")
    newcomer = draws.reveal_draw(d, r.draw_id, "777", actor="organiser").selected_ids[0]
    sid = session_today(d)
    goto(at, CHECKIN)                                       # nobody has opened the Members page
    find(at, newcomer)
    assert "Nobody on the panel matches that" not in texts(at)
    assert newcomer in texts(at)
    button(at, "Present").click().run()
    assert P.session_marks(d, sid) == {newcomer: "present"}
    find(at, dropout)                                       # the member replaced is no longer on the list
    assert "Nobody on the panel matches that" in texts(at)


def test_a_replacement_revealed_before_this_fix_is_found_at_the_door_too(fast_app_env):
    """A database where a replacement round was revealed but its newcomer never enrolled (the sync
    ran only on the Members page): the door enrols them when it opens."""
    at = open_app("volunteer")
    d, ids = enrol_demo_panel(10)
    from lib.recruitment.signups.store import pool_frame

    newcomer = [p for p in pool_frame(d)["person_id"] if p not in ids][0]
    P.record_withdrawal(d, ids[3], "Moved away", "organiser")
    d.query("""INSERT INTO draws (draw_id, kind, status, panel_size, algorithm, inputs_hash, options_hash, m,
               pool_size, lottery, probabilities, quotas, relaxation, diagnosis, selected_ids, panel_after, replaces,
               round, parent_id, root_id, commitment, public_number)
               VALUES (2, 'replacement', 'revealed', 1, 'leximin', 'x', 'y', 1, 600, ''::BLOB, '{}', '[]', '[]',
                       '[]', ?, ?, ?, 1, 1, 1, 'c', '12345')""", [[newcomer], [newcomer], [ids[3]]])
    assert newcomer not in P.current_members(d)
    session_today(d)
    goto(at, CHECKIN)
    find(at, newcomer)
    assert newcomer in texts(at) and len([b for b in at.button if b.label == "Present"]) == 1
    assert P.members_frame(d).set_index("person_id").loc[ids[3], "replaced_by"] == newcomer


def test_a_second_tap_records_nothing_and_says_since_when(fast_app_env):
    at = open_app("volunteer")
    d, ids, [sid] = enrol_with_session(10)
    goto(at, CHECKIN)
    pid = ids[2]
    find(at, pid)
    button(at, "Present").click().run()
    find(at, pid)                                           # the same tap again (a double tap, a replayed click)
    button(at, "Present").click().run()
    shown = texts(at)
    assert f"({pid}) was already marked present at " in shown and "Nothing new was recorded." in shown
    assert len(P.attendance_log_frame(d, sid)) == 1
    assert "Checked in: 1 of 10" in shown


def test_a_tap_on_an_out_of_date_list_does_not_overwrite_another_volunteers_mark(fast_app_env):
    at = open_app("volunteer")
    d, ids, [sid] = enrol_with_session(10)
    goto(at, CHECKIN)
    pid = ids[5]
    find(at, pid)                                           # shown as not marked yet
    P.mark_attendance(d, sid, pid, "late", "volunteer at the other door")
    button(at, "Absent").click().run()
    assert "by someone else just now, so your tap was not saved" in texts(at)
    assert P.session_marks(d, sid) == {pid: "late"}
    button(at, "Absent").click().run()                      # the list now shows "late": a deliberate change
    assert P.session_marks(d, sid) == {pid: "absent"}


def test_the_door_shows_the_first_name_never_a_surname_first_or_an_email(fast_app_env):
    at = open_app("volunteer")
    d, ids, _ = enrol_with_session(10)
    d.query("UPDATE contacts SET name = ? WHERE person_id = ?", ["O'Brien, Mary", ids[0]])
    d.query("UPDATE contacts SET name = ? WHERE person_id = ?", ["kwame.asante@example.org", ids[1]])
    goto(at, CHECKIN)
    find(at, ids[0])
    assert "**Mary** · " in "\n".join(str(m.value) for m in at.markdown)
    assert "O'Brien" not in everything(at) and "O\\'Brien" not in everything(at)
    find(at, ids[1])
    shown = everything(at)
    assert "(no name given)" in shown and "kwame" not in shown.lower() and "example.org" not in shown
