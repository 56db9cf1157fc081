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
    NOT_TIGHT_AT_LEVEL_2, TOL, _three_feature_instance, brute_leximin, check_distribution, expand, tiny_instances,
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
    check_distribution(inst, dist)
    valid = set(panels)
    assert all(panel in valid for panel, _ in expand(dist))
    ref = brute_leximin(inst)
    for pid, p in ref.items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=TOL), (pid, dist.method)
    assert dist.min_probability == pytest.approx(min(ref.values()), abs=TOL)
    assert dist.complete
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
