"""Writing the drawn panel back to the sign-up Google Sheet (lib.draws.records.write_to_sheet), against the
fake Google Sheets server: values are written in RAW mode, which Google never runs as formulas, so
every cell holds exactly what the sign-up said: no apostrophe in front of a phone number or a name."""

from __future__ import annotations

import shutil

import pytest

from lib import draws
from lib.recruitment.signups.sheets import make_client
from tests.draw_fixtures import small_demo_template
from tests.fakesheets import FakeSheets

HOSTILE = ["=HYPERLINK(\"http://127.0.0.1:9/x\",\"click\")", "+44 7700 900123", "\r=1+1", "-", "'quoted"]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return small_demo_template(tmp_path_factory.mktemp("write-back"), 10)


@pytest.fixture
def drawn(template, tmp_path):
    from lib.store.db import open_database

    shutil.copy(template, tmp_path / "db.duckdb")
    db = open_database(tmp_path / "db.duckdb")
    draws.freeze_targets(db, actor="alex")
    rec = draws.compute_draw(db, actor="alex", M=50, time_limit=30, legacy_seconds=0.2)
    draws.commit_draw(db, rec.draw_id, actor="alex")
    rec = draws.reveal_draw(db, rec.draw_id, "12 07 33 41", actor="sam")
    yield db, rec
    db.close()


def test_write_back_stores_every_value_exactly_as_it_is(drawn):
    db, rec = drawn
    people = rec.selected_ids[:len(HOSTILE)]
    def plant(cur):
        for pid, value in zip(people, HOSTILE):
            cur.execute("UPDATE contacts SET name = ?, phone = ? WHERE person_id = ?", [value, value, pid])
        cur.execute("UPDATE sync_log SET source_kind = 'google_sheet' WHERE status = 'ok'")
    db.transaction(plant)
    with FakeSheets() as fake:
        key = fake.add_spreadsheet(tabs={"Form responses 1": [["Name"]]})
        from lib.store.settings import set_setting

        set_setting(db, "sheet_source", {"spreadsheet": fake.url(key), "worksheet": "Form responses 1"}, "alex")
        client = make_client(fake.service_account_info(), api_base=fake.base_url)
        titles = draws.write_to_sheet(db, client, rec, actor="alex")
        rows = fake.tab(key, titles[0]).rows
        assert fake.value_input_options and set(fake.value_input_options) == {"RAW"}
    header = rows[0]
    by_id = {r[header.index("Pseudonym")]: r for r in rows[1:]}
    for pid, value in zip(people, HOSTILE):
        assert by_id[pid][header.index("Name")] == value
        assert by_id[pid][header.index("Phone")] == value
