"""The command line for organisers and scripts: ``python -m lib.cli COMMAND …``.

    init    --db PATH --name TEXT --panel-size N --fields FILE (--targets FILE | --quotas FILE) [--households]
    sync    --db PATH (--file FILE [--sheet NAME] [--encoding CODEC] | --google-sheet URL_OR_KEY --worksheet NAME
            [--credentials FILE]) [--mapping FILE] [--yes] [--json]
    export  --db PATH --out DIR [--format benchmark|sortition-foundation]
    backup  --db PATH --out FILE [--passphrase-env VAR]
    restore --db PATH --from FILE [--passphrase-env VAR]
    status  --db PATH [--json]

It does what the app's pages do, with the same library functions (lib/recruitment/assembly_setup.py, lib/recruitment/signups/,
lib/draws/records.py, lib/backup.py), so a script and the app can never disagree on what a file means.

Exit status: 0 done; 1 bad input or a refusal, with a plain message naming the file, the row and the
column where there is one (and nothing changed); 3 a sync that waits for a confirmation (it would mark
more than the set share of the people signed up as gone, or change the pool while a draw is being
prepared): nothing changed, run it again with ``--yes`` to go ahead. Never a traceback
(``KLEROTERION_DEBUG=1`` shows one, for a bug report).

DuckDB lets only one program open a database file at a time: while the app runs with a database, these
commands cannot open it and say so; stop the app first, or use the app's own page.

The mapping file (``sync --mapping FILE``) is a CSV file with the header ``role,column`` and one row per
column to use: ``role`` is ``id`` (a response id or timestamp), ``name``, ``email``, ``phone``,
``address``, ``postcode``, or ``field:KEY`` for a question (its short name or its name, e.g.
``field:age`` or ``field:Age band``); ``column`` is the column's header in the sheet, exactly. Without
one, the columns chosen last time are used when they are all in the sheet, else they are guessed from the
headers (the questions' wording, names and short names; contact columns by their usual names). The
columns used are saved for the app and the next sync.

Google credentials for ``sync --google-sheet`` (the service account's JSON key, see
docs/GOOGLE_SHEETS.md), looked for in this order: ``--credentials FILE``; the file named by
``GOOGLE_APPLICATION_CREDENTIALS``; the ``[gcp_service_account]`` table of the app's own
``.streamlit/secrets.toml`` (in the current folder, then in the app's folder).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lib.errors import UserError, run_command

EXIT_OK, EXIT_INPUT, EXIT_CONFIRM = 0, 1, 3
ACTOR = "command line"
PROG = "python -m lib.cli"
APP_RUNNING = (
    "The app is running with this database ({path}): stop it first, or use the app's own page{page}. "
    "(DuckDB lets only one program at a time open a database file: if the app is not running, another "
    "command still is; wait for it to finish.)"
)


class CliError(UserError):
    """A refusal or bad input: the message is printed as it is, the exit status is 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits with 2; here bad input is 1
        raise CliError(f"{message} (see: {self.prog} --help)")


# --- files and the database -------------------------------------------------------------------------
def _read_file(path: str, what: str, limit: int | None = None) -> bytes:
    p = Path(path)
    if not p.exists():
        raise CliError(f"{path}: there is no such file ({what}). Check the name and the folder.")
    if p.is_dir():
        raise CliError(f"{path} is a folder; {what} must be a file.")
    try:
        with open(p, "rb") as f:  # read at most limit + 1 bytes: a device or a pipe cannot fill memory
            data = f.read() if limit is None else f.read(limit + 1)
    except OSError as e:
        raise CliError(f"{path}: cannot read the file ({e.strerror or e}).") from None
    if limit is not None and len(data) > limit:
        raise CliError(f"{path} is too big for {what} (more than {limit:,} bytes).")
    return data


def _remove_database_files(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def open_db(path: str, *, create: bool = False, read_only: bool = False, page: str = ""):
    """Open the database (migrated unless ``read_only``). Refused plainly when it does not exist (unless
    ``create``), when the app holds it, or when it is not a DuckDB database."""
    import duckdb

    from lib.store.db import Database

    p = Path(path)
    if p.is_dir():
        raise CliError(f"{path} is a folder: --db needs the database file (for example data/our-assembly.duckdb).")
    if not create and not p.exists():
        raise CliError(
            f"There is no database at {path}. Check the path; a new assembly starts with {PROG} init --db {path} …"
        )
    try:
        db = Database(p, read_only=read_only)
    except UserError:  # DuckDB's lock: another program (the app) holds the file
        raise CliError(APP_RUNNING.format(path=path, page=page)) from None
    except duckdb.Error as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CliError(
            f"{path} is not a Kleroterion database (DuckDB cannot open it: {first}). Check the path."
        ) from None
    try:
        tables = {r[0] for r in db.query("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")}
    except duckdb.Error:
        tables = set()
    if tables and "schema_version" not in tables:  # another program's database: leave it alone
        db.close()
        raise CliError(
            f"{path} is a DuckDB database, but not a Kleroterion one (it holds other tables: "
            f"{', '.join(sorted(tables)[:5])}). Nothing was changed. Check the path."
        )
    if not read_only:
        try:
            db.migrate()
        except duckdb.Error as e:
            db.close()
            raise CliError(f"{path} could not be brought up to this version of Kleroterion ({e}).") from None
    return db


def _refuse_demo(db, what: str) -> None:
    from lib.store.demo_marker import is_demo_database

    if is_demo_database(db):
        raise CliError(
            f"{db.path} is the demo database (made-up people), so {what}: demo and real data never "
            "mix. Use a new database file for your own assembly."
        )


# --- init ------------------------------------------------------------------------------------------
def cmd_init(args) -> int:
    from lib.recruitment.assembly_setup import basics_problems, decode_text, read_questions_file, read_quota_table
    from lib.recruitment.categories import MAX_FILE_BYTES
    from lib.recruitment.quotas import target_warnings
    from lib.recruitment.targets import parse_targets_csv

    # 1. Everything is read and checked before the database is even opened: bad input changes nothing.
    problems = basics_problems(args.name, args.panel_size)
    if problems:
        raise CliError(" ".join(problems))
    k = int(args.panel_size)
    fields_name = Path(args.fields).name
    fields = read_questions_file(_read_file(args.fields, "the questions file", MAX_FILE_BYTES), fields_name)
    table = targets = None
    notes: list[str] = []
    if args.quotas:
        table = read_quota_table(
            _read_file(args.quotas, "the quota table", MAX_FILE_BYTES), Path(args.quotas).name, fields, k
        )
        notes = list(table.notes)
    else:
        name = Path(args.targets).name
        text = decode_text(_read_file(args.targets, "the targets file", MAX_FILE_BYTES), name)
        targets = parse_targets_csv(text, fields, source=name)
        notes = target_warnings(targets, fields)

    # 2. An empty database only (never the demo, never an assembly).
    path = Path(args.db)
    created = not path.exists()
    db = open_db(args.db, create=True, page=" (“Set up the assembly”)")
    try:
        _check_empty_for_init(db)
        _write_init(db, args, fields, table, targets, k)
    except BaseException:
        db.close()
        if created:  # a database file that did not exist before is not left behind
            _remove_database_files(path)
        raise
    try:
        _print_init_summary(db, args, notes)
    finally:
        db.close()
    return EXIT_OK


def _check_empty_for_init(db) -> None:
    from lib.recruitment.assembly_setup import load_basics
    from lib.backup import assembly_summary

    _refuse_demo(db, "a real assembly cannot be set up in it")
    holds = assembly_summary(db)
    if holds or load_basics(db).name:
        what = holds or f"the assembly “{load_basics(db).name}”"
        raise CliError(
            f"{db.path} already holds an assembly ({what}), so nothing was changed: init only sets up "
            "a new assembly in an empty database. Use a new database file, or change this one in the app "
            "(“Set up the assembly”)."
        )


def _write_init(db, args, fields, table, targets, k: int) -> None:
    """Write the checked set-up with the app's own functions; if anything fails half-way, put the database
    back as it was (it held no assembly: only the rows written here, and the settings, are touched)."""
    from lib.recruitment.assembly_setup import save_basics, save_questions, save_quota_table
    from lib.recruitment.targets import save_target_version

    settings_before = db.query("SELECT * FROM settings")
    try:
        save_basics(db, args.name, k, bool(args.households), actor=ACTOR)
        saved = save_questions(
            db, fields, actor=ACTOR, intro=f"{Path(args.fields).name} cannot be used; nothing was changed:"
        )
        if table is not None:
            save_quota_table(db, table, actor=ACTOR)
        else:
            save_target_version(
                db,
                targets,
                panel_size=k,
                note=f"Targets from {Path(args.targets).name} (command line)",
                actor=ACTOR,
                labels={f.key: f.label for f in saved.fields},
            )
    except BaseException:
        _undo_init(db, settings_before)
        raise


def _undo_init(db, settings_before: list[tuple]) -> None:
    cols = len(settings_before[0]) if settings_before else None

    def undo(cur):
        for table in ("target_quotas", "target_rules", "targets", "target_versions", "strat_values", "strat_fields"):
            cur.execute(f"DELETE FROM {table}")
        cur.execute("DELETE FROM settings")
        if settings_before:
            cur.executemany(
                f"INSERT INTO settings VALUES ({', '.join('?' * cols)})", [list(r) for r in settings_before]
            )

    try:
        db.transaction(undo, attempts=1)
    except Exception:  # noqa: BLE001 - the original error is the one to report
        pass


def _print_init_summary(db, args, notes: list[str]) -> None:
    from lib.recruitment.assembly_setup import describe_version, load_basics
    from lib.recruitment.categories import load_fields
    from lib.recruitment.targets import version_info

    b = load_basics(db)
    fields = load_fields(db)
    print(
        f"Set up “{b.name}” in {db.path}: a panel of {b.panel_size}"
        f"{', at most one person per household' if b.one_per_household else ''}."
    )
    print(f"{len(fields)} question{'s' if len(fields) != 1 else ''} to balance on:")
    for f in fields:
        answers = ", ".join(f.label_of(v) for v in f.values)
        blank = f" (a blank counts as “{f.label_of(f.blank_value)}”)" if f.blank_value else ""
        print(f"  - {f.label}: {answers}{blank}")
    print("Targets: " + describe_version(db, version_info(db)))
    for n in notes:
        print("Note: " + n)
    print(
        f"Next: bring in the sign-ups with {PROG} sync --db {args.db} --file SIGNUPS.csv "
        "(or --google-sheet URL --worksheet TAB)."
    )


# --- sync ------------------------------------------------------------------------------------------
FILE_KINDS = {"csv": "csv", "xlsx": "excel", "ods": "ods"}


def _credentials(path: str | None) -> dict:
    """The Google service account's key (see the module's docstring for where it is looked for)."""
    candidates: list[tuple[str, str]] = []
    if path:
        candidates.append(("--credentials", path))
    elif os.environ.get("GOOGLE_APPLICATION_CREDENTIALS", "").strip():
        candidates.append(("GOOGLE_APPLICATION_CREDENTIALS", os.environ["GOOGLE_APPLICATION_CREDENTIALS"].strip()))
    if candidates:
        _how, file = candidates[0]
        raw = _read_file(file, "the Google service account's key (JSON)", 1_000_000)
        try:
            info = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            where = f", line {e.lineno}, column {e.colno}" if isinstance(e, json.JSONDecodeError) else ""
            raise CliError(
                f"{file}{where}: this is not the JSON key file Google gives for a service account "
                "(docs/GOOGLE_SHEETS.md, step 2)."
            ) from None
        if not isinstance(info, dict) or info.get("type") != "service_account":
            raise CliError(
                f'{file} is not a service account\'s key (it should say "type": "service_account"). '
                "docs/GOOGLE_SHEETS.md, step 2, shows how to download one."
            )
        return info
    import tomllib

    from lib.store.config import ROOT
    from lib.recruitment.signups.sheets import SECRETS_SECTION

    for folder in dict.fromkeys([Path.cwd(), ROOT]):
        secrets = folder / ".streamlit" / "secrets.toml"
        if secrets.is_file():
            try:
                data = tomllib.loads(secrets.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
                raise CliError(f"{secrets} cannot be read ({e}).") from None
            section = data.get(SECRETS_SECTION)
            if isinstance(section, dict) and section:
                return dict(section)
    raise CliError(
        "Reading a Google Sheet needs the Google service account's key: pass --credentials KEY.json, or "
        "set GOOGLE_APPLICATION_CREDENTIALS to that file, or put it in .streamlit/secrets.toml as the app "
        "does (docs/GOOGLE_SHEETS.md). Or download the sheet as CSV and use --file."
    )


def _fetch_grid(args):
    """(grid, source_kind, source_label, source) from --file or --google-sheet."""
    if args.file:
        from lib.store.config import max_unpacked_bytes
        from lib.recruitment.signups.sources import grid_from_upload, guess_upload_encoding, upload_kind

        name = Path(args.file).name
        data = _read_file(args.file, "the sign-ups file", max_unpacked_bytes())
        kind = upload_kind(name, data)
        if kind == "csv":
            if args.sheet:
                raise CliError(f"{args.file} is a CSV file, which has no sheets: leave out --sheet.")
            if not args.encoding:
                guess = guess_upload_encoding(data, name)
                if not guess.certain:
                    options = "; ".join(f"--encoding {o} ({guess.label(o)})" for o in guess.options[:4])
                    raise CliError(
                        f"{args.file}: Kleroterion cannot tell for sure which alphabet this file was saved "
                        f"in, so it was not read (letters could come out wrong). Choose one: {options}. "
                        "Or save it again as “CSV UTF-8”."
                    )
        elif args.encoding:
            raise CliError(f"{args.file} is a workbook, whose letters need no --encoding: leave it out.")
        grid = grid_from_upload(name, data, sheet=args.sheet or None, encoding=args.encoding or None)
        return grid, FILE_KINDS.get(kind, "csv"), name, None
    from lib.recruitment.signups.sources import grid_from_google_sheet

    if not (args.worksheet or "").strip():
        raise CliError(
            '--google-sheet needs --worksheet NAME: the tab that holds the sign-ups (e.g. "Form responses 1").'
        )
    creds = _credentials(args.credentials)
    sheet, tab = args.google_sheet.strip(), args.worksheet.strip()
    grid = grid_from_google_sheet(creds, sheet, tab)
    return grid, "google_sheet", f"{sheet} / {tab}", {"kind": "google_sheet", "spreadsheet": sheet, "worksheet": tab}


def read_mapping_file(path: str, headers: list[str], fields, sheet_name: str):
    """A mapping file (``role,column``) checked against the questions and the sheet's headers; every problem
    names the file, the row and the column."""
    from lib.recruitment.assembly_setup import decode_text
    from lib.recruitment.signups.mapping import Mapping, check_mapping, field_role

    name = Path(path).name
    text = decode_text(_read_file(path, "the mapping file", 1_000_000), name).lstrip("\ufeff")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise CliError(f"{name} could not be read as a CSV file ({e}).") from None
    header = [c.strip().lower() for c in (rows[0] if rows else [])]
    if "role" not in header or "column" not in header:
        raise CliError(
            f"{name}, row 1: the first row must be the header “role,column” (found: "
            f"{','.join(rows[0]) if rows else 'nothing'})."
        )
    reading = _MappingFile(name, header.index("role"), header.index("column"), headers, fields, sheet_name)
    problems: list[str] = []
    for n, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        problem = reading.read_row(n, cells)
        if problem:
            problems.append(problem)
    for f in fields:
        if field_role(f.key) not in reading.row_of:
            problems.append(
                f"{name}: no row for the question “{f.label}”: add a row “field:{f.key},<the column that holds it>”."
            )
    if problems:
        raise CliError(f"{name} cannot be used; nothing was changed:\n" + "\n".join(f"- {p}" for p in problems))
    mapping = Mapping(reading.columns)
    left = check_mapping(mapping, headers, fields)
    if left:
        raise CliError(f"{name} cannot be used; nothing was changed:\n" + "\n".join(f"- {p}" for p in left))
    return mapping


class _MappingFile:
    """A mapping file's rows read one by one: the column chosen for each role, or each row's problem."""

    def __init__(self, name: str, ri: int, ci: int, headers: list[str], fields, sheet_name: str) -> None:
        from lib.recruitment.signups.mapping import CONTACT_ROLES

        self.name, self.ri, self.ci, self.headers, self.fields = name, ri, ci, headers, fields
        self.sheet_name = sheet_name
        self.by_name: dict[str, Any] = {}
        for f in fields:
            for n in (f.key, f.label):
                self.by_name.setdefault(n.strip().lower(), f)
        self.roles_known = ("id",) + CONTACT_ROLES
        self.columns: dict[str, str] = {}
        self.row_of: dict[str, int] = {}  # role -> the row that gives it (even with a problem in its column)
        self.used: dict[str, int] = {}
        self.present = set(headers)

    def read_row(self, n: int, cells: list[str]) -> str | None:
        """Keep row ``n``'s role and column, or say what is wrong with it."""
        name = self.name
        role_text = cells[self.ri].strip() if self.ri < len(cells) else ""
        column = cells[self.ci].strip() if self.ci < len(cells) else ""
        role = self._role(role_text)
        if role is None:
            questions = ", ".join(f"field:{f.key}" for f in self.fields)
            return (
                f"{name}, row {n}, column “role”: “{role_text}” is not a role. Roles: "
                f"{', '.join(self.roles_known)}, or one per question: {questions}."
            )
        if role in self.row_of:
            return f"{name}, row {n}, column “role”: “{role_text}” is given twice (first on row {self.row_of[role]})."
        self.row_of[role] = n
        if not column:
            return (
                f"{name}, row {n}, column “column”: the column is empty (write the sheet's column "
                "header, or leave the row out)."
            )
        if column not in self.present:
            headers = self.headers
            shown = ", ".join(f"“{h}”" for h in headers[:15] if h) + (" …" if len(headers) > 15 else "")
            return (
                f"{name}, row {n}, column “column”: “{column}” is not a column of {self.sheet_name} (its "
                f"columns: {shown})."
            )
        if column in self.used:
            return (
                f"{name}, row {n}, column “column”: “{column}” is already used on row {self.used[column]}; "
                "each column can hold one thing."
            )
        self.columns[role], self.used[column] = column, n
        return None

    def _role(self, role_text: str) -> str | None:
        """The role a row's text names (a contact role, id, or field:<question>), or None."""
        from lib.recruitment.signups.mapping import field_role

        low = role_text.lower()
        if low in self.roles_known:
            return low
        if low.startswith("field:") and low[6:].strip() in self.by_name:
            return field_role(self.by_name[low[6:].strip()].key)
        return None


def choose_mapping(db, args, grid, fields, sheet_name: str):
    """(mapping, how): the mapping file, else the saved columns when they all fit, else a guess."""
    from lib.recruitment.signups.mapping import check_mapping, load_mapping, suggest_mapping

    if args.mapping:
        return read_mapping_file(args.mapping, grid.headers, fields, sheet_name), f"from {Path(args.mapping).name}"
    saved = load_mapping(db)
    if saved is not None and not check_mapping(saved, grid.headers, fields):
        return saved, "as chosen before"
    guess = suggest_mapping(grid.headers, fields)
    missing = check_mapping(guess, grid.headers, fields)
    if missing:
        shown = ", ".join(f"“{h}”" for h in grid.headers[:20] if h) + (" …" if len(grid.headers) > 20 else "")
        lines = "\n".join(f"- {p}" for p in missing)
        raise CliError(
            f"{sheet_name}: the columns could not all be matched to the questions from their headers, so "
            f"nothing was brought in:\n{lines}\nIts columns are: {shown}. Write a mapping file (a CSV "
            'with the header role,column and rows such as field:age,"How old are you?") and pass it '
            "with --mapping."
        )
    return guess, (
        "guessed from the headers; the columns chosen before are not all in this sheet"
        if saved
        else "guessed from the headers"
    )


def _problems(db) -> list[dict]:
    rows = db.query(
        "SELECT row_number, column_name, value, message, blocking FROM problems "
        "ORDER BY row_number, column_name, message"
    )
    return [
        {
            "row": int(r) if r is not None else None,
            "column": c or "",
            "value": v or "",
            "message": m,
            "must_fix": bool(b),
        }
        for r, c, v, m, b in rows
    ]


def _mapping_lines(mapping, fields) -> list[str]:
    from lib.recruitment.signups.mapping import ROLE_LABELS, field_role

    out = []
    for f in fields:
        col = mapping.column(field_role(f.key))
        if col:
            out.append(f"  field:{f.key} ({f.label}) ← “{col}”")
    for role, label in ROLE_LABELS.items():
        col = mapping.column(role)
        if col:
            out.append(f"  {role} ({label}) ← “{col}”")
    return out


def cmd_sync(args) -> int:
    from lib.recruitment.categories import load_fields
    from lib.recruitment.signups.store import signup_counts

    _check_sync_args(args)
    db = open_db(args.db, page=" (Sign-ups)")
    try:
        _refuse_demo(db, "sign-ups cannot be brought into it")
        fields = load_fields(db)
        if not fields:
            raise CliError(
                f"{args.db} has no questions to balance on yet, so sign-ups cannot be checked: set up the "
                f"assembly first ({PROG} init, or the app's “Set up the assembly”)."
            )
        done = _sync_now(db, args, fields)
        if isinstance(done, int):
            return done
        counts = signup_counts(db)
        problems = _problems(db)
    finally:
        db.close()
    label, result, mapping, how = done
    if args.json:
        print(
            json.dumps(
                {
                    "status": "ok",
                    "source": label,
                    "rows_read": result.rows_read,
                    "added": result.added,
                    "changed": result.changed,
                    "removed": result.removed,
                    "restored": result.restored,
                    "eligible": counts["eligible"],
                    "signed_up": counts["current"],
                    "problems": problems,
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return EXIT_OK
    print(f"Brought in from {label}: {result.summary()}")
    print(
        f"Ready for the draw: {counts['eligible']} of the {counts['current']} people signed up"
        + (f" ({counts['blocked']} with a problem to fix first)." if counts["blocked"] else ".")
    )
    print(f"Columns used ({how}):")
    for line in _mapping_lines(mapping, fields):
        print(line)
    if problems:
        print(f"Problems ({len(problems)}; “must fix”: that person cannot be drawn until the sheet is corrected):")
        for p in problems:
            print(f"  - {'must fix' if p['must_fix'] else 'check'}: {p['message']}")
    return EXIT_OK


def _check_sync_args(args) -> None:
    """One source (a file, or a Google Sheet and its tab), with only the options that go with it."""
    if bool(args.file) == bool(args.google_sheet):
        raise CliError(
            "Say where the sign-ups come from: --file FILE, or --google-sheet URL_OR_KEY --worksheet NAME "
            "(one of them)."
        )
    if args.google_sheet and (args.sheet or args.encoding):
        raise CliError("--sheet and --encoding are for --file; a Google Sheet's tab is --worksheet.")
    if args.file and (args.worksheet or args.credentials):
        raise CliError("--worksheet and --credentials are for --google-sheet; a workbook's sheet is --sheet.")


def _sync_now(db, args, fields):
    """Bring the sign-ups in, holding the sync slot: (label, result, mapping, how), or the exit code when
    the sync waits for a confirmation (--yes). Every failure is written to the sync log."""
    from lib.store.settings import set_setting
    from lib.recruitment.signups.live import MANUAL_WAIT_SECONDS
    from lib.recruitment.signups.mapping import save_mapping
    from lib.recruitment.signups.slot import sync_slot
    from lib.recruitment.signups.store import signup_counts
    from lib.recruitment.signups.sync import (
        ConfirmationNeeded,
        record_failed_sync,
        record_unexpected_failure,
        sync_grid,
    )

    kind = "google_sheet" if args.google_sheet else "csv"
    label = (
        f"{args.google_sheet.strip()} / {(args.worksheet or '').strip()}" if args.google_sheet else Path(args.file).name
    )
    with sync_slot(db, ACTOR, wait=MANUAL_WAIT_SECONDS):
        try:
            grid, kind, label, source = _fetch_grid(args)
            sheet_name = args.file if args.file else f"the tab “{args.worksheet.strip()}”"
            mapping, how = choose_mapping(db, args, grid, fields, sheet_name)
        except UserError as e:
            record_failed_sync(db, kind, label, str(e), actor=ACTOR)  # every failure in the sync log
            raise
        except Exception as e:
            record_unexpected_failure(db, kind, label, e, actor=ACTOR)
            raise
        try:
            confirmed = True if args.yes else None
            result = sync_grid(
                db, grid, mapping, source_kind=kind, source_label=label, actor=ACTOR, confirmed=confirmed, source=source
            )
        except ConfirmationNeeded as e:
            return _held(db, args, e, signup_counts(db))
        save_mapping(db, mapping, actor=ACTOR)
        if source is not None:
            set_setting(
                db, "sheet_source", {"spreadsheet": source["spreadsheet"], "worksheet": source["worksheet"]}, ACTOR
            )
    return label, result, mapping, how


def _held(db, args, e, counts: dict) -> int:
    if args.json:
        print(
            json.dumps(
                {
                    "status": "needs_confirmation",
                    "reason": e.reason,
                    "message": str(e),
                    "added": e.added,
                    "changed": e.changed,
                    "removed": e.removed,
                    "restored": e.restored,
                    "pool": e.pool,
                    "eligible": counts["eligible"],
                    "problems": [],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    print(f"{e} To bring it in anyway, run the same command again with --yes.", file=sys.stderr)
    return EXIT_CONFIRM


# --- export ----------------------------------------------------------------------------------------
def pool_and_quotas(db):
    """The pool ready for the draw (pseudonyms, households as H1, H2 …) and the quotas in force: those of the
    latest target version, exactly as the draw uses them (``lib.draws.records.draw_instance``). Returns
    (instance, version info, inputs hash)."""
    from lib.draws.records import FrozenInputs, draw_instance, frozen_inputs, inputs_hash, stale_questions
    from lib.recruitment.quotas import quotas_for_version
    from lib.store.settings import get_setting
    from lib.recruitment.targets import version_info

    info = version_info(db)
    if info is None or not info.panel_size:
        raise CliError(
            f"{db.path} has no targets or quota table yet, so there are no quotas to export. Set them "
            f"first ({PROG} init --targets/--quotas, or the app's Targets page)."
        )
    inputs = frozen_inputs(db) if info.frozen else None
    if inputs is None or inputs.target_version != info.version:
        quotas = [r.as_quota() for r in quotas_for_version(db, info.version)]
        inputs = FrozenInputs(
            info.version, int(info.panel_size), quotas, None, None, bool(get_setting(db, "one_per_household", False))
        )
    stale = stale_questions(db, inputs)
    if stale:
        raise CliError(stale)
    inst = draw_instance(db, inputs)
    return inst, info, inputs_hash(inst)


def _complete_quotas(inst):
    """The quotas, plus a row 0..panel size for any answer someone in the pool gave that has no quota (the
    draw puts no limit on it; both formats need every answer in the pool listed)."""
    from lib.sortition.audit.model import Quota

    have = {(q.feature, q.value) for q in inst.quotas}
    feats = sorted({q.feature for q in inst.quotas})
    extra = sorted({(f, p.features.get(f, "")) for p in inst.people for f in feats} - have)
    return list(inst.quotas) + [Quota(f, v, 0, inst.panel_size) for f, v in extra], len(extra)


def _write_csv(path: Path, header: list, rows) -> None:
    from lib.privacy import spreadsheet_safe

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([spreadsheet_safe(h) for h in header])
    for r in rows:
        w.writerow([spreadsheet_safe(c) for c in r])
    tmp = path.with_name(path.name + ".writing")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, path)


def _out_dir(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise CliError(f"{path} exists and is not a folder: --out needs a folder for the files.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CliError(f"{path}: cannot create the folder ({e.strerror or e}).") from None
    return out


def cmd_export(args) -> int:
    from lib.recruitment.assembly_setup import load_basics
    from lib.recruitment.targets import load_seat_bands

    db = open_db(args.db)
    try:
        inst, info, ihash = pool_and_quotas(db)
        name = load_basics(db).name or "assembly"
        bands = {(b.field, b.value): b for b in load_seat_bands(db, info.version)}
    finally:
        db.close()
    quotas, padded = _complete_quotas(inst)
    feats = sorted({q.feature for q in quotas})
    out = _out_dir(args.out)
    k = inst.panel_size
    state = "frozen for the draw" if info.frozen else "not frozen yet"
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    hh = inst.one_per_household
    if args.format == "benchmark":
        _write_csv(
            out / "people.csv",
            ["id", *feats] + (["household"] if hh else []),
            (
                [p.id, *[p.features.get(f, "") for f in feats]] + ([p.household or ""] if hh else [])
                for p in inst.people
            ),
        )
        _write_csv(
            out / "categories.csv",
            ["feature", "value", "min", "max"],
            ([q.feature, q.value, q.min, q.max] for q in quotas),
        )
        meta = {
            "name": name,
            "panel_size": k,
            "source": f"Kleroterion export of {name}: target version {info.version} ({state}), {now}",
            "pool_size": len(inst.people),
            "num_features": len(feats),
            "num_feature_values": len(quotas),
            "num_feature_values_present_in_pool": len({(f, p.features.get(f, "")) for p in inst.people for f in feats}),
            "one_per_household": hh,
            "target_version": info.version,
            "frozen": bool(info.frozen),
            "inputs_hash": ihash,
            "exported_at": now,
            "provenance": "the sign-ups ready for the draw, by pseudonym only (no names or contacts)",
        }
        (out / "instance.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        files = "people.csv, categories.csv and instance.json"
        hint = f'Draw from it with: python -m lib.sortition draw {args.out} --seed "…" --out RESULTS'
    else:
        flex = any(b.min_flex is not None or b.max_flex is not None for b in bands.values())

        def row(q):
            r = [q.feature, q.value, q.min, q.max]
            if flex:
                b = bands.get((q.feature, q.value))
                r += [
                    b.min_flex if b and b.min_flex is not None else 0,
                    b.max_flex if b and b.max_flex is not None else k,
                ]
            return r

        _write_csv(
            out / "categories.csv",
            ["feature", "value", "min", "max"] + (["min_flex", "max_flex"] if flex else []),
            (row(q) for q in quotas),
        )
        _write_csv(
            out / "people.csv",
            ["id", *feats] + (["household"] if hh else []),
            (
                [p.id, *[p.features.get(f, "") for f in feats]] + ([p.household or f"H-{p.id}"] if hh else [])
                for p in inst.people
            ),
        )
        address = '["household"]' if hh else "[]"
        (out / "settings.toml").write_text(
            "# Settings for the Sortition Foundation's sortition-algorithms, written by Kleroterion.\n"
            'id_column = "id"\n'
            "columns_to_keep = []\n"
            f"check_same_address = {'true' if hh else 'false'}\n"
            f"check_same_address_columns = {address}\n"
            "max_attempts = 100\n"
            'selection_algorithm = "maximin"\n'
            'solver_backend = "highspy"\n'
            "random_number_seed = 0\n",
            encoding="utf-8",
        )
        files = "categories.csv, people.csv and settings.toml"
        hint = (
            f"With the Sortition Foundation's tool: python -m sortition_algorithms csv -S {args.out}/settings.toml "
            f"-f {args.out}/categories.csv -p {args.out}/people.csv -n {k} -s selected.csv -r remaining.csv"
        )
    print(
        f"Exported the {len(inst.people)} people ready for the draw (pseudonyms only: no names or contacts) and "
        f"the {len(inst.quotas)} quotas of target version {info.version} ({state}), panel of {k}"
        f"{', at most one person per household' if hh else ''}: {files} in {args.out}."
    )
    if padded:
        print(
            f"Note: {padded} answer{'s' if padded != 1 else ''} in the pool had no quota; listed from 0 to {k} "
            "seats (no limit), as the draw treats them."
        )
    if info.frozen:
        print(f"Inputs hash {ihash} (the same pool and quotas as the app's draw).")
    print(hint)
    return EXIT_OK


# --- backup and restore ------------------------------------------------------------------------------
def cmd_backup(args) -> int:
    from lib.backup import _passphrase_from_env, make_backup

    passphrase = _passphrase_from_env(args.passphrase_env)
    out = Path(args.out)
    if out.is_dir():
        raise CliError(f"{args.out} is a folder: --out needs the backup's file name (e.g. assembly-backup.zip).")
    if not out.parent.is_dir():
        raise CliError(f"{args.out}: the folder {out.parent} does not exist.")
    db = open_db(
        args.db,
        read_only=True,
        page=" (“Backup and restore”), or its scheduled backups (KLEROTERION_BACKUP_DIR, docs/DEPLOYING.md)",
    )
    try:
        data = make_backup(db, passphrase=passphrase)
    finally:
        db.close()
    tmp = out.with_name(out.name + ".writing")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, out)
    print(
        f"Backup written: {args.out} ({len(data):,} bytes{', locked with the passphrase' if passphrase else ''}). "
        f"Restore it with: {PROG} restore --db NEW.duckdb --from {args.out}"
        + (f" --passphrase-env {args.passphrase_env}" if passphrase else "")
    )
    return EXIT_OK


def cmd_restore(args) -> int:
    from lib.backup import _passphrase_from_env, is_encrypted, max_unpacked_bytes, restore_backup

    passphrase = _passphrase_from_env(args.passphrase_env)
    data = _read_file(args.source, "the backup", max_unpacked_bytes())
    if passphrase is None and is_encrypted(data):
        raise CliError(
            f"“{args.source}” is locked with a passphrase: put it in a setting (for example: read -s "
            "KL_PASS; export KL_PASS) and pass --passphrase-env KL_PASS. Nothing was changed."
        )
    path = Path(args.db)
    created = not path.exists()
    db = open_db(args.db, create=True, page=" (“Backup and restore”)")
    try:
        done = restore_backup(db, data, passphrase=passphrase, name=args.source)
    except BaseException:
        db.close()
        if created:
            _remove_database_files(path)
        raise
    db.close()
    print(
        f"Restored “{done.assembly or 'the assembly'}” ({done.sign_ups:,} sign-ups and everything else) from the "
        f"backup made {done.created_at} into {args.db}."
    )
    if done.migrated:
        print(f"The backup was made by an older version; brought up to date (layout {max(done.migrated)}).")
    key = {
        "restored": "The survey key was restored beside the database.",
        "kept out": "The survey key in the backup was left out.",
        "in settings": "The survey key comes from the app's settings (KLEROTERION_SURVEY_KEY), as before.",
    }
    if done.survey_key in key:
        print(key[done.survey_key])
    print("People sign in again: the sign-in key is never in a backup.")
    return EXIT_OK


# --- status ------------------------------------------------------------------------------------------
def _when(ts) -> str:
    try:
        return ts.tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
    except (AttributeError, TypeError, ValueError):
        return str(ts)[:16]


def cmd_status(args) -> int:
    from lib.recruitment.assembly_setup import describe_version, load_basics
    from lib.recruitment.categories import load_fields
    from lib.store.demo_marker import is_demo_database
    from lib.recruitment.signups.store import last_good_sync, signup_counts
    from lib.recruitment.targets import version_info

    db = open_db(args.db, read_only=True, page=" (Overview)")
    try:
        b = load_basics(db)
        fields = load_fields(db)
        info = version_info(db)
        counts = signup_counts(db)
        last = last_good_sync(db)
        demo = is_demo_database(db)
        targets = describe_version(db, info)
    finally:
        db.close()
    data = {
        "name": b.name,
        "demo": demo,
        "panel_size": b.panel_size,
        "one_per_household": b.one_per_household,
        "questions": [f.key for f in fields],
        "target_version": info.version if info else None,
        "frozen": bool(info and info.frozen),
        "signed_up": counts["current"],
        "eligible": counts["eligible"],
        "last_sync": _when(last["finished_at"]) if last else None,
    }
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return EXIT_OK
    print(
        f"{b.name or '(no name yet)'}{' (the demo)' if demo else ''}: panel of {b.panel_size or '?'}"
        f"{', at most one person per household' if b.one_per_household else ''}."
    )
    print(f"Questions: {', '.join(f.label for f in fields) or 'none yet'}.")
    print(f"Targets: {targets}")
    print(
        f"Sign-ups: {counts['current']} ({counts['eligible']} ready for the draw); last brought in: "
        f"{data['last_sync'] or 'never'}."
    )
    return EXIT_OK


# --- the parser --------------------------------------------------------------------------------------
def _panel_size(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of people, not {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Kleroterion for organisers and scripts: set up an assembly, bring in "
        "sign-ups, export the pool, back up and restore. The app must be stopped (one program at a time "
        "can open a database).",
    )
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    i = sub.add_parser("init", help="set up a new assembly in an empty (or new) database")
    i.add_argument("--db", required=True, help="the database file (created if it does not exist)")
    i.add_argument("--name", required=True, help="the assembly's name")
    i.add_argument("--panel-size", required=True, type=_panel_size, help="how many people the panel has")
    i.add_argument(
        "--fields",
        required=True,
        help="the questions to balance on: a fields.csv (as data/demo/"
        "fields.csv) or a Sortition Foundation categories.csv",
    )
    g = i.add_mutually_exclusive_group(required=True)
    g.add_argument("--targets", help="the community's shares: field,value,share[,source] (as data/demo/targets.csv)")
    g.add_argument(
        "--quotas",
        help="a quota table: a Sortition Foundation categories.csv (feature,value,min,max[,min_flex,max_flex])",
    )
    i.add_argument("--households", action="store_true", help="at most one person per household on the panel")
    i.set_defaults(func=cmd_init)

    s = sub.add_parser("sync", help="bring in the sign-ups from a file or a Google Sheet")
    s.add_argument("--db", required=True)
    s.add_argument("--file", help="a CSV, Excel (.xlsx) or OpenDocument (.ods) file")
    s.add_argument("--sheet", help="which sheet of a workbook (default: the first)")
    s.add_argument("--encoding", help="the file's encoding when it cannot be told for sure (e.g. cp1250)")
    s.add_argument("--google-sheet", metavar="URL_OR_KEY", help="the Google Sheet's web address or key")
    s.add_argument("--worksheet", metavar="NAME", help="the tab holding the sign-ups")
    s.add_argument(
        "--credentials",
        metavar="FILE",
        help="the Google service account's JSON key (else "
        "GOOGLE_APPLICATION_CREDENTIALS, else .streamlit/secrets.toml)",
    )
    s.add_argument("--mapping", metavar="FILE", help="which column holds what: a CSV with the header role,column")
    s.add_argument(
        "--yes",
        action="store_true",
        help="go ahead even when many people would be marked as gone, or a draw is being prepared",
    )
    s.add_argument(
        "--json", action="store_true", help="print one JSON object (added, changed, removed, eligible, problems)"
    )
    s.set_defaults(func=cmd_sync)

    e = sub.add_parser("export", help="the pool ready for the draw and the quotas in force, by pseudonym only")
    e.add_argument("--db", required=True)
    e.add_argument("--out", required=True, help="a folder for the files")
    e.add_argument(
        "--format",
        choices=["benchmark", "sortition-foundation"],
        default="benchmark",
        help="benchmark: people.csv, categories.csv, instance.json (python -m lib.sortition draw reads "
        "it); sortition-foundation: categories.csv, people.csv, settings.toml",
    )
    e.set_defaults(func=cmd_export)

    b = sub.add_parser("backup", help="the whole assembly as one file (the app must be stopped)")
    b.add_argument("--db", required=True)
    b.add_argument("--out", required=True, help="the backup file to write")
    b.add_argument("--passphrase-env", metavar="VAR", help="lock the backup with the passphrase in this setting")
    b.set_defaults(func=cmd_backup)

    r = sub.add_parser("restore", help="restore a backup into an empty (or new) database")
    r.add_argument("--db", required=True)
    r.add_argument("--from", dest="source", required=True, metavar="FILE")
    r.add_argument("--passphrase-env", metavar="VAR", help="the setting holding the backup's passphrase")
    r.set_defaults(func=cmd_restore)

    st = sub.add_parser("status", help="what the database holds: the assembly, targets, sign-ups")
    st.add_argument("--db", required=True)
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)
    return p


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)  # a replaced stream may not have it
        try:
            if reconfigure is not None:
                reconfigure(errors="replace")
        except (AttributeError, ValueError):
            pass
    return run_command(
        build_parser(), argv, plain=(UserError,), on_plain=_say_plainly, bug=_bug_message, exit_input=EXIT_INPUT
    )


def _say_plainly(e: BaseException, args) -> None:
    if getattr(args, "json", False):
        print(json.dumps({"status": "failed", "message": str(e)}, ensure_ascii=False, indent=1))
    print(str(e), file=sys.stderr)


def _bug_message(e: Exception) -> str:
    return (
        f"Something unexpected went wrong ({type(e).__name__}). This is a bug in Kleroterion: please report it "
        "with the command you ran. Run it again with KLEROTERION_DEBUG=1 to see the details."
    )


if __name__ == "__main__":
    raise SystemExit(main())
