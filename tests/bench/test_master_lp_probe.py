"""The master-LP probe: one line per master solve, and the engine's warm start between solves."""

from __future__ import annotations

import re

import lib.sortition.leximin as lx
from bench.master_lp_probe import probe


def test_every_master_solve_after_the_first_starts_from_the_kept_basis():
    # the probe switches the direct decomposition off itself (on a:0 it closes the later levels without a
    # master solve), so the later levels are solved in the master
    solve, primal, clock, share = lx._DualMaster.solve, lx._PrimalMaster.solve, lx.time, lx.CARATHEODORY_SHARE
    assert share > 0, "the decomposition is off already: the test shows nothing"
    lines = probe("a:0", 60.0)
    *solves, summary = lines
    assert summary.startswith("complete True")
    assert len(solves) > 10
    assert int(re.search(r"(\d+) master solves", summary).group(1)) == len(solves)
    # the first solve has no basis yet; every later one (new columns, a new level's rows, dropped
    # columns) re-solves warm from the last basis
    assert "basis none" in solves[0]
    assert all("basis kept" in line for line in solves[1:]), [line for line in solves if "basis none" in line]
    assert any("level 2" in line for line in solves)
    # the engine is left as it was
    assert lx._DualMaster.solve is solve and lx._PrimalMaster.solve is primal and lx.time is clock
    assert lx.CARATHEODORY_SHARE == share
