"""Read-side queries over the sign-up store, for pages and other modules."""

from __future__ import annotations

import pandas as pd

from lib.recruitment.categories import load_fields
from lib.store.db import Database
from lib.privacy import mask_email, mask_name, mask_phone


def signup_counts(db: Database) -> dict[str, int]:
    row = db.query("""
        SELECT count(*) FILTER (WHERE removed_sync IS NULL),
               count(*) FILTER (WHERE removed_sync IS NULL AND eligible),
               count(*) FILTER (WHERE removed_sync IS NULL AND NOT eligible),
               count(*) FILTER (WHERE removed_sync IS NOT NULL)
        FROM people""")[0]
    return {"current": row[0], "eligible": row[1], "blocked": row[2], "removed": row[3]}


def last_syncs(db: Database, limit: int = 10) -> pd.DataFrame:
    return db.query_df(
        """
        SELECT sync_id AS "Sync", strftime(started_at, '%Y-%m-%d %H:%M') AS "When", source_kind AS "Source",
               status AS "Result", rows_read AS "Rows", added AS "New", changed AS "Changed",
               removed AS "Removed", problems AS "Problems",
               CASE WHEN actor = 'Automatic sync' THEN 'automatic' ELSE coalesce(actor, '') END AS "Who",
               message AS "Details"
        FROM sync_log ORDER BY sync_id DESC LIMIT ?""",
        [limit],
    )


def last_good_sync(db: Database) -> dict | None:
    df = db.query_df("SELECT * FROM sync_log WHERE status = 'ok' ORDER BY sync_id DESC LIMIT 1")
    return None if df.empty else df.iloc[0].to_dict()


def last_sync(db: Database) -> dict | None:
    df = db.query_df("SELECT * FROM sync_log ORDER BY sync_id DESC LIMIT 1")
    return None if df.empty else df.iloc[0].to_dict()


def problem_list(db: Database, *, blocking_only: bool = False) -> pd.DataFrame:
    return db.query_df(f"""
        SELECT row_number AS "Row", column_name AS "Column",
               CASE WHEN blocking THEN 'Must fix' ELSE 'Check' END AS "Importance",
               person_id AS "Pseudonym", message AS "What to do"
        FROM problems {"WHERE blocking" if blocking_only else ""}
        ORDER BY blocking DESC, row_number""")


def pool_frame(db: Database, *, eligible_only: bool = True, include_removed: bool = False) -> pd.DataFrame:
    """One row per person: person_id, household_key, eligible, and one column per field (canonical value)."""
    fields = load_fields(db)
    where = []
    if eligible_only:
        where.append("p.eligible")
    if not include_removed:
        where.append("p.removed_sync IS NULL")
    pivot_cols = ", ".join(
        'max(v.value) FILTER (WHERE v.field = ?) AS "' + f.key.replace('"', '""') + '"' for f in fields
    )
    sql = f"""
        SELECT p.person_id, p.household_key, p.eligible, p.row_number{", " + pivot_cols if fields else ""}
        FROM people p LEFT JOIN person_values v USING (person_id)
        {"WHERE " + " AND ".join(where) if where else ""}
        GROUP BY p.person_id, p.household_key, p.eligible, p.row_number
        ORDER BY p.person_id"""
    return db.query_df(sql, [f.key for f in fields])


PREVIEW_PAGE = 200
"""Rows of the sign-ups preview shown at once (the page offers the next ones and a search)."""


def _preview_filter(search: str) -> tuple[str, list]:
    """A search by pseudonym ("P-0042", "0042") or sheet row number ("42"): never by name or contact, so the
    preview gives nothing away that it does not show."""
    text = (search or "").strip()
    if not text:
        return "TRUE", []
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"  # typed literally
    if text.isdigit():
        return "(p.row_number = ? OR p.person_id ILIKE ? ESCAPE '\\')", [int(text), like]
    return "p.person_id ILIKE ? ESCAPE '\\'", [like]


def preview_count(db: Database, search: str = "") -> int:
    """How many sign-ups the preview has (matching ``search``), removed ones included."""
    where, params = _preview_filter(search)
    return int(db.scalar(f"SELECT count(*) FROM people p WHERE {where}", params))


def preview(db: Database, limit: int = PREVIEW_PAGE, *, offset: int = 0, search: str = "") -> pd.DataFrame:
    """Organisers' preview: pseudonym, status and answers, with contact details masked; ``limit`` rows from
    ``offset`` in sheet order (removed sign-ups last), only those matching ``search`` if given."""
    fields = load_fields(db)
    where, params = _preview_filter(search)
    answers = ", ".join(f'max(v.raw) FILTER (WHERE v.field = ?) AS "f{i}"' for i in range(len(fields)))
    df = db.query_df(
        f"""
        SELECT p.person_id, p.row_number, p.eligible, p.removed_sync IS NOT NULL AS removed,
               c.name, c.email, c.phone, {answers or "NULL AS none"}
        FROM people p LEFT JOIN contacts c USING (person_id) LEFT JOIN person_values v USING (person_id)
        WHERE {where}
        GROUP BY ALL ORDER BY p.removed_sync IS NOT NULL, p.row_number, p.person_id LIMIT ? OFFSET ?""",
        [f.key for f in fields] + params + [limit, max(0, offset)],
    )
    out = pd.DataFrame(
        {
            "Pseudonym": df["person_id"],
            "Row": df["row_number"],
            "Status": [
                "No longer in the sheet" if r else ("Ready for the draw" if e else "Has a problem")
                for e, r in zip(df["eligible"], df["removed"])
            ],
            "Name": df["name"].map(mask_name),
            "Email": df["email"].map(mask_email),
            "Phone": df["phone"].map(mask_phone),
        }
    )
    for i, f in enumerate(fields):
        out[f.label] = df[f"f{i}"]
    return out
