"""The Sign-ups page's Google Sheet tab, in AppTest, syncing from the fake Sheets server."""

from __future__ import annotations

import csv

import pytest

from lib.store.config import DEMO_DIR
from tests.app_pages.helpers import assert_ok, goto, open_app, texts
from tests.fakesheets import FakeSheets

SIGNUPS = "pages/signups.py"


@pytest.fixture
def fake(monkeypatch):
    with FakeSheets() as server:
        monkeypatch.setenv("KLEROTERION_SHEETS_API_BASE", server.base_url)
        yield server


def _demo_rows() -> list[list[str]]:
    with open(DEMO_DIR / "signups.csv", newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _open_with_key(fake) -> object:
    at = open_app()
    at.secrets["gcp_service_account"] = fake.service_account_info()
    return goto(at, SIGNUPS)


def _bring_in(at, url: str, tab: str):
    [t for t in at.text_input if t.label.startswith("The sheet's web address")][0].input(url)
    [t for t in at.text_input if t.label == "The tab's name"][0].input(tab)
    [b for b in at.button if b.label == "Bring in sign-ups from the sheet"][0].click()
    at.run()
    assert_ok(at)
    return at


def test_google_sheet_tab_syncs_from_the_fake_server(app_env, fake):
    rows = _demo_rows()
    new = list(rows[1])
    new[0], new[1], new[2] = "02/10/2026 09:00:00", "Ada Newcomer", "ada.newcomer@example.org"
    key = fake.add_spreadsheet(tabs={"Form responses 1": rows + [new]})
    at = _bring_in(_open_with_key(fake), fake.url(key), "Form responses 1")
    assert "Done: 604 sign-ups read, 1 new" in texts(at)
    assert {m.label: m.value for m in at.metric}["Signed up"] == "604"
    assert ("POST", "/token") in fake.requests


def test_google_sheet_failure_is_explained_and_keeps_the_sign_ups(app_env, fake):
    key = fake.add_spreadsheet(tabs={"Responses": _demo_rows()})
    at = _bring_in(_open_with_key(fake), fake.url(key), "Form responses 1")
    errors = "\n".join(e.value for e in at.error)
    assert "no tab called “Form responses 1”" in errors and "“Responses”" in errors
    assert "Your sign-ups from before are unchanged" in errors
    assert {m.label: m.value for m in at.metric}["Signed up"] == "603"


def test_without_a_key_the_page_points_to_the_guide(app_env):
    at = goto(open_app(), SIGNUPS)
    assert "docs/GOOGLE_SHEETS.md" in texts(at)
    assert [b for b in at.button if b.label == "Bring in sign-ups from the sheet"][0].disabled
