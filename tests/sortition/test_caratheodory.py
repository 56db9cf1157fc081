"""The direct decomposition of a fractional composition into valid panels (caratheodory.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from bench.shapes import generate
from lib.sortition.audit.model import Instance, Person, Quota
from lib.sortition.caratheodory import FaceDecomposer
from lib.sortition.leximin import FIX_SLACK, _Solver, leximin, types_and_a_first_panel
from tests.sortition.test_leximin import (
    NOT_TIGHT_AT_LEVEL_2, TOL, assert_exact_leximin, _three_feature_instance, brute_leximin, check_distribution, tiny_instances,
    valid_panels,
)


def _two_features(n: int = 40, seed: int = 3) -> Instance:
    rng = np.random.default_rng(seed)
    people = [Person(f"p{i}", {"g": f"g{rng.integers(2)}", "a": f"a{rng.integers(3)}"}) for i in range(n)]
    quotas = [Quota("g", "g0", 3, 6), Quota("g", "g1", 3, 6)] + [Quota("a", f"a{v}", 2, 4) for v in range(3)]
    return Instance(people, quotas, 9)


def _relaxed_point(inst: Instance):
    ts, _ = types_and_a_first_panel(inst)
    solver = _Solver(ts, None, None)
    p, _ = solver.relaxed_leximin()
    fd = FaceDecomposer(ts)
    x = fd.target(np.maximum(0.0, p - FIX_SLACK))
    assert x is not None
    return ts, fd, x


@pytest.mark.parametrize("make", [_two_features, lambda: generate("a", 0)], ids=["two features", "local shape a:0"])
def test_panels_are_valid_weights_sum_to_at_most_one_and_found_plus_remainder_is_x(make):
    ts, fd, x = _relaxed_point(make())
    d = fd.decompose(x, seconds=60)
    assert len(d.panels) > 0
    assert all(ts.is_valid_composition(c) for c in d.panels)
    assert (d.weights > 0).all() and d.weights.sum() <= 1.0 + 1e-12
    assert d.weights.sum() + d.mass == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(d.weights @ d.panels + d.remainder, x, atol=1e-9)


def test_with_two_features_q_is_integral_and_the_decomposition_is_complete():
    ts, fd, x = _relaxed_point(_two_features())
    d = fd.decompose(x, seconds=60)
    assert d.stuck == "" and d.mass <= 1e-9
    assert np.allclose(d.weights @ d.panels, x, atol=1e-8)


# --- the engine with the decomposition's panels as seeds (CARATHEODORY_SHARE > 0) -----------------

def _never_close_directly(monkeypatch) -> None:
    """The decomposition still runs after the minimum (its panels in ``late_panels``), but never closes the
    later levels itself (``direct_close`` refuses): they go on in the master."""
    import lib.sortition.leximin as engine

    real = engine._Solver.direct_close

    def refuse(self, *a):
        real(self, *a)
        return None

    monkeypatch.setattr(engine._Solver, "direct_close", refuse)


def _recording(monkeypatch):
    """Switch the decomposition on in the engine and record each Decomposition it returns."""
    import lib.sortition.leximin as engine

    monkeypatch.setattr(engine, "CARATHEODORY_SHARE", 0.5)
    got: list = []
    real = FaceDecomposer.decompose

    def recording(self, *a, **kw):
        d = real(self, *a, **kw)
        got.append(d)
        return d

    monkeypatch.setattr(FaceDecomposer, "decompose", recording)
    return got


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(tiny_instances())
def test_with_the_decomposition_on_leximin_equals_brute_force_on_random_tiny_instances(monkeypatch, inst):
    """The engine's master seeded with the decomposition's panels (floors at what each level reached,
    the gap as the largest shortfall, tiny steps as none) still ends at the exact leximin."""
    got = _recording(monkeypatch)
    panels = valid_panels(inst)
    if not panels:
        return
    dist = leximin(inst)
    assert_exact_leximin(inst, dist, panels)
    if dist.method.startswith("relaxation"):
        assert got, "the decomposition was not run"


@pytest.mark.parametrize("rows,quotas,k", NOT_TIGHT_AT_LEVEL_2)
def test_where_the_decomposition_gets_stuck_the_lottery_is_still_the_exact_leximin(rows, quotas, k, monkeypatch):
    """Q is not integral on these pools (level 2's relaxed targets are no mixture of valid panels): the
    decomposition of the relaxed leximin point stops with mass left, its panels only seed the master,
    and the staged algorithm from level 2 ends at the brute-force leximin."""
    got = _recording(monkeypatch)
    inst = _three_feature_instance(rows, quotas, k)
    dist = leximin(inst)
    assert got and got[0].stuck != "" and got[0].mass > 1e-6, "the decomposition was not stuck: the test shows nothing"
    check_distribution(inst, dist)
    assert dist.complete and dist.gap <= 1e-9
    for pid, p in brute_leximin(inst).items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=TOL)


@pytest.mark.parametrize("dual_from", [None, 0], ids=["primal master", "dual master after level 1"])
def test_a_later_level_whose_master_ends_unknown_is_closed_from_its_weights_checked_directly(dual_from, monkeypatch):
    """Seen on the city-shaped pool b:0 with the decomposition on: the last level's master ends "Unknown"
    even solved afresh. Here every later level's solve that reached its target is made to end so (its weights
    kept): the levels are closed from the weights, checked type by type against the targets, the lottery is
    the relaxed leximin (no fall-back to the staged algorithm), and every recorded gap is below GAP_TOL."""
    import lib.sortition.leximin as engine
    from lib.sortition.typespace import build_types
    from tests.sortition.test_leximin import generated_instance

    monkeypatch.setattr(engine, "CARATHEODORY_SHARE", 0.5)
    monkeypatch.setattr(engine, "DUAL_FROM_TYPES", engine.DUAL_FROM_TYPES if dual_from is None else dual_from)
    # the later levels in the master (the decomposition's panels as its seeds), not closed at once from them
    _never_close_directly(monkeypatch)
    level = [0]
    real_reach, real_solve = engine._Solver._reach_level, engine._MasterBase.solve

    def reach(self, m, s, *a, **kw):
        level[0] = s
        return real_reach(self, m, s, *a, **kw)

    made_unsure = []

    def solve(self):
        res = real_solve(self)
        if level[0] > 0 and res is not None and res[0] >= 1.0 - 1e-9:
            self.unsure = True  # as HiGHS's "Unknown": no optimum claimed, the LP's weights still there
            made_unsure.append(level[0])
            return None
        return res

    monkeypatch.setattr(engine._Solver, "_reach_level", reach)
    monkeypatch.setattr(engine._MasterBase, "solve", solve)
    inst = generated_instance()
    dist = leximin(inst, time_limit=120)
    check_distribution(inst, dist)
    assert made_unsure, "no later level's solve was made unsure: the test shows nothing"
    assert dist.complete and dist.method == "relaxation+decomposition"
    assert len(dist.level_gaps) > 1 and max(dist.level_gaps) < engine.GAP_TOL
    ts = build_types(inst)
    target, _ = engine._Solver(ts, None, None).relaxed_leximin()
    for pid, p in dist.probabilities.items():
        assert p == pytest.approx(target[ts.type_of[pid]], abs=1e-6)


# --- the later levels closed at once from the decomposition (direct_close) ---------------------------

def _count_later_master_solves(monkeypatch) -> list[int]:
    """Record the level (0: the minimum) of every master solve."""
    import lib.sortition.leximin as engine

    level, solves = [0], []
    real_reach, real_solve = engine._Solver._reach_level, engine._MasterBase.solve

    def reach(self, m, s, *a, **kw):
        level[0] = s
        return real_reach(self, m, s, *a, **kw)

    def solve(self):
        solves.append(level[0])
        return real_solve(self)

    monkeypatch.setattr(engine._Solver, "_reach_level", reach)
    monkeypatch.setattr(engine._MasterBase, "solve", solve)
    return solves


def test_the_later_levels_are_closed_from_the_decomposition_without_a_master_solve(monkeypatch):
    """Once the minimum is proven, a complete decomposition of the relaxed leximin point closes every later
    level at once: no master solve after level 1, every panel valid, the lottery complete, each type at its
    relaxed leximin value (the proven upper bounds) within the stopping rule's GAP_TOL, the minimum exact."""
    import lib.sortition.leximin as engine
    from lib.sortition.typespace import build_types
    from tests.sortition.test_leximin import generated_instance

    _recording(monkeypatch)
    solves = _count_later_master_solves(monkeypatch)
    inst = generated_instance()
    dist = leximin(inst, time_limit=120)
    check_distribution(inst, dist)
    assert solves and max(solves) == 0, "a later level was solved in the master"
    assert dist.complete and dist.method == "relaxation+decomposition" and dist.gap <= 1e-9
    assert len(dist.level_gaps) > 1 and max(dist.level_gaps) < engine.GAP_TOL
    ts = build_types(inst)
    assert all(ts.is_valid_composition(np.array(c)) for c in dist.compositions)
    target, _ = engine._Solver(ts, None, None).relaxed_leximin()
    for pid, p in dist.probabilities.items():
        assert p == pytest.approx(target[ts.type_of[pid]], abs=engine.GAP_TOL)


def test_an_incomplete_decomposition_does_not_close_the_later_levels(monkeypatch):
    """A decomposition that reaches p* only in part (here: its last panels dropped) leaves the later levels
    to the master (a master solve after level 1), and the lottery is still the exact leximin."""
    import lib.sortition.leximin as engine
    from lib.sortition.typespace import build_types
    from tests.sortition.test_leximin import generated_instance

    monkeypatch.setattr(engine, "CARATHEODORY_SHARE", 0.5)
    real = FaceDecomposer.decompose

    def partial(self, *a, **kw):
        d = real(self, *a, **kw)
        keep = max(1, len(d.weights) // 2)
        d.panels, d.weights = d.panels[:keep], d.weights[:keep]
        d.mass = 1.0 - float(d.weights.sum())
        return d

    monkeypatch.setattr(FaceDecomposer, "decompose", partial)
    solves = _count_later_master_solves(monkeypatch)
    inst = generated_instance()
    dist = leximin(inst, time_limit=120)
    check_distribution(inst, dist)
    assert solves and max(solves) > 0, "the later levels were closed from an incomplete decomposition"
    assert dist.complete and dist.gap <= 1e-9
    ts = build_types(inst)
    target, _ = engine._Solver(ts, None, None).relaxed_leximin()
    for pid, p in dist.probabilities.items():
        assert p == pytest.approx(target[ts.type_of[pid]], abs=1e-6)


@pytest.mark.parametrize("late_seed_below", [10**9, 0], ids=["small pool: seeded", "large pool: not seeded"])
def test_the_decomposition_seeds_the_later_levels_master_only_below_late_seed_below_types(late_seed_below, monkeypatch):
    """When the decomposition cannot close the later levels, its panels join the master after the minimum
    only on pools with fewer than LATE_SEED_BELOW_TYPES types (on large pools, level 2's first master solve
    with them ran far past the time limit); the lottery is the exact leximin either way."""
    import lib.sortition.leximin as engine
    from lib.sortition.typespace import build_types
    from tests.sortition.test_leximin import generated_instance

    got = _recording(monkeypatch)
    monkeypatch.setattr(engine, "LATE_SEED_BELOW_TYPES", late_seed_below)
    _never_close_directly(monkeypatch)
    added: list[set[bytes]] = []
    real_add = engine._MasterBase.add

    def add(self, cs):
        added.append({c.astype(np.int64).tobytes() for c in cs})
        return real_add(self, cs)

    monkeypatch.setattr(engine._MasterBase, "add", add)
    inst = generated_instance()
    dist = leximin(inst, time_limit=120)
    check_distribution(inst, dist)
    assert got, "the decomposition was not run"
    panels = {c.astype(np.int64).tobytes() for c in got[0].panels}
    seeded = any(batch == panels for batch in added)
    assert seeded == (late_seed_below > 0)
    assert dist.complete and dist.gap <= 1e-9
    ts = build_types(inst)
    target, _ = engine._Solver(ts, None, None).relaxed_leximin()
    for pid, p in dist.probabilities.items():
        assert p == pytest.approx(target[ts.type_of[pid]], abs=1e-6)


def test_every_solve_of_the_decomposition_ends_by_its_deadline(monkeypatch):
    """Each HiGHS run inside a decomposition (the face LP, the dive, the rounding MIPs) gets a time limit no
    longer than the decomposition's time left, so that none can run past the draw's deadline."""
    import lib.sortition.typespace as tsp

    from tests.sortition.test_leximin import generated_instance

    ts, _ = types_and_a_first_panel(generated_instance())
    s = _Solver(ts, None, None)
    p, _ = s.relaxed_leximin()
    fd = FaceDecomposer(ts)
    x = fd.target(np.maximum(0.0, p - FIX_SLACK), seconds=30.0)
    assert x is not None
    limits: list[float | None] = []
    real_limit = tsp.limit_next_solve

    def limit(h, seconds):
        limits.append(seconds)
        return real_limit(h, seconds)

    runs = [0]
    real_run = type(fd.lp).run

    def run(self):
        runs[0] += 1
        return real_run(self)

    monkeypatch.setattr(tsp, "limit_next_solve", limit)
    monkeypatch.setattr(type(fd.lp), "run", run)
    seconds = 2.0
    fd.decompose(x, seconds=seconds, max_steps=30)
    assert runs[0] > 0 and len(limits) >= runs[0], "a solve ran without a time limit"
    assert all(v is not None and 0.0 <= v <= seconds for v in limits)


def test_a_decomposition_that_stops_with_a_sliver_left_is_reweighed_and_still_closes_the_later_levels(monkeypatch):
    """Seen on local-shaped pools: the decomposition stops with 1e-7 of p* left, so its own weights leave a
    type a hair below the minimum. Here its last panels (about 1e-7 of p*) are dropped: the panels, re-weighed together with
    level 1's lottery in one LP (_reweigh), still close every later level without a master solve, and the
    lottery is the relaxed leximin (the minimum exact)."""
    import lib.sortition.leximin as engine
    from lib.sortition.typespace import build_types
    from tests.sortition.test_leximin import generated_instance

    monkeypatch.setattr(engine, "CARATHEODORY_SHARE", 0.5)
    real = FaceDecomposer.decompose
    dropped = []

    def short(self, *a, **kw):
        d = real(self, *a, **kw)
        # the last panels, down to a sliver of about 1e-7 of p*
        cut = len(d.weights)
        while cut > 1 and float(d.weights[cut - 1:].sum()) < 1e-7:
            cut -= 1
        dropped.append(float(d.weights[cut:].sum()))
        d.panels, d.weights = d.panels[:cut], d.weights[:cut]
        d.mass += dropped[-1]
        return d

    monkeypatch.setattr(FaceDecomposer, "decompose", short)
    solves = _count_later_master_solves(monkeypatch)
    inst = generated_instance()
    dist = leximin(inst, time_limit=120)
    check_distribution(inst, dist)
    assert dropped and 1e-9 < dropped[0] < 1e-3, "no sliver was dropped: the test shows nothing"
    assert solves and max(solves) == 0, "a later level was solved in the master"
    assert dist.complete and dist.gap <= 1e-9 and max(dist.level_gaps) < engine.GAP_TOL
    ts = build_types(inst)
    target, _ = engine._Solver(ts, None, None).relaxed_leximin()
    for pid, p in dist.probabilities.items():
        assert p == pytest.approx(target[ts.type_of[pid]], abs=engine.GAP_TOL)
