"""A sync that cannot empty the pool by mistake: confirmation with the numbers, refusals that retire nobody."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.recruitment.categories import load_fields, parse_fields_csv, save_fields
from lib.store.settings import set_setting
from lib.recruitment.signups.grid import grid_from_csv_bytes, grid_from_rows
from lib.recruitment.signups.mapping import suggest_mapping
from lib.recruitment.signups.store import signup_counts
from lib.recruitment.signups.sync import ConfirmationNeeded, SyncError, sync_from, sync_grid

FIELDS_CSV = """field,field_label,question,value,value_label,aliases
gender,Gender,Gender,Woman,Woman,female|f
gender,Gender,Gender,Man,Man,male|m
age,Age band,Age,16-29,16 to 29,
age,Age band,Age,30+,30 and over,
"""
HEADER = ["Timestamp", "Name", "Email", "Gender", "Age"]


def people(n: int, start: int = 0) -> list[list[str]]:
    return [[f"ts{i}", f"Person {i}", f"p{i}@example.org", "Woman" if i % 2 else "Man", "30+" if i % 3 else "16-29"]
            for i in range(start, start + n)]


@pytest.fixture
def pool(db):
    """100 people synced from a sheet."""
    save_fields(db, parse_fields_csv(FIELDS_CSV))
    m = suggest_mapping(HEADER, load_fields(db))
    r = sync_grid(db, grid_from_rows([HEADER] + people(100)), m, source_kind="google_sheet", source_label="sheet")
    assert r.added == 100
    return db, m


def tables(db) -> dict:
    return {t: db.query(f"SELECT * FROM {t} ORDER BY ALL")
            for t in ("people", "person_values", "contacts", "problems", "sync_changes")}


def test_retiring_more_than_a_tenth_asks_first_with_the_numbers_and_changes_nothing(pool):
    db, m = pool
    before = tables(db)
    grid = grid_from_rows([HEADER] + people(85))            # 15 of 100 would be retired
    with pytest.raises(ConfirmationNeeded) as e:
        sync_grid(db, grid, m, source_kind="google_sheet", source_label="sheet")
    assert e.value.removed == 15 and e.value.pool == 100
    assert "15 of the 100 people signed up (15%) would be marked as no longer in the sheet" in str(e.value)
    assert tables(db) == before                                 # nothing changed
    last = db.query("SELECT status, message FROM sync_log ORDER BY sync_id DESC LIMIT 1")[0]
    assert last[0] == "failed" and "15 of the 100" in last[1]   # the held sync is in the log

    # Confirmed with the numbers the organiser saw: applied.
    r = sync_grid(db, grid, m, source_kind="google_sheet", source_label="sheet", confirmed=e.value.counts)
    assert r.status == "ok" and r.removed == 15
    assert signup_counts(db)["removed"] == 15


def test_a_confirmation_for_other_numbers_does_not_apply(pool):
    db, m = pool
    with pytest.raises(ConfirmationNeeded) as e:
        sync_grid(db, grid_from_rows([HEADER] + people(85)), m, source_kind="t", source_label="t")
    with pytest.raises(ConfirmationNeeded) as e2:        # the sheet changed meanwhile: 50 would go now
        sync_grid(db, grid_from_rows([HEADER] + people(50)), m, source_kind="t", source_label="t",
                  confirmed=e.value.counts)
    assert e2.value.removed == 50
    assert signup_counts(db)["removed"] == 0


def test_ten_percent_or_less_goes_ahead_and_the_share_is_a_setting(pool):
    db, m = pool
    assert sync_grid(db, grid_from_rows([HEADER] + people(90)), m, source_kind="t", source_label="t").removed == 10
    set_setting(db, "retire_confirm_share", 0.05)
    with pytest.raises(ConfirmationNeeded):
        sync_grid(db, grid_from_rows([HEADER] + people(80)), m, source_kind="t", source_label="t")


def test_header_only_sheet_is_refused_and_nobody_is_retired(pool):
    # Today a header-only sheet marked every sign-up as not eligible.
    db, m = pool
    before = tables(db)
    for rows in ([HEADER], [HEADER, [""] * 5, ["  "] * 5]):
        r = sync_from(db, lambda: grid_from_rows(rows), m, source_kind="google_sheet", source_label="sheet")
        assert r.status == "failed"
        assert "no sign-ups under them" in r.message and "Nothing was changed" in r.message
    assert tables(db) == before
    assert signup_counts(db) == {"current": 100, "eligible": 100, "blocked": 0, "removed": 0}


def test_headers_matching_none_of_the_chosen_columns_are_refused_naming_them(pool):
    db, m = pool
    other = grid_from_rows([["When", "Who", "Mail", "Sex", "Age group"]] + [[f"t{i}", "x", "y", "Woman", "30+"]
                                                                          for i in range(8)])
    with pytest.raises(SyncError) as e:
        sync_grid(db, other, m, source_kind="csv", source_label="other.csv")
    msg = str(e.value)
    assert "None of the columns chosen for this assembly are in this file" in msg
    for col in ("“Gender”", "“Age”", "“Email”", "“Timestamp”"):
        assert col in msg
    assert signup_counts(db)["removed"] == 0


def test_while_a_draw_is_being_prepared_any_change_asks_first(demo_db):
    from lib import draws
    from lib.demo.load import demo_signups_grid
    from lib.recruitment.signups.mapping import load_mapping

    db = demo_db
    draws.freeze_targets(db, actor="alex")
    grid = demo_signups_grid()
    rows = [grid.headers] + [list(r) for r in zip(*[grid.column_values(h) for h in grid.headers])]
    rows[5][1] = "Someone Else"                               # one change only
    g2 = grid_from_rows(rows)
    before = tables(db)
    with pytest.raises(ConfirmationNeeded) as e:
        sync_grid(db, g2, load_mapping(db), source_kind="csv", source_label="x")
    assert "targets are frozen for a draw" in str(e.value) and "1 changed" in str(e.value)
    assert tables(db) == before
    # Nothing changed at all: no question.
    assert sync_grid(db, grid, load_mapping(db), source_kind="csv", source_label="x").status == "ok"
    before = tables(db)
    rec = draws.compute_draw(db, actor="alex", M=100, legacy_seconds=0, time_limit=10)
    with pytest.raises(ConfirmationNeeded, match="a draw has been computed and is not revealed yet"):
        sync_grid(db, g2, load_mapping(db), source_kind="csv", source_label="x")
    draws.commit_draw(db, rec.draw_id, actor="alex")
    with pytest.raises(ConfirmationNeeded, match="commitment has been published"):
        sync_grid(db, g2, load_mapping(db), source_kind="csv", source_label="x")
    assert tables(db) == before
    draws.reveal_draw(db, rec.draw_id, "5", actor="alex")
    # Once the panel is drawn, a small change goes ahead (replacements draw from the sign-ups as they are).
    assert sync_grid(db, g2, load_mapping(db), source_kind="csv", source_label="x").changed == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.binary(max_size=600), st.lists(st.sampled_from(["Woman", "Man", "f", "", "x"]), max_size=30))
def test_arbitrary_files_never_half_apply(pool, junk, genders):
    db, m = pool
    before = tables(db)
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER] + [[f"ts{i}", "n", f"p{i}@example.org", g, "30+"]
                                          for i, g in enumerate(genders)])
    for data in (junk, buf.getvalue().encode() + junk, buf.getvalue().encode()):
        try:
            r = sync_from(db, lambda: grid_from_csv_bytes(data), m, source_kind="csv", source_label="x")
        except ConfirmationNeeded:
            r = None
        if r is None or r.status == "failed":
            assert tables(db) == before
        else:
            # Applied completely: every current person has their answers and contacts.
            n = db.scalar("SELECT count(*) FROM people WHERE removed_sync IS NULL")
            assert n == r.rows_read
            assert db.scalar("SELECT count(DISTINCT person_id) FROM person_values") >= n
            before = tables(db)
