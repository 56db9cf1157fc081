"""Level 1 seeded by a direct decomposition of the relaxed leximin point (hull_seed.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import lib.sortition.design_master as dmod
import lib.sortition.hull_seed as hmod
import lib.sortition.leximin as engine
from bench.shapes import generate
from lib.sortition.caratheodory import FaceDecomposer
from lib.sortition.leximin import FIX_SLACK, Control, _Relaxed, _Solver, leximin, types_and_a_first_panel
from lib.sortition.typespace import CompositionModel, build_types
from tests.sortition.test_leximin import (
    NOT_TIGHT_AT_LEVEL_2, TOL, assert_exact_leximin, _three_feature_instance, brute_leximin, check_distribution, tiny_instances,
    valid_panels,
)


def _until_the_minimum(inst, monkeypatch):
    """Run leximin until level 1 is closed; returns (the first lottery with the minimum proven, the solver,
    the master's z after each of level 1's solves, the index of the solve after which the hook ran)."""
    solvers: list = []
    real_init = _Solver.__init__

    def init(self, *a, **k):
        real_init(self, *a, **k)
        solvers.append(self)

    zs: list[float] = []
    hooked: list[int] = []
    real_early, real_hook = hmod.early_hull_hook, hmod.hull_hook

    def early(solver, master, z):  # called first after each of level 1's solves below z = 1
        zs.append(z)
        r = real_early(solver, master, z)
        if r:
            hooked.append(len(zs))
        return r

    def hook(solver, master, z):
        r = real_hook(solver, master, z)
        if r:
            hooked.append(len(zs))
        return r

    monkeypatch.setattr(_Solver, "__init__", init)
    monkeypatch.setattr(engine, "early_hull_hook", early)
    monkeypatch.setattr(engine, "hull_hook", hook)
    proven: list = []
    leximin(inst, time_limit=600, control=Control(
        on_snapshot=lambda d: proven.append(d) if not math.isnan(d.maximin_seconds) else None,
        should_stop=lambda: bool(proven) or len(zs) > 5))  # level 1 without the hull: hundreds of rounds
    return proven, solvers[0], zs, hooked


@pytest.mark.parametrize("seed", [3, 2512591244])
def test_several_quotas_binding_together_the_hull_panels_close_level_1_at_once(monkeypatch, seed):
    """City pool b:3: 526 of 569 types pinned at the bound by several quotas together (no single group,
    so the design master does not apply; column generation alone had not closed level 1 after 300 rounds
    and 150 s). The decomposition's panels, added at level 1's first round, close it at the master's next
    solve; the minimum equals the relaxed bound and the bound the exact pricing MIP proves on its own.
    Fresh city pool b:2512591244: the decomposition needs its MIP over the face near the end, which it
    runs only within its deadline by ``time.process_time``: on the engine's clock (a deadline far in the
    past) it stopped at mass 1e-5 and level 1 stalled at z = 0.9999996 (``hull_seed._clock``)."""
    inst = generate("b", seed)
    ts = build_types(inst)
    solver = _Solver(ts, None, None)
    solver.relaxed_leximin(stages=1)
    assert dmod.top_group(ts, solver.relaxed_fixed, solver.upper_bound) is None, "a single group: shows nothing"
    proven, s, zs, hooked = _until_the_minimum(inst, monkeypatch)
    assert proven, "the minimum was not proven"
    assert hooked == [1], "the hull panels were not added at level 1's first round"
    assert s._hull_state["columns"] > 100 and s.hull_stats["mass"] < 1e-9
    assert len(zs) <= 2  # the hook saw one solve below z = 1; the next one closed the level
    d = proven[0]
    check_distribution(inst, d)
    assert d.min_probability == pytest.approx(d.upper_bound, abs=1e-9)
    _, y = _Relaxed(ts).solve(np.zeros(ts.T, dtype=bool))
    _, value, bound = CompositionModel(ts).solve(y / ts.sizes)
    assert d.min_probability >= bound - 1e-8


def test_the_weighted_target_keeps_the_pinned_types_at_the_bound():
    """Fresh city pool b:31337: the relaxation's later stages loosen their floors (1e-9), so p* is a hair
    outside Q; moved into Q by the least plain shortfall, five types pinned at the bound lose 1e-7 (the
    master would end just below z = 1); with the pinned types' shortfall weighted, none of them loses."""
    ts, _ = types_and_a_first_panel(generate("b", 31337))
    solver = _Solver(ts, None, None)
    solver.relaxed_leximin(stages=1)
    v1 = solver.upper_bound
    p, _ = solver.relaxed_leximin()
    goal = np.maximum(0.0, p - FIX_SLACK)
    pinned = p <= v1 + 1e-9
    fd = FaceDecomposer(ts)
    plain = fd.target(goal)
    assert plain is not None
    assert (goal - plain / ts.sizes)[pinned].max() > 1e-9, "p* is in Q here: the test shows nothing"
    x = hmod.target(fd, goal, np.where(pinned, hmod.PINNED_WEIGHT, 1.0))
    assert x is not None
    assert (goal - x / ts.sizes)[pinned].max() <= 1e-12
    # x is in Q
    g = fd.G @ x
    assert ((g >= fd.lo - 1e-7) & (g <= fd.hi + 1e-7)).all() and (x >= 0).all() and (x <= ts.sizes + 1e-9).all()


def _hull_at_once(monkeypatch):
    """The hull hook at level 1's first round on every pool (the design master off, and no covering seeds,
    so that level 1's first solve is below z = 1 even on a tiny pool), recording its runs."""
    monkeypatch.setattr(dmod, "ACTIVATE", "off")
    monkeypatch.setattr(_Solver, "covering_columns", lambda self, target, seeds: [])
    ran: list = []
    real = hmod.hull_panels

    def spy(solver, v1):
        out = real(solver, v1)
        ran.append(len(out))
        return out

    monkeypatch.setattr(hmod, "hull_panels", spy)
    return ran


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(tiny_instances())
def test_with_the_hull_panels_at_level_1_leximin_equals_brute_force_on_random_tiny_instances(monkeypatch, inst):
    ran = _hull_at_once(monkeypatch)
    panels = valid_panels(inst)
    if not panels:
        return
    dist = leximin(inst)
    assert_exact_leximin(inst, dist, panels)
    assert len(ran) <= 1


@pytest.mark.parametrize("rows,quotas,k", NOT_TIGHT_AT_LEVEL_2[1:])
def test_where_p_star_is_no_mixture_of_panels_the_hull_panels_only_seed_and_the_lottery_is_exact(
    rows, quotas, k, monkeypatch
):
    """p* is no mixture of valid panels here (level 2's targets are not): the decomposition run at level 1
    stops with mass left, its panels only seed the master, and the lottery is still the brute-force
    leximin (the staged algorithm from level 2)."""
    ran = _hull_at_once(monkeypatch)
    inst = _three_feature_instance(rows, quotas, k)
    dist = leximin(inst)
    assert ran and ran[0] > 0, "the hull hook did not run: the test shows nothing"
    check_distribution(inst, dist)
    assert dist.complete and dist.gap <= 1e-9
    for pid, p in brute_leximin(inst).items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=TOL)


def test_after_the_hull_seed_at_level_1_the_later_levels_still_close_from_the_decomposition(monkeypatch):
    """A 1,000-person pool where no single group sets the minimum: the hull seed decomposes p* at level 1.
    The later levels must still be closed at once by the decomposition of the point kept at level 1's floor
    (direct_close), not handed to the master: reusing the hull's panels there left direct_close without a
    decomposition, and level 2 ran 84 s in the master (the draw page's settle test ran past its minute)."""
    from bench.pools import generate_pool
    from tests.sortition.test_caratheodory import _count_later_master_solves

    solves = _count_later_master_solves(monkeypatch)
    seen = []
    real = engine._Solver.direct_close

    def spy(self, *a, **kw):
        out = real(self, *a, **kw)
        seen.append((getattr(self, "hull_panels", None) is not None, out is not None))
        return out

    monkeypatch.setattr(engine._Solver, "direct_close", spy)
    inst = generate_pool(1000, 6, 60, seed=3)
    dist = leximin(inst, time_limit=300)
    check_distribution(inst, dist)
    assert seen == [(True, True)], seen       # the hull ran at level 1, and direct_close closed the rest
    assert solves and max(solves) == 0, "a later level was solved in the master"
    assert dist.complete and dist.min_probability == pytest.approx(dist.upper_bound, abs=1e-9)


def test_without_shared_households_the_hull_goes_first_and_its_decomposition_closes_the_later_levels(monkeypatch):
    """A 1,000-person pool without households (more than 500 types): the hull seed decomposes p* at level 1's
    first round, *before* the design master (``early_hull_hook``), whose panels close level 1 at the master's
    next solve, so the design master never runs; after the minimum, that same decomposition (panels and
    weights) closes every later level (``closing_decomposition``): p* is decomposed once, not twice, and no
    later level is solved in the master. With HULL_FIRST off, the design master runs first and p* is
    decomposed again at level 1's floor (each assertion below fails then)."""
    from bench.pools import generate_pool
    from tests.sortition.test_caratheodory import _count_later_master_solves

    solves = _count_later_master_solves(monkeypatch)
    solvers: list = []
    real_init = _Solver.__init__

    def init(self, *a, **k):
        real_init(self, *a, **k)
        solvers.append(self)

    decompositions: list = []
    real_decompose = FaceDecomposer.decompose

    def decompose(self, *a, **k):
        decompositions.append(1)
        return real_decompose(self, *a, **k)

    monkeypatch.setattr(_Solver, "__init__", init)
    monkeypatch.setattr(FaceDecomposer, "decompose", decompose)
    inst = generate_pool(1000, 6, 60, seed=3)
    dist = leximin(inst, time_limit=300)
    check_distribution(inst, dist)
    s = solvers[0]
    assert hmod.hull_first(s) and s._hull_state.get("first"), "the hull did not go first"
    assert not s.__dict__.get("_design_state", {}).get("tried"), "the design master ran"
    assert s.hull_closed and s.direct_closed, "the later levels were not closed by level 1's decomposition"
    assert len(decompositions) == 1, "p* was decomposed more than once"
    assert solves and max(solves) == 0, "a later level was solved in the master"
    assert dist.complete and dist.min_probability == pytest.approx(dist.upper_bound, abs=1e-9)
    assert max(dist.level_gaps[1:], default=0.0) < engine.GAP_TOL


def test_a_households_pool_keeps_the_design_master_first():
    """Shared households (the households shape): the decomposition often stops short there, so the design
    master keeps going first."""
    ts = build_types(generate("f", 0))
    assert any(len(h) > 1 for h in ts.households) and ts.T >= dmod.DESIGN_FROM_TYPES
    assert not hmod.hull_first(_Solver(ts, None, None))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(tiny_instances())
def test_with_the_hull_first_and_its_decomposition_closing_leximin_equals_brute_force(monkeypatch, inst):
    """The hull first (on every pool: DESIGN_FROM_TYPES 0) and the later levels closed by its decomposition
    where it passes the closing check: the lottery is still exactly the brute-force leximin."""
    monkeypatch.setattr(dmod, "DESIGN_FROM_TYPES", 0)
    monkeypatch.setattr(_Solver, "covering_columns", lambda self, target, seeds: [])
    panels = valid_panels(inst)
    if not panels:
        return
    dist = leximin(inst)
    assert_exact_leximin(inst, dist, panels)
