"""Issue 13 point 2: receipts handed to people, through the real app (AppTest) on the demo with a real,
revealed draw. The organisers download everybody's receipts from the Draw page (volunteers and visitors never
reach it); anybody checks one receipt on the Transparency page, without signing in, and is told in plain words."""

from __future__ import annotations

import csv
import io

from streamlit.testing.v1 import AppTest

from tests.app_pages.drawn_demo import use_drawn_demo
from tests.app_pages.helpers import APP, assert_ok, goto, open_app, texts, visible

PAGE = "pages/transparency.py"
DRAW = "pages/draw.py"
RECEIPTS = "Download the receipts for everyone in the pool (CSV, personal data)"
HOSTILE = '<img src=x onerror=alert(1)> **loud** [click](http://evil.example) <style>*{color:red}</style>'


def _receipts():
    """(picked person's receipt, not-picked person's receipt, a receipt of the same person in another draw)."""
    from lib import draws
    from lib.resources import get_db
    from lib.sortition.audit.public import bundle_id, new_secret, person_salt, receipt_code

    rec = draws.revealed_draw(get_db())
    fl = draws.frozen_lottery(get_db(), rec.draw_id)
    one = rec.selected_ids[0]
    secret = new_secret()
    return receipt_code(fl, one), receipt_code(fl, rec.reserve_ids[0]), f"{bundle_id(secret, one)}-{person_salt(secret, one)}"


def _check(at: AppTest, code: str) -> AppTest:
    at.text_input(key="receipt_code").input(code)
    at.button(key="receipt_check").click()
    return assert_ok(at.run())


def _everything_shown(at: AppTest) -> str:
    parts = [texts(at)] + [str(c.value) for c in at.code]
    parts += [" ".join(d.value.astype(str).to_numpy().ravel()) for d in at.dataframe]
    return "\n".join(parts)


def _said(at: AppTest) -> str:
    return visible(" ".join(str(e.value) for kind in ("success", "info", "warning", "error") for e in getattr(at, kind)))


def test_a_visitor_checks_a_receipt_and_is_told_plainly(app_env, tmp_path_factory):
    use_drawn_demo(app_env, tmp_path_factory)
    at = goto(open_app(None), PAGE)
    picked, not_picked, other_draw = _receipts()
    assert "Check your receipt" in texts(at)
    at = _check(at, picked)
    assert "You were in the pool of this draw. You were picked." in _said(at)
    assert f"python -m lib.sortition verify bundle.zip --receipt {picked}" in [c.value for c in at.code]
    at = _check(at, "  " + not_picked.upper() + "\n")            # pasted with spaces, in capitals
    assert "You were in the pool of this draw. You were not picked this time." in _said(at)
    at = _check(at, other_draw)
    assert "This receipt is not from this draw." in _said(at)
    assert not [c.value for c in at.code if "--receipt" in c.value]
    at = _check(at, picked[:-3])                                  # the end cut off
    assert "This receipt could not be read" in _said(at)


def test_markup_typed_into_the_check_is_never_shown_or_run(app_env, tmp_path_factory):
    use_drawn_demo(app_env, tmp_path_factory)
    at = goto(open_app(None), PAGE)
    picked, _n, _o = _receipts()
    for garbage in (HOSTILE, f"**{picked}**", f"[{picked}](http://evil.example)", "x" * 300):
        at = _check(at, garbage)
        said = _said(at)
        assert "This receipt could not be read" in said, garbage
        shown = _everything_shown(at)
        for piece in ("evil.example", "<img", "onerror", "<style", "**loud**", "xxxxxxxxxx"):
            assert piece not in shown, (garbage, piece)


def test_the_check_in_spanish(app_env, tmp_path_factory):
    use_drawn_demo(app_env, tmp_path_factory)
    at = open_app(None)
    at.selectbox(key="_lang_picker").set_value("es").run()
    at = goto(at, PAGE)
    picked, not_picked, other_draw = _receipts()
    assert "Compruebe su recibo" in texts(at)
    assert "Salió elegida." in _said(_check(at, picked))
    assert "Esta vez no salió elegida." in _said(_check(at, not_picked))
    assert "Este recibo no es de este sorteo." in _said(_check(at, other_draw))
    assert "No se pudo leer este recibo" in _said(_check(at, HOSTILE))


def test_checking_a_receipt_shows_no_contact_detail_and_no_door_pseudonym(app_env, tmp_path_factory):
    use_drawn_demo(app_env, tmp_path_factory)
    at = goto(open_app(None), PAGE)
    from lib.resources import get_db

    people = get_db().query("SELECT c.person_id, c.name, c.email, c.phone, c.address FROM contacts c")
    personal = {x for row in people for x in row[1:] if x and len(str(x)) > 3}
    pseudonyms = {row[0] for row in people}
    picked, not_picked, other_draw = _receipts()
    for code in (picked, not_picked, other_draw):
        shown = _everything_shown(_check(at, code))
        assert not [x for x in personal if x in shown]
        assert not [p for p in pseudonyms if p in shown]


def test_only_organisers_get_everybodys_receipts(app_env, tmp_path_factory, downloads):
    use_drawn_demo(app_env, tmp_path_factory)
    goto(open_app("organiser"), DRAW)
    assert RECEIPTS in downloads
    data = downloads[RECEIPTS]
    data = data() if callable(data) else data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 596 and set(rows[0]) == {"First name", "Email", "Phone", "Receipt", "Message"}
    picked, _n, _o = _receipts()
    assert picked in {r["Receipt"] for r in rows}
    # a volunteer or a visitor who reaches the Draw page anyway (a typed address) gets a refusal and no file
    for role in ("volunteer", "public"):
        downloads.clear()
        at = AppTest.from_file(APP.replace("app.py", DRAW), default_timeout=60)
        at.session_state["role"] = role
        assert_ok(at.run())
        assert RECEIPTS not in downloads and not at.get("download_button")
        downloads.clear()
        at = goto(open_app(role if role != "public" else None), PAGE)      # and not on any page they can open
        assert RECEIPTS not in downloads
