"""The public Transparency page, run through AppTest on the real app."""

from __future__ import annotations

import re

from tests.app_pages.drawn_demo import use_drawn_demo
from tests.app_pages.helpers import goto, open_app, texts

PAGE = "pages/transparency.py"


def _everything_shown(at) -> str:
    parts = [texts(at)]
    parts += [str(c.value) for c in at.code]
    parts += [" ".join(d.value.astype(str).to_numpy().ravel()) for d in at.dataframe]
    return "\n".join(parts)


def _personal_data():
    from lib.resources import get_db

    rows = get_db().query("SELECT name, email, phone, address FROM contacts")
    return [x for r in rows for x in r if x]


def test_before_the_draw_visitors_get_a_friendly_message_and_no_personal_data(app_env):
    at = goto(open_app(None), PAGE)
    shown = _everything_shown(at)
    assert "The draw has not happened yet" in shown
    assert "How representative" in shown
    assert not [x for x in _personal_data() if x in shown]
    assert [b.label for b in at.get("download_button")] == ["Download the transparency report (a printable page)"]


def test_after_the_draw_anyone_sees_commitment_number_bundle_and_how_to_verify(app_env, tmp_path_factory):
    use_drawn_demo(app_env, tmp_path_factory)
    at = goto(open_app(None), PAGE)
    from lib import draws
    from lib.resources import get_db

    rec = draws.revealed_draw(get_db())
    shown = _everything_shown(at)
    grouped = " ".join(rec.commitment[i:i + 4] for i in range(0, 64, 4))
    assert grouped in " ".join(re.sub(r"<[^>]+>", " ", shown).split())
    # each group of four is one block that never breaks across lines (it wrapped mid-group: "325b 1 / f77")
    html = "\n".join(str(m.value) for m in at.markdown)
    assert re.findall(r"<span class='kl-group'[^>]*white-space: nowrap[^>]*>([0-9a-f]{4})</span>", html) == \
        grouped.split()
    assert "break-all" not in html
    assert rec.public_number in shown
    # the full command, with the announced values filled in (a forged self-consistent bundle fails it)
    command = [c.value for c in at.code if c.value.startswith("python -m lib.sortition verify bundle.zip")]
    assert len(command) == 1
    assert f"--commitment {rec.commitment}" in command[0] and "--record record.json --record-head" in command[0]
    labels = [b.label for b in at.get("download_button")]
    assert "Download the audit bundle (bundle.zip)" in labels
    # The chance curve and the panel's make-up, with small groups hidden.
    assert len(at.get("vega_lite_chart")) == 1
    gender = [d.value for d in at.dataframe if "Group" in d.value and "Woman" in d.value["Group"].tolist()][0]
    assert "Selected" in gender.columns
    # (a quota that leaves one possible count, e.g. exactly 1 seat, makes it "not shown": lib/representativeness)
    assert gender.set_index("Group").loc["Non-binary or other", "Selected"] in ("fewer than 5", "0% (0)", "not shown")
    # No personal data and no pseudonyms of the people selected.
    assert not [x for x in _personal_data() if x in shown]
    assert not [p for p in rec.selected_ids if p in shown]


def test_every_role_can_open_the_transparency_page(app_env):
    for role in ("volunteer", "member", "organiser"):
        at = goto(open_app(role), PAGE)
        assert "How the assembly's members were chosen" in texts(at)


def test_the_how_representative_tables_share_one_column_order(app_env, tmp_path_factory):
    """Issue 15: after the draw, some fields' tables read "Signed up, Ready for the draw, Selected" and
    others "Signed up, Selected, Ready for the draw"."""
    use_drawn_demo(app_env, tmp_path_factory)
    at = goto(open_app(None), PAGE)
    tables = [d.value for d in at.dataframe if "Group" in d.value.columns and "Community" in d.value.columns]
    assert len(tables) >= 5
    want = ["Group", "Community", "Signed up", "Ready for the draw", "Selected"]
    assert [t.columns.tolist() for t in tables] == [want] * len(tables)
