"""Property tests: arbitrary questions files and quota tables never crash the import and never
half-apply (all or nothing in one transaction)."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, event, given, settings, strategies as st

from lib.recruitment import assembly_setup as setup
from lib.recruitment.categories import fields_csv_text, load_fields
from lib.errors import UserError
from tests.test_assembly_setup import FIELDS, QUOTAS, snapshot

# Cells drawn from spellings that collide on purpose (case, accents, punctuation), numbers, blanks,
# separators and quotes, so that many files are almost right.
WORDS = ["Woman", "woman", "WOMAN", "wömän", "F", "f", "Man", "M", "Île-de-France", "Ile de France", "IDF", "-",
         "?", "", " ", "Prefer not to say", "yes", "no", "x", "0", "1", "2", "3", "6", "7", "-1", "2.5", "two",
         "region", "Région", "gender", "Gender", "age", "40+", "18-39", "id", "a|b", "a||", '"', "'", ";", "\t",
         "=", "\u00a0", "\u2028", "Ł", "日本", "👍", "x" * 301]
cell = st.one_of(st.sampled_from(WORDS), st.text(alphabet=string.printable + "ÉéÎîŁł日", max_size=12))
FIELD_HEADERS = ["field", "field_label", "question", "value", "value_label", "aliases", "blank", "Field", "extra"]
QUOTA_HEADERS = ["feature", "value", "min", "max", "min_flex", "max_flex", "category", "name", "Feature"]


def csv_of(header, rows, sep=","):
    def q(c):
        return '"' + c.replace('"', '""') + '"' if any(ch in c for ch in ',;"\n\t') else c
    return "\n".join(sep.join(q(c) for c in r) for r in [header] + rows) + "\n"


@st.composite
def files(draw, headers, base: str):
    kind = draw(st.integers(0, 4))
    if kind == 4:                                   # the good file, reordered, respelt and re-encoded
        lines = [line.split(",") for line in base.strip().splitlines()]
        rows = draw(st.permutations(lines[1:]))
        header = [draw(st.sampled_from([h, h.upper(), " " + h + " "])) for h in lines[0]]
        if header[0].strip().lower() == "feature" and draw(st.booleans()):
            header[:2] = ["category", "name"]
        sep = draw(st.sampled_from([",", ";", "\t"]))
        return csv_of(header, rows, sep).encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"])))
    if kind == 0:                                   # raw bytes of any kind
        return draw(st.binary(max_size=300))
    if kind == 1:                                   # the good file with a few cells changed
        lines = [line.split(",") for line in base.strip().splitlines()]
        for _ in range(draw(st.integers(1, 3))):
            r = draw(st.integers(0, len(lines) - 1))
            c = draw(st.integers(0, len(lines[r]) - 1))
            lines[r][c] = draw(cell)
        return csv_of(lines[0], lines[1:]).encode("utf-8")
    header = draw(st.lists(st.sampled_from(headers), min_size=1, max_size=8))
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(header) + 1), max_size=8))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    return csv_of(header, rows, sep).encode(enc, errors="replace")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=files(FIELD_HEADERS, FIELDS))
def test_any_questions_file_is_imported_whole_or_not_at_all(db, data):
    setup.save_basics(db, "Northfield", 6, False, actor="o") if not setup.load_basics(db).name else None
    before = snapshot(db)
    try:
        saved = setup.import_questions(db, data, "fields.csv", actor="organiser")
    except UserError as e:
        event("refused")
        assert str(e).strip()
        assert "Traceback" not in str(e)
        assert snapshot(db) == before                    # nothing at all was written
    else:
        event("imported")
        fields = load_fields(db)
        assert fields == saved.fields
        # What was saved is exactly what the file says, and it reads back the same.
        assert setup.read_questions_file(fields_csv_text(fields).encode(), "again.csv") == fields


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=files(QUOTA_HEADERS, QUOTAS))
def test_any_quota_table_is_imported_whole_or_not_at_all(db, data):
    from lib.recruitment.quotas import quotas_for_version

    if not load_fields(db):
        setup.save_basics(db, "Northfield", 6, False, actor="o")
        setup.import_questions(db, FIELDS.encode(), "fields.csv", actor="o")
    before = snapshot(db)
    try:
        version = setup.import_quota_table(db, data, "categories.csv", actor="organiser")
    except UserError as e:
        event("refused")
        assert str(e).strip()
        assert snapshot(db) == before
    else:
        event("imported")
        quotas = quotas_for_version(db, version)
        assert quotas
        by_field: dict[str, list] = {}
        for q in quotas:
            assert 0 <= q.min <= q.max <= 6
            by_field.setdefault(q.field, []).append(q)
        for rows in by_field.values():
            assert sum(q.min for q in rows) <= 6 <= sum(q.max for q in rows)
