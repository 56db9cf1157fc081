"""Issue 14, point 3: pages are thin. No page runs SQL (the queries are named functions in lib/, with tests), and
no page wraps current_actor() in a function of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE_FILES = sorted((ROOT / "pages").rglob("*.py"))   # sections/ too: parts of pages
DB_CALLS = {"execute", "executemany", "query", "query_df", "scalar", "sql"}


def database_calls(source: str) -> list[str]:
    """Calls such as ``db().query(...)``, ``database.scalar(...)`` or ``cur.execute(...)`` in a page's source."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DB_CALLS:
            out.append((node.lineno, f"line {node.lineno}: .{node.func.attr}(…)"))
    return [text for _line, text in sorted(out)]


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_runs_sql(path):
    assert database_calls(path.read_text(encoding="utf-8")) == []


def test_the_sql_check_notices_a_query_in_a_page():
    assert database_calls('names = dict(db().query("SELECT 1"))\nn = database.scalar("SELECT 2")') == [
        "line 1: .query(…)", "line 2: .scalar(…)"]
    assert database_calls("names = P.member_names(db())") == []
