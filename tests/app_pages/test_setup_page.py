"""The page "Set up the assembly" on an empty real database (KLEROTERION_DEMO=0): every step, every
bad input; and the demo banner / demo refusal around it."""

from __future__ import annotations

import pytest

from lib.recruitment.categories import load_fields
from lib.store.db import open_database
from tests.app_pages.helpers import assert_ok, goto, open_app, texts, visible
from tests.test_assembly_setup import FIELDS, QUOTAS

SETUP = "pages/setup.py"
TARGETS = "pages/targets.py"


@pytest.fixture
def real_env(app_env, monkeypatch):
    """A real deployment: demo off, a new empty database."""
    monkeypatch.setenv("KLEROTERION_DEMO", "0")
    return app_env


def peek(env, fn):
    """Read the app's database file from the test (the app holds it open: close the app's copy first)."""
    import streamlit as st

    st.cache_resource.clear()
    d = open_database(env / "app.duckdb")
    try:
        return fn(d)
    finally:
        d.close()


def button(at, label):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}: {[b.label for b in at.button]}"
    return found[0]


def box(at, label, kind="text_input"):
    found = [w for w in getattr(at, kind) if w.label == label]
    assert found, f"no {kind} {label!r}: {[w.label for w in getattr(at, kind)]}"
    return found[0]


def errors(at) -> str:
    return visible("\n".join(str(e.value) for e in at.error))


def upload(at, key, name, data: bytes):
    [up] = [u for u in at.file_uploader if u.key == key]
    up.set_value((name, data, "text/csv"))
    at.run()
    return assert_ok(at)


def click(at, label):
    button(at, label).click()
    at.run()
    return assert_ok(at)


def step(at, n: int):
    at.radio(key="setup_step").set_value(at.radio(key="setup_step").options[n - 1])
    at.run()
    return assert_ok(at)


def basics(at, name="Assemblée de Northfield", k=6, households=False):
    box(at, "The assembly's name").set_value(name)
    box(at, "How many people on the panel", "number_input").set_value(k)
    box(at, "At most one person from each household", "checkbox").set_value(households)
    return click(at, "Save and continue")


def test_an_empty_real_database_points_the_organiser_to_set_up_not_the_demo(real_env):
    at = open_app("organiser")
    page = texts(at)
    assert "This assembly is not set up yet" in page
    assert "Riverside" not in page and "made-up" not in page          # no demo, no demo banner
    assert [m.value for m in at.metric][:1] == ["0"]
    button(at, "Set up the assembly").click()
    at.run()
    assert "1. The assembly" in texts(at)                     # the guided set-up opens at its first step
    visitor = open_app(None)
    assert "being set up by its organisers" in texts(visitor)


def test_volunteers_cannot_open_set_up(real_env):
    at = open_app("volunteer")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(SETUP)
    assert "This assembly is being set up" in texts(at)


def test_step_1_saves_name_panel_and_household_rule_and_refuses_a_blank_name(real_env):
    at = goto(open_app("organiser"), SETUP)
    assert at.radio(key="setup_step").value.startswith("1.")
    basics(at, name="   ")
    assert "Give the assembly a name" in errors(at)
    assert at.radio(key="setup_step").value.startswith("1.")
    basics(at, households=True)
    assert "Saved: Assemblée de Northfield, a panel of 6." in texts(at)
    assert at.radio(key="setup_step").value.startswith("2.")
    got = peek(real_env, lambda d: __import__("lib.recruitment.assembly_setup", fromlist=["x"]).load_basics(d))
    assert (got.name, got.panel_size, got.one_per_household) == ("Assemblée de Northfield", 6, True)


def test_step_2_questions_added_typed_moved_renamed_removed_and_saved(real_env):
    at = step(goto(open_app("organiser"), SETUP), 2)
    assert "No questions yet" in texts(at)
    for label in ("Région", "Gender", "Age band"):
        box(at, "A new question").set_value(label)
        at = click(at, "Add this question")
    box(at, "A new question").set_value("gender")
    at = click(at, "Add this question")
    assert "There is already a question called “gender”" in errors(at)
    answers = [a for a in at.text_area if a.label == "Answers"]
    assert len(answers) == 3
    answers[0].set_value("Île-de-France = IDF, Paris region\nBretagne = BZH\nAutre")
    answers[1].set_value("Woman = F, female\nMan = M, male")
    answers[2].set_value("18 to 39\n40 and over = over 40")
    at.checkbox(key="q_blank_gender").set_value(True)
    at.run()
    assert "a blank answer → Prefer not to say" in visible(" ".join(c.value for c in at.caption))
    # Move "Age band" up, remove nothing yet, rename Région.
    at.button(key="q_up_age_band").click()
    at.run()
    at.text_input(key="q_label_region").set_value("Région (where you live)")
    at = click(at, "Save the questions")
    assert "Saved 3 questions." in texts(at)
    fields = peek(real_env, load_fields)
    assert [f.key for f in fields] == ["region", "age_band", "gender"]
    assert fields[0].label == "Région (where you live)"
    assert fields[0].aliases["Île-de-France"] == ["IDF", "Paris region"]
    assert fields[2].blank_value == "Prefer not to say"
    # Remove one and save again.
    at = step(at, 2)
    at.button(key="q_remove_age_band").click()
    at.run()
    at = click(at, "Save the questions")
    assert [f.key for f in peek(real_env, load_fields)] == ["region", "gender"]


def test_step_2_a_clash_between_answers_is_shown_before_saving_and_nothing_is_saved(real_env):
    at = step(goto(open_app("organiser"), SETUP), 2)
    box(at, "A new question").set_value("Gender")
    at = click(at, "Add this question")
    [answers] = [a for a in at.text_area if a.label == "Answers"]
    answers.set_value("Woman = F\nMan = f")
    at.run()
    assert "“f” is already another spelling of “Woman”" in visible(" ".join(w.value for w in at.warning))
    at = click(at, "Save the questions")
    assert "These questions cannot be saved; nothing was changed" in errors(at)
    assert peek(real_env, load_fields) == []


def test_step_2_import_export_and_bad_files(real_env):
    at = step(goto(open_app("organiser"), SETUP), 2)
    bad = FIELDS + "gender,Gender,Gender,F,F,,\n"
    at = upload(at, "questions_file", "last-year.csv", bad.encode())
    at = click(at, "Use the questions in this file")
    message = errors(at)
    assert "last-year.csv cannot be used; nothing was changed" in message
    assert "last-year.csv, row 10, column “value”: “F” is already another spelling of “Woman”" in message
    assert peek(real_env, load_fields) == []
    for text, words in [(FIELDS + "gender,Gender,Gender,Man,Man again,,\n", "row 10, column “value”: gender = Man "
                         "is listed twice"),
                        (FIELDS + "gender,Gender,Gender,Other,,,\n", "row 10, column “value_label”"),
                        (b"\xff\xfeg\x00".decode("latin-1"), "could not be read")]:
        at = upload(at, "questions_file", "q.csv", text.encode("latin-1") if "\xff" in text else text.encode())
        at = click(at, "Use the questions in this file")
        assert any(w in errors(at) for w in (words, "neither a questions file", "save it again")), errors(at)
    assert peek(real_env, load_fields) == []
    at = upload(at, "questions_file", "last-year.csv", FIELDS.encode())
    at = click(at, "Use the questions in this file")
    assert "Read 3 questions from last-year.csv" in texts(at)
    assert [f.key for f in peek(real_env, load_fields)] == ["region", "gender", "age"]
    at = step(at, 2)
    labels = [d.label for d in at.download_button]
    assert labels == ["Download the questions (fields.csv)", "Download as categories.csv (Sortition Foundation)"]
    # A Sortition Foundation file (older header spelling) replaces them.
    at = upload(at, "questions_file", "categories.csv", b"category,name,min,max\nArea,North,1,3\nArea,South,1,3\n")
    at = click(at, "Use the questions in this file")
    assert [(f.key, f.values) for f in peek(real_env, load_fields)] == [("Area", ["North", "South"])]


def _ready(at):
    at = basics(at)
    at = upload(at, "questions_file", "fields.csv", FIELDS.encode())
    return click(at, "Use the questions in this file")


def test_step_3_quota_table_preview_flex_note_and_save(real_env):
    at = _ready(goto(open_app("organiser"), SETUP))
    at = step(at, 3)
    assert "No targets yet" in texts(at)
    at.radio(key="setup_targets_how").set_value(at.radio(key="setup_targets_how").options[1])
    at.run()
    assert [d.label for d in at.download_button] == ["Download an example quota table for your questions"]
    flex = QUOTAS.replace("feature,value,min,max", "feature,value,min,max,min_flex,max_flex").replace(
        "region,Bretagne,1,2", "region,Bretagne,1,2,0,3")
    at = upload(at, "quota_file", "categories.csv", flex.encode())
    at = click(at, "Read this quota table")
    preview = [d.value for d in at.dataframe][0]
    row = preview[preview["Answer"] == "Bretagne"].iloc[0]
    assert (row["Fewest seats"], row["Most seats"], row["Fewest if relaxed"], row["Most if relaxed"]) == (1, 2, 0, 3)
    assert "not applied by themselves" in texts(at)
    at = click(at, "Save these quotas as version 1")
    assert "Saved the quotas from categories.csv as version 1 of the targets." in texts(at)
    # The Targets page shows exactly those seats.
    at = goto(at, TARGETS)
    seats = [d.value for d in at.dataframe if "Fewest seats" in d.value.columns][0]
    assert seats[seats["Group"] == "Île-de-France"][["Fewest seats", "Most seats"]].values.tolist() == [[2, 3]]
    assert "Seats for each group, from categories.csv" in texts(at)


@pytest.mark.parametrize("change, words", [
    (("region,Bretagne,1,2", "Town,Rennes,1,2"), "quotas.csv, row 3, column “feature”: there is no question “Town”"),
    (("region,Bretagne,1,2", "region,Normandie,1,2"), "quotas.csv, row 3, column “value”: “Normandie” is not an "
                                                     "answer to Région"),
    (("region,Bretagne,1,2", "region,Bretagne,3,2"), "quotas.csv, row 3, column “min”: Région = Bretagne has min 3 "
                                                    "above max 2"),
    (("region,Bretagne,1,2", "region,Bretagne,4,4"), "the minimums for Région add up to 7 seats, more than the panel"),
    (("gender,Woman,2,3", "gender,Woman,0,1"), "the maximums for Gender add up to only 5 seats"),
])
def test_step_3_a_bad_quota_table_is_named_and_nothing_is_saved(real_env, change, words):
    at = _ready(goto(open_app("organiser"), SETUP))
    at = step(at, 3)
    at.radio(key="setup_targets_how").set_value(at.radio(key="setup_targets_how").options[1])
    at.run()
    at = upload(at, "quota_file", "quotas.csv", QUOTAS.replace(*change).encode())
    at = click(at, "Read this quota table")
    assert words in errors(at), errors(at)
    assert not [b for b in at.button if b.label.startswith("Save these quotas")]
    assert peek(real_env, lambda d: d.scalar("SELECT count(*) FROM target_versions")) == 0


def test_step_3_shares_lead_to_the_targets_page(real_env):
    at = step(_ready(goto(open_app("organiser"), SETUP)), 3)
    assert [p for p in at.get("page_link") if "Enter the shares" in str(p.proto.label)]
    at = goto(at, TARGETS)
    assert [g for g in at.data_editor[0].value["Group"]] == ["Île-de-France", "Bretagne", "Autre région", "Woman",
                                                              "Man", "Prefer not to say", "18 to 39", "40 and over"]


def test_after_the_freeze_changing_questions_asks_for_a_new_version(real_env):
    from lib.recruitment import assembly_setup
    from lib import draws

    at = _ready(goto(open_app("organiser"), SETUP))

    def freeze(d):
        v = assembly_setup.import_quota_table(d, QUOTAS.encode(), "categories.csv", actor="organiser")
        draws.freeze_targets(d, v, actor="organiser")
    peek(real_env, freeze)
    at = step(goto(open_app("organiser"), SETUP), 2)
    assert "are frozen for the draw" in visible(" ".join(w.value for w in at.warning))
    at.text_input(key="q_label_age").set_value("Age group")
    at = click(at, "Save the questions")
    assert "Tick the box to confirm" in errors(at)
    assert peek(real_env, load_fields)[2].label == "Age band"
    at.checkbox(key="setup_new_version").set_value(True)
    at = click(at, "Save the questions")
    assert "version 2 of the targets was started" in texts(at)
    assert peek(real_env, load_fields)[2].label == "Age group"
    frozen = peek(real_env, lambda d: d.query("SELECT version, frozen_at IS NOT NULL FROM target_versions ORDER BY 1"))
    assert frozen == [(1, True), (2, False)]


def test_the_demo_database_refuses_set_up_and_every_page_says_it_is_the_demo(app_env):
    at = goto(open_app("organiser"), SETUP)
    assert "demo and real data never mix" in texts(at)
    assert not [b for b in at.button if b.label == "Save and continue"]
    for page in (SETUP, "pages/home.py", "pages/signups.py", TARGETS, "pages/quota_board.py", "pages/draw.py",
                 "pages/team.py", "pages/transparency.py"):
        at = goto(at, page)
        assert "This is the Riverside demo assembly: made-up people" in texts(at), page
    visitor = goto(open_app(None), "pages/transparency.py")
    assert "This is the Riverside demo assembly" in texts(visitor)


def test_a_real_database_opened_with_the_demo_switched_on_stays_real(app_env):
    """KLEROTERION_DEMO=1 (the default) on a database holding a real assembly: no demo, no banner."""
    from lib.recruitment import assembly_setup

    d = open_database(app_env / "app.duckdb")
    assembly_setup.save_basics(d, "Northfield", 6, False, actor="organiser")
    assembly_setup.import_questions(d, FIELDS.encode(), "fields.csv", actor="organiser")
    d.close()
    at = open_app("organiser")
    page = texts(at)
    assert "Northfield" in [t.value for t in at.title][0]
    assert "made-up" not in page and "not set up yet" not in page
    assert "the demo was not loaded into it" in page
    assert [m.value for m in at.metric][0] == "0"


def test_targets_page_of_an_empty_real_database_points_to_set_up_not_to_sign_ups(real_env):
    """Before: it said to describe the questions "on the Sign-ups page", which has no such form."""
    at = goto(open_app("organiser"), TARGETS)
    page = texts(at)
    assert "Sign-ups page" not in page
    assert "on the page “Set up the assembly”" in page
    assert [p for p in at.get("page_link") if "Set up the assembly" in str(p.proto.label)]


def test_targets_page_starts_a_new_version_after_the_freeze_and_keeps_the_frozen_one(app_env):
    from lib import draws

    d = open_database(app_env / "app.duckdb")
    from lib.demo.load import load_demo

    load_demo(d)
    draws.freeze_targets(d, actor="organiser")
    d.close()
    at = goto(open_app("organiser"), TARGETS)
    assert "Frozen for the draw" in texts(at)
    box(at, "Why start a new version?").set_value("The council published new census figures")
    at = click(at, "Start version 2")
    assert "Please give your name" in errors(at)                  # who did it goes in the history
    box(at, "Your name").set_value("Sam Lee")
    at = click(at, "Start version 2")
    assert "Version 2 started from version 1, which stays frozen." in texts(at)
    assert "Not frozen yet" in texts(at)
    rows = peek(app_env, lambda db: db.query(
        "SELECT version, frozen_at IS NOT NULL, (SELECT count(*) FROM targets t WHERE t.version = v.version) "
        "FROM target_versions v ORDER BY 1"))
    assert rows == [(1, True, 29), (2, False, 29)]


def test_step_2_a_save_from_another_tab_is_not_silently_undone(real_env):
    """Two organisers (or two tabs) editing the questions: each saved its own list, so the second save quietly
    threw away the question the first had just saved (found driving the real app in two tabs)."""
    from lib.recruitment import assembly_setup as setup
    from lib.resources import get_db

    at = step(goto(open_app("organiser"), SETUP), 2)
    box(at, "A new question").set_value("Age band")
    at = click(at, "Add this question")
    [a for a in at.text_area if a.label == "Answers"][0].set_value("Young\nOld")
    at.run()
    # Meanwhile, in another tab: "Gender" is saved.
    setup.save_questions(get_db(), [setup.build_field("gender", "Gender", "", "Woman\nMan", False)],
                         actor="organiser:Ana")
    at = click(at, "Save the questions")
    assert "Someone else saved the questions" in errors(at) and "Gender" in errors(at)
    assert [f.key for f in load_fields(get_db())] == ["gender"]          # their save stands
    assert [a.value for a in at.text_area if a.label == "Answers"] == ["Young\nOld"]   # what was typed stays
    at = click(at, "Start again from the saved questions")
    assert [w.value for w in at.text_input if w.label == "Name of the question"] == ["Gender"]
    box(at, "A new question").set_value("Age band")
    at = click(at, "Add this question")
    [a for a in at.text_area if a.label == "Answers"][1].set_value("Young\nOld")
    at.run()
    at = click(at, "Save the questions")
    assert "Saved 2 questions." in texts(at)
    assert [f.key for f in load_fields(get_db())] == ["gender", "age_band"]
