"""Panels sampled around a fractional composition (lib/sortition/sampling.py): always valid, distinct,
near the point they were drawn around, and the same from the same generator."""

import numpy as np

from bench.shapes import generate
from lib.sortition.leximin import _Relaxed, types_and_a_first_panel
from lib.sortition.sampling import PanelSampler


def _relaxed_point(shape: str, seed: int):
    ts, _ = types_and_a_first_panel(generate(shape, seed))
    rel = _Relaxed(ts)
    rel.solve(np.zeros(ts.T, dtype=bool))
    return ts, np.asarray(rel.h.getSolution().col_value)[:ts.T]


def test_every_sampled_panel_is_valid_and_distinct_on_a_households_pool():
    ts, x = _relaxed_point("f", 3)
    panels = PanelSampler(ts).sample(x, 60, np.random.default_rng(1))
    assert len(panels) >= 30              # most repairs succeed
    assert all(ts.is_valid_composition(c) for c in panels)
    assert len({c.tobytes() for c in panels}) == len(panels)
    for c in panels:                      # the household rule, person by person
        for hh in ts.households:
            assert int(c[hh].sum()) <= 1


def test_a_rounding_keeps_every_type_at_the_floor_or_ceiling_of_the_point():
    ts, x = _relaxed_point("a", 2)
    sampler = PanelSampler(ts)
    rng = np.random.default_rng(5)
    for _ in range(50):
        c = sampler.round(x, rng)
        assert int(c.sum()) == ts.k
        assert (c >= np.floor(x + 1e-9)).all() and (c <= np.ceil(x - 1e-9)).all()


def test_the_rounding_is_unbiased_before_repair():
    ts, x = _relaxed_point("a", 4)
    sampler = PanelSampler(ts)
    rng = np.random.default_rng(0)
    mean = np.mean([sampler.round(x, rng) for _ in range(4000)], axis=0)
    assert np.abs(mean - x).max() < 0.05          # E[c] = x: 4,000 samples, sd at most 0.008


def test_a_point_that_already_is_a_panel_comes_back_unchanged():
    ts, first = types_and_a_first_panel(generate("b", 1))
    got = PanelSampler(ts).sample(first.astype(float), 5, np.random.default_rng(0))
    assert len(got) == 1 and np.array_equal(got[0], first)


def test_same_generator_same_panels():
    ts, x = _relaxed_point("c", 1)
    a = PanelSampler(ts).sample(x, 10, np.random.default_rng(7))
    b = PanelSampler(ts).sample(x, 10, np.random.default_rng(7))
    assert [c.tolist() for c in a] == [c.tolist() for c in b]


def test_roundings_come_best_first_at_the_prices():
    ts, x = _relaxed_point("b", 0)
    prices = np.random.default_rng(3).random(ts.T)
    got = PanelSampler(ts).roundings(x, 12, np.random.default_rng(2), prices)
    assert got and all(ts.is_valid_composition(c) for c in got)
    values = [float(prices @ c) for c in got]
    assert values == sorted(values, reverse=True)
