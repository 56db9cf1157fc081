"""The Draw page's ceremony defects of issue 15, in AppTest (the real app.py): freezing asks first,
the step after the reveal, the commitment in unbreakable groups, the chance chart explained,
infeasibility in the organisers' own labels, the number's spelling rule."""

from __future__ import annotations

import re

import pytest

from lib import draws
from tests.app_pages.helpers import goto, open_app, texts
from tests.app_pages.test_draw_page import _button, _db, draw_env, template  # noqa: F401 - fixtures

DRAW = "pages/draw.py"


def _html(at) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


def test_freezing_the_targets_asks_first_and_says_what_can_still_change(draw_env):
    at = goto(open_app("organiser"), DRAW)
    _button(at, "freeze").click().run()
    assert draws.frozen_inputs(_db()) is None                     # one click no longer freezes
    page = texts(at)
    assert "Freeze target version 2?" in page and "never change again" in page
    assert "What can still change" in page and "new version" in page and "sign-ups keep coming in" in page
    _button(at, "freeze_cancel").click().run()
    assert draws.frozen_inputs(_db()) is None
    assert "never change again" not in texts(at) and _button(at, "freeze")
    _button(at, "freeze").click().run()
    _button(at, "freeze_confirm").click().run()
    inputs = draws.frozen_inputs(_db())
    assert inputs is not None and inputs.target_version == 2
    assert "Target version 2 is frozen" in texts(at)


def _revealed(number="17 23 05 41 38 09"):
    d = _db()
    draws.freeze_targets(d, actor="alex")
    rec = draws.compute_draw(d, actor="alex", M=100, legacy_seconds=0.2)
    draws.commit_draw(d, rec.draw_id, actor="alex")
    return draws.reveal_draw(d, rec.draw_id, number, actor="alex")


def test_after_the_reveal_the_page_is_at_the_last_step(draw_env):
    rec = _revealed()
    page = texts(goto(open_app("organiser"), DRAW))
    assert "Step 6 of 6: Download and share" in page
    assert "Step 5 of 6" not in page
    assert at_progress_full(page)
    assert rec.public_number == "172305413809"


def at_progress_full(page: str) -> bool:
    # every step before the last is struck through as done
    return all(f"~~{i}. " in page for i in range(1, 6))


def test_the_commitment_is_shown_in_groups_that_never_break(draw_env):
    d = _db()
    draws.freeze_targets(d, actor="alex")
    rec = draws.compute_draw(d, actor="alex", M=100, legacy_seconds=0.2)
    rec = draws.commit_draw(d, rec.draw_id, actor="alex")
    at = goto(open_app("organiser"), DRAW)
    html = _html(at)
    groups = re.findall(r"<span class='kl-group'[^>]*white-space: nowrap[^>]*>([0-9a-f]{4})</span>", html)
    assert groups == [rec.commitment[i:i + 4] for i in range(0, 64, 4)]
    assert "overflow-wrap: anywhere" not in html                 # the old box broke anywhere
    # and the number's rule is said as it now is
    assert "do not matter" in texts(at) and "every digit does" in texts(at)


def test_the_chance_chart_says_why_some_chances_are_high(draw_env):
    d = _db()
    draws.freeze_targets(d, actor="alex")
    draws.compute_draw(d, actor="alex", M=100, legacy_seconds=0.2)
    at = goto(open_app("organiser"), DRAW)
    page = texts(at)
    assert "If everybody had the same chance" in page and "left end" in page
    charts = at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert charts


def test_impossible_quotas_are_named_by_their_labels(draw_env):
    from lib.recruitment.targets import load_targets, save_target_version

    d = _db()
    targets = load_targets(d)
    for t in targets:
        if t.value == "Non-binary or other":
            t.share = 0.5
        elif t.field == "gender":
            t.share = 0.25
    save_target_version(d, targets, panel_size=30, note="test", actor="test")
    draws.freeze_targets(d, actor="alex")
    page = texts(goto(open_app("organiser"), DRAW))
    assert "No panel can meet every quota" in page
    assert "Gender “Non-binary or other”" in page, page
    assert "gender = " not in page and "age = " not in page


@pytest.mark.parametrize("typed", ["172305413809", "17-23-05-41-38-09"])
def test_a_number_typed_without_spaces_picks_the_panel_of_the_announced_spelling(draw_env, typed):
    d = _db()
    draws.freeze_targets(d, actor="alex")
    rec = draws.compute_draw(d, actor="alex", M=100, legacy_seconds=0.2)
    draws.commit_draw(d, rec.draw_id, actor="alex")
    expected = draws.frozen_lottery(d, rec.draw_id).draw("17 23 05 41 38 09").index
    at = goto(open_app("organiser"), DRAW)
    at.text_input(key="d_number").input(typed)
    at.checkbox(key="d_sure").check()
    [b for b in at.button if b.proto.is_form_submitter][0].click().run()
    got = draws.get_draw(d, rec.draw_id)
    assert got.status == "revealed" and got.panel_index == expected


def test_a_refused_public_number_is_said_plainly_and_nothing_else_is_lost(draw_env):
    """A number the reveal refuses (no digit or letter at all) is explained in place (pages.common.act): the number typed
    stays in its box, the draw stays committed, and the rest of the page (running the draw again, the list of
    draws) is still there."""
    d = _db()
    draws.freeze_targets(d, actor="alex")
    rec = draws.compute_draw(d, actor="alex", M=100, legacy_seconds=0.2)
    draws.commit_draw(d, rec.draw_id, actor="alex")
    at = goto(open_app("organiser"), DRAW)
    at.text_input(key="d_number").input("- . -")
    at.checkbox(key="d_sure").check()
    [b for b in at.button if b.proto.is_form_submitter][0].click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "digit" in errors[0].lower(), errors
    assert "Something went wrong" not in texts(at)
    assert at.text_input(key="d_number").value == "- . -"
    assert draws.latest_draw(d).status == "committed"
    assert "Every draw so far (1)" in [e.label for e in at.expander]


def test_after_the_reveal_the_command_to_share_has_the_announced_values(draw_env):
    # Step 6 told organisers to share "verify draw-N-bundle.zip" alone, which a forged, self-consistent
    # bundle passes; the command must carry the commitment and the public number announced.
    rec = _revealed("17 23 05 41 38 09")
    at = goto(open_app("organiser"), DRAW)
    commands = [str(c.value) for c in at.code if "lib.sortition verify" in str(c.value)]
    assert commands, "no verify command shown"
    assert all(f"--commitment {rec.commitment}" in c and f"--public-number {rec.public_number}" in c
               for c in commands), commands
    assert "lib.sortition verify" not in " ".join(str(c.value) for c in at.caption)
