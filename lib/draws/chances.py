"""A draw's chances in plain words and tables: each person's chance, the comparison with the greedy
draw, and how many of the panel fall in each quota (pure; for the Draw page and the reports)."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from lib.draws.records import DrawRecord, frozen_lottery
from lib.sortition.audit.ceremony import FrozenLottery
from lib.store.db import Database


ALMOST_NO_CHANCE = 0.001
"""A chance below 1 in 1,000 counts as "almost no chance" in the comparison with the greedy draw."""


def chance_text(p: float | None) -> str:
    """A probability in plain words: '1 in 20 (5.0%)'."""
    if p is None:
        return "unknown"
    if p <= 0:
        return "no chance at all (0%)"
    n = 1 / p
    return f"about 1 in {n:,.0f} ({p * 100:.1f}%)" if n >= 2 else f"{p * 100:.0f}%"


def fairness_summary(rec: DrawRecord) -> dict[str, float | int | None]:
    """Numbers for the comparison with the greedy draw."""
    fair = rec.probabilities or {}
    legacy = rec.legacy_probabilities
    legacy_draws = rec.legacy_draws or 0
    out: dict[str, float | int | None] = {
        "people": len(fair),
        "fair_min": min(fair.values()) if fair else None,
        "fair_almost_none": sum(1 for p in fair.values() if p < ALMOST_NO_CHANCE),
        "legacy_min": None,
        "legacy_almost_none": None,
    }
    out["fair_none"] = sum(1 for p in fair.values() if p <= 0)
    out["legacy_draws"] = legacy_draws
    out["legacy_never"] = None
    if legacy:
        out["legacy_min"] = min(legacy.values())
        out["legacy_never"] = sum(1 for p in legacy.values() if p <= 0)
        # "Below 1 in 1,000" can only be told apart from "never picked" with enough trial draws.
        if legacy_draws >= 1 / ALMOST_NO_CHANCE:
            out["legacy_almost_none"] = sum(1 for p in legacy.values() if p < ALMOST_NO_CHANCE)
    return out


def chance_frame(rec: DrawRecord) -> pd.DataFrame:
    """One row per person and method: rank (1 = smallest chance), chance. For the 'who gets a chance' curve."""
    rows = []
    for method, probs in (("Fair lottery", rec.probabilities), ("Greedy draw (estimate)", rec.legacy_probabilities)):
        if not probs:
            continue
        for rank, p in enumerate(sorted(probs.values()), start=1):
            rows.append((method, rank, p))
    return pd.DataFrame(rows, columns=["method", "rank", "chance"])


def group_counts(
    rec: DrawRecord,
    ids: Sequence[str] | None = None,
    *,
    lottery: FrozenLottery | None = None,
    db: Database | None = None,
) -> pd.DataFrame:
    """Per quota: how many of ``ids`` (default: the panel after this draw) have the value, and the quota."""
    if lottery is None:
        if db is None:
            raise ValueError("give the lottery or the database")
        lottery = frozen_lottery(db, rec.root_id if rec.kind == "replacement" and rec.root_id else rec.draw_id)
    by = {p.id: p for p in lottery.instance.people}
    ids = list(rec.panel_after if ids is None else ids)
    rows = []
    for q in sorted(lottery.instance.quotas, key=lambda q: (q.feature, q.value)):
        n = sum(1 for i in ids if i in by and by[i].features.get(q.feature, "") == q.value)
        rows.append((q.feature, q.value, n, q.min, q.max, "yes" if q.min <= n <= q.max else "no"))
    return pd.DataFrame(rows, columns=["field", "value", "selected", "min", "max", "within quota"])
