"""Issue 14, point 3: the roles that may open each page are written once (lib/access/pages.py, which app.py's
menu is built from) and every page asks pages.common.require; a page opened by someone else says so plainly."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.access import auth
from lib.access.pages import PAGES, may_open, roles_for
from tests.app_pages.helpers import assert_ok

ROOT = Path(__file__).resolve().parents[2]
ROLE_WORDS = set(auth.ROLES)
PAGE_FILES = sorted((ROOT / "pages").rglob("*.py"))   # sections/ too: parts of pages
STAFF_ONLY = [path for _s, path, _t, _i, _u, roles in PAGES if auth.PUBLIC not in roles and auth.MEMBER not in roles]


def role_literals_compared(source: str) -> list[str]:
    """Role names written as string literals in a comparison (``role == "organiser"``, ``in ("organiser",)``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        for side in [node.left, *node.comparators]:
            items = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
            found += [i.value for i in items if isinstance(i, ast.Constant) and i.value in ROLE_WORDS]
    return found


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_compares_a_role_written_out(path):
    assert role_literals_compared(path.read_text(encoding="utf-8")) == []


def test_the_literal_check_notices_a_role_check_written_out():
    assert role_literals_compared('if st.session_state.get("role") not in ("organiser", "volunteer"): pass') == [
        "organiser", "volunteer"]
    assert role_literals_compared("if role == auth.ORGANISER: pass") == []


@pytest.mark.parametrize("page", STAFF_ONLY)
def test_every_staff_page_asks_the_one_page_list(page):
    """Each page for organisers (and volunteers) calls require() with its own name, so its roles come from the list."""
    calls = [n for n in ast.walk(ast.parse((ROOT / page).read_text(encoding="utf-8")))
             if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "require"]
    assert [c.args[0].value for c in calls] == [Path(page).stem]


def test_the_page_list_answers_by_file_or_name():
    assert roles_for("pages/setup.py") == roles_for("setup") == {auth.ORGANISER}
    assert may_open(auth.VOLUNTEER, "checkin") and not may_open(auth.VOLUNTEER, "setup")
    assert not may_open(None, "checkin")   # nobody signed in is a visitor
    with pytest.raises(KeyError):
        roles_for("no_such_page")


@pytest.mark.parametrize("page", STAFF_ONLY)
def test_someone_not_allowed_who_reaches_a_page_is_told_plainly(app_env, page):
    """The menu hides these pages; a page reached anyway (a visitor, or a volunteer on an organiser's page)
    shows one plain sentence and nothing of the page."""
    roles = roles_for(page)
    outsider = auth.VOLUNTEER if auth.VOLUNTEER not in roles else auth.PUBLIC
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.session_state["role"] = outsider
    assert_ok(at.run())
    [refusal] = [e.value for e in at.error]
    assert refusal.startswith(("This page is for organisers", "Only organisers", "The quota board is for organisers"))
    assert not at.button and not at.text_input and not at.dataframe
