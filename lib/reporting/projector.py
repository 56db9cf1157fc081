"""What the projector shows during the live draw ceremony (pages/projector.py, issue 15 point 4).

Everything comes from what is already public: the public record of every commitment, withdrawal
and reveal (``draws.public_record``), the public audit bundle (which names nobody: its ids are
bundle ids, not the door pseudonyms or names) and the verify command of the Transparency page.
A lottery that is computed but whose commitment is not published is never shown.

``fingerprint`` is cheap (the newest event of the record), so a projector can poll it every
couple of seconds and draw again only when something happened.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from lib.store.db import Database

WAITING, COMMITTED, REVEALED = "waiting", "committed", "revealed"


@dataclass(frozen=True)
class ProjectorView:
    stage: str  # waiting | committed | revealed
    draw_id: int | None = None
    kind: str = "draw"  # draw | replacement
    commitment: str | None = None
    public_number: str | None = None
    panel_ids: list[str] = field(default_factory=list)  # ids in the public bundle's panel.csv
    command: str | None = None  # the full verify command with the announced values
    fingerprint: tuple = ()

    @property
    def heading(self) -> str:
        what = "The draw" if self.kind == "draw" else "The replacement draw"
        return {
            WAITING: "The draw has not started yet",
            COMMITTED: f"{what}: the commitment is published",
            REVEALED: f"{what}: the panel is chosen",
        }[self.stage]


def fingerprint(db: Database) -> tuple:
    """Changes whenever the public record gets a new event (a commitment, withdrawal or reveal)."""
    row = db.query("SELECT count(*), coalesce(max(seq), 0) FROM draw_events")[0]
    return tuple(int(x) for x in row)


def _panel_ids(bundle: bytes | None) -> list[str]:
    if not bundle:
        return []
    from lib.sortition.audit.bundle import read_bundle

    try:
        text = read_bundle(bundle).get("panel.csv", b"").decode("utf-8")
    except Exception:  # noqa: BLE001 - a projector shows what it can; the Transparency page has the bundle
        return []
    rows = list(csv.reader(io.StringIO(text)))
    return [r[0] for r in rows[1:] if r and r[0]]


def projector_view(db: Database) -> ProjectorView:
    """The newest public step of the ceremony: nothing yet, a published commitment, or a reveal."""
    from lib.draws import records as draws
    from lib.reporting.transparency import verify_command

    events = draws.public_record(db)
    steps = [e for e in events if e["kind"] in ("commitment", "reveal")]
    fp = (len(events), events[-1]["seq"] if events else 0)
    if not steps:
        return ProjectorView(WAITING, fingerprint=fp)
    last = steps[-1]
    rec = draws.get_draw(db, int(last["draw"]))
    kind = rec.kind if rec is not None else "draw"
    head = events[-1]["hash"]
    if last["kind"] == "commitment":
        announced = _Announced(last["commitment"], None)
        return ProjectorView(
            COMMITTED,
            int(last["draw"]),
            kind,
            last["commitment"],
            command=verify_command(announced, head),
            fingerprint=fp,
        )
    announced = _Announced(last["commitment"], last["public_number"])
    bundle = draws.public_bundle(db, int(last["draw"]))
    return ProjectorView(
        REVEALED,
        int(last["draw"]),
        kind,
        last["commitment"],
        last["public_number"],
        panel_ids=_panel_ids(bundle),
        command=verify_command(announced, head),
        fingerprint=fp,
    )


@dataclass(frozen=True)
class _Announced:
    commitment: str
    public_number: str | None
