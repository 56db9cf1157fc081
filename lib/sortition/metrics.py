"""Small fairness metrics shared by the engine, the app and the benchmarks."""

from __future__ import annotations

import math
from typing import Iterable, Mapping


def gini(probabilities: Mapping[str, float] | Iterable[float]) -> float:
    """The standard Gini coefficient of the selection probabilities (0 = everybody equal).

    G = sum_i sum_j |x_i - x_j| / (2 n^2 mean), computed in O(n log n) from the sorted
    values. Accepts a dict (person -> probability) or any iterable of numbers.
    """
    values = list(probabilities.values()) if isinstance(probabilities, Mapping) else list(probabilities)
    n = len(values)
    if n == 0:
        return 0.0
    xs = sorted(float(v) for v in values)
    total = math.fsum(xs)
    if total <= 0:
        return 0.0
    # sum_{i<j} (x_j - x_i) = sum_j x_j * (2j - n + 1) over the sorted values (0-based j)
    s = math.fsum(x * (2 * j - n + 1) for j, x in enumerate(xs))
    return max(0.0, s / (n * total))


def geometric_mean(probabilities: Mapping[str, float] | Iterable[float]) -> float:
    values = list(probabilities.values()) if isinstance(probabilities, Mapping) else list(probabilities)
    if not values or min(values) <= 0:
        return 0.0
    return math.exp(math.fsum(math.log(v) for v in values) / len(values))
