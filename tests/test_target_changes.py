"""The targets' history says, in one plain line, what changed from one version to the next
(lib.recruitment.targets.describe_changes): each kind of change has its own words."""

from __future__ import annotations

from lib.recruitment.targets import Target, TargetVersion, describe_changes

OLD = [Target("gender", "Woman", 0.5, "Census 2021"), Target("gender", "Man", 0.5, "Census 2021"),
       Target("age", "16-29", 0.25)]
INFO = TargetVersion(3, None, "organiser", None, 30, None, None, slack=1, small_group_threshold=0.5)


def changes(new, *, panel_size=30, slack=1, floor=0.5, info=INFO, labels=None):
    return describe_changes(OLD, new, info, panel_size=panel_size, slack=slack, small_group_threshold=floor,
                            labels=labels)


def test_the_first_version_and_an_unchanged_one_say_so():
    assert changes(OLD, info=None) == "First version."
    assert changes(list(OLD)) == "No change to the numbers."


def test_each_kind_of_change_has_its_own_words_in_order():
    new = [Target("gender", "Woman", 0.52, "Census 2021"), Target("gender", "Man", 0.5, "Survey"),
           Target("region", "North", 0.125)]
    assert changes(new, panel_size=40, slack=2, floor=1, labels={"gender": "Gender", "age": "Age"}) == (
        "Gender Woman 50% → 52%; Gender Man source changed; region North added at 12.5%; Age 16-29 removed; "
        "panel size 30 → 40; slack 1 → 2; small-group floor 0.5 → 1 seats.")


def test_a_panel_size_set_or_cleared_counts_but_zero_and_none_are_the_same():
    assert changes(OLD, panel_size=None) == "panel size 30 → None."
    none = TargetVersion(3, None, "organiser", None, None, None, None, slack=1, small_group_threshold=0.5)
    assert changes(OLD, panel_size=0, info=none) == "No change to the numbers."


def test_more_than_eight_changes_are_counted_not_listed():
    new = [Target("q", f"v{i}", 0.1) for i in range(10)]
    text = changes(new)
    assert text.count(" added at ") == 8
    assert text.endswith("; and 5 more changes.")  # 10 added, 3 removed: 13 changes
