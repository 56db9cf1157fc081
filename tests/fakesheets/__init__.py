"""A fake Google Sheets v4 API server for tests and the sync benchmark (see server.py)."""

from tests.fakesheets.server import FakeSheets, throwaway_key

__all__ = ["FakeSheets", "throwaway_key"]
