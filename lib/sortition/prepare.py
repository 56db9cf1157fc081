"""Prepare a lottery for the public ceremony: feasibility, (relaxation), fair lottery, freeze.

``prepare_lottery(instance, algorithm=..., M=...)`` runs, in order:

1. ``check_feasibility``: can any panel meet the quotas? If not, and ``relax`` is true,
   the smallest relaxation is applied (and recorded in the commitment); otherwise
   ``InfeasibleQuotas`` is raised with the plain-language diagnosis;
2. the lottery: LEXIMIN (``leximin``) or Goldilocks (``goldilocks``: nobody too unlikely,
   nobody nearly certain) rounded to exactly M panels (``round_to_uniform``), or, for comparison, M panels of the LEGACY greedy draw,
   each driven by a SHA-256 stream (``ceremony.HashStream``) seeded with a
   fingerprint of the public pool and quotas and the panel number;
3. ``freeze``: the commitment to publish before the public number exists.

The result's ``frozen.draw(public_number)`` then chooses the panel. This module needs
HiGHS (through the optimiser); the ceremony, the bundle and the verifier do not.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from lib.sortition.audit.ceremony import (
    FrozenLottery,
    HashStream,
    ReplacementContext,
    canonical_json,
    freeze,
    public_pool,
)
from lib.sortition.audit.model import InputError, Instance

ALGORITHMS = ("leximin", "goldilocks", "legacy")
DEFAULT_M = 1000


@dataclass
class PreparedLottery:
    frozen: FrozenLottery
    instance: Instance  # the public pool with the quotas the lottery was built for
    feasible: bool  # whether the quotas as given could be met
    diagnosis: list[str]  # why not, in plain words (empty when feasible)
    relaxation: list  # feasibility.QuotaChange list applied (empty when none)
    probabilities: dict[str, float]  # chance each person was aimed at (exact LEXIMIN; legacy: = lottery)
    lottery_probabilities: dict[str, float]  # appearances / M: the chance in the committed lottery
    algorithm: str
    seconds: float
    rounding_loss: float = 0.0
    loss_lower_bound: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def commitment(self) -> str:
        return self.frozen.commitment

    @property
    def M(self) -> int:
        return self.frozen.M

    def draw(self, public_number: str):
        return self.frozen.draw(public_number)

    def stats(self) -> dict:
        """Plain numbers for reports (``report.json``, the app)."""
        from lib.sortition.metrics import gini

        probs = self.probabilities
        lot = self.lottery_probabilities
        out = {
            "algorithm": self.algorithm,
            "feasible": self.feasible,
            "relaxed": bool(self.relaxation),
            "pool_size": len(self.instance.people),
            "panel_size": self.instance.panel_size,
            "min_probability": min(probs.values()) if probs else 0.0,
            "gini": gini(probs),
            "seconds": round(self.seconds, 3),
            "lottery": {
                "panels": self.M,
                "min_probability": min(lot.values()) if lot else 0.0,
                "gini": gini(lot),
                "rounding_loss": self.rounding_loss,
                "loss_lower_bound": self.loss_lower_bound,
            },
            "commitment": self.commitment,
        }
        if not self.feasible:
            out["diagnosis"] = list(self.diagnosis)
            out["relaxation"] = [c.as_dict() for c in self.relaxation]
        out.update(self.extra)
        return out


def pool_fingerprint(instance: Instance) -> str:
    """SHA-256 of the quota and person lines of the canonical text (see ``ceremony``)."""
    pub = public_pool(instance, pseudonymise_households=False)
    h = hashlib.sha256()
    for q in pub.quotas:
        h.update((canonical_json(["quota", q.feature, q.value, q.min, q.max]) + "\n").encode("utf-8"))
    for p in pub.people:
        feats = [[f, p.features[f]] for f in sorted(p.features)]
        h.update((canonical_json(["person", p.id, p.household or "", feats]) + "\n").encode("utf-8"))
    h.update(str(pub.panel_size).encode("ascii"))
    return h.hexdigest()


def legacy_panels(instance: Instance, M: int) -> list[tuple[str, ...]]:
    """M panels of the greedy draw; panel i uses ``HashStream("kleroterion-legacy-v1 <fingerprint> <i>")``."""
    from lib.sortition.legacy import _Prepared, legacy_draw

    prep = _Prepared(instance)
    fp = pool_fingerprint(instance)
    return [legacy_draw(instance, HashStream(f"kleroterion-legacy-v1 {fp} {i}"), _prepared=prep) for i in range(M)]


def prepare_lottery(
    instance: Instance,
    *,
    algorithm: str = "leximin",
    M: int = DEFAULT_M,
    created: str = "",
    relax: bool = True,
    time_limit: float | None = None,
    context: ReplacementContext | None = None,
    pseudonymise_households: bool = True,
    progress=None,
) -> PreparedLottery:
    """Steps 1-2 of the ceremony (see module doc). Raises ``InfeasibleQuotas`` or ``InputError``."""
    from lib.sortition.feasibility import InfeasibleQuotas, apply_relaxation, check_feasibility

    if algorithm not in ALGORITHMS:
        raise InputError(f"unknown algorithm {algorithm!r}: use leximin, goldilocks or legacy")
    if not isinstance(M, int) or M < 1:
        raise InputError(f"the number of panels must be a whole number of at least 1, not {M!r}")
    t0 = time.perf_counter()
    pub = public_pool(instance, pseudonymise_households=pseudonymise_households)
    report = check_feasibility(pub)
    relaxation: list = []
    work = pub
    if not report.feasible:
        if not relax or not report.relaxable or not report.relaxation:
            raise InfeasibleQuotas(report)
        relaxation = list(report.relaxation)
        work = apply_relaxation(pub, relaxation)
    extra: dict = {}
    if algorithm in ("leximin", "goldilocks"):
        from lib.sortition.goldilocks import GoldilocksDistribution, goldilocks
        from lib.sortition.leximin import leximin
        from lib.sortition.rounding import round_to_uniform
        from lib.sortition.worker import lottery_in_worker

        if time_limit is None:
            dist = (leximin if algorithm == "leximin" else goldilocks)(work, progress=progress)
        else:  # with a limit, in a worker process that is stopped at the limit even if the solver hangs
            dist = lottery_in_worker(work, objective=algorithm, time_limit=time_limit, progress=progress)
        lot = round_to_uniform(work, dist, M)
        panels = lot.panels
        probs = dict(dist.probabilities)
        lottery_probs = dict(lot.probabilities)
        loss, lower = lot.rounding_loss, lot.loss_lower_bound
        extra["leximin"] = {
            "upper_bound": dist.upper_bound,
            "gap": dist.gap,
            "complete": dist.complete,
            "method": dist.method,
            "seconds": round(dist.seconds, 3),
        }
        if algorithm == "goldilocks":
            # goldilocks() returns a GoldilocksDistribution, and so does its worker (answer and snapshots)
            assert isinstance(dist, GoldilocksDistribution)
            extra["leximin"]["gap"] = 0.0  # Goldilocks lowers the minimum on purpose: no "gap" to report
            extra["goldilocks"] = {
                "gamma": dist.gamma,
                "objective": dist.objective,
                "objective_bound": dist.objective_bound,
                "max_probability": dist.max_probability,
                "fair_share": dist.fair_share,
            }
    else:
        panels = legacy_panels(work, M)
        counts = dict.fromkeys(work.ids, 0)
        for p in panels:
            for pid in p:
                counts[pid] += 1
        lottery_probs = {pid: c / M for pid, c in counts.items()}
        probs = dict(lottery_probs)
        loss = lower = 0.0
    frozen = freeze(
        work,
        panels,
        algorithm=algorithm,
        created=created,
        targets=probs if algorithm != "legacy" else None,
        relaxation=relaxation,
        context=context,
        pseudonymise_households=False,
    )
    return PreparedLottery(
        frozen=frozen,
        instance=work,
        feasible=report.feasible,
        diagnosis=list(report.diagnosis),
        relaxation=relaxation,
        probabilities=probs,
        lottery_probabilities=lottery_probs,
        algorithm=algorithm,
        seconds=time.perf_counter() - t0,
        rounding_loss=loss,
        loss_lower_bound=lower,
        extra=extra,
    )
