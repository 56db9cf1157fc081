"""Small JSON settings stored in the database (column mapping, sheet source, options)."""

from __future__ import annotations

import json
from typing import Any

from lib.store.db import Database


def get_setting(db: Database, key: str, default: Any = None) -> Any:
    raw = db.scalar("SELECT value FROM settings WHERE key = ?", [key])
    return default if raw is None else json.loads(raw)


def write_setting(cur, key: str, value: Any, actor: str | None = None) -> None:
    """Write one setting inside the caller's transaction (``cur``)."""
    cur.execute(
        "INSERT INTO settings (key, value, updated_by) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
        "updated_at = now(), updated_by = excluded.updated_by",
        [key, json.dumps(value, sort_keys=True), actor],
    )


def read_setting(cur, key: str, default: Any = None) -> Any:
    """Read one setting inside the caller's transaction (``cur``)."""
    rows = cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchall()
    return default if not rows else json.loads(rows[0][0])


def set_setting(db: Database, key: str, value: Any, actor: str | None = None) -> None:
    db.transaction(lambda cur: write_setting(cur, key, value, actor))
