"""Can the frozen quotas be met, and the quota changes the organiser accepts when they cannot
(``lib.sortition.feasibility`` on the draw's inputs, with the questions' own labels)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from lib.draws.records import DrawError, FrozenInputs, draw_instance, frozen_inputs, stale_questions
from lib.sortition.audit.model import Instance
from lib.store.db import Database

if TYPE_CHECKING:  # the optimiser's module (HiGHS, numpy) is loaded only when a draw is checked or run
    from lib.sortition.feasibility import FeasibilityReport, Labels, QuotaChange


def check_inputs(db: Database, inputs: FrozenInputs | None = None) -> FeasibilityReport:
    """Feasibility report (``lib.sortition.feasibility.FeasibilityReport``) for the frozen inputs."""
    from lib.sortition.feasibility import check_feasibility

    inputs = inputs or frozen_inputs(db)
    if inputs is None:
        raise DrawError("Freeze the targets first (step 1).")
    stale = stale_questions(db, inputs)
    if stale:
        raise DrawError(stale)
    return check_feasibility(draw_instance(db, inputs), labels=feasibility_labels(db))


def feasibility_labels(db: Database) -> Labels:
    """The questions' and answers' labels as the organisers set them up, for infeasibility messages."""
    from lib.recruitment.categories import load_fields
    from lib.sortition.feasibility import Labels

    return Labels.of_fields(load_fields(db))


def quota_changes(relaxation: Iterable) -> list[QuotaChange]:
    """``QuotaChange`` objects from dicts or QuotaChange-like objects (e.g. edited by the organiser)."""
    from lib.sortition.feasibility import QuotaChange

    out = []
    for c in relaxation or []:

        def get(key: str, c: Any = c) -> Any:
            return c.get(key) if isinstance(c, dict) else getattr(c, key)

        out.append(
            QuotaChange(
                str(get("feature")),
                str(get("value")),
                int(get("old_min")),
                int(get("old_max")),
                int(get("new_min")),
                int(get("new_max")),
            )
        )
    return out


def apply_quota_changes(instance: Instance, changes: list[QuotaChange]) -> tuple[Instance, list[QuotaChange]]:
    """The instance with the organiser's quota changes applied, and the changes that change something;
    a change made for other quotas than today's, or out of bounds, is refused in plain words."""
    from lib.sortition.feasibility import apply_relaxation

    by_key = {(q.feature, q.value): q for q in instance.quotas}
    cleaned = []
    for c in changes:
        q = by_key.get((c.feature, c.value))
        if q is None:
            raise DrawError(f"The change to {c.feature} = {c.value} does not match any quota.")
        if (c.old_min, c.old_max) != (q.min, q.max):
            raise DrawError(
                f"The change to {c.feature} = {c.value} was made for the quota [{c.old_min}, "
                f"{c.old_max}], but the quota is now [{q.min}, {q.max}]. Check the quotas again."
            )
        if c.new_min < 0 or c.new_max < c.new_min:
            raise DrawError(
                f"{c.feature} = {c.value}: the new minimum ({c.new_min}) must be at least 0 and not "
                f"more than the new maximum ({c.new_max})."
            )
        if c.new_max > instance.panel_size:
            raise DrawError(
                f"{c.feature} = {c.value}: the new maximum ({c.new_max}) is larger than the panel "
                f"({instance.panel_size})."
            )
        if (c.new_min, c.new_max) != (c.old_min, c.old_max):
            cleaned.append(c)
    return apply_relaxation(instance, cleaned), cleaned
