"""The direct decomposition of a fractional composition into valid panels (caratheodory.py)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.shapes import generate
from lib.sortition.audit.model import Instance, Person, Quota
from lib.sortition.caratheodory import FaceDecomposer
from lib.sortition.leximin import FIX_SLACK, _Solver, types_and_a_first_panel


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
