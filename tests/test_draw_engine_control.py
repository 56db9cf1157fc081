"""The draw page's controls over a running computation: it settles by itself once the smallest chance
is proven the best possible, and the organiser can stop it (keeping the lottery) or let it work longer."""

from __future__ import annotations

import threading
import time

import pytest

from lib import draws
from lib.draws import compute, jobs
from lib.sortition.leximin import Control, leximin


@pytest.fixture(scope="module")
def pool():
    from bench.pools import generate_pool

    return generate_pool(1000, 6, 60, seed=3)


def test_the_engine_settles_once_the_minimum_is_proven(pool, monkeypatch):
    # the later levels in the master (as below): on this pool level 1's decomposition closes them in a
    # fraction of a second with no solve, and a lottery finished at no cost is kept rather than settled
    monkeypatch.setattr("lib.sortition.leximin.CARATHEODORY_SHARE", 0.0)
    t0 = time.monotonic()
    dist = leximin(pool, time_limit=120, control=Control(settle_after=lambda: 0.0))
    assert time.monotonic() - t0 < 60
    assert dist.complete is False                            # the later levels were not finished
    assert dist.min_probability == pytest.approx(dist.upper_bound, abs=1e-7)   # but the minimum is optimal
    assert dist.maximin_seconds == dist.maximin_seconds      # (not NaN: it was proven)


def test_stop_keeps_the_lottery_found_so_far_and_extend_lets_it_work_longer(pool, monkeypatch):
    # the later levels in the master alone (the worker reads this), so that evening out takes a while: the
    # direct decomposition closes them on this pool a few seconds after the minimum, before a stop
    monkeypatch.setenv("KLEROTERION_CARATHEODORY_SHARE", "0")
    db = type("FakeDb", (), {"path": "engine-control-test"})()
    out: dict = {}

    def work():
        out["cols"] = compute.prepare_lottery(pool, relaxation=[], M=100, time_limit=300, legacy_seconds=0,
                                              context=None, progress=lambda f, m: out.setdefault("messages", []).append(m),
                                              pseudonymise=False, settle_after=1.0)

    thread = threading.Thread(target=work)
    with jobs._ACTIVE_LOCK:
        jobs._ACTIVE[(db.path, 1)] = thread
    thread.start()
    try:
        deadline = time.monotonic() + 60
        state = None
        while time.monotonic() < deadline:
            state = draws.engine_state(db, 1)
            if state is not None and state.control is not None:
                break
            time.sleep(0.05)
        assert state is not None and state.control is not None
        # let it work much longer than the 1-s settle time, then stop it by hand
        assert draws.extend_job(db, 1, 600) >= 600
        while time.monotonic() < deadline and not state.proven:
            time.sleep(0.1)
        assert state.proven
        time.sleep(3)
        assert thread.is_alive()                             # still evening out: it was extended
        t_stop = time.monotonic()
        assert draws.stop_job(db, 1)
        thread.join(30)
        assert not thread.is_alive() and time.monotonic() - t_stop < 15
    finally:
        with jobs._ACTIVE_LOCK:
            jobs._ACTIVE.pop((db.path, 1), None)
    cols = out["cols"]
    assert cols["complete"] is False and cols["m"] == 100
    assert any("proven the best possible" in m for m in out["messages"])
    assert draws.engine_state(db, 1) is None                 # nothing left behind


def test_the_default_time_limit_is_a_minute_up_to_2000_sign_ups_and_two_above(monkeypatch):
    """Issue 12, item 4: the draw page no longer lets the optimiser run for ten minutes by default. A minute
    for assemblies up to 2,000 sign-ups (the demo's complete lottery takes about 40 s), two for larger pools;
    the organiser can let it work longer, and the setting still overrides."""
    monkeypatch.delenv("KLEROTERION_DRAW_TIME_LIMIT", raising=False)
    assert compute.default_time_limit(596) == 60
    assert compute.default_time_limit(2000) == 60
    assert compute.default_time_limit(6000) == 120
    monkeypatch.setenv("KLEROTERION_DRAW_TIME_LIMIT", "15")
    assert compute.default_time_limit(596) == 15 and compute.default_time_limit(6000) == 15


def test_a_draw_started_without_a_limit_gets_the_default_for_its_pool_size(monkeypatch):
    """The pages no longer pass a limit: the computation takes the default for the pool it is given."""
    monkeypatch.delenv("KLEROTERION_DRAW_TIME_LIMIT", raising=False)
    seen = []
    real = compute._Clock

    def spy(state, objective, limit, t0):
        seen.append(limit)
        return real(state, objective, limit, t0)
    monkeypatch.setattr(compute, "_Clock", spy)
    from bench.pools import generate_pool

    small = generate_pool(60, 3, 6, seed=1)
    compute.prepare_lottery(small, relaxation=[], M=10, time_limit=None, legacy_seconds=0, context=None,
                            progress=lambda f, m: None, pseudonymise=False)
    assert seen == [60.0]
