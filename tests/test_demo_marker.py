"""Demo and real data never mix (issue 11, item 2).

The demo loads only into an empty database, which it marks as the demo; a database holding anything
else (a real assembly, questions, an account) is never filled with the demo; the marker alone decides
whether the database "holds the demo" (and so whether the public demo passwords may work)."""

from __future__ import annotations

import pytest

from lib.access import accounts
from lib.recruitment.categories import Field, load_fields, save_fields
from lib.store.settings import get_setting, set_setting


def _snapshot(db) -> dict:
    tables = [r[0] for r in db.query("SELECT table_name FROM information_schema.tables "
                                      "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1")]
    return {t: sorted(map(repr, db.query(f'SELECT * FROM "{t}"'))) for t in tables}


NORTHFIELD = [Field("region", "Région", "Dans quelle région habitez-vous ?", ["Île-de-France", "Bretagne"],
                    {"Île-de-France": "Île-de-France", "Bretagne": "Bretagne"},
                    {"Île-de-France": ["IDF", "Paris region"], "Bretagne": ["BZH"]})]


def test_the_demo_loads_into_an_empty_database_and_marks_it_as_the_demo(db):
    from lib.store.demo_marker import holds_only_demo, is_demo_database
    from lib.demo.load import load_demo

    assert not is_demo_database(db)
    load_demo(db)
    assert is_demo_database(db)
    assert holds_only_demo(db)
    assert get_setting(db, "demo_database")            # the marker, kept in the settings
    assert accounts.holds_demo_assembly(db)


def test_questions_alone_are_never_overwritten_by_the_demo(db):
    """A group that has described its questions (no name or sign-ups yet) keeps them: today's code
    filled such a database with Riverside's questions, targets and 603 made-up people."""
    from lib.demo.load import DemoRefused, load_demo

    save_fields(db, NORTHFIELD)
    before = _snapshot(db)
    with pytest.raises(DemoRefused, match="not empty"):
        load_demo(db)
    assert _snapshot(db) == before
    assert [f.key for f in load_fields(db)] == ["region"]


def test_a_real_assembly_is_never_overwritten_by_the_demo(db):
    from lib.demo.load import DemoRefused, load_demo

    save_fields(db, NORTHFIELD)
    set_setting(db, "assembly", {"name": "Assemblée de Northfield", "panel_size": 20})
    before = _snapshot(db)
    with pytest.raises(DemoRefused):
        load_demo(db)
    assert _snapshot(db) == before


def test_an_account_alone_is_real_data_too(db):
    """The first organiser accepted the set-up code on an empty database: that database is real."""
    from lib.demo.load import DemoRefused, database_state, load_demo

    assert database_state(db) == "empty"
    accounts.ensure_setup_invitation(db)
    assert database_state(db) == "real"
    with pytest.raises(DemoRefused):
        load_demo(db)
    assert not db.scalar("SELECT count(*) FROM people")


def test_opening_a_real_database_with_the_demo_switched_on_keeps_it_real_and_says_why(db):
    from lib.demo.load import database_state, open_demo

    save_fields(db, NORTHFIELD)
    set_setting(db, "assembly", {"name": "Northfield", "panel_size": 20})
    before = _snapshot(db)
    refusal = open_demo(db)
    assert refusal and "KLEROTERION_DEMO=0" in refusal
    assert _snapshot(db) == before
    assert database_state(db) == "real"


def test_loading_the_demo_twice_changes_nothing(demo_db):
    from lib.demo.load import load_demo, open_demo

    before = _snapshot(demo_db)
    assert load_demo(demo_db) is None
    assert open_demo(demo_db) is None
    assert _snapshot(demo_db) == before


def test_the_marker_alone_says_demo_not_a_hand_written_assembly_setting(db):
    """Writing {"demo": true} into the assembly's settings does not make a database the demo (so the
    public demo passwords do not start working on it)."""
    from lib.store.demo_marker import is_demo_database

    set_setting(db, "assembly", {"name": "Northfield", "demo": True, "panel_size": 20})
    assert not is_demo_database(db)
    assert not accounts.holds_demo_assembly(db)


def test_real_sign_ups_in_the_demo_database_end_the_demo_passwords_but_not_the_banner(demo_db):
    from lib.demo.load import database_state, demo_signups_grid
    from lib.store.demo_marker import holds_only_demo, is_demo_database
    from lib.recruitment.signups.mapping import load_mapping
    from lib.recruitment.signups.sync import sync_grid

    sync_grid(demo_db, demo_signups_grid(), load_mapping(demo_db), source_kind="csv", source_label="ours.csv",
              actor="organiser")
    assert is_demo_database(demo_db)            # still made as the demo: the banner stays
    assert not holds_only_demo(demo_db)         # but no longer only the demo: no demo passwords
    assert not accounts.holds_demo_assembly(demo_db)
    assert database_state(demo_db) == "demo"


def test_a_demo_database_from_before_the_marker_gets_it_from_the_migration(tmp_path):
    """Databases made by an older version of the app (the demo said so only in its assembly setting)."""
    import shutil

    from lib.store.config import MIGRATIONS_DIR
    from lib.store.db import Database
    from lib.store.demo_marker import is_demo_database

    old = tmp_path / "old_migrations"
    old.mkdir()
    for p in MIGRATIONS_DIR.glob("*.sql"):
        if int(p.name[:3]) < 11:
            shutil.copy(p, old / p.name)
    demo = Database(tmp_path / "old-demo.duckdb")
    demo.migrate(old)
    set_setting(demo, "assembly", {"name": "Riverside climate assembly (demo)", "demo": True, "panel_size": 30})
    real = Database(tmp_path / "old-real.duckdb")
    real.migrate(old)
    set_setting(real, "assembly", {"name": "Northfield", "panel_size": 30})
    for d in (demo, real):
        d.migrate()
    assert is_demo_database(demo)
    assert not is_demo_database(real)
