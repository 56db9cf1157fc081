"""The Sign-ups page with files people really have: the encoding choice, the sheet choice, and the
confirmation before a sync that would retire many people (AppTest on the real app)."""

from __future__ import annotations

import csv
import io

import openpyxl

from lib.store.config import DEMO_DIR
from tests.app_pages.helpers import goto, open_app, texts

SIGNUPS = "pages/signups.py"
UPLOAD = "Bring in sign-ups from this file"
YES = "Yes, bring in the file and retire them"
NO = "No, keep the sign-ups as they are"


def metrics(at):
    return {m.label: m.value for m in at.metric}


def demo_rows(n: int) -> list[list[str]]:
    with open(DEMO_DIR / "signups.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return [rows[0]] + [r for r in rows[1:] if all(ord(c) < 128 for c in "".join(r))][:n]


def as_csv(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


def button(at, label):
    return [b for b in at.button if b.label == label][0]


def selectbox(at, label):
    return [s for s in at.selectbox if s.label == label][0]


def upload(at, name: str, data: bytes):
    at.file_uploader[0].set_value((name, data, "application/octet-stream"))
    at.run()
    return at


def test_uncertain_encoding_offers_a_choice_with_a_preview_then_the_retire_confirmation(app_env):
    rows = demo_rows(8)
    rows[1][1] = "Ewa Wiśniewski"
    at = upload(goto(open_app(), SIGNUPS), "signups.csv", as_csv(rows).encode("cp1250"))
    page = texts(at)
    assert "not sure which alphabet" in page
    enc = selectbox(at, "Letters in this file are read as")
    assert any("Wiśniewski" in o for o in enc.options) and any("Wiœniewski" in o for o in enc.options)
    choice = next(o for o in enc.options if "Wiśniewski" in o)
    enc.set_value(choice)
    at.run()
    preview = at.dataframe[0].value
    assert "Ewa Wiśniewski" in preview.to_numpy().ravel().tolist()

    button(at, UPLOAD).click()
    at.run()
    # 8 of the demo's rows (one name changed) against 603 sign-ups: asked first, with the numbers.
    page = texts(at)
    assert "595 of the 603 people signed up (99%) would be marked as no longer in the sheet" in page
    assert "1 changed, 595 no longer in the sheet" in page
    assert metrics(at)["Signed up"] == "603"
    button(at, YES).click()
    at.run()
    assert "Done: 8 sign-ups read, 1 changed, 595 no longer in the sheet" in texts(at)
    assert metrics(at)["Signed up"] == "8" and metrics(at)["No longer in the sheet"] == "595"
    from lib.resources import get_db

    assert get_db().scalar("SELECT count(*) FROM contacts WHERE name = 'Ewa Wiśniewski'") == 1


def test_saying_no_to_the_confirmation_changes_nothing(app_env):
    at = upload(goto(open_app(), SIGNUPS), "few.csv", as_csv(demo_rows(8)).encode())
    button(at, UPLOAD).click()
    at.run()
    assert "would be marked as no longer in the sheet" in texts(at)
    button(at, NO).click()
    at.run()
    assert "Nothing was changed" in texts(at)
    assert metrics(at) == {"Signed up": "603", "Ready for the draw": "596", "With a problem to fix": "7",
                           "No longer in the sheet": "0"}
    assert not [b for b in at.button if b.label == YES]


def test_a_workbook_asks_which_sheet_holds_the_sign_ups(app_env):
    with open(DEMO_DIR / "signups.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    wb = openpyxl.Workbook()
    wb.active.title = "Read me"
    wb.active.append(["This workbook holds our sign-ups on the next sheet"])
    ws = wb.create_sheet("Form responses 1")
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    at = upload(goto(open_app(), SIGNUPS), "book.xlsx", buf.getvalue())
    sheet = selectbox(at, "Which sheet holds the sign-ups?")
    assert sheet.options == ["Read me", "Form responses 1"]
    sheet.set_value("Form responses 1")
    at.run()
    assert "Full name" in list(at.dataframe[0].value.columns)
    button(at, UPLOAD).click()
    at.run()
    assert "Done: 603 sign-ups read, nothing changed" in texts(at)


def test_an_ods_file_can_be_brought_in(app_env):
    from tests.signups.test_workbooks_and_limits import ods

    with open(DEMO_DIR / "signups.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    at = upload(goto(open_app(), SIGNUPS), "signups.ods", ods({"Sign-ups": rows}))
    button(at, UPLOAD).click()
    at.run()
    assert "Done: 603 sign-ups read, nothing changed" in texts(at)
