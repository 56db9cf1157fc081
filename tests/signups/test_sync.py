"""Sync of sign-ups into the store: validation, precise problems, and nothing ever lost."""

from __future__ import annotations

import pytest

from lib.recruitment.categories import parse_fields_csv, save_fields
from lib.recruitment.signups.grid import grid_from_rows
from lib.recruitment.signups.mapping import Mapping, suggest_mapping
from lib.recruitment.signups.store import pool_frame, problem_list, signup_counts
from lib.recruitment.signups.sync import SyncError, sync_from, sync_grid

FIELDS_CSV = """field,field_label,question,value,value_label,aliases
gender,Gender,Gender,Woman,Woman,female|f
gender,Gender,Gender,Man,Man,male|m
gender,Gender,Gender,Non-binary,Non-binary,nb|other
age,Age band,Age,16-29,16 to 29,
age,Age band,Age,30-59,30 to 59,
age,Age band,Age,60+,60 and over,over 60
"""
HEADER = ["Timestamp", "Name", "Email", "Phone", "Address", "Postcode", "Gender", "Age"]


def row(ts, name, email, phone, gender, age, address="", postcode=""):
    return [ts, name, email, phone, address, postcode, gender, age]


@pytest.fixture
def fdb(db):
    save_fields(db, parse_fields_csv(FIELDS_CSV))
    return db


def mapping(fields_db) -> Mapping:
    from lib.recruitment.categories import load_fields

    return suggest_mapping(HEADER, load_fields(fields_db))


def do_sync(db, rows, header=HEADER, confirmed=None):
    grid = grid_from_rows([header] + rows)
    return sync_grid(db, grid, mapping(db), source_kind="test", source_label="test sheet", confirmed=confirmed)


BASE = [
    row("01/09/2026 10:00:00", "Zoë Ó Briain", "zoe@example.org", "07700 900001", "Woman", "16-29",
        "1 Mill Lane", "RV1 1AA"),
    row("01/09/2026 10:05:00", "Nguyễn Thị Minh Khai", "minh@example.org", "07700 900002", "female", "30 to 59"),
    row("01/09/2026 10:10:00", "Sam Smith", "sam@example.org", "07700 900003", " MALE ", "60 and over"),
]


def test_suggested_mapping_finds_every_column(fdb):
    m = mapping(fdb)
    assert m.columns == {"id": "Timestamp", "name": "Name", "email": "Email", "phone": "Phone",
                         "address": "Address", "postcode": "Postcode", "field:gender": "Gender",
                         "field:age": "Age"}


def test_first_sync_adds_everyone_and_normalises_spellings(fdb):
    r = do_sync(fdb, BASE)
    assert (r.status, r.rows_read, r.added, r.problems) == ("ok", 3, 3, 0)
    pool = pool_frame(fdb)
    assert sorted(pool["gender"]) == ["Man", "Woman", "Woman"]
    assert sorted(pool["age"]) == ["16-29", "30-59", "60+"]


def test_resync_of_the_same_sheet_changes_nothing(fdb):
    do_sync(fdb, BASE)
    before = fdb.query("SELECT * FROM people ORDER BY person_id")
    r = do_sync(fdb, BASE)
    assert (r.added, r.changed, r.removed, r.unchanged) == (0, 0, 0, 3)
    after = fdb.query("SELECT * FROM people ORDER BY person_id")
    assert before == after
    assert fdb.scalar("SELECT count(*) FROM sync_log WHERE status = 'ok'") == 2


def test_changed_removed_and_restored_rows_are_recorded(fdb):
    do_sync(fdb, BASE)
    pid_sam = fdb.scalar("SELECT person_id FROM contacts WHERE name = 'Sam Smith'")
    changed = [BASE[0], row("01/09/2026 10:05:00", "Nguyễn Thị Minh Khai", "minh@example.org", "07700 900002",
                            "Woman", "60+")]
    r = do_sync(fdb, changed, confirmed=True)      # 1 of 3 leaving is more than a tenth: confirmed here
    assert (r.changed, r.removed, r.added) == (1, 1, 0)
    # Sam left the sheet: kept in the store (past draws keep their record), not eligible, answers kept.
    assert fdb.scalar("SELECT removed_sync IS NOT NULL FROM people WHERE person_id = ?", [pid_sam])
    assert fdb.scalar("SELECT count(*) FROM person_values WHERE person_id = ?", [pid_sam]) == 2
    assert signup_counts(fdb) == {"current": 2, "eligible": 2, "blocked": 0, "removed": 1}
    kinds = dict(fdb.query("SELECT change, count(*) FROM sync_changes WHERE sync_id = ? GROUP BY 1", [r.sync_id]))
    assert kinds == {"changed": 1, "removed": 1}
    r3 = do_sync(fdb, BASE)
    assert r3.restored == 1
    assert fdb.scalar("SELECT removed_sync FROM people WHERE person_id = ?", [pid_sam]) is None
    # The same person keeps the same pseudonym throughout.
    assert fdb.scalar("SELECT person_id FROM contacts WHERE name = 'Sam Smith'") == pid_sam


def test_problems_name_row_column_value_and_what_to_do(fdb):
    rows = BASE + [
        row("02/09/2026 09:00:00", "Ann Other", "ann@example.org", "07700 900004", "Woman", "25 to 35"),
        row("02/09/2026 09:01:00", "Bo Empty", "bo@example.org", "07700 900005", "", "60+"),
        row("02/09/2026 09:02:00", "Zoe again", "ZOE@example.org ", "07700 900099", "Woman", "16-29"),
        row("02/09/2026 09:03:00", "Sam twin", "other@example.org", "07700-900-003", "Man", "60+"),
        row("02/09/2026 09:04:00", "Housemate", "house@example.org", "07700 900006", "Man", "30-59",
            "1 mill lane", "rv1 1aa"),
    ]
    r = do_sync(fdb, rows)
    assert r.rows_read == 8 and r.added == 8
    problems = problem_list(fdb)
    msgs = "\n".join(problems["What to do"])
    # row numbers are sheet rows: header is row 1, so the 4th data row is row 5
    assert "Row 5, column “Age”: “25 to 35” is not one of the expected answers for age band (16-29, 30-59, 60+)" in msgs
    assert "Row 6, column “Gender”: the answer is empty" in msgs
    assert "Row 7, column “Email”: the same email address as row 2" in msgs
    # Sam's twin shares the landline under another name: a check, like a shared address (issue 15)
    assert "Row 8, column “Phone”: the same phone number as row 4, under another name" in msgs
    assert "Row 9, column “Address”: the same address as row 2" in msgs
    blocking = set(problems.loc[problems["Importance"] == "Must fix", "Row"])
    assert blocking == {5, 6, 7}
    # Problem rows are kept, just not eligible; a shared address or landline is only a warning.
    assert signup_counts(fdb) == {"current": 8, "eligible": 5, "blocked": 3, "removed": 0}
    # Contact details never appear in the problem list.
    assert "zoe@example.org" not in msgs.lower() and "900099" not in msgs


def test_a_sign_up_nobody_can_contact_must_be_fixed_one_reachable_by_post_is_a_check(fdb):
    rows = BASE + [
        row("02/09/2026 09:00:00", "Noor Nocontact", "", "", "Woman", "30-59"),
        row("02/09/2026 09:01:00", "Pat Post", " ", "  ", "Man", "60+", "5 High Street", "RV2 2BB"),
    ]
    do_sync(fdb, rows)
    problems = problem_list(fdb).set_index("Row")
    assert problems.loc[5, "Importance"] == "Must fix"
    assert ("Row 5: no email address, phone number or postal address, so nobody could tell this person they "
            "were drawn") in problems.loc[5, "What to do"]
    assert problems.loc[6, "Importance"] == "Check"
    assert "Row 6: no email address or phone number: if drawn, they can only be told by post" in \
        problems.loc[6, "What to do"]
    assert signup_counts(fdb) == {"current": 5, "eligible": 4, "blocked": 1, "removed": 0}
    assert "Noor" not in "".join(problems["What to do"]) and "High Street" not in "".join(problems["What to do"])


def test_a_shared_phone_is_a_check_like_a_shared_address_the_same_person_twice_must_be_fixed(fdb):
    rows = BASE + [
        row("02/09/2026 09:00:00", "Alex Smith", "alex@example.org", "07700 900003", "Woman", "60+"),
        row("02/09/2026 09:01:00", "sam  SMITH", "sam.s@example.org", "(07700) 900-003", "Man", "60+"),
        row("02/09/2026 09:02:00", "", "nobody@example.org", "07700 900002", "Man", "30-59"),
    ]
    do_sync(fdb, rows)
    problems = problem_list(fdb).set_index("Row")
    # Sam's partner on the same landline: both kept, worth a check
    assert problems.loc[5, "Importance"] == "Check"
    assert "Row 5, column “Phone”: the same phone number as row 4, under another name" in problems.loc[5, "What to do"]
    assert "People who live together often share a landline and an address" in problems.loc[5, "What to do"]
    # the same name (spelt a little differently) and the same phone: the same person twice
    assert problems.loc[6, "Importance"] == "Must fix"
    assert "Row 6, column “Phone”: the same phone number and name as row 4" in problems.loc[6, "What to do"]
    # no name to tell them apart: treated as the same person, as before
    assert problems.loc[7, "Importance"] == "Must fix"
    assert signup_counts(fdb) == {"current": 6, "eligible": 4, "blocked": 2, "removed": 0}


def test_fixing_a_problem_in_the_sheet_makes_the_person_eligible(fdb):
    bad = BASE + [row("02/09/2026 09:00:00", "Ann Other", "ann@example.org", "07700 900004", "Woman", "25 to 35")]
    do_sync(fdb, bad)
    assert signup_counts(fdb)["blocked"] == 1
    fixed = BASE + [row("02/09/2026 09:00:00", "Ann Other", "ann@example.org", "07700 900004", "Woman", "30-59")]
    r = do_sync(fdb, fixed)
    assert r.changed == 1 and r.problems == 0
    assert signup_counts(fdb) == {"current": 4, "eligible": 4, "blocked": 0, "removed": 0}


def test_leading_zeros_and_unicode_are_kept_exactly(fdb):
    do_sync(fdb, BASE)
    rows = fdb.query("SELECT name, phone, postcode FROM contacts ORDER BY name")
    assert ("Nguyễn Thị Minh Khai", "07700 900002", "") in rows
    assert ("Zoë Ó Briain", "07700 900001", "RV1 1AA") in rows


def test_ragged_rows_and_blank_rows(fdb):
    rows = [["01/09/2026 10:00:00", "Short Row", "s@example.org", "", "", "", "Man", "60+"],
            ["01/09/2026 10:01:00", "Very short"],            # ragged: no answers at all
            [""] * 8, []]                                      # blank lines
    r = do_sync(fdb, rows)
    assert (r.rows_read, r.blank_rows) == (2, 2)
    msgs = "\n".join(problem_list(fdb)["What to do"])
    assert "Row 3, column “Gender”: the answer is empty" in msgs
    assert "Row 3, column “Age”: the answer is empty" in msgs


def test_a_missing_column_fails_the_sync_and_keeps_the_last_good_data(fdb):
    do_sync(fdb, BASE)
    before = fdb.query("SELECT * FROM people ORDER BY person_id")
    header = [h for h in HEADER if h != "Age"]
    rows = [[c for i, c in enumerate(r) if HEADER[i] != "Age"] for r in BASE]
    with pytest.raises(SyncError) as e:
        do_sync(fdb, rows, header=header)
    assert "The column “Age” (used for Age band) is not in the sheet any more" in str(e.value)
    assert "nothing was changed" in str(e.value)
    assert fdb.query("SELECT * FROM people ORDER BY person_id") == before
    assert fdb.query("SELECT status FROM sync_log ORDER BY sync_id") == [("ok",), ("failed",)]


def test_a_failed_fetch_is_logged_and_changes_nothing(fdb):
    from lib.errors import UserError

    do_sync(fdb, BASE)

    def fetch():
        raise UserError("Could not reach Google Sheets: check the internet connection.")

    r = sync_from(fdb, fetch, mapping(fdb), source_kind="google_sheet", source_label="x")
    assert r.status == "failed" and "internet connection" in r.message
    assert signup_counts(fdb)["current"] == 3


def test_rows_without_an_id_column_are_recognised_by_email(fdb):
    m = Mapping({k: v for k, v in mapping(fdb).columns.items() if k != "id"})
    g = grid_from_rows([HEADER] + BASE)
    sync_grid(fdb, g, m, source_kind="t", source_label="t")
    ids_before = dict(fdb.query("SELECT name, person_id FROM contacts"))
    # Same people, rows in another order and an unmapped column edited: still the same people.
    shuffled = [list(r) for r in reversed(BASE)]
    for r in shuffled:
        r[0] = "later"
    res = sync_grid(fdb, grid_from_rows([HEADER] + shuffled), m, source_kind="t", source_label="t")
    assert (res.added, res.removed, res.changed, res.unchanged) == (0, 0, 0, 3)
    assert dict(fdb.query("SELECT name, person_id FROM contacts")) == ids_before
    assert fdb.scalar("SELECT row_number FROM people p JOIN contacts c USING (person_id) "
                      "WHERE c.name = 'Sam Smith'") == 2   # moved from row 4 to row 2


def test_household_key_is_a_salted_hash_not_the_address(fdb, tmp_path):
    import hashlib

    from lib.store.db import open_database

    do_sync(fdb, BASE)
    key = fdb.scalar("SELECT household_key FROM people WHERE household_key IS NOT NULL")
    assert key and "mill" not in key.lower() and len(key) == 16
    # not a plain hash of the address, which anyone could recompute from a list of addresses
    normalised = "1milllane|rv11aa"
    assert key != hashlib.sha256(normalised.encode()).hexdigest()[:16]
    salt = fdb.scalar("SELECT value FROM settings WHERE key = 'household_salt'")
    assert key == hashlib.sha256((salt.strip('"') + normalised).encode()).hexdigest()[:16]
    # another assembly (another salt) gets another key for the same address
    other = open_database(tmp_path / "other.duckdb")
    try:
        save_fields(other, parse_fields_csv(FIELDS_CSV))
        do_sync(other, BASE)
        assert other.scalar("SELECT household_key FROM people WHERE household_key IS NOT NULL") != key
    finally:
        other.close()


def test_no_fields_configured_gives_a_clear_error(db):
    with pytest.raises(SyncError, match="No stratification fields"):
        sync_grid(db, grid_from_rows([HEADER] + BASE), Mapping({"field:x": "Age"}), source_kind="t",
                  source_label="t")


def test_the_demo_assembly_loads_with_its_known_problems(demo_db):
    counts = signup_counts(demo_db)
    assert counts == {"current": 603, "eligible": 596, "blocked": 7, "removed": 0}
    kinds = dict(demo_db.query("SELECT kind, count(*) FROM problems GROUP BY 1"))
    assert kinds["duplicate_email"] == 3 and kinds["unknown"] == 2 and kinds["empty"] == 2
    assert kinds["shared_address"] > 0
