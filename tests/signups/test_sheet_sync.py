"""From the fake Google Sheet into DuckDB; a failed sync leaves the last good data untouched.
Also the "published to the web" CSV source, served by the same fake server."""

from __future__ import annotations

import pytest

from lib.recruitment.categories import load_fields, parse_fields_csv, save_fields
from lib.recruitment.signups.mapping import suggest_mapping
from lib.recruitment.signups.published_csv import PublishedCsvError, fetch_published_csv
from lib.recruitment.signups.sources import grid_from_google_sheet, grid_from_published_csv
from lib.recruitment.signups.store import signup_counts
from lib.recruitment.signups.sync import sync_from
from tests.fakesheets import FakeSheets
from tests.signups.test_sync import FIELDS_CSV, HEADER

TAB = "Form responses 1"
ROWS = [
    ["01/09/2026 10:00", "Zoë Ó Briain", "zoe@example.org", "07700 900001", "1 Mill Lane", "01234", "Woman", "16-29"],
    ["01/09/2026 10:05", "Nguyễn Thị Minh Khai", "minh@example.org", "07700 900002", "", "", "female", "30 to 59"],
    ["01/09/2026 10:10", "Sam Smith", "sam@example.org", "", "", "", " MALE ", "60 and over"],
    ["01/09/2026 10:15", "Ann Other", "ann@example.org", "", "", "", "Woman"],                 # ragged, age missing
]


@pytest.fixture
def fake():
    with FakeSheets() as server:
        yield server


def sync(db, fake, key, **kw):
    m = suggest_mapping(HEADER, load_fields(db))
    return sync_from(db, lambda: grid_from_google_sheet(fake.service_account_info(), fake.url(key), TAB,
                                                        api_base=fake.base_url, backoff=0.01, **kw),
                     m, source_kind="google_sheet", source_label="test")


def snapshot(db):
    return (db.query("SELECT person_id, source_key, row_hash, eligible, removed_sync FROM people ORDER BY 1"),
            db.query("SELECT * FROM contacts ORDER BY person_id"),
            db.query("SELECT * FROM person_values ORDER BY person_id, field"))


def test_sync_from_the_fake_sheet_then_failures_leave_the_last_good_data_untouched(db, fake):
    save_fields(db, parse_fields_csv(FIELDS_CSV))
    key = fake.add_spreadsheet(tabs={TAB: [HEADER] + ROWS})
    r = sync(db, fake, key)
    assert (r.status, r.rows_read, r.added, r.blocking) == ("ok", 4, 4, 1)
    assert db.query("SELECT postcode FROM contacts WHERE name = 'Zoë Ó Briain'") == [("01234",)]
    assert db.query("SELECT value FROM person_values JOIN contacts USING (person_id) "
                    "WHERE name = 'Sam Smith' ORDER BY field") == [("60+",), ("Man",)]
    good = snapshot(db)

    # The sheet changes, but Google refuses every request: nothing is touched, the failure is logged.
    fake.tab(key, TAB).rows = [HEADER] + ROWS[:1]
    fake.fail(429, times=1000)
    r = sync(db, fake, key, retries=2)
    assert r.status == "failed" and "too many were made (429)" in r.message
    assert snapshot(db) == good
    # The sheet disappears (deleted, or no longer shared).
    fake.failures.clear()
    del fake.books[key]
    r = sync(db, fake, key)
    assert r.status == "failed" and "share the sheet with kleroterion@test-project" in r.message
    assert snapshot(db) == good
    assert signup_counts(db)["current"] == 4
    assert db.query("SELECT status FROM sync_log ORDER BY sync_id") == [("ok",), ("failed",), ("failed",)]


def test_a_changed_sheet_syncs_changes_and_keeps_removed_people(db, fake):
    from lib.store.settings import set_setting

    set_setting(db, "retire_confirm_share", 1.0)      # 1 of 4 leaving: no confirmation asked in this test
    save_fields(db, parse_fields_csv(FIELDS_CSV))
    key = fake.add_spreadsheet(tabs={TAB: [HEADER] + ROWS})
    sync(db, fake, key)
    fake.tab(key, TAB).rows = [HEADER] + [ROWS[0], ROWS[1][:7] + ["60+"], ROWS[3] + ["16-29"]]
    r = sync(db, fake, key)
    assert (r.status, r.added, r.changed, r.removed) == ("ok", 0, 2, 1)
    assert signup_counts(db) == {"current": 3, "eligible": 3, "blocked": 0, "removed": 1}
    assert sync(db, fake, key).summary().endswith("nothing changed.")


def test_published_csv_is_read_with_leading_zeros_and_web_pages_are_refused(fake, monkeypatch):
    monkeypatch.setenv("KLEROTERION_PUBLISHED_CSV_ORIGINS", fake.base_url)    # the fake Google, on 127.0.0.1
    key = fake.add_spreadsheet(tabs={TAB: [HEADER] + ROWS})
    url = f"{fake.base_url}/published/{key}?output=csv"
    assert fetch_published_csv(url)[1][5] == "01234"
    grid = grid_from_published_csv(url)
    assert grid.row_count == 4 and grid.column_values("Postcode")[0] == "01234"
    with pytest.raises(PublishedCsvError, match="gives a web page, not a CSV file"):
        fetch_published_csv(f"{fake.base_url}/published/{key}?output=html")
    with pytest.raises(PublishedCsvError, match="does not lead to a published sheet"):
        fetch_published_csv(f"{fake.base_url}/published/nosuchkey?output=csv")
    with pytest.raises(PublishedCsvError, match="is not a web link"):
        fetch_published_csv("docs.google.com/whatever")
    fake.delay = 1.0
    with pytest.raises(PublishedCsvError, match="did not answer within 0.2 seconds"):
        fetch_published_csv(url, timeout=0.2)
