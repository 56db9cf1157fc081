"""The Sign-ups page, run through AppTest on the real app."""

from __future__ import annotations

from tests.app_pages.helpers import assert_ok, goto, open_app, texts

SIGNUPS = "pages/signups.py"


def metrics(at):
    return {m.label: m.value for m in at.metric}


def test_overview_shows_demo_counts(app_env):
    at = open_app()
    assert metrics(at) == {"People signed up": "603", "Ready for the draw": "596",
                           "Sign-ups with a problem to fix": "7"}
    assert "demo assembly" in texts(at)


def test_signups_page_shows_status_counts_problems_and_masked_preview(app_env):
    at = goto(open_app(), SIGNUPS)
    assert metrics(at) == {"Signed up": "603", "Ready for the draw": "596", "With a problem to fix": "7",
                           "No longer in the sheet": "0"}
    assert "603 sign-ups read, 603 new" in texts(at)
    problems, preview = at.dataframe[0].value, at.dataframe[1].value
    assert (problems["Importance"] == "Must fix").sum() == 7
    assert problems["What to do"].str.match(r"^Row \d+, column “").all()
    # The preview never shows a full email, phone number or name.
    flat = " ".join(preview.astype(str).to_numpy().ravel())
    assert "@example.org" not in flat and "07700" not in flat
    assert preview["Email"].str.contains("•••").all()


def test_demo_resync_reports_nothing_changed(app_env):
    at = goto(open_app(), SIGNUPS)
    [b for b in at.button if b.label == "Bring in the demo sign-ups"][0].click()
    at.run()
    assert_ok(at)
    assert "Done: 603 sign-ups read, nothing changed" in texts(at)


def test_upload_with_new_columns_asks_for_mapping_then_syncs(app_env):
    at = goto(open_app(), SIGNUPS)
    csv = ("When,Who,Mail,Mobile,Street,Post code,Sex,Age group,Schooling,Ethnicity,Area,Disabled,Climate worry\n"
           "01/10/2026 10:00,Ann New,ann@example.org,07700 900500,1 New St,RV1 1AA,Woman,25-34,Degree,White,"
           "Old Town,No,Very worried\n")
    at.file_uploader[0].set_value(("new.csv", csv.encode(), "text/csv"))
    at.run()
    [b for b in at.button if b.label == "Bring in sign-ups from this file"][0].click()
    at.run()
    assert_ok(at)
    # The saved column choices do not fit this file: the organiser is asked, nothing changed yet.
    assert "Please check which column holds what" in texts(at)
    assert "None of the columns chosen for this assembly are in this file" in texts(at)
    assert metrics(at)["Signed up"] == "603"
    choose = {"Gender": "Sex", "Age band": "Age group", "Highest qualification": "Schooling",
              "Ethnic group": "Ethnicity", "Neighbourhood": "Area", "Disability": "Disabled",
              "Worry about climate change": "Climate worry", "Email address": "Mail"}
    for sb in at.selectbox:
        if sb.label in choose:
            sb.set_value(choose[sb.label])
    [b for b in at.button if b.label == "Save and bring in"][0].click()
    at.run()
    assert_ok(at)
    # 603 of 603 would be marked as gone: asked first with the numbers (issue 11), then confirmed.
    assert "603 of the 603 people signed up (100%) would be marked as no longer in the sheet" in texts(at)
    assert metrics(at)["Signed up"] == "603"
    [b for b in at.button if b.label == "Yes, bring in the file and retire them"][0].click()
    at.run()
    assert_ok(at)
    assert "Done: 1 sign-ups read, 1 new" in texts(at)
    # The sheet now holds one person: the 603 demo people are kept, marked as no longer in the sheet.
    assert metrics(at) == {"Signed up": "1", "Ready for the draw": "1", "With a problem to fix": "0",
                           "No longer in the sheet": "603"}


def test_bad_upload_is_explained_and_loses_nothing(app_env):
    at = goto(open_app(), SIGNUPS)
    at.file_uploader[0].set_value(("broken.xlsx", b"this is not excel", "application/octet-stream"))
    at.run()
    [b for b in at.button if b.label == "Bring in sign-ups from this file"][0].click()
    at.run()
    assert_ok(at)
    errors = "\n".join(e.value for e in at.error)
    assert "could not be opened as an Excel workbook" in errors
    assert "Your sign-ups from before are unchanged" in errors
    assert metrics(at)["Signed up"] == "603"


def test_volunteers_and_visitors_cannot_open_the_signups_page(app_env):
    import pytest

    for role in ("volunteer", None, "member"):
        at = open_app(role)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(SIGNUPS)


def _preview(at):
    return [d.value for d in at.dataframe if {"Pseudonym", "Status", "Email"} <= set(d.value.columns)][0]


def test_the_preview_says_how_many_it_shows_and_reaches_every_sign_up(app_env):
    """Issue 15: the preview stopped at 200 rows without saying so. It says "sign-ups 1–200 of 603",
    shows the next pages, and finds a sign-up past the first 200 by pseudonym or row number."""
    from lib.resources import get_db

    every = [p for (p,) in get_db().query(
        "SELECT person_id FROM people ORDER BY removed_sync IS NOT NULL, row_number, person_id")]
    assert len(every) == 603
    at = goto(open_app(), SIGNUPS)
    assert "Showing sign-ups 1–200 of 603" in texts(at)
    assert _preview(at)["Pseudonym"].tolist() == every[:200]
    seen = []
    for page in (1, 2, 3, 4):
        at.number_input(key="preview_page").set_value(page).run()
        assert_ok(at)
        seen += _preview(at)["Pseudonym"].tolist()
    assert seen == every                                   # every sign-up once, in order
    assert "Showing sign-ups 601–603 of 603" in texts(at)
    # a search by pseudonym or by row, past the first 200; the masking is the same as before
    last = every[-1]
    row = get_db().scalar("SELECT row_number FROM people WHERE person_id = ?", [last])
    for search in (last, str(row)):
        at.text_input(key="preview_search").set_value(search).run()
        assert_ok(at)
        found = _preview(at)
        assert last in found["Pseudonym"].tolist()
        assert found["Email"].str.contains("•••").all()
    for nothing in ("P-99999", "%", "_"):                  # typed literally, not as a pattern matching everyone
        at.text_input(key="preview_search").set_value(nothing).run()
        assert_ok(at)
        assert f"No sign-up matching “{nothing}”" in texts(at).replace("\\", "")


def test_a_sign_up_nobody_can_contact_is_not_ready_for_the_draw_and_the_levels_are_explained(app_env):
    """Issue 15: a row with neither email nor phone (nor address) was "Ready for the draw" with no
    warning; a phone shared under another name was "must fix" while a shared address was "check"."""
    at = goto(open_app(), SIGNUPS)
    head = "When,Who,Mail,Mobile,Street,Post code,Sex,Age group,Schooling,Ethnicity,Area,Disabled,Climate worry\n"
    answers = "Woman,25-34,Degree,White,Old Town,No,Very worried"
    csv = (head
           + f"01/10/2026 10:00,Ann New,ann@example.org,07700 900500,1 New St,RV1 1AA,{answers}\n"
           + f"01/10/2026 10:01,Bo New,bo@example.org,07700 900500,1 New St,RV1 1AA,{answers}\n"
           + f"01/10/2026 10:02,Cy Nocontact,,,,,{answers}\n")
    at.file_uploader[0].set_value(("new.csv", csv.encode(), "text/csv"))
    at.run()
    [b for b in at.button if b.label == "Bring in sign-ups from this file"][0].click()
    at.run()
    choose = {"Gender": "Sex", "Age band": "Age group", "Highest qualification": "Schooling",
              "Ethnic group": "Ethnicity", "Neighbourhood": "Area", "Disability": "Disabled",
              "Worry about climate change": "Climate worry", "Email address": "Mail", "Name": "Who",
              "Phone number": "Mobile", "Home address": "Street", "Postcode": "Post code"}
    for sb in at.selectbox:
        if sb.label in choose:
            sb.set_value(choose[sb.label])
    [b for b in at.button if b.label == "Save and bring in"][0].click()
    at.run()
    [b for b in at.button if b.label == "Yes, bring in the file and retire them"][0].click()
    at.run()
    problems = [d.value for d in at.dataframe if "Importance" in d.value.columns][0].set_index("Row")
    assert metrics(at)["Signed up"] == "3" and metrics(at)["Ready for the draw"] == "2"
    assert problems.loc[4, "Importance"] == "Must fix"
    assert "nobody could tell this person they were drawn" in problems.loc[4, "What to do"]
    assert set(problems.loc[[3], "Importance"]) == {"Check"}     # Ann and Bo share a landline and an address
    assert "under another name" in " ".join(problems["What to do"])
    assert "people who live together often share an address and a landline" in texts(at)


def test_someone_who_is_not_an_organiser_sees_none_of_the_sign_ups(app_env):
    """The menu offers the page to organisers only; a volunteer or member who reaches the file anyway gets one
    plain sentence (pages.common.require, from the one page list), not the counts, problems or preview."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    for role in ("volunteer", "member"):
        at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / SIGNUPS), default_timeout=60)
        at.session_state["role"] = role
        assert_ok(at.run())
        assert [e.value for e in at.error] == ["This page is for organisers only. Sign in first."]
        assert not at.metric and not at.dataframe and not at.button and not at.text_input


def test_saving_the_column_choices_is_told_once_as_a_success(app_env):
    from lib.recruitment.signups.mapping import load_mapping
    from lib.resources import get_db
    from tests.app_pages.helpers import visible

    before = load_mapping(get_db())
    at = goto(open_app(), SIGNUPS)
    [b for b in at.button if b.label == "Save" and "mapping" in str(b.form_id)][0].click()
    at.run()
    assert_ok(at)
    assert [visible(s.value) for s in at.success].count("Column choices saved.") == 1
    assert load_mapping(get_db()) == before                # the same choices, kept
    at.run()
    assert "Column choices saved." not in texts(at)
