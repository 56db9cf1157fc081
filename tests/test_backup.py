"""Backup and restore (lib/backup.py): a backup brings the whole assembly back, row for row; anything
wrong with a backup file, or a database that is not empty, is refused in plain words with the database
left exactly as it was."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from lib import backup
from lib.store.db import Database, open_database
from lib.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
PASS = "correct horse battery staple"


@pytest.fixture(scope="module")
def drawn_template(tmp_path_factory):
    """The demo assembly after a real draw, sessions, support, stipends and a closed survey: rows in almost
    every table (built once, copied per test)."""
    from lib import evaluation
    from lib.demo.story import fast_forward
    from tests.draw_fixtures import small_demo_template

    path = small_demo_template(tmp_path_factory.mktemp("backup-template"))
    db = open_database(path)
    fast_forward(db, time_limit=10)
    evaluation.save_waiting(db)
    db.close()
    return path


@pytest.fixture
def source(drawn_template, tmp_path):
    path = tmp_path / "source" / "assembly.duckdb"
    path.parent.mkdir()
    shutil.copy(drawn_template, path)
    db = open_database(path)
    yield db
    db.close()


@pytest.fixture
def empty(tmp_path):
    path = tmp_path / "restored" / "assembly.duckdb"
    db = open_database(path)
    yield db
    db.close()


def snapshot(db: Database) -> dict[str, list]:
    """Every table's rows (in a fixed order) and every sequence's position."""
    out = {}
    with db.cursor() as cur:
        for t in backup._tables(cur):
            out[t] = cur.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall()
        out["<sequences>"] = cur.execute("SELECT sequence_name, last_value FROM duckdb_sequences() "
                                         "ORDER BY 1").fetchall()
    return out


def table_counts(db: Database) -> dict[str, int]:
    with db.cursor() as cur:
        return {t: backup._count(cur, t) for t in backup._tables(cur)}


# --- the round trip ------------------------------------------------------------------------------
@pytest.mark.parametrize("passphrase", [None, PASS], ids=["plain", "locked"])
def test_backup_then_restore_gives_back_every_table_row_for_row(source, empty, passphrase):
    before = snapshot(source)
    assert sum(len(rows) for rows in before.values()) > 5000        # a real assembly, not an empty shell
    assert len([t for t, rows in before.items() if rows]) >= 25

    data = backup.make_backup(source, passphrase=passphrase)
    assert backup.is_encrypted(data) == (passphrase is not None)
    done = backup.restore_backup(empty, data, passphrase=passphrase)

    assert snapshot(empty) == before
    assert done.sign_ups == 603
    # New rows continue the numbering: nothing restored is overwritten by the next draw or session.
    assert empty.scalar("SELECT nextval('session_seq')") == source.scalar("SELECT nextval('session_seq')")
    assert empty.schema_version() == source.schema_version()


def test_a_locked_backup_reveals_nothing_without_its_passphrase(source):
    data = backup.make_backup(source, passphrase=PASS)
    plain = backup.make_backup(source)
    name = source.scalar("SELECT email FROM contacts ORDER BY person_id LIMIT 1")
    assert name and name.encode() not in data and b"contacts" not in data and b"PK\x03\x04" not in data
    with zipfile.ZipFile(io.BytesIO(plain)) as zf:
        assert "export/contacts.parquet" in zf.namelist() and "export/schema.sql" in zf.namelist()


def test_the_export_inside_a_backup_opens_with_plain_duckdb(source, tmp_path):
    """Not locked in: DuckDB's own IMPORT DATABASE reads the backup's export/ folder."""
    with zipfile.ZipFile(io.BytesIO(backup.make_backup(source))) as zf:
        zf.extractall(tmp_path / "unzipped")
    con = duckdb.connect(str(tmp_path / "plain.duckdb"))
    con.execute(f"IMPORT DATABASE '{tmp_path / 'unzipped' / 'export'}'")
    assert con.execute("SELECT count(*) FROM people").fetchall()[0][0] == 603
    con.close()


# --- refusals: the database is left as it was -----------------------------------------------------
def assert_refused(db: Database, data: bytes, *words: str, passphrase: str | None = None) -> str:
    before = snapshot(db)
    with pytest.raises(backup.BackupError) as e:
        backup.restore_backup(db, data, passphrase=passphrase, name="assembly.zip")
    message = str(e.value)
    for w in words:
        assert w in message, message
    assert "Nothing was changed" in message
    assert "Traceback" not in message and "Error:" not in message
    assert snapshot(db) == before
    return message


def test_wrong_or_missing_passphrase_is_refused(source, empty):
    data = backup.make_backup(source, passphrase=PASS)
    assert_refused(empty, data, "passphrase does not open “assembly.zip”", passphrase="correct horse battery stapl")
    assert_refused(empty, data, "locked with a passphrase", passphrase=None)
    backup.restore_backup(empty, data, passphrase=PASS)      # the right one still works afterwards
    assert empty.scalar("SELECT count(*) FROM people") == 603


def test_a_damaged_or_truncated_backup_is_refused(source, empty):
    plain = backup.make_backup(source)
    locked = backup.make_backup(source, passphrase=PASS)
    middle = len(plain) // 2
    flipped = plain[:middle] + bytes([plain[middle] ^ 0x55]) + plain[middle + 1:]
    for bad in (plain[: len(plain) // 2], plain[:-30], flipped, b"name,email\nAda,ada@example.org\n", b""):
        assert_refused(empty, bad, "not a Kleroterion backup, or it is damaged or incomplete")
    for bad in (locked[:-1], locked[: len(locked) // 3], locked[:60] + b"x" + locked[61:]):
        message = assert_refused(empty, bad, passphrase=PASS)
        assert "damaged" in message
    assert table_counts(empty)["people"] == 0


def rezip(data: bytes, change) -> bytes:
    """The backup with its manifest (and files) changed by ``change(manifest, files)``; checksums kept
    consistent, as a careful forger would."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(files.pop("manifest.json"))
    change(manifest, files)
    manifest["files"] = {n: backup._sha256(d) for n, d in files.items() if n != "README.txt"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for n, d in files.items():
            zf.writestr(n, d)
    return buf.getvalue()


def test_a_backup_from_a_newer_version_of_the_app_is_refused(source, empty):
    def newer(manifest, files):
        manifest["migrations"].append([999, "from_the_future"])
        manifest["schema_version"] = 999

    message = assert_refused(empty, rezip(backup.make_backup(source), newer), "newer version of Kleroterion",
                             "999", "Update the app")
    assert "restore it" in message


def test_restoring_into_a_database_that_holds_an_assembly_is_refused(source, tmp_path):
    data = backup.make_backup(source)
    other = open_database(tmp_path / "other.duckdb")
    try:
        backup.restore_backup(other, data)          # a first restore fills it ...
        message = assert_refused(other, data, "already holds an assembly", "603 sign-ups")   # ... a second is refused
        assert "empty database" in message
    finally:
        other.close()
    assert_refused(source, data, "already holds an assembly")


def test_restore_never_runs_sql_from_the_backup(source, empty, tmp_path):
    """A crafted backup whose schema.sql / load.sql would write (or read) a file on the server: restoring
    builds the tables from the app's own migrations and reads only the Parquet files."""
    target = tmp_path / "written-by-the-backup.csv"

    def evil(manifest, files):
        files["export/load.sql"] = f"COPY (SELECT 42) TO '{target}';\n".encode() + files["export/load.sql"]
        files["export/schema.sql"] = f"COPY (SELECT 42) TO '{target}';\n".encode() + files["export/schema.sql"]

    backup.restore_backup(empty, rezip(backup.make_backup(source), evil))
    assert not target.exists()
    assert empty.scalar("SELECT count(*) FROM people") == 603


def test_files_outside_the_backup_layout_are_refused(source, empty):
    def escape(manifest, files):
        files["../../outside.txt"] = b"x"

    assert_refused(empty, rezip(backup.make_backup(source), escape), "not a Kleroterion backup")

    def extra_column(manifest, files):     # a table whose columns do not match its declared layout
        con = duckdb.connect()
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"kl-extra-{os.getpid()}.parquet"
        con.execute(f"COPY (SELECT 'x' AS key, '1' AS value, now() AS updated_at, 'me' AS updated_by, 1 AS extra) "
                    f"TO '{path}' (FORMAT PARQUET)")
        files["export/settings.parquet"] = path.read_bytes()
        path.unlink()
        manifest["tables"]["settings"] = 1

    assert_refused(empty, rezip(backup.make_backup(source), extra_column), "does not match")


def test_a_zip_bomb_is_refused_before_it_fills_memory(source, empty, monkeypatch):
    monkeypatch.setenv("KLEROTERION_MAX_BACKUP_MB", "1")

    def big(manifest, files):
        files["export/padding.sql"] = b"\0" * (3 * 2 ** 20)

    assert_refused(empty, rezip(backup.make_backup(source), big), "more than")


def test_a_backup_from_an_older_version_is_restored_and_brought_up_to_date(tmp_path):
    from lib.store.config import MIGRATIONS_DIR

    old_dir = tmp_path / "old-migrations"
    old_dir.mkdir()
    for p in sorted(MIGRATIONS_DIR.glob("*.sql"))[:7]:
        shutil.copy(p, old_dir / p.name)
    old = Database(tmp_path / "old.duckdb")
    old.migrate(old_dir)
    old.transaction(lambda cur: cur.execute("INSERT INTO strat_fields (field, label, position) VALUES "
                                            "('age', 'Âge', 1)"))
    data = backup.make_backup(old)
    old.close()

    new = open_database(tmp_path / "new.duckdb")
    try:
        done = backup.restore_backup(new, data)
        assert done.schema_version == 7 and done.migrated and max(done.migrated) == new.schema_version()
        assert new.query("SELECT field, label FROM strat_fields") == [("age", "Âge")]
        assert new.schema_version() == open_database(tmp_path / "fresh.duckdb").schema_version()
    finally:
        new.close()


# --- what lives beside the database ----------------------------------------------------------------
def test_the_survey_key_is_left_out_unless_asked_for_and_then_only_locked(source, tmp_path):
    from lib import evaluation as ev

    wave = ev.open_wave(source, "pulse")
    assert backup.open_surveys(source) == 1
    person = source.query("SELECT person_id FROM eval_access_codes ORDER BY person_id LIMIT 1")[0][0]
    code = ev.issue_codes(source, [person], replace=True)[person]

    plain = backup.make_backup(source)
    with zipfile.ZipFile(io.BytesIO(plain)) as zf:
        assert backup.SURVEY_KEY_NAME not in zf.namelist()
    with pytest.raises(UserError, match="only into a backup locked"):
        backup.make_backup(source, include_survey_key=True)
    with_key = backup.make_backup(source, passphrase=PASS, include_survey_key=True)

    def answer(db):
        session = ev.member_sign_in(db, code)
        questions = ev.wave_questions(db, wave.wave_id)["question_id"].tolist()
        ev.submit_answers(db, session, wave.wave_id, {q: 3 for q in questions})

    without = open_database(tmp_path / "without" / "a.duckdb")
    assert backup.restore_backup(without, plain).survey_key == "not in backup"
    with pytest.raises(UserError, match="survey key"):
        answer(without)           # refused in plain words: nobody can answer twice
    without.close()

    restored = open_database(tmp_path / "with" / "a.duckdb")
    evidence = ev.survey_key_path(restored)
    assert backup.restore_backup(restored, with_key, passphrase=PASS).survey_key == "restored"
    assert stat.S_IMODE(evidence.stat().st_mode) == 0o600
    assert evidence.read_bytes() == ev.survey_key_path(source).read_bytes()
    answer(restored)
    assert ev.answer_state(restored, ev.member_sign_in(restored, code), wave.wave_id) == "waiting"
    restored.close()


def test_the_sign_in_key_is_never_in_a_backup(source):
    key_file = Path(source.path + ".session-key")
    key_file.write_text("ab" * 32)
    opened = backup.open_backup(backup.make_backup(source))
    assert all(b"ab" * 32 not in content for content in opened.files.values())
    tables = opened.manifest.tables
    assert set(opened.files) == {f"export/{t}.parquet" for t in tables} | {"export/schema.sql", "export/load.sql"}


def test_someone_signed_in_to_the_empty_database_is_not_signed_in_as_a_restored_account(source, tmp_path):
    """The first organiser of a new deployment signs in (with the set-up code) before restoring. Their account
    number may also be a restored account's: the restore must not turn their session into that person's."""
    from lib.access import accounts

    accounts.invite(source, "Restored Person", "volunteer", actor="test")
    data = backup.make_backup(source)

    target = open_database(tmp_path / "new.duckdb")
    try:
        account, code = accounts.invite(target, "First Organiser", "organiser", actor="test")
        accounts.accept(target, code, "a long passphrase here", "a long passphrase here")
        session_version = accounts.get_account(target, account.account_id).token_epoch
        done = backup.restore_backup(target, data)
        assert done.signed_out
        restored = accounts.get_account(target, account.account_id)
        assert restored is not None and restored.name == "Restored Person"
        assert accounts.still_signed_in(target, account.account_id, str(session_version)) is None
    finally:
        target.close()


# --- scheduled backups and the command line ---------------------------------------------------------
def test_scheduled_backups_are_written_whole_private_and_rotated(source, tmp_path):
    from datetime import datetime, timedelta, timezone

    folder = tmp_path / "backups"
    start = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
    paths = []
    for day in range(4):
        p = backup.write_backup_file(source, folder, passphrase=PASS, keep=3, now=start + timedelta(days=day))
        os.utime(p, (1_000_000 + day, 1_000_000 + day))
        paths.append(p)
    left = sorted(folder.iterdir())
    assert left == sorted(paths[1:])                        # the oldest went, no half-written file is left
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in left)
    assert backup.describe(left[-1].read_bytes(), PASS).tables["people"] == 603


def test_the_app_process_writes_its_own_backup_when_told_where(source, tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("KLEROTERION_BACKUP_DIR", str(tmp_path / "nightly"))
    monkeypatch.setenv("KLEROTERION_BACKUP_HOURS", "24")
    assert backup.start_scheduled_backups(source)
    deadline = time.monotonic() + 30
    while not list((tmp_path / "nightly").glob("kleroterion-backup-*.zip")) and time.monotonic() < deadline:
        time.sleep(0.2)
    made = list((tmp_path / "nightly").glob("kleroterion-backup-*.zip"))
    assert len(made) == 1 and backup.describe(made[0].read_bytes()).tables["people"] == 603
    assert backup.start_scheduled_backups(source)           # once per database: no second thread
    assert len([t for t in __import__("threading").enumerate() if t.name == "kleroterion-backups"]) >= 1


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lib.backup", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_command_line_backup_and_restore(drawn_template, tmp_path):
    db_path = tmp_path / "a.duckdb"
    shutil.copy(drawn_template, db_path)
    out = tmp_path / "b.zip"
    r = run_cli("backup", "--db", str(db_path), "--out", str(out), "--passphrase-env", "KL_PASS",
                env={"KL_PASS": PASS})
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    r = run_cli("restore", "--db", str(tmp_path / "c.duckdb"), "--from", str(out), "--passphrase-env", "KL_PASS",
                env={"KL_PASS": "not the passphrase"})
    assert r.returncode == 1 and "passphrase does not open" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("restore", "--db", str(tmp_path / "c.duckdb"), "--from", str(out), "--passphrase-env", "KL_PASS",
                env={"KL_PASS": PASS})
    assert r.returncode == 0, r.stderr
    assert "603 sign-ups" in r.stdout
    r = run_cli("restore", "--db", str(tmp_path / "c.duckdb"), "--from", str(out), "--passphrase-env", "KL_PASS",
                env={"KL_PASS": PASS})
    assert r.returncode == 1 and "already holds an assembly" in r.stderr and "Traceback" not in r.stderr


def test_command_line_backup_while_the_app_holds_the_database_says_what_to_do(drawn_template, tmp_path):
    """Measured: DuckDB lets one process open the file; a second cannot even read it while the app runs."""
    db_path = tmp_path / "a.duckdb"
    shutil.copy(drawn_template, db_path)
    app = open_database(db_path)       # this process plays the running app
    try:
        r = run_cli("backup", "--db", str(db_path), "--out", str(tmp_path / "b.zip"))
    finally:
        app.close()
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "KLEROTERION_BACKUP_DIR" in r.stderr and "The app is running" in r.stderr
    assert not (tmp_path / "b.zip").exists()


def test_data_that_breaks_the_tables_rules_is_refused_whole(source, empty):
    """Two sign-ups with one pseudonym (a primary key twice), or words where a number belongs: refused in
    plain words, and the tables already filled in the same restore are rolled back."""
    def duplicate_person(manifest, files):
        con = duckdb.connect()
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"kl-dup-{os.getpid()}.parquet"
        src = Path(os.environ.get("TMPDIR", "/tmp")) / f"kl-src-{os.getpid()}.parquet"
        src.write_bytes(files["export/people.parquet"])
        con.execute(f"COPY (SELECT * FROM read_parquet('{src}') UNION ALL (SELECT * FROM read_parquet('{src}') "
                    f"LIMIT 1)) TO '{path}' (FORMAT PARQUET)")
        files["export/people.parquet"] = path.read_bytes()
        manifest["tables"]["people"] += 1
        path.unlink()
        src.unlink()

    assert_refused(empty, rezip(backup.make_backup(source), duplicate_person), "does not match", "damaged")


def test_a_sequence_far_beyond_any_assembly_is_refused_without_counting_to_it(source, empty):
    import time

    def huge(manifest, files):
        manifest["sequences"]["person_seq"] = 2 ** 60

    started = time.monotonic()
    assert_refused(empty, rezip(backup.make_backup(source), huge), "not a Kleroterion backup")
    assert time.monotonic() - started < 30
