"""Issue 14, point 3: the Draw and Sign-ups pages are thin (at most 300 lines each); their long parts live in
pages/sections/, which are drawn by a page and are never pages themselves."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = sorted((ROOT / "pages" / "sections").glob("*.py"))
LIMIT = 300


def test_the_draw_and_sign_ups_pages_and_their_sections_are_short():
    files = [ROOT / "pages" / "draw.py", ROOT / "pages" / "signups.py", *SECTIONS]
    long = {p.relative_to(ROOT).as_posix(): n for p in files if (n := len(p.read_text().splitlines())) > LIMIT}
    assert not long, f"over {LIMIT} lines: {long}"
    assert any(p.name.startswith("draw_") for p in SECTIONS) and any(p.name.startswith("signups_") for p in SECTIONS)


def _strings(path: Path) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)}


def test_no_section_is_in_the_page_list():
    """app.py's menu (st.navigation) lists only the files of its page list; a section must never be one."""
    listed = set().union(*(_strings(p) for p in [ROOT / "app.py", *(ROOT / "lib" / "access").glob("*.py")]))
    pages = {s for s in listed if s.startswith("pages/") and s.endswith(".py")}
    assert "pages/draw.py" in pages and "pages/signups.py" in pages
    assert not {s for s in pages if s.startswith("pages/sections/")}


def test_sections_are_drawn_by_a_page_and_never_run_as_one():
    """A section neither runs itself (run_page, which refuses a run outside the router) nor imports a page file
    (running a page's module would draw the whole page)."""
    page_modules = {f"pages.{p.stem}" for p in (ROOT / "pages").glob("*.py")} - {"pages.common"}
    for path in SECTIONS:
        tree = ast.parse(path.read_text())
        calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert "run_page" not in calls, path.name
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not imported & page_modules, (path.name, imported & page_modules)
