"""The DuckDB store: migrations, cursors per operation, transactions that survive conflicts."""

import threading
import time

import duckdb
import pytest

from lib.store.db import Database, DatabaseBusy, migrations, open_database


def test_migrations_apply_once_and_are_recorded(tmp_path):
    path = tmp_path / "k.duckdb"
    db = open_database(path)
    versions = [v for v, _n, _s in migrations()]
    assert db.schema_version() == versions[-1]
    assert [r[0] for r in db.query("SELECT version FROM schema_version ORDER BY version")] == versions
    db.close()
    db2 = Database(path)
    assert db2.migrate() == []            # nothing new to apply on the second start
    assert db2.schema_version() == versions[-1]


def test_a_reused_migration_number_is_refused(tmp_path):
    (tmp_path / "001_a.sql").write_text("CREATE TABLE a (x INTEGER);")
    (tmp_path / "001_b.sql").write_text("CREATE TABLE b (x INTEGER);")
    with pytest.raises(RuntimeError, match="share the number 001"):
        migrations(tmp_path)


def test_a_migration_added_later_with_a_lower_number_is_still_applied(tmp_path):
    (tmp_path / "001_a.sql").write_text("CREATE TABLE a (x INTEGER);")
    (tmp_path / "003_c.sql").write_text("CREATE TABLE c (x INTEGER);")
    db = Database(tmp_path / "g.duckdb")
    assert db.migrate(tmp_path) == [1, 3]
    (tmp_path / "002_b.sql").write_text("CREATE TABLE b (x INTEGER);")
    assert db.migrate(tmp_path) == [2]
    assert db.migrate(tmp_path) == []


def test_a_failing_migration_leaves_the_schema_unchanged(tmp_path):
    (tmp_path / "001_a.sql").write_text("CREATE TABLE a (x INTEGER);")
    (tmp_path / "002_b.sql").write_text("CREATE TABLE b (x INTEGER); SELECT * FROM no_such_table;")
    db = Database(tmp_path / "m.duckdb")
    with pytest.raises(duckdb.Error):
        db.migrate(tmp_path)
    assert db.schema_version() == 1
    assert db.query("SELECT count(*) FROM information_schema.tables WHERE table_name = 'b'")[0][0] == 0


def test_transaction_rolls_back_on_error(db):
    def boom(cur):
        cur.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
        raise ValueError("stop")

    with pytest.raises(ValueError):
        db.transaction(boom)
    assert db.scalar("SELECT count(*) FROM settings WHERE key = 'x'") == 0


def test_concurrent_writers_to_the_same_row_both_succeed(db):
    """Two volunteers save the same record at once: the second is retried, nothing is lost."""
    db.transaction(lambda c: c.execute("INSERT INTO settings (key, value) VALUES ('count', '0')"))

    def add_one(cur):
        n = int(cur.execute("SELECT value FROM settings WHERE key = 'count'").fetchall()[0][0])
        time.sleep(0.01)   # widen the window so the writers really overlap
        cur.execute("UPDATE settings SET value = ? WHERE key = 'count'", [str(n + 1)])

    errors = []

    def worker():
        try:
            for _ in range(10):
                db.transaction(add_one, attempts=50, backoff=0.002)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert db.scalar("SELECT value FROM settings WHERE key = 'count'") == "40"


def test_a_conflict_that_never_clears_gives_a_plain_message(db):
    db.transaction(lambda c: c.execute("INSERT INTO settings (key, value) VALUES ('k', '0')"))
    blocker = db._con.cursor()
    blocker.begin()
    blocker.execute("UPDATE settings SET value = '1' WHERE key = 'k'")
    try:
        with pytest.raises(DatabaseBusy, match="Nothing was lost"):
            db.transaction(lambda c: c.execute("UPDATE settings SET value = '2' WHERE key = 'k'"),
                           attempts=3, backoff=0.001)
    finally:
        blocker.rollback()
        blocker.close()
    assert db.scalar("SELECT value FROM settings WHERE key = 'k'") == "0"


def test_a_second_process_on_the_same_file_gets_a_clear_message(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "locked.duckdb"
    db = open_database(path)
    code = ("import sys; sys.path.insert(0, '.');\n"
            "from lib.store.db import Database\nfrom lib.errors import UserError\n"
            f"try:\n    Database({str(path)!r})\nexcept UserError as e:\n    print('USERERROR', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(__import__('pathlib').Path(__file__).resolve().parents[2]))
    db.close()
    assert "USERERROR" in out.stdout and "in use by another Kleroterion" in out.stdout


def test_closing_waits_for_a_background_call_instead_of_failing(tmp_path):
    """The automatic sync or a draw may be in the middle of a query when the app shuts
    down; closing used to raise 'connection is busy' and leave the file open."""
    db = open_database(tmp_path / "busy.duckdb")
    result = {}
    started = threading.Event()

    def long_read():
        with db.cursor() as cur:
            started.set()
            result["sum"] = cur.execute("SELECT sum(i * i) FROM range(200000000) t(i)").fetchone()[0]

    thread = threading.Thread(target=long_read)
    thread.start()
    started.wait(5)
    time.sleep(0.2)
    db.close()              # must not raise while the other call runs
    thread.join(30)
    n = 200000000
    assert result["sum"] == (n - 1) * n * (2 * n - 1) // 6      # the other call finished untouched
    with duckdb.connect(str(tmp_path / "busy.duckdb")) as con:   # the file was really released
        assert con.execute("SELECT 1").fetchone() == (1,)
