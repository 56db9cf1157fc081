"""Demo database files built once and copied per test: the plain demo, and a small drawable one."""

from __future__ import annotations

from pathlib import Path

SMALL_PANEL = 10


def demo_template(directory: Path) -> Path:
    """A DuckDB file in ``directory`` holding the demo assembly; tests copy it instead of reloading."""
    from lib.store.db import open_database
    from lib.demo.load import load_demo

    path = directory / "demo.duckdb"
    database = open_database(path)
    load_demo(database)
    database.close()
    return path


def small_demo_template(directory: Path, panel_size: int = SMALL_PANEL) -> Path:
    """The demo assembly plus a target version for gender and age only and a panel of
    ``panel_size``, so that a fair lottery takes about a second. Returns the file's path."""
    from lib.store.db import open_database
    from lib.demo.load import load_demo
    from lib.recruitment.targets import load_targets, save_target_version

    path = directory / "template.duckdb"
    database = open_database(path)
    load_demo(database)
    targets = [t for t in load_targets(database) if t.field in ("gender", "age")]
    save_target_version(database, targets, panel_size=panel_size, note="two fields for quick tests", actor="test")
    database.close()
    return path
