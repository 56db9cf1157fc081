"""Types: interchangeable people grouped; households break the symmetry."""

from __future__ import annotations

import numpy as np

from lib.sortition.audit.model import Instance, Person, Quota, load_instance
from lib.sortition.typespace import CompositionModel, build_types
from tests.conftest import shared_benchmarks


def test_example_large_200_has_three_types():
    inst = load_instance(shared_benchmarks() / "instances" / "example_large_200")
    ts = build_types(inst)
    assert ts.T == 3 and sorted(ts.sizes.tolist()) == [1, 999, 1000]
    assert sum(len(m) for m in ts.members) == 2000


def test_values_without_a_quota_do_not_split_types_and_households_do():
    people = [Person("a", {"g": "x", "hair": "red"}, "h1"), Person("b", {"g": "x", "hair": "brown"}, "h1"),
              Person("c", {"g": "x", "hair": "red"}), Person("d", {"g": "y", "hair": "red"}, "h2")]
    quotas = [Quota("g", "x", 0, 2), Quota("g", "y", 0, 2)]
    ts = build_types(Instance(people, quotas, 2))
    assert ts.T == 2 and ts.households == []
    assert ts.members[ts.type_of["a"]] == ("a", "b", "c")
    hts = build_types(Instance(people, quotas, 2, one_per_household=True))
    # a and b share a household: each becomes its own type, with the "at most one" row
    assert hts.type_of["a"] != hts.type_of["b"] != hts.type_of["c"]
    assert [sorted(h) for h in hts.households] == [sorted([hts.type_of["a"], hts.type_of["b"]])]
    assert hts.max_selectable() == 3  # a or b, c, d (d's household has only d)


def test_pricing_mip_finds_the_best_valid_composition():
    inst = load_instance(shared_benchmarks() / "instances" / "example_small_20")
    ts = build_types(inst)
    m = CompositionModel(ts)
    w = np.zeros(ts.T)
    lone = int(np.argmin(ts.sizes))
    w[lone] = 1.0
    c, value, bound = m.solve(w)
    assert ts.is_valid_composition(c) and c[lone] == 1 and value == 1.0 and bound >= value
    assert ts.composition_problems(c) == []
    bad = c.copy()
    bad[lone] += 1
    assert not ts.is_valid_composition(bad) and ts.composition_problems(bad)
