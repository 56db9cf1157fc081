"""A sheet of sign-ups as read from any source: a header row and text cells.

Every source (Google Sheets, a CSV or Excel upload, a published CSV) becomes a ``Grid``:
``headers`` (cleaned: blank headers named after their column letter, repeated ones
numbered) and ``table``, an Arrow table with one text column per sheet column
(``c0``, ``c1`` …) plus ``row_number``, the row's number in the sheet (header = 1).
All cells stay text exactly as typed: "01234" keeps its leading zero.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import os
import tempfile

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lib.errors import UserError


class SheetFormatError(UserError):
    pass


# Google Sheets holds at most 50,000 characters in a cell (Excel 32,767). A longer "cell"
# in a CSV file means a quotation mark that is never closed has swallowed the lines after it.
MAX_CELL = 50_000
_TOO_LONG = (f"a cell there is longer than {MAX_CELL:,} characters, which usually means a quotation mark "
             "that is opened and never closed")


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (as spreadsheets name columns)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def clean_headers(raw: list[str]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, h in enumerate(raw):
        h = " ".join((h or "").split())
        if not h:
            h = f"Column {column_letter(i)}"
        if h in seen:
            seen[h] += 1
            h = f"{h} ({seen[h]})"
        else:
            seen[h] = 1
        out.append(h)
    return out


@dataclass
class Grid:
    headers: list[str]
    table: pa.Table

    @property
    def row_count(self) -> int:
        return self.table.num_rows

    def column_values(self, header: str) -> list[str]:
        return self.table.column(f"c{self.headers.index(header)}").to_pylist()


def _check_header(raw_header: list[str], source: str) -> None:
    if not raw_header or not any((h or "").strip() for h in raw_header):
        raise SheetFormatError(
            f"{source} has no column names: the first row must hold the questions "
            "(for example Timestamp, Name, Age …). Check that you chose the right sheet.")


def grid_from_rows(rows: list[list[str]], source: str = "The sheet") -> Grid:
    """From a list of rows (e.g. gspread's get_all_values()); ragged rows are padded."""
    if not rows:
        raise SheetFormatError(f"{source} is empty: there is not even a header row.")
    raw_header = [str(c) if c is not None else "" for c in rows[0]]
    data = rows[1:]
    width = max([len(raw_header)] + [len(r) for r in data]) if data else len(raw_header)
    # Trailing header cells may be missing while data reaches further: name those columns too.
    raw_header = raw_header + [""] * (width - len(raw_header))
    _check_header(raw_header, source)
    headers = clean_headers(raw_header)
    if any(len(r) != width for r in data):
        data = [r if len(r) == width else list(r) + [""] * (width - len(r)) for r in data]
    n = len(data)
    try:
        # Fast path (get_all_values() gives text everywhere): Arrow converts the rows in one go,
        # then each column is every width-th cell of the flattened rows.
        flat = pa.array(data, type=pa.list_(pa.string())).flatten()
        if flat.null_count:
            flat = pc.fill_null(flat, "")
        arrays = {f"c{i}": pc.take(flat, np.arange(i, n * width, width, dtype=np.int64)) for i in range(width)}
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        # Other callers may pass None, numbers or dates: every cell becomes its text.
        columns = list(zip(*data)) if data else [()] * width
        arrays = {f"c{i}": pa.array(["" if v is None else str(v) for v in col] if _needs_fix(col) else col,
                                    type=pa.string())
                  for i, col in enumerate(columns)}
    arrays["row_number"] = pa.array(range(2, n + 2), type=pa.int32())
    return Grid(headers, pa.table(arrays))


def _needs_fix(col) -> bool:
    # get_all_values() gives str everywhere; other callers may pass None or numbers.
    return not all(type(v) is str for v in col)


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def grid_from_csv_bytes(data: bytes, source: str = "The CSV file") -> Grid:
    """Read a CSV upload with DuckDB's CSV reader (fast, order kept, every cell as text).

    Files that are not UTF-8 (Excel on Windows writes cp1252) or that DuckDB cannot read
    strictly go through Python's csv module instead, which accepts ragged rows.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data or data.isspace():
        raise SheetFormatError(f"{source} is empty: there is not even a header row.")
    # Only the first 64 KiB are decoded here: DuckDB checks that the whole file is UTF-8
    # (and refuses it otherwise, which sends the file down the Python path below).
    head = data[:65536]
    try:
        text_head = head.decode("utf-8")
        head_utf8 = True
    except UnicodeDecodeError as e:
        head_utf8 = len(data) > len(head) and e.start >= len(head) - 3   # a character cut at the end
        text_head = head[:e.start].decode("utf-8") if head_utf8 else ""
    # DuckDB's reader skips blank lines, which would shift sheet row numbers: files with
    # blank lines (other than at the very end) take the Python path.
    # (The file's own line ending is kept for the last line too: DuckDB's reader refuses a file
    # whose lines end partly in \r\n and partly in \n.)
    data = data.rstrip(b"\r\n") + (b"\r\n" if b"\r\n" in head else b"\n")
    has_blank_lines = b"\n\n" in data or b"\n\r\n" in data or data.startswith((b"\n", b"\r\n"))
    if head_utf8 and not has_blank_lines:
        try:
            return _duckdb_csv(data, _sniff_delimiter(text_head[:16384]), source)
        except (duckdb.Error, ValueError):
            pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")   # what Excel writes for "CSV" on Windows
    return grid_from_rows(_python_csv_rows(text, source, _sniff_delimiter(text[:65536])), source)


def _duckdb_csv(data: bytes, delim: str, source: str) -> Grid:
    with tempfile.TemporaryDirectory(prefix="kl-csv-") as tmp:
        path = os.path.join(tmp, "upload.csv")
        with open(path, "wb") as fh:
            fh.write(data)
        con = duckdb.connect()
        try:
            table = con.sql(
                "SELECT * FROM read_csv($path, all_varchar = true, header = false, null_padding = true, "
                "delim = $delim, quote = '\"', escape = '\"', auto_detect = true)",
                params={"path": path, "delim": delim}).to_arrow_table()
        finally:
            con.close()
    # DuckDB sniffs the width from the first rows; a longer row further down must not be cut.
    first_width = max(len(r) for r in csv.reader(io.StringIO(data[:65536].decode("utf-8", "replace"),
                                                              newline=""), delimiter=delim)) if data else 0
    if table.num_columns < first_width or table.num_rows == 0:
        raise ValueError("irregular")
    width = table.num_columns
    cols = [c if c.null_count == 0 else pc.fill_null(c, "") for c in table.columns]
    if any((pc.max(pc.utf8_length(c)).as_py() or 0) > MAX_CELL for c in cols):
        raise ValueError("overlong cell")   # the Python reader names the line
    raw_header = [c[0].as_py() for c in cols]
    _check_header(raw_header, source)
    n = table.num_rows - 1
    arrays = {f"c{i}": cols[i].slice(1) for i in range(width)}
    arrays["row_number"] = pa.array(range(2, n + 2), type=pa.int32())
    grid = Grid(clean_headers(raw_header), pa.table(arrays))
    _check_no_row_lost(data, grid, delim)
    return grid


def _check_no_row_lost(data: bytes, grid: Grid, delim: str) -> None:
    """Cheap guard: a strict reader must not silently drop or merge records."""
    if b'"' not in data and b"\r" not in data.replace(b"\r\n", b""):
        if grid.row_count + 1 != data.count(b"\n"):
            raise ValueError("row count mismatch")


def _unreadable(source: str, line: int, why: str) -> SheetFormatError:
    return SheetFormatError(
        f"{source}, line {line}: this line could not be read as CSV ({why}). "
        "Open the file in your spreadsheet program, save it again as “CSV UTF-8”, and upload it again.")


def _python_csv_rows(text: str, source: str, delimiter: str = ",") -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    start = 1          # the line where the record being read begins (a cell may span lines)
    try:
        for row in reader:
            if row and max(map(len, row)) > MAX_CELL:
                raise _unreadable(source, start, _TOO_LONG)
            rows.append(row)
            start = reader.line_num + 1
    except csv.Error as e:
        why = _TOO_LONG if "field limit" in str(e) else str(e)
        raise _unreadable(source, start, why) from None
    return rows


def grid_from_excel_bytes(data: bytes, source: str = "The Excel file", sheet: str | int = 0) -> Grid:
    import openpyxl  # only needed for Excel uploads

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise SheetFormatError(f"{source} could not be opened as an Excel workbook (.xlsx). "
                               "Save it as .xlsx or CSV and upload it again.") from None
    try:
        ws = wb[sheet] if isinstance(sheet, str) else wb.worksheets[sheet]
    except (KeyError, IndexError):
        raise SheetFormatError(f"{source} has no sheet {sheet!r}. Sheets found: {', '.join(wb.sheetnames)}") from None
    rows = [[_excel_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    wb.close()
    while rows and not any(rows[-1]):
        rows.pop()
    return grid_from_rows(rows, source)


def _excel_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
