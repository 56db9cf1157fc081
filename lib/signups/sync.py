"""Sync sign-ups from a ``Grid`` into the store: validate, record what changed, lose nothing.

The whole sync is one database transaction: if anything fails (a column went missing,
the network dropped before the grid arrived, a write conflict that keeps coming back),
the last good data stays exactly as it was and the failure is written to the sync log.

Validation runs in SQL inside DuckDB, so a 50,000-row sheet is checked in well under a
second. Every problem names the sheet row, the column, the value and what to do. Rows
with problems are kept and shown; a row with a *blocking* problem (empty or unknown
answer in a stratification field, a duplicate of an earlier row) is simply not
eligible for the draw until it is fixed. Several people at one address are flagged as a
warning, not blocked.

Identity of a row across syncs (``source_key``): the mapped id/timestamp column if it
is filled in, else the email address, else the phone number, else the row's content.
A repeated key gets ``#2``, ``#3`` … in sheet order.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable

from lib.categories import Field, load_fields
from lib.db import Database
from lib.errors import UserError
from lib.settings import get_setting, set_setting
from lib.signups.grid import Grid
from lib.signups.mapping import CONTACT_ROLES, Mapping, check_mapping, field_role

_sync_lock = threading.Lock()

# What counts as blank around an answer: exactly the characters Python's str.strip()
# removes (tabs, line breaks, no-break and ideographic spaces, U+0085 …). DuckDB's trim()
# only removes spaces, so a cell holding just a tab would count as an answer.
WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())


class SyncError(UserError):
    pass


@dataclass
class SyncResult:
    sync_id: int
    status: str
    rows_read: int = 0
    blank_rows: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    restored: int = 0
    unchanged: int = 0
    problems: int = 0
    blocking: int = 0
    message: str = ""
    seconds: float = 0.0

    def summary(self) -> str:
        if self.status != "ok":
            return self.message
        parts = [f"{self.rows_read} sign-ups read"]
        for n, word in ((self.added, "new"), (self.changed, "changed"), (self.removed, "no longer in the sheet"),
                        (self.restored, "back in the sheet")):
            if n:
                parts.append(f"{n} {word}")
        if not (self.added or self.changed or self.removed or self.restored):
            parts.append("nothing changed")
        if self.problems:
            parts.append(f"{self.problems} problem{'s' if self.problems != 1 else ''} to look at")
        return ", ".join(parts) + "."


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _household_salt(db: Database) -> str:
    salt = get_setting(db, "household_salt")
    if not salt:
        salt = secrets.token_hex(16)
        set_setting(db, "household_salt", salt)
    return salt


def record_failed_sync(db: Database, source_kind: str, source_label: str, message: str,
                       actor: str | None = None) -> SyncResult:
    """Write a failed attempt to the sync log. Touches nothing else."""
    def write(cur):
        sid = cur.execute("SELECT nextval('sync_seq')").fetchall()[0][0]
        cur.execute(
            "INSERT INTO sync_log (sync_id, started_at, finished_at, source_kind, source_label, status, message, actor) "
            "VALUES (?, current_timestamp, current_timestamp, ?, ?, 'failed', ?, ?)",
            [sid, source_kind, source_label, message, actor])
        return sid

    sid = db.transaction(write)
    return SyncResult(sync_id=sid, status="failed", message=message)


def sync_from(db: Database, fetch: Callable[[], Grid], mapping: Mapping, *, source_kind: str,
              source_label: str, actor: str | None = None) -> SyncResult:
    """Fetch a grid and sync it. Any failure is logged and returned as a failed result; data is untouched."""
    try:
        grid = fetch()
        return sync_grid(db, grid, mapping, source_kind=source_kind, source_label=source_label, actor=actor)
    except UserError as e:
        return record_failed_sync(db, source_kind, source_label, str(e), actor)


def sync_grid(db: Database, grid: Grid, mapping: Mapping, *, source_kind: str, source_label: str,
              actor: str | None = None) -> SyncResult:
    """Validate ``grid`` and bring the store in line with it, in one transaction.

    Raises ``SyncError`` (nothing written except the failure log) when the sheet cannot
    be used at all, e.g. a mapped column is missing.
    """
    fields = load_fields(db)
    if not fields:
        raise SyncError("No stratification fields are set up yet, so sign-ups cannot be checked. "
                        "Set up the fields (for example age band, gender, area) first.")
    problems = check_mapping(mapping, grid.headers, fields)
    if problems:
        msg = "The sheet does not match the saved column choices, so nothing was changed. " + " ".join(problems)
        record_failed_sync(db, source_kind, source_label, msg, actor)
        raise SyncError(msg)
    salt = _household_salt(db)
    with _sync_lock:
        t0 = time.perf_counter()
        result = db.transaction(
            lambda cur: _sync_in_transaction(cur, grid, mapping, fields, salt, source_kind, source_label, actor))
        result.seconds = time.perf_counter() - t0
        return result


def _trimmed(grid: Grid, mapping: Mapping):
    """The grid's mapped columns with surrounding whitespace removed (no NULLs), plus row_number."""
    import pyarrow as pa
    import pyarrow.compute as pc

    used = {f"c{grid.headers.index(c)}" for c in mapping.columns.values() if c and c in grid.headers}
    names, arrays = [], []
    for name in grid.table.column_names:
        if name in used:
            arrays.append(pc.utf8_trim(pc.fill_null(grid.table.column(name), ""), characters=WHITESPACE))
            names.append(name)
    arrays.append(grid.table.column("row_number"))
    names.append("row_number")
    return pa.table(arrays, names=names)


def _sync_in_transaction(cur, grid: Grid, mapping: Mapping, fields: list[Field], salt: str,
                         source_kind: str, source_label: str, actor: str | None) -> SyncResult:
    col_of = {h: f"c{i}" for i, h in enumerate(grid.headers)}

    def src(role: str) -> str:
        col = mapping.column(role)
        return col_of[col] if col else "''"

    fkeys = [f.key for f in fields]
    fcols = [_q("f:" + k) for k in fkeys]
    mapped = [src(r) for r in ("id",) + CONTACT_ROLES] + [src(field_role(k)) for k in fkeys]
    blank_test = " AND ".join(f"{e} = ''" for e in mapped)

    sync_id = cur.execute("SELECT nextval('sync_seq')").fetchall()[0][0]
    cur.register("grid_in", _trimmed(grid, mapping))
    try:
        cur.execute(f"""
            CREATE OR REPLACE TEMP TABLE stage_raw AS
            SELECT row_number,
                   {src('id')} AS id_raw,
                   {src('name')} AS name, {src('email')} AS email, {src('phone')} AS phone,
                   {src('address')} AS address, {src('postcode')} AS postcode,
                   {', '.join(f"{src(field_role(k))} AS {c}" for k, c in zip(fkeys, fcols))}
            FROM grid_in WHERE NOT ({blank_test})
        """)
    finally:
        cur.unregister("grid_in")
    rows_read = cur.execute("SELECT count(*) FROM stage_raw").fetchall()[0][0]
    blank_rows = grid.row_count - rows_read

    all_cols = ["id_raw", "name", "email", "phone", "address", "postcode"] + fcols
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE stage AS
        WITH s AS (
            SELECT *,
                   lower(email) AS email_n,
                   regexp_replace(phone, '[^0-9]', '', 'g') AS phone_n,
                   CASE WHEN kl_norm(address) <> '' THEN kl_norm(address) || '|' || kl_norm(postcode) ELSE '' END
                       AS household_n,
                   md5(concat_ws(chr(31), {', '.join(all_cols)})) AS row_hash
            FROM stage_raw
        ), k AS (
            SELECT *,
                   CASE WHEN id_raw <> '' THEN 'id:' || id_raw
                        WHEN email_n <> '' THEN 'email:' || email_n
                        WHEN phone_n <> '' THEN 'phone:' || phone_n
                        ELSE 'row:' || row_hash END AS key0
            FROM s
        )
        SELECT *,
               key0 || CASE WHEN rk > 1 THEN '#' || rk ELSE '' END AS source_key,
               CASE WHEN household_n <> '' THEN substr(sha256(? || household_n), 1, 16) END AS household_key
        FROM (SELECT *, row_number() OVER (PARTITION BY key0 ORDER BY row_number) AS rk FROM k)
    """, [salt])

    # --- stratification answers, long format, matched against the accepted spellings -----
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE spell AS
        SELECT DISTINCT field, value, n FROM (
            SELECT field, value, kl_norm(value) AS n FROM strat_values
            UNION ALL SELECT field, value, kl_norm(label) FROM strat_values
            UNION ALL SELECT field, value, kl_norm(unnest(aliases)) FROM strat_values
        ) WHERE n <> ''
    """)
    cur.execute("CREATE OR REPLACE TEMP TABLE fmeta (fname VARCHAR, field VARCHAR, header VARCHAR, label VARCHAR, allowed VARCHAR)")
    for f in fields:
        allowed = ", ".join(f.values[:8]) + (" …" if len(f.values) > 8 else "")
        cur.execute("INSERT INTO fmeta VALUES (?, ?, ?, ?, ?)",
                    ["f:" + f.key, f.key, mapping.column(field_role(f.key)), f.label, allowed])
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE stage_values AS
        WITH u AS (
            UNPIVOT (SELECT row_number, {', '.join(fcols)} FROM stage) ON {', '.join(fcols)}
            INTO NAME fname VALUE raw
        ), d AS (
            SELECT DISTINCT fname, raw FROM u
        ), dm AS (
            SELECT d.fname, d.raw, sp.value
            FROM d JOIN fmeta m ON m.fname = d.fname
            LEFT JOIN spell sp ON sp.field = m.field AND sp.n = kl_norm(d.raw)
        )
        SELECT u.row_number, m.field, u.raw, dm.value
        FROM u JOIN fmeta m ON m.fname = u.fname
        JOIN dm ON dm.fname = u.fname AND dm.raw = u.raw
    """)

    # --- problems -----------------------------------------------------------------
    email_col = mapping.column("email") or "email"
    phone_col = mapping.column("phone") or "phone"
    addr_col = mapping.column("address") or "address"
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE found AS
        SELECT v.row_number, m.header AS column_name, v.raw AS value,
               CASE WHEN v.raw = '' THEN 'empty' ELSE 'unknown' END AS kind, true AS blocking,
               CASE WHEN v.raw = ''
                    THEN printf('Row %d, column “%s”: the answer is empty, so this person cannot be in the draw yet. '
                                'Fill it in on the sheet, then sync again.', v.row_number, m.header)
                    ELSE printf('Row %d, column “%s”: “%s” is not one of the expected answers for %s (%s). '
                                'Correct it on the sheet, or add it as another spelling of one of the answers, '
                                'then sync again.', v.row_number, m.header, v.raw, lower(m.label), m.allowed)
               END AS message
        FROM stage_values v JOIN fmeta m ON m.field = v.field
        WHERE v.value IS NULL
    """)
    for kind, col, ncol, what in (("duplicate_email", email_col, "email_n", "email address"),
                                  ("duplicate_phone", phone_col, "phone_n", "phone number")):
        cur.execute(f"""
            INSERT INTO found
            SELECT row_number, ?, '', ?, true,
                   printf('Row %d, column “%s”: the same {what} as row %d, so probably the same person '
                          'signed up twice. Only row %d can be in the draw. If they are different people, '
                          'correct the {what} on the sheet.', row_number, ?, first_row, first_row)
            FROM (SELECT row_number, {ncol},
                         min(row_number) OVER (PARTITION BY {ncol}) AS first_row
                  FROM stage WHERE {ncol} <> '')
            WHERE row_number > first_row
              AND row_number NOT IN (SELECT row_number FROM found WHERE kind = 'duplicate_email')
        """, [col, kind, col])
    cur.execute("""
        INSERT INTO found
        SELECT row_number, ?, '', 'shared_address', false,
               printf('Row %d, column “%s”: the same address as row %s. People who live together can all '
                      'sign up and are all kept; the draw can be set to pick at most one person per household.',
                      row_number, ?, others)
        FROM (
            WITH h AS (  -- people at an address, leaving out rows that are duplicates of another row
                SELECT row_number, household_n FROM stage
                WHERE household_n <> '' AND row_number NOT IN (SELECT row_number FROM found WHERE kind LIKE 'duplicate%')
            ), g AS (
                SELECT household_n, list(row_number ORDER BY row_number) AS members FROM h
                GROUP BY household_n HAVING count(*) > 1
            )
            SELECT h.row_number,
                   array_to_string(list_filter(g.members, lambda x: x <> h.row_number), ', ') AS others
            FROM h JOIN g USING (household_n))
    """, [addr_col, addr_col])

    # --- match rows to people and write ------------------------------------------------
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE matched AS
        SELECT s.row_number, s.source_key, s.row_hash, s.household_key,
               NOT EXISTS (SELECT 1 FROM found f WHERE f.row_number = s.row_number AND f.blocking) AS eligible,
               p.person_id, p.row_hash AS old_hash, p.row_number AS old_row, p.eligible AS old_eligible,
               p.household_key AS old_household, p.removed_sync
        FROM stage s LEFT JOIN people p ON p.source_key = s.source_key
    """)
    base = cur.execute(
        "SELECT coalesce(max(TRY_CAST(substr(person_id, 3) AS INTEGER)), 0) FROM people").fetchall()[0][0]
    cur.execute("""
        UPDATE matched SET person_id = n.pid
        FROM (SELECT source_key, printf('P-%04d', ? + row_number() OVER (ORDER BY row_number)) AS pid
              FROM matched WHERE person_id IS NULL) n
        WHERE matched.source_key = n.source_key
    """, [base])
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE changes AS
        SELECT person_id, row_number,
               CASE WHEN old_hash IS NULL THEN 'added'
                    WHEN removed_sync IS NOT NULL THEN 'restored'
                    WHEN old_hash <> row_hash THEN 'changed' END AS change
        FROM matched
        WHERE old_hash IS NULL OR removed_sync IS NOT NULL OR old_hash <> row_hash
    """)
    cur.execute("""
        INSERT INTO changes
        SELECT person_id, row_number, 'removed' FROM people
        WHERE removed_sync IS NULL AND source_key NOT IN (SELECT source_key FROM stage)
    """)

    cur.execute("""
        INSERT INTO people (person_id, source_key, row_number, row_hash, household_key, eligible, first_sync)
        SELECT person_id, source_key, row_number, row_hash, household_key, eligible, ?
        FROM matched WHERE old_hash IS NULL
    """, [sync_id])
    cur.execute("""
        UPDATE people SET row_number = m.row_number, row_hash = m.row_hash, household_key = m.household_key,
                          eligible = m.eligible, removed_sync = NULL, updated_at = current_timestamp
        FROM matched m
        WHERE people.person_id = m.person_id AND m.old_hash IS NOT NULL
          AND (m.old_hash <> m.row_hash OR m.old_row <> m.row_number OR m.old_eligible <> m.eligible
               OR m.removed_sync IS NOT NULL
               OR coalesce(m.old_household, '') <> coalesce(m.household_key, ''))
    """)
    cur.execute("""
        UPDATE people SET removed_sync = ?, eligible = false, updated_at = current_timestamp
        WHERE person_id IN (SELECT person_id FROM changes WHERE change = 'removed')
    """, [sync_id])
    # Answers and contacts of new and changed rows.
    rewrite = "(SELECT person_id FROM changes WHERE change IN ('added', 'changed', 'restored'))"
    cur.execute(f"DELETE FROM person_values WHERE person_id IN {rewrite}")
    cur.execute(f"DELETE FROM contacts WHERE person_id IN {rewrite}")
    cur.execute(f"""
        INSERT INTO person_values (person_id, field, raw, value)
        SELECT m.person_id, v.field, v.raw, v.value
        FROM stage_values v JOIN matched m USING (row_number)
        WHERE m.person_id IN {rewrite}
    """)
    cur.execute(f"""
        INSERT INTO contacts (person_id, name, email, phone, address, postcode)
        SELECT m.person_id, s.name, s.email, s.phone, s.address, s.postcode
        FROM stage s JOIN matched m USING (row_number)
        WHERE m.person_id IN {rewrite}
    """)
    cur.execute("INSERT INTO sync_changes SELECT ?, person_id, change, row_number FROM changes", [sync_id])
    cur.execute("DELETE FROM problems")
    cur.execute("""
        INSERT INTO problems
        SELECT ?, f.row_number, m.person_id, f.column_name, f.value, f.kind, f.blocking, f.message
        FROM found f LEFT JOIN matched m USING (row_number)
    """, [sync_id])

    counts = dict(cur.execute("SELECT change, count(*) FROM changes GROUP BY change").fetchall())
    n_problems, n_blocking = cur.execute(
        "SELECT count(*), count(*) FILTER (WHERE blocking) FROM found").fetchall()[0]
    result = SyncResult(
        sync_id=sync_id, status="ok", rows_read=rows_read, blank_rows=blank_rows,
        added=counts.get("added", 0), changed=counts.get("changed", 0), removed=counts.get("removed", 0),
        restored=counts.get("restored", 0),
        unchanged=rows_read - counts.get("added", 0) - counts.get("changed", 0) - counts.get("restored", 0),
        problems=n_problems, blocking=n_blocking)
    result.message = result.summary()
    cur.execute("""
        INSERT INTO sync_log (sync_id, started_at, finished_at, source_kind, source_label, status, rows_read,
                              blank_rows, added, changed, removed, restored, unchanged, problems, blocking,
                              message, actor)
        VALUES (?, current_timestamp, current_timestamp, ?, ?, 'ok', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    """, [sync_id, source_kind, source_label, result.rows_read, result.blank_rows, result.added, result.changed,
          result.removed, result.restored, result.unchanged, result.problems, result.blocking, result.message,
          actor])
    for t in ("stage_raw", "stage", "spell", "fmeta", "stage_values", "found", "matched", "changes"):
        cur.execute(f"DROP TABLE IF EXISTS {t}")
    return result
