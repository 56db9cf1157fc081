"""Every background sync a test started is stopped after it (lib/recruitment/signups/live.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _stop_background_syncs():
    yield
    from lib.recruitment.signups import live

    live.stop_all(timeout=30)
