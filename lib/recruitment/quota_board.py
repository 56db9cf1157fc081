"""The live quota board for volunteers: who has signed up so far, against the targets.

Counts only, never names. Every count is computed in SQL inside DuckDB (one GROUP BY over
the sign-up answers), so the board stays fast with 50,000 sign-ups.

"Still needed to be safe": the draw can only meet a quota if enough people of that kind
are in the pool, and not everyone picked will say yes. The practitioners' rule of thumb
is to aim for ``SAFETY_FACTOR`` (3) sign-ups ready for the draw for every seat a group is
guaranteed (its minimum). So

    still needed = max(0, SAFETY_FACTOR × minimum seats − sign-ups ready for the draw)

Groups smaller than 5 are shown as "fewer than 5" to anyone who is not an organiser, and
then every figure derived from that count (share, still needed) is coarsened so that it
does not give the hidden count away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from lib.recruitment.categories import load_fields
from lib.store.db import Database
from lib.privacy import SMALL_GROUP, suppress_small
from lib.recruitment.quotas import quotas_for_version
from lib.recruitment.targets import load_seat_bands, load_targets, version_info

SAFETY_FACTOR = 3
"""Aim for this many sign-ups ready for the draw per guaranteed seat."""

LOOK_FOR_LIMIT = 5


@dataclass
class BoardRow:
    field: str
    field_label: str
    value: str
    value_label: str
    target_share: float | None  # the community's share (None: no target for this value)
    min_seats: int | None
    max_seats: int | None
    signups: int  # current sign-ups with this answer
    eligible: int  # of which ready for the draw
    signup_share: float  # signups / all current sign-ups

    @property
    def goal(self) -> int:
        """How many sign-ups ready for the draw make this group safe."""
        return SAFETY_FACTOR * (self.min_seats or 0)

    @property
    def still_needed(self) -> int:
        return max(0, self.goal - self.eligible)

    @property
    def coverage(self) -> float:
        """Share of the safe goal reached (1.0 or more: safe)."""
        return 1.0 if self.goal == 0 else self.eligible / self.goal


@dataclass
class Board:
    version: int | None
    panel_size: int | None
    frozen: bool
    total_signups: int
    total_eligible: int
    rows: list[BoardRow] = field(default_factory=list)
    factor: int = SAFETY_FACTOR

    @property
    def has_targets(self) -> bool:
        return any(r.target_share is not None or r.min_seats is not None for r in self.rows)

    def look_for(self, limit: int = LOOK_FOR_LIMIT) -> list[BoardRow]:
        """The groups recruitment should look for next: those not yet safe, furthest from their safe goal
        first. A safe group is never listed here (the board's "all safe" would contradict it)."""
        short = [r for r in self.rows if r.still_needed > 0]
        return sorted(short, key=lambda r: (r.coverage, -r.still_needed, r.field_label, r.value))[:limit]

    def below_share(self, limit: int = LOOK_FOR_LIMIT) -> list[BoardRow]:
        """Safe groups whose share of the sign-ups is still below their share of the community, the
        most under-represented first: welcome, but not needed to be safe."""
        under = [r for r in self.rows if r.still_needed == 0 and r.target_share and r.signup_share < r.target_share]
        # target_share is set and above zero in every row kept (the "or 1" is for the type checker)
        return sorted(under, key=lambda r: (r.signup_share / (r.target_share or 1), r.field_label, r.value))[:limit]

    def field_status(self, field_key: str) -> str:
        """The words beside a field's name on the board: "all safe" only when none of its groups is
        listed under "Who to look for next"; "no targets yet" while none of its groups has a target (nothing
        to be safe against, even with no sign-ups at all)."""
        if not any(r.target_share is not None or r.min_seats is not None for r in self.rows if r.field == field_key):
            return "no targets yet"
        short = sum(1 for r in self.rows if r.field == field_key and r.still_needed > 0)
        return f"{short} group{'s' if short != 1 else ''} still needed" if short else "all safe"


COUNTS_SQL = """
    SELECT v.field, v.value, count(*) AS signups, count(*) FILTER (WHERE p.eligible) AS eligible
    FROM person_values v JOIN people p USING (person_id)
    WHERE p.removed_sync IS NULL AND v.value IS NOT NULL
    GROUP BY v.field, v.value"""

TOTALS_SQL = """
    SELECT count(*), count(*) FILTER (WHERE eligible) FROM people WHERE removed_sync IS NULL"""


SIGNATURE_SQL = """
    SELECT (SELECT max(sync_id) FROM sync_log), (SELECT count(*) FROM people),
           (SELECT max(updated_at) FROM people)::VARCHAR, (SELECT max(version) FROM target_versions),
           (SELECT count(frozen_at) FROM target_versions), (SELECT count(*) FROM strat_values),
           (SELECT count(*) FROM target_rules)"""


POOL_SQL = """
    SELECT count(*), count(*) FILTER (WHERE eligible), max(updated_at)::VARCHAR, (SELECT max(sync_id) FROM sync_log)
    FROM people WHERE removed_sync IS NULL"""


def pool_signature(db: Database) -> tuple:
    """A cheap fingerprint of the pool of sign-ups (how many, how many ready, the last change and sync): it
    changes whenever the pool does, so a check of the quotas against the pool can be reused until then."""
    return tuple(db.query(POOL_SQL)[0])


def eligible_counts(db: Database) -> dict[tuple[str, str], int]:
    """How many sign-ups still in the pool are ready for the draw, per question and answer."""
    return {(f, v): int(e) for f, v, _n, e in db.query(COUNTS_SQL)}


def board_signature(db: Database) -> tuple:
    """A cheap fingerprint of everything the board shows: it changes whenever a sync, a target
    version or the questions change, so a cached board can be reused until then."""
    return tuple(db.query(SIGNATURE_SQL)[0])


def build_board(db: Database, *, version: int | None = None) -> Board:
    """Counts per field and value, with the targets and seat band of the latest (or given) version."""
    fields = load_fields(db)
    info = version_info(db, version)
    targets = load_targets(db, info.version) if info else []
    quotas = {}
    if info and info.panel_size:
        quotas = {(q.field, q.value): q for q in quotas_for_version(db, info.version)}  # shares or a quota table
    # A quota table gives seats, not the community's shares: no share is shown as "the community's".
    shares = {} if info and load_seat_bands(db, info.version) else {(t.field, t.value): t.share for t in targets}
    counts = {(f, v): (int(n), int(e)) for f, v, n, e in db.query(COUNTS_SQL)}
    total, total_eligible = db.query(TOTALS_SQL)[0]
    rows = []
    for f in fields:
        for v in f.values:
            n, e = counts.get((f.key, v), (0, 0))
            q = quotas.get((f.key, v))
            rows.append(
                BoardRow(
                    f.key,
                    f.label,
                    v,
                    f.value_labels.get(v, v),
                    shares.get((f.key, v)),
                    q.min if q else None,
                    q.max if q else None,
                    n,
                    e,
                    n / total if total else 0.0,
                )
            )
    return Board(
        info.version if info else None,
        info.panel_size if info else None,
        bool(info and info.frozen),
        int(total),
        int(total_eligible),
        rows,
    )


# --- what people see ---------------------------------------------------------------------


def secondary_hidden(counts: dict, *, organiser: bool) -> set:
    """Values to hide as well, so that a hidden small group cannot be worked out by subtraction.

    When exactly one value of a field is hidden (1–4 people), anyone who knows the total (it is on
    the start page) could subtract the other counts. So the smallest other non-zero count of that
    field is hidden too ("not shown"): the subtraction then gives only the sum of the two.
    """
    if organiser:
        return set()
    primary = [v for v, n in counts.items() if 0 < n < SMALL_GROUP]
    if len(primary) != 1:
        return set()
    others = sorted((n, str(v)) for v, n in counts.items() if v not in primary and n > 0)
    return {next(v for v in counts if str(v) == others[0][1])} if others else set()


def _hidden(n: int, organiser: bool) -> bool:
    return not organiser and 0 < n < SMALL_GROUP


def shown_count(n: int, organiser: bool) -> str:
    return suppress_small(n, organiser=organiser)


def shown_share(row: BoardRow, organiser: bool) -> str:
    if _hidden(row.signups, organiser):
        return "small"
    return f"{row.signup_share * 100:.0f}%"


def shown_still_needed(row: BoardRow, organiser: bool) -> str:
    """'12 more', 'safe', or — when the count itself is hidden — a bound that does not reveal it."""
    if row.goal == 0:
        return "no minimum"
    if _hidden(row.eligible, organiser) or _hidden(row.signups, organiser):
        low = max(0, row.goal - (SMALL_GROUP - 1))
        return f"at least {low} more" if low > 0 else "a few more"
    return f"{row.still_needed} more" if row.still_needed else "safe ✓"


def seats_text(row: BoardRow) -> str:
    if row.min_seats is None:
        return "–"
    return f"{row.min_seats}" if row.min_seats == row.max_seats else f"{row.min_seats}–{row.max_seats}"


SHARE_COLUMN = "Share (target)"


def board_table(board: Board, field_key: str, *, organiser: bool) -> pd.DataFrame:
    """One field's rows as shown on the board (strings, so hidden counts stay hidden). Five narrow
    columns, so the table fits a phone: the share of sign-ups is shown with the target in brackets."""
    out = []
    rows = [r for r in board.rows if r.field == field_key]
    also_hidden = secondary_hidden({r.value: r.signups for r in rows}, organiser=organiser)
    for r in rows:
        target = "–" if r.target_share is None else f"{r.target_share * 100:.0f}%"
        if r.value in also_hidden:
            out.append(
                {
                    "Group": r.value_label,
                    "Signed up": "not shown",
                    SHARE_COLUMN: f"– ({target})",
                    "Seats": seats_text(r),
                    "Still needed": "safe ✓" if r.still_needed == 0 else "more needed",
                }
            )
            continue
        out.append(
            {
                "Group": r.value_label,
                "Signed up": shown_count(r.signups, organiser),
                SHARE_COLUMN: f"{shown_share(r, organiser)} ({target})",
                "Seats": seats_text(r),
                "Still needed": shown_still_needed(r, organiser),
            }
        )
    return pd.DataFrame(out, columns=["Group", "Signed up", SHARE_COLUMN, "Seats", "Still needed"])


def look_for_lines(board: Board, *, organiser: bool, limit: int = LOOK_FOR_LIMIT) -> list[str]:
    """Markdown lines: the organisers' labels are escaped (lib.plaintext.md), so they show as typed."""
    from lib.plaintext import md

    return [
        f"**{md(r.field_label)}: {md(r.value_label)}**: {shown_still_needed(r, organiser)} "
        f"(aim for {r.goal}, the panel needs at least {r.min_seats})"
        for r in board.look_for(limit)
    ]


def below_share_lines(board: Board, *, organiser: bool, limit: int = LOOK_FOR_LIMIT) -> list[str]:
    """Markdown lines for the safe groups still below their share of the community (Board.below_share)."""
    from lib.plaintext import md

    return [
        f"**{md(r.field_label)}: {md(r.value_label)}**: {(r.target_share or 0) * 100:.0f}% of the community, "
        f"only {shown_share(r, organiser)} of sign-ups"
        for r in board.below_share(limit)
    ]
