"""Sync sign-ups from a ``Grid`` into the store: validate, record what changed, lose nothing.

The whole sync is one database transaction: if anything fails (a column went missing,
the network dropped before the grid arrived, a write conflict that keeps coming back),
the last good data stays exactly as it was and the failure is written to the sync log.

Validation is set-based: the columns are trimmed and blank rows left out in Arrow, each
distinct answer is matched against the accepted spellings once, and everything else runs
as a handful of SQL statements inside DuckDB (no Python loop over rows), so a 50,000-row
sheet is checked in well under a second (``python -m bench.sync_bench``). Every problem names the sheet row, the column, the value and what to do. Rows
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


_STAGE_ROLES = (("id", "id_raw"), ("name", "name"), ("email", "email"), ("phone", "phone"),
                ("address", "address"), ("postcode", "postcode"))


def _stage_raw(grid: Grid, mapping: Mapping, fkeys: list[str]):
    """Arrow: the mapped columns, trimmed (no NULLs), renamed to their roles, blank rows left out.

    Done in Arrow (vectorised) rather than SQL: it is one pass over the grid, and Arrow's
    trim takes the exact set of whitespace characters Python's ``str.strip()`` removes.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = grid.row_count
    empty = None
    arrays, names, mask = [], [], None
    for role, name in _STAGE_ROLES + tuple((field_role(k), "f:" + k) for k in fkeys):
        col = mapping.column(role)
        if col:
            arr = grid.table.column(f"c{grid.headers.index(col)}")
            arr = pc.utf8_trim(arr if arr.null_count == 0 else pc.fill_null(arr, ""), characters=WHITESPACE)
            filled = pc.not_equal(arr, "")
            mask = filled if mask is None else pc.or_(mask, filled)
        else:
            if empty is None:
                empty = pa.repeat(pa.scalar("", pa.string()), n)
            arr = empty
        arrays.append(arr)
        names.append(name)
    arrays.append(grid.table.column("row_number"))
    names.append("row_number")
    table = pa.table(arrays, names=names)
    return table.filter(mask) if mask is not None else table.slice(0, 0)


def _stage_values(cur, raw, fields: list[Field]):
    """Arrow: (row_number, field, raw, value) for every row and field; value = the canonical answer
    whose accepted spelling matches, or NULL. Each distinct answer is matched once (in SQL, with
    kl_norm), then spread back to the rows through Arrow's dictionary encoding."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded, d_field, d_raw = [], [], []
    for f in fields:
        enc = pc.dictionary_encode(raw.column("f:" + f.key).combine_chunks())
        encoded.append((f.key, len(d_raw), enc))
        words = enc.dictionary.to_pylist()
        d_field += [f.key] * len(words)
        d_raw += words
    cur.register("kl_distinct_answers", pa.table({"i": pa.array(range(len(d_raw)), pa.int64()),
                                                  "field": pa.array(d_field, pa.string()),
                                                  "raw": pa.array(d_raw, pa.string())}))
    try:
        found = dict(cur.execute("""
            SELECT d.i, any_value(sp.value)
            FROM kl_distinct_answers d JOIN spell sp ON sp.field = d.field AND sp.n = kl_norm(d.raw)
            GROUP BY d.i""").fetchall())
    finally:
        cur.unregister("kl_distinct_answers")
    canon = pa.array([found.get(i) for i in range(len(d_raw))], pa.string())
    n = raw.num_rows
    rn = raw.column("row_number")
    parts = []
    for key, offset, enc in encoded:
        values = pc.take(canon.slice(offset, len(enc.dictionary)), enc.indices)
        parts.append(pa.table({"row_number": rn, "field": pa.repeat(pa.scalar(key, pa.string()), n),
                               "raw": raw.column("f:" + key), "value": values}))
    if not parts:
        return pa.table({"row_number": pa.array([], pa.int32()), "field": pa.array([], pa.string()),
                         "raw": pa.array([], pa.string()), "value": pa.array([], pa.string())})
    return pa.concat_tables(parts)


def _sync_in_transaction(cur, grid: Grid, mapping: Mapping, fields: list[Field], salt: str,
                         source_kind: str, source_label: str, actor: str | None) -> SyncResult:
    fkeys = [f.key for f in fields]
    fcols = [_q("f:" + k) for k in fkeys]

    sync_id = cur.execute("SELECT nextval('sync_seq')").fetchall()[0][0]
    raw = _stage_raw(grid, mapping, fkeys)
    rows_read = raw.num_rows
    blank_rows = grid.row_count - rows_read

    all_cols = ["id_raw", "name", "email", "phone", "address", "postcode"] + fcols
    # stage_raw (Arrow, registered as a view until the end) holds the answers and contacts;
    # stage holds only what is computed from them, one row per non-blank sheet row.
    cur.register("stage_raw", raw)
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE stage AS
        WITH s AS (
            SELECT row_number, id_raw,
                   lower(email) AS email_n,
                   regexp_replace(phone, '[^0-9]', '', 'g') AS phone_n,
                   -- kl_norm(address) || '|' || kl_norm(postcode) in one pass (chr(1) keeps them apart)
                   CASE WHEN address = '' THEN '' ELSE
                       regexp_replace(lower(strip_accents(nfc_normalize(address || chr(1) || postcode))),
                                      '[^a-z0-9+\x01]', '', 'g') END AS hh,
                   md5(concat_ws(chr(31), {', '.join(all_cols)})) AS row_hash
            FROM stage_raw
        ), k AS (
            SELECT row_number, email_n, phone_n, row_hash,
                   CASE WHEN hh = '' OR starts_with(hh, chr(1)) THEN '' ELSE replace(hh, chr(1), '|') END AS household_n,
                   CASE WHEN id_raw <> '' THEN 'id:' || id_raw
                        WHEN email_n <> '' THEN 'email:' || email_n
                        WHEN phone_n <> '' THEN 'phone:' || phone_n
                        ELSE 'row:' || row_hash END AS key0
            FROM s
        )
        SELECT row_number, email_n, phone_n, household_n, row_hash,
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
    cur.execute("DROP TABLE IF EXISTS stage_values")
    try:
        cur.register("stage_values", _stage_values(cur, raw, fields))   # an Arrow view: no copy
        return _sync_rest(cur, grid, mapping, sync_id, rows_read, blank_rows, source_kind, source_label, actor)
    finally:
        cur.unregister("stage_values")
        cur.unregister("stage_raw")


def _sync_rest(cur, grid: Grid, mapping: Mapping, sync_id: int, rows_read: int, blank_rows: int,
               source_kind: str, source_label: str, actor: str | None) -> SyncResult:

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
    base = cur.execute(
        "SELECT coalesce(max(TRY_CAST(substr(person_id, 3) AS INTEGER)), 0) FROM people").fetchall()[0][0]
    # New people get the next pseudonyms, in sheet order.
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE matched AS
        SELECT s.row_number, s.source_key, s.row_hash, s.household_key,
               s.row_number NOT IN (SELECT row_number FROM found WHERE blocking) AS eligible,
               coalesce(p.person_id,
                        printf('P-%04d', ? + row_number() OVER (PARTITION BY p.person_id IS NULL
                                                                ORDER BY s.row_number))) AS person_id,
               p.row_hash AS old_hash, p.row_number AS old_row, p.eligible AS old_eligible,
               p.household_key AS old_household, p.removed_sync
        FROM stage s LEFT JOIN people p ON p.source_key = s.source_key
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
        FROM stage_raw s JOIN matched m USING (row_number)
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
    for t in ("stage", "spell", "fmeta", "found", "matched", "changes"):
        cur.execute(f"DROP TABLE IF EXISTS {t}")
    return result
