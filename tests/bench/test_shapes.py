"""The pool shapes of bench/shapes.py: deterministic for a seed, feasible, shaped as documented,
and the at-quota and households shapes really have what they promise."""

from __future__ import annotations

import numpy as np
import pytest

from bench.shapes import SHAPES, census_quotas, generate, shape_summary
from lib.sortition.feasibility import check_feasibility

SEEDS = (0, 7)
# documented sizes: people (nominal +-10%; the at-quota shape loses people to the trimming), types
PEOPLE = {"a": (225, 275), "b": (720, 880), "c": (1530, 1870), "d": (5400, 6600), "e": (370, 540), "f": (900, 1100)}
TYPES = {"a": (140, 230), "b": (450, 750), "c": (900, 1400), "d": (1800, 2400), "e": (240, 400), "f": (600, 950)}
FEATURES = {"a": 7, "b": 8, "c": 9, "d": 9, "e": 8, "f": 7}


def _fingerprint(inst):
    return ([(p.id, tuple(sorted(p.features.items())), p.household) for p in inst.people],
            [(q.feature, q.value, q.min, q.max) for q in inst.quotas], inst.panel_size, inst.one_per_household)


@pytest.fixture(scope="module")
def pools():
    return {(k, s): generate(k, s) for k in SHAPES for s in SEEDS}


@pytest.mark.parametrize("key", list(SHAPES))
def test_same_seed_same_pool_and_no_global_state(key, pools):
    np.random.seed(12345)                       # the global generator must not matter
    np.random.random(10)
    again = generate(key, SEEDS[0])
    assert _fingerprint(again) == _fingerprint(pools[(key, SEEDS[0])])
    assert _fingerprint(pools[(key, SEEDS[1])]) != _fingerprint(pools[(key, SEEDS[0])])


@pytest.mark.parametrize("key", list(SHAPES))
def test_feasible_with_the_documented_size(key, pools):
    sh = SHAPES[key]
    for seed in SEEDS:
        inst = pools[(key, seed)]
        assert check_feasibility(inst).feasible
        s = shape_summary(inst)
        lo, hi = PEOPLE[key]
        assert lo <= s["people"] <= hi, s
        assert s["seats"] == sh.seats
        assert s["features"] == FEATURES[key] == sh.n_features
        lo, hi = TYPES[key]
        assert lo <= s["types"] <= hi, s
        # every value of every feature has a quota, and every person a value of every feature
        assert len(inst.quotas) == sum(len(spec) for _, spec in sh.features) + len(sh.geography[1])
        assert all(len(p.features) == sh.n_features for p in inst.people)


@pytest.mark.parametrize("key", list(SHAPES))
def test_quotas_are_census_quotas_widened_only_when_needed(key, pools):
    sh = SHAPES[key]
    census = {(q.feature, q.value): q for q in census_quotas(sh, sh.seats)}
    for q in census.values():                     # floor/ceil of share x k with slack 0 or 1
        assert q.max - q.min <= 3
    for seed in SEEDS:
        inst = pools[(key, seed)]
        changed = [q for q in inst.quotas if (q.min, q.max) != (census[(q.feature, q.value)].min,
                                                                 census[(q.feature, q.value)].max)]
        if changed and not sh.at_quota:
            # widened: then the census quotas themselves admitted no panel
            from lib.sortition.audit.model import Instance

            plain = Instance(people=inst.people, quotas=list(census.values()), panel_size=inst.panel_size,
                             one_per_household=inst.one_per_household)
            assert not check_feasibility(plain).feasible


@pytest.mark.parametrize("key", ["a", "b", "c", "d"])
def test_volunteers_are_skewed_like_real_pools(key, pools):
    """More graduates and fewer of the youngest than in the census the quotas come from."""
    sh = SHAPES[key]
    inst = pools[(key, SEEDS[0])]
    spec = dict(sh.features)
    edu, age = spec["education"], spec["age"]
    n = len(inst.people)
    grads = sum(1 for p in inst.people if p.features["education"] == edu[-1][0]) / n
    young = sum(1 for p in inst.people if p.features["age"] == age[0][0]) / n
    assert grads > 1.2 * edu[-1][1] / sum(v[1] for v in edu)
    assert young < 0.85 * age[0][1] / sum(v[1] for v in age)


def test_at_quota_groups_are_exactly_at_their_minimum(pools):
    sh = SHAPES["e"]
    for seed in (*SEEDS, 1, 2, 3):
        inst = pools.get(("e", seed)) or generate("e", seed)
        counts = inst.counts(inst.ids)
        for f, v in sh.at_quota:
            q = inst.quota(f, v)
            assert counts[(f, v)] == q.min > 0, (seed, f, v, counts[(f, v)], q)
        assert len(shape_summary(inst)["at_quota"]) >= len(sh.at_quota)
        # so every valid panel, e.g. the one the feasibility check finds, has all of them
        example = set(check_feasibility(inst).example)
        forced = {p.id for p in inst.people if any(p.features[f] == v for f, v in sh.at_quota)}
        assert forced <= example


def test_households_shape_has_shared_households_of_two_to_four(pools):
    for seed in SEEDS:
        inst = pools[("f", seed)]
        assert inst.one_per_household
        sizes: dict[str, list] = {}
        for p in inst.people:
            sizes.setdefault(p.household, []).append(p)
        shared = [m for m in sizes.values() if len(m) > 1]
        assert max(len(m) for m in sizes.values()) <= 4
        people_sharing = sum(len(m) for m in shared)
        assert 0.2 <= people_sharing / len(inst.people) <= 0.4
        assert any(len(m) == 3 for m in shared) and any(len(m) == 2 for m in shared)
        # a household lives in one district
        assert all(len({p.features["district"] for p in m}) == 1 for m in shared)
        # and the quotas still admit a panel with at most one person per household
        panel = check_feasibility(inst).example
        assert len({inst.person(pid).household for pid in panel}) == len(panel)


@pytest.mark.parametrize("key", ["e", "f"])
def test_written_instance_reads_back_the_same(key, pools, tmp_path):
    from bench.shapes import write_instance
    from lib.sortition.audit.model import load_instance

    inst = pools[(key, SEEDS[0])]
    back = load_instance(write_instance(inst, tmp_path / inst.name))
    assert _fingerprint(back) == _fingerprint(inst)
