"""Bringing sign-ups in from the Sign-ups page: read the source, check the column choices, sync.
Every way that can end is one ``Outcome`` the page shows: messages to flash, a sync held for the
organiser's confirmation, or a sheet waiting for its columns to be chosen. Nothing here draws.

Only one sync runs at a time (lib/recruitment/signups/slot.py): a running one is waited for a
little (``live.MANUAL_WAIT_SECONDS``), then the organiser is told plainly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from lib.errors import UserError
from lib.plaintext import md
from lib.recruitment.categories import load_fields
from lib.recruitment.signups.grid import Grid
from lib.recruitment.signups.live import MANUAL_WAIT_SECONDS
from lib.recruitment.signups.mapping import Mapping, check_mapping, load_mapping
from lib.recruitment.signups.slot import SyncBusy, sync_slot
from lib.recruitment.signups.sync import (
    ConfirmationNeeded,
    record_failed_sync,
    record_unexpected_failure,
    sync_grid,
)
from lib.store.db import Database

UNCHANGED = " Your sign-ups from before are unchanged."
CHOOSE_COLUMNS = "Please check which column holds what (below), then press “Save and bring in”."
KEPT = "Nothing was changed: the sign-ups are as they were."
DECLINED = "Not brought in: the organiser chose to keep the sign-ups as they were."


@dataclass
class Outcome:
    notices: list[tuple[str, str]] = field(default_factory=list)  # (kind, Markdown): "success", "warning", "error"
    held: dict[str, Any] | None = None  # a sync that waits for the organiser's yes or no
    pending: tuple | None = None  # (grid, kind, label, source): the sheet waits for its column choices

    def say(self, kind: str, text: str) -> Outcome:
        self.notices.append((kind, text))
        return self


def sync_with(
    db: Database,
    grid: Grid,
    mapping: Mapping,
    *,
    kind: str,
    label: str,
    actor: str | None,
    confirmed=None,
    source: dict | None = None,
) -> Outcome:
    """Sync with these column choices; a sync that needs the organiser's confirmation is held."""
    try:
        result = sync_grid(
            db,
            grid,
            mapping,
            source_kind=kind,
            source_label=label,
            actor=actor,
            confirmed=confirmed,
            source=source,
            wait=MANUAL_WAIT_SECONDS,
        )
    except ConfirmationNeeded as e:
        held = {"grid": grid, "mapping": mapping.to_json(), "kind": kind, "label": label, "counts": e.counts}
        return Outcome(held=held | {"message": str(e), "reason": e.reason, "source": source})
    except SyncBusy as e:
        return Outcome().say("error", md(e))
    except UserError as e:
        return Outcome().say("error", f"{md(e)}{UNCHANGED}")
    return Outcome().say("success", f"Done: {md(result.summary())}")


def sync_or_ask_columns(
    db: Database, grid: Grid, *, kind: str, label: str, actor: str | None, source: dict | None = None
) -> Outcome:
    """Sync a fetched grid, or ask for the column choices first when the saved ones do not fit it."""
    fields = load_fields(db)
    mapping = load_mapping(db)
    if mapping is not None and not check_mapping(mapping, grid.headers, fields):
        return sync_with(db, grid, mapping, kind=kind, label=label, actor=actor, source=source)
    out = Outcome()
    chosen = [c for c in (mapping.columns.values() if mapping else []) if c]
    if mapping is not None and chosen and not any(c in grid.headers for c in chosen):
        try:  # refused (and logged) with the missing columns named; the organiser may still re-map
            sync_grid(db, grid, mapping, source_kind=kind, source_label=label, actor=actor)
        except UserError as e:
            out.say("error", md(e))
    out.pending = (grid, kind, label, source)
    return out.say("warning", CHOOSE_COLUMNS)


def fetch_and_sync(
    db: Database,
    fetch: Callable[[], Grid],
    *,
    kind: str,
    label: str,
    actor: str | None,
    source: dict | None = None,
) -> Outcome:
    """Read the source and bring it in, holding the sync slot throughout. A failure to read is logged
    (and a bug logged, then raised, for the page's own error handling)."""
    try:
        with sync_slot(db, actor or "", wait=MANUAL_WAIT_SECONDS):
            try:
                grid = fetch()
            except UserError as e:
                record_failed_sync(db, kind, label, str(e), actor=actor)
                return Outcome().say("error", f"{md(e)}{UNCHANGED}")
            except Exception as e:  # a bug: in the sync log too, then the page's own error handling
                if not getattr(e, "_kleroterion_logged", False):
                    record_unexpected_failure(db, kind, label, e, actor=actor)
                raise
            try:
                return sync_or_ask_columns(db, grid, kind=kind, label=label, actor=actor, source=source)
            except SyncBusy:
                raise
            except UserError as e:
                return Outcome().say("error", f"{md(e)}{UNCHANGED}")
    except SyncBusy as e:
        return Outcome().say("error", md(e))


def decline(db: Database, held: dict, *, actor: str | None) -> Outcome:
    """The organiser said no to a held sync: logged, nothing changed."""
    record_failed_sync(db, held["kind"], held["label"], DECLINED, actor=actor)
    return Outcome().say("info", KEPT)


def confirm(db: Database, held: dict, *, actor: str | None) -> Outcome:
    """The organiser said yes to a held sync: run it with the numbers they saw."""
    return sync_with(
        db,
        held["grid"],
        Mapping(dict(held["mapping"])),
        kind=held["kind"],
        label=held["label"],
        actor=actor,
        confirmed=held["counts"],
        source=held.get("source"),
    )
