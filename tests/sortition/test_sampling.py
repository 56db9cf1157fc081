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


def _best_move_full(sp, c, x, cnt, q, rng, prices):
    """PanelSampler._best_move as it was (every pair scored): the reference of the faster one."""
    fq = int(sp.feature_of[q])
    on = np.flatnonzero(c > 0)
    if cnt[q] < sp.qmin[q]:
        A_ = on[sp.K[on, fq] != q]
        B = sp.members[q]
        B = B[c[B] < sp.sizes[B]]
    else:
        A_ = on[sp.K[on, fq] == q]
        B = np.flatnonzero((c < sp.sizes) & (sp.K[:, fq] != q))
    if len(A_) == 0 or len(B) == 0:
        return None
    delta = sp._delta_by_feature(cnt, A_, B)
    if len(sp.ts.households):
        hh = sp.household_of
        full = sp._household_full(c)
        blocked = full[B][None, :] & (hh[B][None, :] != hh[A_][:, None])
        delta = np.where(blocked, np.inf, delta)
    closeness = (c[A_] - x[A_])[:, None] + (x[B] - c[B])[None, :]
    score = delta - 1e-3 * np.tanh(closeness) - 1e-6 * rng.random(delta.shape)
    if prices is not None:
        gain = prices[B][None, :] - prices[A_][:, None]
        score = score - 1e-2 * gain / max(float(np.abs(gain).max()), 1e-300)
    i, j = np.unravel_index(int(np.argmin(score)), score.shape)
    if not np.isfinite(delta[i, j]) or delta[i, j] >= 0:
        return None
    return int(A_[i]), int(B[j])


def test_the_fast_repair_moves_are_exactly_the_reference_ones():
    """``_delta`` (the correction only on values at a bound, in small integers) equals ``_delta_by_feature``,
    and ``_best_move`` (scored only on the pairs of the smallest delta) picks the same move as scoring every
    pair and leaves the generator in the same state, on a region-shaped and a households pool: the panels
    are the same, only faster."""
    for shape, seed in (("c", 0), ("f", 3)):
        ts, x = _relaxed_point(shape, seed)
        sp = PanelSampler(ts)
        rng = np.random.default_rng(7)
        checked = moved = 0
        for k in range(60):
            y = np.clip(x + rng.normal(0.0, 0.4, ts.T), 0.0, ts.sizes)
            c = sp.round(y, rng)
            cnt = ts.A @ c
            bad = np.flatnonzero((cnt < ts.qmin) | (cnt > ts.qmax))
            for q in bad[:4]:
                prices = rng.normal(0.0, 1.0, ts.T) if k % 2 else None
                s1, s2 = np.random.default_rng(k), np.random.default_rng(k)
                got = sp._best_move(c, y, cnt, int(q), s1, prices)
                want = _best_move_full(sp, c, y, cnt, int(q), s2, prices)
                assert got == want
                assert s1.random() == s2.random()  # the same draws
                checked += 1
                moved += got is not None
                on = np.flatnonzero(c > 0)
                B = np.flatnonzero(c < ts.sizes)
                assert np.array_equal(sp._delta(cnt, on, B), sp._delta_by_feature(cnt, on, B))
        assert checked > 50 and moved > 20, (checked, moved)
