"""A sheet of sign-ups as read from any source: a header row and text cells.

Every source (Google Sheets, a CSV, Excel or OpenDocument upload, a published CSV) becomes a ``Grid``:
``headers`` (cleaned: blank headers named after their column letter, repeated ones
numbered) and ``table``, an Arrow table with one text column per sheet column
(``c0``, ``c1`` …) plus ``row_number``, the row's number in the sheet (header = 1).
All cells stay text exactly as typed: "01234" keeps its leading zero.

Every reader holds the sheet to ``lib.recruitment.signups.limits`` (rows, columns, characters in a cell,
unpacked size) while it reads. A CSV file is decoded as ``lib.recruitment.signups.encoding`` guesses (or as
the organiser chose) and checked for quote damage: a row whose number of cells differs from the
first row's, or a cell that runs over several lines and holds what looks like other people's
rows (an email address, or a line with as many separators as a row), is reported with the rows
named, as rows and lines of the file, and the file is refused (``QuoteDamageError``).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lib.errors import UserError
from lib.recruitment.signups.limits import Limits, cell_too_long, too_big, too_many_columns, too_many_rows


class SheetFormatError(UserError):
    pass


class QuoteDamageError(SheetFormatError):
    """Rows of a CSV file were merged or split (a quotation mark missing or one too many)."""


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
            "(for example Timestamp, Name, Age …). Check that you chose the right sheet."
        )


def grid_from_rows(rows: list[list[str]], source: str = "The sheet", limits: Limits | None = None) -> Grid:
    """From a list of rows (e.g. gspread's get_all_values()); ragged rows are padded.

    The rows, columns and every cell are held to ``limits`` (default: ``lib.store.config``)."""
    limits = limits or Limits.from_config()
    if not rows:
        raise SheetFormatError(f"{source} is empty: there is not even a header row.")
    raw_header = [str(c) if c is not None else "" for c in rows[0]]
    data = rows[1:]
    last = len(data)
    while last and not any(str(c).strip() if c is not None else "" for c in data[last - 1]):
        last -= 1  # blank rows at the end are not sign-ups
    if last > limits.rows:
        raise too_many_rows(source, last, limits)
    if len(data) > limits.rows:
        data = data[:last]  # only blank rows beyond the limit: left out
    width = max([len(raw_header)] + [len(r) for r in data]) if data else len(raw_header)
    if width > limits.columns:
        raise too_many_columns(source, width, limits)
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
        arrays = {
            f"c{i}": pa.array(["" if v is None else str(v) for v in col] if _needs_fix(col) else col, type=pa.string())
            for i, col in enumerate(columns)
        }
    arrays["row_number"] = pa.array(range(2, n + 2), type=pa.int32())
    grid = Grid(headers, pa.table(arrays))
    _check_cells(grid, raw_header, source, limits)
    return grid


def _check_cells(grid: Grid, raw_header: list[str], source: str, limits: Limits) -> None:
    """Every cell within ``limits.cell_chars`` (vectorised; the first offending cell is named)."""
    for i, h in enumerate(raw_header):
        if len(h) > limits.cell_chars:
            raise cell_too_long(source, 1, column_letter(i), len(h), limits)
    for i, header in enumerate(grid.headers):
        lengths = pc.utf8_length(grid.table.column(f"c{i}"))
        if grid.row_count and (pc.max(lengths).as_py() or 0) > limits.cell_chars:
            at = pc.index(pc.greater(lengths, limits.cell_chars), True).as_py()
            row = grid.table.column("row_number")[at].as_py()
            raise cell_too_long(source, row, header, lengths[at].as_py(), limits)


def _needs_fix(col) -> bool:
    # get_all_values() gives str everywhere; other callers may pass None or numbers.
    return not all(type(v) is str for v in col)


_DELIMITERS = (",", ";", "\t")
_EMAIL = re.compile(r"[^\s@,;\"<>]+@[^\s@,;\"<>]+\.[A-Za-z]{2,}")


def _delimiter(text: str) -> str:
    """The separator of the header line: the most frequent of comma, semicolon and tab (comma on a tie)."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def grid_from_csv_bytes(
    data: bytes,
    source: str = "The CSV file",
    encoding: str | None = None,
    limits: Limits | None = None,
    *,
    written_by_machine: bool = False,
) -> Grid:
    """A CSV (or tab-separated "Unicode text") file, decoded as ``encoding`` or as guessed.

    When the guess is uncertain and no encoding is given, nothing is read: an ``EncodingError``
    lists the options (the Sign-ups page shows them with a preview). ``written_by_machine``: the file
    comes from a program that writes quotation marks correctly but may leave out empty cells at the
    end of a row (Google's published sheets): rows with fewer cells are not counted as damage."""
    from lib.recruitment.signups.encoding import EncodingError, NAMES, decode, guess_encoding

    limits = limits or Limits.from_config()
    if len(data) > limits.unpacked_bytes:
        raise too_big(source, len(data), limits, unpacked=False)
    if encoding is None:
        guess = guess_encoding(data, source)
        if not guess.certain:
            raise EncodingError(
                f"Kleroterion cannot tell for sure which alphabet {source[0].lower() + source[1:]} was saved in, so "
                "it was not read (letters could come out wrong). It could be: "
                + "; ".join(guess.label(o) for o in guess.options[:3])
                + ". Upload it on the Sign-ups page and choose, or save it again as “CSV UTF-8” and upload that."
            )
        encoding = guess.encoding
    text = decode(data, encoding, source)
    if "\x00" in text:
        raise EncodingError(
            f"{source} does not read as text in {NAMES.get(encoding, encoding)}. Choose another "
            "encoding, or upload the sheet as CSV UTF-8, Excel (.xlsx) or OpenDocument (.ods)."
        )
    return grid_from_csv_text(text, source, limits, written_by_machine=written_by_machine)


def grid_from_csv_text(
    text: str, source: str = "The CSV file", limits: Limits | None = None, *, written_by_machine: bool = False
) -> Grid:
    limits = limits or Limits.from_config()
    if not text.strip():
        raise SheetFormatError(f"{source} is empty: there is not even a header row.")
    rows, spans, n_lines = _read_csv(text, source, _delimiter(text), limits)
    _check_quote_damage(text, rows, spans, n_lines, source, short_rows_ok=written_by_machine)
    return grid_from_rows(rows, source, limits)


def _unreadable(source: str, line: int, why: str) -> SheetFormatError:
    return SheetFormatError(
        f"{source}, line {line}: this line could not be read as CSV ({why}). "
        "Open the file in your spreadsheet program, save it again as “CSV UTF-8”, and upload it again."
    )


def _read_csv(text: str, source: str, delimiter: str, limits: Limits):
    """Rows, (first line, last line) of each row in the file, and the number of lines read.

    Rows beyond the limit are counted, not kept; blank rows at the end are left out."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    spans: list[tuple[int, int]] = []
    start = 1
    count = last_filled = 0
    try:
        for row in reader:
            end = reader.line_num
            count += 1
            filled = any(c.strip() for c in row)
            if filled:
                last_filled = count
            if count - 1 <= limits.rows:
                if len(row) > limits.columns:
                    if any(c.strip() for c in row[limits.columns :]):
                        raise too_many_columns(source, len(row), limits)
                    filled_to = max((j + 1 for j, c in enumerate(row[: limits.columns]) if c.strip()), default=0)
                    row = row[: max(filled_to, len(rows[0]) if rows else 0)]  # empty cells beyond: dropped
                rows.append(row)
                spans.append((start, end))
            start = end + 1
    except csv.Error as e:
        if "field limit" in str(e):
            raise SheetFormatError(
                f"{source}: a cell that starts on line {start} holds more than 131,072 characters; a cell may hold at "
                f'most {limits.cell_chars:,}. This usually means a quotation mark (") that is opened and never '
                "closed, so the lines after it were swallowed into one cell. Correct it and upload the file "
                "again."
            ) from None
        raise _unreadable(source, start, str(e)) from None
    if last_filled - 1 > limits.rows:
        raise too_many_rows(source, last_filled - 1, limits)
    del rows[last_filled:], spans[last_filled:]
    return rows, spans, reader.line_num


def _lines(first: int, last: int) -> str:
    return f"line {first} of the file" if first == last else f"lines {first} to {last} of the file"


def _check_quote_damage(
    text: str,
    rows: list[list[str]],
    spans: list[tuple[int, int]],
    n_lines: int,
    source: str,
    short_rows_ok: bool = False,
) -> None:
    """Refuse a file whose rows were merged or split by a quotation mark (see the module text)."""
    if not rows:
        return
    header = rows[0]
    named = len(header)
    while named and not header[named - 1].strip():
        named -= 1
    delimiter = _delimiter(text)
    damaged: list[str] = []
    for i in range(1, len(rows)):
        row = rows[i]
        if not any(c.strip() for c in row):
            continue
        problem = _row_damage(row, i, spans[i], header, named, delimiter, short_rows_ok)
        if problem:
            damaged.append(problem)
    unclosed = _unclosed_quote(text, rows, spans, delimiter)
    if unclosed and not any(d.startswith(f"Row {len(rows)} ") for d in damaged):
        damaged.append(unclosed)
    _raise_damage(damaged, n_lines, rows, source)


def _row_damage(
    row: list[str], i: int, span: tuple[int, int], header: list[str], named: int, delimiter: str, short_rows_ok: bool
) -> str | None:
    """Row ``i`` (0: the header) with a number of cells the header does not allow, or a cell holding
    what look like other people's rows; None when it looks whole."""
    first, last = span
    where = f"Row {i + 1} ({_lines(first, last)})"
    n = len(row)
    if (
        n != len(header)
        and not (n > len(header) and not any(c.strip() for c in row[len(header) :]))
        and not (named <= n < len(header))
        and not (short_rows_ok and n < len(header))
    ):
        return f"{where} has {n} cell{'s' if n != 1 else ''}, but the first row has {len(header)}."
    if last > first:
        return _rows_inside_a_cell(row, where, header, delimiter)
    return None


def _rows_inside_a_cell(row: list[str], where: str, header: list[str], delimiter: str) -> str | None:
    """The first cell of a row spread over several lines that holds email addresses or whole rows."""
    for j, cell in enumerate(row):
        if "\n" not in cell and "\r" not in cell:
            continue
        inner = cell.splitlines()
        emails = len(_EMAIL.findall(cell))
        rowlike = any(line.count(delimiter) >= max(1, len(header) - 2) for line in inner)
        if emails or rowlike:
            col = header[j].strip() if j < len(header) and header[j].strip() else column_letter(j)
            what = (
                f"{emails} email address{'es' if emails != 1 else ''}" if emails else "lines that look like whole rows"
            )
            return (
                f"{where}: the cell in column “{col}” runs over {len(inner)} lines and holds "
                f"{what}, as if other people's rows were inside it."
            )
    return None


def _unclosed_quote(text: str, rows: list[list[str]], spans: list[tuple[int, int]], delimiter: str) -> str | None:
    """A quotation mark opened in the last row and never closed: the reader ends the cell at the end of the file."""
    if len(rows) > 1 and any("\n" in c or "\r" in c for c in rows[-1]):
        tail = "".join(io.StringIO(text, newline="").readlines()[spans[-1][0] - 1 :])
        try:
            list(csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True))
        except csv.Error as e:
            if "unexpected end of data" not in str(e):
                return None
            first, last = spans[-1]
            return f'Row {len(rows)} ({_lines(first, last)}): a quotation mark (") there is opened and never closed.'
    return None


def _raise_damage(damaged: list[str], n_lines: int, rows: list[list[str]], source: str) -> None:
    if not damaged:
        return
    shown = damaged[:10] + ([f"… and {len(damaged) - 10} more rows like these."] if len(damaged) > 10 else [])
    raise QuoteDamageError(
        f"{source} looks damaged, so nothing was changed. The file has {n_lines:,} lines, which read as "
        f"{len(rows):,} rows (the first row holds the questions). " + " ".join(shown) + " This usually comes "
        'from a quotation mark (") that is missing or one too many, which joins or splits rows. Open the file in '
        "a text editor or your spreadsheet program, correct the rows named, save it and upload it again."
    )


def _excel_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def grid_from_excel_bytes(
    data: bytes, source: str = "The Excel file", sheet: str | int = 0, limits: Limits | None = None
) -> Grid:
    """An Excel workbook's sheet (by name or position); see ``lib.recruitment.signups.workbooks``."""
    from lib.recruitment.signups.workbooks import grid_from_xlsx

    return grid_from_xlsx(data, source, sheet, limits)
