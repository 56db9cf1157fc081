"""Withdrawals and the quotas they break, compared with the quotas of the draw; enrolling the panel of
the revealed draw and the people chosen by replacement draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

import pandas as pd

from lib.assembly.members import REPLACED, WITHDRAWN, change_status, current_members, enrol_panel
from lib.store.db import Database

# --- quotas and withdrawals --------------------------------------------------------------------


@dataclass
class QuotaBreak:
    field: str
    field_label: str
    value: str
    value_label: str
    min: int
    max: int
    count: int

    @property
    def short(self) -> int:
        return max(0, self.min - self.count)

    @property
    def over(self) -> int:
        return max(0, self.count - self.max)

    @property
    def message(self) -> str:
        name = f"{self.field_label}: {self.value_label}"
        if self.short:
            return (
                f"{name}: {self.count} on the panel now, the quota asks for at least {self.min} ({self.short} short)."
            )
        return f"{name}: {self.count} on the panel now, the quota allows at most {self.max} ({self.over} too many)."


def _revealed_draw(db: Database):
    from lib.draws import records as draws  # draws imports this module (allowed upward call, see reveal_draw)

    try:
        return draws.revealed_draw(db)
    except Exception:  # noqa: BLE001 - the draws tables may not exist yet in an older database
        return None


def panel_quotas(db: Database) -> list:
    """The quotas the panel was drawn against (``lib.recruitment.quotas.QuotaRow``): those of the revealed
    draw's frozen target version and panel size; before a draw, the latest frozen (else latest)
    target version. Empty when there are no targets."""
    from lib.recruitment import quotas as q
    from lib.recruitment.targets import latest_version

    draw = _revealed_draw(db)
    frozen = getattr(draw, "quotas", None) if draw else None
    if frozen:  # the quotas frozen with the draw (field, value, min, max), before any relaxation
        from lib.sortition.audit.model import Quota

        return [Quota(str(f), str(v), int(lo), int(hi)) for f, v, lo, hi in frozen]
    version = getattr(draw, "target_version", None) if draw else None
    panel_size = getattr(draw, "panel_size", None) if draw else None
    if version is None:
        version = db.scalar("SELECT max(version) FROM target_versions WHERE frozen_at IS NOT NULL") or latest_version(
            db
        )
    if version is None:
        return []
    return q.quotas_for_version(db, version, panel_size=panel_size)


def quota_status(db: Database, members: Iterable[str] | None = None, quotas: list | None = None) -> pd.DataFrame:
    """Per quota: field, field_label, value, value_label, min, max, count (among ``members``,
    default the current panel), state ('ok', 'short', 'over')."""
    from lib.recruitment.categories import load_fields

    quotas = panel_quotas(db) if quotas is None else quotas
    ids = list(current_members(db) if members is None else members)
    cols = ["field", "field_label", "value", "value_label", "min", "max", "count", "state"]
    if not quotas:
        return pd.DataFrame(columns=cols)
    counts = (
        {
            (f, v): n
            for f, v, n in db.query(
                "SELECT field, value, count(*) FROM person_values WHERE list_contains(?, person_id) AND value IS NOT NULL "
                "GROUP BY field, value",
                [ids],
            )
        }
        if ids
        else {}
    )
    fields = {f.key: f for f in load_fields(db)}
    rows = []
    for qr in quotas:
        key, val = getattr(qr, "field", None) or qr.feature, qr.value
        f = fields.get(key)
        n = int(counts.get((key, val), 0))
        state = "short" if n < qr.min else "over" if n > qr.max else "ok"
        rows.append(
            [
                key,
                f.label if f else key,
                val,
                f.value_labels.get(val, val) if f else val,
                int(qr.min),
                int(qr.max),
                n,
                state,
            ]
        )
    return pd.DataFrame(rows, columns=cols)


def quota_breaks(db: Database, members: Iterable[str] | None = None, quotas: list | None = None) -> list[QuotaBreak]:
    df = quota_status(db, members, quotas)
    return [
        QuotaBreak(r.field, r.field_label, r.value, r.value_label, r.min, r.max, r.count)
        for r in df.itertuples()
        if r.state != "ok"
    ]


def withdrawal_breaks(db: Database, person_id: str, quotas: list | None = None) -> list[QuotaBreak]:
    """The quotas that are short because ``person_id`` is not (or no longer) on the panel: the
    quotas of this person's own groups whose count without them is below the minimum."""
    panel = [p for p in current_members(db) if p != person_id]
    own = {(f, v) for f, v in db.query("SELECT field, value FROM person_values WHERE person_id = ?", [person_id])}
    return [b for b in quota_breaks(db, panel, quotas) if b.short and (b.field, b.value) in own]


def record_withdrawal(
    db: Database, person_id: str, reason: str, actor: str | None, *, now: datetime | None = None
) -> list[QuotaBreak]:
    """Mark a member withdrawn (a reason is required) and return the quotas this leaves short."""
    change_status(db, person_id, WITHDRAWN, actor, reason=reason, now=now)
    return withdrawal_breaks(db, person_id)


def awaiting_replacement(db: Database) -> list[str]:
    """Withdrawn members not yet replaced (the candidates for a replacement draw)."""
    return [r[0] for r in db.query("SELECT person_id FROM members WHERE status = 'withdrawn' ORDER BY since")]


# --- the draw: start tracking, and replacements ------------------------------------------------


def draw_panel_to_enrol(db: Database):
    """(draw_id, person_ids) of the revealed draw when nobody is enrolled yet; else None."""
    if db.scalar("SELECT count(*) FROM members"):
        return None
    draw = _revealed_draw(db)
    if draw is None or not getattr(draw, "selected_ids", None):
        return None
    return draw.draw_id, list(draw.selected_ids)


def sync_replacements(db: Database, actor: str | None, *, now: datetime | None = None) -> list[tuple[str, str]]:
    """Enrol the people chosen by revealed replacement draws (``lib.draws``), recording whom each
    replaces (pairs in the draw's order). Idempotent, and cheap when there is nothing to do (one
    read), so that every place that lists the panel (the door, the Members page) can call it and
    nobody has to open the Members page first. Returns (replaced, newcomer) pairs newly recorded."""
    try:
        rounds = db.query(
            "SELECT draw_id, selected_ids, replaces FROM draws "
            "WHERE kind = 'replacement' AND status = 'revealed' ORDER BY draw_id"
        )
    except Exception:  # noqa: BLE001 - no draws table yet
        return []
    if not rounds:
        return []
    status = dict(db.query("SELECT person_id, status FROM members"))
    if not status:
        return []
    done: list[tuple[str, str]] = []
    for draw_id, selected, replaced in rounds:
        newcomers = list(selected or [])
        pairs = dict(zip(newcomers, list(replaced or [])))
        pending = any(p not in status for p in newcomers) or any(
            status.get(old) not in (None, REPLACED) for old in pairs.values()
        )
        if not pending:
            continue
        before = dict(status)
        enrol_panel(db, newcomers, draw_id, actor, replaces=pairs, now=now)
        status = dict(db.query("SELECT person_id, status FROM members"))
        done.extend((old, new) for new, old in pairs.items() if before.get(old) not in (None, REPLACED))
    return done
