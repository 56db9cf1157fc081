"""The stratification questions ("fields", e.g. age band) and the answers ("values") each may take.

Organisers describe them on the page "Set up the assembly" (lib/recruitment/assembly_setup.py), or bring them
as a CSV file with the columns ``field, field_label, question, value, value_label, aliases, blank``:
one row per answer; ``aliases`` are other spellings that count as the same answer, separated by
``|``; ``blank`` (optional) is ``yes`` on the one answer that a blank answer counts as (e.g.
"Prefer not to say"). Only ``field`` and ``value`` are required.

Every spelling of an answer (its value, its label and its aliases) is compared the way the sync
compares answers (``kl_norm``: lower case, no accents, only letters, digits and ``+``), so two answers
of one question may never share a spelling: a file where "F" is an alias of Woman and also an answer
of its own is refused, naming the row and column.
"""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Callable

from lib.store.db import Database
from lib.errors import UserError


@dataclass
class Field:
    key: str
    label: str
    question: str = ""
    values: list[str] = dc_field(default_factory=list)  # canonical values, in order
    value_labels: dict[str, str] = dc_field(default_factory=dict)
    aliases: dict[str, list[str]] = dc_field(default_factory=dict)
    blank_value: str | None = None  # the answer a blank counts as (e.g. "Prefer not to say"), if any

    def label_of(self, value: str) -> str:
        return self.value_labels.get(value, value)


REQUIRED_COLUMNS = ("field", "value")
FIELD_COLUMNS = ("field", "field_label", "question", "value", "value_label", "aliases", "blank")

# Limits that keep a wrong or hostile file from filling the screen or the database.
MAX_FIELDS = 40
MAX_VALUES = 100  # answers per question
MAX_ALIASES = 60  # other spellings per answer
MAX_TEXT = 300  # characters in one name, label, question or spelling
MAX_KEY = 60
MAX_FILE_BYTES = 1_000_000
# Column names the app uses beside the questions' keys (a question may not be called that).
RESERVED_KEYS = frozenset({"id", "household", "person_id", "household_key", "eligible", "row_number", "removed_sync"})
YES = frozenset({"yes", "y", "true", "1", "x", "oui", "ja", "si", "sí"})
NO = frozenset({"", "no", "n", "false", "0"})


class FieldsError(UserError):
    """Problems with a set of questions; ``problems`` lists each in plain words (with where it is)."""

    def __init__(self, intro: str, problems: list[str]):
        self.problems = list(problems)
        shown = self.problems[:8]
        more = len(self.problems) - len(shown)
        text = intro + "\n" + "\n".join(f"- {p}" for p in shown)
        if more:
            text += f"\n- and {more} more."
        super().__init__(text)


# --- comparing spellings exactly as the sync does (kl_norm, in DuckDB) -------------------------
_norm_lock = threading.Lock()
_norm_con = None
_NORM_SQL = (
    "SELECT list_transform(?::VARCHAR[], lambda x: regexp_replace(lower(strip_accents(nfc_normalize("
    "coalesce(x, '')))), '[^a-z0-9+]', '', 'g'))"
)


def norm_many(texts: list[str]) -> list[str]:
    """Each text as the sync compares it (the same SQL as the ``kl_norm`` macro of migration 001)."""
    global _norm_con
    if not texts:
        return []
    import duckdb

    with _norm_lock:
        if _norm_con is None:
            _norm_con = duckdb.connect(":memory:")
        cur = _norm_con.cursor()
    try:
        return list(cur.execute(_NORM_SQL, [list(texts)]).fetchall()[0][0])
    finally:
        cur.close()


def norm(text: str) -> str:
    return norm_many([text])[0]


# --- checking a set of questions ---------------------------------------------------------------
def _bad_text(text: str) -> str | None:
    if len(text) > MAX_TEXT:
        return f"it is {len(text)} characters long (at most {MAX_TEXT})"
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" for c in text):
        return "it holds an invisible control character (a line break or similar): type it again"
    return None


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot name a question, or None."""
    if not key:
        return "it is empty"
    if len(key) > MAX_KEY:
        return f"it is {len(key)} characters long (at most {MAX_KEY})"
    bad = _bad_text(key)
    if bad:
        return bad
    if key.lower() in RESERVED_KEYS:
        return f"“{key}” is a name the app uses itself; choose another"
    return None


Where = Callable[..., str]


def fields_problems(fields: list[Field], where: Where | None = None) -> list[str]:
    """Everything wrong with a set of questions, in plain words, each saying where it is.

    ``where(key, value=None, column=None)`` says where a question (or one of its answers, and which
    part of it) is, e.g. "fields.csv, row 4, column “aliases”"; by default the question's name."""

    def default_where(key, value=None, column=None):
        f = by_key.get(key)
        name = f"Question “{f.label if f else key}”"
        return name + (f", answer “{value}”" if value is not None else "")

    by_key = {f.key: f for f in fields}
    where = where or default_where
    out: list[str] = []
    if not fields:
        return ["There are no questions yet: add at least one."]
    if len(fields) > MAX_FIELDS:
        out.append(
            f"There are {len(fields)} questions; at most {MAX_FIELDS} can be balanced (most assemblies use 7 or fewer)."
        )
    keys_seen: dict[str, str] = {}
    labels_seen: dict[str, str] = {}
    for f in fields:
        out.extend(_key_problems(f, where, keys_seen))
        out.extend(_label_problems(f, where, labels_seen))
        out.extend(_answers_problems(f, where))
    return out


def _key_problems(f: Field, where: Where, keys_seen: dict[str, str]) -> list[str]:
    """The question's short name: usable, and not another question's (capitals aside)."""
    out: list[str] = []
    problem = key_problem(f.key)
    if problem:
        out.append(f"{where(f.key, column='field')}: the question's short name cannot be used: {problem}.")
    elif f.key.lower() in keys_seen:
        out.append(
            f"{where(f.key, column='field')}: the short name “{f.key}” is used by two questions "
            f"(capital letters do not count as a difference)."
        )
    keys_seen.setdefault(f.key.lower(), f.key)
    return out


def _label_problems(f: Field, where: Where, labels_seen: dict[str, str]) -> list[str]:
    """The question's name (given, usable, its own) and its wording."""
    out: list[str] = []
    if not f.label.strip():
        out.append(f"{where(f.key, column='field_label')}: the question's name is empty.")
    else:
        bad = _bad_text(f.label)
        if bad:
            out.append(f"{where(f.key, column='field_label')}: the question's name cannot be used: {bad}.")
        low = f.label.strip().lower()
        if low in labels_seen and labels_seen[low] != f.key:
            out.append(
                f"{where(f.key, column='field_label')}: two questions are called “{f.label}”. Give each its own name."
            )
        labels_seen.setdefault(low, f.key)
    if f.question and _bad_text(f.question):
        out.append(
            f"{where(f.key, column='question')}: the question's wording cannot be used: {_bad_text(f.question)}."
        )
    return out


def _answers_problems(f: Field, where: Where) -> list[str]:
    """The question's answers: some, not too many, each usable."""
    if not f.values:
        return [f"{where(f.key)}: the question has no answers. Give it at least two."]
    if len(f.values) > MAX_VALUES:
        return [f"{where(f.key)}: {len(f.values)} answers is too many (at most {MAX_VALUES})."]
    return _value_problems(f, where)


def _value_problems(f: Field, where: Where) -> list[str]:
    out: list[str] = []
    # Every spelling of every answer: (value, column, text)
    spellings: list[tuple[str, str, str]] = []
    seen_values: set[str] = set()
    for v in f.values:
        if not v.strip():
            out.append(f"{where(f.key, v, 'value')}: an answer is empty.")
            continue
        if v in seen_values:
            out.append(f"{where(f.key, v, 'value')}: the answer “{v}” is listed twice.")
            continue
        seen_values.add(v)
        out.extend(_one_answer_problems(f, v, where, spellings))
    if f.blank_value is not None and f.blank_value not in seen_values:
        out.append(
            f"{where(f.key, column='blank')}: a blank answer should count as “{f.blank_value}”, "
            "which is not one of its answers."
        )
    if out:
        return out
    return _clash_problems(f, where, spellings)


def _one_answer_problems(f: Field, v: str, where: Where, spellings: list[tuple[str, str, str]]) -> list[str]:
    """One answer's label and other spellings; the usable spellings are added to ``spellings``."""
    out: list[str] = []
    label = f.value_labels.get(v, v)
    aliases = f.aliases.get(v, [])
    if len(aliases) > MAX_ALIASES:
        out.append(f"{where(f.key, v, 'aliases')}: {len(aliases)} other spellings is too many (at most {MAX_ALIASES}).")
        aliases = aliases[:MAX_ALIASES]
    if not label.strip():
        out.append(
            f"{where(f.key, v, 'value_label')}: the answer's label is empty. Write the answer as people should see it."
        )
    for a in aliases:
        if "|" in a:
            out.append(
                f"{where(f.key, v, 'aliases')}: the other spelling “{a[:40]}” holds a “|”, which separates "
                "other spellings in a questions file. Write them without it."
            )
    for column, text in [("value", v), ("value_label", label)] + [("aliases", a) for a in aliases]:
        bad = _bad_text(text)
        if bad:
            out.append(f"{where(f.key, v, column)}: “{text[:40]}” cannot be used: {bad}.")
        elif text.strip():
            spellings.append((v, column, text))
    return out


def _clash_problems(f: Field, where: Where, spellings: list[tuple[str, str, str]]) -> list[str]:
    """Spellings that cannot be told apart from a blank answer, or that two answers share."""
    out: list[str] = []
    normal = norm_many([t for _v, _c, t in spellings])
    owner: dict[str, tuple[str, str, str]] = {}
    for (v, column, text), n in zip(spellings, normal):
        if not n:
            if f.blank_value == v:
                continue  # "-" or "?" may count as the blank answer it stands for
            out.append(
                f"{where(f.key, v, column)}: “{text}” has no letters or digits, so it could not be told "
                "apart from a blank answer. Use words (or mark this answer as the one a blank counts as)."
            )
            continue
        first = owner.get(n)
        if first is None:
            owner[n] = (v, column, text)
        elif first[0] != v:
            what = {"value": "an answer", "value_label": "the label of", "aliases": "another spelling of"}[first[1]]
            out.append(
                f"{where(f.key, v, column)}: “{text}” is already {what} "
                f"{'“' + first[2] + '”' if first[1] == 'value' else '“' + f.value_labels.get(first[0], first[0]) + '”'}"
                f" ({where(f.key, first[0], first[1])}). An answer can count only once: remove it from "
                "one of them, or make the spellings differ by more than capitals, accents or punctuation."
            )
    return out


def check_fields(
    fields: list[Field], intro: str = "These questions cannot be saved:", where: Where | None = None
) -> None:
    problems = fields_problems(fields, where)
    if problems:
        raise FieldsError(intro, problems)


# --- the fields file ---------------------------------------------------------------------------
def unprotect(text: str) -> str:
    """A cell as it was before ``spreadsheet_safe`` put an apostrophe in front of it for a download
    (so that a spreadsheet does not run it as a formula): downloaded files read back the same."""
    from lib.privacy import spreadsheet_safe

    if text.startswith("'") and spreadsheet_safe(text[1:]) == "'" + text[1:]:
        return text[1:]
    return text


def _cell(row: dict, name: str) -> str:
    v = row.get(name)
    if isinstance(v, list):  # more cells than headers
        v = ",".join(v)
    return unprotect((v or "").strip())


def _fields_file_rows(text: str, source: str) -> tuple[list[str], list[dict]]:
    """The fields file's header (lower case) and rows; ``UserError`` when it is not such a file at all."""
    text = text.lstrip("\ufeff")
    if len(text) > MAX_FILE_BYTES:
        raise UserError(f"{source} is too big for a list of questions ({len(text):,} characters).")
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        rows = list(reader)
    except csv.Error as e:
        raise UserError(f"{source} could not be read as a CSV file ({e}).") from None
    if not header or not any(header):
        raise UserError(f"{source} is empty: it needs a header row with at least: field, value")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise UserError(
            f"{source} has no column {', '.join(repr(m) for m in missing)} "
            f"(columns found: {', '.join(h for h in header if h) or 'none'})"
        )
    return header, rows


def parse_fields_csv(text: str, source: str = "the fields file") -> list[Field]:
    """Read a fields file (see the module's docstring). Raises ``FieldsError`` naming the file, the row
    and the column of every problem, or ``UserError`` when it is not such a file at all."""
    header, rows = _fields_file_rows(text, source)
    reading = _FieldsFile(source, "field_label" in header, "value_label" in header)
    problems: list[str] = []
    for line, raw in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): v for k, v in raw.items()}
        if not any(_cell(row, c) for c in header if c):
            continue  # an empty line
        if len(reading.fields) > MAX_FIELDS or line > 20_000:
            problems.append(f"{source}: too many rows for a list of questions (stopped at row {line}).")
            break
        problem = reading.add_row(row, line)
        if problem:
            problems.append(problem)
    if problems:
        raise FieldsError(f"{source} cannot be used; nothing was changed:", problems)
    if not reading.fields:
        raise UserError(f"{source} lists no questions.")
    out = fields_list(reading.fields)
    check_fields(out, f"{source} cannot be used; nothing was changed:", reading.where)
    return out


class _FieldsFile:
    """The questions read so far from a fields file, and the row each part of them came from."""

    def __init__(self, source: str, has_label: bool, has_vlabel: bool) -> None:
        self.source, self.has_label, self.has_vlabel = source, has_label, has_vlabel
        self.fields: dict[str, Field] = {}
        self.rows: dict[tuple, int] = {}

    def at(self, line: int, column: str) -> str:
        return f"{self.source}, row {line}, column “{column}”"

    def where(self, key, value=None, column=None) -> str:
        line = self.rows.get((key, value, column)) or self.rows.get((key, None, None))
        return self.at(line, column or "field") if line else f"{self.source}, question {key}"

    def add_row(self, row: dict, line: int) -> str | None:
        """Add one row's answer to its question; or the row's problem (then nothing is added)."""
        key, value = _cell(row, "field"), _cell(row, "value")
        if not key:
            return f"{self.at(line, 'field')}: the question's short name is empty."
        if not value:
            return f"{self.at(line, 'value')}: the answer is empty."
        f = self._question(row, line, key)
        if isinstance(f, str):
            return f
        if value in f.values:
            return (
                f"{self.at(line, 'value')}: {key} = {value} is listed twice (first on row "
                f"{self.rows[(key, value, 'value')]})."
            )
        vlabel = _cell(row, "value_label") if self.has_vlabel else value
        if self.has_vlabel and not vlabel:
            return (
                f"{self.at(line, 'value_label')}: the label of the answer “{value}” is empty. Write the "
                "answer as people should see it (or remove the column to use the answer itself)."
            )
        aliases: list[str] = []
        for a in _cell(row, "aliases").split("|"):
            a = unprotect(a.strip())
            if a and a not in aliases:
                aliases.append(a)
        problem = self._blank(row, line, f, value)
        if problem:
            return problem
        f.values.append(value)
        f.value_labels[value] = vlabel
        f.aliases[value] = aliases
        for column in ("value", "value_label", "aliases", "blank"):
            self.rows[(key, value, column)] = line
        return None

    def _question(self, row: dict, line: int, key: str) -> Field | str:
        """The row's question (new on its first row), or why the row's name for it cannot be used."""
        label = _cell(row, "field_label") if self.has_label else key
        if self.has_label and not label:
            return f"{self.at(line, 'field_label')}: the question's name is empty."
        f = self.fields.get(key)
        if f is None:
            f = self.fields[key] = Field(key, label, _cell(row, "question"))
            self.rows[(key, None, None)] = line
        elif label != f.label:
            return (
                f"{self.at(line, 'field_label')}: “{label}” is not the name given to {key} on row "
                f"{self.rows[(key, None, None)]} (“{f.label}”). Use the same name on every row."
            )
        return f

    def _blank(self, row: dict, line: int, f: Field, value: str) -> str | None:
        """Read the row's "blank" cell (whether a blank answer counts as this one), or its problem."""
        blank = _cell(row, "blank").lower()
        if blank not in YES and blank not in NO:
            return (
                f"{self.at(line, 'blank')}: “{_cell(row, 'blank')}” should be “yes” (a blank answer counts "
                "as this one) or left empty."
            )
        if blank in YES:
            if f.blank_value is not None:
                return (
                    f"{self.at(line, 'blank')}: a blank answer to {f.key} already counts as "
                    f"“{f.blank_value}” (row {self.rows[(f.key, f.blank_value, 'value')]}); "
                    "only one answer can say yes."
                )
            f.blank_value = value
        return None


def fields_csv_text(fields: list[Field]) -> str:
    """The questions as a fields file (``parse_fields_csv`` reads it back to the same questions). A cell
    that a spreadsheet would run as a formula gets an apostrophe in front (taken off again on reading)."""
    from lib.privacy import spreadsheet_safe as safe

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(FIELD_COLUMNS)
    for f in fields:
        for v in f.values:
            w.writerow(
                [
                    safe(f.key),
                    safe(f.label),
                    safe(f.question),
                    safe(v),
                    safe(f.value_labels.get(v, v)),
                    "|".join(str(safe(a)) for a in f.aliases.get(v, [])),
                    "yes" if f.blank_value == v else "",
                ]
            )
    return buf.getvalue()


def fields_list(fields: dict[str, Field]) -> list[Field]:
    return list(fields.values())


# --- the store ---------------------------------------------------------------------------------
SPELLINGS_SQL = """
    SELECT DISTINCT field, value, n FROM (
        SELECT field, value, kl_norm(value) AS n FROM strat_values
        UNION ALL SELECT field, value, kl_norm(label) FROM strat_values
        UNION ALL SELECT field, value, kl_norm(unnest(aliases)) FROM strat_values
    ) WHERE n <> ''
    UNION ALL SELECT field, blank_value, '' FROM strat_fields WHERE blank_value IS NOT NULL"""


def write_fields(cur, fields: list[Field]) -> None:
    """Replace the questions inside the caller's transaction (``cur``), and read the answers already
    brought in again against them: a new spelling counts at once, a removed question's answers go."""
    cur.execute("DELETE FROM strat_values")
    cur.execute("DELETE FROM strat_fields")
    for pos, f in enumerate(fields):
        cur.execute(
            "INSERT INTO strat_fields (field, label, question, position, blank_value) VALUES (?, ?, ?, ?, ?)",
            [f.key, f.label, f.question, pos, f.blank_value],
        )
        for vpos, v in enumerate(f.values):
            cur.execute(
                "INSERT INTO strat_values (field, value, label, position, aliases) VALUES (?, ?, ?, ?, ?)",
                [f.key, v, f.value_labels.get(v, v), vpos, f.aliases.get(v, [])],
            )
    # Two values of one field must not share a spelling (checked again here, whatever the caller did).
    clash = cur.execute(
        """
        WITH spellings AS (
            SELECT field, value, kl_norm(value) AS n FROM strat_values
            UNION SELECT field, value, kl_norm(label) FROM strat_values
            UNION SELECT field, value, kl_norm(unnest(aliases)) FROM strat_values
        )
        SELECT field, n, list(DISTINCT value ORDER BY value) FROM spellings
        WHERE n <> '' GROUP BY field, n HAVING count(DISTINCT value) > 1 LIMIT 1
        """
    ).fetchall()
    clash = clash[0] if clash else None
    if clash:
        raise UserError(
            f"In {clash[0]}, the values {' and '.join(clash[2])} are spelled too alike "
            "to tell apart. Give them different names."
        )
    # Answers already brought in: read again against the new spellings.
    cur.execute("DELETE FROM person_values WHERE field NOT IN (SELECT field FROM strat_fields)")
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE kl_respell AS "
        f"SELECT d.field, d.raw, any_value(s.value) AS value "
        f"FROM (SELECT DISTINCT field, raw FROM person_values) d "
        f"LEFT JOIN ({SPELLINGS_SQL}) s ON s.field = d.field AND s.n = kl_norm(d.raw) GROUP BY ALL"
    )
    cur.execute(
        "UPDATE person_values SET value = r.value FROM kl_respell r "
        "WHERE person_values.field = r.field AND person_values.raw = r.raw "
        "AND person_values.value IS DISTINCT FROM r.value"
    )
    cur.execute("DROP TABLE kl_respell")


def save_fields(db: Database, fields: list[Field]) -> None:
    """Replace the questions, all or nothing (see ``write_fields``)."""
    db.transaction(lambda cur: write_fields(cur, fields))


_FIELDS_SQL = (
    "SELECT f.field, f.label, coalesce(f.question, ''), f.blank_value, v.value, v.label, v.aliases "
    "FROM strat_fields f LEFT JOIN strat_values v USING (field) "
    "ORDER BY f.position, v.position"
)


def load_fields(db: Database) -> list[Field]:
    return _fields_from_rows(db.query(_FIELDS_SQL))


def read_fields(cur) -> list[Field]:
    """The questions as saved, read inside a transaction (``cur``)."""
    return _fields_from_rows(cur.execute(_FIELDS_SQL).fetchall())


def _fields_from_rows(rows) -> list[Field]:
    fields: dict[str, Field] = {}
    for key, label, question, blank, value, vlabel, aliases in rows:
        f = fields.setdefault(key, Field(key, label, question, blank_value=blank))
        if value is not None:
            f.values.append(value)
            f.value_labels[value] = vlabel
            f.aliases[value] = list(aliases or [])
    return fields_list(fields)


def load_fields_file(path: Path) -> list[Field]:
    return parse_fields_csv(path.read_text(encoding="utf-8"), source=path.name)
