"""The live sync on the pages (AppTest on the real app.py, the fake Google Sheets server on 127.0.0.1): the
quota board follows the sheet by itself; both pages say when the sign-ups were last synced and what went
wrong last, in plain words; a held automatic sync waits on the Sign-ups page; "Sync now" while another sync
runs waits a little, then says so."""

from __future__ import annotations

import csv
import threading
import time

import pytest

from lib.store.config import DEMO_DIR
from lib.recruitment.signups import live
from lib.recruitment.signups.slot import AUTO_ACTOR, sync_slot
from lib.recruitment.signups.sync import record_failed_sync
from tests.app_pages.helpers import assert_ok, goto, open_app, texts, visible
from tests.fakesheets import FakeSheets

BOARD = "pages/quota_board.py"
SIGNUPS = "pages/signups.py"
TAB = "Form responses 1"


@pytest.fixture
def fake(monkeypatch):
    with FakeSheets() as server:
        monkeypatch.setenv("KLEROTERION_SHEETS_API_BASE", server.base_url)
        yield server


def demo_rows() -> list[list[str]]:
    with open(DEMO_DIR / "signups.csv", newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def newcomer(rows, n=1) -> list[list[str]]:
    out = []
    for i in range(n):
        new = list(rows[1])
        new[0], new[1], new[2] = f"02/10/2026 09:0{i}:00", f"Ada Newcomer {i}", f"ada.newcomer{i}@example.org"
        out.append(new)
    return out


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def with_key(at, fake):
    at.secrets["gcp_service_account"] = fake.service_account_info()
    return at


def connect_through_the_page(fake, rows) -> tuple[object, str]:
    """An organiser brings in the fake sheet on the Sign-ups page: it is now connected."""
    key = fake.add_spreadsheet(tabs={TAB: rows})
    at = goto(with_key(open_app(), fake), SIGNUPS)
    [t for t in at.text_input if t.label.startswith("The sheet's web address")][0].input(fake.url(key))
    [t for t in at.text_input if t.label == "The tab's name"][0].input(TAB)
    [b for b in at.button if b.label == "Bring in sign-ups from the sheet"][0].click()
    at.run()
    assert_ok(at)
    return at, key


def db():
    from lib.resources import get_db

    return get_db()


def wait_for(condition, seconds=20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_new_row_in_the_sheet_shows_on_the_quota_board_without_anyone_pressing_sync(app_env, fake):
    organiser, key = connect_through_the_page(fake, demo_rows())
    assert "Done: 603 sign-ups read, nothing changed" in texts(organiser)
    live.save_live_settings(db(), enabled=True, seconds=1)
    volunteer = goto(with_key(open_app("volunteer"), fake), BOARD)
    assert metrics(volunteer)["Signed up"] == "603"
    assert "New sign-ups come in from the Google Sheet (tab “Form responses 1”) by themselves, every second." \
        in texts(volunteer)

    fake.tab(key, TAB).rows.append(newcomer(demo_rows())[0])          # somebody fills in the form
    assert wait_for(lambda: db().scalar("SELECT count(*) FROM people WHERE removed_sync IS NULL") == 604)
    volunteer.run()                                                    # the board's next look
    assert_ok(volunteer)
    assert metrics(volunteer)["Signed up"] == "604"
    assert "Last synced less than a minute ago." in texts(volunteer)
    # Nobody pressed anything: the sync that brought the newcomer in was the automatic one.
    assert db().query("SELECT actor, added FROM sync_log ORDER BY sync_id DESC LIMIT 1") == [(AUTO_ACTOR, 1)]


def _age_log(minutes_ok: float, minutes_failed: float | None = None, message: str = "") -> None:
    d = db()
    d.transaction(lambda cur: cur.execute(
        "UPDATE sync_log SET started_at = now() - to_seconds(?), finished_at = now() - to_seconds(?)",
        [minutes_ok * 60, minutes_ok * 60]))
    if minutes_failed is not None:
        sid = record_failed_sync(d, "google_sheet", "the sheet", message, actor=AUTO_ACTOR).sync_id
        d.transaction(lambda cur: cur.execute(
            "UPDATE sync_log SET started_at = now() - to_seconds(?), finished_at = now() - to_seconds(?) "
            "WHERE sync_id = ?", [minutes_failed * 60, minutes_failed * 60, sid]))


def test_last_synced_and_the_last_failure_in_plain_words_on_both_pages(app_env):
    board = goto(open_app("volunteer"), BOARD)
    _age_log(3)
    board.run()
    assert "Last synced 3 minutes ago." in texts(board)
    signups = goto(open_app(), SIGNUPS)
    assert "Last synced 3 minutes ago (on " in texts(signups)
    assert "These sign-ups are the demo's, so nothing is brought in by itself." in texts(signups)

    _age_log(150, 1.5, "Google Sheets had a problem on its side (error 503) several times in a row while "
                       "reading the sheet. This usually passes: try again in a few minutes.")
    board.run()
    shown = texts(board)
    assert "Last synced 2 hours ago." in shown
    assert ("The last try, a minute ago, did not work: Google Sheets had a problem on its side (error 503) several "
            "times in a row while reading the sheet. This usually passes: try again in a few minutes. The counts "
            "below are from 2 hours ago.") in shown
    signups.run()
    assert ("The last try, a minute ago, did not work: Google Sheets had a problem on its side (error 503)"
            in texts(signups))
    assert "The sign-ups from 2 hours ago are still here, unchanged." in texts(signups)
    assert metrics(signups)["Signed up"] == "603"


def test_a_held_automatic_sync_shows_its_numbers_and_waits_for_the_organiser(app_env, fake):
    rows = demo_rows()
    organiser, key = connect_through_the_page(fake, rows)
    fake.tab(key, TAB).rows = rows[:504]                 # 100 of 603 gone from the sheet: over the 10% share
    live.save_live_settings(db(), enabled=True, seconds=1)
    worker = live.ensure_worker(db(), credentials=fake.service_account_info())
    assert wait_for(lambda: live.pending_confirmation(db()) is not None), worker.outcomes
    worker.stop(10)
    assert db().scalar("SELECT count(*) FROM people WHERE removed_sync IS NULL") == 603      # nothing applied

    board = goto(open_app("volunteer"), BOARD)
    assert "waiting for an organiser to check them" in texts(board)
    assert metrics(board)["Signed up"] == "603"

    organiser.run()
    page = texts(organiser)
    assert "The latest sign-ups are waiting for you" in page
    assert "100 of the 603 people signed up (17%) would be marked as no longer in the sheet" in page
    yes = [b for b in organiser.button if b.label == "Yes, bring them in (100 no longer in the sheet)"]
    assert yes
    yes[0].click()
    organiser.run()
    assert_ok(organiser)
    assert "Done: 503 sign-ups read, 100 no longer in the sheet" in texts(organiser)
    assert any("Done: 503 sign-ups read" in visible(s.value) for s in organiser.success)   # told as a success
    assert metrics(organiser)["No longer in the sheet"] == "100"
    assert "The latest sign-ups are waiting for you" not in texts(organiser)


def test_no_keeps_the_sign_ups_and_is_not_asked_again_for_the_same_sheet(app_env, fake):
    rows = demo_rows()
    organiser, key = connect_through_the_page(fake, rows)
    fake.tab(key, TAB).rows = rows[:504]
    assert live.sync_connected_now(db(), fake.service_account_info(), "organiser").confirmation is not None
    organiser.run()
    [b for b in organiser.button if b.label == "No, keep the sign-ups as they are"][0].click()
    organiser.run()
    assert_ok(organiser)
    assert "Nothing was changed: the sign-ups are as they were." in [visible(i.value) for i in organiser.info]
    assert "The automatic sync asks again when the sheet changes." in texts(organiser)
    assert metrics(organiser)["Signed up"] == "603"


def test_sync_now_while_another_sync_runs_waits_then_says_so_plainly(app_env, fake, monkeypatch):
    rows = demo_rows()
    organiser, key = connect_through_the_page(fake, rows)
    fake.tab(key, TAB).rows = rows + newcomer(rows)
    monkeypatch.setattr(live, "MANUAL_WAIT_SECONDS", 1.0)
    held, release = threading.Event(), threading.Event()

    def background() -> None:                             # a long automatic sync, holding the slot
        with sync_slot(db(), AUTO_ACTOR):
            held.set()
            release.wait(30)

    t = threading.Thread(target=background)
    t.start()
    assert held.wait(10)
    logged = db().scalar("SELECT count(*) FROM sync_log")
    try:
        [b for b in organiser.button if b.label == "Sync now"][0].click()
        organiser.run()
        assert_ok(organiser)
        errors = visible(" ".join(e.value for e in organiser.error))
        assert ("Sign-ups are being brought in right now (by the automatic sync, started less than a minute ago). "
                "Only one can run at a time, so nothing else was done.") in errors
        assert db().scalar("SELECT count(*) FROM sync_log") == logged and metrics(organiser)["Signed up"] == "603"
        # The form's button too.
        [b for b in organiser.button if b.label == "Bring in sign-ups from the sheet"][0].click()
        organiser.run()
        assert "Sign-ups are being brought in right now" in visible(" ".join(e.value for e in organiser.error))
    finally:
        release.set()
        t.join(10)
    # A sync that ends within the wait is waited for.
    monkeypatch.setattr(live, "MANUAL_WAIT_SECONDS", 20.0)
    held.clear()
    release.clear()
    t = threading.Thread(target=background)
    t.start()
    assert held.wait(10)
    threading.Timer(1.0, release.set).start()
    [b for b in organiser.button if b.label == "Sync now"][0].click()
    organiser.run()
    t.join(10)
    assert_ok(organiser)
    assert "Done: 604 sign-ups read, 1 new" in texts(organiser)
    assert any("Done: 604 sign-ups read, 1 new" in visible(s.value) for s in organiser.success)


def test_the_organiser_chooses_how_often_or_switches_it_off(app_env):
    at = goto(open_app(), SIGNUPS)
    [n for n in at.number_input if n.label == "How often, in minutes"][0].set_value(2)
    [b for b in at.button if b.label == "Save" and "live" in str(b.form_id)][0].click()
    at.run()
    assert_ok(at)
    assert "Saved: new sign-ups are brought in by themselves, every 2 minutes." in texts(at)
    assert live.live_settings(db()) == live.LiveSettings(True, 120.0)
    [t for t in at.toggle if t.label == "Bring in new sign-ups by themselves"][0].set_value(False)
    [b for b in at.button if b.label == "Save" and "live" in str(b.form_id)][0].click()
    at.run()
    assert "Saved: new sign-ups are brought in only when somebody presses a button." in texts(at)
    assert not live.live_settings(db()).enabled


def test_volunteers_see_the_last_failure_without_the_sheets_address(app_env):
    link = "https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789/edit#gid=0"
    _age_log(10, 1, f"The spreadsheet {link} is not shared with Kleroterion. Check the address, and share the sheet "
                    "with kleroterion@example.iam.gserviceaccount.com.")
    volunteer = goto(open_app("volunteer"), BOARD)
    shown = texts(volunteer)
    assert ("The last try, a minute ago, did not work: The spreadsheet (the sheet's address) is not shared with "
            "Kleroterion.") in shown
    assert "docs.google.com" not in shown and "1AbCdEfGhIjKlMnOpQrStUvWxYz" not in shown
    organiser = goto(open_app(), BOARD)
    assert link in texts(organiser)


def test_sync_now_that_needs_a_confirmation_is_told_as_a_warning(app_env, fake):
    rows = demo_rows()
    organiser, key = connect_through_the_page(fake, rows)
    fake.tab(key, TAB).rows = rows[:504]                 # 100 of 603 gone: over the share, so it waits
    [b for b in organiser.button if b.label == "Sync now"][0].click()
    organiser.run()
    assert_ok(organiser)
    assert "Nothing has been changed yet: please confirm below." in [visible(w.value) for w in organiser.warning]
    assert not any("Done:" in visible(s.value) for s in organiser.success)
    assert metrics(organiser)["Signed up"] == "603"


def test_yes_to_numbers_the_sheet_no_longer_has_changes_nothing_and_warns(app_env, fake):
    rows = demo_rows()
    organiser, key = connect_through_the_page(fake, rows)
    fake.tab(key, TAB).rows = rows[:504]
    assert live.sync_connected_now(db(), fake.service_account_info(), "organiser").confirmation is not None
    organiser.run()
    fake.tab(key, TAB).rows = rows[:404]                 # the sheet changed again before the organiser said yes
    [b for b in organiser.button if b.label.startswith("Yes, bring them in")][0].click()
    organiser.run()
    assert_ok(organiser)
    warned = [visible(w.value) for w in organiser.warning]
    assert ("The sheet changed since these numbers were found, so nothing was changed. Please look at the new "
            "numbers.") in warned
    assert metrics(organiser)["Signed up"] == "603"


def test_no_while_the_database_is_busy_says_so_plainly_and_the_question_stays(app_env, fake, monkeypatch):
    from lib.store.db import DatabaseBusy

    rows = demo_rows()
    organiser, key = connect_through_the_page(fake, rows)
    fake.tab(key, TAB).rows = rows[:504]
    assert live.sync_connected_now(db(), fake.service_account_info(), "organiser").confirmation is not None
    organiser.run()
    busy = "The database is busy with another change. Nothing was saved: try again in a moment."

    def decline(*_a, **_k):
        raise DatabaseBusy(busy)

    monkeypatch.setattr(live, "decline_pending", decline)
    [b for b in organiser.button if b.label == "No, keep the sign-ups as they are"][0].click()
    organiser.run()
    assert_ok(organiser)                                   # plain words, not "Something went wrong"
    assert busy in [visible(e.value) for e in organiser.error]
    assert "Nothing was changed: the sign-ups are as they were." not in texts(organiser)
    assert "The latest sign-ups are waiting for you" in texts(organiser)
    assert live.pending_confirmation(db()) is not None
    assert metrics(organiser)["Signed up"] == "603"        # the refusal does not cut the page short
    assert "Preview" in texts(organiser)
