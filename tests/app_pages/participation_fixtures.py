"""Shared set-up for the participation pages' AppTests (Members, Sessions, Check-in, Support).

The demo has no drawn panel, so the tests enrol demo sign-ups directly with
``lib.assembly.enrol_panel``. Loading the demo takes a second or two; ``fast_app_env``
copies a database file with the demo already loaded into each test's private path instead.
"""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest

from lib import assembly as P
from lib.recruitment.signups.store import pool_frame
from tests.draw_fixtures import demo_template


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    return demo_template(tmp_path_factory.mktemp("demo-template"))


@pytest.fixture
def fast_app_env(app_env, demo_file):
    """``app_env`` with the demo assembly already in its database file."""
    shutil.copy(demo_file, app_env / "app.duckdb")
    return app_env


def app_db():
    """The app's own Database (the one the pages use, cached in this process)."""
    from lib.resources import get_db

    return get_db()


def enrol_demo_panel(n: int = 30, *, now=None):
    """Enrol the first ``n`` eligible demo sign-ups as the panel; returns (db, person_ids)."""
    d = app_db()
    ids = list(pool_frame(d)["person_id"][:n])
    P.enrol_panel(d, ids, None, "organiser", now=now)
    return d, ids


def session_today(d, title: str = "Session 1") -> int:
    today = datetime.now().replace(hour=10, minute=0, second=0, microsecond=0)
    return P.schedule_session(d, title, today, "Town hall", "organiser")
