"""The Targets and quotas page, run through AppTest on the real app."""

from __future__ import annotations

import pytest

from tests.app_pages.helpers import assert_ok, goto, open_app, texts, visible

TARGETS = "pages/targets.py"


def _button(at, label):
    return [b for b in at.button if b.label == label][0]


def _frame(at, first_column):
    return [d.value for d in at.dataframe if d.value.columns[0] == first_column][0]


def _upload(at, text, name="targets.csv"):
    at.file_uploader(key="targets_file").set_value((name, text.encode(), "text/csv"))
    at.run()
    _button(at, "Use this file").click()
    at.run()
    assert_ok(at)


def test_organiser_sees_targets_seats_and_whether_the_pool_can_meet_them(app_env):
    at = goto(open_app(), TARGETS)
    page = texts(at)
    assert "Version 1, saved by demo" in page and "Not frozen yet" in page
    editor = at.data_editor[0].value
    young = editor[editor["Group"] == "16 to 24"].iloc[0]
    assert young["Share of the community (%)"] == pytest.approx(14.0)
    assert "census 2021" in young["Source (e.g. census table and date)"]
    seats = _frame(at, "Question")
    row = seats[seats["Group"] == "16 to 24"].iloc[0]
    assert (row["Fewest seats"], row["Most seats"], row["Ready for the draw"]) == (4, 5, 27)
    assert "Yes: a panel of 30 that meets every quota can be drawn from the 596 people" in page
    history = _frame(at, "Version")
    assert history[["Version", "Who", "Why"]].values.tolist() == [[1, "demo", "Demo targets from the (synthetic) census"]]


def test_a_bigger_panel_that_the_pool_cannot_fill_is_explained_with_the_smallest_change(app_env):
    at = goto(open_app(), TARGETS)
    at.number_input[0].set_value(200)      # panel size: 16-24 then needs at least 28 seats, 27 are ready
    at.run()
    assert_ok(at)
    errors = visible("\n".join(e.value for e in at.error))
    assert "Not yet: no panel can meet all these quotas" in errors
    assert "Age band “16 to 24”" in errors and "age = 16-24" not in errors    # the labels set up, not keys
    assert "Lower the minimum for Age band “16 to 24” from 28 to 27" in texts(at)


def test_upload_warns_then_save_records_who_what_and_why(app_env):
    at = goto(open_app(), TARGETS)
    _upload(at, "field,value,share,source\nage,16-24,24%,Census 2031\nage,25-34,17%,Census 2031\n"
                "age,35-44,16%,Census 2031\nage,45-54,16%,Census 2031\nage,55-64,15%,Census 2031\n"
                "age,65+,22%,Census 2031\n")
    page = texts(at)
    assert "Read 6 shares from targets.csv" in page
    assert "The shares for Age band add up to 110.0%, not 100%" in page
    assert "No targets yet for: Gender, Highest qualification" in page
    editor = at.data_editor[0].value
    assert editor[editor["Group"] == "16 to 24"]["Share of the community (%)"].iloc[0] == pytest.approx(24.0)
    # Saving needs a reason; the form says so instead of saving silently.
    at.text_input[0].set_value("Sam Organiser")
    submit = [b for b in at.button if b.label == "Save as version 2"][0]
    submit.click()
    at.run()
    assert "Please say in a few words why the targets change" in "\n".join(e.value for e in at.error)
    at.text_input[1].set_value("New census")
    [b for b in at.button if b.label == "Save as version 2"][0].click()
    at.run()
    assert_ok(at)
    assert "Saved as version 2." in texts(at)
    history = _frame(at, "Version")
    v2 = history[history["Version"] == 2].iloc[0]
    assert (v2["Who"], v2["Why"]) == ("Sam Organiser", "New census")
    assert "Age band 16-24 14% → 24%" in v2["What changed"]
    assert "Gender Woman removed" in v2["What changed"]


def test_a_wrong_targets_file_is_explained_and_nothing_changes(app_env):
    at = goto(open_app(), TARGETS)
    _upload(at, "field,value,share\nage,16-24,0.2\nage,Teenager,0.1\n", name="bad.csv")
    errors = visible("\n".join(e.value for e in at.error))
    assert "bad.csv, line 3: “Teenager” is not a value of Age band" in errors
    editor = at.data_editor[0].value
    assert editor[editor["Group"] == "16 to 24"]["Share of the community (%)"].iloc[0] == pytest.approx(14.0)
    assert len(_frame(at, "Version")) == 1


def test_freezing_makes_the_targets_read_only(app_env):
    at = goto(open_app(), TARGETS)
    _button(at, "Yes, freeze them").click()
    at.run()
    assert_ok(at)
    page = texts(at)
    assert "Version 1 is frozen for the draw." in page
    assert "Frozen for the draw" in page and "can no longer change" in page
    assert not [b for b in at.button if b.label.startswith("Save as version")]
    assert at.number_input[0].disabled
    history = _frame(at, "Version")
    assert history["Frozen"].iloc[0] != "no"
    # Even a direct save is refused.
    from lib.errors import UserError
    from lib.resources import get_db
    from lib.recruitment.targets import load_targets, save_target_version

    with pytest.raises(UserError, match="frozen"):
        save_target_version(get_db(), load_targets(get_db()), panel_size=30, note="sneaky", actor="X")


def test_only_organisers_can_reach_the_targets_page(app_env):
    for role in ("volunteer", "member", None):
        at = open_app(role)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(TARGETS)


def test_who_saved_the_targets_reads_as_their_name_not_the_records_role_and_name(app_env):
    """Targets saved on "Set up the assembly" record the signed-in person as "organiser:Sam Lee"; the page
    said "saved by organiser:Sam Lee" and listed that in its history."""
    from lib.recruitment.targets import load_targets, save_target_version
    from lib.resources import get_db

    save_target_version(get_db(), load_targets(get_db()), panel_size=30, note="from the quota table",
                        actor="organiser:Sam Lee")
    at = goto(open_app(), TARGETS)
    page = texts(at)
    assert "Version 2, saved by Sam Lee on" in page and "organiser:" not in page
    assert _frame(at, "Version")["Who"].tolist() == ["Sam Lee", "demo"]
