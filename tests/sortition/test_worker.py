"""The draw never hangs: LEXIMIN runs in a worker process with a hard deadline."""

from __future__ import annotations

import time

import pytest

from lib.sortition.leximin import LeximinError, leximin
from lib.sortition.audit.model import load_instance
from lib.sortition.worker import leximin_in_worker
from tests.conftest import shared_benchmarks


def _valid(inst, dist):
    assert abs(sum(dist.weights) - 1) < 1e-9
    for comp in dist.compositions:
        assert sum(comp) == inst.panel_size
    assert abs(sum(dist.probabilities.values()) - inst.panel_size) < 1e-6


def test_the_worker_gives_the_same_lottery_as_the_engine():
    inst = load_instance(shared_benchmarks() / "instances" / "sa_fixture_22")
    here = leximin(inst, time_limit=60)
    there = leximin_in_worker(inst, time_limit=60)
    assert there.complete and here.complete
    assert there.min_probability == pytest.approx(here.min_probability, abs=1e-9)
    for pid, p in here.probabilities.items():
        assert there.probabilities[pid] == pytest.approx(p, abs=1e-7)


def test_a_solver_that_never_returns_cannot_stall_the_draw(monkeypatch):
    """After the first snapshot (the minimum proven), every solve hangs for ever. The call must come
    back within the time limit plus the grace period, with the best valid lottery so far. The later
    levels go to the master here (the direct decomposition switched off in the worker's environment): on
    this pool the decomposition made at level 1 closes them with no solve at all, so nothing would hang."""
    from bench.pools import generate_pool

    monkeypatch.setenv("KLEROTERION_CARATHEODORY_SHARE", "0")

    inst = generate_pool(1000, 6, 60, seed=1)
    limit, grace = 20.0, 2.0
    t0 = time.monotonic()
    dist = leximin_in_worker(inst, time_limit=limit, grace=grace, _test_stall_after=1)
    took = time.monotonic() - t0
    assert took < limit + grace + 5, took           # 5 s for starting the process and killing it
    assert took > limit                              # it really was stuck until the hard deadline
    assert dist.complete is False
    _valid(inst, dist)
    assert dist.min_probability > 0
    assert dist.min_probability == pytest.approx(dist.upper_bound, abs=1e-7)   # the minimum was proven


def test_stuck_before_any_lottery_is_a_plain_error():
    from bench.pools import generate_pool

    inst = generate_pool(1000, 6, 60, seed=1)
    t0 = time.monotonic()
    with pytest.raises(LeximinError, match="did not answer within its time limit"):
        leximin_in_worker(inst, time_limit=1.0, grace=1.0, _test_stall_after=0)
    assert time.monotonic() - t0 < 1.0 + 1.0 + 5


def test_a_stop_request_keeps_the_lottery_found_so_far(monkeypatch):
    """Stop as soon as the minimum is proven (the engine reports level 2): the call comes back within
    the grace period with a valid lottery whose minimum is the proven best. The later levels go to the
    master (the direct decomposition switched off): with it, level 1's decomposition closes them at once."""
    from bench.pools import generate_pool

    monkeypatch.setenv("KLEROTERION_CARATHEODORY_SHARE", "0")

    inst = generate_pool(1000, 6, 60, seed=2)
    asked: dict = {}

    def progress(message, fraction):
        if "level 2 of" in message and "at" not in asked:
            asked["at"] = time.monotonic()

    dist = leximin_in_worker(inst, time_limit=300, progress=progress, grace=3.0,
                             should_stop=lambda: "at" in asked)
    assert "at" in asked and time.monotonic() - asked["at"] < 3.0 + 3
    assert dist.complete is False
    _valid(inst, dist)
    assert dist.min_probability == pytest.approx(dist.upper_bound, abs=1e-7)
