"""The background sync (lib/recruitment/signups/live.py) against the fake Google Sheets server: it brings in new rows
by itself, backs off after failures and keeps the last good data, never runs two syncs at once (across
threads, sessions and processes), and never applies a change that needs an organiser's confirmation."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from lib.recruitment.categories import load_fields, parse_fields_csv, save_fields
from lib.store.settings import get_setting, set_setting
from lib.recruitment.signups import live
from lib.recruitment.signups.grid import grid_from_rows
from lib.recruitment.signups.mapping import save_mapping, suggest_mapping
from lib.recruitment.signups.slot import MARKER, PROCESS, SyncBusy
from lib.recruitment.signups.sources import grid_from_google_sheet
from lib.recruitment.signups.store import signup_counts
from lib.recruitment.signups.sync import LIVE_SOURCE, sync_from, sync_grid
from tests.fakesheets import FakeSheets
from tests.signups.test_sync_safety import FIELDS_CSV, HEADER, people

TAB = "Form responses 1"
FAST = {"retries": 0, "backoff": 0.01}       # one request per try: the tries are easy to count


@pytest.fixture
def fake(monkeypatch):
    with FakeSheets() as server:
        monkeypatch.setenv("KLEROTERION_SHEETS_API_BASE", server.base_url)
        yield server


def connect(db, fake, n=100):
    """Questions set up, and ``n`` sign-ups brought in from the fake sheet by an organiser."""
    save_fields(db, parse_fields_csv(FIELDS_CSV))
    save_mapping(db, suggest_mapping(HEADER, load_fields(db)))
    key = fake.add_spreadsheet(tabs={TAB: [HEADER] + people(n)})
    source = {"kind": "google_sheet", "spreadsheet": fake.url(key), "worksheet": TAB}
    r = sync_from(db, lambda: grid_from_google_sheet(fake.service_account_info(), fake.url(key), TAB, **FAST),
                  live.load_mapping(db), source_kind="google_sheet", source_label=live.source_label(source),
                  actor="organiser", source=source)
    assert r.status == "ok" and r.added == n
    return key


def reads(fake) -> int:
    return sum(1 for method, path in fake.requests if method == "GET" and "/values" in path)


def snapshot(db):
    return {t: db.query(f"SELECT * FROM {t} ORDER BY ALL") for t in ("people", "person_values", "contacts")}


def wait_for(condition, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_words_for_how_long_ago_and_how_often():
    assert [live.ago_words(s) for s in (0, 59, 60, 119, 120, 59 * 60 + 59, 3600, 7199, 7200, 86399, 86400,
                                       3 * 86400)] == [
        "less than a minute ago", "less than a minute ago", "a minute ago", "a minute ago", "2 minutes ago",
        "59 minutes ago", "an hour ago", "an hour ago", "2 hours ago", "23 hours ago", "a day ago", "3 days ago"]
    assert live.ago_words(-5) == "less than a minute ago"          # a clock a little ahead
    assert [live.every_words(s) for s in (1, 30, 60, 300, 3600)] == [
        "every second", "every 30 seconds", "every minute", "every 5 minutes", "every hour"]


def test_settings_default_to_every_five_minutes_and_refuse_less_than_the_minimum(db):
    assert live.live_settings(db) == live.LiveSettings(True, 300.0)
    with pytest.raises(live.UserError, match="at least every 1 minute"):
        live.save_live_settings(db, enabled=True, seconds=0)
    set_setting(db, live.SETTING, {"enabled": True, "seconds": -3})       # a damaged setting: the floor
    assert live.live_settings(db).seconds == live.MIN_SECONDS
    live.save_live_settings(db, enabled=False, seconds=120)
    assert live.live_settings(db) == live.LiveSettings(False, 120.0)


def test_a_new_row_in_the_sheet_comes_in_by_itself(db, fake):
    key = connect(db, fake)
    live.save_live_settings(db, enabled=True, seconds=1)
    worker = live.ensure_worker(db, credentials=fake.service_account_info(), client_options=FAST)
    fake.tab(key, TAB).rows.append(people(1, start=100)[0])
    assert wait_for(lambda: signup_counts(db)["current"] == 101), worker.outcomes
    assert db.query("SELECT actor, added FROM sync_log WHERE added > 0 ORDER BY sync_id DESC LIMIT 1") == [
        ("Automatic sync", 1)]
    assert live.live_status(db).synced_words() == "Last synced less than a minute ago."
    assert worker.stop(timeout=10)          # stops cleanly
    assert not worker.alive()


def test_a_5xx_storm_keeps_the_last_good_data_and_the_tries_space_out(db, fake):
    key = connect(db, fake)
    live.save_live_settings(db, enabled=True, seconds=1)
    good = snapshot(db)
    fake.tab(key, TAB).rows = [HEADER] + people(20)                                    # would retire 80 …
    fake.fail(503, times=10**6, path="/values")                                          # … but Google is down
    before = reads(fake)
    started = time.monotonic()
    worker = live.ensure_worker(db, credentials=fake.service_account_info(), client_options=FAST)
    time.sleep(7.5)
    tries = [t for t in fake.timed if "/values" in t[1] and t[2] >= started]
    # Every second without back-off would be 7 tries; with back-off they come after 1, 2, 4 … seconds.
    assert 2 <= reads(fake) - before <= 3, [round(t[2] - started, 1) for t in tries]
    gaps = [b[2] - a[2] for a, b in zip(tries, tries[1:])]
    assert all(g >= 1.6 for g in gaps), gaps
    assert snapshot(db) == good and signup_counts(db)["current"] == 100
    failed = db.query("SELECT message FROM sync_log WHERE status = 'failed' AND actor = 'Automatic sync'")
    assert failed and all("error 503" in m for (m,) in failed)
    assert worker.alive() and worker.failures >= 2 and worker.errors == 0
    status = live.live_status(db)
    assert status.failure_words().startswith("The last try, less than a minute ago, did not work: Google Sheets "
                                              "had a problem on its side (error 503)")


def test_back_off_doubles_up_to_an_hour_and_a_success_resets_it(db, fake):
    key = connect(db, fake)
    live.save_live_settings(db, enabled=True, seconds=60)
    now = [1000.0]
    worker = live.LiveSync(db, credentials=fake.service_account_info(), client_options=FAST, clock=lambda: now[0])
    before = reads(fake)
    worker.tick()                                   # synced a moment ago: nothing due for a minute
    assert reads(fake) == before
    good = snapshot(db)
    fake.fail(500, times=10**6, path="/values")
    waits = []
    for _ in range(9):
        now[0] = worker.due_at(60)
        worker.tick()
        waits.append(round(worker.due_at(60) - now[0]))
        now[0] += 30                                # half a minute later: not due, nothing read
        worker.tick()
    assert reads(fake) - before == 9
    assert waits == [120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600]
    assert snapshot(db) == good
    fake.failures.clear()                           # Google is back, and somebody signed up
    fake.tab(key, TAB).rows.append(people(1, start=100)[0])
    now[0] = worker.due_at(60)
    worker.tick()
    assert signup_counts(db)["current"] == 101
    assert worker.failures == 0 and round(worker.due_at(60) - now[0]) == 60


def _windows(fake, since: float) -> list[tuple[float, float]]:
    """Each sync's [first request, last request] (requests are grouped by the sync's own access token)."""
    spans: dict[str, list[float]] = {}
    for _method, path, t0, t1, token in fake.timed:
        if token and t0 >= since and path.startswith("/v4/"):
            span = spans.setdefault(token, [t0, t1])
            span[0], span[1] = min(span[0], t0), max(span[1], t1)
    return sorted(tuple(s) for s in spans.values())


def _overlaps(windows) -> int:
    return sum(1 for a, b in zip(windows, windows[1:]) if b[0] < a[1])


def test_two_sessions_and_the_background_never_sync_at_once(db, fake):
    key = connect(db, fake)
    fake.delay = 0.15                               # every API answer takes a while
    creds = fake.service_account_info()
    # The measure works: reads that nobody keeps apart do overlap.
    since = time.monotonic()
    bare = [threading.Thread(target=grid_from_google_sheet, args=(creds, fake.url(key), TAB)) for _ in range(3)]
    [t.start() for t in bare]
    [t.join() for t in bare]
    assert _overlaps(_windows(fake, since)) >= 1

    since = time.monotonic()
    live.save_live_settings(db, enabled=True, seconds=1)
    worker = live.ensure_worker(db, credentials=creds, client_options=FAST)
    results, errors = [], []
    go = threading.Barrier(5)

    def session(i: int) -> None:
        go.wait()
        try:
            results.append(live.sync_connected_now(db, creds, f"organiser:Person {i}", wait=60, client_options=FAST))
        except Exception as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(5)]
    [t.start() for t in threads]
    [t.join(120) for t in threads]
    assert wait_for(lambda: worker.runs >= 2, 20)
    worker.stop(10)
    assert not errors and [r.status for r in results] == ["ok"] * 5
    windows = _windows(fake, since)
    assert len(windows) >= 7 and _overlaps(windows) == 0, windows
    assert fake.max_in_flight >= 2                  # (the bare reads above ran together)


def test_a_sync_in_another_process_is_waited_for_and_a_dead_ones_marker_is_taken_over(db, fake):
    connect(db, fake)
    creds = fake.service_account_info()
    now = datetime.now(timezone.utc)
    other = {"token": "another-process", "pid": os.getppid(), "host": PROCESS["host"], "who": "organiser:Sam Lee",
             "since": (now - timedelta(seconds=90)).isoformat(), "expires": (now + timedelta(minutes=5)).isoformat()}
    set_setting(db, MARKER, other)
    before, logged = reads(fake), db.scalar("SELECT count(*) FROM sync_log")
    with pytest.raises(SyncBusy) as e:
        live.sync_connected_now(db, creds, "organiser", wait=0.5)
    assert str(e.value).startswith("Sign-ups are being brought in right now (by Sam Lee, started a minute ago). "
                                   "Only one can run at a time, so nothing else was done.")
    assert reads(fake) == before and db.scalar("SELECT count(*) FROM sync_log") == logged
    # The background sync skips its turn too, quietly.
    worker = live.LiveSync(db, credentials=creds, client_options=FAST)
    live.save_live_settings(db, enabled=True, seconds=1)
    time.sleep(1.1)
    worker.tick()
    assert reads(fake) == before and worker.runs == 0

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    set_setting(db, MARKER, {**other, "pid": int(ended.stdout)})        # that process has ended
    assert live.sync_connected_now(db, creds, "organiser", wait=0.5, client_options=FAST).status == "ok"
    assert get_setting(db, MARKER) is None                               # released after the sync


def test_a_background_sync_that_needs_confirmation_changes_nothing_and_waits(db, fake):
    key = connect(db, fake)
    live.save_live_settings(db, enabled=True, seconds=60)
    now = [0.0]
    worker = live.LiveSync(db, credentials=fake.service_account_info(), client_options=FAST, clock=lambda: now[0])
    good = snapshot(db)
    fake.tab(key, TAB).rows = [HEADER] + people(70)                 # 30 of 100 gone: over the 10% share
    now[0] = worker.due_at(60)
    worker.tick()
    assert worker.outcomes[-1] == "confirm" and snapshot(db) == good
    pending = live.pending_confirmation(db)
    assert pending["counts"] == [0, 0, 30, 0] and pending["pool"] == 100
    assert "30 of the 100 people signed up (30%) would be marked as no longer in the sheet" in pending["message"]
    assert live.live_status(db).pending == pending
    logged = db.scalar("SELECT count(*) FROM sync_log")
    for _ in range(3):                             # the same sheet: not asked (nor logged) again
        now[0] = worker.due_at(60)
        worker.tick()
    assert worker.outcomes[-3:] == ["waiting"] * 3 and db.scalar("SELECT count(*) FROM sync_log") == logged
    assert snapshot(db) == good

    live.decline_pending(db, "organiser")         # "No": nothing changes, and the same sheet is left alone
    now[0] = worker.due_at(60)
    worker.tick()
    assert worker.outcomes[-1] == "waiting" and snapshot(db) == good and live.pending_confirmation(db) is None
    fake.tab(key, TAB).rows = [HEADER] + people(69)                 # the sheet changed: asked again
    now[0] = worker.due_at(60)
    worker.tick()
    assert live.pending_confirmation(db)["counts"] == [0, 0, 31, 0] and snapshot(db) == good

    result = live.confirm_pending(db, fake.service_account_info(), "organiser", client_options=FAST)
    assert result.status == "ok" and result.removed == 31
    assert signup_counts(db)["removed"] == 31 and live.pending_confirmation(db) is None


def test_a_confirmation_for_a_sheet_that_changed_since_applies_nothing(db, fake):
    key = connect(db, fake)
    fake.tab(key, TAB).rows = [HEADER] + people(70)
    assert live.sync_connected_now(db, fake.service_account_info(), "organiser", client_options=FAST).confirmation
    good = snapshot(db)
    fake.tab(key, TAB).rows = [HEADER] + people(10)                 # between the question and the answer
    result = live.confirm_pending(db, fake.service_account_info(), "organiser", client_options=FAST)
    assert result.confirmation is not None and snapshot(db) == good
    assert live.pending_confirmation(db)["counts"] == [0, 0, 90, 0]  # the new numbers are asked about


def test_bringing_in_a_file_stops_the_automatic_sync_from_the_sheet(db, fake):
    connect(db, fake)
    assert get_setting(db, LIVE_SOURCE)["kind"] == "google_sheet"
    sync_grid(db, grid_from_rows([HEADER] + people(100)), live.load_mapping(db), source_kind="csv",
              source_label="signups.csv")
    assert get_setting(db, LIVE_SOURCE) is None and live.connected_source(db) is None
    live.save_live_settings(db, enabled=True, seconds=1)
    worker = live.LiveSync(db, credentials=fake.service_account_info(), client_options=FAST)
    before = reads(fake)
    time.sleep(1.1)
    worker.tick()
    assert reads(fake) == before and worker.runs == 0


def test_the_thread_carries_on_after_an_unexpected_error_and_stops_when_the_database_closes(tmp_path, fake):
    from lib.store.db import open_database

    db = open_database(tmp_path / "closing.duckdb")
    connect(db, fake)
    live.save_live_settings(db, enabled=True, seconds=1)
    source = get_setting(db, LIVE_SOURCE)
    set_setting(db, LIVE_SOURCE, {**source, "spreadsheet": 12345})   # a damaged setting: not text
    worker = live.ensure_worker(db, credentials=fake.service_account_info(), client_options=FAST)
    assert wait_for(lambda: worker.runs >= 2, 15), (worker.runs, worker.outcomes)
    assert worker.alive() and worker.errors >= 1
    db.close()
    assert wait_for(lambda: not worker._thread.is_alive(), 15)
