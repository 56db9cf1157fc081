"""One sync at a time: whoever brings in sign-ups holds "the sync slot" from fetching the sheet to the end.

Two guards, both needed:

* a lock per database file in this process, so two browser sessions (each a thread of the server) or a
  session and the background sync (lib/recruitment/signups/live.py) never sync at once;
* a marker in the database (the ``sync_running`` setting: who, since when, which process), so that a
  second process using the same database waits too. DuckDB lets only one process open a file today,
  but the marker also tells the other sessions *who* is syncing and since when, for a plain message.

A marker left behind by a process that died (same computer, process gone; or past its expiry time)
is taken over. Holding the slot is re-entrant in one thread: the background sync holds it across
fetch and sync, and ``sync_grid`` takes it again inside.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Iterator

from lib.store.db import Database
from lib.errors import UserError

MARKER = "sync_running"
AUTO_ACTOR = "Automatic sync"  # the sync log's "who" for background syncs
EXPIRY_MARGIN = 300.0  # seconds after a sync's deadline that its marker counts as left behind

PROCESS = {"token": secrets.token_hex(8), "pid": os.getpid(), "host": socket.gethostname()}


class SyncBusy(UserError):
    """Another sync is running now. Nothing was attempted (so nothing is written to the sync log)."""

    logged = True

    def __init__(self, message: str, holder: dict | None = None):
        super().__init__(message)
        self.holder = holder or {}


_registry_lock = threading.Lock()
_locks: dict[str, threading.Lock] = {}
_holders: dict[str, dict] = {}  # db path -> {"thread": ident, "depth": n, "who": ..., "since": ...}


def _lock_for(path: str) -> threading.Lock:
    with _registry_lock:
        return _locks.setdefault(path, threading.Lock())


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _pid_alive(pid: object) -> bool:
    try:
        if not isinstance(pid, (int, str, float)):
            raise TypeError(pid)  # a marker's pid is read back from JSON: it may be anything
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, ValueError, TypeError):
        return True  # it exists (another user's), or we cannot tell: assume alive
    return True


def marker_is_live(marker: dict | None, now: datetime | None = None) -> bool:
    """True when the marker belongs to a sync that may still be running in another process."""
    if not marker or not isinstance(marker, dict):
        return False
    if marker.get("token") == PROCESS["token"]:
        return False  # ours: this process holds its lock, so it is left over
    try:
        expires = datetime.fromisoformat(str(marker.get("expires")))
    except ValueError:
        return False
    if expires <= (now or _now()):
        return False
    if marker.get("host") == PROCESS["host"]:
        if marker.get("pid") == PROCESS["pid"]:
            return False  # this very process, an earlier life of it: left over
        return _pid_alive(marker.get("pid"))
    return True


def read_marker(db: Database) -> dict | None:
    raw = db.scalar("SELECT value FROM settings WHERE key = ?", [MARKER])
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _claim(db: Database, who: str) -> dict | None:
    """Write our marker unless another live process holds one (returned then)."""
    from lib.store.config import sync_deadline_seconds

    now = _now()
    mine = {
        **PROCESS,
        "who": who,
        "since": now.isoformat(timespec="seconds"),
        "expires": (now + timedelta(seconds=sync_deadline_seconds() + EXPIRY_MARGIN)).isoformat(),
    }

    def write(cur):
        rows = cur.execute("SELECT value FROM settings WHERE key = ?", [MARKER]).fetchall()
        if rows:
            try:
                other = json.loads(rows[0][0])
            except ValueError:
                other = None
            if marker_is_live(other, now):
                return other
        cur.execute(
            "INSERT INTO settings (key, value, updated_by) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now(), "
            "updated_by = excluded.updated_by",
            [MARKER, json.dumps(mine), who],
        )
        return None

    return db.transaction(write)


def _release(db: Database) -> None:
    def write(cur):
        rows = cur.execute("SELECT value FROM settings WHERE key = ?", [MARKER]).fetchall()
        if rows:
            try:
                token = json.loads(rows[0][0]).get("token")
            except (ValueError, AttributeError):
                token = None
            if token in (PROCESS["token"], None):
                cur.execute("DELETE FROM settings WHERE key = ?", [MARKER])

    try:
        db.transaction(write)
    except Exception:  # noqa: BLE001 - a marker left behind is taken over later (marker_is_live)
        import logging

        logging.getLogger("kleroterion").warning("Kleroterion: could not clear the sync marker", exc_info=True)


def ago_words(seconds: float | None) -> str:
    """ "less than a minute ago", "a minute ago", "12 minutes ago", "an hour ago", "3 hours ago", "2 days ago"."""
    if seconds is None:
        return "at an unknown time"
    s = max(0.0, float(seconds))
    if s < 60:
        return "less than a minute ago"
    if s < 120:
        return "a minute ago"
    if s < 3600:
        return f"{int(s // 60)} minutes ago"
    if s < 7200:
        return "an hour ago"
    if s < 86400:
        return f"{int(s // 3600)} hours ago"
    if s < 2 * 86400:
        return "a day ago"
    return f"{int(s // 86400)} days ago"


def busy_message(holder: dict | None) -> str:
    return (
        running_words(holder) + " Only one can run at a time, so nothing else was done. Wait a minute, then "
        "try again: the latest sign-ups may already be in by then."
    )


def running_words(holder: dict | None) -> str:
    """E.g. 'Sign-ups are being brought in right now (by the automatic sync, started a minute ago).'"""
    holder = holder or {}
    who = str(holder.get("who") or "")
    parts = []
    if who:
        if who == AUTO_ACTOR:
            parts.append("by the automatic sync")
        elif ":" in who:  # "organiser:Sam Lee" (lib.access.auth.actor_label)
            parts.append(f"by {who.split(':', 1)[1]}")
        else:
            parts.append(f"by {'an organiser' if who == 'organiser' else who}")
    try:
        started = datetime.fromisoformat(str(holder.get("since")))
        parts.append(f"started {ago_words((_now() - started).total_seconds())}")
    except ValueError:
        pass
    detail = f" ({', '.join(parts)})" if parts else ""
    return f"Sign-ups are being brought in right now{detail}."


def holder(db: Database) -> dict | None:
    """Who is syncing now (in this process or another), or None."""
    with _registry_lock:
        mine = dict(_holders.get(db.path) or {}) or None
    if mine:
        return mine
    marker = read_marker(db)
    return marker if marker_is_live(marker) else None


@contextmanager
def sync_slot(db: Database, who: str, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the sync slot for ``db`` (waiting up to ``wait`` seconds), or raise ``SyncBusy``."""
    path = db.path
    me = threading.get_ident()
    with _registry_lock:
        held = _holders.get(path)
        if held and held["thread"] == me:
            held["depth"] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _registry_lock:
                _holders[path]["depth"] -= 1
        return

    lock = _lock_for(path)
    t0 = time.monotonic()
    got = lock.acquire(timeout=wait) if wait > 0 else lock.acquire(blocking=False)
    if not got:
        with _registry_lock:
            other: dict | None = dict(_holders.get(path) or {})
        raise SyncBusy(busy_message(other), other)
    try:
        while True:
            other = _claim(db, who)
            if other is None:
                break
            if time.monotonic() - t0 >= wait:
                raise SyncBusy(busy_message(other), other)
            time.sleep(0.2)
        with _registry_lock:
            _holders[path] = {"thread": me, "depth": 1, "who": who, "since": _now().isoformat(timespec="seconds")}
        try:
            yield
        finally:
            with _registry_lock:
                _holders.pop(path, None)
            _release(db)
    finally:
        lock.release()
