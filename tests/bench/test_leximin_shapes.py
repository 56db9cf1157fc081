"""The shape benchmark's bookkeeping: fresh seeds, the per-shape table, one real run."""

from __future__ import annotations

import math

import pytest

from bench.leximin_shapes import DEFAULT_SEEDS, parse_seeds, run_one, summarise


def test_seeds_default_list_and_fresh():
    assert parse_seeds(None, False) == list(range(DEFAULT_SEEDS))
    assert parse_seeds("3", False) == [0, 1, 2]
    assert parse_seeds("17,42", False) == [17, 42]
    assert parse_seeds("42,", False) == [42]
    a, b = parse_seeds("5", True), parse_seeds("5", True)
    assert len(a) == len(b) == 5 and a != b            # drawn afresh each time (os.urandom)
    with pytest.raises(SystemExit):
        parse_seeds("17,42", True)


def _row(seed, **kw):
    row = {"shape": "a", "seed": seed, "objective": "leximin", "status": "ok", "people": 250, "types": 190,
           "time_limit": 60.0, "min_proven_s": 2.0, "complete": True, "seconds": 20.0, "share_at_checkpoint": 1.0,
           "min_probability": 0.05, "mean_probability": 0.1, "max_probability": 0.9, "rounding_loss_panels": 1,
           "max_deviation_panels": 1.5, "deviation_floor_panels": 0.5, "panels_valid": True}
    row.update(kw)
    return row


def test_table_counts_runs_that_never_got_there_as_never():
    rows = [_row(0, min_proven_cpu_s=0.8), _row(1, min_proven_s=5.0, min_proven_cpu_s=1.5, seconds=60.0, complete=False,
                           share_at_checkpoint=0.98, rounding_loss_panels=3),
            {"shape": "a", "seed": 2, "objective": "leximin", "status": "hung", "error": "killed", "time_limit": 60.0}]
    lines = summarise(rows, ["a"], ["leximin"], 25.0)
    row = next(line for line in lines if line.startswith("| a local"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[6] == "3 (1 failed)"
    assert cells[7] == "5.0 / > 60 / > 60"                 # median of 2, 5, never; p90 and worst: never
    assert cells[8] == "1.5 / –"                           # processor time: median of 0.8, 1.5, never
    assert cells[9] == "1 of 3 (0.9800)"
    assert cells[10] == "not within the limit, 2 of 3 runs"
    assert cells[13] == "2 / 3"
    text = "\n".join(lines)
    assert "minimum proven in ≤ 10 s at p90: no" in text
    assert "least likely person within 1 panel of floor(M p_min): 1 of 2 runs" in text
    assert "a seed 2 (leximin): hung: killed" in text


def test_a_pool_with_somebody_on_no_valid_panel_is_not_counted_as_a_failure():
    # shape e seed 2318937746: two sign-ups fit on no valid panel (proven bound 0): a property of the pool
    rows = [_row(0, min_probability=0.0, upper_bound=0.0, no_panel_people=2),
            _row(1, min_probability=0.0, upper_bound=0.04, complete=False)]
    text = "\n".join(summarise(rows, ["a"], ["leximin"], 25.0))
    assert "a seed 0 (leximin): 2 sign-up(s) on no valid panel" in text
    assert "not a failure of the engine" in text
    assert "a seed 0 (leximin): somebody has no chance" not in text
    # a minimum of 0 where a positive one is proven possible is still reported as the engine's failure
    assert "a seed 1 (leximin): somebody has no chance at all (minimum 0) although the proven bound is 0.040000" in text


def test_one_run_measures_a_valid_lottery():
    row = run_one("a", 3, time_limit=4.0)
    assert row["status"] == "ok", row
    assert row["panels_valid"] is True
    assert 0 < row["min_probability"] <= row["upper_bound"] + 1e-9
    assert 0 < row["share_at_checkpoint"] <= 1.0
    if not math.isnan(row.get("min_proven_s", math.nan)):
        assert row["min_proven_s"] <= row["seconds"] + 1e-6
        assert 0 < row["min_proven_cpu_s"] <= row["cpu_s"] + 1e-6
        assert row["min_probability"] >= row["upper_bound"] - 1e-6
    # the rounding loss is measured against floor(M p_min)
    assert row["rounding_loss_panels"] == row["floor_M_pmin"] - row["rounded_min_panels"]
    assert row["floor_M_pmin"] == math.floor(1000 * row["min_probability"] + 1e-9)
    assert row["max_deviation_panels"] >= row["deviation_floor_panels"] - 1e-9


def test_a_run_that_never_answers_is_killed_and_recorded(monkeypatch):
    import time

    from bench.leximin_shapes import run_isolated

    monkeypatch.setenv("BENCH_SHAPES_TEST_STALL", "1")
    t0 = time.perf_counter()
    row = run_isolated("a", 0, time_limit=1.0, checkpoint=1.0, objective="leximin", hard_extra=3.0)
    assert time.perf_counter() - t0 < 20
    assert row["status"] == "hung" and "killed" in row["error"]
    # and the table says so instead of stopping
    lines = summarise([row], ["a"], ["leximin"], 25.0)
    assert any("a seed 0 (leximin): hung" in line for line in lines)
