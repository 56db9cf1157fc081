"""The embedded demo assembly (data/demo/): loaded into an empty database on first start."""

from __future__ import annotations

from lib.categories import load_fields, load_fields_file, save_fields
from lib.config import DEMO_DIR
from lib.db import Database
from lib.settings import get_setting, set_setting
from lib.signups.grid import grid_from_csv_bytes
from lib.signups.mapping import save_mapping, suggest_mapping
from lib.signups.sync import SyncResult, sync_grid
from lib.targets import parse_targets_csv, save_targets

DEMO_PANEL_SIZE = 30
DEMO_SOURCE_LABEL = "Demo: Riverside climate assembly sign-ups (data/demo/signups.csv)"


def demo_signups_grid():
    return grid_from_csv_bytes((DEMO_DIR / "signups.csv").read_bytes(), "The demo sign-ups")


def sync_demo(db: Database, actor: str | None = "demo") -> SyncResult:
    from lib.signups.mapping import load_mapping

    mapping = load_mapping(db)
    return sync_grid(db, demo_signups_grid(), mapping, source_kind="demo", source_label=DEMO_SOURCE_LABEL,
                     actor=actor)


def load_demo(db: Database) -> SyncResult | None:
    """Load the demo into ``db`` unless it holds an assembly already. Returns the sync result."""
    if get_setting(db, "assembly") or db.scalar("SELECT count(*) FROM people"):
        return None
    fields = load_fields_file(DEMO_DIR / "fields.csv")
    save_fields(db, fields)
    fields = load_fields(db)
    targets = parse_targets_csv((DEMO_DIR / "targets.csv").read_text(encoding="utf-8"), fields, "targets.csv")
    save_targets(db, targets, panel_size=DEMO_PANEL_SIZE, note="Demo targets from the (synthetic) census",
                 actor="demo")
    grid = demo_signups_grid()
    save_mapping(db, suggest_mapping(grid.headers, fields), actor="demo")
    set_setting(db, "assembly", {"name": "Riverside climate assembly (demo)", "demo": True,
                                 "panel_size": DEMO_PANEL_SIZE, "source": {"kind": "demo"}})
    return sync_demo(db)
