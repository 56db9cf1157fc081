"""Each error status Google's API answers with becomes its own plain message (lib.recruitment.signups.sheets),
against the fake Google Sheets server on 127.0.0.1."""

from __future__ import annotations

import pytest

from lib.recruitment.signups.sheets import CredentialsError, SheetRef, SheetsError, SpreadsheetNotFoundError, \
    fetch_values, make_client
from tests.fakesheets import FakeSheets

TAB = "Form responses 1"


@pytest.fixture
def fake():
    with FakeSheets() as server:
        yield server


@pytest.mark.parametrize("status, kind, words", [
    (404, SpreadsheetNotFoundError, "cannot be found. Check the address, and share the sheet with"),
    (403, SpreadsheetNotFoundError, "is not shared with Kleroterion. Check the address, and share the sheet with"),
    (401, CredentialsError, "Google did not accept the service account's sign-in ("),
    (418, SheetsError, "Google Sheets refused the request while "),
])
def test_each_refusal_from_google_has_its_own_message(fake, status, kind, words):
    key = fake.add_spreadsheet(tabs={TAB: [["Name"], ["Sam"]]})
    fake.fail(status, times=100, path="/values/")
    client = make_client(fake.service_account_info(), api_base=fake.base_url, backoff=0.01, retries=1)
    with pytest.raises(kind) as e:
        fetch_values(client, SheetRef(key, TAB))
    assert words in str(e.value), str(e.value)
    if status == 418:
        assert "(error 418: " in str(e.value)
