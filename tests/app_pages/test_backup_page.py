"""The Backup and restore page: an organiser downloads a (locked) backup; on a new, empty deployment the
first organiser restores it and the whole assembly is back; a database that holds an assembly offers no
restore; volunteers never see the page."""

from __future__ import annotations

import logging
import re

import pytest

from lib.access import auth
from lib import backup
from lib.store.db import open_database
from tests.app_pages.helpers import goto, open_app, texts
from tests.app_pages.test_signin_page import attempt
from tests.app_pages.test_team_page import accept_in_browser, box, button, fresh_session

BACKUP = "pages/backup.py"
PASS = "three unrelated words here"


def make_backup_on_page(at, passphrase: str, again: str | None = None, lock: bool = True):
    [lock_box] = [c for c in at.checkbox if c.label.startswith("Lock the backup")]
    lock_box.set_value(lock)
    box(at, "Passphrase").set_value(passphrase)
    box(at, "The same passphrase again").set_value(passphrase if again is None else again)
    button(at, "Make a backup now").click()
    at.run()
    return at


def test_an_organiser_downloads_a_locked_backup_that_restores_the_assembly(app_env, tmp_path):
    at = goto(open_app("organiser"), BACKUP)
    assert "Download a backup" in texts(at)
    assert not at.download_button
    make_backup_on_page(at, PASS)
    [download] = at.download_button
    assert download.label == "Download the backup"
    assert "The backup is ready" in texts(at) and "603 sign-ups, locked" in texts(at)
    name, data, _what = at.session_state["backup_file"]
    assert re.fullmatch(r"kleroterion-backup-\d{4}-\d\d-\d\d-\d{4}-locked\.zip", name)
    assert backup.is_encrypted(data)

    target = open_database(tmp_path / "elsewhere.duckdb")
    try:
        backup.restore_backup(target, data, passphrase=PASS)
        assert target.scalar("SELECT count(*) FROM people") == 603
    finally:
        target.close()

    # This database holds an assembly: no restore is offered, and the page says why and what to do.
    assert not at.file_uploader
    assert "only be restored into an empty database" in texts(at)


def test_a_passphrase_typed_differently_twice_makes_no_backup(app_env):
    at = make_backup_on_page(goto(open_app("organiser"), BACKUP), PASS, again=PASS + "!")
    assert "not the same" in texts(at)
    assert not at.download_button and "backup_file" not in at.session_state


def test_an_unlocked_backup_can_be_made_on_purpose(app_env):
    at = make_backup_on_page(goto(open_app("organiser"), BACKUP), "", lock=False)
    assert "not locked" in texts(at)
    _name, data, _what = at.session_state["backup_file"]
    assert not backup.is_encrypted(data) and backup.describe(data).tables["people"] == 603


def test_volunteers_cannot_open_the_backup_page(app_env):
    at = open_app("volunteer")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(BACKUP)


def test_the_first_organiser_of_a_new_deployment_restores_a_backup(app_env, monkeypatch, caplog, tmp_path):
    """A real deployment (demo off) on an empty database: the first organiser gets in with the set-up code,
    opens Backup and restore, gives a wrong passphrase (refused, nothing changes), then the right one."""
    from tests.draw_fixtures import demo_template

    source = open_database(demo_template(tmp_path))
    data = backup.make_backup(source, passphrase=PASS)
    source.close()

    monkeypatch.setenv("KLEROTERION_DEMO", "0")
    with caplog.at_level(logging.WARNING, logger="kleroterion"):
        at = fresh_session()
    [code] = re.findall(r"set-up code for the first organiser.*?: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})",
                        caplog.text)
    box(at, "Your invitation code").set_value(code)
    button(at, "Continue").click()
    at.run()
    accept_in_browser(at, name="Jo Bloggs")
    attempt(at, "kettle orchard lantern", name="Jo Bloggs")
    assert at.session_state["role"] == auth.ORGANISER
    goto(at, BACKUP)
    assert "This database is empty" in texts(at)

    [uploader] = at.file_uploader
    uploader.set_value(("riverside.zip", data, "application/zip"))
    box(at, "Its passphrase").set_value("not the passphrase")
    button(at, "Restore this backup").click()
    at.run()
    assert "passphrase does not open “riverside.zip”" in texts(at) and "Nothing was changed" in texts(at)
    from lib.resources import get_db

    assert get_db().scalar("SELECT count(*) FROM people") == 0

    at.file_uploader[0].set_value(("riverside.zip", data, "application/zip"))
    box(at, "Its passphrase").set_value(PASS)
    button(at, "Restore this backup").click()
    at.run()
    assert get_db().scalar("SELECT count(*) FROM people") == 603
    # Jo's account was the empty database's; the backup's accounts replaced it: Jo signs in again.
    assert "role" not in at.session_state
    assert "sign in with your account from the backup" in texts(at)
