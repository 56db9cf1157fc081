"""Sync sign-ups from a ``Grid`` into the store: validate, record what changed, lose nothing.

The whole sync is one database transaction: if anything fails (a column went missing,
the network dropped before the grid arrived, a write conflict that keeps coming back),
the last good data stays exactly as it was and the failure is written to the sync log.

Validation is set-based: the columns are trimmed and blank rows left out in Arrow, each
distinct answer is matched against the accepted spellings once, and everything else runs
as a handful of SQL statements inside DuckDB (no Python loop over rows), so a 50,000-row
sheet is checked in well under a second (``python -m bench.sync_bench``). Every problem names the sheet
row, the column, the value and what to do. Rows
with problems are kept and shown; a row with a *blocking* problem (empty or unknown
answer in a stratification field, a duplicate of an earlier row) is simply not
eligible for the draw until it is fixed. Several people at one address are flagged as a
warning, not blocked.

A sync that cannot empty the pool by mistake: a sheet with no sign-ups under its questions, or
whose columns include none of the chosen ones, is refused; a sync that would mark more than a
set share of the people signed up as no longer in the sheet (``retire_confirm_share``, default
10%), or that would change anything while a draw is being prepared (targets frozen, a draw
computed or committed but not revealed), stops with ``ConfirmationNeeded`` carrying the numbers;
nothing changes until it is run again with ``confirmed=`` those numbers (or ``True``). Every
failure, held sync and unexpected error is written to the sync log.

Identity of a row across syncs (``source_key``): the mapped id/timestamp column if it
is filled in, else the email address, else the phone number, else the row's content.
A repeated key gets ``#2``, ``#3`` … in sheet order.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable, NotRequired, TypedDict, Unpack

from lib.recruitment.categories import Field, load_fields
from lib.store.db import Database
from lib.errors import UserError
from lib.store.settings import get_setting, set_setting
from lib.recruitment.signups.grid import Grid
from lib.recruitment.signups.mapping import Mapping, check_mapping, field_role
from lib.recruitment.signups.slot import SyncBusy, sync_slot  # noqa: F401 - SyncBusy is part of this module's errors

_sync_lock = threading.Lock()

# The sheet the background sync keeps reading (lib/recruitment/signups/live.py): written by every successful sync from a
# Google Sheet or a published link that names its source, cleared by a successful sync from anything else
# (a file, the demo): the sign-ups now come from there, and an automatic sync would undo them.
LIVE_SOURCE = "live_source"
LIVE_PENDING = "live_pending"  # a background sync waiting for an organiser's confirmation
LIVE_KINDS = ("google_sheet", "published_csv")
SLOT_WAIT = 30.0  # seconds a sync waits for another one to finish before saying so

# What counts as blank around an answer: exactly the characters Python's str.strip()
# removes (tabs, line breaks, no-break and ideographic spaces, U+0085 …). DuckDB's trim()
# only removes spaces, so a cell holding just a tab would count as an answer.
WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())


class SyncError(UserError):
    logged = False  # True once written to the sync log
    sync_id = 0  # the sync log's line, once written there


class ConfirmationNeeded(SyncError):
    """The sync would retire many people, or change the pool of a draw being prepared: ask first."""

    def __init__(self, message: str, *, counts: tuple[int, int, int, int], pool: int, reason: str):
        super().__init__(message)
        self.counts = counts  # (added, changed, removed, restored), for ``confirmed=``
        self.added, self.changed, self.removed, self.restored = counts
        self.pool = pool
        self.reason = reason  # "retire" or "draw"


def retire_share(db: Database) -> float:
    """The share of the pool a sync may retire without asking (setting, else lib.store.config)."""
    from lib.store.config import retire_confirm_share

    value = get_setting(db, "retire_confirm_share")
    try:
        return min(1.0, max(0.0, float(value))) if value is not None else retire_confirm_share()
    except (TypeError, ValueError):
        return retire_confirm_share()


def draw_in_preparation(db: Database) -> str | None:
    """Why the pool should not change unannounced now (a draw is being prepared), or None."""
    from lib.draws import records as draws

    latest = draws.latest_draw(db)
    if latest is not None and latest.status == "committed":
        return "a draw's commitment has been published and the draw is not revealed yet"
    if latest is not None and latest.status == "computed":
        return "a draw has been computed and is not revealed yet"
    frozen = draws.frozen_inputs(db)
    if frozen is not None:
        revealed = draws.revealed_draw(db)
        if revealed is None or revealed.target_version != frozen.target_version:
            return "the targets are frozen for a draw"
    return None


def _change_words(counts: tuple[int, int, int, int]) -> str:
    words = [f"{n} {w}" for n, w in zip(counts, ("new", "changed", "no longer in the sheet", "back in the sheet")) if n]
    return ", ".join(words) or "nothing changed"


def _needs_confirmation(
    counts: tuple[int, int, int, int], pool: int, share: float, preparing: str | None
) -> ConfirmationNeeded | None:
    added, changed, removed, restored = counts
    if pool and removed > share * pool:
        pct = f"{100 * removed / pool:.0f}%"
        return ConfirmationNeeded(
            f"{removed} of the {pool} people signed up ({pct}) would be marked as no longer in the sheet, so they "
            f"could not be drawn ({_change_words(counts)}). Nothing has been changed yet. If they really left the "
            "sheet, confirm. If not, check that you chose the right file or tab: a wrong or half-copied sheet looks "
            "exactly like this.",
            counts=counts,
            pool=pool,
            reason="retire",
        )
    if preparing and any(counts):
        return ConfirmationNeeded(
            f"A draw is being prepared ({preparing}), and bringing in this sheet would change the people it draws "
            f"from: {_change_words(counts)}. Nothing has been changed yet. Confirm only if these changes should "
            "count for the draw.",
            counts=counts,
            pool=pool,
            reason="draw",
        )
    return None


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
    confirmation: "ConfirmationNeeded | None" = None

    def summary(self) -> str:
        if self.status != "ok":
            return self.message
        parts = [f"{self.rows_read} sign-ups read"]
        for n, word in (
            (self.added, "new"),
            (self.changed, "changed"),
            (self.removed, "no longer in the sheet"),
            (self.restored, "back in the sheet"),
        ):
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


def record_failed_sync(
    db: Database, source_kind: str, source_label: str, message: str, actor: str | None = None
) -> SyncResult:
    """Write a failed attempt to the sync log. Touches nothing else."""

    def write(cur):
        sid = cur.execute("SELECT nextval('sync_seq')").fetchall()[0][0]
        cur.execute(
            "INSERT INTO sync_log (sync_id, started_at, finished_at, source_kind, source_label, status, message, actor) "
            "VALUES (?, current_timestamp, current_timestamp, ?, ?, 'failed', ?, ?)",
            [sid, source_kind, source_label, message, actor],
        )
        return sid

    sid = db.transaction(write)
    return SyncResult(sync_id=sid, status="failed", message=message)


class SyncOptions(TypedDict):
    """Where a sync's rows come from and who asked (the sync log's columns), and the organiser's yes."""

    source_kind: str
    source_label: str
    actor: NotRequired[str | None]
    confirmed: NotRequired[bool | tuple | list | None]
    source: NotRequired[dict | None]


def sync_from(
    db: Database,
    fetch: Callable[[], Grid],
    mapping: Mapping,
    *,
    wait: float = SLOT_WAIT,
    **options: Unpack[SyncOptions],
) -> SyncResult:
    """Fetch a grid and sync it. Any failure is logged and returned as a failed result; data is untouched.

    A sync waiting for confirmation is a failed result whose ``confirmation`` holds the numbers.
    An unexpected error (a bug) is logged too, then raised. Fetching and syncing hold the sync slot
    (lib/recruitment/signups/slot.py): another sync running now makes this one wait up to ``wait`` seconds, then
    raise ``SyncBusy`` (nothing attempted, nothing logged)."""
    with sync_slot(db, options.get("actor") or options["source_kind"], wait=wait):
        return _sync_from(db, fetch, mapping, **options)


def _sync_from(db: Database, fetch: Callable[[], Grid], mapping: Mapping, **options: Unpack[SyncOptions]) -> SyncResult:
    source_kind, source_label = options["source_kind"], options["source_label"]
    actor = options.get("actor")
    try:
        grid = fetch()
        return sync_grid(db, grid, mapping, **options)
    except SyncBusy:
        raise
    except UserError as e:
        if getattr(e, "logged", False):
            result = SyncResult(sync_id=getattr(e, "sync_id", 0), status="failed", message=str(e))
        else:
            result = record_failed_sync(db, source_kind, source_label, str(e), actor)
        result.confirmation = e if isinstance(e, ConfirmationNeeded) else None
        return result
    except Exception as e:
        if not getattr(e, "_kleroterion_logged", False):
            record_unexpected_failure(db, source_kind, source_label, e, actor)
        raise


def record_unexpected_failure(
    db: Database, source_kind: str, source_label: str, error: BaseException, actor: str | None = None
) -> None:
    """Log an error nobody expected (nothing was changed); the caller raises it on."""
    try:
        setattr(error, "_kleroterion_logged", True)  # any exception: read back with getattr
        record_failed_sync(
            db,
            source_kind,
            source_label,
            f"An unexpected error stopped this sync ({type(error).__name__}); nothing was changed. "
            "The details are in the server's log.",
            actor,
        )
    except Exception:  # the database itself failed: the original error matters more
        pass


def _refuse(
    db: Database, error: SyncError, source_kind: str, source_label: str, actor: str | None, prefix: str = ""
) -> SyncError:
    error.sync_id = record_failed_sync(db, source_kind, source_label, prefix + str(error), actor).sync_id
    error.logged = True
    return error


def sync_grid(
    db: Database, grid: Grid, mapping: Mapping, *, wait: float = SLOT_WAIT, **options: Unpack[SyncOptions]
) -> SyncResult:
    """Validate ``grid`` and bring the store in line with it, in one transaction.

    Raises ``SyncError`` (nothing written except the failure log) when the sheet cannot
    be used at all: a mapped column is missing, no sign-ups under the questions. Raises
    ``ConfirmationNeeded`` (nothing written except the log) when the sync would retire more
    than ``retire_share(db)`` of the pool or change the pool of a draw being prepared, unless
    ``confirmed`` is True or equals the exception's ``counts`` (the numbers the organiser saw).

    Only one sync runs at a time (lib/recruitment/signups/slot.py): this one waits up to ``wait`` seconds for
    another to finish, then raises ``SyncBusy`` (nothing attempted). ``source`` describes a Google Sheet
    or published link (``{"kind": "google_sheet", "spreadsheet": …, "worksheet": …}`` or
    ``{"kind": "published_csv", "url": …}``) for the background sync to keep reading once this succeeds.
    """
    with sync_slot(db, options.get("actor") or options["source_kind"], wait=wait):
        return _sync_grid(db, grid, mapping, **options)


def _remember_source(cur, source_kind: str, source: dict | None, actor: str | None) -> None:
    """After a successful sync: which source the background sync reads now; no confirmation is waiting."""
    import json

    cur.execute("DELETE FROM settings WHERE key = ?", [LIVE_PENDING])
    if source_kind in LIVE_KINDS:
        if not source:
            return
        cur.execute(
            "INSERT INTO settings (key, value, updated_by) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now(), "
            "updated_by = excluded.updated_by",
            [LIVE_SOURCE, json.dumps({**source, "kind": source_kind}, sort_keys=True), actor],
        )
    else:
        cur.execute("DELETE FROM settings WHERE key = ?", [LIVE_SOURCE])


def _sync_grid(db: Database, grid: Grid, mapping: Mapping, **options: Unpack[SyncOptions]) -> SyncResult:
    source_kind, source_label = options["source_kind"], options["source_label"]
    actor, confirmed, source = options.get("actor"), options.get("confirmed"), options.get("source")
    fields = load_fields(db)
    if not fields:
        raise _refuse(
            db,
            SyncError(
                "No stratification fields are set up yet, so sign-ups cannot be checked. "
                "Set up the fields (for example age band, gender, area) first."
            ),
            source_kind,
            source_label,
            actor,
        )
    problems = check_mapping(mapping, grid.headers, fields)
    if problems:
        chosen = [c for c in dict.fromkeys(mapping.columns.values()) if c]
        present = set(grid.headers)
        where = "file" if source_kind in ("csv", "excel", "ods", "upload") else "sheet"
        if chosen and not any(c in present for c in chosen):
            msg = (
                f"None of the columns chosen for this assembly are in this {where}: "
                + ", ".join(f"“{c}”" for c in chosen)
                + " are missing (its columns are: "
                + (", ".join(f"“{h}”" for h in grid.headers[:12]) + (" …" if len(grid.headers) > 12 else ""))
                + "). Nothing was changed and nobody was marked as gone. Check that you chose the right "
                f"{where} or tab. If the form itself changed, choose its new columns under “Which column holds "
                "what”."
            )
        else:
            msg = "The sheet does not match the saved column choices, so nothing was changed. " + " ".join(problems)
        raise _refuse(db, SyncError(msg), source_kind, source_label, actor)
    salt = _household_salt(db)
    share = retire_share(db)
    preparing = draw_in_preparation(db)
    with _sync_lock:
        t0 = time.perf_counter()

        def work(cur):
            done = _sync_in_transaction(
                cur,
                grid,
                mapping,
                fields,
                salt,
                _SyncRun(source_kind, source_label, actor, share, preparing, confirmed),
            )
            _remember_source(cur, source_kind, source, actor)
            return done

        try:
            result = db.transaction(work)
        except ConfirmationNeeded as e:
            raise _refuse(
                db, e, source_kind, source_label, actor, "Not brought in, waiting for an organiser to confirm: "
            ) from None
        except SyncError as e:
            raise _refuse(db, e, source_kind, source_label, actor) from None
        except UserError:
            raise
        except Exception as e:  # a bug or a database failure: nothing was written; logged, then raised
            record_unexpected_failure(db, source_kind, source_label, e, actor)
            raise
        result.seconds = time.perf_counter() - t0
        return result


_STAGE_ROLES = (
    ("id", "id_raw"),
    ("name", "name"),
    ("email", "email"),
    ("phone", "phone"),
    ("address", "address"),
    ("postcode", "postcode"),
)


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

    encoded: list[tuple] = []
    d_field: list[str] = []
    d_raw: list[str | None] = []
    for f in fields:
        enc = pc.dictionary_encode(raw.column("f:" + f.key).combine_chunks())
        encoded.append((f.key, len(d_raw), enc))
        words = enc.dictionary.to_pylist()
        d_field += [f.key] * len(words)
        d_raw += words
    cur.register(
        "kl_distinct_answers",
        pa.table(
            {
                "i": pa.array(range(len(d_raw)), pa.int64()),
                "field": pa.array(d_field, pa.string()),
                "raw": pa.array(d_raw, pa.string()),
            }
        ),
    )
    try:
        found = dict(
            cur.execute("""
            SELECT d.i, any_value(sp.value)
            FROM kl_distinct_answers d JOIN spell sp ON sp.field = d.field AND sp.n = kl_norm(d.raw)
            GROUP BY d.i""").fetchall()
        )
    finally:
        cur.unregister("kl_distinct_answers")
    canon = pa.array([found.get(i) for i in range(len(d_raw))], pa.string())
    n = raw.num_rows
    rn = raw.column("row_number")
    parts = []
    for key, offset, enc in encoded:
        values = pc.take(canon.slice(offset, len(enc.dictionary)), enc.indices)
        parts.append(
            pa.table(
                {
                    "row_number": rn,
                    "field": pa.repeat(pa.scalar(key, pa.string()), n),
                    "raw": raw.column("f:" + key),
                    "value": values,
                }
            )
        )
    if not parts:
        return pa.table(
            {
                "row_number": pa.array([], pa.int32()),
                "field": pa.array([], pa.string()),
                "raw": pa.array([], pa.string()),
                "value": pa.array([], pa.string()),
            }
        )
    return pa.concat_tables(parts)


@dataclass(frozen=True)
class _SyncRun:
    """Who asked for this sync and from where (the sync log's columns), the share of the pool it may retire
    without asking, the draw being prepared (if any), and the organiser's yes."""

    source_kind: str
    source_label: str
    actor: str | None
    share: float = 1.0
    preparing: str | None = None
    confirmed: bool | tuple | list | None = None


def _sync_in_transaction(
    cur, grid: Grid, mapping: Mapping, fields: list[Field], salt: str, run: _SyncRun
) -> SyncResult:
    fkeys = [f.key for f in fields]
    fcols = [_q("f:" + k) for k in fkeys]

    raw = _stage_raw(grid, mapping, fkeys)
    rows_read = raw.num_rows
    blank_rows = grid.row_count - rows_read
    if rows_read == 0:
        pool = cur.execute("SELECT count(*) FROM people WHERE removed_sync IS NULL").fetchall()[0][0]
        raise SyncError(
            "The sheet has the questions in its first row but no sign-ups under them. Nothing was changed"
            + (f": bringing it in would mark all {pool} people signed up as no longer in the sheet." if pool else ".")
            + " Check that you chose the right file or tab."
        )
    sync_id = cur.execute("SELECT nextval('sync_seq')").fetchall()[0][0]

    all_cols = ["id_raw", "name", "email", "phone", "address", "postcode"] + fcols
    # stage_raw (Arrow, registered as a view until the end) holds the answers and contacts;
    # stage holds only what is computed from them, one row per non-blank sheet row.
    cur.register("stage_raw", raw)
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stage AS
        WITH s AS (
            SELECT row_number, id_raw,
                   lower(email) AS email_n,
                   regexp_replace(phone, '[^0-9]', '', 'g') AS phone_n,
                   -- the name, to tell the same person twice from people sharing a phone
                   regexp_replace(lower(strip_accents(nfc_normalize(name))), '[^a-z0-9]', '', 'g') AS name_n,
                   -- kl_norm(address) || '|' || kl_norm(postcode) in one pass (chr(1) keeps them apart)
                   CASE WHEN address = '' THEN '' ELSE
                       regexp_replace(lower(strip_accents(nfc_normalize(address || chr(1) || postcode))),
                                      '[^a-z0-9+\x01]', '', 'g') END AS hh,
                   md5(concat_ws(chr(31), {", ".join(all_cols)})) AS row_hash
            FROM stage_raw
        ), k AS (
            SELECT row_number, email_n, phone_n, name_n, row_hash,
                   CASE WHEN hh = '' OR starts_with(hh, chr(1)) THEN '' ELSE replace(hh, chr(1), '|') END AS household_n,
                   CASE WHEN id_raw <> '' THEN 'id:' || id_raw
                        WHEN email_n <> '' THEN 'email:' || email_n
                        WHEN phone_n <> '' THEN 'phone:' || phone_n
                        ELSE 'row:' || row_hash END AS key0
            FROM s
        )
        SELECT row_number, email_n, phone_n, name_n, household_n, row_hash,
               key0 || CASE WHEN rk > 1 THEN '#' || rk ELSE '' END AS source_key,
               CASE WHEN household_n <> '' THEN substr(sha256(? || household_n), 1, 16) END AS household_key
        FROM (SELECT *, row_number() OVER (PARTITION BY key0 ORDER BY row_number) AS rk FROM k)
    """,
        [salt],
    )

    # --- stratification answers, long format, matched against the accepted spellings -----
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE spell AS
        SELECT DISTINCT field, value, n FROM (
            SELECT field, value, kl_norm(value) AS n FROM strat_values
            UNION ALL SELECT field, value, kl_norm(label) FROM strat_values
            UNION ALL SELECT field, value, kl_norm(unnest(aliases)) FROM strat_values
        ) WHERE n <> ''
        -- a blank answer counts as this answer, when the question says so (lib/recruitment/categories.py)
        UNION ALL SELECT field, blank_value, '' FROM strat_fields WHERE blank_value IS NOT NULL
    """)
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE fmeta (fname VARCHAR, field VARCHAR, header VARCHAR, label VARCHAR, allowed VARCHAR)"
    )
    for f in fields:
        allowed = ", ".join(f.values[:8]) + (" …" if len(f.values) > 8 else "")
        cur.execute(
            "INSERT INTO fmeta VALUES (?, ?, ?, ?, ?)",
            ["f:" + f.key, f.key, mapping.column(field_role(f.key)), f.label, allowed],
        )
    cur.execute("DROP TABLE IF EXISTS stage_values")
    try:
        cur.register("stage_values", _stage_values(cur, raw, fields))  # an Arrow view: no copy
        return _sync_rest(cur, grid, mapping, sync_id, rows_read, blank_rows, run)
    finally:
        cur.unregister("stage_values")
        cur.unregister("stage_raw")


def _sync_rest(
    cur, grid: Grid, mapping: Mapping, sync_id: int, rows_read: int, blank_rows: int, run: _SyncRun
) -> SyncResult:

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
    # The levels (issue 15): "must fix" (blocking: not in the draw until the sheet is corrected) is
    # for a row that cannot be drawn fairly: an empty or unknown answer, the same person twice
    # (the same email address; or the same phone number with the same name, or no name to tell
    # them apart), or nobody could tell them they were drawn (no email, phone or address).
    # "Check" (kept in the draw) is for what is often right: people who live together share an
    # address and often a landline, so a shared address and a phone shared under another name
    # are both checks; so is a sign-up reachable only by post.
    cur.execute(
        """
        INSERT INTO found
        SELECT row_number, ?, '', 'duplicate_email', true,
               printf('Row %d, column “%s”: the same email address as row %d, so probably the same person '
                      'signed up twice. Only row %d can be in the draw. If they are different people, '
                      'correct the email address on the sheet.', row_number, ?, first_row, first_row)
        FROM (SELECT row_number, min(row_number) OVER (PARTITION BY email_n) AS first_row
              FROM stage WHERE email_n <> '')
        WHERE row_number > first_row
    """,
        [email_col, email_col],
    )
    cur.execute(
        """
        INSERT INTO found
        SELECT s.row_number, ?, '', 'duplicate_phone', true,
               printf('Row %d, column “%s”: the same phone number %s as row %d, so probably the same '
                      'person signed up twice. Only row %d can be in the draw. If they are different people, '
                      'correct the phone number or the name on the sheet.', s.row_number, ?,
                      CASE WHEN bool_and(e.name_n = s.name_n AND s.name_n <> '') THEN 'and name'
                           ELSE 'and no name to tell them apart' END, min(e.row_number), min(e.row_number))
        FROM stage s JOIN stage e ON e.phone_n = s.phone_n AND e.row_number < s.row_number
             AND (e.name_n = s.name_n OR e.name_n = '' OR s.name_n = '')
        WHERE s.phone_n <> '' AND s.row_number NOT IN (SELECT row_number FROM found WHERE kind = 'duplicate_email')
        GROUP BY s.row_number
    """,
        [phone_col, phone_col],
    )
    cur.execute(
        """
        INSERT INTO found
        SELECT row_number, ?, '', 'shared_phone', false,
               printf('Row %d, column “%s”: the same phone number as row %s, under another name. People who '
                      'live together often share a landline and an address, so both are kept. If it is the same '
                      'person twice, delete one of the rows; if the number was typed wrong, correct it.',
                      row_number, ?, others)
        FROM (
            WITH h AS (SELECT row_number, phone_n FROM stage
                       WHERE phone_n <> '' AND row_number NOT IN (SELECT row_number FROM found WHERE kind LIKE 'duplicate%')),
                 g AS (SELECT phone_n, list(row_number ORDER BY row_number) AS members FROM h
                       GROUP BY phone_n HAVING count(*) > 1)
            SELECT h.row_number, array_to_string(list_filter(g.members, lambda x: x <> h.row_number), ', ') AS others
            FROM h JOIN g USING (phone_n))
    """,
        [phone_col, phone_col],
    )
    cur.execute(
        """
        INSERT INTO found
        SELECT row_number, ?, '', 'no_contact', household_n = '',
               CASE WHEN household_n = ''
                    THEN printf('Row %d: no email address, phone number or postal address, so nobody could tell '
                                'this person they were drawn. Add one on the sheet, then sync again; until then '
                                'they are not in the draw.', row_number)
                    ELSE printf('Row %d: no email address or phone number: if drawn, they can only be told by post, '
                                'at their address. Allow time for a letter, or add a phone number or email '
                                'address on the sheet.', row_number) END
        FROM stage WHERE email_n = '' AND phone_n = ''
    """,
        [email_col],
    )
    cur.execute(
        """
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
    """,
        [addr_col, addr_col],
    )

    # --- match rows to people and write ------------------------------------------------
    base = cur.execute("SELECT coalesce(max(TRY_CAST(substr(person_id, 3) AS INTEGER)), 0) FROM people").fetchall()[0][
        0
    ]
    # New people get the next pseudonyms, in sheet order.
    cur.execute(
        """
        CREATE OR REPLACE TEMP TABLE matched AS
        SELECT s.row_number, s.source_key, s.row_hash, s.household_key,
               s.row_number NOT IN (SELECT row_number FROM found WHERE blocking) AS eligible,
               coalesce(p.person_id,
                        printf('P-%04d', ? + row_number() OVER (PARTITION BY p.person_id IS NULL
                                                                ORDER BY s.row_number))) AS person_id,
               p.row_hash AS old_hash, p.row_number AS old_row, p.eligible AS old_eligible,
               p.household_key AS old_household, p.removed_sync
        FROM stage s LEFT JOIN people p ON p.source_key = s.source_key
    """,
        [base],
    )
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
    # Before anything is written: would this retire many people, or move a draw's pool? Then ask first.
    planned = dict(cur.execute("SELECT change, count(*) FROM changes GROUP BY change").fetchall())
    counts = (
        int(planned.get("added", 0)),
        int(planned.get("changed", 0)),
        int(planned.get("removed", 0)),
        int(planned.get("restored", 0)),
    )
    pool = cur.execute("SELECT count(*) FROM people WHERE removed_sync IS NULL").fetchall()[0][0]
    ask = _needs_confirmation(counts, pool, run.share, run.preparing)
    if ask is not None and run.confirmed is not True and tuple(run.confirmed or ()) != counts:
        raise ask

    cur.execute(
        """
        INSERT INTO people (person_id, source_key, row_number, row_hash, household_key, eligible, first_sync)
        SELECT person_id, source_key, row_number, row_hash, household_key, eligible, ?
        FROM matched WHERE old_hash IS NULL
    """,
        [sync_id],
    )
    cur.execute("""
        UPDATE people SET row_number = m.row_number, row_hash = m.row_hash, household_key = m.household_key,
                          eligible = m.eligible, removed_sync = NULL, updated_at = current_timestamp
        FROM matched m
        WHERE people.person_id = m.person_id AND m.old_hash IS NOT NULL
          AND (m.old_hash <> m.row_hash OR m.old_row <> m.row_number OR m.old_eligible <> m.eligible
               OR m.removed_sync IS NOT NULL
               OR coalesce(m.old_household, '') <> coalesce(m.household_key, ''))
    """)
    cur.execute(
        """
        UPDATE people SET removed_sync = ?, eligible = false, updated_at = current_timestamp
        WHERE person_id IN (SELECT person_id FROM changes WHERE change = 'removed')
    """,
        [sync_id],
    )
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
    cur.execute(
        """
        INSERT INTO problems
        SELECT ?, f.row_number, m.person_id, f.column_name, f.value, f.kind, f.blocking, f.message
        FROM found f LEFT JOIN matched m USING (row_number)
    """,
        [sync_id],
    )

    done = dict(cur.execute("SELECT change, count(*) FROM changes GROUP BY change").fetchall())
    n_problems, n_blocking = cur.execute("SELECT count(*), count(*) FILTER (WHERE blocking) FROM found").fetchall()[0]
    result = SyncResult(
        sync_id=sync_id,
        status="ok",
        rows_read=rows_read,
        blank_rows=blank_rows,
        added=done.get("added", 0),
        changed=done.get("changed", 0),
        removed=done.get("removed", 0),
        restored=done.get("restored", 0),
        unchanged=rows_read - done.get("added", 0) - done.get("changed", 0) - done.get("restored", 0),
        problems=n_problems,
        blocking=n_blocking,
    )
    result.message = result.summary()
    cur.execute(
        """
        INSERT INTO sync_log (sync_id, started_at, finished_at, source_kind, source_label, status, rows_read,
                              blank_rows, added, changed, removed, restored, unchanged, problems, blocking,
                              message, actor)
        VALUES (?, current_timestamp, current_timestamp, ?, ?, 'ok', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    """,
        [
            sync_id,
            run.source_kind,
            run.source_label,
            result.rows_read,
            result.blank_rows,
            result.added,
            result.changed,
            result.removed,
            result.restored,
            result.unchanged,
            result.problems,
            result.blocking,
            result.message,
            run.actor,
        ],
    )
    for t in ("stage", "spell", "fmeta", "found", "matched", "changes"):
        cur.execute(f"DROP TABLE IF EXISTS {t}")
    return result
