"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared"

# A page that raises an unexpected error must fail its test (and the browser journeys' server must
# log it), never be hidden behind the friendly "Something went wrong" message (pages/common.run_page).
os.environ["KLEROTERION_STRICT"] = "1"


def _strict_apptest() -> None:
    """Every AppTest run in the suite fails on an exception or on the generic error message, so a
    test cannot pass over a broken page by forgetting to look (tests/app_pages/helpers.assert_ok)."""
    from streamlit.testing.v1 import AppTest

    if getattr(AppTest.run, "_kleroterion_strict", False):
        return
    plain_run = AppTest.run

    def run(self, *args, **kwargs):
        from tests.app_pages.helpers import assert_ok

        result = plain_run(self, *args, **kwargs)
        assert_ok(self)
        return result

    run._kleroterion_strict = True  # type: ignore[attr-defined]
    AppTest.run = run  # type: ignore[method-assign]


_strict_apptest()


@pytest.fixture
def db(tmp_path):
    """A fresh, migrated DuckDB file."""
    from lib.store.db import open_database

    database = open_database(tmp_path / "test.duckdb")
    yield database
    database.close()


@pytest.fixture
def demo_db(db):
    """A database holding the embedded demo assembly."""
    from lib.demo.load import load_demo

    load_demo(db)
    return db


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """Environment for AppTest runs: a private database file, demo loaded on first use."""
    monkeypatch.setenv("KLEROTERION_DB", str(tmp_path / "app.duckdb"))
    monkeypatch.setenv("KLEROTERION_DEMO", "1")
    # Each test gets its own database file; clear Streamlit's resource cache between tests.
    import streamlit as st

    st.cache_resource.clear()
    yield tmp_path
    st.cache_resource.clear()


def shared_benchmarks() -> Path:
    path = SHARED / "benchmarks"
    if not path.is_dir():
        pytest.fail(f"The shared benchmark instances are missing: expected {path} beside the repository.")
    return path


def pytest_sessionfinish(session, exitstatus):
    """In CI every check must really run: a skipped test fails the run (KLEROTERION_NO_SKIPS=1)."""
    if os.environ.get("KLEROTERION_NO_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        if reporter:
            reporter.write_line(f"{skipped} test(s) were skipped; in CI a skipped check counts as a failure.",
                                red=True)
        session.exitstatus = 1
