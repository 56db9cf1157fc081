"""Helpers for AppTest runs of the real app.py (navigation, roles and all)."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


GENERIC_ERROR = "Something went wrong on our side"


def assert_ok(at: AppTest) -> AppTest:
    """The run raised nothing and showed no "something went wrong" message (which hides an error)."""
    assert not at.exception, at.exception
    generic = [e.value for e in at.error if GENERIC_ERROR in str(e.value)]
    assert not generic, generic
    return at


def open_app(role: str | None = "organiser", timeout: float = 60) -> AppTest:
    """The real app, signed in as ``role`` (None: a visitor who has not signed in)."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    if role:
        at.session_state["role"] = role
    at.run()
    return assert_ok(at)


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    return assert_ok(at)


def texts(at: AppTest) -> str:
    """All visible text of the main elements, for 'does the page say X' checks."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning", "error",
                 "text"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(f"{m.label}: {m.value}" for m in at.metric)
    return visible("\n".join(parts))


def visible(markdown: str) -> str:
    """What people see of a Markdown string whose text was escaped (lib.plaintext.md): "P\\-0042" is "P-0042"
    (and the invisible word joiner md puts before a web address is not seen either)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")
