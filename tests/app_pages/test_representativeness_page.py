"""The representativeness page, run through AppTest on the real app."""

from __future__ import annotations

import pytest

from tests.app_pages.drawn_demo import use_drawn_demo
from tests.app_pages.helpers import assert_ok, goto, open_app, texts

PAGE = "pages/representativeness.py"


def _table(at, group):
    return [d.value for d in at.dataframe if "Group" in d.value and group in d.value["Group"].tolist()][0]


def test_before_the_draw_organisers_compare_signups_with_the_community(app_env):
    at = goto(open_app(), PAGE)
    page = texts(at)
    assert "The chance curve appears once the fair lottery has been computed" in page
    # One distance chart and one chart per question (7 in the demo), each with its table.
    assert len(at.get("vega_lite_chart")) == 1 + 7
    age = _table(at, "16 to 24").set_index("Group")
    assert age.loc["16 to 24", "Community"] == "14.0%"
    assert age.loc["16 to 24", "Signed up"] == "4.5% (27)"
    assert age.loc["16 to 24", "Points off (Ready for the draw)"] == "-9.5"
    assert age.loc["16 to 24", "Ratio (Ready for the draw)"] == "0.32"
    distances = [d.value for d in at.dataframe if "Field" in d.value][0].set_index("Field")
    assert distances.loc["Age band", "Signed up"] == "17.8%"
    assert "Download the transparency report (a printable page)" in [b.label for b in at.get("download_button")]


def test_after_the_draw_the_panel_and_the_chance_curve_are_shown(app_env, tmp_path_factory):
    use_drawn_demo(app_env, tmp_path_factory)
    at = goto(open_app(), PAGE)
    assert_ok(at)
    assert len(at.get("vega_lite_chart")) == 1 + 1 + 7
    chances = [d.value for d in at.dataframe if "Method" in d.value][0]
    assert chances["Method"].tolist() == ["Fair lottery (this draw)", "Old-style draw (for comparison)"]
    age = _table(at, "16 to 24")
    assert "Selected" in age.columns and "Points off (Selected)" in age.columns
    # Organisers see exact counts, even small ones: the selected column always shows "(n)".
    assert age["Selected"].str.contains(r"\(\d+\)").all()
    # Once the panel is enrolled and someone withdraws, the dropout funnel by group appears.
    from lib import draws
    from lib import assembly
    from lib.resources import get_db

    rec = draws.revealed_draw(get_db())
    assembly.enrol_panel(get_db(), rec.selected_ids, rec.draw_id, "test")
    assembly.change_status(get_db(), rec.selected_ids[0], "withdrawn", "test", reason="moved away")
    at.run()
    assert "Who stays: the dropout funnel by group" in texts(at)
    funnel = [d.value for d in at.dataframe if "Still on board" in d.value][0]
    assert funnel["Selected"].sum() == 30 and funnel["Withdrawn"].sum() == 1
    # Showing fewer stages: only the community and the panel.
    at.multiselect[0].set_value(["population", "selected"])
    at.run()
    age = _table(at, "16 to 24")
    assert [c for c in age.columns if c != "Group"][:2] == ["Community", "Selected"]
    assert "Signed up" not in age.columns


def test_only_organisers_can_reach_the_representativeness_page(app_env):
    for role in ("volunteer", "member", None):
        at = open_app(role)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(PAGE)
