"""The demo marker: a database created as the demo says so in ``settings`` (the single source of truth
for "this is the demo": the banner on every page, the demo passwords, the set-up page refusing).

Here in the store, not in ``lib.demo``, because the layers below the demo (sign-in, set-up) ask it.
"""

from __future__ import annotations

from lib.store.db import Database
from lib.store.settings import get_setting

DEMO_MARKER = "demo_database"  # the setting that says "this database was created as the demo"


def is_demo_database(db: Database) -> bool:
    """The database was created as the demo (it carries the demo marker)."""
    return bool(get_setting(db, DEMO_MARKER))


def real_sign_ups_brought_in(db: Database) -> bool:
    return bool(db.scalar("SELECT count(*) FROM sync_log WHERE source_kind <> 'demo' AND status = 'ok'"))


def holds_only_demo(db: Database) -> bool:
    """Created as the demo, and no sign-ups were ever brought in from anywhere but the demo."""
    return is_demo_database(db) and not real_sign_ups_brought_in(db)
