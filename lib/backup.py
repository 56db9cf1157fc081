"""Backups of a whole assembly, and restoring one into an empty database. Pure Python.

A backup is one file:

* a zip holding ``manifest.json`` (what the backup holds: the database layout it was made with, every
  table's row count and the SHA-256 of every file), ``export/`` (DuckDB's ``EXPORT DATABASE`` in
  Parquet: ``schema.sql``, ``load.sql`` and one ``<table>.parquet`` per table, so that plain DuckDB can
  read it too: ``IMPORT DATABASE 'export'``) and ``README.txt``;
* or that zip locked with a passphrase (``ENCRYPTED_MAGIC``, then a one-line JSON header, then the
  zip encrypted with AES-256-GCM under a key derived from the passphrase with scrypt; the header is
  authenticated too). A wrong passphrase and a damaged file are both refused by the authentication.

Restoring never runs SQL from the backup (a crafted ``load.sql`` could read or write any file the
server can): the tables are made by our own migrations, at the backup's layout, and filled from the
Parquet files only; then the migrations the backup did not have yet are applied. Everything happens in
one transaction, after every check has passed: a refused or failed restore leaves the database as it
was. Only an empty database (no assembly: see ``assembly_summary``) can be restored into.

What is not in a backup, and why (docs/DEPLOYING.md, "Backups"):

* the sign-in key (``<database>.session-key``): it only signs "stay signed in" cookies; a copy in a
  backup would let whoever holds the backup forge them. After a restore people sign in again.
* the survey key (``<database>.survey-key``), unless the organiser asks for it, and then only in a
  backup locked with a passphrase: whoever holds the key and the access codes can tell which members
  answered a survey (docs/EVALUATION.md). It is needed only while a survey or a round of members'
  questions is open: without it the restored app refuses new answers to that survey (never lets anyone
  answer twice), and the organisers close it and open a new one.
* answers that wait in the server's memory for a batch (at most 9 per survey, docs/EVALUATION.md).

DuckDB lets one process open the file: a second process cannot even read it while the app runs. So the
app makes scheduled backups itself (``KLEROTERION_BACKUP_DIR``, see ``start_scheduled_backups``), and
``python -m lib.backup backup`` works when the app is stopped.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import secrets
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb

from lib.store.db import Database, migrations
from lib.errors import UserError

FORMAT = "kleroterion-backup"
FORMAT_VERSION = 1
ENCRYPTED_MAGIC = b"KLEROTERION ENCRYPTED BACKUP 1\n"
ZIP_MAGIC = b"PK\x03\x04"
MIN_PASSPHRASE = 10
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1  # about 0.3 s and 128 MB on a small server
_SCRYPT_N_ALLOWED = range(14, 21)  # 2**14 .. 2**20: a file cannot ask for more memory
MAX_UNPACKED_BYTES_DEFAULT = 2**30  # what a backup may unpack to (KLEROTERION_MAX_BACKUP_MB)
MAX_SEQUENCE = 10**8  # no real assembly numbers anything this far
SURVEY_KEY_NAME = "survey-key"

# Tables that a new, empty deployment may already have rows in: the layout record, settings, the sync log
# and signing in (the first organiser signs in before restoring). Everything else is the assembly.
HOUSEKEEPING = frozenset({"schema_version", "settings", "sync_log", "accounts", "account_events", "signed_out_tokens"})

_EXPORT_FILE = re.compile(r"^export/([a-z0-9_]{1,64})\.(parquet|sql)$")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")

NOT_A_BACKUP = (
    "“{name}” is not a Kleroterion backup, or it is damaged or incomplete (for example a download "
    "that stopped half-way). Nothing was changed. Try the backup file again, or an older one."
)
LOCKED = (
    "“{name}” is locked with a passphrase. Type the passphrase that was chosen when the backup was made. "
    "Nothing was changed."
)
WRONG_PASSPHRASE = (
    "The passphrase does not open “{name}” (or the file was damaged). Check the passphrase: "
    "capital letters and spaces count. Nothing was changed."
)


class BackupError(UserError):
    """A backup that cannot be made or restored, in plain words. The database is unchanged."""


class NotEmpty(BackupError):
    """Restoring was refused because the database already holds an assembly."""


@dataclass
class Manifest:
    schema_migrations: list[tuple[int, str]]
    created_at: str
    tables: dict[str, int]
    sequences: dict[str, int]
    files: dict[str, str]
    survey_key: bool = False
    assembly: str = ""

    @property
    def schema_version(self) -> int:
        return max((v for v, _n in self.schema_migrations), default=0)

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": self.created_at,
            "assembly": self.assembly,
            "schema_version": self.schema_version,
            "migrations": [[v, n] for v, n in self.schema_migrations],
            "tables": self.tables,
            "sequences": self.sequences,
            "files": self.files,
            "survey_key": self.survey_key,
        }


@dataclass
class Restored:
    """What a restore brought back (for the page's and the command line's message)."""

    schema_version: int
    tables: dict[str, int]
    created_at: str
    assembly: str
    survey_key: str  # "restored" | "kept out" | "not in backup" | "in settings"
    signed_out: bool = False  # accounts that were in the database before were signed out
    migrated: list[int] = field(default_factory=list)

    @property
    def sign_ups(self) -> int:
        return self.tables.get("people", 0)


# --- what the database holds -------------------------------------------------------------------
def _tables(cur) -> list[str]:
    rows = cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT internal "
        "AND NOT temporary ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def _count(cur, table: str) -> int:
    return int(cur.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0])


def assembly_summary(db_or_cur) -> str | None:
    """None when the database holds no assembly (so a backup may be restored into it); otherwise what it
    holds, in plain words (e.g. "603 sign-ups, 1 draw and other records")."""
    if isinstance(db_or_cur, Database):
        with db_or_cur.cursor() as cur:
            return assembly_summary(cur)
    cur = db_or_cur
    counts = {t: _count(cur, t) for t in _tables(cur) if t not in HOUSEKEEPING}
    if not any(counts.values()):
        return None
    parts = []
    for table, one, many in (
        ("people", "sign-up", "sign-ups"),
        ("strat_fields", "question to balance on", "questions to balance on"),
        ("target_versions", "set of targets", "sets of targets"),
        ("draws", "draw", "draws"),
        ("members", "member", "members"),
    ):
        n = counts.get(table, 0)
        if n:
            parts.append(f"{n:,} {one if n == 1 else many}")
    if not parts:
        return "some records"
    return ", ".join(parts) + " and other records"


def open_surveys(db: Database) -> int:
    """Surveys and rounds of members' questions that are open (their marks depend on the survey key)."""
    n = 0
    with db.cursor() as cur:
        names = set(_tables(cur))
        for table in ("eval_waves", "eval_rounds"):
            if table in names:
                n += int(cur.execute(f"SELECT count(*) FROM {table} WHERE status = 'open'").fetchall()[0][0])
    return n


# --- making a backup ---------------------------------------------------------------------------
def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _assembly_name(cur) -> str:
    try:
        rows = cur.execute("SELECT value FROM settings WHERE key = 'assembly'").fetchall()
        return str(json.loads(rows[0][0]).get("name") or "") if rows else ""
    except Exception:  # noqa: BLE001 - a name is only a label in the manifest
        return ""


def _survey_key_bytes(db: Database) -> bytes | None:
    from lib import evaluation

    path = evaluation.survey_key_path(db)
    if path is None or not path.exists():
        return None
    return path.read_bytes()


def make_backup(
    db: Database, *, passphrase: str | None = None, include_survey_key: bool = False, now: datetime | None = None
) -> bytes:
    """The whole assembly as one backup file (bytes), consistent as of one moment: the export runs in one
    read transaction while the app goes on. Locked with ``passphrase`` when one is given."""
    if passphrase is not None:
        problem = passphrase_problem(passphrase)
        if problem:
            raise BackupError(problem)
    if include_survey_key and passphrase is None:
        raise BackupError(
            "The survey key goes only into a backup locked with a passphrase: choose a passphrase, "
            "or leave the survey key out."
        )
    survey_key = _survey_key_bytes(db) if include_survey_key else None
    if include_survey_key and survey_key is None:
        raise BackupError(
            "There is no survey key file to include (the key comes from the app's settings, or no "
            "survey has used one yet). Leave the survey key out."
        )
    created = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    with tempfile.TemporaryDirectory(prefix="kleroterion-backup-") as tmp:
        export_dir = Path(tmp) / "export"
        cur = db._con.cursor()  # noqa: SLF001 - one read transaction: a consistent snapshot
        try:
            cur.begin()
            sql_path = str(export_dir).replace("'", "''")
            cur.execute(f"EXPORT DATABASE '{sql_path}' (FORMAT PARQUET)")
            tables = {t: _count(cur, t) for t in _tables(cur)}
            applied = [
                (int(v), str(n))
                for v, n in cur.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()
            ]
            assembly = _assembly_name(cur)
            cur.commit()
            # Read after the snapshot: a sequence may only be ahead of the rows, never behind.
            sequences = {
                str(name): int(last)
                for name, last in cur.execute(
                    "SELECT sequence_name, last_value FROM duckdb_sequences() WHERE schema_name = 'main' "
                    "AND NOT temporary"
                ).fetchall()
                if last is not None
            }
        except BaseException:
            try:
                cur.rollback()
            except Exception:  # noqa: BLE001
                pass
            raise
        finally:
            cur.close()
        files: dict[str, bytes] = {}
        for path in sorted(export_dir.iterdir()):
            files[f"export/{path.name}"] = path.read_bytes()
        missing = [t for t in tables if f"export/{t}.parquet" not in files]
        if missing:  # DuckDB named a file otherwise: never hand out a backup that cannot be restored
            raise RuntimeError(f"EXPORT DATABASE wrote no file for the tables {missing}")
    if survey_key is not None:
        files[SURVEY_KEY_NAME] = survey_key
    manifest = Manifest(
        applied,
        created.isoformat(timespec="seconds"),
        tables,
        sequences,
        {name: _sha256(data) for name, data in files.items()},
        survey_key is not None,
        assembly,
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest.to_json(), indent=1, sort_keys=True))
        zf.writestr("README.txt", _readme(manifest))
        for name, data in files.items():
            zf.writestr(name, data)
    data = buf.getvalue()
    return encrypt(data, passphrase) if passphrase is not None else data


def _readme(m: Manifest) -> str:
    return (
        f"Kleroterion backup of {m.assembly or 'an assembly'}, made {m.created_at} (database layout "
        f"{m.schema_version}).\n\nRestore it in the app (organisers: 'Backup and restore', on an empty "
        "database) or with:\n  python -m lib.backup restore --db NEW.duckdb --from THIS_FILE\n\n"
        "export/ is DuckDB's EXPORT DATABASE (Parquet); plain DuckDB can read it with IMPORT DATABASE.\n"
        "It holds personal data (names and contacts of everyone who signed up): keep it safe.\n"
    )


def backup_filename(db: Database | None = None, *, encrypted: bool = False, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%d-%H%M")
    return f"kleroterion-backup-{stamp}{'-locked' if encrypted else ''}.zip"


# --- passphrases and encryption ----------------------------------------------------------------
def passphrase_problem(passphrase: str, again: str | None = None) -> str | None:
    if again is not None and passphrase != again:
        return "The two passphrases are not the same. Please type them again."
    if len(passphrase or "") < MIN_PASSPHRASE:
        return (
            f"Please use a passphrase of at least {MIN_PASSPHRASE} characters (a few unrelated words are easy "
            "to remember and hard to guess). Without it, the backup cannot be opened: keep it somewhere safe."
        )
    return None


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def is_encrypted(data: bytes) -> bool:
    return data.startswith(ENCRYPTED_MAGIC)


def encrypt(data: bytes, passphrase: str) -> bytes:
    """``data`` locked with ``passphrase``: scrypt (a fresh random salt) then AES-256-GCM (a fresh nonce); the
    header line is authenticated as associated data, so changing it is detected like a wrong passphrase."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header = (
        json.dumps(
            {
                "kdf": "scrypt",
                "n": SCRYPT_N,
                "r": SCRYPT_R,
                "p": SCRYPT_P,
                "salt": base64.b64encode(salt).decode(),
                "cipher": "AES-256-GCM",
                "nonce": base64.b64encode(nonce).decode(),
            },
            sort_keys=True,
        ).encode()
        + b"\n"
    )
    key = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return ENCRYPTED_MAGIC + header + AESGCM(key).encrypt(nonce, data, ENCRYPTED_MAGIC + header)


def decrypt(data: bytes, passphrase: str | None, *, name: str = "the backup") -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not passphrase:
        raise BackupError(LOCKED.format(name=name))
    rest = data[len(ENCRYPTED_MAGIC) :]
    line_end = rest.find(b"\n", 0, 2048)
    try:
        if line_end < 0:
            raise ValueError("no header")
        header_bytes = rest[: line_end + 1]
        h = json.loads(header_bytes)
        salt, nonce = base64.b64decode(h["salt"], validate=True), base64.b64decode(h["nonce"], validate=True)
        n, r, p = int(h["n"]), int(h["r"]), int(h["p"])
        if (
            (h.get("kdf"), h.get("cipher")) != ("scrypt", "AES-256-GCM")
            or n.bit_length() - 1 not in _SCRYPT_N_ALLOWED
            or n & (n - 1)
            or r != 8
            or p != 1
            or len(salt) < 16
            or len(nonce) != 12
        ):
            raise ValueError("unexpected header")
    except (ValueError, KeyError, TypeError):
        raise BackupError(NOT_A_BACKUP.format(name=name)) from None
    key = _derive(passphrase, salt, n, r, p)
    try:
        return AESGCM(key).decrypt(nonce, rest[line_end + 1 :], ENCRYPTED_MAGIC + header_bytes)
    except InvalidTag:
        raise BackupError(WRONG_PASSPHRASE.format(name=name)) from None


# --- reading a backup --------------------------------------------------------------------------
def max_unpacked_bytes() -> int:
    raw = os.environ.get("KLEROTERION_MAX_BACKUP_MB", "").strip()
    try:
        return int(float(raw) * 2**20) if raw and float(raw) > 0 else MAX_UNPACKED_BYTES_DEFAULT
    except ValueError:
        return MAX_UNPACKED_BYTES_DEFAULT


@dataclass
class _Opened:
    manifest: Manifest
    files: dict[str, bytes]


def _manifest(raw: bytes, name: str) -> Manifest:
    bad = BackupError(NOT_A_BACKUP.format(name=name))
    try:
        m = json.loads(raw)
        if m.get("format") != FORMAT:
            raise bad
        if int(m.get("format_version", 0)) > FORMAT_VERSION:
            raise BackupError(
                f"“{name}” was made by a newer version of Kleroterion (backup format "
                f"{m.get('format_version')}). Update the app, then restore it. Nothing was changed."
            )
        applied = [(int(v), str(n)) for v, n in m["migrations"]]
        tables = {str(t): int(c) for t, c in m["tables"].items()}
        sequences = {str(s): int(v) for s, v in m.get("sequences", {}).items()}
        files = {str(f): str(h) for f, h in m["files"].items()}
        if not all(_IDENT.match(x) for x in list(tables) + list(sequences)):
            raise bad
        if any(c < 0 for c in tables.values()) or any(v < 0 or v > MAX_SEQUENCE for v in sequences.values()):
            raise bad
        return Manifest(
            applied,
            str(m.get("created_at", "")),
            tables,
            sequences,
            files,
            bool(m.get("survey_key")),
            str(m.get("assembly") or ""),
        )
    except BackupError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError):
        raise bad from None


def open_backup(data: bytes, passphrase: str | None = None, *, name: str = "the backup") -> _Opened:
    """Check a backup file completely (passphrase, zip, every file's checksum, the database layout) without
    touching any database. Raises BackupError with a plain message."""
    if is_encrypted(data):
        data = decrypt(data, passphrase, name=name)
    if not data.startswith(ZIP_MAGIC):
        raise BackupError(NOT_A_BACKUP.format(name=name))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            manifest, files = _read_zip(zf, name)
    except BackupError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError):
        raise BackupError(NOT_A_BACKUP.format(name=name)) from None
    if set(files) != set(manifest.files):
        raise BackupError(NOT_A_BACKUP.format(name=name))
    for fname, digest in manifest.files.items():
        if _sha256(files[fname]) != digest:
            raise BackupError(NOT_A_BACKUP.format(name=name))
    if any(f"export/{t}.parquet" not in files for t in manifest.tables):
        raise BackupError(NOT_A_BACKUP.format(name=name))
    _check_layout(manifest, name)
    return _Opened(manifest, files)


def _read_zip(zf: zipfile.ZipFile, name: str) -> tuple[Manifest, dict[str, bytes]]:
    """The backup's manifest and files: only the files a backup holds, each once, within the size limit."""
    limit = max_unpacked_bytes()
    infos = zf.infolist()
    names = [i.filename for i in infos]
    if len(set(names)) != len(names) or "manifest.json" not in names:
        raise BackupError(NOT_A_BACKUP.format(name=name))
    for n in names:
        if n not in ("manifest.json", "README.txt", SURVEY_KEY_NAME) and not _EXPORT_FILE.match(n):
            raise BackupError(NOT_A_BACKUP.format(name=name))
    if sum(i.file_size for i in infos) > limit:
        raise BackupError(
            f"“{name}” would unpack to more than {limit // 2**20:,} MB, more than this app "
            "accepts (KLEROTERION_MAX_BACKUP_MB). Nothing was changed."
        )
    manifest = _manifest(zf.read("manifest.json"), name)
    files: dict[str, bytes] = {}
    total = 0
    for info in infos:
        if info.filename in ("manifest.json", "README.txt"):
            continue
        with zf.open(info) as f:  # read in pieces: the sizes in a zip's index can lie
            chunks = []
            while chunk := f.read(1 << 20):
                total += len(chunk)
                if total > limit:
                    raise BackupError(f"“{name}” unpacks to more than this app accepts. Nothing was changed.")
                chunks.append(chunk)
        files[info.filename] = b"".join(chunks)
    return manifest, files


def _check_layout(manifest: Manifest, name: str) -> None:
    ours = {v: n for v, n, _sql in migrations()}
    unknown = [v for v, _n in manifest.schema_migrations if v not in ours]
    if unknown:
        raise BackupError(
            f"“{name}” was made by a newer version of Kleroterion (its database layout {max(unknown)} is newer than "
            f"this app's {max(ours, default=0)}). Update the app to the version that made the backup or later, then "
            "restore it. Nothing was changed."
        )
    different = [v for v, n in manifest.schema_migrations if ours[v] != n]
    if different:
        raise BackupError(
            f"“{name}” was made by a different edition of Kleroterion (its database layout "
            f"{different[0]} is not this app's). Nothing was changed."
        )


def describe(data: bytes, passphrase: str | None = None, *, name: str = "the backup") -> Manifest:
    """What a backup holds (after checking it completely)."""
    return open_backup(data, passphrase, name=name).manifest


# --- restoring ---------------------------------------------------------------------------------
_SCHEMA_VERSION_DDL = (
    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
    "applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
)


def _drop_everything(cur) -> None:
    for (name,) in cur.execute(
        "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal AND NOT temporary"
    ).fetchall():
        cur.execute(f'DROP VIEW "{name}"')
    for name in _tables(cur):
        cur.execute(f'DROP TABLE "{name}"')
    for (name,) in cur.execute(
        "SELECT sequence_name FROM duckdb_sequences() WHERE schema_name = 'main' AND NOT temporary"
    ).fetchall():
        cur.execute(f'DROP SEQUENCE "{name}"')
    for name, kind in cur.execute(
        "SELECT DISTINCT function_name, function_type FROM duckdb_functions() "
        "WHERE schema_name = 'main' AND NOT internal AND function_type IN "
        "('macro', 'table_macro')"
    ).fetchall():
        cur.execute(f'DROP {"MACRO TABLE" if kind == "table_macro" else "MACRO"} IF EXISTS "{name}"')
    for (name,) in cur.execute(
        "SELECT type_name FROM duckdb_types() WHERE schema_name = 'main' AND NOT internal "
        "AND database_name = current_database()"
    ).fetchall():
        cur.execute(f'DROP TYPE IF EXISTS "{name}"')


def _columns(cur, table: str) -> list[str]:
    return [
        r[0]
        for r in cur.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND "
            "table_name = ? ORDER BY column_index",
            [table],
        ).fetchall()
    ]


def _fill(cur, table: str, path: Path, expected_rows: int, name: str) -> None:
    cols = _columns(cur, table)
    lit = str(path).replace("'", "''")
    got = [r[0] for r in cur.execute(f"DESCRIBE SELECT * FROM read_parquet('{lit}')").fetchall()]
    if got != cols:
        raise BackupError(f"“{name}” does not match its own database layout (table {table}). Nothing was changed.")
    col_list = ", ".join(f'"{c}"' for c in cols)
    cur.execute(f"INSERT INTO \"{table}\" ({col_list}) SELECT {col_list} FROM read_parquet('{lit}')")
    if _count(cur, table) != expected_rows:
        raise BackupError(NOT_A_BACKUP.format(name=name))


def restore_backup(
    db: Database,
    data: bytes,
    *,
    passphrase: str | None = None,
    name: str = "the backup",
    restore_survey_key: bool = True,
) -> Restored:
    """Restore a backup into ``db``, which must hold no assembly. One transaction: on any refusal or failure
    the database is exactly as it was. Then the migrations newer than the backup are applied."""
    opened = open_backup(data, passphrase, name=name)
    m = opened.manifest
    signed_out = {"flag": False}

    with tempfile.TemporaryDirectory(prefix="kleroterion-restore-") as tmp:
        for fname, content in opened.files.items():
            if fname.endswith(".parquet"):
                (Path(tmp) / fname.split("/", 1)[1]).write_bytes(content)

        def restore(cur) -> None:
            signed_out["flag"] = _restore_into(cur, m, Path(tmp), name)

        try:
            db.transaction(restore, attempts=1)
        except duckdb.Error:  # e.g. a value of the wrong kind, or two rows with one key: all rolled back
            raise BackupError(
                f"“{name}” does not match its own database layout, or its data is damaged. Nothing was changed."
            ) from None
    migrated = db.migrate()
    key_state = _restore_survey_key(db, opened, restore_survey_key)
    return Restored(m.schema_version, dict(m.tables), m.created_at, m.assembly, key_state, signed_out["flag"], migrated)


def _restore_into(cur, m: Manifest, folder: Path, name: str) -> bool:
    """Inside the restore's transaction: refuse a database that holds an assembly, replace everything with
    the backup's layout and rows, and move its sequences on. True when the accounts' epochs were raised
    (browsers signed in to the empty database are signed out)."""
    holds = assembly_summary(cur)
    if holds:
        raise NotEmpty(
            f"This database already holds an assembly ({holds}), so “{name}” was not restored: restoring "
            "replaces everything, so it only goes into an empty database. Nothing was changed. Start the "
            "app on a new, empty database (with the demo off) and restore there: see docs/DEPLOYING.md."
        )
    names = set(_tables(cur))
    epoch = None
    if "accounts" in names and _count(cur, "accounts"):
        epoch = int(cur.execute("SELECT coalesce(max(token_epoch), 0) FROM accounts").fetchall()[0][0])
    _drop_everything(cur)
    cur.execute(_SCHEMA_VERSION_DDL)
    backup_versions = {v for v, _n in m.schema_migrations}
    for version, _n, sql in migrations():
        if version in backup_versions:
            cur.execute(sql)
    tables = set(_tables(cur))
    if tables != set(m.tables):
        raise BackupError(f"“{name}” does not match its own database layout. Nothing was changed.")
    for table in sorted(tables):
        _fill(cur, table, folder / f"{table}.parquet", m.tables[table], name)
    sequences = {
        r[0] for r in cur.execute("SELECT sequence_name FROM duckdb_sequences() WHERE schema_name = 'main'").fetchall()
    }
    for seq, last in m.sequences.items():
        if seq in sequences and last > 0:
            cur.execute(f"SELECT max(nextval('{seq}')) FROM range({int(last)})").fetchall()
    if epoch is not None and "accounts" in tables:
        # Someone signed in to the empty database (the first organiser): raise every restored account's
        # epoch past the old ones, so that no browser signed in before the restore holds an account
        # of the backup that happens to have the same number.
        cur.execute("UPDATE accounts SET token_epoch = token_epoch + ?", [epoch + 1])
        return True
    return False


def _restore_survey_key(db: Database, opened: _Opened, wanted: bool) -> str:
    from lib import evaluation

    key = opened.files.get(SURVEY_KEY_NAME)
    if key is None:
        return "not in backup"
    if not wanted:
        return "kept out"
    path = evaluation.survey_key_path(db)
    if path is None:
        return "in settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".restoring")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    os.replace(tmp, path)
    # The app keeps the key it read in memory, beside the (empty) database's waiting answers: forget it, so
    # the next survey action reads the restored key. The database was empty, so nothing waited.
    state = getattr(db, "_kleroterion_survey_state", None)
    if state is not None and not any(state.waiting.values()):
        delattr(db, "_kleroterion_survey_state")
    return "restored"


# --- scheduled backups, made by the app's own process -------------------------------------------
_scheduled: dict[str, threading.Thread] = {}
_scheduled_lock = threading.Lock()
SCHEDULE_ENV = (
    "KLEROTERION_BACKUP_DIR",
    "KLEROTERION_BACKUP_HOURS",
    "KLEROTERION_BACKUP_KEEP",
    "KLEROTERION_BACKUP_PASSPHRASE",
)


def write_backup_file(
    db: Database, directory: Path, *, passphrase: str | None = None, keep: int = 14, now: datetime | None = None
) -> Path:
    """Write one backup into ``directory`` (readable by the server's user only; written under a temporary
    name then renamed, so a copy taken at any moment is whole) and delete all but the newest ``keep``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data = make_backup(db, passphrase=passphrase, now=now)
    target = directory / backup_filename(encrypted=passphrase is not None, now=now)
    tmp = directory / (".writing-" + target.name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    made = sorted(directory.glob("kleroterion-backup-*.zip"), key=lambda p: p.stat().st_mtime)
    for old in made[: -max(1, keep)]:
        old.unlink(missing_ok=True)
    return target


def start_scheduled_backups(db: Database, *, log: Callable[[str], None] | None = None) -> bool:
    """When KLEROTERION_BACKUP_DIR is set, a background thread of the app writes a backup there at start and
    then every KLEROTERION_BACKUP_HOURS (default 24), keeping KLEROTERION_BACKUP_KEEP (default 14), locked
    with KLEROTERION_BACKUP_PASSPHRASE when set. Once per database per process. True when running."""
    directory = os.environ.get("KLEROTERION_BACKUP_DIR", "").strip()
    if not directory:
        return False
    try:
        hours = float(os.environ.get("KLEROTERION_BACKUP_HOURS", "24") or 24)
        keep = int(os.environ.get("KLEROTERION_BACKUP_KEEP", "14") or 14)
    except ValueError:
        hours, keep = 24.0, 14
    hours = max(hours, 1 / 60)
    passphrase = os.environ.get("KLEROTERION_BACKUP_PASSPHRASE") or None
    say = log or (lambda text: None)
    if passphrase and passphrase_problem(passphrase):
        say(f"Scheduled backups are OFF: KLEROTERION_BACKUP_PASSPHRASE is shorter than {MIN_PASSPHRASE} characters.")
        return False
    with _scheduled_lock:
        running = _scheduled.get(db.path)
        if running is not None and running.is_alive():
            return True

        def loop() -> None:
            while True:
                try:
                    path = write_backup_file(db, Path(directory), passphrase=passphrase, keep=keep)
                    say(f"Scheduled backup written: {path}")
                except Exception as e:  # noqa: BLE001 - keep trying at the next turn; say why in the log
                    say(f"Scheduled backup FAILED ({type(e).__name__}: {e}); trying again in {hours:g} hours.")
                time.sleep(hours * 3600)

        thread = threading.Thread(target=loop, name="kleroterion-backups", daemon=True)
        _scheduled[db.path] = thread
        thread.start()
    return True


# --- command line ------------------------------------------------------------------------------
def _passphrase_from_env(var: str | None) -> str | None:
    if not var:
        return None
    value = os.environ.get(var)
    if value is None:
        raise BackupError(f"The setting {var} (--passphrase-env) is not set: put the passphrase in it first.")
    return value


def _open_for_cli(path: str, *, read_only: bool) -> Database:
    from lib.store.db import open_database

    if read_only:
        if not Path(path).exists():
            raise BackupError(f"There is no database at {path}.")
        try:
            return Database(path, read_only=True)
        except UserError:
            raise BackupError(
                f"The app is running and holds {path}: DuckDB lets only one program open the file. While the app "
                "runs, use its scheduled backups (KLEROTERION_BACKUP_DIR) or the “Backup and restore” page; see "
                "docs/DEPLOYING.md."
            ) from None
    return open_database(path)


def main(argv: list[str] | None = None) -> int:
    """python -m lib.backup backup --db PATH --out FILE [--passphrase-env VAR]
    python -m lib.backup restore --db PATH --from FILE [--passphrase-env VAR]"""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m lib.backup", description="Back up or restore an assembly.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser(
        "backup",
        help="write a backup of the database (the app must be stopped; while it runs, "
        "use its scheduled backups, KLEROTERION_BACKUP_DIR)",
    )
    b.add_argument("--db", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--passphrase-env", metavar="VAR", help="lock the backup with the passphrase in this setting")
    r = sub.add_parser("restore", help="restore a backup into an empty (or new) database")
    r.add_argument("--db", required=True)
    r.add_argument("--from", dest="source", required=True)
    r.add_argument("--passphrase-env", metavar="VAR")
    args = parser.parse_args(argv)
    try:
        passphrase = _passphrase_from_env(args.passphrase_env)
        if args.command == "backup":
            db = _open_for_cli(args.db, read_only=True)
            try:
                data = make_backup(db, passphrase=passphrase)
            finally:
                db.close()
            out = Path(args.out)
            tmp = out.with_name(out.name + ".writing")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, out)
            print(f"Backup written: {out} ({len(data):,} bytes{', locked with the passphrase' if passphrase else ''}).")
            return 0
        try:
            data = Path(args.source).read_bytes()
        except OSError as e:
            raise BackupError(f"Cannot read {args.source}: {e.strerror or e}.") from None
        db = _open_for_cli(args.db, read_only=False)
        try:
            done = restore_backup(db, data, passphrase=passphrase, name=Path(args.source).name)
        finally:
            db.close()
        print(
            f"Restored {done.sign_ups:,} sign-ups and everything else from the backup made {done.created_at} "
            f"into {args.db}."
        )
        return 0
    except UserError as e:
        print(str(e), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
