"""Goldilocks (lib/sortition/goldilocks.py): exact answers against brute force, and fairer at the top.

The brute-force reference enumerates every valid panel of a tiny instance (person by person, no
types) and minimises Goldilocks_gamma = max_i p_i / (k/n) + gamma (k/n) / min_i p_i directly: for a
floor m on every chance, the smallest possible largest chance g(m) is one LP over all panels, and
g(m)/f + gamma f/m is convex in m, so a golden-section search over m in (0, maximin] finds the
optimum. It shares no code with the engine (no types, no relaxation, no column generation, no cuts).
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import highspy
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from lib.sortition.feasibility import InfeasibleQuotas
from lib.sortition.goldilocks import GoldilocksDistribution, goldilocks, objective_value
from lib.sortition.leximin import leximin
from lib.sortition.audit.model import Instance, InputError, Person, Quota
from tests.sortition.test_leximin import check_distribution, expand, tiny_instances, valid_panels

TOL = 1e-6


# --- the brute-force reference ---------------------------------------------------------

def _panel_lp(panels, ids, floor: float | None, people: list[str]):
    """floor None: the maximin over ``people``; else min U s.t. P(i) >= floor (i in people), P(i) <= U (all)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("primal_feasibility_tolerance", 1e-10)
    h.setOptionValue("dual_feasibility_tolerance", 1e-10)
    J = len(panels)
    inf = highspy.kHighsInf
    h.addVars(J + 1, np.zeros(J + 1), np.concatenate([np.ones(J), [1.0]]))
    h.changeColCost(J, 1.0)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize if floor is None else highspy.ObjSense.kMinimize)
    h.addRow(1.0, 1.0, J, np.arange(J, dtype=np.int32), np.ones(J))
    for i in ids:
        cols = [j for j, p in enumerate(panels) if i in p]
        idx = np.array(cols + [J], dtype=np.int32)
        vals = np.array([1.0] * len(cols) + [-1.0])
        if floor is None:
            if i in people:
                h.addRow(0.0, inf, len(idx), idx, vals)                       # P(i) >= z
        else:
            if i in people:
                h.addRow(floor, inf, len(cols), np.array(cols, dtype=np.int32), np.ones(len(cols)))
            h.addRow(-inf, 0.0, len(idx), idx, vals)                          # P(i) <= U
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return math.inf
    return h.getInfo().objective_function_value


def brute_goldilocks(inst: Instance, gamma: float = 1.0) -> float:
    panels = valid_panels(inst)
    ids = sorted(inst.ids)
    people = sorted({i for p in panels for i in p})          # whoever some valid panel includes
    f = inst.panel_size / len(ids)
    top = _panel_lp(panels, ids, None, people)               # the largest possible smallest chance
    assert top > 0

    def h(m: float) -> float:
        return _panel_lp(panels, ids, m, people) / f + gamma * f / m

    lo, hi = 0.0, top
    r = (math.sqrt(5) - 1) / 2
    a, b = hi - r * (hi - lo), lo + r * (hi - lo)
    fa, fb = h(a), h(b)
    for _ in range(90):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - r * (hi - lo)
            fa = h(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + r * (hi - lo)
            fb = h(b)
    return min(fa, fb, h(top))


def check_goldilocks(inst: Instance, dist, gamma: float = 1.0) -> None:
    check_distribution(inst, dist)
    assert isinstance(dist, GoldilocksDistribution) and dist.algorithm == "goldilocks"
    assert dist.gamma == gamma
    # the objective reported is the one of the lottery returned, and the proven bound is below it
    assert dist.objective == pytest.approx(objective_value(dist.probabilities, inst.panel_size, gamma), rel=1e-9)
    assert dist.objective_bound <= dist.objective + 1e-9
    assert dist.max_probability == pytest.approx(max(dist.probabilities.values()), abs=1e-12)
    if len(inst.people) <= 20:                   # tiny: every person-level panel it can draw is a valid panel
        valid = set(valid_panels(inst))
        for panel, _ in expand(dist):
            assert panel in valid


def person(pid: str, household: str | None = None, **features: str) -> Person:
    return Person(pid, features, household)


# --- exactness ---------------------------------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances())
def test_goldilocks_equals_brute_force_on_random_tiny_instances(inst):
    panels = valid_panels(inst)
    if not panels:
        with pytest.raises(InfeasibleQuotas):
            goldilocks(inst)
        return
    dist = goldilocks(inst)
    check_goldilocks(inst, dist)
    assert dist.complete
    best = brute_goldilocks(inst)
    assert dist.objective == pytest.approx(best, rel=TOL, abs=TOL)
    assert dist.objective_bound == pytest.approx(best, rel=TOL, abs=TOL)


@pytest.mark.parametrize("gamma", [0.25, 1.0, 4.0])
def test_other_gammas_match_brute_force_and_trade_the_two_ends(gamma):
    people = ([person(f"a{i}", g="a", e="x" if i < 2 else "y") for i in range(5)]
              + [person(f"b{i}", g="b", e="x" if i < 4 else "y") for i in range(9)])
    quotas = [Quota("g", "a", 1, 3), Quota("g", "b", 1, 3), Quota("e", "x", 2, 2), Quota("e", "y", 1, 2)]
    inst = Instance(people, quotas, 4)
    dist = goldilocks(inst, gamma=gamma)
    check_goldilocks(inst, dist, gamma)
    assert dist.objective == pytest.approx(brute_goldilocks(inst, gamma), rel=TOL)


def test_a_scarce_group_is_not_made_nearly_certain():
    """Two rural people, one seat for them on every panel; the young rural one is in two scarce groups.
    LEXIMIN raises the smallest chances by picking that person 5 times in 6 (the issue's capture risk:
    claim to be young and rural, and you are all but sure to sit); Goldilocks gives both rural people
    1/2, with the smallest chance close to LEXIMIN's (0.136 against 0.167)."""
    people = ([person(f"r{i}", region="rural", age="young" if i == 0 else "old") for i in range(2)]
              + [person(f"u{i}", region="urban", age="young" if i < 3 else "old") for i in range(14)])
    quotas = [Quota("region", "rural", 1, 1), Quota("region", "urban", 3, 3),
              Quota("age", "young", 2, 2), Quota("age", "old", 2, 2)]
    inst = Instance(people, quotas, 4)
    lex = leximin(inst)
    gold = goldilocks(inst)
    check_goldilocks(inst, gold)
    assert gold.objective == pytest.approx(brute_goldilocks(inst), rel=TOL)
    assert max(gold.probabilities.values()) < max(lex.probabilities.values()) - 0.05
    assert gold.min_probability >= 0.8 * lex.min_probability
    assert gold.objective < objective_value(lex.probabilities, 4) - 1e-6


def test_somebody_no_panel_can_include_is_left_out_of_the_minimum():
    # two households of two, one per household: nobody is excluded; but 'x' is in a group whose maximum is 0
    people = [person("x", g="none"), person("a", g="s"), person("b", g="s"), person("c", g="t"), person("d", g="t")]
    quotas = [Quota("g", "none", 0, 0), Quota("g", "s", 1, 1), Quota("g", "t", 1, 1)]
    inst = Instance(people, quotas, 2)
    dist = goldilocks(inst)
    assert dist.probabilities["x"] == 0 and dist.min_probability == 0
    assert dist.excluded_types == 1
    assert all(dist.probabilities[p] == pytest.approx(0.5) for p in "abcd")
    assert math.isfinite(dist.objective) and dist.objective == pytest.approx(brute_goldilocks(inst), rel=TOL)


def test_households_are_respected():
    people = [person("a", "h1", g="x"), person("b", "h1", g="x"), person("c", "h2", g="y"), person("d", g="y"),
              person("e", g="x"), person("f", g="y")]
    inst = Instance(people, [Quota("g", "x", 1, 2), Quota("g", "y", 1, 2)], 3, one_per_household=True)
    dist = goldilocks(inst)
    check_goldilocks(inst, dist)
    assert dist.objective == pytest.approx(brute_goldilocks(inst), rel=TOL)


def test_infeasible_quotas_and_bad_gamma_are_refused_plainly():
    people = [person("a", age="young"), person("b", age="old"), person("c", age="old")]
    with pytest.raises(InfeasibleQuotas):
        goldilocks(Instance(people, [Quota("age", "young", 2, 3)], 3))
    inst = Instance(people, [Quota("age", "young", 0, 1)], 2)
    for bad in (0, -1, math.nan, math.inf, "1"):
        with pytest.raises(InputError, match="gamma"):
            goldilocks(inst, gamma=bad)  # type: ignore[arg-type]


# --- the demo: fairer at the top, close at the bottom --------------------------------------------

@pytest.fixture(scope="module")
def small_demo():
    """The demo assembly's sign-ups with quotas on gender and age, a panel of 10 (as the draw page tests)."""
    import tempfile
    from pathlib import Path

    from lib.store.db import open_database
    from lib.demo.load import load_demo
    from lib.recruitment.quotas import build_instance, derive_quotas
    from lib.recruitment.targets import load_targets

    with tempfile.TemporaryDirectory() as d:
        db = open_database(Path(d) / "demo.duckdb")
        try:
            load_demo(db)
            targets = [t for t in load_targets(db) if t.field in ("gender", "age", "ethnicity")]
            rows = derive_quotas(targets, 10)
            inst = build_instance(db, [r.as_quota() for r in rows], 10, name="demo_small")
        finally:
            db.close()
    return inst


def test_on_the_small_demo_the_largest_chance_drops_and_the_smallest_stays_close(small_demo):
    lex = leximin(small_demo)
    gold = goldilocks(small_demo, time_limit=60)
    check_goldilocks(small_demo, gold)
    lex_max = max(lex.probabilities.values())
    assert gold.max_probability < lex_max - 1e-6
    assert gold.min_probability >= 0.75 * lex.min_probability
    assert gold.objective < objective_value(lex.probabilities, small_demo.panel_size) - 1e-6
    # within its proven bound: nobody can do much better than what it found
    assert gold.objective - gold.objective_bound <= 1e-3 * gold.objective


def test_a_time_limit_returns_a_valid_lottery_with_its_bounds(small_demo):
    dist = goldilocks(small_demo, time_limit=0.5)
    check_distribution(small_demo, dist)
    assert dist.objective_bound <= dist.objective + 1e-9
    assert dist.seconds < 10


def test_the_worker_runs_goldilocks_with_a_hard_deadline(small_demo):
    from lib.sortition.worker import lottery_in_worker

    dist = lottery_in_worker(small_demo, objective="goldilocks", time_limit=60)
    assert isinstance(dist, GoldilocksDistribution) and dist.algorithm == "goldilocks"
    check_distribution(small_demo, dist)
    with pytest.raises(InputError, match="objective"):
        lottery_in_worker(small_demo, objective="maximax", time_limit=5)


# --- the command line, the commitment and the verifier -------------------------------------------

OLD_BUNDLE = Path(__file__).parent / "data" / "bundle_v1_leximin_before_goldilocks.zip"


def _tiny_dir(tmp_path: Path) -> Path:
    from tests.sortition.test_cli import TINY_CATEGORIES, write_instance

    people = "id,gender,age\n" + "".join(f"t{i},{'f' if i % 2 else 'm'},{'young' if i < 4 else 'old'}\n"
                                        for i in range(8))
    return write_instance(tmp_path / "tiny", people, TINY_CATEGORIES)


def test_the_command_line_draws_goldilocks_and_the_verifier_names_it(tmp_path, capsys):
    from lib.sortition.cli import main
    from lib.sortition.audit.verify import verify_file

    inst_dir = _tiny_dir(tmp_path)
    out = tmp_path / "gold"
    assert main(["draw", str(inst_dir), "--seed", "7", "--out", str(out), "--algorithm", "goldilocks",
                 "--panels", "40"]) == 0
    printed = capsys.readouterr().out
    assert "Goldilocks (gamma 1)" in printed and "(goldilocks)" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["algorithm"] == "goldilocks"
    gold = report["goldilocks"]
    assert gold["gamma"] == 1.0 and gold["objective"] == pytest.approx(gold["objective_bound"], rel=1e-6)
    with zipfile.ZipFile(out / "bundle.zip") as z:
        manifest = json.loads(z.read("manifest.json"))
        assert manifest["algorithm"] == "goldilocks"
        assert json.loads(z.read("frozen.jsonl").split(b"\n")[0])["algorithm"] == "goldilocks"  # in the commitment
    res = verify_file(out / "bundle.zip")
    assert res.ok, res.problems
    text = res.report()
    assert "Goldilocks with gamma = 1" in text and "PASS" in text
    assert main(["verify", str(out / "bundle.zip")]) == 0


def test_the_verifier_refuses_a_commitment_naming_an_unknown_objective(tmp_path):
    from lib.sortition.audit.bundle import bundle_bytes
    from lib.sortition.audit.ceremony import freeze
    from lib.sortition.audit.model import load_instance
    from lib.sortition.audit.verify import verify_bundle

    inst = load_instance(_tiny_dir(tmp_path))
    panels = [("t0", "t5", "t6"), ("t1", "t4", "t7"), ("t2", "t5", "t7"), ("t3", "t4", "t6")]
    for name, ok in (("leximin", True), ("goldilocks", True), ("maximax", False)):
        fl = freeze(inst, panels, algorithm=name, created="2026-01-01T00:00:00Z")
        res = verify_bundle(bundle_bytes(fl.draw("12 34")))
        assert res.ok is ok, (name, res.problems)
        if not ok:
            assert any("unknown lottery objective 'maximax'" in p for p in res.problems)


def test_a_bundle_made_before_goldilocks_still_verifies():
    """A v1 bundle written by the command line of the engine before this change (commit 4d1d6a9)."""
    from lib.sortition.audit.verify import verify_file

    res = verify_file(OLD_BUNDLE)
    assert res.ok, res.problems
    assert res.info["algorithm"] == "leximin"
    assert any("LEXIMIN" in line for line in res.passed)


# --- the benchmark ------------------------------------------------------------------------------

def test_the_benchmark_runs_goldilocks_and_sets_both_objectives_side_by_side():
    from bench.leximin_shapes import run_one, side_by_side

    gold = run_one("a", 0, 60.0, objective="goldilocks")
    assert gold["status"] == "ok" and gold["objective"] == "goldilocks" and gold["panels_valid"]
    assert gold["score"] >= gold["score_bound"] - 1e-9
    assert gold["share_at_checkpoint"] == ""                 # no maximin share for Goldilocks
    lex = dict(gold, objective="leximin", min_probability=0.0667, max_probability=1.0, score=23.0)
    table = side_by_side([lex, gold], ["a"], ["leximin", "goldilocks"])
    assert table and table[-1].startswith("| a local | 0 |")
    cells = [c.strip() for c in table[-1].split("|")[1:-1]]
    assert cells[4].startswith("1.0000") and cells[7].startswith(f"{gold['max_probability']:.4f}")
    assert side_by_side([gold], ["a"], ["goldilocks"]) == []


def test_the_goldilocks_master_keeps_the_primal_simplex():
    """Adding columns keeps the Goldilocks master's basis primal feasible, so it is re-solved by the primal
    simplex. It followed leximin's MASTER_SIMPLEX, which became the dual simplex when the later LEXIMIN
    levels moved to the dual form: Goldilocks switched with it, unasked."""
    from lib.sortition import leximin as lx
    from lib.sortition.goldilocks import _Master
    from lib.sortition.typespace import build_types
    from tests.sortition.test_leximin import generated_instance

    ts = build_types(generated_instance())
    master = _Master(ts, 0.1, 1.0, 0.05, np.ones(ts.T, dtype=bool), lambda: None)
    assert master.h.getOptionValue("simplex_strategy")[1] == lx.PRIMAL_SIMPLEX == 4
