"""LEXIMIN: exact answers checked against brute force, quotas, households, shared benchmarks.

The brute-force reference enumerates every valid panel of a tiny instance and computes the
leximin distribution person by person with one LP per question ("can this person's
probability exceed the current stage value?"), so it shares no code with the engine
(no types, no relaxation, no column generation).
"""

from __future__ import annotations

import itertools
import math

import highspy
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.sortition.feasibility import InfeasibleQuotas
from lib.sortition.leximin import leximin
from lib.sortition.metrics import gini
from lib.sortition.audit.model import Instance, Person, Quota, load_instance
from tests.conftest import shared_benchmarks

TOL = 1e-6


# --- the brute-force reference ---------------------------------------------------------

def valid_panels(inst: Instance) -> list[tuple[str, ...]]:
    return [p for p in itertools.combinations(sorted(inst.ids), inst.panel_size) if inst.is_valid_panel(p)]


def _lp(panels, ids, lower: dict[str, float], z_people: list[str], objective_person: str | None):
    """max z (or max P(objective_person)) over distributions on ``panels`` with
    P(i) >= lower[i] for fixed i and P(i) >= z for i in z_people."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    J = len(panels)
    inf = highspy.kHighsInf
    # columns: lambda_0..lambda_{J-1}, z
    h.addVars(J + 1, np.zeros(J + 1), np.concatenate([np.ones(J), [1.0]]))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    if objective_person is None:
        h.changeColCost(J, 1.0)
    else:
        for j, p in enumerate(panels):
            if objective_person in p:
                h.changeColCost(j, 1.0)
    h.addRow(1.0, 1.0, J, np.arange(J, dtype=np.int32), np.ones(J))
    for i in ids:
        cols = [j for j, p in enumerate(panels) if i in p]
        if i in lower:
            h.addRow(lower[i] - 1e-9, inf, len(cols), np.array(cols, dtype=np.int32), np.ones(len(cols)))
        elif i in z_people:
            h.addRow(0.0, inf, len(cols) + 1, np.array(cols + [J], dtype=np.int32),
                     np.array([1.0] * len(cols) + [-1.0]))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h.getInfo().objective_function_value


def brute_leximin(inst: Instance) -> dict[str, float]:
    panels = valid_panels(inst)
    assert panels, "the reference needs a feasible instance"
    ids = sorted(inst.ids)
    fixed: dict[str, float] = {}
    while len(fixed) < len(ids):
        open_ = [i for i in ids if i not in fixed]
        z = _lp(panels, ids, fixed, open_, None)
        pinned = []
        for i in open_:
            # can i get more than z while every other open person keeps at least z?
            lower = dict(fixed)
            lower.update({j: z for j in open_})
            if _lp(panels, ids, lower, [], i) <= z + 1e-7:
                pinned.append(i)
        assert pinned
        for i in pinned:
            fixed[i] = z
    return fixed


# --- helpers -----------------------------------------------------------------------------

def expand(dist) -> list[tuple[tuple[str, ...], float]]:
    """Every person-level panel the distribution can produce (all member choices of each type)."""
    out = []
    for comp, w in zip(dist.compositions, dist.weights):
        choices = [itertools.combinations(dist.types[t], c) for t, c in enumerate(comp) if c]
        for combo in itertools.product(*choices):
            out.append((tuple(sorted(pid for part in combo for pid in part)), w))
    return out


def check_distribution(inst: Instance, dist) -> None:
    assert math.isclose(sum(dist.weights), 1.0, abs_tol=1e-9)
    assert all(w > 0 for w in dist.weights)
    assert set(dist.probabilities) == set(inst.ids)
    assert math.isclose(sum(dist.probabilities.values()), inst.panel_size, abs_tol=1e-6)
    assert dist.min_probability == pytest.approx(min(dist.probabilities.values()), abs=1e-12)
    assert dist.min_probability <= dist.upper_bound + 1e-9
    assert dist.gap == pytest.approx(max(0.0, dist.upper_bound - dist.min_probability), abs=1e-9)
    # every composition is a valid panel whichever members of each type are chosen: check one
    # concrete panel per composition (all members of a type are interchangeable for the quotas)
    for comp in dist.compositions:
        panel = [pid for t, c in enumerate(comp) for pid in dist.types[t][:c]]
        assert inst.panel_problems(panel) == []


def assert_exact_leximin(inst: Instance, dist, panels: list[tuple[str, ...]]) -> None:
    """``dist`` is a valid, complete lottery over ``panels`` (the valid ones) that equals brute-force leximin."""
    check_distribution(inst, dist)
    valid = set(panels)
    for panel, _ in expand(dist):
        assert panel in valid
    ref = brute_leximin(inst)
    for pid, p in ref.items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=TOL), (pid, dist.method)
    assert dist.min_probability == pytest.approx(min(ref.values()), abs=TOL)
    assert dist.complete


def person(pid: str, household: str | None = None, **features: str) -> Person:
    return Person(pid, features, household)


# --- exact small cases ---------------------------------------------------------------------

def test_textbook_alternating_instance_gives_everybody_k_over_n():
    # the paper's "Alternate" example in miniature: 4 female/liberal, 5 male/conservative,
    # 1 female/conservative; the quotas force half women and half conservatives.
    people = ([person(f"fl{i}", gender="f", lean="lib") for i in range(4)]
              + [person(f"mc{i}", gender="m", lean="con") for i in range(5)]
              + [person("fc", gender="f", lean="con")])
    quotas = [Quota("gender", "f", 2, 2), Quota("gender", "m", 2, 2),
              Quota("lean", "lib", 2, 2), Quota("lean", "con", 2, 2)]
    inst = Instance(people, quotas, 4)
    dist = leximin(inst)
    check_distribution(inst, dist)
    ref = brute_leximin(inst)
    for pid, p in ref.items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=TOL)
    # the lone female conservative cannot be treated like the others
    assert dist.probabilities["fc"] == pytest.approx(ref["fc"], abs=TOL)
    assert dist.gap <= TOL


def test_one_per_household_is_respected_and_still_leximin():
    people = [person("a1", "h1", g="x"), person("a2", "h1", g="x"), person("a3", "h1", g="y"),
              person("b1", None, g="x"), person("b2", "h2", g="y"), person("b3", "h2", g="y"),
              person("c1", None, g="y")]
    inst = Instance(people, [Quota("g", "x", 1, 2), Quota("g", "y", 1, 2)], 3, one_per_household=True)
    dist = leximin(inst)
    check_distribution(inst, dist)
    for panel, _ in expand(dist):
        households = [inst.person(p).household for p in panel if inst.person(p).household]
        assert len(households) == len(set(households)), panel
    ref = brute_leximin(inst)
    for pid, p in ref.items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=TOL)
    # without the household rule the answer is different (so the rule really was applied)
    free = leximin(Instance(people, inst.quotas, 3))
    assert any(abs(free.probabilities[p] - dist.probabilities[p]) > 1e-3 for p in inst.ids)


def test_somebody_on_no_valid_panel_gets_zero_with_a_proven_bound_of_zero():
    # shape e seed 2318937746 in miniature: the only young person (a group exactly at its quota) is of
    # another gender and sits on every panel; the gender minimums leave one seat beside the men and
    # women, so the other person of another gender fits on no valid panel. Nobody can give them a
    # chance: the engine says so with a proven bound of 0, and everybody else still gets one.
    people = ([person(f"f{i}", gender="f", age="old") for i in range(3)]
              + [person(f"m{i}", gender="m", age="old") for i in range(3)]
              + [person("o1", gender="o", age="young"), person("o2", gender="o", age="old")])
    quotas = [Quota("gender", "f", 1, 3), Quota("gender", "m", 2, 3), Quota("gender", "o", 0, 2),
              Quota("age", "young", 1, 1)]
    inst = Instance(people, quotas, 4)
    assert all("o2" not in panel for panel in valid_panels(inst))
    dist = leximin(inst)
    check_distribution(inst, dist)
    assert dist.complete
    assert dist.probabilities["o2"] == 0.0 and dist.min_probability == 0.0
    assert dist.upper_bound <= 1e-12 and dist.gap <= TOL  # proven: not a shortfall of the engine
    assert dist.probabilities["o1"] == pytest.approx(1.0, abs=TOL)
    ref = brute_leximin(inst)
    for pid, p in ref.items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=TOL)
    assert all(dist.probabilities[p] > 0.1 for p in inst.ids if p != "o2")


def test_infeasible_quotas_raise_with_the_report():
    people = [person(f"p{i}", age="old") for i in range(5)] + [person("y", age="young")]
    inst = Instance(people, [Quota("age", "young", 2, 3)], 3)
    with pytest.raises(InfeasibleQuotas) as e:
        leximin(inst)
    assert e.value.report.feasible is False
    assert "at least 2 people with age = young, but only 1 signed up" in str(e.value)


def test_when_the_fractional_bound_is_not_reachable_the_staged_algorithm_is_exact():
    # three binary features: the best *fractional* compositions are not mixtures of panels,
    # so the relaxation+decomposition shortcut must give way to staged column generation
    rows = ["010", "011", "010", "000", "101", "110", "100", "010", "001"]
    people = [Person(f"p{i}", {f"f{f}": f"v{r[f]}" for f in range(3)}) for i, r in enumerate(rows)]
    quotas = [Quota("f0", "v0", 1, 1), Quota("f0", "v1", 1, 2), Quota("f1", "v0", 1, 2), Quota("f1", "v1", 1, 2),
              Quota("f2", "v0", 0, 1), Quota("f2", "v1", 1, 2)]
    inst = Instance(people, quotas, 2)
    dist = leximin(inst)
    check_distribution(inst, dist)
    assert dist.method == "staged column generation"
    ref = brute_leximin(inst)
    for pid, p in ref.items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=TOL)
    assert dist.min_probability <= dist.upper_bound + 1e-9


@st.composite
def tiny_instances(draw):
    n = draw(st.integers(4, 8))
    F = draw(st.integers(1, 3))
    values = [draw(st.integers(2, 3)) for _ in range(F)]
    people = []
    for i in range(n):
        feats = {f"f{f}": f"v{draw(st.integers(0, values[f] - 1))}" for f in range(F)}
        hh = draw(st.sampled_from([None, None, "h0", "h1"]))
        people.append(Person(f"p{i}", feats, hh))
    k = draw(st.integers(1, min(4, n - 1)))
    quotas = []
    for f in range(F):
        for v in range(values[f]):
            lo = draw(st.integers(0, 2))
            hi = lo + draw(st.integers(0, 3))
            quotas.append(Quota(f"f{f}", f"v{v}", lo, hi))
    return Instance(people, quotas, k, one_per_household=draw(st.booleans()))


@pytest.mark.parametrize("dual_from", [None, 0], ids=["masters as chosen by size", "dual master after level 1"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances())
def test_leximin_equals_brute_force_on_random_tiny_instances(dual_from, inst):
    """With dual_from = 0 the levels after the first use the dual form of the master (DUAL_FROM_TYPES),
    which otherwise only pools of 500 types or more use."""
    import lib.sortition.leximin as engine

    panels = valid_panels(inst)
    if not panels:
        with pytest.raises(InfeasibleQuotas):
            leximin(inst)
        return
    saved = engine.DUAL_FROM_TYPES
    engine.DUAL_FROM_TYPES = saved if dual_from is None else dual_from
    try:
        dist = leximin(inst)
    finally:
        engine.DUAL_FROM_TYPES = saved
    assert_exact_leximin(inst, dist, panels)


# --- shared benchmark instances ------------------------------------------------------------

def _published() -> dict[str, float]:
    import csv

    path = shared_benchmarks() / "reference" / "paper_reported.csv"
    with open(path, encoding="utf-8") as f:
        return {r["instance"]: float(r["leximin_min_prob"]) for r in csv.DictReader(f)}


@pytest.mark.parametrize("name", ["example_small_20", "example_large_200"])
def test_published_leximin_minimum_is_reached(name):
    inst = load_instance(shared_benchmarks() / "instances" / name)
    dist = leximin(inst, time_limit=60)
    check_distribution(inst, dist)
    assert dist.complete
    assert dist.min_probability == pytest.approx(_published()[name], abs=1e-6)
    assert dist.gap <= 1e-6
    # leximin here gives everybody exactly k/n (Gini 0 in the paper)
    assert gini(dist.probabilities) == pytest.approx(0.0, abs=1e-6)


def test_sortition_algorithms_fixture_is_solved_with_a_certificate():
    inst = load_instance(shared_benchmarks() / "instances" / "sa_fixture_22")
    dist = leximin(inst, time_limit=60)
    check_distribution(inst, dist)
    assert dist.complete and dist.gap <= 1e-6


# --- the demo assembly ------------------------------------------------------------------------

def demo_instance(db):
    from lib.demo.load import DEMO_PANEL_SIZE, load_demo
    from lib.recruitment.quotas import build_instance, derive_quotas
    from lib.recruitment.targets import load_targets

    load_demo(db)
    rows = derive_quotas(load_targets(db), DEMO_PANEL_SIZE)
    return build_instance(db, [r.as_quota() for r in rows], DEMO_PANEL_SIZE)


def test_demo_assembly_gives_a_valid_lottery_within_its_time_limit(db):
    import time

    inst = demo_instance(db)
    assert len(inst.people) > 500 and len(inst.features()) == 7
    seen = []
    t0 = time.perf_counter()
    dist = leximin(inst, time_limit=15, progress=lambda msg, frac: seen.append(frac))
    elapsed = time.perf_counter() - t0
    check_distribution(inst, dist)
    assert seen and seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)
    # the relaxed leximin bound of the demo: 6/185, proven before any panel is built
    assert dist.upper_bound == pytest.approx(6 / 185, abs=1e-9)
    # either solved, or stopped by the time limit with an honest gap
    assert dist.complete or (dist.gap > 0 and elapsed < 15 + 10)


# --- the Gini coefficient used in every report --------------------------------------------------

@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=30))
@settings(max_examples=60, deadline=None)
def test_gini_matches_the_textbook_double_sum(values):
    n = len(values)
    total = sum(values)
    expected = 0.0 if total <= 0 else sum(abs(a - b) for a in values for b in values) / (2 * n * total)
    assert gini(values) == pytest.approx(expected, abs=1e-9)


def test_gini_extremes():
    assert gini({"a": 0.1, "b": 0.1}) == 0.0
    assert gini([0.0, 0.0, 0.0, 1.0]) == pytest.approx(0.75)
    assert gini([]) == 0.0


# --- the engine's parts on a generated pool (165 types, 5 features, k = 20) ---------------------

def generated_instance() -> Instance:
    from bench.pools import generate_pool

    return generate_pool(200, 5, 20)


def test_levelled_decomposition_reaches_every_relaxed_stage_exactly():
    from lib.sortition.leximin import _Solver
    from lib.sortition.typespace import build_types

    inst = generated_instance()
    dist = leximin(inst, time_limit=120)
    check_distribution(inst, dist)
    assert dist.complete and dist.method == "relaxation+decomposition"
    assert dist.gap <= 1e-6
    # the minimum was proven optimal first, before the later levels were finished
    assert 0 < dist.maximin_seconds <= dist.seconds
    # every type gets its relaxed leximin value: the upper bound of each stage is reached
    ts = build_types(inst)
    target, values = _Solver(ts, None, None).relaxed_leximin()
    assert len(set(round(v, 9) for v in values)) > 2   # several levels, not just the minimum
    for pid, p in dist.probabilities.items():
        assert p == pytest.approx(target[ts.type_of[pid]], abs=1e-7)


@pytest.mark.parametrize("form", ["_PrimalMaster", "_DualMaster"])
def test_master_purge_keeps_the_solution_and_the_columns_in_use(form):
    from lib.sortition import leximin as lx
    from lib.sortition.leximin import _LPPricer
    from lib.sortition.typespace import CompositionModel, build_types

    ts = build_types(generated_instance())
    pricer = _LPPricer(ts, CompositionModel(ts))
    rng = np.random.default_rng(7)
    cols = [c for c in (pricer.solve(rng.random(ts.T)) for _ in range(150)) if c is not None]
    assert len(cols) > 50 and all(ts.is_valid_composition(c) for c in cols)
    master = getattr(lx, form)(ts, zlo=0.0, zhi=1.0)
    master.set_scaled_target(np.full(ts.T, ts.k / ts.T))
    master.add(cols)
    z, lam, w, mu, _ = master.solve()
    before = np.array(master.columns)
    in_use = {master.columns[j].tobytes() for j in np.flatnonzero(lam > 0)}
    kept = master.purge(lam, w, mu, cap=40)
    assert len(master.columns) < len(cols) and len(kept) == len(master.columns)
    assert in_use <= {c.tobytes() for c in master.columns}
    z2, lam2, *_ = master.solve()
    assert z2 == pytest.approx(z, abs=1e-9)
    assert np.dot(kept, np.array(master.columns)) == pytest.approx(np.dot(lam, before), abs=1e-9)


def test_the_later_levels_master_in_the_dual_form_goes_on_from_level_1s_basis():
    """After level 1 the master is rebuilt in the dual form (a row per panel, re-solved by the dual
    simplex). It must be the same LP (same z, same prices, a valid mixture of the same panels) and
    start from level 1's basis carried over: no simplex iteration at all, where a cold start needs many."""
    from lib.sortition.leximin import _DualMaster, _LPPricer, _PrimalMaster
    from lib.sortition.typespace import CompositionModel, build_types

    ts = build_types(generated_instance())
    pricer = _LPPricer(ts, CompositionModel(ts))
    rng = np.random.default_rng(7)
    cols = [c for c in (pricer.solve(rng.random(ts.T)) for _ in range(150)) if c is not None]
    n = ts.sizes.astype(np.float64)
    step, floor = n * rng.uniform(0.02, 0.1, ts.T), n * 0.02
    primal = _PrimalMaster(ts, zlo=0.0, zhi=1.0)
    primal.add(cols)
    primal.set_rows(step, floor)
    z, lam, w, mu, _ = primal.solve()
    assert 0 < z < 1
    dual = _DualMaster.from_primal(primal)
    z2, lam2, w2, mu2, _ = dual.solve()
    assert dual.h.getInfo().simplex_iteration_count == 0
    assert z2 == pytest.approx(z, abs=1e-9) and mu2 == pytest.approx(mu, abs=1e-9)
    assert np.abs(w2 - w).max() < 1e-9
    assert lam2.sum() == pytest.approx(1.0, abs=1e-9) and (lam2 >= 0).all()
    reached = lam2 @ np.array(dual.columns, dtype=np.float64)
    assert (reached - z2 * step - floor >= -1e-9).all()
    cold = _DualMaster(ts, zlo=0.0, zhi=1.0)
    cold.add(cols)
    cold.set_rows(step, floor)
    z3, *_ = cold.solve()
    assert z3 == pytest.approx(z, abs=1e-9) and cold.h.getInfo().simplex_iteration_count > 20
    # a new panel is a new row: the next solve goes on from the kept basis
    extra = pricer.solve(w2)
    if extra is not None and dual.add([extra]):
        z4, *_ = dual.solve()
        assert z4 >= z2 - 1e-9 and dual.h.getBasis().valid


def test_heuristic_columns_take_the_seat_of_the_type_furthest_above_its_target():
    """Most types have a dual price of zero; among them, the heuristics must offer the seat of
    the type furthest above this level's target, not just the seats of the first few types."""
    from lib.sortition.leximin import _PrimalMaster, _Solver
    from lib.sortition.typespace import build_types

    colours = [f"colour {i:02d}" for i in range(12)]
    inst = Instance(people=[Person(f"p{i:02d}", {"colour": c}) for i, c in enumerate(colours)],
                    quotas=[Quota("colour", c, 0, 1) for c in colours], panel_size=8)
    ts = build_types(inst)
    solver = _Solver(ts, None, None)
    master = _PrimalMaster(ts, zlo=0.0, zhi=1.0)
    seated = [ts.type_of[f"p{i:02d}"] for i in range(8)]
    over = seated[-1]                    # the last of them is far above its target
    first = np.zeros(ts.T, dtype=np.int64)
    first[seated] = 1
    master.add([first])
    step = np.full(ts.T, 0.9)
    step[over] = 0.05
    master.set_rows(step, np.zeros(ts.T))
    z, lam, w, mu, _ = master.solve()
    assert (w[seated] == 0.0).all()
    solver.lp_pricer.solve = lambda prices, **_: None     # only the one-seat exchanges are under test here
    cols = solver.new_columns(master, lam, w, mu)
    assert cols and all(ts.is_valid_composition(c) for c in cols)
    assert all(int(np.abs(c - first).sum()) == 2 for c in cols)
    assert any(c[over] == 0 for c in cols), "the seat of the type furthest above its target was not offered"


def test_targets_a_hair_above_what_panels_reach_fall_back_to_the_staged_algorithm():
    """Found by the brute-force property test: the relaxed leximin's stage values carry LP noise
    (0.4000000004 for an exact 0.4), so the floors of the levelled decomposition cannot all be met.
    The engine must fall back to the exact staged algorithm, not fail."""
    def person(i, a, b, household=None):
        return Person(f"p{i}", {"f0": a, "f1": b}, household=household)

    inst = Instance(
        people=[person(0, "v0", "v0"), person(1, "v0", "v0"), person(2, "v0", "v0"), person(3, "v1", "v0"),
                person(4, "v0", "v1"), person(5, "v1", "v1"), person(6, "v0", "v0", "h0"),
                person(7, "v1", "v1", "h0")],
        quotas=[Quota("f0", "v0", 0, 2), Quota("f0", "v1", 0, 2), Quota("f1", "v0", 0, 2), Quota("f1", "v1", 0, 2)],
        panel_size=4, one_per_household=True)
    dist = leximin(inst)
    check_distribution(inst, dist)
    ref = brute_leximin(inst)
    for pid, p in ref.items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=TOL)
    assert dist.complete


def test_seeds_alone_make_the_group_with_fixed_seats_exactly_fair():
    """In the generated pool the bound is "exactly 4 seats for the people aged 65+": every one
    of them must get exactly the bound. The equal-chance design's panels must allow that by
    themselves (a mixture of them gives every member of the group exactly the bound)."""
    from lib.sortition.leximin import _PrimalMaster, _Solver
    from lib.sortition.typespace import build_types

    ts = build_types(generated_instance())
    solver = _Solver(ts, None, None)
    target, values = solver.relaxed_leximin()
    group = np.array([key[ts.features.index("age")] == "65+" for key in ts.keys])
    assert (target[group] == values[0]).all() and (target[~group] > values[0]).all()
    seeds = solver.design_columns(target, values)
    assert len(seeds) >= 10 and all(ts.is_valid_composition(c) for c in seeds)
    master = _PrimalMaster(ts, zlo=0.0, zhi=1.0)
    master.add(seeds)
    n = ts.sizes.astype(np.float64)
    master.set_scaled_target(np.where(group, n * values[0], 0.0))
    z, lam, *_ = master.solve()
    assert z == pytest.approx(1.0, abs=1e-9)
    chance = (lam @ np.array(master.columns, dtype=np.float64)) / n
    assert np.abs(chance[group] - values[0]).max() <= 1e-9


def test_design_is_ordered_by_the_tightest_feature_first():
    """The equal-chance design lists the group's people by their other features, the
    tightest first: in the generated pools, a quota that needs nearly all its seats to give
    everybody the bound (few seats for many people) must come before a loose one."""
    from lib.sortition.leximin import _Solver
    from lib.sortition.typespace import build_types

    ts = build_types(generated_instance())
    solver = _Solver(ts, None, None)
    _, values = solver.relaxed_leximin()
    v1 = values[0]
    order = [ts.features[j] for j in solver.tight_order(v1, "age")]
    assert "age" not in order and sorted(order) == sorted(f for f in ts.features if f != "age")
    people = ts.A @ ts.sizes
    tightness = {f: max(people[i] * v1 / q.max for i, q in enumerate(ts.quotas) if q.feature == f and q.max > 0)
                 for f in order}
    assert [tightness[f] for f in order] == sorted(tightness.values(), reverse=True)
    assert tightness[order[0]] > tightness[order[-1]]


def test_design_samples_completed_at_new_prices_keep_the_group_exactly_fair():
    """In each round, column generation completes the design's samples afresh at its prices.
    Every such panel must be valid, take exactly one sample's people from the group (so that
    the group stays exactly fair), and favour the types the prices ask for."""
    from lib.sortition.leximin import _Solver
    from lib.sortition.typespace import build_types

    ts = build_types(generated_instance())
    solver = _Solver(ts, None, None)
    target, values = solver.relaxed_leximin()
    assert solver.design_columns(target, values)
    group, parts = solver.design
    wanted = np.flatnonzero(~group)[:3]
    prices = np.zeros(ts.T)
    prices[wanted] = 1.0
    cols = solver.design_pricing(prices, prices, 0.0)
    assert cols, "no completion improves a master whose dual price is 0"
    part_keys = {p[group].astype(np.int64).tobytes() for p in parts}
    for c in cols:
        assert ts.is_valid_composition(c)
        assert c[group].tobytes() in part_keys
        assert c[wanted].sum() >= 1
    # prices that no completion can beat are not priced in
    assert solver.design_pricing(prices, prices, 1e9) == []
    # the LP's bounds are back to the whole pool afterwards
    lo, hi = solver.lp_pricer.bounds
    assert (lo == 0).all() and (hi == ts.sizes).all()


def test_a_thousand_person_pool_reaches_the_proven_bound():
    """On the generated 1,000-person, 6-feature pool (the bound is set by "exactly 12 seats
    for the 65+"), the lottery found within a generous time limit must reach the proven upper
    bound on the minimum probability: the minimum is proven optimal."""
    from bench.pools import generate_pool

    inst = generate_pool(1000, 6, 60)
    dist = leximin(inst, time_limit=20)
    check_distribution(inst, dist)
    assert dist.min_probability == pytest.approx(dist.upper_bound, abs=1e-9)
    assert math.isfinite(dist.maximin_seconds)


def test_a_solve_that_would_outlast_the_time_left_stops_at_the_deadline():
    """HiGHS has no time limit of its own: each of the engine's LPs (the relaxation, the
    master, the pricer) runs within the computation's time left, and a solve stopped there
    raises TimeoutError (leximin then returns the best lottery so far) instead of running on.
    Shown on the relaxation and the pricer, whose LPs are not solved by presolve alone."""
    from bench.pools import generate_pool
    from lib.sortition.leximin import _LPPricer, _Relaxed
    from lib.sortition.typespace import CompositionModel, build_types

    ts = build_types(generate_pool(1000, 6, 60))
    no_time = lambda: 0.0  # noqa: E731
    with pytest.raises(TimeoutError):
        _Relaxed(ts, no_time).solve(np.zeros(ts.T, dtype=bool))
    z, _ = _Relaxed(ts).solve(np.zeros(ts.T, dtype=bool))     # with time: solved
    assert 0 < z <= 1
    pricer = _LPPricer(ts, CompositionModel(ts))
    c = pricer.solve(np.ones(ts.T))
    assert c is not None and ts.is_valid_composition(c)
    pricer.remaining = no_time
    with pytest.raises(TimeoutError):
        pricer.solve(np.linspace(1.0, 2.0, ts.T))      # new prices: a new solve


@pytest.mark.parametrize("time_limit", [60, None])
def test_a_stalling_master_solve_is_started_afresh_and_the_lottery_is_still_exact(monkeypatch, time_limit):
    """Should a master solve take longer than its cap (a stalling primal simplex), it is started
    afresh with the dual simplex: the computation carries on and its result is unchanged.
    With a cap of 0 s every master solve takes that path; without a time limit (the command
    line's default) the cap must not carry over to the fresh start."""
    from lib.sortition import leximin as lx

    inst = generated_instance()
    monkeypatch.setattr(lx, "DUAL_FROM_TYPES", 0)  # both masters: level 1's and the later levels' (dual form)
    # the later levels in the master (the direct decomposition would close them without one)
    monkeypatch.setattr(lx, "CARATHEODORY_SHARE", 0.0)
    plain = leximin(inst, time_limit=60)
    restarts: dict[str, list[int]] = {"_PrimalMaster": [], "_DualMaster": []}
    for cls in (lx._PrimalMaster, lx._DualMaster):
        def counting(self, solve=cls.solve):
            res = solve(self)
            restarts[type(self).__name__].append(self.restarts)
            return res

        monkeypatch.setattr(cls, "solve", counting)
    monkeypatch.setattr(lx, "MASTER_STALL_SECONDS", 0.0)
    dist = leximin(inst, time_limit=time_limit)
    assert max(restarts["_PrimalMaster"]) > 0 and max(restarts["_DualMaster"]) > 0
    check_distribution(inst, dist)
    assert dist.complete and plain.complete
    assert dist.min_probability == pytest.approx(plain.min_probability, abs=1e-9)
    for pid, p in plain.probabilities.items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=1e-7)


def test_each_solve_gets_its_own_time_limit_not_a_share_of_the_total():
    """HiGHS limits an instance's total run time over all its solves: a limit meant for one
    solve must be counted from where the instance's clock stands, or, once the solves so far
    add up to it, every later solve would stop at once (and a draw would end early)."""
    from bench.pools import generate_pool
    from lib.sortition.leximin import _LPPricer
    from lib.sortition.typespace import CompositionModel, build_types

    ts = build_types(generate_pool(1000, 6, 60))
    rng = np.random.default_rng(3)
    pricer = _LPPricer(ts, CompositionModel(ts))
    while pricer.h.getRunTime() < 0.3:                         # solves without a limit first
        pricer.solve(rng.random(ts.T), widen=False)
    pricer.remaining = lambda: 0.2                             # less than the solves so far
    pricer.solve(rng.random(ts.T), widen=False)                # a few ms: no TimeoutError
    assert pricer.h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    model = CompositionModel(ts)
    while model.h.getRunTime() < 1.5:
        model.solve(rng.random(ts.T))
    model.set_time_limit(1.0)                                  # less than the solves so far
    c, _, _ = model.solve(1.0 + 1e-3 * rng.random(ts.T))       # about 0.1 s: no TimeoutError
    assert ts.is_valid_composition(c)


@pytest.mark.parametrize("shape,seed", [("b", 0), ("b", 1), ("c", 0)])
def test_the_upper_bounds_survive_many_stages_on_city_and_region_pools(shape, seed):
    """Found by the shapes benchmark: after 16-26 stages the relaxed LP came back numerically infeasible
    ('The relaxed stage LP failed (Infeasible)') on feasible city- and region-shaped pools, so the draw
    failed outright. The stage is now solved again from scratch, then with its fixed floors loosened."""
    from bench.shapes import generate
    from lib.sortition.leximin import _Solver
    from lib.sortition.typespace import build_types

    inst = generate(shape, seed)
    ts = build_types(inst)
    solver = _Solver(ts, None, None)
    p, values = solver.relaxed_leximin()
    assert len(values) > 10 and p.min() > 0
    # the stages' values never go down, and every type ends fixed at a value at most 1
    assert all(b >= a - 1e-7 for a, b in zip(values, values[1:])) and p.max() <= 1 + 1e-9


def test_the_minimum_is_worked_on_before_the_later_relaxed_stages():
    """Level 1 (the maximin) needs only the relaxation's first stage: the later stages come after the
    minimum is proven, and the lottery still reaches every relaxed stage exactly."""
    from lib.sortition.leximin import Control, _Solver
    from lib.sortition.typespace import build_types

    inst = generated_instance()
    events: list[str] = []
    dist = leximin(inst, time_limit=120, progress=lambda msg, frac: events.append(msg),
                   control=Control(on_snapshot=lambda d: events.append(
                       "proven" if math.isfinite(d.maximin_seconds) else "snapshot")))
    check_distribution(inst, dist)
    assert dist.complete and dist.method == "relaxation+decomposition"
    stages = [i for i, e in enumerate(events) if e.startswith("Upper bounds: stage")]
    assert len(stages) > 2
    proven = events.index("proven")
    assert stages[0] < proven < stages[1]            # stage 1, then the minimum, then stages 2, 3, ...
    assert all(not e.startswith("Building panels: level 2") for e in events[:proven])
    target, values = _Solver(build_types(inst), None, None).relaxed_leximin()
    ts = build_types(inst)
    for pid, p in dist.probabilities.items():
        assert p == pytest.approx(target[ts.type_of[pid]], abs=1e-7)


def test_the_lp_pricer_rounds_its_point_by_exchanges_without_a_mip(monkeypatch):
    """The LP pricer's point is rounded by dependent rounding with exchange repair (milliseconds);
    the small MIP over its fractional coordinates (50-400 ms) only runs when that fails."""
    from bench.shapes import generate
    from lib.sortition.leximin import _LPPricer, _Solver
    from lib.sortition.typespace import build_types

    ts = build_types(generate("f", 1))
    solver = _Solver(ts, None, None)
    pricer = solver.lp_pricer
    assert isinstance(pricer, _LPPricer)

    def no_mip(*_a, **_k):
        raise AssertionError("the small rounding MIP ran")

    monkeypatch.setattr(pricer, "_round_small", no_mip)
    rng = np.random.default_rng(4)
    fractional = 0
    for _ in range(8):
        w = rng.random(ts.T)
        c = pricer.solve(w, widen=False)
        x = np.asarray(pricer.h.getSolution().col_value)
        fractional += int((np.abs(x - np.rint(x)) > 1e-9).any())
        assert c is not None and ts.is_valid_composition(c)
        for extra in pricer.extra:
            assert ts.is_valid_composition(extra) and float(w @ extra) <= float(w @ c) + 1e-12
        # close to the LP's optimum: a rounding moves a few seats only
        assert float(w @ c) >= float(w @ x) - 6 * float(w.max())
    assert fractional, "every LP point was integral: the rounding was not exercised"


@pytest.mark.parametrize("shape,seed", [("a", 0), ("f", 2)])
def test_the_minimum_is_still_proven_optimal_against_the_exact_pricing_mip(shape, seed):
    """With the new rounding, the minimum found equals a bound proven by the exact pricing MIP alone:
    for weights y >= 0 summing to 1 (the relaxation's first-stage duals), every lottery has
    min_i p_i <= sum_t y_t p_t <= max over valid panels of sum_t (y_t / n_t) c_t."""
    from bench.shapes import generate
    from lib.sortition.leximin import Control, _Relaxed
    from lib.sortition.typespace import CompositionModel, build_types

    inst = generate(shape, seed)
    proven: list = []
    dist = leximin(inst, time_limit=600, control=Control(
        on_snapshot=lambda d: proven.append(d) if not math.isnan(d.maximin_seconds) else None,
        should_stop=lambda: bool(proven)))
    assert proven, "the minimum was not proven"
    check_distribution(inst, proven[0])
    ts = build_types(inst)
    _, y = _Relaxed(ts).solve(np.zeros(ts.T, dtype=bool))
    _, value, bound = CompositionModel(ts).solve(y / ts.sizes)
    assert bound == pytest.approx(value, abs=1e-9)          # the exact MIP is solved to optimality
    assert proven[0].min_probability >= bound - 1e-8
    assert dist.min_probability >= bound - 1e-8


# --- going on from the levels reached; the stopping rule; grouped levels ------------------------

def _three_feature_instance(rows: list[str], quotas: list[tuple[str, str, int, int]], k: int) -> Instance:
    people = [Person(f"p{i}", {f"f{f}": f"v{r[f]}" for f in range(len(r))}) for i, r in enumerate(rows)]
    return Instance(people, [Quota(*q) for q in quotas], k)


# found by a random search: level 1 (the minimum) is reached, level 2's relaxed targets are not a
# mixture of valid panels
NOT_TIGHT_AT_LEVEL_2 = [
    (["001", "100", "010", "001", "111", "101", "010", "111"],
     [("f0", "v0", 1, 2), ("f0", "v1", 2, 4), ("f1", "v0", 2, 3), ("f1", "v1", 1, 2), ("f2", "v0", 0, 2),
      ("f2", "v1", 2, 2)], 4),
    (["001", "010", "001", "100", "111", "011", "011", "110", "010", "100"],
     [("f0", "v0", 1, 3), ("f0", "v1", 1, 1), ("f1", "v0", 0, 2), ("f1", "v1", 2, 3), ("f2", "v0", 2, 2),
      ("f2", "v1", 1, 3)], 3),
]


@pytest.mark.parametrize("rows,quotas,k", NOT_TIGHT_AT_LEVEL_2)
def test_a_level_panels_cannot_reach_is_finished_by_the_staged_algorithm_from_that_level(rows, quotas, k):
    """The levels already reached stay (the minimum is not proven a second time): the staged algorithm
    goes on from level 2 with the decomposition's master, and ends where the staged algorithm from
    scratch (the old path) and the brute force end."""
    from lib.sortition.leximin import _Solver, types_and_a_first_panel

    inst = _three_feature_instance(rows, quotas, k)
    dist = leximin(inst)
    check_distribution(inst, dist)
    assert dist.complete
    assert dist.staged_from == 2 and "then staged column generation" in dist.method
    assert dist.gap <= 1e-9 and 0 < dist.maximin_seconds <= dist.seconds
    ref = brute_leximin(inst)
    for pid, p in ref.items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=TOL)
    # the staged algorithm from its first stage gives the same probabilities
    ts, first = types_and_a_first_panel(inst)
    solver = _Solver(ts, None, None)
    m, lam = solver.staged([first])
    old = solver.distribution(m, lam, complete=True)
    for pid, p in old.probabilities.items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=1e-7)


def test_the_stopping_rule_closes_a_level_only_with_its_proven_gap_below_the_tolerance(monkeypatch):
    """With a coarse tolerance (1e-2, to make the rule bite), later levels close before their targets
    are reached, each with a recorded gap below the tolerance, and that gap is honest: no type ends
    further below its relaxed leximin value (a proven upper bound) than the largest recorded gap. The
    minimum is still exact. With the real tolerance (1e-6) every gap is below 1e-6."""
    import lib.sortition.leximin as engine
    from lib.sortition.typespace import build_types

    inst = generated_instance()
    ts = build_types(inst)
    target, _ = engine._Solver(ts, None, None).relaxed_leximin()
    dist = leximin(inst, time_limit=120)
    assert dist.complete and dist.level_gaps and max(dist.level_gaps) < 1e-6
    monkeypatch.setattr(engine, "GAP_TOL", 1e-2)
    # the direct decomposition's panels reach every level of this pool exactly: without them, so that
    # the rule bites
    monkeypatch.setattr(engine, "CARATHEODORY_SHARE", 0.0)
    coarse = leximin(inst, time_limit=120)
    check_distribution(inst, coarse)
    assert coarse.complete and coarse.gap <= 1e-9  # the minimum: exact
    assert coarse.level_gaps[0] == 0.0
    assert max(coarse.level_gaps) > 0, "the rule never closed a level early: the test shows nothing"
    assert all(g < 1e-2 for g in coarse.level_gaps)
    worst = max(target[ts.type_of[pid]] - p for pid, p in coarse.probabilities.items())
    assert worst <= max(coarse.level_gaps) + 1e-9


def test_the_levels_after_the_minimum_are_grouped_and_end_at_the_last_relaxed_value():
    from lib.sortition.leximin import LEVEL_GROUPS, _Solver

    values = [0.1 + 0.01 * i for i in range(21)]
    grouped = _Solver.group_levels(values)
    assert len(grouped) == LEVEL_GROUPS and grouped == sorted(grouped)
    assert grouped[-1] == values[-1] and set(grouped) <= set(values)
    assert _Solver.group_levels(values[:2]) == values[:2]


@pytest.mark.parametrize("rows,quotas,k", NOT_TIGHT_AT_LEVEL_2[:1])
def test_when_the_finished_levels_cannot_be_held_the_staged_algorithm_starts_afresh(rows, quotas, k, monkeypatch):
    """Going on from the levels reached must never end the draw with an error: on one generated pool
    (shape e, seed 1981634555) the resumed stages' master was infeasible ("The stage LP failed") where the
    staged algorithm from scratch finishes. Here the resume is made infeasible on purpose (every fixed type
    held at probability 1); the engine must still return the leximin lottery."""
    import lib.sortition.leximin as engine

    real = engine._Solver._staged_start

    def impossible(self, seeds, resume, rel):
        if resume is not None:
            m, fixed, floors = resume
            resume = (m, fixed, np.where(fixed, 1.0, floors))
        return real(self, seeds, resume, rel)
    monkeypatch.setattr(engine._Solver, "_staged_start", impossible)
    inst = _three_feature_instance(rows, quotas, k)
    dist = leximin(inst)
    check_distribution(inst, dist)
    assert dist.complete and dist.method == "staged column generation" and dist.staged_from == 0
    for pid, p in brute_leximin(inst).items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=TOL)


# --- the levels after the first in the dual form, on small pools too (DUAL_FROM_TYPES = 0) -------------

def test_with_the_dual_master_after_level_1_every_level_and_the_staged_resume_stay_exact(monkeypatch):
    """The dual master is used from level 2 on (counted), reaches every relaxed stage exactly on the
    generated pool, and carries the staged algorithm from level 2 where panels cannot reach a level."""
    import lib.sortition.leximin as engine
    from lib.sortition.typespace import build_types

    monkeypatch.setattr(engine, "DUAL_FROM_TYPES", 0)
    # the later levels in the master (the direct decomposition would close them without one)
    monkeypatch.setattr(engine, "CARATHEODORY_SHARE", 0.0)
    converted = []
    from_primal = engine._DualMaster.__dict__["from_primal"]

    def counting(cls, pm):
        converted.append(len(pm.columns))
        return from_primal.__func__(cls, pm)

    monkeypatch.setattr(engine._DualMaster, "from_primal", classmethod(counting))
    inst = generated_instance()
    dist = leximin(inst, time_limit=120)
    check_distribution(inst, dist)
    assert converted and dist.complete and dist.method == "relaxation+decomposition"
    ts = build_types(inst)
    target, _ = engine._Solver(ts, None, None).relaxed_leximin()
    for pid, p in dist.probabilities.items():
        assert p == pytest.approx(target[ts.type_of[pid]], abs=1e-7)
    for rows, quotas, k in NOT_TIGHT_AT_LEVEL_2:
        converted.clear()
        small = _three_feature_instance(rows, quotas, k)
        got = leximin(small)
        check_distribution(small, got)
        assert converted and got.complete and got.staged_from == 2
        ref = brute_leximin(small)
        for pid, p in ref.items():
            assert got.probabilities[pid] == pytest.approx(p, abs=TOL)
