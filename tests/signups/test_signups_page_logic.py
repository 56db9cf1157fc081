"""What the Sign-ups page shows and how bringing sign-ups in ends, without the page: lib/recruitment/signups/
overview.py (the words) and bring_in.py (every ending of a try as one Outcome)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from lib.errors import UserError
from lib.plaintext import md
from lib.recruitment.categories import load_fields, parse_fields_csv, save_fields
from lib.recruitment.signups import bring_in, overview
from lib.recruitment.signups.grid import grid_from_rows
from lib.recruitment.signups.live import LiveSettings, LiveStatus
from lib.recruitment.signups.mapping import Mapping, load_mapping, save_mapping, suggest_mapping
from lib.recruitment.signups.slot import sync_slot
from lib.recruitment.signups.store import PREVIEW_PAGE, last_sync, signup_counts
from tests.signups.test_sync_safety import FIELDS_CSV, HEADER, people


def status(**kw) -> LiveStatus:
    base = dict(source=None, settings=LiveSettings(enabled=True, seconds=300), last_ok_seconds=200.0,
                last_ok_kind="google_sheet", failure=None, failure_seconds=None, pending=None, declined=None,
                running=None, next_seconds=None, failures_in_a_row=0)
    base.update(kw)
    return LiveStatus(**base)


GOOD = {"started_at": datetime(2026, 3, 5, 9, 7), "message": "3 new sign-ups *today*", "status": "ok"}


# --- the banner -----------------------------------------------------------------------------------


def test_the_banner_before_anything_was_brought_in():
    assert overview.banner(status(last_ok_seconds=None), None, None) == [
        ("info", "No sign-ups have been brought in yet. Choose where they come from below.")]


def test_the_banner_after_a_good_sync_shows_the_sync_message_as_plain_text():
    [(kind, text)] = overview.banner(status(), GOOD, GOOD)
    assert kind == "success" and text.startswith("Last synced 3 minutes ago (on 05 Mar 2026 at 09:07): 3 new")
    assert "*today*" not in text                                     # the message is plain text


def test_after_a_failure_the_banner_says_so_and_that_the_old_sign_ups_are_kept():
    failed = {"started_at": GOOD["started_at"], "status": "failed", "message": "x"}
    notices = overview.banner(status(failure="The sheet was not found.", failure_seconds=30,
                                     running={"who": "Automatic sync"}), failed, GOOD)
    assert [k for k, _ in notices] == ["info", "running", "error"]
    assert notices[2][1].endswith("The sign-ups from 3 minutes ago are still here, unchanged.")
    held = overview.banner(status(pending={"message": "m"}, declined={"declined": True}), failed, GOOD)
    assert [k for k, _ in held] == ["info", "pending", "caption"]    # a held sync replaces the error


def test_what_the_automatic_sync_does_in_one_line():
    src = {"kind": "published_csv", "url": "https://example.org/x.csv"}
    line = overview.live_line(status(source=src, failures_in_a_row=2, next_seconds=130))
    assert "by themselves, every 5 minutes." in line and "waits longer each time" in line
    assert line.endswith("Next look in about 2 minutes.")
    off = overview.live_line(status(source=src, settings=LiveSettings(enabled=False, seconds=300)))
    assert "is switched off" in off
    assert "are the demo's" in overview.live_line(status(last_ok_kind="demo"))
    assert "came from a file" in overview.live_line(status(last_ok_kind="csv"))
    assert overview.live_line(status(last_ok_kind=None)) is None


def test_times_in_words():
    assert overview.in_words(59) == "in less than a minute"
    assert overview.in_words(80) == "in about a minute"
    assert overview.in_words(600) == "in about 10 minutes"
    now = datetime(2026, 3, 5, 12, 0, tzinfo=timezone.utc)
    assert overview.age_seconds((now - timedelta(minutes=5)).isoformat(), now) == 300
    assert overview.age_seconds("not a time", now) is None
    assert overview.age_seconds(None, now) is None
    assert overview.age_seconds("2026-03-05T11:00:00", now) is None   # no time zone: unknown, not a crash


def test_the_yes_buttons_say_what_will_happen():
    assert overview.confirm_label({"kind": "excel", "reason": "retire"}) == "Yes, bring in the file and retire them"
    assert overview.confirm_label({"kind": "google_sheet", "reason": "draw"}) == \
        "Yes, bring in the sheet with these changes"
    assert overview.pending_label({"reason": "retire", "counts": [1, 2, 15, 0]}) == \
        "Yes, bring them in (15 no longer in the sheet)"
    assert overview.pending_label({}) == "Yes, bring in these changes"


# --- problems and the preview ---------------------------------------------------------------------


def test_problems_are_counted_by_importance():
    problems = pd.DataFrame({"Importance": ["Must fix", "Check", "Must fix"], "What to do": ["a", "b", "c"]})
    assert overview.problems_summary(problems).startswith("2 must be fixed before those people can be in the draw; "
                                                          "1 are worth a check.")
    assert list(overview.must_fix_only(problems)["What to do"]) == ["a", "c"]


def test_the_preview_pages_and_a_page_that_no_longer_exists():
    assert overview.preview_page(0, None) == overview.PreviewPage(1, 1)
    at = overview.preview_page(2 * PREVIEW_PAGE + 1, 3)
    assert (at.pages, at.page, at.offset) == (3, 3, 2 * PREVIEW_PAGE)
    assert overview.preview_page(5, 3).page == 1                      # fewer pages after a search
    kind, text = overview.preview_caption(450, 200, 200, " P-00*4* ")
    assert kind == "caption" and text.startswith(f"Showing sign-ups 201–400 of 450 matching “{md('P-00*4*')}”.")
    assert "*4*" not in text                                          # the search is shown as plain text
    assert overview.preview_caption(3, 0, 3, "") == ("caption", "Showing all 3 sign-ups.")
    assert overview.preview_caption(0, 0, 0, "") == ("info", "No sign-ups yet.")
    assert overview.preview_caption(0, 0, 0, "42")[1].startswith("No sign-up matching “42”.")


def test_an_uploads_first_rows():
    grid = grid_from_rows([["Name", "Age"]] + [[f"P{i}", str(i)] for i in range(9)])
    rows = overview.first_rows(grid, 3)
    assert list(rows.columns) == ["Name", "Age"] and list(rows["Name"]) == ["P0", "P1", "P2"]


# --- bringing sign-ups in -------------------------------------------------------------------------


@pytest.fixture
def fields(db):
    save_fields(db, parse_fields_csv(FIELDS_CSV))
    return db


def test_the_first_sheet_waits_for_its_columns_then_comes_in(fields):
    db = fields
    grid = grid_from_rows([HEADER] + people(20))
    out = bring_in.fetch_and_sync(db, lambda: grid, kind="google_sheet", label="sheet", actor="organiser",
                                  source={"kind": "google_sheet"})
    assert out.notices == [("warning", bring_in.CHOOSE_COLUMNS)] and out.held is None
    assert out.pending == (grid, "google_sheet", "sheet", {"kind": "google_sheet"})
    assert signup_counts(db)["current"] == 0
    save_mapping(db, suggest_mapping(HEADER, load_fields(db)))
    done = bring_in.sync_with(db, grid, load_mapping(db), kind="google_sheet", label="sheet", actor="organiser")
    assert done.notices[0][0] == "success" and done.notices[0][1].startswith("Done: ")
    assert signup_counts(db)["current"] == 20


def test_retiring_many_is_held_and_only_a_yes_applies_it(fields):
    db = fields
    save_mapping(db, suggest_mapping(HEADER, load_fields(db)))
    bring_in.fetch_and_sync(db, lambda: grid_from_rows([HEADER] + people(100)), kind="csv", label="a.csv",
                            actor="organiser")
    out = bring_in.fetch_and_sync(db, lambda: grid_from_rows([HEADER] + people(50)), kind="csv", label="a.csv",
                                  actor="organiser")
    assert out.notices == [] and out.held is not None and out.held["reason"] == "retire"
    assert "50 of the 100" in out.held["message"] and signup_counts(db)["removed"] == 0
    no = bring_in.decline(db, out.held, actor="organiser")
    assert no.notices == [("info", bring_in.KEPT)] and signup_counts(db)["removed"] == 0
    assert last_sync(db)["message"] == bring_in.DECLINED
    yes = bring_in.confirm(db, out.held, actor="organiser")
    assert yes.notices[0][0] == "success" and signup_counts(db)["removed"] == 50


def test_a_source_that_cannot_be_read_is_logged_and_changes_nothing(fields):
    db = fields

    def broken():
        raise UserError("The sheet *Sign-ups* was not found.")

    out = bring_in.fetch_and_sync(db, broken, kind="google_sheet", label="sheet", actor="organiser")
    assert out.notices == [("error", md("The sheet *Sign-ups* was not found.") + " Your sign-ups from before are "
                                     "unchanged.")]
    assert "\\*Sign" in out.notices[0][1]                             # plain text, not italics
    assert last_sync(db)["status"] == "failed"


def test_a_bug_while_reading_is_logged_and_raised(fields):
    def bug():
        raise KeyError("oops")

    with pytest.raises(KeyError):
        bring_in.fetch_and_sync(fields, bug, kind="csv", label="a.csv", actor="organiser")
    assert last_sync(fields)["status"] == "failed"


def test_columns_that_are_all_missing_are_named_and_the_sheet_waits_for_new_choices(fields):
    db = fields
    save_mapping(db, Mapping({"gender": "Gender", "age": "Age", "email": "Email"}))
    grid = grid_from_rows([["Sex", "Age group"], ["Woman", "30+"]])
    out = bring_in.sync_or_ask_columns(db, grid, kind="csv", label="other.csv", actor="organiser")
    assert [k for k, _ in out.notices] == ["error", "warning"]
    assert "None of the columns chosen" in out.notices[0][1] and out.pending is not None


def test_a_busy_slot_is_said_plainly(fields, monkeypatch):
    import threading

    monkeypatch.setattr(bring_in, "MANUAL_WAIT_SECONDS", 0.1)
    holding, release = threading.Event(), threading.Event()

    def hold():
        with sync_slot(fields, "Sam"):
            holding.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    try:
        holding.wait(10)
        out = bring_in.fetch_and_sync(fields, lambda: grid_from_rows([HEADER] + people(2)), kind="csv",
                                      label="a.csv", actor="organiser")
    finally:
        release.set()
        t.join()
    [(kind, text)] = out.notices
    assert kind == "error" and "Only one can run at a time" in text
