"""Reading sheets and files into a Grid: every cell stays text, headers are usable."""

import io

import pytest

from lib.recruitment.signups.grid import SheetFormatError, column_letter, grid_from_csv_bytes, grid_from_excel_bytes, grid_from_rows


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


def test_blank_and_repeated_headers_get_usable_names():
    g = grid_from_rows([["Age", "", "Age", "  Post   code "], ["1", "2", "3", "4"]])
    assert g.headers == ["Age", "Column B", "Age (2)", "Post code"]


def test_data_wider_than_the_header_is_kept():
    g = grid_from_rows([["A"], ["1", "2", "3"]])
    assert g.headers == ["A", "Column B", "Column C"]
    assert g.column_values("Column C") == ["3"]


@pytest.mark.parametrize("rows, needle", [([], "is empty"), ([["", "  "]], "no column names")])
def test_empty_sheets_are_explained(rows, needle):
    with pytest.raises(SheetFormatError, match=needle):
        grid_from_rows(rows)


def test_csv_keeps_leading_zeros_and_row_numbers():
    data = "Postcode,Phone\n01234,07700 900123\n,\n00501,+44 7700\n".encode()
    g = grid_from_csv_bytes(data)
    assert g.column_values("Postcode") == ["01234", "", "00501"]
    assert g.column_values("Phone") == ["07700 900123", "", "+44 7700"]
    assert g.table.column("row_number").to_pylist() == [2, 3, 4]


def test_csv_with_bom_windows_encoding_and_ragged_rows():
    data = "\ufeffName,Town\nZoë,Café\n".encode("utf-8")
    assert grid_from_csv_bytes(data).column_values("Name") == ["Zoë"]
    cp = "Name,Town\nZoë,Café\n".encode("cp1252")
    assert grid_from_csv_bytes(cp).column_values("Town") == ["Café"]
    # A row with fewer or more cells than the first row is damage (tests/signups/test_quote_damage.py);
    # extra cells that are empty are not.
    ragged = b"A,B,C\n1,2,3,,\n1,2,3\n"
    g = grid_from_csv_bytes(ragged)
    assert g.headers == ["A", "B", "C", "Column D", "Column E"]
    assert g.column_values("A") == ["1", "1"] and g.column_values("Column D") == ["", ""]


def test_csv_with_line_breaks_inside_quotes():
    g = grid_from_csv_bytes(b'Name,Note\n"Ann","line one\nline two"\n')
    assert g.column_values("Note") == ["line one\nline two"]


def test_excel_upload_reads_text_and_numbers():
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name", "Postcode", "Age"])
    ws.append(["Ann", "01234", 42])
    ws.append([None, None, None])
    buf = io.BytesIO()
    wb.save(buf)
    g = grid_from_excel_bytes(buf.getvalue())
    assert g.headers == ["Name", "Postcode", "Age"]
    assert g.column_values("Postcode") == ["01234"] and g.column_values("Age") == ["42"]


def test_a_file_that_is_not_excel_is_explained():
    with pytest.raises(SheetFormatError, match="could not be opened as an Excel workbook"):
        grid_from_excel_bytes(b"not a zip")


def test_unreadable_csv_names_the_line():
    huge = b"A,B\n1\n2,\"" + b"x" * 200_000 + b"\"\n"     # a ragged row, then a 200,000-character cell
    with pytest.raises(SheetFormatError, match=r"a cell that starts on line 3 holds more than 131,072 characters"):
        grid_from_csv_bytes(huge)
