"""The quota board's counts, safe-recruitment arithmetic and small-group hiding."""

from __future__ import annotations

import pytest

from lib.recruitment.categories import load_fields
from lib.recruitment.quota_board import (SAFETY_FACTOR, Board, BoardRow, below_share_lines, board_table, build_board,
                             look_for_lines, shown_still_needed)
from lib.recruitment.signups.store import pool_frame
from lib.recruitment.targets import load_targets, save_target_version


def row(value="A", *, signups=10, eligible=10, min_seats=2, max_seats=3, share=0.2, signup_share=0.1, field="f"):
    return BoardRow(field, "Field", value, value, share, min_seats, max_seats, signups, eligible, signup_share)


def test_board_counts_match_the_pool(demo_db):
    board = build_board(demo_db)
    assert (board.total_signups, board.total_eligible) == (603, 596)
    assert board.version == 1 and board.panel_size == 30 and not board.frozen
    # The SQL counts agree with an independent count over the eligible pool.
    pool = pool_frame(demo_db, eligible_only=True)
    for r in board.rows:
        assert r.eligible == int((pool[r.field] == r.value).sum()), (r.field, r.value)
    age = {r.value: r for r in board.rows if r.field == "age"}
    # 16-24 is 14% of the community: 0.14 × 30 = 4.2 seats, so 4 to 5 seats.
    assert (age["16-24"].target_share, age["16-24"].min_seats, age["16-24"].max_seats) == (0.14, 4, 5)
    assert age["16-24"].signups == 27
    assert age["16-24"].signup_share == pytest.approx(27 / 603)


def test_still_needed_is_three_times_the_minimum_minus_the_ready_signups(demo_db):
    targets = load_targets(demo_db)
    save_target_version(demo_db, targets, panel_size=100, note="bigger panel", actor="Ann")
    board = build_board(demo_db)
    age = {r.value: r for r in board.rows if r.field == "age"}
    # 14 seats at least for 16-24 (0.14 × 100); we aim for 3 × 14 = 42 ready sign-ups and have 27.
    assert age["16-24"].min_seats == 14
    assert age["16-24"].goal == SAFETY_FACTOR * 14 == 42
    assert age["16-24"].still_needed == 42 - 27 == 15
    assert shown_still_needed(age["16-24"], organiser=False) == "15 more"
    # Groups past their goal are safe.
    assert age["65+"].still_needed == 0
    assert shown_still_needed(age["65+"], organiser=False) == "safe ✓"
    # "Who to look for next" lists the groups furthest from their goal first, 16-24 among them.
    first = board.look_for()
    assert all(r.still_needed > 0 for r in first)
    assert [r.coverage for r in first] == sorted(r.coverage for r in first)
    assert any(r.value == "16-24" for r in first)
    assert "16 to 24**: 15 more (aim for 42" in "\n".join(look_for_lines(board, organiser=False))


def test_when_every_group_is_safe_none_is_to_look_for_and_the_under_represented_are_listed_apart():
    rows = [row("A", share=0.5, signup_share=0.1, min_seats=1), row("B", share=0.3, signup_share=0.25, min_seats=1),
            row("C", share=0.2, signup_share=0.65, min_seats=1)]
    board = Board(1, 10, False, 100, 100, rows)
    # "Who to look for next" beside "Field · all safe" contradicted itself (issue 15): a safe group is not
    # one to look for; the under-represented safe groups are listed apart, as safe.
    assert board.look_for() == [] and look_for_lines(board, organiser=False) == []
    assert board.field_status("f") == "all safe"
    assert [r.value for r in board.below_share()] == ["A", "B"]      # C is over-represented
    assert below_share_lines(board, organiser=False)[0] == "**Field: A**: 50% of the community, only 10% of sign-ups"


def test_a_group_to_look_for_is_never_in_a_field_called_all_safe():
    import itertools

    for eligible_a, eligible_b, min_a, share_a in itertools.product((0, 2, 3, 9), (0, 3, 30), (0, 1, 3), (0.1, 0.6)):
        rows = [row("A", eligible=eligible_a, min_seats=min_a, share=share_a, signup_share=0.2),
                row("B", eligible=eligible_b, min_seats=1, share=1 - share_a, signup_share=0.8)]
        board = Board(1, 10, False, 100, 100, rows)
        listed = {r.value for r in board.look_for()}
        if listed:
            assert board.field_status("f") != "all safe"
            assert board.field_status("f") == f"{len(listed)} group{'s' if len(listed) != 1 else ''} still needed"
        else:
            assert board.field_status("f") == "all safe"
        assert not listed & {r.value for r in board.below_share()}


def test_small_groups_are_hidden_from_volunteers_without_leaking_through_other_columns():
    # A group of 3 (goal 12): a volunteer sees "fewer than 5" and no figure that gives the 3 away.
    shown = set()
    for n in (1, 2, 3, 4):
        r = row("Small", signups=n, eligible=n, min_seats=4, share=0.1, signup_share=n / 200)
        board = Board(1, 40, False, 200, 200, [r])
        t = board_table(board, "f", organiser=False).iloc[0]
        shown.add((t["Signed up"], t["Share (target)"], t["Still needed"]))
        org = board_table(board, "f", organiser=True).iloc[0]
        assert org["Signed up"] == str(n) and org["Still needed"] == f"{12 - n} more"
    assert shown == {("fewer than 5", "small (10%)", "at least 8 more")}
    # From 5 up, and for 0, the real figures are shown to everyone.
    r5 = row("Five", signups=5, eligible=5, min_seats=4, signup_share=5 / 200)
    t = board_table(Board(1, 40, False, 200, 200, [r5]), "f", organiser=False).iloc[0]
    assert (t["Signed up"], t["Still needed"]) == ("5", "7 more")
    r0 = row("None", signups=0, eligible=0, min_seats=1, signup_share=0)
    t = board_table(Board(1, 40, False, 200, 200, [r0]), "f", organiser=False).iloc[0]
    assert (t["Signed up"], t["Still needed"]) == ("0", "3 more")


def test_a_lone_small_group_cannot_be_worked_out_by_subtraction():
    rows = [row("Small", signups=3, eligible=3, min_seats=1, signup_share=0.03),
            row("Mid", signups=20, eligible=20, min_seats=2, signup_share=0.2),
            row("Big", signups=77, eligible=77, min_seats=7, signup_share=0.77)]
    board = Board(1, 10, False, 100, 100, rows)
    shown = board_table(board, "f", organiser=False).set_index("Group")
    assert shown["Signed up"].tolist() == ["fewer than 5", "not shown", "77"]
    assert shown.loc["Mid", "Still needed"] == "safe ✓"          # no number that gives 20 away
    assert board_table(board, "f", organiser=True)["Signed up"].tolist() == ["3", "20", "77"]


def test_board_without_targets_counts_only(db):
    from lib.recruitment.categories import parse_fields_csv, save_fields

    save_fields(db, parse_fields_csv("field,value\nage,young\nage,old\n"))
    board = build_board(db)
    assert board.version is None and not board.has_targets
    assert [(r.value, r.signups, r.min_seats) for r in board.rows] == [("young", 0, None), ("old", 0, None)]
    assert board_table(board, "age", organiser=False)["Seats"].tolist() == ["–", "–"]
    assert load_fields(db)[0].key == "age"


def test_eligible_counts_agree_with_the_pool_ready_for_the_draw(demo_db):
    from lib.recruitment.quota_board import eligible_counts

    counts = eligible_counts(demo_db)
    pool = pool_frame(demo_db, eligible_only=True)
    assert counts[("age", "16-24")] == int((pool["age"] == "16-24").sum()) > 0
    assert sum(n for (f, _v), n in counts.items() if f == "age") <= len(pool)


def test_the_pool_signature_changes_when_a_sign_up_stops_being_ready(demo_db):
    from lib.recruitment.quota_board import pool_signature

    before = pool_signature(demo_db)
    assert pool_signature(demo_db) == before
    assert before[:2] == (603, 596)
    pid = pool_frame(demo_db, eligible_only=True)["person_id"][0]
    demo_db.transaction(lambda cur: cur.execute(
        "UPDATE people SET eligible = false, updated_at = now() WHERE person_id = ?", [pid]))
    assert pool_signature(demo_db)[:2] == (603, 595) and pool_signature(demo_db) != before
