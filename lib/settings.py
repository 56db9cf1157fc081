"""Small JSON settings stored in the database (column mapping, sheet source, options)."""

from __future__ import annotations

import json
from typing import Any

from lib.db import Database


def get_setting(db: Database, key: str, default: Any = None) -> Any:
    raw = db.scalar("SELECT value FROM settings WHERE key = ?", [key])
    return default if raw is None else json.loads(raw)


def set_setting(db: Database, key: str, value: Any, actor: str | None = None) -> None:
    text = json.dumps(value, sort_keys=True)

    def write(cur):
        cur.execute(
            "INSERT INTO settings (key, value, updated_by) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
            "updated_at = now(), updated_by = excluded.updated_by",
            [key, text, actor],
        )

    db.transaction(write)
