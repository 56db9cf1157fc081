"""The embedded demo assembly (data/demo/), and the rule that demo and real data never mix.

The demo loads only into an **empty** database (no row in any table), and marks it as the demo
(the ``demo_database`` setting, written first, in the same transaction that checks the database is
empty). That marker is the single source of truth, read in ``lib.store.demo_marker`` (the layers
below the demo ask it too):

- ``is_demo_database``: the database was created as the demo (every page then says so);
- ``holds_only_demo``: it was, and nothing real has been brought into it since (no sign-ups from
  anywhere but the demo); only then may the public demo passwords work (lib/access/accounts.py);
- ``database_state``: "empty", "demo" or "real".

A database holding anything else (an assembly, questions, targets, sign-ups, an account…) is never
filled with the demo: ``load_demo`` raises ``DemoRefused`` and changes nothing. ``open_demo`` is what
the app calls on start when the demo is switched on (KLEROTERION_DEMO, the default for ``make run``):
it loads the demo into an empty database, and leaves a real one alone, returning why.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from lib.recruitment.categories import load_fields, load_fields_file, save_fields
from lib.store.config import DEMO_DIR
from lib.store.db import Database
from lib.errors import UserError
from lib.i18n import N_
from lib.store.demo_marker import DEMO_MARKER, is_demo_database
from lib.store.settings import get_setting, set_setting
from lib.recruitment.signups.grid import grid_from_csv_bytes
from lib.recruitment.signups.mapping import save_mapping, suggest_mapping
from lib.recruitment.signups.sync import SyncResult, sync_grid
from lib.recruitment.targets import latest_version, parse_targets_csv, save_targets

log = logging.getLogger("kleroterion")

DEMO_PANEL_SIZE = 30
DEMO_NAME = "Riverside climate assembly (demo)"
DEMO_SOURCE_LABEL = "Demo: Riverside climate assembly sign-ups (data/demo/signups.csv)"
EMPTY, DEMO, REAL = "empty", "demo", "real"
BANNER = N_(
    "This is the Riverside demo assembly: made-up people and made-up numbers, so you can try "
    "everything safely. Nothing here is a real assembly."
)  # members and visitors read it in their language
MIXED_WARNING = (
    "Real sign-ups were brought into this demo database. It still holds the demo's made-up "
    "questions and targets, so do not run a real assembly here: start the app with "
    "KLEROTERION_DEMO=0 and a new, empty database, then use “Set up the assembly”."
)


class DemoRefused(UserError):
    """The demo would mix with data that is not the demo's."""


_TABLES_SQL = (
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
    "AND table_type = 'BASE TABLE' AND table_name <> 'schema_version' ORDER BY 1"
)


def _tables_with_rows(cur) -> list[str]:
    names = [r[0] for r in cur.execute(_TABLES_SQL).fetchall()]
    return [
        t
        for t in names
        if cur.execute(f'SELECT EXISTS (SELECT 1 FROM "{t.replace(chr(34), chr(34) * 2)}")').fetchall()[0][0]
    ]


def tables_with_rows(db: Database) -> list[str]:
    """Every table holding at least one row (the migrations' bookkeeping left out)."""
    with db.cursor() as cur:
        return _tables_with_rows(cur)


def is_empty(db: Database) -> bool:
    return not tables_with_rows(db)


def database_state(db: Database) -> str:
    """ "demo" (created as the demo), "empty" (nothing in it at all) or "real"."""
    if is_demo_database(db):
        return DEMO
    return EMPTY if is_empty(db) else REAL


def refusal_message(db: Database) -> str:
    tables = tables_with_rows(db)
    what = ", ".join(tables[:6]) + (" …" if len(tables) > 6 else "")
    return (
        "The demo was not loaded: this database is not empty and was not created as the demo "
        f"(it holds: {what}), so loading made-up people into it would mix them with real data. "
        "To run a real assembly here, start the app with KLEROTERION_DEMO=0. To try the demo, use a "
        "new, empty database file (KLEROTERION_DB)."
    )


def demo_signups_grid():
    return grid_from_csv_bytes((DEMO_DIR / "signups.csv").read_bytes(), "The demo sign-ups")


def sync_demo(db: Database, actor: str | None = "demo") -> SyncResult:
    from lib.recruitment.signups.mapping import load_mapping

    mapping = load_mapping(db)
    if mapping is None:  # load_demo saves the demo's columns first
        raise UserError("The demo's sign-up columns are not set up. Start the demo on a new, empty database file.")
    return sync_grid(db, demo_signups_grid(), mapping, source_kind="demo", source_label=DEMO_SOURCE_LABEL, actor=actor)


def _claim_for_the_demo(db: Database) -> bool:
    """Mark the database as the demo if it is empty, in one transaction. True when it is (now) the
    demo's; False when it holds anything else."""

    def write(cur):
        if cur.execute("SELECT count(*) FROM settings WHERE key = ?", [DEMO_MARKER]).fetchall()[0][0]:
            return True
        if _tables_with_rows(cur):
            return False
        stamp = {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        import json

        cur.execute(
            "INSERT INTO settings (key, value, updated_by) VALUES (?, ?, 'demo')", [DEMO_MARKER, json.dumps(stamp)]
        )
        return True

    return db.transaction(write)


def load_demo(db: Database) -> SyncResult | None:
    """Load the demo into an empty database, marking it as the demo. Returns the sync result, or None
    when the demo is there already. Raises ``DemoRefused`` (changing nothing) when the database holds
    anything that is not the demo's.

    The marker is written first, so a load that stops half-way (the server stopped) is finished on the
    next start instead of leaving a database that is neither empty nor marked."""
    if not _claim_for_the_demo(db):
        raise DemoRefused(refusal_message(db))
    if get_setting(db, "assembly"):
        return None  # loaded already
    fields = load_fields_file(DEMO_DIR / "fields.csv")
    save_fields(db, fields)
    fields = load_fields(db)
    if latest_version(db) is None:
        targets = parse_targets_csv((DEMO_DIR / "targets.csv").read_text(encoding="utf-8"), fields, "targets.csv")
        save_targets(
            db, targets, panel_size=DEMO_PANEL_SIZE, note="Demo targets from the (synthetic) census", actor="demo"
        )
    grid = demo_signups_grid()
    save_mapping(db, suggest_mapping(grid.headers, fields), actor="demo")
    result = sync_demo(db)
    set_setting(
        db, "assembly", {"name": DEMO_NAME, "demo": True, "panel_size": DEMO_PANEL_SIZE, "source": {"kind": "demo"}}
    )
    return result


def open_demo(db: Database) -> str | None:
    """On start, with the demo switched on: load it into an empty database. A database holding anything
    else is left exactly as it is; returns why (also written to the server's log), else None."""
    try:
        load_demo(db)
    except DemoRefused as e:
        log.warning("Kleroterion: %s", e)
        return str(e)
    return None
