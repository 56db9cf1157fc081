"""Where sign-ups come from. Each function returns a ``Grid`` or raises a ``UserError``."""

from __future__ import annotations

from typing import Mapping as TMapping

from lib.signups.grid import Grid, grid_from_csv_bytes, grid_from_excel_bytes, grid_from_rows

UPLOAD_TYPES = ("csv", "xlsx")


def grid_from_upload(name: str, data: bytes) -> Grid:
    lower = name.lower()
    if lower.endswith(".xlsx"):
        return grid_from_excel_bytes(data, f"The file {name}")
    return grid_from_csv_bytes(data, f"The file {name}")


def grid_from_google_sheet(service_account_info: TMapping, spreadsheet: str, worksheet: str | None,
                           api_base: str | None = None, **client_options) -> Grid:
    """Read a worksheet (None or "": the first tab) through the real gspread client.

    ``api_base`` defaults to ``KLEROTERION_SHEETS_API_BASE`` (see lib.config); ``client_options``
    go to ``make_client`` (timeout, retries, backoff).
    """
    from lib.config import sheets_api_base
    from lib.signups.sheets import SheetRef, fetch_values, make_client

    client = make_client(dict(service_account_info or {}), api_base=api_base or sheets_api_base(),
                         **client_options)
    rows = fetch_values(client, SheetRef(spreadsheet, worksheet or None))
    return grid_from_rows(rows, f"The tab “{worksheet}”" if worksheet else "The sheet")


def grid_from_published_csv(url: str, *, timeout: float = 30) -> Grid:
    from lib.signups.published_csv import fetch_published_csv_bytes

    return grid_from_csv_bytes(fetch_published_csv_bytes(url, timeout=timeout), "The published sheet")
