"""For bench/sync_bench.py: serve rows from the fake Sheets server and read them back
through the real gspread client, exactly as the app does (``lib.recruitment.signups.sheets``).

The throw-away RSA key is made when this module is imported (the benchmark imports it
before its clock starts); starting the server, signing in, and fetching are all timed.
"""

from __future__ import annotations

from lib.recruitment.signups.sheets import SheetRef, fetch_values, make_client
from tests.fakesheets.server import FakeSheets, throwaway_key

TAB = "Form responses 1"
throwaway_key()


def fetch_from_fake_server(rows: list[list[str]]) -> list[list[str]]:
    with FakeSheets() as fake:
        key = fake.add_spreadsheet(title="Benchmark sign-ups", tabs={TAB: rows})
        client = make_client(fake.service_account_info(), api_base=fake.base_url, timeout=120)
        return fetch_values(client, SheetRef(fake.url(key), TAB))
