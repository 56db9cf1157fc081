"""People's text (names, labels, the assembly's name, public numbers) is shown as plain text on the
pages: every string Streamlit renders as Markdown carries it escaped, and no HTML block carries it.

Each test plants hostile text where people can put it (a sign-up's name, an organiser's label, the
public number typed at the draw), opens the real page in AppTest and looks at every element that
Streamlit renders as Markdown or HTML.
"""

from __future__ import annotations

import shutil

import pytest

from lib import assembly as P
from lib.plaintext import md
from tests.app_pages.helpers import assert_ok, goto, open_app
from tests.app_pages.participation_fixtures import demo_file, enrol_demo_panel, fast_app_env, session_today  # noqa: F401

IMAGE = "![x](http://127.0.0.1:9/t.png)"            # loads an image on every screen that renders it
LINK = "[Click here](http://127.0.0.1:9/login)"      # a working link in a label
STYLE = "<style>body{display:none}</style>12 34"      # a public number that restyles the page


def rendered_as_markdown(at) -> list[str]:
    """Every string of the page that Streamlit renders as Markdown (or HTML when allowed)."""
    out = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning", "error",
                 "toast", "latex"):
        out += [str(e.value) for e in getattr(at, kind, [])]
    for kind in ("button", "checkbox", "toggle", "radio", "selectbox", "multiselect", "text_input", "text_area",
                 "number_input", "date_input", "time_input", "expander", "tabs", "metric", "select_slider"):
        for e in getattr(at, kind, []):
            out += [str(getattr(e, "label", "") or ""), str(getattr(e, "help", "") or "")]
    for r in at.radio:                     # radio options are Markdown too
        out += [str(o) for o in r.options]
    for t in at.table:                     # st.table renders every cell as Markdown
        df = t.value
        out += [str(c) for c in df.columns] + [str(v) for v in df.to_numpy().ravel()]
    for kind in ("download_button", "page_link"):
        out += [str(e.proto.label) for e in at.get(kind)]
    return out


def html_blocks(at) -> list[str]:
    return [str(m.value) for m in at.markdown if m.proto.allow_html] + [str(h.proto.body) for h in at.get("html")]


def assert_plain(at, hostile: str, *, shown: bool = True) -> None:
    """``hostile`` is nowhere in the page's Markdown unescaped (and is shown, escaped, if ``shown``)."""
    assert_ok(at)
    texts = rendered_as_markdown(at)
    raw = [t for t in texts if hostile in t]
    assert not raw, f"rendered as Markdown, unescaped: {raw}"
    assert not [h for h in html_blocks(at) if hostile in h or "<style>body" in h]
    if shown:
        assert any(md(hostile) in t for t in texts), "the text should still be shown, as plain text"


def _db():
    from tests.app_pages.participation_fixtures import app_db

    return app_db()


def _sql(d, sql: str, params: list) -> None:
    d.transaction(lambda cur: cur.execute(sql, params))


# --- the volunteers' check-in page -----------------------------------------------------------------

def test_a_sign_up_named_like_an_image_is_plain_text_at_the_door(fast_app_env):
    at = open_app("volunteer")
    d, ids = enrol_demo_panel(8)
    sid = session_today(d)
    # the door shows first names only: a first word with digits (the image's address) is never
    # shown, and Markdown in the first name that is shown stays plain text
    _sql(d, "UPDATE contacts SET name = ? WHERE person_id = ?", [IMAGE + " Smith", ids[1]])
    _sql(d, "UPDATE contacts SET name = ? WHERE person_id = ?", ["Ma**ry** Smith", ids[0]])
    shown_name = P.first_name("Ma**ry** Smith")
    assert shown_name == "Ma**ry"
    goto(at, "pages/checkin.py")
    at.toggle(key="checkin_list").set_value(True).run()    # the short list of who is still to come
    assert_plain(at, IMAGE, shown=False)
    assert_plain(at, shown_name)     # the door list and the paper-sheet tab (radio labels)
    # marking them: the confirmation names them, as plain text too
    at.text_input(key="checkin_search").input(ids[0]).run()
    [b for b in at.button if b.label == "Present"][0].click().run()
    assert P.session_marks(d, sid) == {ids[0]: "present"}
    assert_plain(at, shown_name)
    assert any(md(shown_name) in s.value for s in at.success)


# --- the organisers' members page ------------------------------------------------------------------

def test_members_page_shows_names_and_labels_as_plain_text(fast_app_env):
    at = open_app("organiser")
    d, ids = enrol_demo_panel(30)
    _sql(d, "UPDATE contacts SET name = ? WHERE person_id = ?", [IMAGE, ids[0]])
    _set_value_label(d, LINK)
    # a withdrawal that breaks a quota: the warning names the group by its (hostile) label
    goto(at, "pages/members.py")
    at.selectbox(key="member_pick").set_value(ids[0]).run()
    at.radio(key=f"member_new_{ids[0]}").set_value(P.WITHDRAWN).run()
    at.text_input(key=f"member_reason_{ids[0]}").input("![y](http://127.0.0.1:9/r.png) moved away").run()
    [b for b in at.button if b.label == "Save the change"][0].click().run()
    assert_plain(at, IMAGE, shown=False)
    assert_plain(at, LINK)
    assert_plain(at, "![y](http://127.0.0.1:9/r.png)", shown=False)


def _set_value_label(d, label: str) -> None:
    """Every group gets ``label`` + its own name as its label, as an organiser could type it."""
    d.transaction(lambda cur: cur.execute("UPDATE strat_values SET label = ? || ' ' || value", [label]))


# --- the public transparency page -------------------------------------------------------------------

@pytest.fixture(scope="module")
def drawn_file(tmp_path_factory):
    """The demo with a revealed draw, built before any test's app opens its own database."""
    from tests.app_pages.drawn_demo import drawn_demo_file

    return drawn_demo_file(tmp_path_factory.getbasetemp())


def test_public_number_and_assembly_name_are_plain_text_on_the_transparency_page(app_env, drawn_file):
    (app_env / "app.duckdb.wal").unlink(missing_ok=True)
    shutil.copyfile(drawn_file, app_env / "app.duckdb")
    at = open_app(None)
    d = _db()
    _sql(d, "UPDATE draws SET public_number = ? WHERE status = 'revealed'", [STYLE])
    _set_value_label(d, LINK)
    goto(at, "pages/transparency.py")
    assert_plain(at, STYLE, shown=False)
    assert_plain(at, LINK, shown=False)
    # the number is still shown, exactly as typed, in an element that renders nothing inside it
    assert STYLE in [c.value for c in at.code]
    assert not [m.value for m in at.markdown if m.proto.allow_html and "style" in m.value.replace("style='", "")]


# --- the volunteers' quota board -------------------------------------------------------------------

def test_quota_board_shows_group_labels_as_plain_text(fast_app_env):
    at = open_app("volunteer")
    _set_value_label(_db(), IMAGE)
    goto(at, "pages/quota_board.py")
    assert_plain(at, IMAGE)          # "who to look for next" lines, the expanders and the tables' cells


# --- the organisers' draw page ----------------------------------------------------------------------

def test_the_name_of_who_froze_the_targets_is_plain_text_on_the_draw_page(fast_app_env):
    # An organiser's account name is people's text too: "frozen by …" rendered it as Markdown.
    from lib import draws

    at = open_app("organiser")
    draws.freeze_targets(_db(), actor="organiser:" + IMAGE)
    goto(at, "pages/draw.py")
    assert_plain(at, IMAGE)
