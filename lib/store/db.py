"""The DuckDB store.

One ``Database`` (one DuckDB connection) per process. Every operation takes its own
``cursor()``: a DuckDB connection shared across Streamlit's script threads returns wrong
results, while cursors are independent connections to the same database. Writes go
through ``transaction()``: short, and retried when DuckDB reports a write-write conflict
(two volunteers saving at once).

Schema changes are numbered SQL files in ``lib/store/migrations`` (``001_initial.sql`` …),
each applied once, in number order, in its own transaction and recorded in
``schema_version``. A number is never reused; a missing number is allowed.
No foreign keys: DuckDB cannot alter or update tables that foreign keys point at.
"""

from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import duckdb

from lib.store.config import MIGRATIONS_DIR
from lib.errors import UserError

T = TypeVar("T")

_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


class DatabaseBusy(UserError):
    pass


def migrations(directory: Path = MIGRATIONS_DIR) -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration file, in order. Versions must be 1, 2, 3 …"""
    found = []
    for path in sorted(directory.glob("*.sql")):
        m = _MIGRATION_NAME.match(path.name)
        if not m:
            raise RuntimeError(f"migration file {path.name} must be named like 001_initial.sql")
        found.append((int(m.group(1)), m.group(2), path.read_text(encoding="utf-8")))
    versions = [v for v, _n, _s in found]
    if len(set(versions)) != len(versions):
        dup = sorted(v for v in set(versions) if versions.count(v) > 1)
        raise RuntimeError(f"two migration files share the number {dup[0]:03d}: give each its own number")
    return found


class Database:
    def __init__(self, path: str | Path, *, read_only: bool = False):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise UserError(
                    f"The database file {self.path} is in use by another Kleroterion. "
                    "Close the other copy of the app (or set KLEROTERION_DB to another file) and start again."
                ) from None
            raise
        self._migrate_lock = threading.Lock()

    def close(self, wait_seconds: float = 10.0) -> None:
        """Close the file. A background thread (the automatic sync, a draw) may be in the
        middle of one short call on a cursor; DuckDB then refuses to close instead of
        waiting, so wait for that call to end (bounded), then close."""
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                self._con.close()
                return
            except duckdb.Error as e:
                if "busy" not in str(e).lower() or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    # --- access --------------------------------------------------------------------
    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A fresh cursor for one read operation (auto-commit)."""
        cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def query_df(self, sql: str, params: Any = None):
        with self.cursor() as cur:
            return cur.execute(sql, params).df()

    def query(self, sql: str, params: Any = None) -> list[tuple]:
        with self.cursor() as cur:
            return cur.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Any = None) -> Any:
        with self.cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
            return rows[0][0] if rows else None

    def transaction(
        self, fn: Callable[[duckdb.DuckDBPyConnection], T], *, attempts: int = 6, backoff: float = 0.02
    ) -> T:
        """Run ``fn(cursor)`` inside one transaction, retrying on write conflicts.

        ``fn`` may run more than once, so it must do nothing outside the database that
        cannot be repeated. Other errors roll back and propagate unchanged.
        """
        for attempt in range(1, attempts + 1):
            cur = self._con.cursor()
            try:
                cur.begin()
                result = fn(cur)
                cur.commit()
                return result
            except duckdb.TransactionException as e:
                _rollback(cur)
                if attempt == attempts:
                    raise DatabaseBusy(
                        "Somebody else was saving at the same moment and your change could not be saved "
                        f"after {attempts} tries. Nothing was lost: please press save again."
                    ) from e
                time.sleep(backoff * (2 ** (attempt - 1)))
            except BaseException:
                _rollback(cur)
                raise
            finally:
                cur.close()
        raise AssertionError("unreachable")

    # --- schema --------------------------------------------------------------------
    def schema_version(self) -> int:
        with self.cursor() as cur:
            exists = cur.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
            ).fetchall()[0][0]
            if not exists:
                return 0
            return cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0]

    def migrate(self, directory: Path = MIGRATIONS_DIR) -> list[int]:
        """Apply every migration newer than the database. Returns the versions applied."""
        applied = []
        with self._migrate_lock:
            with self.cursor() as cur:
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
                    " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
                )
            done = {r[0] for r in self.query("SELECT version FROM schema_version")}
            for version, name, sql in migrations(directory):
                if version in done:
                    continue

                def apply(cur, sql=sql, version=version, name=name):
                    cur.execute(sql)
                    cur.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, name])

                self.transaction(apply, attempts=1)
                applied.append(version)
        return applied


def _rollback(cur) -> None:
    try:
        cur.rollback()
    except duckdb.Error:
        pass


def open_database(path: str | Path) -> Database:
    """Open (creating if needed) and migrate the database at ``path``."""
    db = Database(path)
    db.migrate()
    return db
