"""The Quota board page, run through AppTest on the real app."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.app_pages.helpers import assert_ok, goto, open_app, texts, visible

BOARD = "pages/quota_board.py"


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def _field_table(at, first_group):
    """The table of the field with ``first_group``, groups as people see them (st.table renders Markdown)."""
    tables = [t.value.assign(Group=t.value["Group"].map(visible)) for t in at.table]
    return [t for t in tables if first_group in t["Group"].tolist()][0]


def _keep_only_three_non_binary():
    """Re-sync the demo sheet without all but 3 of its non-binary sign-ups (through the real sync)."""
    from lib.store.config import DEMO_DIR
    from lib.resources import get_db
    from lib.recruitment.signups.grid import grid_from_csv_bytes
    from lib.recruitment.signups.mapping import load_mapping
    from lib.recruitment.signups.sync import sync_grid

    db = get_db()
    drop = {r for (r,) in db.query(
        "SELECT p.row_number FROM people p JOIN person_values v USING (person_id) "
        "WHERE v.field = 'gender' AND v.value = 'Non-binary or other' ORDER BY p.row_number")[3:]}
    assert len(drop) == 6
    rows = list(csv.reader(io.StringIO((DEMO_DIR / "signups.csv").read_text(encoding="utf-8"))))
    kept = [rows[0]] + [r for i, r in enumerate(rows[1:], start=2) if i not in drop]
    buf = io.StringIO()
    csv.writer(buf).writerows(kept)
    grid = grid_from_csv_bytes(buf.getvalue().encode(), "test sheet")
    sync_grid(db, grid, load_mapping(db), source_kind="csv", source_label="test", actor="test")


def test_volunteer_sees_counts_targets_and_who_to_look_for_but_no_names(app_env):
    at = goto(open_app("volunteer"), BOARD)
    assert _metrics(at) == {"Signed up": "603", "Ready for the draw": "596", "Seats on the panel": "30"}
    page = texts(at)
    assert "Who to look for next" in page
    # Every group of the demo is safe: the board says so, and lists 16 to 24 apart as safe but under its share
    # (it used to list it as the group to look for next, beside "Age band · all safe").
    assert "Every group has enough sign-ups to be safe" in page
    assert "Safe, but still fewer than their share of the community" in page
    assert "**Age band: 16 to 24**: 14% of the community, only 4% of sign-ups" in page
    assert "3 sign-ups ready for the draw for every seat" in page
    age = _field_table(at, "16 to 24")
    assert age.columns.tolist() == ["Group", "Signed up", "Share (target)", "Seats", "Still needed"]
    assert age.iloc[0].tolist() == ["16 to 24", "27", "4% (14%)", "4–5", "safe ✓"]
    from lib.resources import get_db

    names = {n for (n,) in get_db().query("SELECT name FROM contacts")}
    shown = page + " ".join(" ".join(t.value.astype(str).to_numpy().ravel()) for t in at.table)
    assert not [n for n in names if n in shown]


def test_small_groups_are_hidden_from_volunteers_not_organisers_and_refresh_picks_up_new_signups(app_env):
    at = goto(open_app("volunteer"), BOARD)
    _keep_only_three_non_binary()
    # The board updates when a volunteer presses refresh (it also refreshes by itself every minute).
    [b for b in at.button if b.label == "Refresh now"][0].click()
    at.run()
    assert_ok(at)
    assert _metrics(at)["Signed up"] == "597"
    gender = _field_table(at, "Woman")
    nb = gender[gender["Group"] == "Non-binary or other"].iloc[0]
    assert (nb["Signed up"], nb["Share (target)"]) == ("fewer than 5", "small (1%)")
    org = goto(open_app("organiser"), BOARD)
    nb = _field_table(org, "Woman").set_index("Group").loc["Non-binary or other"]
    assert nb["Signed up"] == "3"


def test_the_public_and_members_cannot_open_the_quota_board(app_env):
    for role in ("member", None):
        at = open_app(role)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(BOARD)


def test_no_group_to_look_for_sits_in_a_field_marked_all_safe(app_env):
    """Issue 15: "Who to look for next: 16 to 24" beside "Age band · all safe". Whatever the board lists
    under "Who to look for next", that group's field is not called "all safe", and the other way round."""
    from lib.resources import get_db
    from lib.recruitment.targets import load_targets, save_target_version

    for panel_size in (30, 100):           # 30: every demo group safe; 100: some groups short
        save_target_version(get_db(), load_targets(get_db()), panel_size=panel_size, note="test", actor="test")
        at = goto(open_app("volunteer"), BOARD)
        # the list under "Who to look for next": lines "- **Field: Group**: ..." of the element that starts with one
        look_for = [line for m in at.markdown if re.match(r"- \*\*[^*]+: [^*]+\*\*:", m.value)
                    for line in m.value.splitlines()]
        safe_fields = {e.label.split(" · ")[0] for e in at.expander if e.label.endswith(" · all safe")}
        listed_fields = {visible(line)[4:].split(":")[0] for line in look_for}
        assert not listed_fields & safe_fields, (listed_fields, safe_fields)
        if panel_size == 100:
            assert listed_fields and "Age band" in listed_fields
        else:
            assert not look_for and "Age band" in safe_fields


def test_before_any_targets_or_sign_ups_the_board_never_calls_a_group_safe(app_env, monkeypatch):
    """A new group's first day: questions set up, no targets, nobody signed up yet. The board told volunteers
    "Every group has enough sign-ups to be safe" and "Age · all safe" with 0 sign-ups (found on a real
    assembly with the demo off); without targets there is nothing to be safe against."""
    monkeypatch.setenv("KLEROTERION_DEMO", "0")
    from lib.recruitment import assembly_setup as setup
    from lib.resources import get_db

    setup.save_questions(get_db(), [setup.build_field("age", "Age", "", "Young\nOld", False)], actor="organiser")
    at = goto(open_app("volunteer"), BOARD)
    page = texts(at) + " ".join(e.label for e in at.expander)
    assert _metrics(at)["Signed up"] == "0"
    assert "The organisers have not set the targets yet" in page
    assert "enough sign-ups to be safe" not in page and "all safe" not in page
    assert "Age · no targets yet" in page
