"""Setting up a group's own assembly from an empty database (issue 11, item 1): the library side.

Every bad file gets a message naming the file, the row and the column, and changes nothing."""

from __future__ import annotations

import pytest

from lib.recruitment import assembly_setup as setup
from lib.recruitment.categories import Field, FieldsError, fields_csv_text, load_fields, parse_fields_csv, save_fields
from lib.errors import UserError
from lib.store.settings import get_setting

FIELDS = """field,field_label,question,value,value_label,aliases,blank
region,Région,Dans quelle région habitez-vous ?,IDF,Île-de-France,idf|Paris region|Ile de France,
region,Région,Dans quelle région habitez-vous ?,BZH,Bretagne,bzh|Breizh,
region,Région,Dans quelle région habitez-vous ?,Autre,Autre région,ailleurs,
gender,Gender,Gender,Woman,Woman,F|female|women,
gender,Gender,Gender,Man,Man,M|male|men,
gender,Gender,Gender,Prefer not to say,Prefer not to say,pnts,yes
age,Age band,Age,18-39,18 to 39,,
age,Age band,Age,40+,40 and over,over 40,
"""

QUOTAS = """feature,value,min,max
region,Île-de-France,2,3
region,Bretagne,1,2
region,Autre,1,2
gender,Woman,2,3
gender,Man,2,3
gender,Prefer not to say,0,1
age,18-39,2,3
age,40+,2,3
"""


def snapshot(db) -> dict:
    tables = [r[0] for r in db.query("SELECT table_name FROM information_schema.tables "
                                      "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1")]
    return {t: sorted(map(repr, db.query(f'SELECT * FROM "{t}"'))) for t in tables}


@pytest.fixture
def real(db):
    """An empty real database with its name, panel size and the three questions above."""
    setup.save_basics(db, "Assemblée de Northfield", 6, False, actor="organiser:Sam")
    setup.import_questions(db, FIELDS.encode(), "fields.csv", actor="organiser:Sam")
    return db


# --- the assembly ---------------------------------------------------------------------------------
def test_basics_are_saved_and_checked(db):
    setup.save_basics(db, "  Assemblée citoyenne de Lille  ", 40, True, actor="organiser:Sam")
    b = setup.load_basics(db)
    assert (b.name, b.panel_size, b.one_per_household) == ("Assemblée citoyenne de Lille", 40, True)
    assert get_setting(db, "one_per_household") is True
    before = snapshot(db)
    for name, k, words in [("", 40, "Give the assembly a name"), ("X", 0, "between 1 and 5,000"),
                           ("X", 2.5, "whole number"), ("X" * 200, 40, "keep it to 120")]:
        with pytest.raises(UserError, match=words):
            setup.save_basics(db, name, k, False, actor="organiser")
    assert snapshot(db) == before


def test_nothing_is_set_up_in_the_demo_database(demo_db):
    before = snapshot(demo_db)
    with pytest.raises(setup.DemoDatabase, match="KLEROTERION_DEMO=0"):
        setup.save_basics(demo_db, "Ours", 20, False, actor="organiser")
    with pytest.raises(setup.DemoDatabase):
        setup.import_questions(demo_db, FIELDS.encode(), "fields.csv", actor="organiser")
    assert snapshot(demo_db) == before
    assert not setup.needs_setup(demo_db)


# --- the questions, typed on the page ---------------------------------------------------------------
def test_a_question_typed_on_the_page_with_accents_aliases_and_a_blank_answer(db):
    f = setup.build_field("region", "Région", "Où habitez-vous ?",
                          "Île-de-France = IDF, Paris region\nBretagne = BZH\n\nAutre", True)
    assert f.values == ["Île-de-France", "Bretagne", "Autre", "Prefer not to say"]
    assert f.aliases["Île-de-France"] == ["IDF", "Paris region"]
    assert f.blank_value == "Prefer not to say"
    setup.save_questions(db, [f], actor="organiser")
    assert load_fields(db) == [f]


def test_renaming_an_answer_keeps_its_short_name_and_a_new_line_is_a_new_answer():
    old = Field("age", "Age", values=["18-39", "40+"], value_labels={"18-39": "18 to 39", "40+": "40 and over"},
                aliases={"18-39": [], "40+": []})
    f = setup.build_field("age", "Age band", "", "18 to 39 years\n40 and over = over 40\n16-17", False, old)
    assert f.values == ["18-39", "40+", "16-17"]
    assert f.value_labels["18-39"] == "18 to 39 years"
    # Reordered lines keep their answers.
    g = setup.build_field("age", "Age", "", "40 and over\n18 to 39", False, old)
    assert g.values == ["40+", "18-39"]


def test_questions_are_added_moved_renamed_and_removed(db):
    qs = []
    for label in ("Région", "Gender", "Age band"):
        q = setup.new_question(qs, label)
        qs.append(setup.build_field(q.key, q.label, "", "A\nB", False))
    assert [q.key for q in qs] == ["region", "gender", "age_band"]
    with pytest.raises(UserError, match="already a question called"):
        setup.new_question(qs, "gender")
    qs = setup.move_question(qs, "age_band", -1)
    assert [q.key for q in qs] == ["region", "age_band", "gender"]
    qs = setup.move_question(qs, "region", -1)            # already first: stays
    qs = setup.remove_question(qs, "gender")
    qs[0] = setup.build_field("region", "Région (where you live)", "", "A\nB", False, qs[0])
    setup.save_questions(db, qs, actor="organiser")
    assert [(f.key, f.label) for f in load_fields(db)] == [("region", "Région (where you live)"),
                                                           ("age_band", "Age band")]


@pytest.mark.parametrize("text, words", [
    ("Woman = F\nMan = f", "“f” is already another spelling of “Woman”"),
    ("Woman\nWoman", "the answer “Woman” is listed twice"),
    ("Woman = Man\nMan", "is already"),
    ("Woman\n = male", "an answer is empty"),
    ("Woman\n-", "has no letters or digits"),
])
def test_bad_answers_typed_on_the_page_are_named_and_nothing_is_saved(db, text, words):
    save_fields(db, parse_fields_csv(FIELDS))
    before = snapshot(db)
    f = setup.build_field("gender", "Gender", "", text, False)
    with pytest.raises(FieldsError) as e:
        setup.save_questions(db, [f], actor="organiser")
    assert words in str(e.value)
    assert "Question “Gender”" in str(e.value)
    assert snapshot(db) == before


# --- the questions, as a file -------------------------------------------------------------------------
def test_fields_file_round_trip_keeps_accents_aliases_and_the_blank_answer(real):
    fields = load_fields(real)
    assert fields[1].blank_value == "Prefer not to say"
    assert fields[0].value_labels["IDF"] == "Île-de-France"
    again = parse_fields_csv(fields_csv_text(fields), "again.csv")
    assert again == fields


@pytest.mark.parametrize("bad_row, where, words", [
    ("gender,Gender,Gender,Woman,Woman again,,", "row 10, column “value”", "listed twice"),
    ("gender,Gender,Gender,F,F,,", "row 10, column “value”", "“F” is already another spelling of “Woman”"),
    ("gender,Gender,Gender,Other,,,", "row 10, column “value_label”", "label of the answer “Other” is empty"),
    ("gender,,Gender,Other,Other,,", "row 10, column “field_label”", "question's name is empty"),
    (",Gender,Gender,Other,Other,,", "row 10, column “field”", "short name is empty"),
    ("gender,Sex,Gender,Other,Other,,", "row 10, column “field_label”", "not the name given to gender on row 5"),
    ("gender,Gender,Gender,Other,Other,,yes", "row 10, column “blank”", "already counts as “Prefer not to say”"),
    ("gender,Gender,Gender,Other,Other,,maybe", "row 10, column “blank”", "should be “yes”"),
    ("gender,Gender,Gender,Other,Other,female,", "row 10, column “aliases”", "already another spelling of “Woman”"),
    ("id,Id,Id,1,1,,", "row 10, column “field”", "a name the app uses itself"),
])
def test_a_bad_fields_file_names_file_row_and_column_and_changes_nothing(real, bad_row, where, words):
    before = snapshot(real)
    data = (FIELDS + bad_row + "\n").encode()
    with pytest.raises(UserError) as e:
        setup.import_questions(real, data, "ours.csv", actor="organiser")
    message = str(e.value)
    assert f"ours.csv, {where}" in message, message
    assert words in message, message
    assert "nothing was changed" in message
    assert snapshot(real) == before


def test_sortition_foundation_categories_become_questions_in_both_header_spellings(db):
    setup.save_basics(db, "Northfield", 6, False, actor="organiser")
    new = "feature,value,min,max,min_flex,max_flex\nRégion,Île-de-France,2,3,1,4\nRégion,Bretagne,1,2,0,3\n"
    old = "category,name,min,max\nRégion,Île-de-France,2,3\nRégion,Bretagne,1,2\n"
    for text in (new, old, old.replace(",", ";")):
        saved = setup.import_questions(db, text.encode("utf-8-sig"), "categories.csv", actor="organiser")
        assert [(f.key, f.values) for f in saved.fields] == [("Région", ["Île-de-France", "Bretagne"])]
    bad = "category,name,min,max\nRégion,Bretagne,2,3\nRégion,Bretagne,1,2\n"
    with pytest.raises(UserError, match="categories.csv, row 3, column “name”: Région = Bretagne is listed twice"):
        setup.import_questions(db, bad.encode(), "categories.csv", actor="organiser")


def test_files_that_are_not_questions_or_not_utf8_are_refused_plainly(real):
    before = snapshot(real)
    with pytest.raises(UserError, match="neither a questions file"):
        setup.import_questions(real, b"name,email\nSam,sam@example.org\n", "people.csv", actor="o")
    with pytest.raises(UserError, match="save it again as “CSV UTF-8”"):
        setup.import_questions(real, FIELDS.replace("Île", "\xcele").encode("cp1252"), "win.csv", actor="o")
    with pytest.raises(UserError, match="more cells than the first row"):
        setup.import_questions(real, b"feature,value\nAge,16,24,x\n", "c.csv", actor="o")
    assert snapshot(real) == before


def test_categories_export_reads_back_as_the_same_questions_and_quotas(real):
    setup.import_quota_table(real, QUOTAS.encode(), "categories.csv", actor="organiser")
    bands, k = setup.seats_now(real)
    text = setup.categories_csv_text(load_fields(real), bands, k)
    assert text.splitlines()[1] == "region,IDF,2,3"
    table = setup.read_quota_table(text.encode(), "again.csv", load_fields(real), 6)
    assert [(b.field, b.value, b.min, b.max) for b in table.bands] == [(b.field, b.value, b.min, b.max) for b in bands]


# --- a blank answer, and answers already brought in ----------------------------------------------------
def _sync(db, csv_text: str):
    from lib.recruitment.signups.grid import grid_from_csv_bytes
    from lib.recruitment.signups.mapping import save_mapping, suggest_mapping
    from lib.recruitment.signups.sync import sync_grid

    grid = grid_from_csv_bytes(csv_text.encode(), "signups.csv")
    save_mapping(db, suggest_mapping(grid.headers, load_fields(db)))
    return sync_grid(db, grid, suggest_mapping(grid.headers, load_fields(db)), source_kind="csv",
                     source_label="signups.csv", actor="organiser")


SIGNUPS = ("Timestamp,Name,Email,Région,Gender,Age\n"
           "1,Anne,a@example.org,Ile de France,F,18 to 39\n"
           "2,Bob,b@example.org,Breizh,,40 and over\n"
           "3,Chloé,c@example.org,Normandie,female,over 40\n")


def test_a_blank_answer_counts_as_prefer_not_to_say_only_where_the_question_says_so(real):
    result = _sync(real, SIGNUPS)
    assert result.status == "ok"
    values = dict(real.query("SELECT person_id || '/' || field, value FROM person_values"))
    assert values["P-0002/gender"] == "Prefer not to say"          # blank gender: counted
    assert values["P-0003/region"] is None                          # Normandie: not an answer (yet)
    eligible = dict(real.query("SELECT person_id, eligible FROM people"))
    assert eligible == {"P-0001": True, "P-0002": True, "P-0003": False}


def test_a_new_spelling_counts_at_once_for_the_sign_ups_already_brought_in(real):
    from lib.recruitment.quota_board import build_board

    _sync(real, SIGNUPS)
    fields = load_fields(real)
    fields[0].aliases["Autre"].append("Normandie")
    setup.save_questions(real, fields, actor="organiser")
    assert real.scalar("SELECT value FROM person_values WHERE person_id = 'P-0003' AND field = 'region'") == "Autre"
    board = {(r.field, r.value): r.signups for r in build_board(real).rows}
    assert board[("region", "Autre")] == 1
    # ... and the next sync makes that person eligible.
    _sync(real, SIGNUPS)
    assert real.scalar("SELECT eligible FROM people WHERE person_id = 'P-0003'") is True


# --- targets from a quota table -------------------------------------------------------------------------
def test_an_imported_quota_table_is_what_the_board_and_the_draw_use(real):
    from lib import draws
    from lib.recruitment.quota_board import build_board
    from lib.recruitment.quotas import quotas_for_version

    v = setup.import_quota_table(real, QUOTAS.encode(), "categories.csv", actor="organiser:Sam")
    q = {(r.field, r.value): (r.min, r.max) for r in quotas_for_version(real, v)}
    assert q[("region", "IDF")] == (2, 3) and q[("gender", "Prefer not to say")] == (0, 1)
    board = build_board(real)
    assert {(r.field, r.value): (r.min_seats, r.max_seats) for r in board.rows}[("region", "IDF")] == (2, 3)
    # A quota table gives seats, not the community's shares: the board claims no share of the community.
    assert board.has_targets and all(r.target_share is None for r in board.rows)
    draws.freeze_targets(real, v, actor="organiser:Sam")
    frozen = draws.frozen_inputs(real)
    assert {(x.feature, x.value): (x.min, x.max) for x in frozen.quotas} == q
    assert frozen.panel_size == 6


def test_quota_table_flex_columns_are_kept_and_reported_plainly(real):
    text = QUOTAS.replace("feature,value,min,max", "category,name,min,max,min_flex,max_flex")
    text = "\n".join(line + (",1,4" if i == 1 else ",," if i else "") for i, line in enumerate(text.splitlines()))
    table = setup.read_quota_table(text.encode(), "sf.csv", load_fields(real), 6)
    assert (table.bands[0].min_flex, table.bands[0].max_flex) == (1, 4)
    assert table.bands[1].min_flex is None
    assert any("min_flex and max_flex" in n and "not applied by themselves" in n for n in table.notes)
    v = setup.save_quota_table(real, table, actor="organiser")
    bands, _k = setup.seats_now(real)
    assert (bands[0].min_flex, bands[0].max_flex) == (1, 4)
    assert "min_flex,max_flex" in setup.categories_csv_text(load_fields(real), bands, 6).splitlines()[0]
    assert v == 1


@pytest.mark.parametrize("change, where, words", [
    (("region,Bretagne,1,2", "Region,Normandie,1,2"), "row 3, column “value”", "“Normandie” is not an answer to Région"),
    (("region,Bretagne,1,2", "Town,Rennes,1,2"), "row 3, column “feature”", "there is no question “Town”"),
    (("region,Bretagne,1,2", "region,Bretagne,3,2"), "row 3, column “min”", "min 3 above max 2"),
    (("region,Bretagne,1,2", "region,Bretagne,1,two"), "row 3, column “max”", "“two” is not a whole number"),
    (("region,Bretagne,1,2", "region,Bretagne,-1,2"), "row 3, column “min”", "not a whole number"),
    (("region,Bretagne,1,2", "region,Bretagne,1,9"), "row 3, column “max”", "more than the panel of 6"),
    (("region,Bretagne,1,2", "region,Bretagne,4,4"), "rows 2, 3, 4, column “min”",
     "the minimums for Région add up to 7 seats, more than the panel of 6"),
    (("age,40+,2,3", "age,40+,5,5"), "rows 8, 9, column “min”", "the minimums for Age band add up to 7"),
    (("gender,Woman,2,3", "gender,Woman,0,1"), "rows 5, 6, 7, column “max”", "add up to only 5 seats"),
    (("gender,Man,2,3\n", ""), "column “value”", "Gender has no quota for Man"),
    (("age,18-39,2,3", "age,18 to 39,2,3\nage,18-39,2,3"), "row 9, column “value”", "listed twice (first on row 8)"),
])
def test_a_bad_quota_table_names_file_row_and_column_and_changes_nothing(real, change, where, words):
    before = snapshot(real)
    text = QUOTAS.replace(*change)
    with pytest.raises(UserError) as e:
        setup.import_quota_table(real, text.encode(), "quotas.csv", actor="organiser")
    message = str(e.value)
    assert f"quotas.csv, {where}" in message, message
    assert words in message, message
    assert snapshot(real) == before


def test_a_quota_table_needs_questions_and_a_panel_size_first(db):
    with pytest.raises(UserError, match="Set up the questions first"):
        setup.import_quota_table(db, QUOTAS.encode(), "categories.csv", actor="organiser")
    save_fields(db, parse_fields_csv(FIELDS))
    with pytest.raises(UserError, match="Set the panel size first"):
        setup.import_quota_table(db, QUOTAS.encode(), "categories.csv", actor="organiser")


# --- after the freeze ------------------------------------------------------------------------------------
def test_after_the_freeze_changed_questions_start_a_new_version_and_keep_the_frozen_one(real):
    from lib import draws
    from lib.recruitment.targets import load_seat_bands, version_info

    v1 = setup.import_quota_table(real, QUOTAS.encode(), "categories.csv", actor="organiser:Sam")
    draws.freeze_targets(real, v1, actor="organiser:Sam")
    frozen_before = {t: rows for t, rows in snapshot(real).items()
                     if t in ("target_versions", "targets", "target_quotas", "target_rules")}
    fields = load_fields(real)
    fields[2] = setup.build_field("age", "Age band", "Age", "18 to 39\n40 and over", False, fields[2])
    fields[0] = setup.build_field("region", "Région", "", "Île-de-France\nBretagne", False, fields[0])  # Autre gone
    before = snapshot(real)
    with pytest.raises(setup.QuestionsFrozen, match="Tick the box to confirm"):
        setup.save_questions(real, fields, actor="organiser:Sam")
    assert snapshot(real) == before
    saved = setup.save_questions(real, fields, actor="organiser:Sam", new_version=True)
    assert saved.new_version == 2 and saved.dropped_targets == 1
    assert "version 2 of the targets was started" in saved.summary()
    after = snapshot(real)
    for table, rows in frozen_before.items():                   # version 1 exactly as frozen
        assert [r for r in after[table] if r.startswith("(1,")] == [r for r in rows if r.startswith("(1,")]
    assert version_info(real, 1).frozen and not version_info(real, 2).frozen
    assert ("region", "Autre") not in {(b.field, b.value) for b in load_seat_bands(real, 2)}
    assert draws.frozen_inputs(real).target_version == 1


def test_the_draw_refuses_frozen_quotas_whose_questions_changed_after_the_freeze(real):
    """Issue 11, point 1: questions changed after the freeze start a new target version, but the frozen
    one is still what the draw would use, with a quota for an answer nobody can give any more. The draw
    and its feasibility check refuse it in plain words, and nothing is recorded."""
    from lib import draws

    v1 = setup.import_quota_table(real, QUOTAS.encode(), "categories.csv", actor="organiser:Sam")
    draws.freeze_targets(real, v1, actor="organiser:Sam")
    fields = load_fields(real)
    fields[0] = setup.build_field("region", "Région", "", "Île-de-France\nBretagne", False, fields[0])  # Autre gone
    setup.save_questions(real, fields, actor="organiser:Sam", new_version=True)
    before = snapshot(real)
    for attempt in (lambda: draws.compute_draw(real, actor="organiser:Sam"), lambda: draws.check_inputs(real)):
        with pytest.raises(draws.DrawError) as refused:
            attempt()
        assert "The questions changed after target version 1 was frozen" in str(refused.value)
        assert "“Autre”" in str(refused.value) and "Freeze the newer target version" in str(refused.value)
    assert snapshot(real) == before


def test_downloads_never_carry_a_formula_and_still_read_back_the_same(db):
    """An answer copied from somewhere else that a spreadsheet would run (=HYPERLINK…) is downloaded with
    an apostrophe in front, and the downloaded file reads back to exactly the same questions."""
    f = setup.build_field("area", "=HYPERLINK(\"http://evil.example\",\"Area\")", "@SUM(A1)",
                          "North = +cmd /C calc!A0\nSouth", False)
    setup.save_basics(db, "Northfield", 6, False, actor="o")
    setup.save_questions(db, [f], actor="o")
    fields = load_fields(db)
    text = fields_csv_text(fields)
    assert "'=HYPERLINK" in text and "'@SUM" in text and "'+cmd" in text
    assert setup.read_questions_file(text.encode(), "fields.csv") == fields
    cats = setup.categories_csv_text(fields, [], 6)
    assert "\n" + "area,North,0,6" in cats
    with pytest.raises(FieldsError, match="holds a “|”"):
        setup.save_questions(db, [setup.build_field("area", "Area", "", "North = a|b\nSouth", False)], actor="o")


def test_saving_questions_based_on_an_old_copy_is_refused_and_keeps_the_newer_save(db):
    """Two organisers editing the questions at once: the second save must not quietly undo the first."""
    gender = setup.build_field("gender", "Gender", "", "Woman\nMan", False)
    age = setup.build_field("age", "Age", "", "Young\nOld", False)
    setup.save_questions(db, [gender], actor="organiser:Ana", based_on=[])
    with pytest.raises(setup.QuestionsChanged, match="The saved questions now are: Gender"):
        setup.save_questions(db, [age], actor="organiser:Sam", based_on=[])
    assert [f.key for f in load_fields(db)] == ["gender"]
    setup.save_questions(db, [gender, age], actor="organiser:Sam", based_on=load_fields(db))
    assert [f.key for f in load_fields(db)] == ["gender", "age"]
