"""Replacement rounds (``prepare_replacement``): they continue the revealed draw. The reserve pool is
everybody never selected and not excluded, the quotas are the original ones minus the members who stay
(``lib.sortition.audit.ceremony.replacement_instance``), and the round goes through the same commit →
public number → reveal steps (publish.py); its bundle contains the previous one, so verifying the last
round verifies the chain."""

from __future__ import annotations

import hashlib
from typing import Iterable, Sequence

from lib.draws.compute import Progress, lottery_options_hash, prepare_lottery, record_columns
from lib.draws.feasibility import feasibility_labels
from lib.draws.records import (
    DEFAULT_M,
    DrawError,
    DrawRecord,
    chain_tip,
    first_public_draw,
    frozen_lottery,
    insert_draw,
    plain_sentence,
    replacement_rounds,
    revealed_draw,
    stored_draw,
    select_draws,
)
from lib.sortition.audit.ceremony import ReplacementContext, canonical_json
from lib.sortition.audit.model import InputError
from lib.store.db import Database
from lib.plaintext import count


def excluded_by_default(db: Database, pool_ids: Iterable[str]) -> list[str]:
    """People of the original pool who are no longer eligible sign-ups (left the sheet, or blocked)."""
    ids = list(pool_ids)
    if not ids:
        return []
    still = {
        r[0]
        for r in db.query(
            "SELECT person_id FROM people WHERE eligible AND removed_sync IS NULL AND list_contains(?, person_id)",
            [ids],
        )
    }
    return sorted(set(ids) - still)


def _replacement_problem(db: Database, dropout_ids: Sequence[str], excluded: Sequence[str] | None):
    from lib.sortition.audit.ceremony import replacement_instance

    root = revealed_draw(db)
    if root is None:
        raise DrawError("There is no revealed draw yet, so there is nobody to replace.")
    tip = chain_tip(db)
    assert tip is not None
    dropouts = sorted({str(d) for d in dropout_ids})
    if not dropouts:
        raise DrawError("Choose at least one panel member who dropped out.")
    root_fl = frozen_lottery(db, root.draw_id)
    pool = root_fl.instance
    ever: set[str] = set(root.selected_ids)
    for r in replacement_rounds(db, root.draw_id):
        if r.is_revealed:
            ever |= set(r.selected_ids)
    panel = set(tip.panel_after)
    if excluded is None:
        excluded = [p for p in excluded_by_default(db, pool.ids) if p not in panel]
    excl = sorted({str(e) for e in excluded} - panel)
    try:
        inst, kept = replacement_instance(pool, list(pool.quotas), tip.panel_after, dropouts, excl, ever)
    except InputError as e:
        raise DrawError(plain_sentence(str(e))) from None
    if len(inst.people) < len(dropouts):
        raise DrawError(
            f"{count(len(dropouts), 'seat')} to refill, but only {count(len(inst.people), 'person', 'people')} "
            f"{'is' if len(inst.people) == 1 else 'are'} left in the reserve pool."
        )
    assert root.commitment and tip.commitment  # both were revealed, so both were committed
    ctx = ReplacementContext(tip.round + 1, root.commitment, tip.commitment, tuple(dropouts), tuple(excl))
    return root, tip, inst, kept, ctx, dropouts, excl


def check_replacement(db: Database, dropout_ids: Sequence[str], excluded: Sequence[str] | None = None):
    """Feasibility report of the replacement round for these dropouts (before computing it)."""
    from lib.sortition.feasibility import check_feasibility

    _root, _tip, inst, _kept, _ctx, _d, _e = _replacement_problem(db, dropout_ids, excluded)
    return check_feasibility(inst, labels=feasibility_labels(db))


def prepare_replacement(
    db: Database,
    dropout_ids: Sequence[str],
    actor: str | None,
    *,
    excluded: Sequence[str] | None = None,
    M: int = DEFAULT_M,
    time_limit: float | None = None,
    relax: bool = True,
    progress: Progress | None = None,
    note: str | None = None,
) -> DrawRecord:
    """Compute a replacement round for ``dropout_ids`` (status ``computed``); then commit and reveal it.

    The reserve pool is everybody in the original pool never selected and not ``excluded``
    (default: people who are no longer eligible sign-ups). When the reserve cannot meet the
    adjusted quotas, the smallest relaxation is applied (``relax``) and recorded.
    """
    from lib.sortition.feasibility import InfeasibleQuotas, check_feasibility

    progress = progress or (lambda f, m: None)
    root, tip, inst, _kept, ctx, dropouts, excl = _replacement_problem(db, dropout_ids, excluded)
    ihash = hashlib.sha256(canonical_json([tip.commitment, dropouts, excl]).encode()).hexdigest()
    ohash = lottery_options_hash(ihash, [], M, "relax" if relax else "strict")
    same = select_draws(
        db,
        "WHERE kind = 'replacement' AND status = 'computed' AND options_hash = ? AND parent_id = ?",
        [ohash, tip.draw_id],
        order="draw_id DESC LIMIT 1",
    )
    if same:
        return same[0]
    progress(0.02, "Checking that the quotas can be met")
    report = check_feasibility(inst, labels=feasibility_labels(db))
    changes: list = []
    work = inst
    if not report.feasible:
        if not relax or not report.relaxable or not report.relaxation:
            raise DrawError("The reserve pool cannot refill these seats within the quotas: " + report.message())
        changes = list(report.relaxation)
        work = report.relaxed_instance()
    try:
        cols = prepare_lottery(
            work,
            relaxation=changes,
            M=M,
            time_limit=time_limit,
            legacy_seconds=0,
            context=ctx,
            progress=progress,
            pseudonymise=False,
            secret=frozen_lottery(db, root.draw_id).secret,
        )
    except InfeasibleQuotas as e:  # pragma: no cover - checked above
        raise DrawError(str(e)) from None
    draw_id = insert_draw(
        db,
        record_columns(
            cols,
            kind="replacement",
            actor=actor,
            target_version=root.target_version,
            panel_size=len(dropouts),
            ihash=ihash,
            ohash=ohash,
            quotas=inst.quotas,
            changes=changes,
            diagnosis=list(report.diagnosis),
            rerun_of=first_public_draw(db, "replacement", ihash),
            note=note,
            replaces=dropouts,
            excluded=excl,
            round=ctx.round,
            parent_id=tip.draw_id,
            root_id=root.draw_id,
        ),
    )
    progress(1.0, "Done")
    return stored_draw(db, draw_id)
