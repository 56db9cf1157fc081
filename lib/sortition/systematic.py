"""Equal-chance designs: small lotteries in which everybody of a list has the same chance.

The survey statistician's systematic sampling (Madow, 1949) selects m of N people by
taking every (N/m)-th person of a list from a random start; everybody is selected with
probability exactly m/N, and when the list is sorted by people's other features
("implicit stratification") every sample is spread across the list, so its make-up is
close to the list's average. ``equal_chance_samples`` builds such a design with few
samples (exact weights, no randomness), and ``serpentine_order`` sorts the list.

The LEXIMIN engine uses them to seed its column generation when the minimum is set by one
group with a fixed number of seats, whose members must then all have exactly the same
chance (``leximin.py``, ``_Solver.design_columns``).
"""

from __future__ import annotations

import math

import numpy as np


def aside_and_blocks(N: int, r: int, q: int) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """``r`` people of the list 0..N-1 set aside, spread evenly along it, and the others dealt into ``q`` blocks
    (every q-th); None when the spread would pick somebody twice."""
    aside = np.unique(np.floor((np.arange(r) + 0.5) * N / r).astype(np.int64))
    if len(aside) != r:
        return None
    rest = np.setdiff1d(np.arange(N), aside)
    return aside, [rest[j::q] for j in range(q)]


def equal_chance_samples(N: int, m: int) -> list[tuple[float, np.ndarray]] | None:
    """A small lottery over m-person samples of a list of N people, each person exactly m / N.

    Plain systematic sampling with the step N / m needs N / gcd(N, m) samples (355 for 30
    seats among 1,775 people); this needs only about N / m + m (65 there):

    - write N = q m + r (0 <= r < m); set aside r people spread evenly along the list;
    - the other q m people, in list order, make q *blocks* by taking every q-th of them
      (block j holds their j-th, (j+q)-th, ... person), so that every block is spread
      along the whole list;
    - with r > 0, ``e`` extra samples (weight m / (N e) each) hold all r set-aside people
      plus m - r people dealt in turn from ``s`` whole blocks, every member of those
      blocks dealt once, where e = m / g, s = (m - r) / g, g = gcd(m, m - r); those s
      blocks get weight m / N - m / (N e), the other blocks m / N.

    Everybody is then selected with probability exactly m / N (a set-aside person is in
    all e extra samples; a member of a dealt block is in its block and one extra sample).
    Returns ``(weight, positions)`` pairs (positions into the list, sorted), or None when
    the construction does not apply (s > q: a list too short for its seats).
    """
    if not (0 < m <= N):
        return None
    if m == N:
        return [(1.0, np.arange(N))]
    q, r = divmod(N, m)
    if r == 0:
        return [(1.0 / q, np.arange(j, N, q)) for j in range(q)]
    g = math.gcd(m, m - r)
    e, s = m // g, (m - r) // g
    if s > q:
        return None
    split = aside_and_blocks(N, r, q)
    if split is None:
        return None
    aside, blocks = split
    # the dealt blocks are spread over the block indices too
    dealt = sorted({int(x) for x in np.floor((np.arange(s) + 0.5) * q / s)})
    if len(dealt) != s:
        return None
    full, share = m / N, m / (N * e)
    out: list[tuple[float, np.ndarray]] = []
    for j, b in enumerate(blocks):
        w = full - share if j in dealt else full
        if w > 0:
            out.append((w, b))
    pool = np.sort(np.concatenate([blocks[j] for j in dealt]))
    for i in range(e):
        out.append((share, np.sort(np.concatenate([aside, pool[i::e]]))))
    return out


def serpentine_order(codes: np.ndarray) -> np.ndarray:
    """Order rows of integer ``codes`` (one column per feature) so that neighbours are alike.

    Lexicographic on the columns, with every column's direction reversed on every other pass
    (a "snake" order, the reflected Gray code), so that the list never jumps from the last
    value of a feature back to the first: on a full grid, neighbours differ in one feature
    by one step.
    """
    codes = np.asarray(codes, dtype=np.int64)
    n, F = codes.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if F == 0:  # nothing to tell the rows apart: keep their order
        return np.arange(n, dtype=np.int64)
    key = np.zeros((n, F), dtype=np.int64)
    odd = np.zeros(n, dtype=bool)  # parity of the pass: the ranks so far read as one mixed-radix number
    for f in range(F):
        col = codes[:, f]
        span = int(col.max()) + 1
        v = np.where(odd, span - 1 - col, col)
        key[:, f] = v
        odd = (odd & (span % 2 == 1)) ^ (v % 2 == 1)
    return np.lexsort(key.T[::-1])
