"""A survey open on a member's phone while the organisers restore a backup (the app started again on an empty
database and the backup put into it), then the member presses "Send my answers" on the page they still have
open. AppTest on the real app.py: the member's session (their sign-in and the answers chosen) lives on, the
database under it is the restored one.

Nothing may be lost or attached to the wrong survey or member: the same survey restored takes the answers; a
survey that is not the one on the member's screen (the backup was older, and the organisers opened another
survey, which got the same number) refuses them with a plain message; a card made after the backup says so.
"""

from __future__ import annotations

from lib import evaluation as ev
from lib.backup import make_backup, restore_backup
from lib.recruitment.signups.store import pool_frame
from tests.app_pages.helpers import goto, texts
from tests.app_pages.test_evaluation_pages import button, member_app

SURVEY = "pages/member_survey.py"
PASSPHRASE = "correct horse battery staple 42"


def _db():
    from lib.resources import get_db

    return get_db()


def restored(app_env, monkeypatch, data: bytes, name: str):
    """The app on a new, empty database (demo off), the backup restored into it, as on the Backup page."""
    import streamlit as st

    monkeypatch.setenv("KLEROTERION_DB", str(app_env / f"{name}.duckdb"))
    monkeypatch.setenv("KLEROTERION_DEMO", "0")
    st.cache_resource.clear()
    restore_backup(_db(), data, passphrase=PASSPHRASE)
    return _db()


def survey_on_screen(code: str):
    """The member signed in, on the Survey page, two answers chosen, not sent yet."""
    at = goto(member_app(code), SURVEY)
    at.radio[0].set_value(4)
    at.radio[1].set_value(2)
    return at


def send(at) -> str:
    button(at, "Send my answers").click()
    at.run()
    if "Send anyway" in [b.label for b in at.button]:
        button(at, "Send anyway").click()
        at.run()
    return texts(at)


def test_the_same_survey_restored_takes_the_answers(app_env, monkeypatch):
    d = _db()
    pid = pool_frame(d)["person_id"].tolist()[0]
    code = ev.issue_codes(d, [pid])[pid]
    wave = ev.open_wave(d, "pulse", "After session 1")
    at = survey_on_screen(code)
    data = make_backup(d, passphrase=PASSPHRASE, include_survey_key=True)

    new = restored(app_env, monkeypatch, data, "restored")
    page = send(at)
    assert "your answers to “After session 1” are received" in page, page
    assert ev.waiting_count(new, wave.wave_id) == 1                      # kept, for the restored survey
    member = ev.member_sign_in(new, code)
    assert ev.answer_state(new, member, wave.wave_id) == "waiting"       # and marked as this member's


def test_another_survey_under_the_same_number_refuses_the_answers(app_env, monkeypatch):
    d = _db()
    pid = pool_frame(d)["person_id"].tolist()[0]
    code = ev.issue_codes(d, [pid])[pid]
    ev.close_wave(d, ev.open_wave(d, "pulse", "After session 1").wave_id)   # an earlier survey, closed
    data = make_backup(d, passphrase=PASSPHRASE, include_survey_key=True)   # before the next one opened
    wave = ev.open_wave(d, "pulse", "After session 2")
    at = survey_on_screen(code)

    new = restored(app_env, monkeypatch, data, "restored")
    other = ev.open_wave(new, "end", "End of the process")              # opened again after the restore
    assert other.wave_id == wave.wave_id                                   # the same number, another survey
    page = send(at)
    assert "received" not in page, page
    assert "changed since you opened this page" in page, page
    assert ev.waiting_count(new, other.wave_id) == 0                      # nothing attached to the other survey
    assert "End of the process" in page                                    # now shows the survey that is open,
    assert at.radio and all(r.value is None for r in at.radio)             # with none of the other's answers


def test_a_card_made_after_the_backup_is_told_plainly(app_env, monkeypatch):
    d = _db()
    wave = ev.open_wave(d, "pulse", "After session 1")
    data = make_backup(d, passphrase=PASSPHRASE, include_survey_key=True)   # before the cards were made
    pid = pool_frame(d)["person_id"].tolist()[0]
    code = ev.issue_codes(d, [pid])[pid]
    at = survey_on_screen(code)

    new = restored(app_env, monkeypatch, data, "restored")
    page = send(at)
    assert "received" not in page, page
    assert "Your access code no longer works" in page, page
    assert ev.waiting_count(new, wave.wave_id) == 0
