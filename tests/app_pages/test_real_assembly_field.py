"""A real assembly (demo switched off, a new database), tried as a group would use it: what the demo's
conveniences must not do there."""

from __future__ import annotations

import pytest

from tests.app_pages.helpers import goto, open_app

SIGNUPS = "pages/signups.py"


@pytest.fixture
def real_env(app_env, monkeypatch):
    """A real deployment: demo off, a new empty database."""
    monkeypatch.setenv("KLEROTERION_DEMO", "0")
    return app_env


def test_a_real_assemblys_signups_page_does_not_offer_the_demos_made_up_people(real_env):
    # Pressing "Bring in the demo sign-ups" here offered to add the 603 made-up Riverside people to a real pool.
    at = goto(open_app("organiser"), SIGNUPS)
    assert "Demo sign-ups" not in [t.label for t in at.tabs]
    assert "Bring in the demo sign-ups" not in [b.label for b in at.button]
    assert [t.label for t in at.tabs][:3] == ["Google Sheet", "Upload a file", "Published sheet link"]


def test_the_demo_still_offers_its_sign_ups(app_env):
    at = goto(open_app("organiser"), SIGNUPS)
    assert "Bring in the demo sign-ups" in [b.label for b in at.button]
