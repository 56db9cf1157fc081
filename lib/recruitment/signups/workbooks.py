"""Workbooks: Excel (.xlsx) and OpenDocument (.ods) sheets, read within the limits.

Both are zip files. Before anything is unpacked, the zip's directory says how large its parts
are once unpacked; a workbook above ``Limits.unpacked_bytes`` is refused (a 4 MB file can unpack
to gigabytes). An Excel sheet's own size (its "dimension", e.g. A1:M1000000) is checked before
its rows are read; rows are then read one at a time, and blank rows at the end are never kept.

OpenDocument spreadsheets are read with the standard library only (``zipfile`` and the expat XML
parser, streaming ``content.xml``): each cell's shown text (``<text:p>`` paragraphs joined by line
breaks, ``<text:s>`` spaces, tabs), repeated cells and rows (``number-columns-repeated``,
``number-rows-repeated``; LibreOffice writes a million empty rows as one repeated row, which is
never expanded), comments left out. A document type declaration is refused (no entity tricks).
"""

from __future__ import annotations

import io
import zipfile

from lib.errors import UserError
from lib.recruitment.signups.grid import Grid, SheetFormatError, _excel_text, column_letter, grid_from_rows
from lib.recruitment.signups.limits import Limits, cell_too_long, too_big, too_many_columns, too_many_rows


def _not_excel(source: str) -> SheetFormatError:
    return SheetFormatError(
        f"{source} could not be opened as an Excel workbook (.xlsx). Save it as .xlsx or CSV and upload it again."
    )


def _not_ods(source: str) -> SheetFormatError:
    return SheetFormatError(
        f"{source} could not be opened as an OpenDocument spreadsheet (.ods). "
        "Save it again as .ods (or as CSV) and upload it again."
    )


def open_zip(data: bytes, source: str, limits: Limits, not_it) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise not_it(source) from None
    total = sum(i.file_size for i in infos)
    if total > limits.unpacked_bytes:
        raise too_big(source, total, limits, unpacked=True)
    return zf


def _pick(names: list[str], sheet: str | int | None, source: str) -> int:
    if not names:
        raise SheetFormatError(f"{source} has no sheets.")
    if sheet is None or sheet == "":
        return 0
    if isinstance(sheet, int):
        if 0 <= sheet < len(names):
            return sheet
    elif sheet in names:
        return names.index(sheet)
    listed = ", ".join(f"“{n}”" for n in names)
    raise SheetFormatError(f"{source} has no sheet called “{sheet}”. Its sheets are: {listed}.")


# --- Excel ----------------------------------------------------------------------------------


def _load_xlsx(data: bytes, source: str, limits: Limits):
    import openpyxl  # only needed for Excel uploads

    open_zip(data, source, limits, _not_excel).close()
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a broken file
        raise _not_excel(source) from None


def xlsx_sheet_names(data: bytes, source: str = "The Excel file", limits: Limits | None = None) -> list[str]:
    wb = _load_xlsx(data, source, limits or Limits.from_config())
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def grid_from_xlsx(
    data: bytes, source: str = "The Excel file", sheet: str | int | None = 0, limits: Limits | None = None
) -> Grid:
    limits = limits or Limits.from_config()
    wb = _load_xlsx(data, source, limits)
    try:
        ws = wb[wb.sheetnames[_pick(list(wb.sheetnames), sheet, source)]]
        if not hasattr(ws, "iter_rows"):
            raise SheetFormatError(
                f"{source}: the sheet “{ws.title}” is a chart, not a table of sign-ups. "
                "Choose the sheet that holds the sign-ups."
            )
        where = f"{source}, sheet “{ws.title}”" if len(wb.sheetnames) > 1 else source
        _check_xlsx_dimension(ws, where, limits)
        try:
            rows = _xlsx_rows(ws, where, limits)
        except UserError:
            raise
        except Exception:
            raise _not_excel(source) from None
    finally:
        wb.close()
    return grid_from_rows(rows, where, limits)


def _check_xlsx_dimension(ws, where: str, limits: Limits) -> None:
    """Refuse a sheet whose recorded size (its "dimension") is above the limits, before reading it."""
    from openpyxl.utils import range_boundaries

    try:
        dim = ws.calculate_dimension()
        _c0, _r0, max_col, max_row = range_boundaries(dim)
    except Exception:  # no dimension recorded: the rows are counted while reading
        max_col = max_row = None
    if max_row and max_row - 1 > limits.rows:
        raise too_many_rows(where, max_row, limits)
    if max_col and max_col > limits.columns:
        raise too_many_columns(where, max_col, limits)


def _xlsx_rows(ws, where: str, limits: Limits) -> list[list[str]]:
    """The sheet's rows as text, trailing blank cells and rows dropped, within the limits."""
    rows: list[list[str]] = []
    blank_run = 0
    for i, values in enumerate(ws.iter_rows(values_only=True)):
        cells = [_excel_text(v) for v in values]
        while cells and cells[-1] == "":
            cells.pop()
        if not cells:
            blank_run += 1  # kept only if a filled row follows
            continue
        if i > limits.rows:
            raise too_many_rows(where, i, limits, at_least=True)
        if len(cells) > limits.columns:
            raise too_many_columns(where, len(cells), limits)
        for j, c in enumerate(cells):
            if len(c) > limits.cell_chars:
                raise cell_too_long(
                    where,
                    i + 1,
                    column_letter(j)
                    if i == 0
                    else (rows[0][j] if rows and j < len(rows[0]) and rows[0][j] else column_letter(j)),
                    len(c),
                    limits,
                )
        rows.extend([[]] * blank_run)
        blank_run = 0
        rows.append(cells)
    return rows


# --- OpenDocument -----------------------------------------------------------------------------

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


class _Stop(Exception):
    pass


class _OdsReader:
    """Streams content.xml; collects the sheet names, and the rows of sheet number ``want``."""

    def __init__(self, want: int | None, source: str, limits: Limits):
        self.want, self.source, self.limits = want, source, limits
        self.names: list[str] = []
        self.rows: list[list[str]] = []
        self.in_table = False
        self.row: list[str] | None = None
        self.row_repeat = 1
        self.row_index = 0  # sheet rows seen so far in the wanted table
        self.pending_blank = 0
        self.cell: list[str] | None = None
        self.cell_len = 0
        self.cell_repeat = 1
        self.paragraphs = 0
        self.skip = 0  # inside a comment (office:annotation)
        self.p_depth = 0  # inside a paragraph of a cell
        self._blank_cells = 0
        self.cell_value = ""

    def where(self) -> str:
        return f"{self.source}, sheet “{self.names[-1]}”" if self.names else self.source

    def start(self, name: str, attrs: dict) -> None:
        ns, _, local = name.rpartition(" ")
        if self.skip:
            if ns == _OFFICE and local == "annotation":
                self.skip += 1
            return
        if ns == _TABLE and local == "table":
            self.names.append(attrs.get(f"{_TABLE} name", f"Sheet{len(self.names) + 1}"))
            self.in_table = self.want is not None and len(self.names) - 1 == self.want
            return
        if not self.in_table:
            return
        if ns == _TABLE and local == "table-row":
            self.row = []
            self.row_repeat = _count(attrs.get(f"{_TABLE} number-rows-repeated"))
        elif ns == _TABLE and local in ("table-cell", "covered-table-cell") and self.row is not None:
            self._start_cell(attrs)
        elif ns == _OFFICE and local == "annotation":
            self.skip = 1
        elif self.cell is not None and ns == _TEXT:
            self._start_text(local, attrs)

    def _start_cell(self, attrs: dict) -> None:
        self.cell = []
        self.cell_len = 0
        self.paragraphs = 0
        self.cell_repeat = _count(attrs.get(f"{_TABLE} number-columns-repeated"))
        self.cell_value = (
            attrs.get(f"{_OFFICE} value")
            or attrs.get(f"{_OFFICE} date-value")
            or attrs.get(f"{_OFFICE} string-value")
            or ""
        )

    def _start_text(self, local: str, attrs: dict) -> None:
        """An element of a cell's text: a paragraph, spaces, a tab or a line break."""
        if local == "p" or local == "h":
            if self.paragraphs:
                self._add("\n")
            self.paragraphs += 1
            self.p_depth += 1
        elif local == "s":
            self._add(" " * min(_count(attrs.get(f"{_TEXT} c")), self.limits.cell_chars + 1))
        elif local == "tab":
            self._add("\t")
        elif local == "line-break":
            self._add("\n")

    def end(self, name: str) -> None:
        ns, _, local = name.rpartition(" ")
        if self.skip:
            if ns == _OFFICE and local == "annotation":
                self.skip -= 1
            return
        if not self.in_table:
            return
        if ns == _TEXT and local in ("p", "h") and self.p_depth:
            self.p_depth -= 1
        elif ns == _TABLE and local in ("table-cell", "covered-table-cell") and self.cell is not None:
            self._end_cell(self.cell, self.row)
        elif ns == _TABLE and local == "table-row" and self.row is not None:
            self._end_row(self.row)
        elif ns == _TABLE and local == "table":
            self.in_table = False
            if self.want is not None:
                raise _Stop

    def _end_cell(self, cell: list[str], row: list[str] | None) -> None:
        """Add the cell's text (as many times as it is repeated) to its row; blank cells count until a
        filled one follows (trailing blank cells are dropped)."""
        text = "".join(cell) if self.paragraphs else self.cell_value
        if text:
            if row is None:  # a cell is only started inside a row: read as a broken file
                raise ValueError("a cell outside a row")
            row.extend([""] * self._blank_cells)
            self._blank_cells = 0
            if len(row) + self.cell_repeat > self.limits.columns:
                raise too_many_columns(self.where(), len(row) + self.cell_repeat, self.limits)
            row.extend([text] * self.cell_repeat)
        else:
            self._blank_cells = self._blank_cells + self.cell_repeat
        self.cell = None

    def _end_row(self, row: list[str]) -> None:
        """Keep the row (as many times as it is repeated) after the blank rows before it; blank rows count
        until a filled one follows; rows past the limit are counted, not kept."""
        self._blank_cells = 0
        self.row = None
        first = self.row_index + 1  # this row's number in the sheet
        self.row_index += self.row_repeat
        if not row:
            self.pending_blank += self.row_repeat
            return
        if self.row_index - 1 > self.limits.rows:
            self.too_many = True
            self.filled_rows = self.row_index - 1
            return  # counted, not kept
        for j, c in enumerate(row):
            if len(c) > self.limits.cell_chars:
                head = self.rows[0] if self.rows else []
                col = head[j] if j < len(head) and head[j] else column_letter(j)
                raise cell_too_long(self.where(), first, col, len(c), self.limits)
        self.rows.extend([[]] * self.pending_blank)
        self.pending_blank = 0
        self.rows.extend([list(row) for _ in range(self.row_repeat)])

    def text(self, data: str) -> None:
        if self.cell is not None and not self.skip and self.in_table and self.p_depth:
            self._add(data)

    def _add(self, s: str) -> None:
        self.cell_len += len(s)
        if self.cell_len > self.limits.cell_chars:
            row_no = self.row_index + 1
            head = self.rows[0] if self.rows else []
            j = len(self.row or []) + self._blank_cells
            col = head[j] if j < len(head) and head[j] and row_no > 1 else column_letter(j)
            raise cell_too_long(self.where(), row_no, col, self.cell_len, self.limits)
        if self.cell is not None:  # text is only added inside a cell
            self.cell.append(s)


def _count(raw) -> int:
    try:
        return max(1, int(raw)) if raw else 1
    except ValueError:
        return 1


def _parse_ods(data: bytes, want: int | None, source: str, limits: Limits) -> _OdsReader:
    from xml.parsers import expat

    zf = open_zip(data, source, limits, _not_ods)
    reader = _OdsReader(want, source, limits)
    try:
        with zf, zf.open("content.xml") as fh:
            parser = expat.ParserCreate(namespace_separator=" ")

            def refuse(*_args):
                raise SheetFormatError("doctype")

            parser.StartDoctypeDeclHandler = refuse
            parser.EntityDeclHandler = refuse
            parser.StartElementHandler = reader.start
            parser.EndElementHandler = reader.end
            parser.CharacterDataHandler = reader.text
            parser.buffer_text = True
            while True:
                chunk = fh.read(1 << 16)
                parser.Parse(chunk, not chunk)
                if not chunk:
                    break
    except _Stop:
        pass
    except UserError as e:
        if str(e) == "doctype":
            raise _not_ods(source) from None
        raise
    except (KeyError, zipfile.BadZipFile, expat.ExpatError, OSError, ValueError, EOFError, RuntimeError):
        raise _not_ods(source) from None
    if getattr(reader, "too_many", False):
        raise too_many_rows(reader.where(), reader.filled_rows, limits)
    return reader


def ods_sheet_names(data: bytes, source: str = "The OpenDocument file", limits: Limits | None = None) -> list[str]:
    return _parse_ods(data, None, source, limits or Limits.from_config()).names


def grid_from_ods(
    data: bytes, source: str = "The OpenDocument file", sheet: str | int | None = 0, limits: Limits | None = None
) -> Grid:
    limits = limits or Limits.from_config()
    if isinstance(sheet, str) and sheet:
        index = _pick(ods_sheet_names(data, source, limits), sheet, source)
    else:
        index = sheet if isinstance(sheet, int) else 0
    reader = _parse_ods(data, index, source, limits)
    if index >= len(reader.names):
        _pick(reader.names, sheet, source)
    return grid_from_rows(reader.rows, reader.where(), limits)
