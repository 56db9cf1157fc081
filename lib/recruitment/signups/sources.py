"""Where sign-ups come from. Each function returns a ``Grid`` or raises a ``UserError``.

Uploads: CSV or tab-separated text (any of the encodings ``lib.recruitment.signups.encoding`` knows), Excel
(.xlsx) and OpenDocument (.ods) workbooks, any sheet of them. What a file is, is decided by its
content first (a workbook renamed .csv is still read as a workbook), then by its name.
Google Sheets and published sheets are read within one overall deadline per sync
(``lib.store.config.sync_deadline_seconds``).
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Mapping as TMapping

from lib.errors import UserError
from lib.recruitment.signups.encoding import EncodingGuess, guess_encoding
from lib.recruitment.signups.grid import Grid, SheetFormatError, grid_from_csv_bytes, grid_from_rows
from lib.recruitment.signups.limits import Limits

UPLOAD_TYPES = ("csv", "tsv", "txt", "xlsx", "ods")


def upload_kind(name: str, data: bytes) -> str:
    """ "csv", "xlsx" or "ods" (or raises for a file Kleroterion cannot read)."""
    lower = (name or "").lower()
    source = f"The file {name}"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SheetFormatError(
            f"{source} is in the old Excel format (.xls). Open it in Excel (or LibreOffice) "
            "and save it as “Excel Workbook (.xlsx)” or “CSV UTF-8”, then upload it again."
        )
    if data.startswith(b"PK\x03\x04"):
        head = data[:4096]
        if b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet" in head or lower.endswith(".ods"):
            return "ods"
        return "xlsx"
    if lower.endswith(".xls"):
        raise SheetFormatError(
            f"{source} is in the old Excel format (.xls). Save it as .xlsx or CSV UTF-8 and upload it again."
        )
    if lower.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if lower.endswith(".ods"):
        return "ods"
    return "csv"


def workbook_sheet_names(name: str, data: bytes, limits: Limits | None = None) -> list[str]:
    """The sheets of an uploaded workbook, in order ([] for a CSV file)."""
    from lib.recruitment.signups.workbooks import ods_sheet_names, xlsx_sheet_names

    kind = upload_kind(name, data)
    if kind == "xlsx":
        return xlsx_sheet_names(data, f"The file {name}", limits)
    if kind == "ods":
        return ods_sheet_names(data, f"The file {name}", limits)
    return []


def guess_upload_encoding(data: bytes, name: str = "") -> EncodingGuess:
    return guess_encoding(data, f"The file {name}" if name else "The file")


def grid_from_upload(
    name: str, data: bytes, *, sheet: str | int | None = None, encoding: str | None = None, limits: Limits | None = None
) -> Grid:
    """An uploaded file's sign-ups: ``sheet`` for a workbook (default the first), ``encoding`` for text
    (default: the guess, refused when the guess is uncertain)."""
    from lib.recruitment.signups.workbooks import grid_from_ods, grid_from_xlsx

    source = f"The file {name}"
    kind = upload_kind(name, data)
    if kind == "xlsx":
        return grid_from_xlsx(data, source, sheet, limits)
    if kind == "ods":
        return grid_from_ods(data, source, sheet, limits)
    return grid_from_csv_bytes(data, source, encoding, limits)


# --- the network: one deadline per sync ---------------------------------------------------------


class DeadlineError(UserError):
    pass


def deadline_message(what: str, seconds: float, deadline: float) -> str:
    return (
        f"{what} did not arrive in time, so Kleroterion stopped waiting after {seconds:.0f} seconds (a sync waits "
        f"at most {deadline:g} seconds, retries included). The connection is very slow, or something between "
        "this computer and Google is holding it up. Try again in a few minutes; if it keeps happening, "
        "upload the sheet as a file instead."
    )


def run_with_deadline(fn: Callable[[], Grid], seconds: float, what: str) -> Grid:
    """``fn()`` in a helper thread; if it has not finished after ``seconds``, give up on it (the thread
    is left to end by itself, its result is thrown away) and raise a ``DeadlineError``."""
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # handed over to the caller below
            box["error"] = e

    t0 = time.monotonic()
    worker = threading.Thread(target=target, name="kleroterion-sheet-read", daemon=True)
    worker.start()
    worker.join(seconds)  # the reader stops itself at the deadline too; this is the backstop
    if worker.is_alive():
        raise DeadlineError(deadline_message(what, time.monotonic() - t0, seconds))
    if "error" in box:
        raise box["error"]
    return box["value"]


def grid_from_google_sheet(
    service_account_info: TMapping,
    spreadsheet: str,
    worksheet: str | None,
    api_base: str | None = None,
    *,
    deadline: float | None = None,
    limits: Limits | None = None,
    **client_options,
) -> Grid:
    """Read a worksheet (None or "": the first tab) through the real gspread client.

    ``api_base`` defaults to ``KLEROTERION_SHEETS_API_BASE`` (see lib.store.config); ``client_options``
    go to ``make_client`` (timeout, retries, backoff). Everything, retries included, ends within
    ``deadline`` seconds (default ``lib.store.config.sync_deadline_seconds()``).
    """
    from lib.store.config import sheets_api_base, sync_deadline_seconds
    from lib.recruitment.signups.sheets import SheetRef, fetch_values, make_client

    seconds = float(deadline if deadline is not None else sync_deadline_seconds())
    limits = limits or Limits.from_config()

    def read() -> Grid:
        client = make_client(
            dict(service_account_info or {}),
            api_base=api_base or sheets_api_base(),
            deadline=seconds,
            max_bytes=limits.unpacked_bytes,
            **client_options,
        )
        rows = fetch_values(client, SheetRef(spreadsheet, worksheet or None))
        return grid_from_rows(rows, f"The tab “{worksheet}”" if worksheet else "The sheet", limits)

    return run_with_deadline(read, seconds, "The sheet")


def grid_from_published_csv(url: str, *, timeout: float = 30, deadline: float | None = None) -> Grid:
    from lib.store.config import sync_deadline_seconds
    from lib.recruitment.signups.published_csv import fetch_published_csv_bytes

    seconds = float(deadline if deadline is not None else sync_deadline_seconds())
    return run_with_deadline(
        lambda: grid_from_csv_bytes(
            fetch_published_csv_bytes(url, timeout=min(timeout, seconds)),
            "The published sheet",
            written_by_machine=True,
        ),
        seconds,
        "The published sheet",
    )
