"""The Draw page in AppTest (the real app.py): each step of the ceremony, plain errors, roles.

The database holds the demo assembly with one more target version (gender and age only,
panel of 10) so that the fair lottery takes about a second.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lib import draws
from tests.draw_fixtures import small_demo_template
from tests.app_pages.helpers import assert_ok, goto, open_app, texts

DRAW = "pages/draw.py"
K = 10


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The demo assembly plus a target version for two fields and a panel of 10, built once."""
    return small_demo_template(tmp_path_factory.mktemp("draw_page"), K)


@pytest.fixture
def draw_env(app_env, template, monkeypatch):
    import shutil

    monkeypatch.setenv("KLEROTERION_DRAW_TIME_LIMIT", "30")
    monkeypatch.setenv("KLEROTERION_LEGACY_SECONDS", "0.5")
    shutil.copy(template, app_env / "app.duckdb")
    return app_env


def _db():
    from lib.resources import get_db

    return get_db()


def _button(at, key):
    return at.button(key=key)


def _wait_job(kind="draw"):
    job = draws.last_job(_db(), kind)
    assert job is not None
    job = draws.wait_for_job(_db(), job.job_id, timeout=90)
    assert job.status == "done", job.error
    return job


def test_volunteers_members_and_visitors_cannot_open_the_draw_page(draw_env):
    for role in ("volunteer", "member", None):
        at = open_app(role)
        try:
            at.switch_page(DRAW)
        except ValueError as e:           # not in this role's navigation at all
            assert "Could not find a navigation page" in str(e)
            continue
        at.run()                          # if the router ever lets the file run, the page itself refuses
        page = texts(at)
        assert "Step 1 of 6" not in page and "Freeze target" not in page and "commitment" not in page.lower()


def test_whole_ceremony_step_by_step(draw_env):
    at = goto(open_app("organiser"), DRAW)
    page = texts(at)
    assert "Step 1 of 6" in page and "Freeze target version 2" in at.button(key="freeze").label
    _button(at, "freeze").click().run()
    _button(at, "freeze_confirm").click().run()       # freezing asks first
    assert "Target version 2 is frozen" in texts(at)
    assert "panels that meet every quota exist" in texts(at)
    assert "a panel of **10** people" in texts(at)

    _button(at, "compute").click().run()
    _wait_job()
    at.run()
    page = texts(at)
    assert "Step 2 of 6" in page and "The fair lottery is ready" in page
    assert "Smallest chance in the fair lottery" in page and "greedy draw" in page
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")

    # step 3: nothing published yet, then the commitment
    assert draws.latest_draw(_db()).commitment is None
    _button(at, "d_commit").click().run()
    rec = draws.latest_draw(_db())
    assert rec.status == "committed"
    page = "\n".join(str(m.value) for m in at.markdown)
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert draws.group_commitment(rec.commitment) in text          # shown large, in groups of four
    assert "Step 4 of 6" in texts(at)

    # step 4: plain errors for an empty number or a missing confirmation
    at.text_input(key="d_number").input("   ")
    at.checkbox(key="d_sure").check()
    _submit(at)
    assert "Type the public random number first" in texts(at)
    at.text_input(key="d_number").input("12 07 33 41")
    at.checkbox(key="d_sure").uncheck()
    _submit(at)
    assert "Tick the box" in texts(at)
    assert draws.latest_draw(_db()).status == "committed"
    at.text_input(key="d_number").input("12 07 33 41")
    at.checkbox(key="d_sure").check()
    _submit(at)

    # step 5 and 6: the panel, counts per group, downloads; names only on request
    rec = draws.latest_draw(_db())
    assert rec.status == "revealed" and rec.public_number == "12073341"
    page = texts(at)
    assert "Step 6 of 6" in page and "chose panel number" in page
    assert ", ".join(rec.selected_ids) in page
    frames = [df.value for df in at.dataframe]
    assert any("Within quota" in f.columns for f in frames)
    assert not any("Name" in f.columns for f in frames)
    at.toggle(key="d_names").set_value(True).run()
    assert any("Name" in df.value.columns for df in at.dataframe)
    assert_ok(at)

    # a reload resumes at the revealed step
    again = goto(open_app("organiser"), DRAW)
    assert "Step 6 of 6" in texts(again) and "Replacements" in texts(again)


def _submit(at):
    form_buttons = [b for b in at.button if b.proto.is_form_submitter]
    form_buttons[0].click().run()


def test_rerun_needs_a_reason_and_is_shown(draw_env):
    at = goto(open_app("organiser"), DRAW)
    d = _db()
    draws.freeze_targets(d, actor="alex")
    first = draws.compute_draw(d, actor="alex", M=100, legacy_seconds=0.2)
    draws.commit_draw(d, first.draw_id, actor="alex")
    draws.reveal_draw(d, first.draw_id, "5", actor="alex")
    at.run()
    _button(at, "rerun").click().run()
    assert "re-run" in texts(at)
    _button(at, "compute").click().run()
    assert "Please say why the draw is run again" in texts(at)
    at.text_input(key="rerun_reason").input("The bag of balls was dropped").run()
    _button(at, "compute").click().run()
    _wait_job()
    at.run()
    rec = draws.latest_draw(d)
    assert rec.rerun_of == first.draw_id and rec.note == "The bag of balls was dropped"
    assert f"This is a **re-run**: draw {first.draw_id}" in texts(at)
    # publishing it says so in public, with the reason given (filled in, and required)
    assert f"draw {first.draw_id} was already revealed" in texts(at)
    assert at.text_input(key="d_commit_reason").value == "The bag of balls was dropped"
    at.text_input(key="d_commit_reason").input("  ").run()
    _button(at, "d_commit").click().run()
    assert "Please say why the draw is run again" in texts(at)
    assert draws.get_draw(d, rec.draw_id).status == "computed"
    at.text_input(key="d_commit_reason").input("The bag of balls was dropped").run()
    _button(at, "d_commit").click().run()
    assert draws.get_draw(d, rec.draw_id).status == "committed"
    assert draws.public_record(d)[-1]["reason"] == "The bag of balls was dropped"


def test_a_second_commitment_before_the_number_withdraws_the_first(draw_env):
    at = goto(open_app("organiser"), DRAW)
    d = _db()
    draws.freeze_targets(d, actor="alex")
    first = draws.compute_draw(d, actor="alex", M=100, legacy_seconds=0.2)
    draws.commit_draw(d, first.draw_id, actor="alex")
    at.run()
    _button(at, "rerun").click().run()
    at.text_input(key="rerun_reason").input("One person per household was forgotten").run()
    _button(at, "compute").click().run()
    _wait_job()
    at.run()
    assert f"the commitment of draw {first.draw_id} is already published" in texts(at)
    _button(at, "d_commit").click().run()
    assert draws.get_draw(d, first.draw_id).status == "withdrawn"
    live = draws.live_commitment(d)
    assert live is not None and live.draw_id != first.draw_id
    assert "Step 4 of 6" in texts(at)
    # the withdrawn lottery can never be revealed, even by a direct call
    with pytest.raises(draws.DrawError, match="withdrawn"):
        draws.reveal_draw(d, first.draw_id, "12 07 33 41", actor="alex")
    assert [e["kind"] for e in draws.public_record(d)] == ["commitment", "withdrawal", "commitment"]


def test_impossible_quotas_show_the_diagnosis_and_the_suggested_change(draw_env):
    from lib.recruitment.targets import load_targets, save_target_version

    at = goto(open_app("organiser"), DRAW)
    d = _db()
    targets = load_targets(d)
    for t in targets:
        if t.value == "Non-binary or other":
            t.share = 0.5          # half the panel, but only 9 non-binary people signed up
        elif t.field == "gender":
            t.share = 0.25
    save_target_version(d, targets, panel_size=30, note="test", actor="test")
    at.run()
    _button(at, "freeze").click().run()
    _button(at, "freeze_confirm").click().run()       # freezing asks first
    page = texts(at)
    assert "No panel can meet every quota" in page and "only 9" in page
    assert "smallest change" in page
    assert any("New at least" in df.value.columns for df in at.dataframe)      # the editable change
    assert not [b for b in at.button if b.key == "compute"]        # not before accepting
    at.checkbox(key="accept_relax").check().run()
    assert [b for b in at.button if b.key == "compute"]


def test_reveal_without_commitment_is_impossible_and_errors_are_plain(draw_env):
    at = goto(open_app("organiser"), DRAW)
    d = _db()
    draws.freeze_targets(d, actor="alex")
    rec = draws.compute_draw(d, actor="alex", M=100, legacy_seconds=0.2)
    at.run()
    assert "Step 3 of 6" in texts(at)
    assert not [t for t in at.text_input if t.key == "d_number"]     # no number before the commitment
    with pytest.raises(draws.DrawError):
        draws.reveal_draw(d, rec.draw_id, "1", actor="x")
    assert "have changed since this lottery was computed" not in texts(at)
    # the inputs change (one person per household from now on): the computed lottery is flagged as stale
    from lib.store.settings import set_setting

    set_setting(d, "one_per_household", True)
    at.run()
    assert "have changed since this lottery was computed" in texts(at)


def test_the_page_itself_refuses_anyone_but_organisers(draw_env):
    """Defence in depth: even if the page file runs for a volunteer, it shows nothing of the draw."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / DRAW), default_timeout=60)
    at.session_state["role"] = "volunteer"
    at.run()
    assert "Only organisers can run the draw" in texts(at)
    assert not at.button and "Step" not in texts(at)


def test_a_failed_computation_is_explained_on_the_page(draw_env):
    at = goto(open_app("organiser"), DRAW)
    d = _db()
    job_id = draws.start_draw_job(d, actor="alex", legacy_seconds=0)    # the targets are not frozen yet
    assert draws.wait_for_job(d, job_id).status == "failed"
    at.run()
    errors = "\n".join(e.value for e in at.error)
    assert "Freeze the targets" in errors and "Traceback" not in texts(at)
    _button(at, f"dismiss_{job_id}").click().run()
    assert "Freeze the targets" not in "\n".join(e.value for e in at.error)


def test_replacement_round_through_the_page(draw_env):
    at = goto(open_app("organiser"), DRAW)
    d = _db()
    draws.freeze_targets(d, actor="alex")
    first = draws.compute_draw(d, actor="alex", M=100, legacy_seconds=0.2)
    draws.commit_draw(d, first.draw_id, actor="alex")
    first = draws.reveal_draw(d, first.draw_id, "5", actor="alex")
    at.run()
    _button(at, "prepare_replacement").click().run()
    assert "Choose at least one panel member" in texts(at)
    at.multiselect(key="dropouts").select(first.selected_ids[0]).run()
    _button(at, "prepare_replacement").click().run()
    _wait_job("replacement")
    at.run()
    rnd = draws.replacement_rounds(d)[-1]
    assert f"Replacement round 1: replacing {first.selected_ids[0]}" in texts(at)
    _button(at, f"r{rnd.draw_id}_commit").click().run()
    at.text_input(key=f"r{rnd.draw_id}_number").input("9 9 9")
    at.checkbox(key=f"r{rnd.draw_id}_sure").check()
    [b for b in at.button if b.proto.is_form_submitter and "r" + str(rnd.draw_id) in b.proto.form_id][0].click().run()
    rnd = draws.get_draw(d, rnd.draw_id)
    assert rnd.status == "revealed"
    assert first.selected_ids[0] not in draws.current_panel(d)
    assert f"replacing {first.selected_ids[0]}" in texts(at)
    assert_ok(at)


def test_panel_and_reserve_are_written_back_to_the_google_sheet(draw_env, monkeypatch):
    import csv

    from lib.store.config import DEMO_DIR
    from lib.store.settings import set_setting
    from lib.recruitment.signups.mapping import load_mapping
    from lib.recruitment.signups.sources import grid_from_google_sheet
    from lib.recruitment.signups.sync import sync_grid
    from tests.fakesheets import FakeSheets

    with FakeSheets() as fake:
        monkeypatch.setenv("KLEROTERION_SHEETS_API_BASE", fake.base_url)
        with open(DEMO_DIR / "signups.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        key = fake.add_spreadsheet(tabs={"Form responses 1": rows})
        at = open_app("organiser")
        at.secrets["gcp_service_account"] = fake.service_account_info()
        d = _db()
        # the sign-ups came from this Google Sheet
        grid = grid_from_google_sheet(fake.service_account_info(), fake.url(key), "Form responses 1", fake.base_url)
        sync_grid(d, grid, load_mapping(d), source_kind="google_sheet", source_label="sheet", actor="test")
        set_setting(d, "sheet_source", {"spreadsheet": fake.url(key), "worksheet": "Form responses 1"})
        draws.freeze_targets(d, actor="alex")
        rec = draws.compute_draw(d, actor="alex", M=100, legacy_seconds=0)
        draws.commit_draw(d, rec.draw_id, actor="alex")
        rec = draws.reveal_draw(d, rec.draw_id, "5", actor="alex")
        goto(at, DRAW)

        fake.fail(403, times=10)                     # the service account may not write: plain error
        _button(at, "d_sheet").click().run()
        assert at.error and "Traceback" not in texts(at)
        assert not draws.exports(d, rec.draw_id)

        fake.failures.clear()
        _button(at, "d_sheet").click().run()
        assert "Written to the sheet" in texts(at)
        panel = fake.tab(key, f"Selected panel (draw {rec.draw_id})").rows
        reserve = fake.tab(key, f"Reserve list (draw {rec.draw_id})").rows
        assert panel[0][:3] == ["Pseudonym", "Sheet row", "Name"]
        assert [r[0] for r in panel[1:]] == rec.selected_ids
        assert [r[1] for r in reserve[1:4]] == rec.reserve_ids[:3]
        assert fake.tab(key, "Form responses 1").rows == rows        # the sign-ups are untouched
        assert draws.exports(d, rec.draw_id)


def test_a_lottery_cut_short_by_the_time_limit_says_how_good_it_is(draw_env):
    at = goto(open_app("organiser"), DRAW)
    _button(at, "freeze").click().run()
    _button(at, "freeze_confirm").click().run()       # freezing asks first
    _button(at, "compute").click().run()
    _wait_job()
    draw_id = draws.latest_draw(_db()).draw_id

    def shown_with(gap: float) -> str:
        _db().transaction(lambda cur: cur.execute("UPDATE draws SET complete = false, gap = ? WHERE draw_id = ?",
                                                  [gap, draw_id]))
        page = texts(goto(open_app("organiser"), DRAW))
        assert "stopped improving the lottery" in page
        return page

    # the smallest chance already proven best: say so, rather than "might be higher"
    page = shown_with(0.0)
    assert "already the highest possible" in page and "percentage points higher" not in page
    page = shown_with(0.012)
    assert "up to 1.20 percentage points higher" in page and "already the highest possible" not in page
