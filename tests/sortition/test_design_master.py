"""Level 1 by an equal-chance design over the group at the top of its quota range (design_master.py).

Correctness only: the design keeps everybody in the group at exactly the same chance (also after a
sample is repaired), its panels are valid, a design that cannot be completed is given up at once,
and the engine's answer (the proven minimum, the leximin) is the same with and without it.
"""

from __future__ import annotations

import numpy as np
import pytest

import lib.sortition.design_master as dmod
from lib.sortition.audit.model import Instance, Person, Quota
from lib.sortition.leximin import _PrimalMaster, _Solver, leximin
from lib.sortition.typespace import build_types


def _local_pool():
    """The local shape, seed 0: its minimum is set by "high concern" at the top of [6, 9]."""
    from bench.shapes import generate

    return generate("a", 0)


def _level1(inst):
    ts = build_types(inst)
    solver = _Solver(ts, None, None)
    solver.relaxed_leximin(stages=1)
    v1 = solver.upper_bound
    master = _PrimalMaster(ts, zlo=0.0, zhi=1.0)
    n = ts.sizes.astype(np.float64)
    goal = np.where(solver.relaxed_fixed, v1 - 1e-10, v1)
    master.set_rows(n * goal, np.zeros(ts.T))
    return ts, solver, master, v1


def test_the_group_at_the_top_of_its_range_is_found_and_its_design_is_exactly_fair():
    ts, solver, _, v1 = _level1(_local_pool())
    qi = dmod.top_group(ts, solver.relaxed_fixed, v1)
    assert qi is not None
    q = ts.quotas[qi]
    assert q.min < q.max
    group = ts.A[qi] > 0
    assert (solver.relaxed_fixed == group).all()
    samples = dmod.design_samples(solver, qi, v1)
    assert samples is not None
    weights = np.array([w for w, _ in samples])
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)
    for _, part in samples:
        assert part[group].sum() == q.max and part[~group].sum() == 0
    chance = sum(w * part for w, part in samples) / ts.sizes
    assert np.abs(chance[group] - v1).max() <= 1e-12


def test_the_designs_panels_are_valid_fair_inside_the_group_and_reach_the_proven_bound():
    ts, solver, master, v1 = _level1(_local_pool())
    qi = dmod.top_group(ts, solver.relaxed_fixed, v1)
    assert qi is not None
    group = ts.A[qi] > 0
    parts = {p[group].astype(np.int64).tobytes() for _, p in dmod.design_samples(solver, qi, v1)}
    cols = dmod.design_level1(solver, master, qi, v1)
    assert cols
    for c in cols:
        assert ts.is_valid_composition(c)
        assert c[group].tobytes() in parts  # each panel takes exactly one sample's people from the group
    # the engine's master reaches the proven bound with these panels alone
    master.add(cols)
    z, lam, *_ = master.solve()
    assert z == pytest.approx(1.0, abs=1e-9)
    chance = lam @ np.array(master.columns, dtype=np.float64) / ts.sizes
    assert chance.min() >= v1 - 1e-9
    # the LP pricer's bounds are back to the whole pool
    lo, hi = solver.lp_pricer.bounds
    assert (lo == 0).all() and (hi == ts.sizes).all()


def _household_pool() -> Instance:
    """Six people in the group (two share a household), six outside; 4 seats, at most 2 from the group."""
    people = [Person(f"g{i}", {"grp": "in", "age": "young" if i % 2 else "old"}, "h0" if i < 2 else None)
              for i in range(6)]
    people += [Person(f"o{i}", {"grp": "out", "age": "young" if i % 2 else "old"}) for i in range(6)]
    quotas = [Quota("grp", "in", 1, 2), Quota("grp", "out", 2, 4), Quota("age", "young", 1, 3), Quota("age", "old", 1, 3)]
    return Instance(people, quotas, 4, one_per_household=True)


def test_a_sample_that_no_panel_completes_is_repaired_by_an_exchange_that_keeps_everybody_s_chance():
    """A sample with both members of one household can never be completed; the repair exchanges one
    of them with a person of another sample, and every person of the group keeps exactly the same
    share of the design."""
    ts = build_types(_household_pool())
    solver = _Solver(ts, None, None)
    qi = next(i for i, q in enumerate(ts.quotas) if q.value == "in")
    group = ts.A[qi] > 0
    members = [ts.type_of[f"g{i}"] for i in range(6)]

    def part(*people):
        p = np.zeros(ts.T)
        for i in people:
            p[members[i]] += 1
        return p

    samples = [(1 / 3, part(0, 1)), (1 / 3, part(2, 3)), (1 / 6, part(4, 5)), (1 / 6, part(4, 5))]
    before = sum(w * p for w, p in samples)
    assert not dmod._completable(solver, group, samples[0][1])
    prices = np.where(group, 0.0, 1.0)
    assert dmod.repair_sample(solver, group, samples, 0, prices)
    after = sum(w * p for w, p in samples)
    assert np.abs(after - before).max() <= 1e-15
    assert sum(w for w, _ in samples) == pytest.approx(1.0, abs=1e-15)
    for _, p in samples:
        assert dmod._completable(solver, group, p)
        _, cs = dmod.complete(solver, group, p, prices)
        assert cs and all(ts.is_valid_composition(c) for c in cs)


def test_a_design_that_cannot_be_completed_is_given_up_at_once(monkeypatch):
    """When a sample can be neither completed nor repaired, the design gives up after that sample
    (no pricing rounds), and the engine still proves the same minimum."""
    ts, solver, master, v1 = _level1(_local_pool())
    qi = dmod.top_group(ts, solver.relaxed_fixed, v1)
    assert qi is not None
    monkeypatch.setattr(dmod, "REPAIR_TRIES", 0)
    calls = []
    real = dmod.complete

    def no_completion(*a, **k):
        calls.append(1)
        real(*a, **k)
        return 0.0, []

    monkeypatch.setattr(dmod, "complete", no_completion)
    monkeypatch.setattr(solver, "complete_sample", lambda *a, **k: None)
    assert dmod.design_level1(solver, master, qi, v1) is None
    assert len(calls) == 1
    monkeypatch.setattr(dmod, "ACTIVATE", "start")
    monkeypatch.setattr(_Solver, "complete_sample", lambda *a, **k: None)
    dist = leximin(_local_pool())
    assert dist.complete and dist.level_gaps[0] == 0.0
    assert dist.min_probability == pytest.approx(dist.upper_bound, abs=1e-9)


@pytest.mark.parametrize("mode", ["start", "tail"])
def test_the_leximin_is_the_same_with_and_without_the_design(monkeypatch, mode):
    inst = _local_pool()
    monkeypatch.setattr(dmod, "ACTIVATE", "off")
    ref = leximin(inst)
    used = []
    real = dmod.design_level1

    def spy(*a, **k):
        r = real(*a, **k)
        used.append(r is not None)
        return r

    monkeypatch.setattr(dmod, "design_level1", spy)
    monkeypatch.setattr(dmod, "ACTIVATE", mode)
    if mode == "tail":  # the local pool does not tail off: make it look so at once
        monkeypatch.setattr(dmod, "worth_designing", lambda zs: True)
    dist = leximin(inst)
    assert used == [True]
    assert dist.complete
    assert dist.min_probability == pytest.approx(dist.upper_bound, abs=1e-9)
    assert dist.min_probability == pytest.approx(ref.min_probability, abs=1e-9)
    for pid, p in ref.probabilities.items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=1e-6)
    for comp in dist.compositions:
        assert build_types(inst).is_valid_composition(np.array(comp))


def test_the_design_waits_for_the_climb_to_tail_off():
    assert not dmod.worth_designing([0.5 + 0.02 * i for i in range(30)])  # below 0.95
    fast = [0.95 + 0.002 * i for i in range(25)]
    assert not dmod.worth_designing(fast)  # 0.998 at 0.002 a round: 1 round to go
    slow = [0.95 + 0.0001 * i for i in range(25)]
    assert dmod.worth_designing(slow)  # 0.9524 at 1e-4 a round: 476 rounds to go
    assert not dmod.worth_designing(slow[:15])  # too few rounds to tell


@pytest.mark.parametrize("N, m", [(836, 39), (50, 7), (9, 4), (100, 30)])
def test_the_cyclic_design_gives_everybody_exactly_m_over_n(N, m):
    """The fallback for lists that equal_chance_samples leaves out (836 people, 39 seats: a region pool)."""
    samples = dmod.cyclic_samples(N, m)
    assert samples is not None
    chance = np.zeros(N)
    for w, pos in samples:
        assert len(pos) == m and len(set(pos.tolist())) == m and w > 0
        chance[pos] += w
    assert sum(w for w, _ in samples) == pytest.approx(1.0, abs=1e-12)
    assert np.abs(chance - m / N).max() <= 1e-12
