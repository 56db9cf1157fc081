"""The stratification fields (e.g. age band) and the values each may take.

Organisers describe them once, usually from a CSV with columns
``field, field_label, question, value, value_label, aliases`` (aliases separated by ``|``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field as dc_field
from pathlib import Path

from lib.db import Database
from lib.errors import UserError


@dataclass
class Field:
    key: str
    label: str
    question: str = ""
    values: list[str] = dc_field(default_factory=list)         # canonical values, in order
    value_labels: dict[str, str] = dc_field(default_factory=dict)
    aliases: dict[str, list[str]] = dc_field(default_factory=dict)


REQUIRED_COLUMNS = ("field", "value")


def parse_fields_csv(text: str, source: str = "the fields file") -> list[Field]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames:
        raise UserError(f"{source} is empty: it needs a header row with at least: field, value")
    missing = [c for c in REQUIRED_COLUMNS if c not in reader.fieldnames]
    if missing:
        raise UserError(f"{source} has no column {', '.join(repr(m) for m in missing)} "
                        f"(columns found: {', '.join(reader.fieldnames)})")
    fields: dict[str, Field] = {}
    for line, row in enumerate(reader, start=2):
        key = (row.get("field") or "").strip()
        value = (row.get("value") or "").strip()
        if not key or not value:
            raise UserError(f"{source}, line {line}: both 'field' and 'value' must be filled in")
        f = fields.get(key)
        if f is None:
            f = fields[key] = Field(key, (row.get("field_label") or key).strip() or key,
                                    (row.get("question") or "").strip())
        if value in f.values:
            raise UserError(f"{source}, line {line}: {key} = {value} is listed twice")
        f.values.append(value)
        f.value_labels[value] = (row.get("value_label") or value).strip() or value
        f.aliases[value] = [a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()]
    if not fields:
        raise UserError(f"{source} lists no fields")
    return fields_list(fields)


def fields_list(fields: dict[str, Field]) -> list[Field]:
    return list(fields.values())


def save_fields(db: Database, fields: list[Field]) -> None:
    def write(cur):
        cur.execute("DELETE FROM strat_values")
        cur.execute("DELETE FROM strat_fields")
        for pos, f in enumerate(fields):
            cur.execute("INSERT INTO strat_fields (field, label, question, position) VALUES (?, ?, ?, ?)",
                        [f.key, f.label, f.question, pos])
            for vpos, v in enumerate(f.values):
                cur.execute("INSERT INTO strat_values (field, value, label, position, aliases) VALUES (?, ?, ?, ?, ?)",
                            [f.key, v, f.value_labels.get(v, v), vpos, f.aliases.get(v, [])])
        # Two values of one field must not share a spelling.
        clash = cur.execute(
            """
            WITH spellings AS (
                SELECT field, value, kl_norm(value) AS n FROM strat_values
                UNION SELECT field, value, kl_norm(label) FROM strat_values
                UNION SELECT field, value, kl_norm(unnest(aliases)) FROM strat_values
            )
            SELECT field, n, list(DISTINCT value ORDER BY value) FROM spellings
            GROUP BY field, n HAVING count(DISTINCT value) > 1 LIMIT 1
            """).fetchall()
        clash = clash[0] if clash else None
        if clash:
            raise UserError(f"In {clash[0]}, the values {' and '.join(clash[2])} are spelled too alike "
                            "to tell apart. Give them different names.")

    db.transaction(write)


def load_fields(db: Database) -> list[Field]:
    rows = db.query(
        "SELECT f.field, f.label, coalesce(f.question, ''), v.value, v.label, v.aliases "
        "FROM strat_fields f LEFT JOIN strat_values v USING (field) "
        "ORDER BY f.position, v.position")
    fields: dict[str, Field] = {}
    for key, label, question, value, vlabel, aliases in rows:
        f = fields.setdefault(key, Field(key, label, question))
        if value is not None:
            f.values.append(value)
            f.value_labels[value] = vlabel
            f.aliases[value] = list(aliases or [])
    return fields_list(fields)


def load_fields_file(path: Path) -> list[Field]:
    return parse_fields_csv(path.read_text(encoding="utf-8"), source=path.name)
