"""Feasibility: the plain-language diagnosis and the smallest relaxation (checked by brute force)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.sortition.feasibility import check_feasibility
from lib.sortition.audit.model import Instance, Person, Quota, load_instance
from tests.conftest import shared_benchmarks


def person(pid, household=None, **features):
    return Person(pid, features, household)


def panel_seats_needed(inst: Instance, panel) -> int:
    """Seats by which minimums must go down and maximums up for ``panel`` to meet the quotas."""
    counts = inst.counts(panel)
    need = 0
    for q in inst.quotas:
        n = counts[(q.feature, q.value)]
        need += max(0, q.min - n) + max(0, n - q.max)
    return need


def brute_smallest_relaxation(inst: Instance) -> int | None:
    """The fewest seats of quota change that make some panel valid (None: no panel of size k at all)."""
    best = None
    for panel in itertools.combinations(inst.ids, inst.panel_size):
        if inst.one_per_household:
            hh = [inst.person(p).household for p in panel if inst.person(p).household]
            if len(hh) != len(set(hh)):
                continue
        s = panel_seats_needed(inst, panel)
        best = s if best is None else min(best, s)
    return best


def test_feasible_quotas_give_an_example_panel():
    inst = load_instance(shared_benchmarks() / "instances" / "sa_fixture_22")
    rep = check_feasibility(inst)
    assert rep.feasible and rep.diagnosis == [] and rep.relaxation == []
    assert inst.is_valid_panel(rep.example)


def test_a_minimum_larger_than_the_sign_ups_is_named_in_plain_words():
    people = ([person(f"y{i}", age="16-24") for i in range(9)]
              + [person(f"o{i}", age="25+") for i in range(40)])
    inst = Instance(people, [Quota("age", "16-24", 11, 14), Quota("age", "25+", 10, 30)], 30)
    rep = check_feasibility(inst)
    assert not rep.feasible
    assert rep.diagnosis[0] == ("The quotas ask for at least 11 people with age = 16-24, but only 9 signed up.")
    # smallest relaxation: lower that minimum by 2 seats, nothing else
    assert rep.seats == 2
    assert [c.describe() for c in rep.relaxation] == ["lower the minimum for age = 16-24 from 11 to 9"]
    assert check_feasibility(rep.relaxed_instance()).feasible
    assert "The smallest change that makes a panel possible (2 seats in total)" in rep.message()


def test_minimums_adding_up_to_more_than_the_panel():
    people = [person(f"a{i}", g="a") for i in range(10)] + [person(f"b{i}", g="b") for i in range(10)]
    inst = Instance(people, [Quota("g", "a", 4, 6), Quota("g", "b", 4, 6)], 6)
    rep = check_feasibility(inst)
    assert not rep.feasible
    assert "The minimums for g add up to 8, more than the panel size of 6." in rep.diagnosis
    assert rep.seats == 2 == brute_smallest_relaxation(inst)


def test_a_conflict_between_features_names_the_quotas_involved():
    # everyone young is a renter; the quotas want 2 young people but no renter
    people = ([person(f"yr{i}", age="young", home="rent") for i in range(4)]
              + [person(f"oo{i}", age="old", home="own") for i in range(6)])
    quotas = [Quota("age", "young", 2, 3), Quota("age", "old", 0, 4),
              Quota("home", "rent", 0, 0), Quota("home", "own", 0, 4)]
    inst = Instance(people, quotas, 4)
    rep = check_feasibility(inst)
    assert not rep.feasible
    text = rep.message()
    assert "these quotas cannot all be met at once" in text
    named = {(q.feature, q.value) for q in rep.conflict}
    assert ("age", "young") in named and ("home", "rent") in named
    assert rep.seats == brute_smallest_relaxation(inst) == 2
    assert check_feasibility(rep.relaxed_instance()).feasible


def test_panel_larger_than_the_pool_cannot_be_fixed_by_quotas():
    inst = Instance([person("a", g="x"), person("b", g="x")], [Quota("g", "x", 0, 3)], 3)
    rep = check_feasibility(inst)
    assert not rep.feasible and not rep.relaxable and rep.relaxation == []
    assert rep.diagnosis[0].startswith("The panel needs 3 people, but only 2 signed up.")


def test_households_limit_who_can_be_selected():
    people = [person("a1", "h1", g="x"), person("a2", "h1", g="x"), person("a3", "h1", g="x"),
              person("b1", None, g="y"), person("b2", None, g="y")]
    inst = Instance(people, [Quota("g", "x", 2, 3), Quota("g", "y", 0, 2)], 3, one_per_household=True)
    rep = check_feasibility(inst)
    assert not rep.feasible
    assert any("only 1 can be selected because at most one person per household may be selected" in d
               for d in rep.diagnosis)
    assert rep.seats == brute_smallest_relaxation(inst) == 1


@st.composite
def tiny(draw):
    n = draw(st.integers(3, 7))
    F = draw(st.integers(1, 2))
    people = [Person(f"p{i}", {f"f{f}": f"v{draw(st.integers(0, 2))}" for f in range(F)},
                     draw(st.sampled_from([None, "h0", "h1"]))) for i in range(n)]
    k = draw(st.integers(1, n))
    quotas = []
    for f in range(F):
        for v in range(3):
            lo = draw(st.integers(0, 3))
            quotas.append(Quota(f"f{f}", f"v{v}", lo, lo + draw(st.integers(0, 2))))
    return Instance(people, quotas, k, one_per_household=draw(st.booleans()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny())
def test_relaxation_is_the_smallest_possible(inst):
    rep = check_feasibility(inst)
    best = brute_smallest_relaxation(inst)
    if best is None:  # not even k people can sit together: no quota change helps
        assert not rep.feasible and not rep.relaxable
        return
    assert rep.feasible == (best == 0)
    if rep.feasible:
        assert inst.is_valid_panel(rep.example)
        return
    assert rep.diagnosis, "an infeasible instance must be explained"
    assert rep.seats == best
    relaxed = rep.relaxed_instance()
    assert check_feasibility(relaxed).feasible
    # the relaxation only ever loosens quotas
    for old, new in zip(inst.quotas, relaxed.quotas):
        assert new.min <= old.min and new.max >= old.max


@pytest.mark.parametrize("name", ["example_small_20", "example_large_200", "sa_fixture_22"])
def test_every_shared_instance_is_feasible(name):
    assert check_feasibility(load_instance(shared_benchmarks() / "instances" / name)).feasible
