"""The ceremony's step from the stored state (lib/draws/ceremony_steps.py)."""

from __future__ import annotations

import pytest

from lib.draws.ceremony_steps import STEPS, ceremony_step, step


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
