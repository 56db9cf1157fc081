"""Setting up a group's own assembly (the page "Set up the assembly"). Pure Python: no Streamlit.

The steps, each usable on its own and in any order:

1. **The assembly**: its name, the panel size and the one-per-household rule (``save_basics``).
2. **The questions to balance on** (stratification fields): added, renamed, reordered and removed on
   the page, each with its answers, the other spellings that count as the same answer, and whether
   a blank answer counts as "Prefer not to say" (``build_field``, ``save_questions``); or brought as a
   file (``import_questions``): Kleroterion's ``fields.csv`` or a Sortition Foundation
   ``categories.csv`` (``feature,value,min,max``; older files ``category,name,min,max``). Both can be
   downloaded again (``fields_csv_text``, ``categories_csv_text``) to reuse next year.
3. **The targets**: the community's shares on the Targets page, or a quota table of fewest and most
   seats per answer (``import_quota_table``: the Sortition Foundation's ``categories.csv``, optional
   ``min_flex,max_flex``), stored as a new target version whose quotas are exactly those seats.

Every change is checked first and written in one transaction: bad input gets a message naming the
file, the row and the column, and changes nothing. Questions can change freely until the targets are
frozen for a draw; after that a change must be confirmed and starts a new target version, leaving
the frozen one exactly as it was.

Nothing here works on the demo database: demo and real data never mix (lib/demo/load.py).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass

from lib.recruitment.categories import (
    MAX_FILE_BYTES,
    MAX_TEXT,
    Field,
    FieldsError,
    check_fields,
    fields_csv_text,
    key_problem,
    load_fields,
    norm,
    norm_many,
    parse_fields_csv,
    read_fields,
    unprotect,
    write_fields,
)
from lib.store.db import Database
from lib.errors import UserError
from lib.store.settings import get_setting, read_setting, write_setting
from lib.recruitment.targets import (
    SeatBand,
    Target,
    TargetVersion,
    copy_version,
    load_seat_bands,
    load_targets,
    save_target_version,
    version_info,
)

__all__ = ["Basics", "QuestionsFrozen", "QuotaTable", "fields_csv_text", "categories_csv_text"]

MAX_PANEL = 5000
MAX_NAME = 120
PREFER_NOT = "Prefer not to say"
_PREFER_NOT_SPELLINGS = {
    "prefernottosay",
    "prefernottoanswer",
    "rathernotsay",
    "nottosay",
    "nodisclosure",
    "jeprefereneprepasrepondre",
    "prefieronodecirlo",
}


class DemoDatabase(UserError):
    pass


class QuestionsFrozen(UserError):
    """The targets are frozen for a draw: changing the questions must be confirmed (a new version)."""


class QuestionsChanged(UserError):
    """Someone else saved the questions after this person started editing them: saving would undo that."""


DEMO_REFUSAL = (
    "This is the demo database (made-up people), so a real assembly cannot be set up in it: demo and "
    "real data never mix. Start the app with KLEROTERION_DEMO=0 and a new, empty database file "
    "(KLEROTERION_DB), then come back to this page."
)


def ensure_not_demo(db: Database) -> None:
    from lib.store.demo_marker import is_demo_database

    if is_demo_database(db):
        raise DemoDatabase(DEMO_REFUSAL)


def _ensure_not_demo_in(cur) -> None:
    from lib.store.demo_marker import DEMO_MARKER

    if read_setting(cur, DEMO_MARKER):
        raise DemoDatabase(DEMO_REFUSAL)


# --- 1. the assembly --------------------------------------------------------------------------------
@dataclass
class Basics:
    name: str = ""
    panel_size: int | None = None
    one_per_household: bool = False


def load_basics(db: Database) -> Basics:
    assembly = get_setting(db, "assembly", {}) or {}
    k = assembly.get("panel_size")
    return Basics(
        str(assembly.get("name") or ""),
        int(k) if isinstance(k, int) and k > 0 else None,
        bool(get_setting(db, "one_per_household", False)),
    )


def basics_problems(name: str, panel_size) -> list[str]:
    out = []
    name = (name or "").strip()
    if not name:
        out.append("Give the assembly a name (for example “Northfield climate assembly 2026”).")
    elif len(name) > MAX_NAME:
        out.append(f"The name is {len(name)} characters long; please keep it to {MAX_NAME}.")
    elif any(unicodedata.category(c) == "Cc" for c in name):
        out.append("The name holds an invisible control character: please type it again.")
    try:
        k = int(panel_size)
        if isinstance(panel_size, float) and panel_size != k:
            raise ValueError
    except (TypeError, ValueError):
        out.append("The panel size must be a whole number of people.")
    else:
        if not 1 <= k <= MAX_PANEL:
            out.append(f"The panel size must be between 1 and {MAX_PANEL:,} people.")
    return out


def save_basics(db: Database, name: str, panel_size: int, one_per_household: bool, *, actor: str | None) -> Basics:
    problems = basics_problems(name, panel_size)
    if problems:
        raise UserError(" ".join(problems))

    def write(cur):
        _ensure_not_demo_in(cur)
        assembly = read_setting(cur, "assembly", {}) or {}
        assembly = {k: v for k, v in assembly.items() if k != "demo"} if isinstance(assembly, dict) else {}
        assembly.update({"name": name.strip(), "panel_size": int(panel_size)})
        write_setting(cur, "assembly", assembly, actor)
        write_setting(cur, "one_per_household", bool(one_per_household), actor)

    db.transaction(write)
    return load_basics(db)


# --- 2. the questions --------------------------------------------------------------------------------
def slug_key(label: str, taken: set[str] | None = None) -> str:
    """A short, stable name for a new question ("Région" -> "region"), unique among ``taken``."""
    taken = {t.lower() for t in (taken or set())}
    text = unicodedata.normalize("NFKD", label or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    base = re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:40] or "question"
    if key_problem(base):
        base = f"q_{base}"[:40]
    key, n = base, 2
    while key.lower() in taken:
        key = f"{base}_{n}"
        n += 1
    return key


def answers_text(f: Field) -> str:
    """A question's answers as the page shows them: one per line, "Answer = other, spellings"."""
    lines = []
    for v in f.values:
        label = f.value_labels.get(v, v)
        aliases = f.aliases.get(v, [])
        lines.append(label + (" = " + ", ".join(aliases) if aliases else ""))
    return "\n".join(lines)


def _split_line(line: str) -> tuple[str, list[str]]:
    label, sep, rest = line.partition("=")
    aliases = []
    for a in rest.split(",") if sep else []:
        a = a.strip()
        if a and a not in aliases:
            aliases.append(a)
    return label.strip(), aliases


def is_prefer_not(text: str) -> bool:
    return norm(text) in _PREFER_NOT_SPELLINGS


def build_field(key: str, label: str, question: str, text: str, blank_counts: bool, old: Field | None = None) -> Field:
    """A question from what was typed on the page: its name, its wording on the sign-up form, its answers
    (one per line, "Answer = other, spellings") and whether a blank counts as "Prefer not to say".

    An answer keeps its short name (``value``, which targets and sign-ups refer to) when its label is
    edited: a line whose label matches an earlier answer's name or label is that answer; otherwise the
    line in the same place, when that answer is not used elsewhere (a renamed answer); else a new one."""
    old = old or Field(key, label)
    lines = [_split_line(line) for line in (text or "").splitlines() if line.strip()]
    by_spelling: dict[str, str] = {}
    for v in old.values:
        for s in (v, old.value_labels.get(v, v)):
            by_spelling.setdefault(s.strip().lower(), v)
    chosen: list[str | None] = []
    for lab, _aliases in lines:
        known = by_spelling.get(lab.lower())
        chosen.append(known if known is not None and known not in chosen else None)
    used = {v for v in chosen if v}
    for i, choice in enumerate(chosen):
        if choice is None and i < len(old.values) and old.values[i] not in used:
            chosen[i] = old.values[i]
            used.add(old.values[i])
    f = Field(key, (label or "").strip(), (question or "").strip())
    for (lab, aliases), choice in zip(lines, chosen):
        v = choice or lab
        f.values.append(v)  # the same answer typed twice is kept twice, so the check says so
        f.value_labels[v] = lab
        f.aliases[v] = aliases
    if blank_counts:
        blank = old.blank_value if old.blank_value in f.values else None
        blank = blank or next((v for v in f.values if is_prefer_not(f.value_labels[v]) or is_prefer_not(v)), None)
        if blank is None:
            blank = PREFER_NOT
            f.values.append(blank)
            f.value_labels[blank] = blank
            f.aliases[blank] = []
        f.blank_value = blank
    return f


def new_question(fields: list[Field], label: str) -> Field:
    label = (label or "").strip()
    if not label:
        raise UserError("Type the new question's name first (for example “Age band”).")
    if len(label) > MAX_TEXT:
        raise UserError(f"The question's name is {len(label)} characters long; please keep it to {MAX_TEXT}.")
    if any(f.label.strip().lower() == label.lower() for f in fields):
        raise UserError(f"There is already a question called “{label}”.")
    return Field(slug_key(label, {f.key for f in fields}), label)


def move_question(fields: list[Field], key: str, step: int) -> list[Field]:
    out = list(fields)
    i = next((n for n, f in enumerate(out) if f.key == key), None)
    if i is None:
        return out
    j = max(0, min(len(out) - 1, i + step))
    out.insert(j, out.pop(i))
    return out


def remove_question(fields: list[Field], key: str) -> list[Field]:
    return [f for f in fields if f.key != key]


def frozen_targets(db: Database) -> TargetVersion | None:
    """The latest target version when it is frozen for a draw (questions then change only by starting
    a new version), else None."""
    info = version_info(db)
    return info if info is not None and info.frozen else None


@dataclass
class SavedQuestions:
    fields: list[Field]
    new_version: int | None = None  # started because the targets were frozen
    dropped_targets: int = 0  # targets of removed answers left out of the new version

    def summary(self) -> str:
        n = len(self.fields)
        text = f"Saved {n} question{'s' if n != 1 else ''}."
        if self.new_version:
            text += (
                f" The frozen targets stay as they were; version {self.new_version} of the targets was started "
                "from them, for the changed questions: check it on the Targets page, then freeze it before "
                "the draw."
            )
        return text


def save_questions(
    db: Database,
    fields: list[Field],
    *,
    actor: str | None,
    new_version: bool = False,
    intro: str = "These questions cannot be saved; nothing was changed:",
    based_on: list[Field] | None = None,
) -> SavedQuestions:
    """Check and save the questions, all or nothing. When the targets are frozen for a draw, refused with
    ``QuestionsFrozen`` unless ``new_version``: then a new target version is started in the same
    transaction (the same numbers for the answers that remain) and the frozen version is left intact.
    ``based_on``: the questions as saved when this person started editing; if someone else has saved others
    since (another organiser, another tab), refused with ``QuestionsChanged`` rather than undoing their save."""
    check_fields(fields, intro)
    keys = {f.key for f in fields}

    def write(cur):
        _ensure_not_demo_in(cur)
        if based_on is not None:
            now = read_fields(cur)
            if now != based_on:
                listed = ", ".join(f.label for f in now) or "none"
                raise QuestionsChanged(
                    "Someone else saved the questions (in another tab or on another device) after you started "
                    f"changing them here, so yours were not saved: that would have undone their change. The saved "
                    f"questions now are: {listed}. Press “Start again from the saved questions” and make your "
                    "changes again."
                )
        latest = cur.execute(
            "SELECT version, frozen_at IS NOT NULL FROM target_versions ORDER BY version DESC LIMIT 1"
        ).fetchall()
        frozen = bool(latest and latest[0][1])
        if frozen and not new_version:
            raise QuestionsFrozen(
                f"The targets (version {latest[0][0]}) are frozen for the draw, so the questions they use cannot "
                "simply change. Saving will start a new version of the targets for the changed questions, and "
                f"version {latest[0][0]} stays exactly as it was frozen. Tick the box to confirm, then save again."
            )
        before = (
            cur.execute("SELECT count(*) FROM targets WHERE version = ?", [latest[0][0]]).fetchall()[0][0]
            if latest
            else 0
        )
        write_fields(cur, fields)
        mapping = read_setting(cur, "column_mapping")
        if isinstance(mapping, dict):
            kept = {r: c for r, c in mapping.items() if not r.startswith("field:") or r[6:] in keys}
            if kept != mapping:
                if kept:
                    write_setting(cur, "column_mapping", kept, actor)
                else:
                    cur.execute("DELETE FROM settings WHERE key = 'column_mapping'")
        if frozen:
            v = copy_version(
                cur,
                actor=actor or "organiser",
                note="The questions changed after the freeze",
                changes=f"Started from version {latest[0][0]} (frozen for the draw) when the questions changed.",
            )
            after = cur.execute("SELECT count(*) FROM targets WHERE version = ?", [v]).fetchall()[0][0]
            return v, before - after
        return None, 0

    v, dropped = db.transaction(write)
    return SavedQuestions(load_fields(db), v, dropped)


# --- files: reading them safely -----------------------------------------------------------------
def decode_text(data: bytes, filename: str) -> str:
    """A small text file as text: UTF-8 (with or without a byte-order mark) or UTF-16 with its mark.
    Anything else is refused with advice, never guessed (a wrong guess changes letters silently)."""
    if len(data) > MAX_FILE_BYTES:
        raise UserError(
            f"{filename} is {len(data):,} bytes: too big for this kind of file (at most {MAX_FILE_BYTES:,})."
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
    raise UserError(
        f"{filename} is not saved as UTF-8 text, so its letters could come out wrong. In your "
        "spreadsheet, save it again as “CSV UTF-8” and try once more."
    )


def _rows(text: str, filename: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header in lower case, [(row number, {column: cell})]) of a small CSV; the separator (comma,
    semicolon or tab) is taken from the header line."""
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first.count) if first else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        raw = list(reader)
    except csv.Error as e:
        raise UserError(f"{filename} could not be read as a CSV file ({e}).") from None
    if not raw or not any(c.strip() for c in raw[0]):
        raise UserError(f"{filename} is empty: its first row should name the columns.")
    header = [c.strip().lower() for c in raw[0]]
    rows: list[tuple[int, dict[str, str]]] = []
    for n, cells in enumerate(raw[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            extra = [c for c in cells[len(header) :] if c.strip()]
            if extra:
                raise UserError(
                    f"{filename}, row {n}: this row has more cells than the first row has column "
                    f"names ({len(cells)} against {len(header)}). A value with a comma in it needs "
                    "quotes around it."
                )
        if len(rows) >= 20_000:
            raise UserError(f"{filename} has more than 20,000 rows: too many for this kind of file.")
        rows.append(
            (n, {h: (unprotect(cells[i].strip()) if i < len(cells) else "") for i, h in enumerate(header) if h})
        )
    return header, rows


def _csv_text(rows: list[list]) -> str:
    """CSV for a download; a cell a spreadsheet would run as a formula gets an apostrophe in front."""
    from lib.privacy import spreadsheet_safe

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows([[spreadsheet_safe(c) for c in r] for r in rows])
    return buf.getvalue()


FEATURE_COLUMNS = ("feature", "category")
VALUE_COLUMNS = ("value", "name")


def file_kind(header: list[str]) -> str | None:
    """ "fields" (Kleroterion's fields.csv), "categories" (Sortition Foundation) or None."""
    if "field" in header and "value" in header:
        return "fields"
    if any(c in header for c in FEATURE_COLUMNS) and any(c in header for c in VALUE_COLUMNS):
        return "categories"
    return None


def _sf_columns(header: list[str]) -> tuple[str, str]:
    feature = "feature" if "feature" in header else "category"
    value = "value" if "value" in header else "name"
    return feature, value


def read_questions_file(data: bytes, filename: str) -> list[Field]:
    """Questions from a file: Kleroterion's fields.csv, or the Sortition Foundation's categories.csv
    (each feature becomes a question, each value an answer; min and max are read on the Targets step)."""
    text = decode_text(data, filename)
    header, rows = _rows(text, filename)
    kind = file_kind(header)
    if kind == "fields":
        delimiter = max([",", ";", "\t"], key=text.lstrip("\ufeff").split("\n", 1)[0].count)
        if delimiter != ",":
            kept = [h for h in header if h]
            text = _csv_text([kept] + [[r.get(h, "") for h in kept] for _n, r in rows])
        return parse_fields_csv(text, source=filename)
    if kind is None:
        raise UserError(
            f"{filename} is neither a questions file (columns field, value, …) nor a categories.csv "
            "(columns feature, value, min, max). Columns found: "
            f"{', '.join(h for h in header if h) or 'none'}."
        )
    fcol, vcol = _sf_columns(header)
    fields: dict[str, Field] = {}
    where_rows: dict[tuple, int] = {}
    problems = []
    for n, r in rows:
        feature, value = r.get(fcol, ""), r.get(vcol, "")
        if not feature:
            problems.append(f"{filename}, row {n}, column “{fcol}”: the question is empty.")
            continue
        if not value:
            problems.append(f"{filename}, row {n}, column “{vcol}”: the answer is empty.")
            continue
        f = fields.setdefault(feature, Field(feature, feature))
        where_rows.setdefault((feature, None, None), n)
        if value in f.values:
            problems.append(
                f"{filename}, row {n}, column “{vcol}”: {feature} = {value} is listed twice "
                f"(first on row {where_rows[(feature, value, 'value')]})."
            )
            continue
        f.values.append(value)
        f.value_labels[value] = value
        f.aliases[value] = []
        where_rows[(feature, value, "value")] = n
    if problems:
        raise FieldsError(f"{filename} cannot be used; nothing was changed:", problems)
    if not fields:
        raise UserError(f"{filename} lists no questions.")

    def where(key, value=None, column=None):
        line = where_rows.get((key, value, "value")) or where_rows.get((key, None, None))
        col = fcol if value is None else vcol
        return f"{filename}, row {line}, column “{col}”"

    out = list(fields.values())
    check_fields(out, f"{filename} cannot be used; nothing was changed:", where)
    return out


def import_questions(
    db: Database, data: bytes, filename: str, *, actor: str | None, new_version: bool = False
) -> SavedQuestions:
    """Read a questions file and save its questions in place of the current ones: all or nothing."""
    fields = read_questions_file(data, filename)
    return save_questions(
        db, fields, actor=actor, new_version=new_version, intro=f"{filename} cannot be used; nothing was changed:"
    )


def categories_csv_text(fields: list[Field], bands: list[SeatBand] | None, panel_size: int | None) -> str:
    """The questions as a Sortition Foundation categories.csv (feature,value,min,max[,min_flex,max_flex]),
    with the seats of ``bands`` where given, else 0 to the panel size."""
    have = {(b.field, b.value): b for b in bands or []}
    flex = any(b.min_flex is not None or b.max_flex is not None for b in have.values())
    k = int(panel_size or 0)
    rows: list[list] = [["feature", "value", "min", "max"] + (["min_flex", "max_flex"] if flex else [])]
    for f in fields:
        for v in f.values:
            b = have.get((f.key, v))
            lo, hi = (b.min, b.max) if b else (0, k)
            row = [f.key, v, lo, hi]
            if flex:
                row += [
                    b.min_flex if b and b.min_flex is not None else "",
                    b.max_flex if b and b.max_flex is not None else "",
                ]
            rows.append(row)
    return _csv_text(rows)


def seats_now(db: Database) -> tuple[list[SeatBand], int | None]:
    """The seats per answer in force now (from the latest target version), for the categories.csv export."""
    from lib.recruitment.quotas import quotas_for_version

    info = version_info(db)
    if info is None:
        return [], load_basics(db).panel_size
    bands = load_seat_bands(db, info.version)  # an imported table keeps its flex columns
    if not bands:
        bands = [SeatBand(q.field, q.value, q.min, q.max) for q in quotas_for_version(db, info.version)]
    return bands, info.panel_size


# --- 3. a quota table --------------------------------------------------------------------------
@dataclass
class QuotaTable:
    source: str
    panel_size: int
    bands: list[SeatBand]
    notes: list[str]  # things to know that are not errors (flex columns, unbalanced questions)

    def shares(self) -> list[Target]:
        """The middle of each band as a share of the panel (only for the charts and the board)."""
        return [
            Target(
                b.field,
                b.value,
                (b.min + b.max) / 2 / self.panel_size,
                f"Quota table {self.source}: {b.min} to {b.max} seats",
            )
            for b in self.bands
        ]


def _int_cell(text: str) -> int | None:
    t = text.strip()
    if re.fullmatch(r"[+]?\d{1,6}(\.0+)?", t):
        return int(float(t))
    return None


def read_quota_table(data: bytes, filename: str, fields: list[Field], panel_size: int) -> QuotaTable:
    """Fewest and most seats per answer from a Sortition Foundation categories.csv. Raises ``FieldsError``
    naming the file, the row and the column of every problem: a question or an answer that is not set up
    here, a number that is not a whole number, min above max, a question whose minimums add up to more
    than the panel size or whose maximums cannot fill it, a question with an answer missing."""
    if not fields:
        raise UserError("Set up the questions first (step 2): a quota table gives seats to their answers.")
    if not panel_size or int(panel_size) < 1:
        raise UserError("Set the panel size first (step 1): the quotas are seats on the panel.")
    k = int(panel_size)
    text = decode_text(data, filename)
    header, rows = _rows(text, filename)
    if file_kind(header) != "categories" or "min" not in header or "max" not in header:
        raise UserError(
            f"{filename} is not a quota table: it needs the columns feature, value, min, max (older "
            "files: category, name, min, max; optionally min_flex, max_flex). Columns found: "
            f"{', '.join(h for h in header if h) or 'none'}."
        )
    fcol, vcol = _sf_columns(header)
    has_flex = "min_flex" in header or "max_flex" in header
    table = _QuotaReader(filename, fields, k, fcol, vcol, has_flex)
    problems: list[str] = []
    if len(rows) > 5000:
        raise UserError(f"{filename} has {len(rows):,} rows: too many for a quota table.")
    feat_norm = norm_many([r.get(fcol, "") for _n, r in rows])
    val_norm = norm_many([r.get(vcol, "") for _n, r in rows])
    for (n, r), fn, vn in zip(rows, feat_norm, val_norm):
        problems.extend(table.read_row(n, r, fn, vn))
    if not problems and not table.bands:
        raise UserError(f"{filename} has no quotas in it.")
    listed = [f for f in fields if any(key == f.key for key, _v in table.bands)]
    for f in listed:
        problems.extend(table.question_problems(f))
    if problems:
        raise FieldsError(f"{filename} cannot be used; nothing was changed:", problems)
    notes = []
    if has_flex:
        notes.append(
            "The file's min_flex and max_flex columns (how far a quota may be relaxed) are kept with the "
            "quotas and in the download, but they are not applied by themselves: if no panel can meet "
            "the quotas, the draw page shows the smallest change that would work, and you decide on it "
            "in public."
        )
    unbalanced = [f.label for f in fields if f not in listed]
    if unbalanced:
        notes.append(
            f"The table gives no quotas for: {', '.join(unbalanced)}. These questions will not be balanced in the draw."
        )
    ordered = [table.bands[(f.key, v)][0] for f in fields for v in f.values if (f.key, v) in table.bands]
    return QuotaTable(filename, k, ordered, notes)


class _QuotaReader:
    """A quota table's rows read one by one against the questions set up here: the seat bands found so far
    (with the row each came from), or one plain message per way a row is wrong."""

    def __init__(
        self, filename: str, fields: list[Field], panel_size: int, fcol: str, vcol: str, has_flex: bool
    ) -> None:
        self.filename, self.fields, self.k = filename, fields, panel_size
        self.fcol, self.vcol, self.has_flex = fcol, vcol, has_flex
        self.bands: dict[tuple[str, str], tuple[SeatBand, int]] = {}
        # Questions and answers by every spelling (their short name, name or label, other spellings).
        self.field_by: dict[str, Field] = {}
        for f in fields:
            self.field_by.setdefault(f.key, f)
        fnorm = norm_many([f.label for f in fields] + [f.key for f in fields])
        for f, spelt in zip(fields + fields, fnorm):
            if spelt:
                self.field_by.setdefault("~" + spelt, f)
        self.value_by: dict[tuple[str, str], str] = {}
        for f in fields:
            spellings = [(v, s) for v in f.values for s in [v, f.value_labels.get(v, v)] + f.aliases.get(v, [])]
            for (v, _s), spelt in zip(spellings, norm_many([s for _v, s in spellings])):
                if spelt:
                    self.value_by.setdefault((f.key, spelt), v)

    def at(self, n: int, col: str) -> str:
        return f"{self.filename}, row {n}, column “{col}”"

    def read_row(self, n: int, r: dict[str, str], fn: str, vn: str) -> list[str]:
        """Keep row ``n``'s seat band (``fn``, ``vn``: its question and answer as the sync compares them),
        or say what is wrong with it."""
        feature, value = r.get(self.fcol, ""), r.get(self.vcol, "")
        f = self.field_by.get(feature) or (self.field_by.get("~" + fn) if fn else None)
        if f is None:
            names = ", ".join(x.label for x in self.fields)
            return [
                f"{self.at(n, self.fcol)}: there is no question “{feature}” here (the questions are: {names}). "
                "Check the spelling, or add the question in step 2 first."
            ]
        v = value if value in f.values else (self.value_by.get((f.key, vn)) if vn else None)
        if v is None:
            return [
                f"{self.at(n, self.vcol)}: “{value}” is not an answer to {f.label} (its answers are: "
                f"{', '.join(f.value_labels.get(x, x) for x in f.values)})."
            ]
        numbers = self._numbers(n, r)
        if isinstance(numbers, list):
            return numbers
        lo, hi, mf, xf = numbers
        problem = self._band_problem(n, f, v, lo, hi, mf, xf)
        if problem:
            return [problem]
        self.bands[(f.key, v)] = (SeatBand(f.key, v, lo, hi, mf, xf), n)
        return []

    def _numbers(self, n: int, r: dict[str, str]) -> tuple[int, int, int | None, int | None] | list[str]:
        """The row's min, max and (when the file has them) relaxed min and max; or a message per bad cell."""
        nums: dict[str, int | None] = {}
        problems: list[str] = []
        for col in ("min", "max") + (("min_flex", "max_flex") if self.has_flex else ()):
            cell = r.get(col, "")
            if col.endswith("_flex") and cell == "":
                nums[col] = None
                continue
            num = _int_cell(cell)
            if num is None:
                problems.append(f"{self.at(n, col)}: “{cell}” is not a whole number of seats.")
            nums[col] = num
        lo, hi = nums["min"], nums["max"]
        if problems or lo is None or hi is None:
            return problems
        return lo, hi, nums.get("min_flex"), nums.get("max_flex")

    def _band_problem(self, n: int, f: Field, v: str, lo: int, hi: int, mf: int | None, xf: int | None) -> str | None:
        """What is wrong with one answer's seats, if anything (in the order a reader checks them)."""
        if lo > hi:
            return f"{self.at(n, 'min')}: {f.label} = {f.label_of(v)} has min {lo} above max {hi}."
        if hi > self.k:
            return f"{self.at(n, 'max')}: {f.label} = {f.label_of(v)} has max {hi}, more than the panel of {self.k}."
        if mf is not None and mf > lo:
            return f"{self.at(n, 'min_flex')}: the relaxed minimum {mf} is above the minimum {lo}."
        if xf is not None and xf < hi:
            return f"{self.at(n, 'max_flex')}: the relaxed maximum {xf} is below the maximum {hi}."
        if (f.key, v) in self.bands:
            return (
                f"{self.at(n, self.vcol)}: {f.label} = {f.label_of(v)} is listed twice (first on row "
                f"{self.bands[(f.key, v)][1]})."
            )
        return None

    def question_problems(self, f: Field) -> list[str]:
        """A question with quotas: every answer has one, and its seats can add up to the panel."""
        k, bands = self.k, self.bands
        here = [(bands[(f.key, v)][0], bands[(f.key, v)][1]) for v in f.values if (f.key, v) in bands]
        rows_text = ", ".join(str(n) for _b, n in here[:6]) + (" …" if len(here) > 6 else "")
        missing = [f.label_of(v) for v in f.values if (f.key, v) not in bands]
        if missing:
            return [
                f"{self.filename}, column “{self.vcol}”: {f.label} has no quota for {', '.join(missing)}; "
                "give every answer of a question its min and max (0 and 0 if nobody with it may "
                "be chosen)."
            ]
        problems: list[str] = []
        low = sum(b.min for b, _n in here)
        high = sum(b.max for b, _n in here)
        if low > k:
            problems.append(
                f"{self.filename}, rows {rows_text}, column “min”: the minimums for {f.label} add up to "
                f"{low} seats, more than the panel of {k}."
            )
        if high < k:
            problems.append(
                f"{self.filename}, rows {rows_text}, column “max”: the maximums for {f.label} add up to "
                f"only {high} seats, so a panel of {k} could never be filled."
            )
        return problems


def save_quota_table(db: Database, table: QuotaTable, *, actor: str | None, note: str | None = None) -> int:
    """Store a checked quota table as a new target version (refused when the targets are frozen)."""
    ensure_not_demo(db)
    return save_target_version(
        db,
        table.shares(),
        panel_size=table.panel_size,
        note=note or f"Quota table imported from {table.source}",
        actor=actor or "organiser",
        seats=table.bands,
        seats_source=table.source,
        changes=f"Quotas (fewest and most seats) from {table.source}.",
    )


def import_quota_table(
    db: Database, data: bytes, filename: str, *, actor: str | None, panel_size: int | None = None
) -> int:
    """Read a quota table and store it as a new target version: all or nothing. Returns the version."""
    k = panel_size or load_basics(db).panel_size
    table = read_quota_table(data, filename, load_fields(db), k or 0)
    return save_quota_table(db, table, actor=actor)


# --- where the set-up stands -------------------------------------------------------------------
@dataclass
class Progress:
    basics: bool
    questions: int
    targets: int | None  # the latest target version
    quota_table: bool  # it is an imported quota table
    frozen: bool
    signups: int

    @property
    def ready_for_signups(self) -> bool:
        return self.basics and self.questions > 0


def progress(db: Database) -> Progress:
    b = load_basics(db)
    info = version_info(db)
    return Progress(
        bool(b.name and b.panel_size),
        len(load_fields(db)),
        info.version if info else None,
        bool(info and load_seat_bands(db, info.version)),
        bool(info and info.frozen),
        int(db.scalar("SELECT count(*) FROM people WHERE removed_sync IS NULL") or 0),
    )


def needs_setup(db: Database) -> bool:
    """A real assembly whose name, panel size or questions are still missing (the demo never needs it)."""
    from lib.store.demo_marker import is_demo_database

    if is_demo_database(db):
        return False
    p = progress(db)
    return not p.ready_for_signups


def describe_version(db: Database, info: TargetVersion | None) -> str:
    if info is None:
        return "No targets yet."
    src = None
    if load_seat_bands(db, info.version):
        from lib.recruitment.targets import seats_source

        src = seats_source(db, info.version)
    what = f"a quota table ({src})" if src is not None else f"{len(load_targets(db, info.version))} shares"
    state = "frozen for the draw" if info.frozen else "not frozen yet"
    return f"Version {info.version}: {what}, panel of {info.panel_size}, {state}."
