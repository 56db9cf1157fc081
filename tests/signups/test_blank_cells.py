"""Cells that hold only invisible characters count as blank, exactly as people see them."""

from __future__ import annotations

import pytest

from lib.recruitment.categories import load_fields, parse_fields_csv, save_fields
from lib.recruitment.signups.grid import SheetFormatError, grid_from_csv_bytes, grid_from_rows
from lib.recruitment.signups.mapping import suggest_mapping
from lib.recruitment.signups.sync import sync_grid
from tests.signups.test_sync import FIELDS_CSV, HEADER


@pytest.mark.parametrize("blank", ["\t", "\x85", "\u2028", "\xa0", "\u3000", " \r\n "])
def test_a_row_of_invisible_characters_is_a_blank_row_and_answers_are_trimmed(db, blank):
    save_fields(db, parse_fields_csv(FIELDS_CSV))
    m = suggest_mapping(HEADER, load_fields(db))
    rows = [[blank] * 8,
            ["1", "Ann", "ann@example.org", "", "", "", blank + "Woman" + blank, "\t60+\x85"]]
    r = sync_grid(db, grid_from_rows([HEADER] + rows), m, source_kind="t", source_label="t")
    assert (r.rows_read, r.blank_rows, r.problems) == (1, 1, 0)
    assert db.query("SELECT row_number, eligible FROM people") == [(3, True)]
    assert sorted(db.query("SELECT raw FROM person_values")) == [("60+",), ("Woman",)]


def test_an_unclosed_quote_is_named_by_line():
    data = b'Name,Note\nAnn,fine\nBo,"never closed\n' + b"more text\n" * 6000
    with pytest.raises(SheetFormatError, match=r"Row 3 \(lines 3 to 6003 of the file\): a quotation mark \(\"\) there is opened and never closed"):  # noqa: E501 - the exact message, read whole
        grid_from_csv_bytes(data)


def test_a_windows_encoded_character_far_down_the_file_is_read_not_lost():
    data = b"Name,Town\n" + b"Ann,Leeds\n" * 10_000 + "Zoë,Café\n".encode("cp1252")
    g = grid_from_csv_bytes(data)
    assert g.row_count == 10_001 and g.column_values("Town")[-1] == "Café"
    assert g.table.column("row_number").to_pylist()[-1] == 10_002
