"""Pools shaped like real citizens' assemblies, with a seed: the benchmark that cannot be tuned to.

``bench/pools.py`` has one generator with a fixed seed; an engine setting can be fitted to it.
This module has a *family* of shapes, each drawn afresh for any seed, so that the benchmark
(``python -m bench.leximin_shapes --fresh``) can run on seeds nobody has seen before.

``generate(shape, seed)`` returns the same ``Instance`` for the same (shape, seed): numpy's
PCG64 seeded with ``[seed, shape index]``, no global state. Every pool is feasible (checked
with ``lib.sortition.feasibility.check_feasibility``).

How every shape is made
=======================
- **People** have three hidden traits: *settledness* (age, home ownership), *education and
  affluence*, and *concern* about the assembly's topic (correlated 0.3 with education). Each
  feature's value is drawn from its census share, shifted by these traits (so features are
  correlated, and some intersections, e.g. young, no qualifications, social renter, low concern,
  are rare) and multiplied by a **volunteer bias**: older, more educated, home-owning and
  concerned people answer the invitation more often (e.g. 16-24: 0.5, 65+: 1.3, degree: 1.7,
  high concern: 1.7, social renter: 0.6). Each value's intercept is calibrated so that the
  pool's expected share of it is exactly census share x bias (normalised): the traits only
  correlate the features. Each seed also perturbs every bias by about 10% (log-normal) and
  the pool size by up to 10%, so no two seeds have the same skew.
- **Look-alikes.** Real pools repeat the same profiles (many retired owners with a degree,
  few young social renters), so people with identical answers cluster. With probability
  ``lookalike`` (0.05-0.52 by shape, larger for larger pools) a volunteer gives the same
  answers as an earlier volunteer picked at random (a Polya urn: the pool's expected shares
  do not change). This sets the number of types: about 75% of the people in the local shape,
  70% in the city, 35% in the national one.
- **Geography** (wards, districts, sub-regions or regions) has an urbanity score: urban places
  have more minority-ethnic and urban residents.
- **Quotas** come from the *census* shares (not the pool): for a value with share s on a panel
  of k, ``[floor(s k) - slack, ceil(s k) + slack]`` with slack 0 for gender, age and geography
  and 1 for the others. When no panel meets them, the smallest relaxation that
  ``check_feasibility`` proposes (fewest seats) is applied, and again until a panel exists:
  quotas are widened only as far as needed.

The shapes
==========
- ``a`` **local**: a small local assembly. About 250 people (225-275), 25 seats, 7 features:
  gender (2), age (5), ward (5), education (3), ethnicity (3), housing (3), concern (3).
- ``b`` **city**: about 800 people, 75 seats, 8 features: gender (3, one of them 1% of the
  census), age (6), district (8), education (4), ethnicity (5), housing (3), disability (2),
  concern (3).
- ``c`` **region**: about 1,700 people, 110 seats, 9 features: gender (3), age (6),
  sub-region (10), education (4), ethnicity (5), housing (3), area (urban/suburban/rural),
  disability (2), concern (4).
- ``d`` **national**: about 6,000 people, 150 seats, 9 features: gender (3), age (6), region
  (12), education (3), ethnicity (3), housing (3), area (3), disability (2), concern (4):
  many small cross-groups, about 2,000 types (1,950-2,250: people with the same values on
  every feature), about half of them a single person. The large shape: the benchmark gives
  it the longer time limit.
- ``e`` **at-quota**: a city-like pool of about 430 people (390-500) for 45 seats (8
  features) where four hard-to-reach groups (age 16-24, no qualifications, social renters, Asian) sit
  *exactly at their quota*: the pool has as many of them as the quota's minimum (as if only
  that many had volunteered), so each of them is on every valid panel (probability 1). Pool
  members of those groups are removed at random down to the minimum; if a later removal or
  the quota relaxation leaves a group's minimum below its count, the group is trimmed again.
  A quota that those people alone fill (e.g. "another gender": at most 1, and one of them is
  among them) gets one seat more than they take, so that nobody else is left with no chance.
- ``f`` **households**: about 1,000 people, 60 seats, 7 features, with at most one person per
  household (``one_per_household``). Of the households that answered, 11% have 2 people,
  2.5% have 3 and 0.5% have 4 (so about a quarter of the people share a household).
  Members of a household share district and housing, usually ethnicity, often concern and
  education; a second member is a partner (same or next age band, mostly the other gender) or
  a parent or grown-up child (three age bands apart). Everyone in a shared household is a type
  of their own.

``shape_summary(instance)`` gives the numbers the tests and the benchmark check (people,
seats, features, types, groups at their quota, people sharing a household).
"""

from __future__ import annotations

import math
from pathlib import Path
from dataclasses import dataclass

import numpy as np

from lib.sortition.audit.model import Instance, Person, Quota

# A value: (name, census share, loading on settledness, on education/affluence, on concern, volunteer bias)
Value = tuple[str, float, float, float, float, float]

GENDER2: list[Value] = [("female", .51, 0, .05, .1, 1.05), ("male", .49, 0, -.05, -.1, .95)]
GENDER3: list[Value] = [("female", .505, 0, .05, .1, 1.05), ("male", .485, 0, -.05, -.1, .95),
                        ("another gender", .01, -.8, .4, .4, 1.1)]
AGE5: list[Value] = [("16-29", .22, -1.5, .1, -.1, .55), ("30-44", .24, -.6, .3, 0, .85),
                     ("45-59", .25, .2, .1, .1, 1.05), ("60-74", .19, 1.0, -.1, .2, 1.45),
                     ("75+", .10, 1.6, -.4, 0, 1.0)]
AGE6: list[Value] = [("16-24", .13, -1.7, 0, -.1, .5), ("25-34", .17, -1.0, .3, 0, .75),
                     ("35-44", .16, -.4, .3, 0, .9), ("45-54", .17, .2, .1, .1, 1.05),
                     ("55-64", .16, .8, -.1, .2, 1.35), ("65+", .21, 1.5, -.4, .1, 1.3)]
AGE7: list[Value] = [("16-24", .12, -1.7, 0, -.1, .5), ("25-34", .17, -1.0, .3, 0, .75),
                     ("35-44", .16, -.4, .3, 0, .9), ("45-54", .17, .2, .1, .1, 1.05),
                     ("55-64", .15, .8, -.1, .2, 1.35), ("65-74", .12, 1.3, -.3, .2, 1.4),
                     ("75+", .11, 1.7, -.5, 0, .85)]
EDU3: list[Value] = [("no qualifications", .20, .6, -1.5, -.3, .5), ("school", .45, 0, -.2, 0, .9),
                     ("degree", .35, -.1, 1.3, .3, 1.7)]
EDU4: list[Value] = [("none", .18, .6, -1.5, -.3, .5), ("level 1-2", .28, .1, -.5, -.1, .8),
                     ("level 3", .20, -.3, .2, 0, 1.0), ("degree", .34, -.1, 1.3, .3, 1.7)]
EDU5: list[Value] = [("none", .17, .6, -1.5, -.3, .5), ("level 1", .11, .2, -.8, -.2, .7),
                     ("level 2", .15, 0, -.4, -.1, .85), ("level 3 or apprenticeship", .23, -.2, .2, 0, 1.0),
                     ("degree", .34, -.1, 1.3, .3, 1.7)]
ETH3: list[Value] = [("white", .85, .4, -.1, 0, 1.05), ("asian", .08, -.4, .2, -.1, .75),
                     ("black, mixed or other", .07, -.6, .1, 0, .7)]
ETH5: list[Value] = [("white", .82, .4, -.2, 0, 1.05), ("asian", .09, -.4, .3, -.1, .8),
                     ("black", .04, -.5, .2, 0, .7), ("mixed", .03, -.8, .3, .1, .9),
                     ("other", .02, -.3, .1, 0, .8)]
ETH6: list[Value] = [("white british", .74, .5, -.2, 0, 1.05), ("white other", .07, -.5, .4, 0, .8),
                     ("asian", .09, -.4, .3, -.1, .8), ("black", .04, -.5, .2, 0, .7),
                     ("mixed", .03, -.8, .3, .1, .9), ("other", .03, -.3, .1, 0, .8)]
HOUSING3: list[Value] = [("owner", .63, 1.0, .4, .1, 1.3), ("private renter", .20, -1.0, .3, 0, .8),
                         ("social renter", .17, -.2, -1.0, -.1, .6)]
HOUSING4: list[Value] = [("owns outright", .33, 1.6, 0, .1, 1.35), ("mortgage", .30, 0, .5, .1, 1.15),
                         ("private renter", .20, -1.0, .3, 0, .8), ("social renter", .17, -.2, -1.0, -.1, .6)]
AREA3: list[Value] = [("urban", .55, -.4, .5, 0, 1.0), ("suburban", .28, .3, .1, 0, 1.0),
                      ("rural", .17, .6, -.3, .1, 1.1)]
DISABILITY2: list[Value] = [("no", .82, -.2, .1, 0, 1.0), ("yes", .18, .6, -.4, .1, .8)]
DEPRIVATION5: list[Value] = [("most deprived fifth", .2, -.2, -1.2, -.2, .6), ("second fifth", .2, -.1, -.5, -.1, .8),
                             ("middle fifth", .2, 0, 0, 0, 1.0), ("fourth fifth", .2, .2, .5, .1, 1.15),
                             ("least deprived fifth", .2, .3, 1.0, .2, 1.3)]
CONCERN3: list[Value] = [("low concern", .25, .3, -.6, -1.5, .45), ("medium concern", .45, 0, 0, 0, 1.0),
                         ("high concern", .30, -.2, .6, 1.5, 1.7)]
CONCERN4: list[Value] = [("not at all concerned", .10, .4, -.7, -2.0, .3), ("not very concerned", .20, .2, -.3, -1.0, .6),
                         ("fairly concerned", .40, 0, 0, .3, 1.0), ("very concerned", .30, -.2, .6, 1.5, 1.7)]

# geography: (name, census share, urbanity in [-1, 1], volunteer bias)
Place = tuple[str, float, float, float]
WARDS5: list[Place] = [("Northgate", .24, .8, .9), ("Riverside", .22, .4, 1.1), ("Hillcrest", .20, -.2, 1.15),
                       ("Old Town", .18, .3, 1.0), ("Meadowbank", .16, -.8, .9)]
DISTRICTS8: list[Place] = [("Centre", .14, 1.0, 1.1), ("North", .13, .3, .95), ("East", .15, .5, .85),
                           ("South", .12, 0, 1.0), ("West", .12, -.2, 1.1), ("Harbour", .10, .6, .8),
                           ("Parkside", .12, -.4, 1.2), ("Outskirts", .12, -1.0, 1.0)]
SUBREGIONS10: list[Place] = [("City", .17, 1.0, 1.1), ("Inner suburbs", .13, .6, .95), ("Outer suburbs", .12, .2, 1.05),
                             ("Coast", .09, -.3, 1.1), ("Valleys", .10, -.5, .8), ("Market towns", .09, -.3, 1.0),
                             ("New town", .08, .3, .85), ("Uplands", .06, -1.0, 1.1), ("River plain", .08, -.6, 1.0),
                             ("Port", .08, .5, .8)]
REGIONS12: list[Place] = [("North East", .04, .0, .9), ("North West", .11, .2, .95), ("Yorkshire", .08, .0, .95),
                          ("East Midlands", .07, -.2, 1.0), ("West Midlands", .09, .3, .9), ("East", .09, -.3, 1.05),
                          ("London", .13, 1.0, 1.15), ("South East", .14, .0, 1.15), ("South West", .08, -.5, 1.1),
                          ("Wales", .05, -.4, .9), ("Scotland", .08, -.1, 1.0), ("Northern Ireland", .03, -.4, .8)]

GEOGRAPHY = {"ward", "district", "sub-region", "region"}
TIGHT = {"gender", "age"} | GEOGRAPHY   # slack 0; everything else slack 1


@dataclass(frozen=True)
class Shape:
    key: str
    name: str
    people: int
    seats: int
    geography: tuple[str, list[Place]]
    features: list[tuple[str, list[Value]]]   # the other features, in order (geography goes third)
    large: bool = False                        # the benchmark gives it the longer time limit
    at_quota: tuple[tuple[str, str], ...] = ()  # groups trimmed to exactly their quota minimum
    households: bool = False
    description: str = ""
    lookalike: float = 0.0                     # share of volunteers answering like an earlier one

    @property
    def n_features(self) -> int:
        return 1 + len(self.features)


SHAPES: dict[str, Shape] = {s.key: s for s in [
    Shape("a", "local", 250, 25, ("ward", WARDS5),
          [("gender", GENDER2), ("age", AGE5), ("education", EDU3), ("ethnicity", ETH3), ("housing", HOUSING3),
           ("concern", CONCERN3)],
          lookalike=0.05,
          description="small local assembly, ~250 people, 25 seats, 7 features"),
    Shape("b", "city", 800, 75, ("district", DISTRICTS8),
          [("gender", GENDER3), ("age", AGE6), ("education", EDU4), ("ethnicity", ETH5), ("housing", HOUSING3),
           ("disability", DISABILITY2), ("concern", CONCERN3)],
          lookalike=0.1,
          description="city, ~800 people, 75 seats, 8 features"),
    Shape("c", "region", 1700, 110, ("sub-region", SUBREGIONS10),
          [("gender", GENDER3), ("age", AGE6), ("education", EDU4), ("ethnicity", ETH5), ("housing", HOUSING3),
           ("area", AREA3), ("disability", DISABILITY2), ("concern", CONCERN4)],
          lookalike=0.2,
          description="region, ~1,700 people, 110 seats, 9 features"),
    Shape("d", "national", 6000, 150, ("region", REGIONS12),
          [("gender", GENDER3), ("age", AGE6), ("education", EDU3), ("ethnicity", ETH3), ("housing", HOUSING3),
           ("area", AREA3), ("disability", DISABILITY2), ("concern", CONCERN4)],
          large=True, lookalike=0.52,
          description="national, ~6,000 people, 150 seats, 9 features, ~2,000 types"),
    Shape("e", "at-quota", 570, 45, ("district", DISTRICTS8),
          [("gender", GENDER3), ("age", AGE6), ("education", EDU4), ("ethnicity", ETH5), ("housing", HOUSING3),
           ("disability", DISABILITY2), ("concern", CONCERN3)],
          lookalike=0.1,
          at_quota=(("age", "16-24"), ("education", "none"), ("housing", "social renter"), ("ethnicity", "asian")),
          description="~450 people, 45 seats, 8 features, 4 groups exactly at their quota minimum"),
    Shape("f", "households", 1000, 60, ("district", DISTRICTS8),
          [("gender", GENDER2), ("age", AGE6), ("education", EDU4), ("ethnicity", ETH5), ("housing", HOUSING3),
           ("concern", CONCERN3)],
          households=True, lookalike=0.05,
          description="~1,000 people, 60 seats, 7 features, one person per household (about a quarter share one)"),
]}

HOUSEHOLD_SIZES = (1, 2, 3, 4)
HOUSEHOLD_SHARES = (0.86, 0.11, 0.025, 0.005)   # of the households that answered
LATENT_WEIGHT = 0.8


def _rng(shape: Shape, seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64([int(seed), "abcdefghij".index(shape.key) + 101]))


def _categorical(rng: np.random.Generator, logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    u = rng.random(len(logits))
    return (p.cumsum(axis=1) < u[:, None]).sum(axis=1).clip(0, logits.shape[1] - 1)


def _spec_arrays(spec: list[Value], jitter: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    shares = np.array([v[1] for v in spec], dtype=np.float64)
    shares = shares / shares.sum()
    bias = np.array([v[5] for v in spec]) * jitter
    load = np.array([[v[2], v[3], v[4]] for v in spec], dtype=np.float64)
    return np.log(shares * bias), load


def _calibrated(logits: np.ndarray, base: np.ndarray, rounds: int = 8) -> np.ndarray:
    """Shift each value's intercept so that the pool's expected share of it is census share x bias
    (normalised): the hidden traits then only correlate the features, they do not undo the bias
    (a softmax over normally distributed traits favours values with large loadings)."""
    target = np.exp(base - base.max())
    target /= target.sum()
    shift = np.zeros(len(base))
    for _ in range(rounds):
        z = logits + shift
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        shift += np.log(target / np.maximum(p.mean(axis=0), 1e-12))
    return logits + shift


def _draw_people(shape: Shape, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Value indices per feature for n volunteers (geography first)."""
    a = rng.standard_normal(n)                    # settledness (age, ownership)
    b = rng.standard_normal(n)                    # education, affluence
    c = 0.3 * b + math.sqrt(1 - 0.09) * rng.standard_normal(n)   # concern, a little correlated with b
    latent = np.stack([a, b, c], axis=1)
    geo_name, places = shape.geography
    g_share = np.array([p[1] for p in places]) / sum(p[1] for p in places)
    g_bias = np.array([p[3] for p in places]) * np.exp(rng.normal(0, 0.1, len(places)))
    geo = _categorical(rng, np.tile(np.log(g_share * g_bias), (n, 1)))
    urban = np.array([p[2] for p in places])[geo]
    cols = {geo_name: geo}
    for f, spec in shape.features:
        base, load = _spec_arrays(spec, np.exp(rng.normal(0, 0.1, len(spec))))
        logits = base[None, :] + LATENT_WEIGHT * latent @ load.T
        if f == "ethnicity":
            logits[:, 1:] += 1.2 * urban[:, None]          # urban places are more diverse
        elif f == "area":
            logits[:, 0] += 1.5 * urban
            logits[:, 2] -= 1.5 * urban
        cols[f] = _categorical(rng, _calibrated(logits, base))
    if shape.lookalike:
        # look-alikes: with probability ``lookalike`` a volunteer has the same answers as an earlier
        # volunteer picked at random (a Polya urn: the pool's shares stay those of the draws above)
        copy = np.flatnonzero(rng.random(n) < shape.lookalike)
        copy = copy[copy > 0]
        source = (rng.random(len(copy)) * copy).astype(np.int64)
        for i, j in zip(copy.tolist(), source.tolist()):
            for col in cols.values():
                col[i] = col[j]
    return cols


def _households(shape: Shape, rng: np.random.Generator, cols: dict[str, np.ndarray]) -> np.ndarray:
    """Household number per person; later members of a household take over some of its first member's values."""
    n = len(next(iter(cols.values())))
    hh = np.empty(n, dtype=np.int64)
    i = h = 0
    while i < n:
        size = min(int(rng.choice(HOUSEHOLD_SIZES, p=HOUSEHOLD_SHARES)), n - i)
        hh[i:i + size] = h
        first = i
        for j in range(i + 1, i + size):
            for f in (shape.geography[0], "area", "housing"):
                if f in cols:
                    cols[f][j] = cols[f][first]
            if "ethnicity" in cols and rng.random() < 0.9:
                cols["ethnicity"][j] = cols["ethnicity"][first]
            if "concern" in cols and rng.random() < 0.6:
                cols["concern"][j] = cols["concern"][first]
            if "education" in cols and rng.random() < 0.5:
                cols["education"][j] = cols["education"][first]
            if "age" in cols:
                bands = len(dict(shape.features)["age"])
                base = int(cols["age"][first])
                if j == first + 1 and rng.random() < 0.65:      # a partner
                    age = base + int(rng.choice([-1, 0, 0, 1]))
                    if "gender" in cols and rng.random() < 0.85:
                        cols["gender"][j] = 1 - cols["gender"][first] if cols["gender"][first] < 2 else 0
                else:                                           # a parent or a grown-up child
                    age = base + 3 if base + 3 < bands and (base < 3 or rng.random() < 0.5) else base - 3
                cols["age"][j] = min(max(age, 0), bands - 1)
        i += size
        h += 1
    return hh


def census_quotas(shape: Shape, k: int) -> list[Quota]:
    out = []
    geo_name, places = shape.geography
    total = sum(p[1] for p in places)
    specs: list[tuple[str, list[tuple[str, float]]]] = [(geo_name, [(p[0], p[1] / total) for p in places])]
    for f, spec in shape.features:
        t = sum(v[1] for v in spec)
        specs.append((f, [(v[0], v[1] / t) for v in spec]))
    for f, values in specs:
        slack = 0 if f in TIGHT else 1
        for v, s in values:
            target = s * k
            lo = max(0, math.floor(target + 1e-9) - slack)
            hi = min(k, math.ceil(target - 1e-9) + slack)
            out.append(Quota(f, v, lo, max(lo, hi)))
    return out


def _feasible(inst: Instance, max_rounds: int = 30) -> Instance:
    """``inst`` with its quotas widened by the smallest relaxations until a panel exists."""
    from lib.sortition.feasibility import apply_relaxation, check_feasibility

    for _ in range(max_rounds):
        report = check_feasibility(inst)
        if report.feasible:
            return inst
        if not report.relaxable or not report.relaxation:
            break
        inst = apply_relaxation(inst, report.relaxation)
    raise RuntimeError(f"could not make the quotas of {inst.name} feasible")


def _trim_to_quota(rng: np.random.Generator, people: list[Person], quotas: list[Quota],
                   groups: tuple[tuple[str, str], ...]) -> tuple[list[Person], list[Quota]]:
    """Remove random members of each group until the pool has exactly its quota minimum."""
    qmin = {(q.feature, q.value): q.min for q in quotas}
    for f, v in groups:
        members = [i for i, p in enumerate(people) if p.features[f] == v]
        want = max(1, qmin[(f, v)])
        if len(members) > want:
            drop = set(rng.choice(np.array(members), size=len(members) - want, replace=False).tolist())
            people = [p for i, p in enumerate(people) if i not in drop]
    # a later removal may have taken a group below its minimum: the minimum follows the count
    counts = {g: sum(1 for p in people if p.features[g[0]] == g[1]) for g in groups}
    quotas = [Quota(q.feature, q.value, counts[(q.feature, q.value)], max(q.max, counts[(q.feature, q.value)]))
              if (q.feature, q.value) in counts and counts[(q.feature, q.value)] < q.min else q for q in quotas]
    # a quota filled by the members of those groups alone (they are on every panel) would leave the
    # others with that value no chance at all: it gets one seat more than they take
    forced = [p for p in people if any(p.features[f] == v for f, v in groups)]
    out = []
    for q in quotas:
        taken = sum(1 for p in forced if p.features[q.feature] == q.value)
        pool = sum(1 for p in people if p.features[q.feature] == q.value)
        out.append(Quota(q.feature, q.value, q.min, taken + 1) if (q.feature, q.value) not in counts
                   and taken >= q.max and pool > taken else q)
    return people, out


def generate(shape: str | Shape, seed: int) -> Instance:
    """The pool of ``shape`` (a key of ``SHAPES`` or a ``Shape``) for ``seed``: always the same for the same pair."""
    sh = SHAPES[shape] if isinstance(shape, str) else shape
    rng = _rng(sh, seed)
    n = int(round(sh.people * rng.uniform(0.9, 1.1)))
    cols = _draw_people(sh, rng, n)
    hh = _households(sh, rng, cols) if sh.households else None
    geo_name, places = sh.geography
    names = {geo_name: [p[0] for p in places], **{f: [v[0] for v in spec] for f, spec in sh.features}}
    order = [sh.features[0][0], sh.features[1][0], geo_name] + [f for f, _ in sh.features[2:]]
    width = len(str(n - 1))
    hwidth = len(str(int(hh.max()))) if hh is not None else 0
    people = [Person(f"{sh.key}{i:0{width}d}", {f: names[f][int(cols[f][i])] for f in order},
                     f"h{int(hh[i]):0{hwidth}d}" if hh is not None else None) for i in range(n)]
    quotas = census_quotas(sh, sh.seats)
    quotas.sort(key=lambda q: order.index(q.feature))
    if sh.at_quota:
        people, quotas = _trim_to_quota(rng, people, quotas, sh.at_quota)
    name = f"shape_{sh.key}_{sh.name}_seed{seed}"
    inst = Instance(people=people, quotas=quotas, panel_size=sh.seats, name=name, one_per_household=sh.households)
    for _ in range(10):
        inst = _feasible(inst)
        if not sh.at_quota:
            return inst
        # the relaxation may have lowered an at-quota group's minimum: trim that group again
        if all(_count(inst, f, v) == inst.quota(f, v).min for f, v in sh.at_quota):  # type: ignore[union-attr]
            return inst
        people, quotas = _trim_to_quota(rng, inst.people, inst.quotas, sh.at_quota)
        inst = Instance(people=people, quotas=quotas, panel_size=sh.seats, name=name,
                        one_per_household=sh.households)
    raise RuntimeError(f"could not put the groups of {name} at their quota")


def _count(inst: Instance, feature: str, value: str) -> int:
    return sum(1 for p in inst.people if p.features.get(feature) == value)


def shape_summary(inst: Instance) -> dict:
    """People, seats, features, types, groups whose pool count equals their quota minimum (> 0),
    people who share a household with another person in the pool."""
    from lib.sortition.typespace import build_types

    ts = build_types(inst)
    counts = inst.counts(inst.ids)
    at_quota = sorted(f"{f} = {v}" for (f, v), c in counts.items() if c > 0 and c == inst.quota(f, v).min)
    per_household: dict[str, int] = {}
    for p in inst.people:
        if p.household:
            per_household[p.household] = per_household.get(p.household, 0) + 1
    shared = sum(c for c in per_household.values() if c > 1)
    return {"people": len(inst.people), "seats": inst.panel_size, "features": len(inst.features()), "types": ts.T,
            "singleton_types": int((ts.sizes == 1).sum()), "at_quota": at_quota, "sharing_household": shared}


def write_instance(inst: Instance, directory) -> "Path":
    """``inst`` in the shared benchmark format (people.csv with a household column when the
    household rule is on, categories.csv, instance.json), e.g. for ``python -m lib.sortition draw``."""
    import csv
    import json
    from pathlib import Path

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    features = inst.features()
    with open(d / "people.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", *features] + (["household"] if inst.one_per_household else []))
        for p in inst.people:
            w.writerow([p.id, *[p.features.get(x, "") for x in features]]
                       + ([p.household or ""] if inst.one_per_household else []))
    with open(d / "categories.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["feature", "value", "min", "max"])
        for q in inst.quotas:
            w.writerow([q.feature, q.value, q.min, q.max])
    (d / "instance.json").write_text(json.dumps({"name": inst.name, "panel_size": inst.panel_size,
                                                 "one_per_household": inst.one_per_household,
                                                 "source": "generated by bench/shapes.py"}) + "\n", encoding="utf-8")
    return d


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.shapes [--shapes a,b] [--seeds 0,1] [--write DIR]``: print each pool's
    summary; with ``--write``, also write it to DIR/<name>/ in the shared benchmark format."""
    import argparse
    import time

    ap = argparse.ArgumentParser(description="Pools shaped like real assemblies (bench/shapes.py).")
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--write", default=None, help="folder to write the instances to")
    args = ap.parse_args(argv)
    for key in [k.strip() for k in args.shapes.split(",") if k.strip()]:
        for seed in [int(x) for x in args.seeds.split(",") if x.strip()]:
            t0 = time.perf_counter()
            inst = generate(key, seed)
            line = f"{inst.name}: {time.perf_counter() - t0:.1f} s, {shape_summary(inst)}"
            if args.write:
                from pathlib import Path

                line += f" -> {write_instance(inst, Path(args.write) / inst.name)}"
            print(line, flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover - manual use
    raise SystemExit(main())
