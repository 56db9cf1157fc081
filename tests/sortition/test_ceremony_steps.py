"""The ceremony's step from the stored state (lib/draws/ceremony_steps.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lib.draws.ceremony_steps import STEPS, ceremony_step, draw_screen, earlier_rounds, open_round, step


def test_each_stored_state_gives_its_step():
    assert ceremony_step(None).number == 1
    assert ceremony_step(None, targets_frozen=True).number == 2
    assert ceremony_step("computed").title == "Step 3 of 6: Publish the commitment"
    assert ceremony_step("committed").title == "Step 4 of 6: Enter the public number"
    assert ceremony_step("withdrawn").number == 1


def test_after_the_reveal_the_ceremony_is_at_its_last_step_and_done():
    s = ceremony_step("revealed")
    assert s.done and s.number == len(STEPS) == 6
    assert s.title.startswith("Step 6 of 6: Download and share")
    assert "Step 5" not in s.title
    assert s.progress == 1.0
    assert [state for _n, _name, state in s.marks()] == ["done"] * 5 + ["now"]


def test_before_the_reveal_later_steps_are_not_done():
    s = ceremony_step("committed")
    assert not s.done and s.progress == pytest.approx(3 / 6)
    assert [state for _n, _name, state in s.marks()] == ["done"] * 3 + ["now"] + ["later"] * 2


def test_unknown_states_and_steps_are_refused():
    with pytest.raises(ValueError):
        ceremony_step("published")
    with pytest.raises(ValueError):
        step(7)


def test_the_trail_strikes_out_done_steps_and_bolds_the_current_one():
    assert ceremony_step("computed").trail() == (
        "~~1. Check the quotas~~ ✓ → ~~2. Compute the fair lottery~~ ✓ → **3. Publish the commitment** → "
        "4. Enter the public number → 5. Reveal the panel → 6. Download and share")
    assert ceremony_step("revealed").trail().endswith("~~5. Reveal the panel~~ ✓ → **6. Download and share**")


def test_what_the_draw_page_shows_follows_the_stored_draw():
    assert draw_screen(None) == "inputs"
    assert draw_screen("computed") == "lottery"
    assert [draw_screen(s) for s in ("committed", "revealed", "withdrawn")] == ["ceremony"] * 3
    assert draw_screen("revealed", starting_again=True) == "inputs"       # the organiser starts a new draw
    assert draw_screen("computed", computing=True, starting_again=True) == "computing"   # a running job comes first
    with pytest.raises(ValueError):
        draw_screen("published")


def test_the_open_replacement_round_is_the_latest_unrevealed_one_on_the_current_panel():
    R = SimpleNamespace
    rounds = [R(draw_id=2, status="revealed", parent_id=1), R(draw_id=3, status="withdrawn", parent_id=2),
              R(draw_id=4, status="computed", parent_id=2), R(draw_id=5, status="committed", parent_id=2),
              R(draw_id=6, status="computed", parent_id=1)]
    assert open_round(rounds, 2).draw_id == 5
    assert open_round(rounds, 9) is None
    assert [r.draw_id for r in earlier_rounds(rounds + [R(draw_id=7, status="revealed", parent_id=2)], 7)] == [2]
