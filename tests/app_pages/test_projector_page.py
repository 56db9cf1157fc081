"""The projector page (issue 15 point 4) in AppTest, for each state of the ceremony, and the verify
command it and the Transparency page show (issue 15: with --commitment and --public-number filled in,
so that a self-consistent forged bundle fails it)."""

from __future__ import annotations

import re
import shlex

from lib import draws
from tests.app_pages.helpers import assert_ok, goto, open_app, texts
from tests.app_pages.test_draw_page import _db, draw_env, template  # noqa: F401 - fixtures

PROJECTOR = "pages/projector.py"


def _shown(at) -> str:
    parts = [texts(at)] + [str(c.value) for c in at.code] + [str(m.value) for m in at.markdown]
    return "\n".join(parts)


def _personal_data():
    rows = _db().query("SELECT name, email, phone, address FROM contacts")
    return [x for r in rows for x in r if x and len(str(x)) > 3]


def _groups(at) -> list[str]:
    html = "\n".join(str(m.value) for m in at.markdown)
    return re.findall(r"<span class='kl-group'[^>]*>([0-9a-f]{4})</span>", html)


def _command(at) -> str:
    cmds = [c.value for c in at.code if c.value.startswith("python -m lib.sortition verify")]
    assert len(cmds) == 1, [c.value for c in at.code]
    return cmds[0]


def test_visitors_find_the_projector_in_the_menu_and_it_waits_before_any_commitment(draw_env):
    at = goto(open_app(None), PROJECTOR)           # a visitor who has not signed in: it is in their menu
    page = _shown(at)
    assert "The draw has not started yet" in page and "no need to reload" in page
    assert not _groups(at) and not at.code
    # a computed lottery whose commitment is not published is never shown
    d = _db()
    draws.freeze_targets(d, actor="alex")
    rec = draws.compute_draw(d, actor="alex", M=100, legacy_seconds=0.2)
    at.run()
    assert_ok(at)
    assert "The draw has not started yet" in _shown(at) and not _groups(at)
    assert draws.get_draw(d, rec.draw_id).status == "computed"


def test_after_the_commitment_the_projector_shows_it_in_big_groups_and_waits_for_the_number(draw_env):
    d = _db()
    draws.freeze_targets(d, actor="alex")
    rec = draws.compute_draw(d, actor="alex", M=100, legacy_seconds=0.2)
    rec = draws.commit_draw(d, rec.draw_id, actor="alex")
    at = goto(open_app(None), PROJECTOR)
    assert _groups(at) == [rec.commitment[i:i + 4] for i in range(0, 64, 4)]
    page = _shown(at)
    assert "the commitment is published" in page and "Waiting for the number" in page
    assert f"--commitment {rec.commitment}" in _command(at) and "--public-number" not in _command(at)
    assert not at.button and not at.text_input                 # read-only


def test_after_the_reveal_the_projector_shows_the_number_the_panel_by_bundle_id_and_the_command(draw_env):
    from lib.sortition.audit.bundle import read_bundle

    d = _db()
    draws.freeze_targets(d, actor="alex")
    rec = draws.compute_draw(d, actor="alex", M=100, legacy_seconds=0.2)
    draws.commit_draw(d, rec.draw_id, actor="alex")
    at = goto(open_app(None), PROJECTOR)
    assert "Waiting for the number" in _shown(at)
    rec = draws.reveal_draw(d, rec.draw_id, "17 23 05 41 38 09", actor="alex")
    at.run()                                                 # the same open page, run again (as its poll does)
    assert_ok(at)
    page = _shown(at)
    assert "the panel is chosen" in page and "172305413809" in page
    panel_csv = read_bundle(draws.public_bundle(d, rec.draw_id))["panel.csv"].decode().split("\n")
    bundle_ids = [x for x in panel_csv[1:] if x]
    html = "\n".join(str(m.value) for m in at.markdown)
    shown_ids = re.findall(r"<span>([^<]+)</span>", html.split("data-testid='projector-panel'>", 1)[1])
    assert shown_ids == bundle_ids and len(shown_ids) == rec.panel_size
    # never names, contact details or the door pseudonyms of the people chosen
    assert not [x for x in _personal_data() if x in page]
    assert not [p for p in rec.selected_ids if p in page]
    command = _command(at)
    assert f"--commitment {rec.commitment}" in command and "--public-number 172305413809" in command
    assert "--record record.json --record-head" in command


def _run_shown_command(command: str, bundle: bytes, record: bytes, tmp_path) -> int:
    from lib.sortition.cli import main

    (tmp_path / "bundle.zip").write_bytes(bundle)
    (tmp_path / "record.json").write_bytes(record)
    args = shlex.split(command)
    assert args[:4] == ["python", "-m", "lib.sortition", "verify"]
    args = [str(tmp_path / a) if a in ("bundle.zip", "record.json") else a for a in args[4:]]
    return main(["verify", *args])


def test_the_shown_commands_pass_with_the_real_bundle_and_fail_with_a_forged_one(draw_env, tmp_path):
    """The Transparency page (issue 13) and the projector show the full command; run as shown, it passes
    with the real bundle and fails with a self-consistent bundle of another lottery."""
    from lib.sortition.audit.ceremony import freeze
    from lib.sortition.audit.bundle import bundle_bytes

    d = _db()
    draws.freeze_targets(d, actor="alex")
    rec = draws.compute_draw(d, actor="alex", M=100, legacy_seconds=0.2)
    draws.commit_draw(d, rec.draw_id, actor="alex")
    rec = draws.reveal_draw(d, rec.draw_id, "04 18 22 31 40 44", actor="alex")
    bundle, record = draws.public_bundle(d, rec.draw_id), draws.public_record_file(d)
    transparency = goto(open_app(None), "pages/transparency.py")
    shown = _command(transparency)
    assert f"--commitment {rec.commitment}" in shown and f"--public-number {rec.public_number}" in shown
    projector = _command(goto(open_app(None), PROJECTOR))
    assert projector == shown
    for command in (shown, projector):
        assert _run_shown_command(command, bundle, record, tmp_path) == 0
    # a forger's own lottery, drawn with the same number: consistent in itself, but not the announced one
    fl = draws.frozen_lottery(d, rec.draw_id)
    forged = bundle_bytes(freeze(fl.instance, list(reversed(fl.panels)), algorithm=fl.algorithm,
                                 created="forged", check_panels=False).draw(rec.public_number))
    from lib.sortition.audit.verify import verify_bundle

    assert verify_bundle(forged).ok                         # passes without the announced values
    assert _run_shown_command(shown, forged, record, tmp_path) != 0
