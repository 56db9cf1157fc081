"""The equal-chance design used to seed the LEXIMIN engine (``lib/sortition/systematic.py``)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lib.sortition.systematic import equal_chance_samples, serpentine_order


@pytest.mark.parametrize("N,m", [(1775, 30), (1190, 20), (100, 10), (101, 10), (7, 3), (400, 12), (31, 1), (9, 9)])
def test_every_person_is_drawn_with_exactly_m_in_n(N, m):
    samples = equal_chance_samples(N, m)
    assert samples is not None
    assert sum(w for w, _ in samples) == pytest.approx(1.0, abs=1e-12)
    chance = np.zeros(N)
    for weight, positions in samples:
        assert weight > 0
        assert len(positions) == m and len(np.unique(positions)) == m     # m different people
        assert positions.min() >= 0 and positions.max() < N
        chance[positions] += weight
    assert np.abs(chance - m / N).max() <= 1e-12
    # far fewer samples than plain systematic sampling (N / gcd(N, m) of them)
    assert len(samples) <= N // m + m


def test_each_sample_is_spread_along_the_list():
    """A sample takes every q-th person (or the set-aside people spread evenly), so with the
    list sorted by a feature each sample has about its fair share of every value."""
    N, m = 1775, 30
    for _, positions in equal_chance_samples(N, m):
        first_half = int((positions < N // 2).sum())
        assert abs(first_half - m / 2) <= 3


def test_no_design_when_the_list_is_too_short_for_its_seats():
    assert equal_chance_samples(50, 49) is None
    assert equal_chance_samples(5, 0) is None
    assert equal_chance_samples(5, 6) is None


def test_serpentine_order_moves_one_step_at_a_time():
    """On a full grid the snake order is a Gray code: neighbours differ in one feature, by one."""
    grid = np.array(list(itertools.product(range(3), range(4), range(2))))
    rng = np.random.default_rng(1)
    shuffled = grid[rng.permutation(len(grid))]
    ordered = shuffled[serpentine_order(shuffled)]
    assert sorted(map(tuple, ordered)) == sorted(map(tuple, grid))
    steps = np.abs(np.diff(ordered, axis=0)).sum(axis=1)
    assert (steps == 1).all()


def test_serpentine_order_of_a_group_with_no_other_feature_keeps_the_order():
    """Found by the rounding property test once it stopped skipping cases: a group set by the only
    feature there is leaves no other feature to order by."""
    import numpy as np

    assert serpentine_order(np.zeros((3, 0), dtype=np.int64)).tolist() == [0, 1, 2]


def test_leximin_on_a_one_feature_pool_with_a_pinned_group():
    from lib.sortition.leximin import leximin
    from lib.sortition.audit.model import Instance, Person, Quota

    people = [Person(f"p{i}", {"f0": "v0"}, "h0" if i >= 3 else None) for i in range(5)]
    inst = Instance(people, [Quota("f0", "v0", 1, 1), Quota("f0", "v1", 0, 0)], 1, one_per_household=True)
    dist = leximin(inst)
    assert dist.complete
    # four "households" (p0, p1, p2 alone and h0): p3 and p4 share theirs
    assert abs(sum(dist.probabilities.values()) - 1) < 1e-9
    assert min(dist.probabilities.values()) > 0
