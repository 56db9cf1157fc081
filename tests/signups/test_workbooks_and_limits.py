"""Workbooks (choose the sheet), OpenDocument .ods, and limits on every file type."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

import openpyxl
import pytest

from lib.errors import UserError
from lib.recruitment.signups.sources import grid_from_upload, workbook_sheet_names


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ods(sheets: dict[str, list[list]], *, row_xml: dict[str, str] | None = None) -> bytes:
    """A minimal OpenDocument spreadsheet as LibreOffice writes it (text in <text:p>)."""
    tables = []
    for title, rows in sheets.items():
        xml_rows = []
        for r in rows:
            cells = "".join(
                '<table:table-cell office:value-type="string"><text:p>'
                + "</text:p><text:p>".join(escape(str(line)) for line in str(v).split("\n")) + "</text:p></table:table-cell>"
                if v not in (None, "") else "<table:table-cell/>" for v in r)
            xml_rows.append(f"<table:table-row>{cells}</table:table-row>")
        extra = (row_xml or {}).get(title, "")
        tables.append(f'<table:table table:name="{escape(title)}">'
                      f'<table:table-column table:number-columns-repeated="1024"/>{"".join(xml_rows)}{extra}'
                      "</table:table>")
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
        f'<office:body><office:spreadsheet>{"".join(tables)}</office:spreadsheet></office:body>'
        "</office:document-content>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


SIGNUPS = [["Name", "Postcode", "Age"], ["Łukasz", "01234", 42], ["Zoë", "RV1 1AA", 30]]
NOTES = [["Volunteer", "Note"], ["Sam", "rang twice"]]


# --- Excel: choose the sheet ----------------------------------------------------------

def test_excel_lists_its_sheets_and_reads_the_chosen_one():
    # Today only the first sheet of a workbook was read.
    data = xlsx({"Notes": NOTES, "Form responses 1": SIGNUPS})
    assert workbook_sheet_names("book.xlsx", data) == ["Notes", "Form responses 1"]
    g = grid_from_upload("book.xlsx", data, sheet="Form responses 1")
    assert g.headers == ["Name", "Postcode", "Age"]
    assert g.column_values("Name") == ["Łukasz", "Zoë"] and g.column_values("Postcode") == ["01234", "RV1 1AA"]
    with pytest.raises(UserError, match="has no sheet called “Responses”.*“Notes”, “Form responses 1”"):
        grid_from_upload("book.xlsx", data, sheet="Responses")


# --- OpenDocument .ods ------------------------------------------------------------------

def test_ods_is_read_with_its_sheets_repeated_cells_and_line_breaks():
    extra = ('<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
             'table:number-columns-repeated="1024"/></table:table-row>')
    data = ods({"Notes": NOTES,
                "Sign-ups": [["Name", "Note", "Age"], ["Łukasz", "first line\nsecond line", "42"], [], ["Zoë", "", "30"]]},
               row_xml={"Sign-ups": extra})
    assert workbook_sheet_names("book.ods", data) == ["Notes", "Sign-ups"]
    g = grid_from_upload("book.ods", data, sheet="Sign-ups")
    assert g.headers == ["Name", "Note", "Age"]
    assert g.column_values("Name") == ["Łukasz", "", "Zoë"]
    assert g.column_values("Note") == ["first line\nsecond line", "", ""]
    assert g.table.column("row_number").to_pylist() == [2, 3, 4]      # the empty row keeps its place
    assert grid_from_upload("book.ods", data).headers == ["Volunteer", "Note"]    # first sheet by default


def test_ods_keeps_spaces_and_leaves_out_comments():
    content_row = ('<table:table-row><table:table-cell><text:p>Ann<text:s text:c="2"/>Lee</text:p>'
                   '<office:annotation><text:p>private comment</text:p></office:annotation></table:table-cell>'
                   '<table:table-cell table:number-columns-repeated="2"><text:p>x</text:p></table:table-cell>'
                   "</table:table-row>")
    data = ods({"S": [["Name", "A", "B"]]}, row_xml={"S": content_row})
    g = grid_from_upload("s.ods", data)
    assert g.column_values("Name") == ["Ann  Lee"]          # <text:s text:c="2"/> is two spaces
    assert g.column_values("A") == ["x"] and g.column_values("B") == ["x"]


def test_an_ods_with_a_doctype_or_broken_xml_is_refused_plainly():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("content.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    with pytest.raises(UserError, match="could not be opened as an OpenDocument spreadsheet"):
        grid_from_upload("bad.ods", buf.getvalue())
    with pytest.raises(UserError, match="could not be opened as an OpenDocument spreadsheet"):
        grid_from_upload("bad.ods", b"PK not really")


# --- limits ------------------------------------------------------------------------------

def test_default_limits_are_generous_for_real_assemblies():
    from lib.store import config

    assert config.max_rows() == 50_000 and config.max_columns() == 200
    assert config.max_cell_chars() == 10_000 and config.max_unpacked_bytes() == 100 * 2**20


def test_csv_limits_on_rows_columns_cells_and_size(monkeypatch):
    monkeypatch.setenv("KLEROTERION_MAX_ROWS", "10")
    rows = "Name,Age\n" + "".join(f"P{i},30\n" for i in range(11))
    with pytest.raises(UserError, match=r"11 rows of sign-ups.*at most 10"):
        grid_from_upload("a.csv", rows.encode())
    assert grid_from_upload("a.csv", ("Name,Age\n" + "".join(f"P{i},30\n" for i in range(10))).encode()).row_count == 10
    monkeypatch.delenv("KLEROTERION_MAX_ROWS")

    wide = ",".join(f"Q{i}" for i in range(201)) + "\n" + ",".join("x" * 201) + "\n"
    with pytest.raises(UserError, match=r"201 columns.*at most 200"):
        grid_from_upload("a.csv", wide.encode())

    # A row of a million empty cells (a 1 MB line of commas) is not kept cell by cell.
    commas = grid_from_upload("a.csv", ("Name,Age\nAnn,30" + "," * 1_000_000 + "\nBob,40\n").encode())
    assert commas.headers == ["Name", "Age"] and commas.column_values("Age") == ["30", "40"]

    long_cell = "Name,Note\nAnn," + "x" * 12_000 + "\n"        # today: accepted (the old cap was 50,000)
    with pytest.raises(UserError, match=r"Row 2, column “Note”.*12,000 characters.*at most 10,000"):
        grid_from_upload("a.csv", long_cell.encode())

    monkeypatch.setenv("KLEROTERION_MAX_UNPACKED_MB", "1")
    big = ("Name,Note\n" + "Ann,hello\n" * 120_000).encode()
    with pytest.raises(UserError, match=r"1\.\d MB.*at most 1 MB"):
        grid_from_upload("a.csv", big)


def test_excel_limits_checked_before_loading(monkeypatch):
    # The sheet's own size (its "dimension") says 1,000,000 rows: refused before 1,000,000 rows are built.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name", "Age"])
    ws.cell(row=1_000_000, column=1, value="x")
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(UserError, match=r"1,000,000 rows.*at most 50,000"):
        grid_from_upload("big.xlsx", buf.getvalue())

    # One cell far beyond the limit (today a 200 MB cell was accepted).
    with pytest.raises(UserError, match=r"Row 2, column “Note”.*20,000 characters.*at most 10,000"):
        grid_from_upload("a.xlsx", xlsx({"S": [["Name", "Note"], ["Ann", "y" * 20_000]]}))

    # What the workbook unpacks to is checked on the zip's directory, before anything is unpacked.
    monkeypatch.setenv("KLEROTERION_MAX_UNPACKED_MB", "1")
    with pytest.raises(UserError, match=r"unpacks to 2\.\d MB.*at most 1 MB"):
        grid_from_upload("a.xlsx", xlsx({"S": [["Name", "Note"]] + [["Ann", f"{i}" + "z" * 9_000] for i in range(250)]}))


def test_ods_limits(monkeypatch):
    monkeypatch.setenv("KLEROTERION_MAX_ROWS", "5")
    data = ods({"S": [["Name"]] + [[f"P{i}"] for i in range(6)]})
    with pytest.raises(UserError, match=r"6 rows of sign-ups.*at most 5"):
        grid_from_upload("a.ods", data)
    monkeypatch.delenv("KLEROTERION_MAX_ROWS")
    many = '<table:table-row><table:table-cell table:number-columns-repeated="5000"><text:p>x</text:p></table:table-cell></table:table-row>'
    with pytest.raises(UserError, match=r"5,000 columns.*at most 200"):
        grid_from_upload("a.ods", ods({"S": [["Name"]]}, row_xml={"S": many}))
    with pytest.raises(UserError, match=r"Row 2, column “Note”.*at most 10,000"):
        grid_from_upload("a.ods", ods({"S": [["Name", "Note"], ["Ann", "w" * 10_001]]}))
    monkeypatch.setenv("KLEROTERION_MAX_UNPACKED_MB", "1")
    with pytest.raises(UserError, match=r"unpacks to .* MB.*at most 1 MB"):
        grid_from_upload("a.ods", ods({"S": [["Name", "Note"]] + [["Ann", "q" * 9_000]] * 250}))
