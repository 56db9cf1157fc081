"""Replacements: refill the seats of members who dropped out, through the same public ceremony.

A replacement round starts from the audit bundle of the draw it continues (the original
draw, or the previous replacement round) and a batch of dropouts:

1. the previous bundle is verified (``verify.verify_bundle``); its pool, its quotas and
   its current panel are the starting point;
2. the reserve pool is everybody in the original pool who was never selected and is not
   excluded (and, with one person per household, not in the household of a member who
   stays); the quotas are the original ones minus what the members who stay already
   fill (``ceremony.replacement_instance``); the panel size is the number of dropouts;
3. a fair lottery over that reserve pool is prepared exactly as for a draw (LEXIMIN
   rounded to M panels by default; the members who stay are fixed), with the smallest
   quota relaxation when the reserve cannot meet the adjusted quotas; it is frozen with
   the round number, the original and the previous commitment, the dropouts and the
   excluded people (``ReplacementContext``), and its commitment is published;
4. a public random number chooses the newcomers; the bundle of the round holds the
   previous bundle byte for byte (``previous.zip``), so verifying the last round
   verifies the whole chain back to the original draw.

The functions here need the optimiser (HiGHS); verifying a replacement bundle does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lib.sortition.audit.bundle import bundle_bytes
from lib.sortition.audit.ceremony import Draw, ReplacementContext, match_replacements, replacement_instance
from lib.sortition.audit.model import InputError, Instance
from lib.sortition.prepare import DEFAULT_M, PreparedLottery, prepare_lottery
from lib.sortition.audit.verify import verify_bundle
from lib.plaintext import count


@dataclass
class PreparedReplacement:
    prepared: PreparedLottery
    previous_bundle: bytes
    kept: list[str]  # members who stay
    dropouts: list[str]
    pool: Instance  # the original public pool (everybody, for the matching)
    round: int

    @property
    def commitment(self) -> str:
        return self.prepared.commitment

    @property
    def frozen(self):
        return self.prepared.frozen

    def draw(self, public_number: str) -> "ReplacementDraw":
        return ReplacementDraw(self, self.prepared.frozen.draw(public_number))


@dataclass
class ReplacementDraw:
    prepared: PreparedReplacement
    draw: Draw

    @property
    def newcomers(self) -> tuple[str, ...]:
        return self.draw.panel

    @property
    def panel(self) -> list[str]:
        """The whole panel after this round: the members who stay plus the newcomers, sorted."""
        return sorted(set(self.prepared.kept) | set(self.draw.panel))

    @property
    def replacements(self) -> list[tuple[str, str, int]]:
        """``(new_id, replaces, shared_features)``: which newcomer takes which seat (most similar)."""
        return match_replacements(self.prepared.pool, self.prepared.dropouts, self.draw.panel)

    def bundle_bytes(self) -> bytes:
        return bundle_bytes(self.draw, previous=self.prepared.previous_bundle, replacements=self.replacements)

    def write_bundle(self, path: str | Path) -> str:
        from lib.sortition.audit.ceremony import sha256_hex

        data = self.bundle_bytes()
        Path(path).write_bytes(data)
        return sha256_hex(data)


def prepare_replacement(
    previous_bundle: bytes,
    dropouts,
    *,
    excluded=(),
    algorithm: str = "leximin",
    M: int = DEFAULT_M,
    created: str = "",
    relax: bool = True,
    time_limit: float | None = None,
) -> PreparedReplacement:
    """Steps 1-3 of a replacement round (see module doc); publish ``.commitment``, then ``.draw(number)``.

    Raises ``InputError`` (plain message) when the previous bundle does not verify, a
    dropout is not on the current panel, or no quota change can make the refill possible
    (``InfeasibleQuotas``, e.g. fewer people in reserve than seats to fill).
    """
    previous_bundle = bytes(previous_bundle)
    check = verify_bundle(previous_bundle, name="the previous bundle")
    if not check.ok:
        raise InputError(
            "the bundle of the previous draw does not verify, so it cannot be continued: "
            + "; ".join(check.problems[:3])
        )
    info = check.info
    dropouts = sorted({str(d) for d in dropouts})
    excluded = sorted({str(e) for e in excluded})
    sub, kept = replacement_instance(
        info["pool"], info["quotas"], info["final_panel"], dropouts, excluded, info["ever"]
    )
    if len(sub.people) < len(dropouts):
        raise InputError(
            f"{count(len(dropouts), 'seat')} to refill but only {count(len(sub.people), 'person', 'people')} left in reserve"
        )
    ctx = ReplacementContext(info["round"] + 1, info["root"], info["commitment"], tuple(dropouts), tuple(excluded))
    prepared = prepare_lottery(
        sub,
        algorithm=algorithm,
        M=M,
        created=created,
        relax=relax,
        time_limit=time_limit,
        context=ctx,
        pseudonymise_households=False,
    )
    return PreparedReplacement(prepared, previous_bundle, kept, dropouts, info["pool"], ctx.round)


__all__ = ["PreparedReplacement", "ReplacementDraw", "prepare_replacement"]
