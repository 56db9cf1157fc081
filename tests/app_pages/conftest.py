"""Fixtures shared by the page tests (AppTest)."""

from __future__ import annotations

import pytest


@pytest.fixture
def downloads(monkeypatch):
    """The data behind every download button the page offers, by label (recorded as the page runs)."""
    import streamlit as st

    seen: dict[str, object] = {}
    real = st.download_button

    def recording(label, data, *args, **kw):
        seen[label] = data
        return real(label, data, *args, **kw)

    monkeypatch.setattr(st, "download_button", recording)
    return seen
