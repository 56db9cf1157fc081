"""The one module in lib/ that imports Streamlit: process-wide cached resources.

``get_db()`` opens (and migrates) the DuckDB file once per server process; every page
then takes a ``cursor()`` per operation through the ``Database`` methods.
"""

from __future__ import annotations

import streamlit as st

from lib.store import config
from lib.store.db import Database, open_database


@st.cache_resource(show_spinner=False)
def _database(path: str, demo: bool) -> Database:
    db = open_database(path)
    if demo:
        from lib.demo.load import open_demo

        open_demo(db)  # an empty database only: a real one is left alone (lib/demo/load.py)
    _start_live_sync(db)  # a connected sheet is brought in by itself again after a restart
    return db


def get_db() -> Database:
    return _database(str(config.db_path()), config.demo_enabled())


def _start_live_sync(db: Database):
    from lib.recruitment.signups.live import start_if_connected
    from lib.recruitment.signups.sheets import SECRETS_SECTION

    try:
        return start_if_connected(db, credentials=secrets_section(SECRETS_SECTION))
    except Exception:  # noqa: BLE001 - the app runs without it; the pages start it again
        import logging

        logging.getLogger("kleroterion").exception("Kleroterion: the automatic sync could not start")
        return None


def live_sync():
    """The background sync of the connected sheet (lib/recruitment/signups/live.py): started once per process when a
    sheet is connected, and handed the current Google key. Pages showing sign-ups call it on every run."""
    return _start_live_sync(get_db())


def secrets_section(name: str) -> dict | None:
    """A table of .streamlit/secrets.toml as a plain dict, or None when absent."""
    try:
        if name in st.secrets:
            return {k: v for k, v in st.secrets[name].items()}
    except (FileNotFoundError, KeyError, Exception):  # no secrets file at all
        return None
    return None
