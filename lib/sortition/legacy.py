"""LEGACY: the practitioners' greedy quota-filling draw, for comparison only.

This is the algorithm the Sortition Foundation used before LEXIMIN, as described in the
Methods of Flanigan et al. (Nature 2021): seat people one at a time; at each step take
the feature value whose unmet minimum is largest relative to the people still
available with that value (ratio ``(min - selected) / remaining``, first value wins
ties), seat a uniformly random available person with that value, drop the rest of
their household when one person per household is allowed, and drop everybody with a
value whose maximum is now reached. If a minimum can no longer be met, or the pool runs
dry, the attempt is a dead end and the draw restarts from scratch.

It uses a library RNG (``random.Random``): it exists to measure how unequal the old
method's selection probabilities are, never for a public draw.
"""

from __future__ import annotations

import random
from typing import Protocol

from lib.sortition.audit.model import Instance, InputError, Panel


class RandomSource(Protocol):
    """What the greedy draw asks of its random source: ``random.Random``, or ``ceremony.HashStream`` (the
    SHA-256 stream that makes a legacy lottery's panels a function of public text)."""

    def randrange(self, n: int, /) -> int: ...


class LegacyFailed(InputError):
    """The greedy draw hit a dead end on every attempt."""


class _Bag:
    """A set with O(1) removal and uniform random choice."""

    __slots__ = ("items", "pos")

    def __init__(self) -> None:
        self.items: list[int] = []
        self.pos: dict[int, int] = {}

    def add(self, x: int) -> None:
        self.pos[x] = len(self.items)
        self.items.append(x)

    def remove(self, x: int) -> None:
        i = self.pos.pop(x)
        last = self.items.pop()
        if last != x:
            self.items[i] = last
            self.pos[last] = i

    def __len__(self) -> int:
        return len(self.items)


class _Prepared:
    def __init__(self, instance: Instance):
        self.instance = instance
        self.quotas = list(instance.quotas)
        qindex = {(q.feature, q.value): i for i, q in enumerate(self.quotas)}
        feats = instance.features()
        self.person_quotas: list[list[int]] = []
        for p in instance.people:
            self.person_quotas.append(
                [qindex[(f, p.features.get(f, ""))] for f in feats if (f, p.features.get(f, "")) in qindex]
            )
        self.household_of: list[list[int]] = [[] for _ in instance.people]
        if instance.one_per_household:
            groups: dict[str, list[int]] = {}
            for i, p in enumerate(instance.people):
                if p.household:
                    groups.setdefault(p.household, []).append(i)
            for g in groups.values():
                for i in g:
                    self.household_of[i] = [j for j in g if j != i]

    def attempt(self, rng: RandomSource) -> list[int] | None:
        inst = self.instance
        Q = len(self.quotas)
        mins = [q.min for q in self.quotas]
        maxs = [q.max for q in self.quotas]
        selected = [0] * Q
        bags = [_Bag() for _ in range(Q)]
        alive = _Bag()
        for i in range(len(inst.people)):
            alive.add(i)
            for qi in self.person_quotas[i]:
                bags[qi].add(i)

        def drop(i: int) -> bool:
            """Remove person i from the pool; False when that makes a minimum impossible."""
            alive.remove(i)
            ok = True
            for qi in self.person_quotas[i]:
                bags[qi].remove(i)
                if selected[qi] < mins[qi] and len(bags[qi]) < mins[qi] - selected[qi]:
                    ok = False
            return ok

        chosen: list[int] = []
        k = inst.panel_size
        while len(chosen) < k:
            best = _neediest_quota(bags, selected, mins, maxs)
            if best is None:
                return None
            if best >= 0:
                bag = bags[best].items
                person = bag[rng.randrange(len(bag))]
            elif len(alive):  # only people whose values carry no quota remain
                person = alive.items[rng.randrange(len(alive))]
            else:
                return None
            chosen.append(person)
            if not self._take(person, drop, alive, bags, selected, maxs):
                return None
            if len(chosen) < k and not len(alive):
                return None
        return chosen

    def _take(self, person: int, drop, alive: _Bag, bags: list[_Bag], selected: list[int], maxs: list[int]) -> bool:
        """Seat ``person``: out of the pool go they, their household, and everybody left in a quota now full.
        False when that makes a minimum impossible."""
        ok = drop(person)
        for qi in self.person_quotas[person]:
            selected[qi] += 1
        for j in self.household_of[person]:
            if j in alive.pos:
                ok = drop(j) and ok
        for qi in self.person_quotas[person]:
            if selected[qi] >= maxs[qi]:
                for j in list(bags[qi].items):
                    ok = drop(j) and ok
        return ok


def _neediest_quota(bags: list[_Bag], selected: list[int], mins: list[int], maxs: list[int]) -> int | None:
    """The quota whose unmet minimum is largest for the people left in it (-1: none left to fill); None when
    a minimum can no longer be met."""
    best, best_ratio = -1, -2.0
    for qi in range(len(bags)):
        rem = len(bags[qi])
        if selected[qi] < mins[qi] and rem < mins[qi] - selected[qi]:
            return None
        if rem and maxs[qi] > 0:
            r = (mins[qi] - selected[qi]) / rem
            if r > best_ratio:
                best, best_ratio = qi, r
    return best


def legacy_draw(
    instance: Instance, rng: RandomSource, *, max_attempts: int = 10_000, _prepared: _Prepared | None = None
) -> Panel:
    """One panel drawn by the greedy quota-filling algorithm (restarting on dead ends)."""
    prep = _prepared or _Prepared(instance)
    ids = instance.ids
    for _ in range(max_attempts):
        chosen = prep.attempt(rng)
        if chosen is None:
            continue
        panel = tuple(sorted(ids[i] for i in chosen))
        if instance.is_valid_panel(panel):
            return panel
    raise LegacyFailed(
        f"The greedy draw found no valid panel in {max_attempts} attempts; "
        f"check the quotas with the feasibility report."
    )


def legacy_probabilities(instance: Instance, draws: int = 2000, seed: int = 0) -> dict[str, float]:
    """Each person's selection probability under LEGACY, estimated from ``draws`` draws."""
    rng = random.Random(seed)
    prep = _Prepared(instance)
    counts = dict.fromkeys(instance.ids, 0)
    for _ in range(draws):
        for pid in legacy_draw(instance, rng, _prepared=prep):
            counts[pid] += 1
    return {pid: c / draws for pid, c in counts.items()}
