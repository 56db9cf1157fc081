"""A stray quotation mark must not merge rows silently: the damaged rows are named, nothing is synced."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.recruitment.categories import parse_fields_csv, save_fields
from lib.errors import UserError
from lib.recruitment.signups.grid import QuoteDamageError, grid_from_csv_bytes
from lib.recruitment.signups.mapping import suggest_mapping
from lib.recruitment.signups.store import signup_counts
from lib.recruitment.signups.sync import sync_from, sync_grid

FIELDS_CSV = """field,field_label,question,value,value_label,aliases
gender,Gender,Gender,Woman,Woman,female|f
gender,Gender,Gender,Man,Man,male|m
"""
HEADER = ["Timestamp", "Name", "Email", "Gender"]


def people(n: int, start: int = 0) -> list[list[str]]:
    return [[f"2026-09-01 10:{i:02d}", f"Person {i}", f"p{i}@example.org", "Woman" if i % 2 else "Man"]
            for i in range(start, start + n)]


def as_csv(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def test_a_stray_quote_that_swallows_ten_rows_is_reported_with_the_rows_named(db):
    save_fields(db, parse_fields_csv(FIELDS_CSV))
    good = as_csv([HEADER] + people(20)).encode()
    from lib.recruitment.categories import load_fields

    m = suggest_mapping(HEADER, load_fields(db))
    assert sync_grid(db, grid_from_csv_bytes(good), m, source_kind="csv", source_label="a.csv").added == 20

    lines = as_csv([HEADER] + people(20)).splitlines()
    # Line 4 (person 2) gets a stray opening quote in the name; a later name has a quote that closes it.
    lines[3] = lines[3].replace(",Person 2,", ',"Person 2,')
    lines[13] = lines[13].replace(",Person 12,", ',Person 12",')
    damaged = ("\n".join(lines) + "\n").encode()
    with pytest.raises(QuoteDamageError) as e:
        grid_from_csv_bytes(damaged, "The file a.csv")
    msg = str(e.value)
    assert "Row 4" in msg and "lines 4 to 14" in msg          # where to look, as in the file
    assert "21 lines" in msg and "11 rows" in msg              # the file's lines against the rows read
    assert "quotation mark" in msg
    assert "p5@example.org" not in msg                        # other people's details are not echoed

    # The sync through the normal path is refused and logged; nobody is retired.
    r = sync_from(db, lambda: grid_from_csv_bytes(damaged, "The file a.csv"), m, source_kind="csv",
                  source_label="a.csv")
    assert r.status == "failed" and "Row 4" in r.message
    assert signup_counts(db) == {"current": 20, "eligible": 20, "blocked": 0, "removed": 0}
    assert db.scalar("SELECT count(*) FROM sync_log WHERE status = 'failed'") == 1


def test_a_row_with_a_different_number_of_cells_is_named():
    text = "Name,Email,Gender\nAnn,ann@example.org,Woman\nBob,bob@example.org\nCy,cy@example.org,Man,x,y\n"
    with pytest.raises(QuoteDamageError) as e:
        grid_from_csv_bytes(text.encode())
    msg = str(e.value)
    assert "Row 3 (line 3 of the file) has 2 cells" in msg and "Row 4 (line 4 of the file) has 5 cells" in msg
    assert "the first row has 3" in msg


def test_an_unclosed_quote_at_the_end_is_damage():
    text = 'Name,Email,Gender\nAnn,ann@example.org,Woman\n"Bob,bob@example.org,Man\nCy,cy@example.org,Man\n'
    with pytest.raises(QuoteDamageError, match="Row 3"):
        grid_from_csv_bytes(text.encode())


def test_real_line_breaks_in_cells_and_empty_trailing_cells_are_fine():
    text = ('Name,Email,Note\nAnn,ann@example.org,"first line\nsecond line"\n,,\nBob,bob@example.org,,\n'
            "\nCy,cy@example.org,x\n")
    g = grid_from_csv_bytes(text.encode())
    assert g.column_values("Name") == ["Ann", "", "Bob", "", "Cy"]
    assert g.column_values("Note")[0] == "first line\nsecond line"
    assert g.table.column("row_number").to_pylist() == [2, 3, 4, 5, 6]


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=30), st.integers(min_value=2, max_value=60),
       st.sampled_from([0, 1, 2]))
def test_a_stray_quote_anywhere_never_passes_silently(at_line, n, column):
    rows = [HEADER] + people(n)
    lines = as_csv(rows).splitlines()
    target = 1 + (at_line % n)
    cells = lines[target].split(",")
    cells[column] = '"' + cells[column]
    lines[target] = ",".join(cells)
    data = ("\n".join(lines) + "\n").encode()
    try:
        g = grid_from_csv_bytes(data)
    except UserError as e:
        assert f"Row {target + 1}" in str(e)
        return
    # If it was read at all, every person is there with their own email: nothing merged.
    assert g.row_count == n
    assert g.column_values("Email") == [f"p{i}@example.org" for i in range(n)]
