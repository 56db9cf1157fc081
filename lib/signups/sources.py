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


def grid_from_google_sheet(service_account_info: TMapping, spreadsheet: str, worksheet: str,
                           api_base: str | None = None) -> Grid:
    from lib.signups.sheets import SheetRef, fetch_values, make_client

    client = make_client(dict(service_account_info), api_base=api_base)
    rows = fetch_values(client, SheetRef(spreadsheet, worksheet))
    return grid_from_rows(rows, f"The worksheet “{worksheet}”")


def grid_from_published_csv(url: str) -> Grid:
    from lib.signups.published_csv import fetch_published_csv

    return grid_from_rows(fetch_published_csv(url), "The published sheet")
