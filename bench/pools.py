"""Deterministic synthetic pools for benchmarking the draw engine.

Real respondent pools are private (see ../shared/benchmarks/README.md), so the large
benchmarks use generated ones that look like real sign-ups:

- up to 8 features (gender, age, region, education, ethnicity, housing, area type,
  attitude), with population shares roughly like a UK-style census;
- correlated features: every person has two latent traits (an "age/tenure" axis and an
  "education/urbanity" axis) that shift the odds of several features at once, plus a
  region effect on ethnicity and area type;
- self-selection: volunteers over-represent older, more educated, home-owning and
  highly concerned people, so the quotas (set from the *population* shares) pull
  against the pool and LEXIMIN has real work to do;
- quotas: for each value, ``[floor(s k) - slack, ceil(s k) + slack]`` from its
  population share s (slack 0 for gender/age/region, 1 for the rest), widened step by
  step only if the result is infeasible.

``generate_pool(n, features, k, seed)`` always returns the same Instance for the same
arguments (numpy's PCG64 with a fixed seed, no global state).

A family of pools shaped like real assemblies (local, city, region, national, groups at their
quota, households), each drawn for any seed, is in ``bench/shapes.py``; its benchmark is
``python -m bench.leximin_shapes``.
"""

from __future__ import annotations

import math

import numpy as np

from lib.sortition.audit.model import Instance, Person, Quota

# (feature, [(value, population share, loading on latent A, loading on latent B, volunteer bias)])
FEATURES: list[tuple[str, list[tuple[str, float, float, float, float]]]] = [
    ("gender", [("female", 0.505, 0.0, 0.1, 1.0), ("male", 0.48, 0.0, -0.1, 0.9),
                ("non-binary", 0.015, -0.6, 0.4, 1.0)]),
    ("age", [("16-24", 0.14, -1.6, 0.0, 0.6), ("25-34", 0.17, -0.9, 0.2, 0.8), ("35-44", 0.16, -0.3, 0.2, 0.9),
             ("45-54", 0.17, 0.3, 0.0, 1.0), ("55-64", 0.16, 0.9, -0.1, 1.3), ("65+", 0.20, 1.5, -0.3, 1.4)]),
    ("region", [("North", 0.13, 0.0, -0.3, 1.0), ("North West", 0.11, 0.0, -0.1, 1.0),
                ("Midlands", 0.16, 0.1, -0.2, 0.9), ("East", 0.11, 0.2, 0.0, 1.0),
                ("London", 0.15, -0.4, 0.6, 1.2), ("South East", 0.14, 0.2, 0.3, 1.1),
                ("South West", 0.10, 0.4, 0.0, 1.1), ("Wales", 0.10, 0.2, -0.3, 0.8)]),
    ("education", [("none", 0.18, 0.6, -1.4, 0.5), ("level 1-2", 0.28, 0.1, -0.5, 0.8),
                   ("level 3", 0.20, -0.3, 0.2, 1.0), ("degree", 0.34, -0.1, 1.2, 1.6)]),
    ("ethnicity", [("white", 0.82, 0.4, -0.2, 1.05), ("asian", 0.09, -0.4, 0.3, 0.8),
                   ("black", 0.04, -0.5, 0.2, 0.7), ("mixed", 0.03, -0.8, 0.3, 0.9),
                   ("other", 0.02, -0.3, 0.1, 0.8)]),
    ("housing", [("owner", 0.63, 1.0, 0.4, 1.3), ("private renter", 0.20, -1.0, 0.3, 0.8),
                 ("social renter", 0.17, -0.2, -1.0, 0.6)]),
    ("area", [("urban", 0.55, -0.4, 0.5, 1.0), ("suburban", 0.28, 0.3, 0.1, 1.0), ("rural", 0.17, 0.6, -0.3, 1.1)]),
    ("attitude", [("low concern", 0.25, 0.3, -0.6, 0.5), ("medium concern", 0.45, 0.0, 0.0, 1.0),
                  ("high concern", 0.30, -0.2, 0.7, 1.6)]),
]

STANDARD_POOLS = [(1000, 6, 60), (3000, 8, 100), (6000, 8, 150)]


def _sample(rng: np.random.Generator, spec, a: np.ndarray, b: np.ndarray, extra: np.ndarray | None) -> np.ndarray:
    logp = np.array([math.log(s * bias) for _, s, _, _, bias in spec])
    la = np.array([x[2] for x in spec])
    lb = np.array([x[3] for x in spec])
    logits = logp[None, :] + 0.8 * a[:, None] * la[None, :] + 0.8 * b[:, None] * lb[None, :]
    if extra is not None:
        logits = logits + extra
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    u = rng.random(len(a))
    return (p.cumsum(axis=1) < u[:, None]).sum(axis=1).clip(0, len(spec) - 1)


def quotas_for(features: list[tuple[str, list]], k: int, slack: dict[str, int]) -> list[Quota]:
    out = []
    for f, spec in features:
        for v, share, *_ in spec:
            target = share * k
            s = slack.get(f, 1)
            out.append(Quota(f, v, max(0, math.floor(target) - s), math.ceil(target) + s))
    return out


def generate_pool(n: int, features: int, k: int, seed: int = 0) -> Instance:
    """A feasible synthetic instance with ``n`` people, the first ``features`` features, panel size ``k``."""
    from lib.sortition.feasibility import check_feasibility

    if not 1 <= features <= len(FEATURES):
        raise ValueError(f"features must be between 1 and {len(FEATURES)}")
    rng = np.random.default_rng([seed, n, features, k])
    feats = FEATURES[:features]
    a = rng.standard_normal(n)
    b = rng.standard_normal(n)
    columns: dict[str, np.ndarray] = {}
    region_idx = None
    for f, spec in feats:
        extra = None
        if f in ("ethnicity", "area") and region_idx is not None:
            # London is more diverse and more urban; Wales and the South West more rural
            extra = np.zeros((n, len(spec)))
            london = region_idx == 4
            rural = np.isin(region_idx, [6, 7])
            if f == "ethnicity":
                extra[london, 1:] += 1.2
            else:
                extra[london, 0] += 1.5
                extra[rural, 2] += 1.0
        idx = _sample(rng, spec, a, b, extra)
        if f == "region":
            region_idx = idx
        columns[f] = idx
    people = []
    width = len(str(n - 1))
    for i in range(n):
        values = {f: spec[int(columns[f][i])][0] for f, spec in feats}
        people.append(Person(f"s{i:0{width}d}", values))
    slack = {"gender": 0, "age": 0, "region": 0}
    name = f"synthetic_{n}_{features}f_k{k}"
    for _ in range(20):
        inst = Instance(people=people, quotas=quotas_for(feats, k, slack), panel_size=k, name=name)
        if check_feasibility(inst).feasible:
            return inst
        slack = {f: slack.get(f, 1) + 1 for f, _ in feats}
    raise RuntimeError("could not make the synthetic quotas feasible")


if __name__ == "__main__":  # pragma: no cover - manual inspection
    from lib.sortition.typespace import build_types

    for n, f, k in STANDARD_POOLS:
        inst = generate_pool(n, f, k)
        ts = build_types(inst)
        print(inst.name, "types:", ts.T, "singletons:", int((ts.sizes == 1).sum()))
