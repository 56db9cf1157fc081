"""Rounding the LEXIMIN distribution to a uniform lottery over exactly M valid panels."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.sortition.leximin import leximin
from lib.sortition.audit.model import Instance, InputError, Person, Quota, load_instance
from lib.sortition.rounding import round_to_uniform
from tests.conftest import shared_benchmarks
from tests.sortition.test_leximin import valid_panels


def check_lottery(inst: Instance, dist, lot, M: int, bound: float) -> None:
    assert len(lot.panels) == M == lot.M
    for panel in lot.panels:
        assert inst.panel_problems(panel) == [], panel
    counts = dict.fromkeys(inst.ids, 0)
    for panel in lot.panels:
        for pid in panel:
            counts[pid] += 1
    # a person's chance in the lottery is simply (panels listing them) / M
    for pid in inst.ids:
        assert lot.probabilities[pid] == counts[pid] / M
    loss = max(abs(dist.probabilities[p] - lot.probabilities[p]) for p in inst.ids)
    assert lot.rounding_loss == pytest.approx(loss, abs=1e-12)
    assert lot.loss_lower_bound <= lot.rounding_loss + 1e-12
    assert lot.rounding_loss <= bound
    assert lot.min_probability == min(lot.probabilities.values())
    assert sum(lot.multiplicities) == M


@pytest.mark.parametrize("name,bound", [("example_small_20", 1e-6), ("example_large_200", 1e-6),
                                        ("sa_fixture_22", 3 / 1000)])
def test_shared_instances_round_to_1000_valid_panels(name, bound):
    inst = load_instance(shared_benchmarks() / "instances" / name)
    dist = leximin(inst, time_limit=60)
    lot = round_to_uniform(inst, dist, 1000, time_limit=2.0)
    check_lottery(inst, dist, lot, 1000, bound)


def test_rounding_is_deterministic():
    inst = load_instance(shared_benchmarks() / "instances" / "example_small_20")
    dist = leximin(inst)
    a = round_to_uniform(inst, dist, 200)
    b = round_to_uniform(inst, dist, 200)
    assert a.panels == b.panels


def test_households_stay_apart_in_every_listed_panel():
    people = [Person(f"p{i}", {"g": "x" if i % 2 else "y"}, f"h{i // 3}") for i in range(12)]
    inst = Instance(people, [Quota("g", "x", 1, 3), Quota("g", "y", 1, 3)], 4, one_per_household=True)
    dist = leximin(inst)
    lot = round_to_uniform(inst, dist, 100)
    check_lottery(inst, dist, lot, 100, 2 / 100)


def test_a_distribution_for_another_pool_is_refused():
    inst = load_instance(shared_benchmarks() / "instances" / "example_small_20")
    dist = leximin(inst)
    other = Instance(inst.people[1:], inst.quotas, inst.panel_size)
    with pytest.raises(InputError, match="different pool"):
        round_to_uniform(other, dist, 10)
    with pytest.raises(InputError, match="at least 1"):
        round_to_uniform(inst, dist, 0)


@st.composite
def feasible_tiny_instances(draw):
    """Tiny instances that always have a valid panel: a panel is drawn first and every quota is
    set around its counts, so every example is checked (none is thrown away)."""
    n = draw(st.integers(4, 8))
    F = draw(st.integers(1, 3))
    values = [draw(st.integers(2, 3)) for _ in range(F)]
    households = draw(st.booleans())
    people = []
    for i in range(n):
        feats = {f"f{f}": f"v{draw(st.integers(0, values[f] - 1))}" for f in range(F)}
        hh = draw(st.sampled_from([None, None, "h0", "h1"])) if households else None
        people.append(Person(f"p{i}", feats, hh))
    k = draw(st.integers(1, min(4, n - 1)))
    # one panel that must stay valid: k people, at most one per household when the rule is on
    order = draw(st.permutations(range(n)))
    panel, seen = [], set()
    for i in order:
        hh = people[i].household
        if households and hh is not None and hh in seen:
            continue
        panel.append(people[i])
        seen.add(hh)
        if len(panel) == k:
            break
    k = len(panel)
    quotas = []
    for f in range(F):
        for v in range(values[f]):
            count = sum(1 for p in panel if p.features[f"f{f}"] == f"v{v}")
            lo = count - draw(st.integers(0, count))
            hi = count + draw(st.integers(0, 2))
            quotas.append(Quota(f"f{f}", f"v{v}", lo, hi))
    return Instance(people, quotas, k, one_per_household=households)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feasible_tiny_instances())
def test_random_tiny_instances_round_within_a_few_panels(inst):
    assert valid_panels(inst), "the generator promises a valid panel"
    dist = leximin(inst)
    M = 60
    lot = round_to_uniform(inst, dist, M, time_limit=2.0)
    check_lottery(inst, dist, lot, M, 2 / M)


def test_the_lottery_keeps_the_smallest_chance_within_one_panel_of_the_best_possible():
    """On a realistic pool the 1,000 panels give the least likely person at least floor(M p_min) - 1
    appearances, and nobody strays more than two panels from their computed chance (the exchanges
    between panels after the multiplicities; before them: 2 and 6 panels off)."""
    import math

    from bench.pools import generate_pool
    from lib.sortition.leximin import Control

    inst = generate_pool(1000, 6, 60, seed=1)
    dist = leximin(inst, time_limit=120, control=Control(settle_after=lambda: 0.0))
    M = 1000
    lot = round_to_uniform(inst, dist, M, time_limit=2.0)
    check_lottery(inst, dist, lot, M, 2.0 / M + 1e-9)
    assert round(lot.min_probability * M) >= math.floor(M * dist.min_probability + 1e-9) - 1
    worst_below = max(math.floor(M * dist.probabilities[p] + 1e-9) - round(lot.probabilities[p] * M)
                      for p in inst.ids)
    assert worst_below <= 1


def test_a_busy_machine_does_not_cut_the_exchanges_short(monkeypatch):
    """The exchanges between panels have a budget of computing time, not of wall-clock time: on a machine
    so busy that a second passes between two looks at the clock, the lottery is the same as on an idle
    one, the least likely person still within one panel of floor(M p_min) (before: the exchanges stopped
    after one step on a busy machine, 2-3 panels below on the households-shaped benchmark pools)."""
    import itertools
    import math
    import time

    from bench.pools import generate_pool
    from lib.sortition.leximin import Control

    inst = generate_pool(1000, 6, 60, seed=1)
    dist = leximin(inst, time_limit=120, control=Control(settle_after=lambda: 0.0))
    M = 1000
    ticks = itertools.count()
    real = time.perf_counter
    monkeypatch.setattr(time, "perf_counter", lambda: real() + float(next(ticks)))   # a second per look
    busy = round_to_uniform(inst, dist, M, time_limit=2.0)
    monkeypatch.undo()
    check_lottery(inst, dist, busy, M, 2.0 / M + 1e-9)
    assert round(busy.min_probability * M) >= math.floor(M * dist.min_probability + 1e-9) - 1
    worst_below = max(math.floor(M * dist.probabilities[p] + 1e-9) - round(busy.probabilities[p] * M)
                      for p in inst.ids)
    assert worst_below <= 1
