"""Bad networks against the fake Sheets server: a slow drip, a captive portal's web page, huge sheets.
Every failure ends on time, in plain words, in the sync log, with the last good data untouched."""

from __future__ import annotations

import threading
import time

import pytest

from lib.recruitment.categories import load_fields, parse_fields_csv, save_fields
from lib.errors import UserError
from lib.recruitment.signups.mapping import suggest_mapping
from lib.recruitment.signups.sources import grid_from_google_sheet
from lib.recruitment.signups.store import signup_counts
from lib.recruitment.signups.sync import sync_from
from tests.fakesheets import FakeSheets
from tests.signups.test_sync import FIELDS_CSV, HEADER

TAB = "Form responses 1"
ROWS = [[f"01/09/2026 10:{i:02d}", f"Person {i}", f"p{i}@example.org", "", "", "", "Woman", "16-29"]
        for i in range(30)]


@pytest.fixture
def fake():
    with FakeSheets() as server:
        yield server


@pytest.fixture
def synced(db, fake):
    save_fields(db, parse_fields_csv(FIELDS_CSV))
    key = fake.add_spreadsheet(tabs={TAB: [HEADER] + ROWS})
    r = do_sync(db, fake, key)
    assert r.status == "ok" and r.added == 30
    return db, key


def do_sync(db, fake, key, **kw):
    m = suggest_mapping(HEADER, load_fields(db))
    return sync_from(db, lambda: grid_from_google_sheet(fake.service_account_info(), fake.url(key), TAB,
                                                        api_base=fake.base_url, backoff=0.05, **kw),
                     m, source_kind="google_sheet", source_label="test")


def in_thread(fn, limit: float):
    """Run ``fn`` with a hard limit for the test itself (today's code would wait for ever)."""
    box: dict = {}
    t = threading.Thread(target=lambda: box.setdefault("r", fn()), daemon=True)
    t0 = time.monotonic()
    t.start()
    t.join(limit)
    assert not t.is_alive(), f"the sync was still running after {limit} s"
    return box.get("r"), time.monotonic() - t0


def test_a_slow_drip_server_cannot_hold_a_sync_past_its_deadline(synced, fake, monkeypatch):
    # Today: a byte every 5 s held a sync for over 21 minutes, and the message then said "30 seconds".
    db, key = synced
    monkeypatch.setenv("KLEROTERION_SYNC_DEADLINE", "4")
    fake.tab(key, TAB).rows = [HEADER] + ROWS[:3]
    fake.drip(0.2, path="/values")                    # the sheet's cells, one byte every 0.2 s (minutes in all)
    r, took = in_thread(lambda: do_sync(db, fake, key), limit=15)
    assert took < 8
    assert r.status == "failed"
    assert "stopped waiting after 4 seconds" in r.message, r.message
    assert "30 seconds" not in r.message
    last = db.query("SELECT status, message FROM sync_log ORDER BY sync_id DESC LIMIT 1")[0]
    assert last == ("failed", r.message)
    assert signup_counts(db)["current"] == 30 and signup_counts(db)["removed"] == 0


def test_a_slow_drip_on_the_sign_in_is_bounded_too(synced, fake, monkeypatch):
    db, key = synced
    monkeypatch.setenv("KLEROTERION_SYNC_DEADLINE", "3")
    fake.drip(0.3, path="/token")
    r, took = in_thread(lambda: do_sync(db, fake, key), limit=15)
    assert took < 7 and r.status == "failed" and "stopped waiting after 3 seconds" in r.message


def test_retries_stop_at_the_deadline_and_say_the_true_time(synced, fake, monkeypatch):
    db, key = synced
    monkeypatch.setenv("KLEROTERION_SYNC_DEADLINE", "2")
    fake.fail(503, times=1000)
    r, took = in_thread(lambda: do_sync(db, fake, key, retries=50), limit=15)
    assert took < 4 and r.status == "failed"
    assert "Google Sheets had a problem on its side (error 503)" in r.message


@pytest.mark.parametrize("path", ["/values", "/token", "/v4/spreadsheets/"])
def test_a_captive_portal_page_with_200_is_explained_and_logged(synced, fake, path):
    # Today: an unhandled JSONDecodeError, and nothing in the sync log.
    db, key = synced
    n_log = db.scalar("SELECT count(*) FROM sync_log")
    fake.html_200(times=100, path=path)
    r = do_sync(db, fake, key)
    assert r.status == "failed"
    assert "the network returned a web page instead of the sheet" in r.message.lower()
    assert "venue's Wi-Fi" in r.message
    assert db.scalar("SELECT count(*) FROM sync_log") == n_log + 1
    assert signup_counts(db)["current"] == 30


def test_google_sheet_values_are_held_to_the_limits(synced, fake, monkeypatch):
    db, key = synced
    fake.tab(key, TAB).rows = [HEADER] + ROWS[:2] + [ROWS[2][:1] + ["n" * 10_001] + ROWS[2][2:]]
    r = do_sync(db, fake, key)
    assert r.status == "failed" and "Row 4, column “Name”" in r.message and "at most 10,000" in r.message
    monkeypatch.setenv("KLEROTERION_MAX_ROWS", "20")
    fake.tab(key, TAB).rows = [HEADER] + ROWS
    r = do_sync(db, fake, key)
    assert r.status == "failed" and "30 rows of sign-ups" in r.message and "at most 20" in r.message
    assert signup_counts(db)["current"] == 30


def test_unexpected_failures_are_logged_too(synced, monkeypatch):
    db, key = synced
    from lib.recruitment.categories import load_fields

    def broken():
        raise RuntimeError("something nobody expected")

    n_log = db.scalar("SELECT count(*) FROM sync_log")
    with pytest.raises(RuntimeError):
        sync_from(db, broken, suggest_mapping(HEADER, load_fields(db)), source_kind="google_sheet",
                  source_label="test")
    last = db.query("SELECT status, message FROM sync_log ORDER BY sync_id DESC LIMIT 1")[0]
    assert db.scalar("SELECT count(*) FROM sync_log") == n_log + 1
    assert last[0] == "failed" and "unexpected" in last[1]
    assert not isinstance(RuntimeError(), UserError)
