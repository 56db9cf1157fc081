"""The draw records (lib/draws/records.py): computed → committed → revealed, re-runs, replacement chains.

Runs the real engine on the demo pool (596 eligible sign-ups) with the targets for two
fields (gender, age) and a panel of 10, so that each lottery takes about a second.
"""

from __future__ import annotations

import hashlib

import pytest

from lib import draws
from tests.draw_fixtures import small_demo_template
from lib.sortition.audit.model import Quota
from lib.sortition.audit.verify import verify_bundle
from lib.recruitment.targets import load_targets, save_target_version

K = 10


@pytest.fixture(scope="module")
def small_template(tmp_path_factory):
    """The demo assembly plus a target version for two fields and a panel of 10, built once."""
    return small_demo_template(tmp_path_factory.mktemp("draws"), K)


@pytest.fixture
def small_db(small_template, tmp_path):
    import shutil

    from lib.store.db import open_database

    shutil.copy(small_template, tmp_path / "small.duckdb")
    database = open_database(tmp_path / "small.duckdb")
    yield database
    database.close()


def _compute(db, **kw):
    kw.setdefault("legacy_seconds", 0.5)
    kw.setdefault("time_limit", 30)
    kw.setdefault("M", 200)
    return draws.compute_draw(db, actor="alex", **kw)


def _drawn(db, number="12 07 33 41"):
    rec = _compute(db)
    draws.commit_draw(db, rec.draw_id, actor="alex")
    return draws.reveal_draw(db, rec.draw_id, number, actor="sam")


def test_no_draw_before_the_targets_are_frozen(small_db):
    with pytest.raises(draws.DrawError, match="Freeze the targets"):
        _compute(small_db)
    assert draws.latest_draw(small_db) is None


def test_freezing_stops_target_changes(small_db):
    from lib.recruitment.targets import TargetsFrozen, version_info

    v = draws.freeze_targets(small_db, actor="alex")
    info = version_info(small_db, v)
    assert info.frozen and info.frozen_by == "alex"
    with pytest.raises(TargetsFrozen):
        save_target_version(small_db, load_targets(small_db, v), panel_size=K, note="again", actor="x")
    assert draws.frozen_inputs(small_db).panel_size == K


def test_lifecycle_computed_committed_revealed(small_db):
    draws.freeze_targets(small_db, actor="alex")
    rec = _compute(small_db)
    assert rec.status == "computed" and rec.kind == "draw"
    assert rec.commitment is None and rec.public_number is None and rec.selected_ids == []
    assert abs(sum(rec.probabilities.values()) - K) < 1e-9          # appearances / M sum to k
    assert rec.min_probability > 0 and rec.min_probability == min(rec.probabilities.values())
    assert rec.legacy_probabilities and rec.legacy_draws > 0
    assert draws.draw_bundle(small_db, rec.draw_id) is None

    with pytest.raises(draws.DrawError, match="not been published"):
        draws.reveal_draw(small_db, rec.draw_id, "123", actor="sam")

    committed = draws.commit_draw(small_db, rec.draw_id, actor="alex")
    lottery = draws.frozen_lottery(small_db, rec.draw_id)
    assert committed.status == "committed"
    from lib.sortition.audit.public import public_bytes   # the commitment is the SHA-256 of the public text (v2)
    assert committed.commitment == hashlib.sha256(public_bytes(lottery)).hexdigest()
    assert draws.commit_draw(small_db, rec.draw_id, actor="x").commitment == committed.commitment  # idempotent

    with pytest.raises(draws.DrawError, match="empty"):
        draws.reveal_draw(small_db, rec.draw_id, "   ", actor="sam")
    revealed = draws.reveal_draw(small_db, rec.draw_id, " 12  07 33 41 ", actor="sam")
    assert revealed.status == "revealed" and revealed.public_number == "12073341"   # only digits count (1.1)
    assert len(revealed.selected_ids) == K
    assert lottery.instance.panel_problems(revealed.selected_ids) == []
    assert sorted(revealed.selected_ids + revealed.reserve_ids) == sorted(lottery.instance.ids)
    assert draws.revealed_draw(small_db).draw_id == rec.draw_id
    assert draws.current_panel(small_db) == sorted(revealed.selected_ids)

    bundle = draws.draw_bundle(small_db, rec.draw_id)
    result = verify_bundle(bundle, commitment=committed.commitment, public_number="12 07 33 41")
    assert result.ok, result.problems

    with pytest.raises(draws.DrawError, match="already revealed"):
        draws.reveal_draw(small_db, rec.draw_id, "99", actor="sam")


def test_the_same_inputs_are_not_computed_twice(small_db):
    draws.freeze_targets(small_db, actor="alex")
    first = _compute(small_db)
    again = _compute(small_db)
    assert again.draw_id == first.draw_id
    assert len(draws.list_draws(small_db)) == 1


def test_a_second_draw_on_the_same_inputs_is_recorded_as_a_rerun(small_db):
    draws.freeze_targets(small_db, actor="alex")
    first = _drawn(small_db)
    assert first.rerun_of is None
    second = _compute(small_db)
    assert second.draw_id != first.draw_id
    assert second.rerun_of == first.draw_id
    with pytest.raises(draws.DrawError, match="Say why the draw is run again"):
        draws.commit_draw(small_db, second.draw_id, actor="alex")
    draws.commit_draw(small_db, second.draw_id, actor="alex", reason="the venue changed")
    draws.reveal_draw(small_db, second.draw_id, "5", actor="alex")
    assert draws.revealed_draw(small_db).draw_id == second.draw_id
    assert [d.rerun_of for d in draws.list_draws(small_db)] == [None, first.draw_id]


def test_quotas_that_cannot_be_met_need_an_accepted_relaxation(small_db):
    draws.freeze_targets(small_db, actor="alex")
    base = draws.frozen_inputs(small_db)
    nonbinary = small_db.scalar("SELECT count(*) FROM person_values WHERE field = 'gender' "
                                "AND value = 'Non-binary or other'")
    quotas = [q if (q.feature, q.value) != ("gender", "Non-binary or other")
              else Quota(q.feature, q.value, nonbinary + 1, K) for q in base.quotas]
    inputs = draws.FrozenInputs(base.target_version, K, quotas, base.frozen_at, base.frozen_by)
    report = draws.check_inputs(small_db, inputs)
    assert not report.feasible
    assert f"only {nonbinary}" in report.message()
    with pytest.raises(draws.DrawError, match="cannot all be met"):
        _compute(small_db, inputs=inputs)
    rec = _compute(small_db, inputs=inputs, relaxation=report.relaxation)
    assert rec.relaxation and rec.relaxation[0]["new_min"] <= nonbinary
    assert rec.diagnosis
    draws.commit_draw(small_db, rec.draw_id, actor="alex")
    draws.reveal_draw(small_db, rec.draw_id, "42", actor="alex")
    assert verify_bundle(draws.draw_bundle(small_db, rec.draw_id)).ok


def test_replacement_chain_restores_the_panel_and_verifies(small_db):
    draws.freeze_targets(small_db, actor="alex")
    first = _drawn(small_db)
    with pytest.raises(draws.DrawError, match="not on the current panel"):
        draws.prepare_replacement(small_db, ["P-9999"], "alex", M=100)
    dropouts = first.selected_ids[:2]
    r1 = draws.prepare_replacement(small_db, dropouts, "alex", M=100, time_limit=30)
    assert (r1.kind, r1.status, r1.round, r1.parent_id, r1.root_id) == ("replacement", "computed", 1,
                                                                         first.draw_id, first.draw_id)
    assert not set(r1.probabilities) & set(first.selected_ids)       # reserve pool only
    with pytest.raises(draws.DrawError, match="not been published"):
        draws.reveal_draw(small_db, r1.draw_id, "1", actor="alex")
    draws.commit_draw(small_db, r1.draw_id, actor="alex")
    r1 = draws.reveal_draw(small_db, r1.draw_id, "777", actor="alex")
    assert sorted(r1.replaces) == sorted(dropouts) and len(r1.selected_ids) == 2
    panel = draws.current_panel(small_db)
    assert len(panel) == K and not set(dropouts) & set(panel) and set(r1.selected_ids) <= set(panel)
    lottery = draws.frozen_lottery(small_db, first.draw_id)
    assert lottery.instance.panel_problems(panel) == []
    assert draws.revealed_draw(small_db).draw_id == first.draw_id     # still the main draw
    assert verify_bundle(draws.draw_bundle(small_db, r1.draw_id)).ok

    # round 2 continues round 1; a stale round prepared on the old panel cannot be revealed
    stale = draws.prepare_replacement(small_db, [panel[0]], "alex", M=100)
    draws.commit_draw(small_db, stale.draw_id, actor="alex")
    r2 = draws.prepare_replacement(small_db, [panel[1]], "alex", M=100)
    assert r2.round == 2 and r2.parent_id == r1.draw_id
    with pytest.raises(draws.DrawError, match="Say why"):               # one live commitment per round
        draws.commit_draw(small_db, r2.draw_id, actor="alex")
    draws.commit_draw(small_db, r2.draw_id, actor="alex", reason="a second member dropped out")
    assert draws.get_draw(small_db, stale.draw_id).status == "withdrawn"
    with pytest.raises(draws.DrawError, match="withdrawn"):
        draws.reveal_draw(small_db, stale.draw_id, "32", actor="alex")
    draws.reveal_draw(small_db, r2.draw_id, "31", actor="alex")
    with pytest.raises(draws.DrawError, match="withdrawn"):
        draws.reveal_draw(small_db, stale.draw_id, "33", actor="alex")
    result = verify_bundle(draws.draw_bundle(small_db, r2.draw_id))
    assert result.ok, result.problems
    assert len(draws.current_panel(small_db)) == K


def test_background_job_reports_progress_and_result(small_db):
    draws.freeze_targets(small_db, actor="alex")
    job_id = draws.start_draw_job(small_db, actor="alex", legacy_seconds=0.2, M=100, time_limit=30)
    job = draws.wait_for_job(small_db, job_id, timeout=60)
    assert job.status == "done" and job.progress == 1.0
    assert job.draw_id == draws.latest_draw(small_db).draw_id


def test_an_interrupted_job_is_reported_not_left_running(small_db):
    small_db.transaction(lambda cur: cur.execute(
        "INSERT INTO draw_jobs (job_id, kind, status, started_by) VALUES (nextval('draw_job_seq'), 'draw', "
        "'running', 'alex')"))
    assert draws.running_job(small_db) is None
    job = draws.last_job(small_db, "draw")
    assert job.status == "failed" and "interrupted" in job.error


def test_a_failing_job_says_why(small_db):
    job_id = draws.start_draw_job(small_db, actor="alex", legacy_seconds=0)  # nothing frozen yet
    job = draws.wait_for_job(small_db, job_id)
    assert job.status == "failed" and "Freeze the targets" in job.error


def test_printable_page_and_grouped_commitment(small_db):
    draws.freeze_targets(small_db, actor="alex")
    rec = draws.commit_draw(small_db, _compute(small_db, M=50).draw_id, actor="alex")
    page = draws.printable_lottery_html(rec, draws.frozen_lottery(small_db, rec.draw_id), title="Riverside")
    assert draws.group_commitment(rec.commitment) in page
    assert len(draws.group_commitment(rec.commitment).split()) == 16
    assert page.count("<tr><td>") >= 50 and "<td>49</td>" in page


def test_people_frames_show_contacts_only_on_request(small_db):
    draws.freeze_targets(small_db, actor="alex")
    rec = _drawn(small_db)
    plain = draws.selected_frame(small_db, rec)
    assert list(plain["Pseudonym"]) == rec.selected_ids
    assert "Name" not in plain.columns and "Email" not in plain.columns
    named = draws.selected_frame(small_db, rec, with_contacts=True)
    assert named["Name"].notna().all()
    reserve = draws.reserve_frame(small_db, rec)
    assert list(reserve["Pseudonym"][:5]) == rec.reserve_ids[:5] and reserve["Reserve rank"].iloc[0] == 1


def test_people_who_left_the_sign_ups_are_kept_out_of_the_reserve(small_db):
    import csv
    import io

    from lib.store.config import DEMO_DIR
    from lib.recruitment.signups.grid import grid_from_csv_bytes
    from lib.recruitment.signups.mapping import load_mapping
    from lib.recruitment.signups.sync import sync_grid

    draws.freeze_targets(small_db, actor="alex")
    first = _drawn(small_db)
    gone = first.reserve_ids[0]
    gone_row = small_db.scalar("SELECT row_number FROM people WHERE person_id = ?", [gone])
    rows = list(csv.reader(io.StringIO((DEMO_DIR / "signups.csv").read_text(encoding="utf-8"))))
    del rows[gone_row - 1]                                   # this person asked to be removed from the sheet
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    sync_grid(small_db, grid_from_csv_bytes(buf.getvalue().encode(), "sheet"), load_mapping(small_db),
              source_kind="csv", source_label="sheet", actor="alex")
    assert small_db.scalar("SELECT removed_sync IS NOT NULL FROM people WHERE person_id = ?", [gone])

    r = draws.prepare_replacement(small_db, first.selected_ids[:1], "alex", M=100)
    assert gone in r.excluded and gone not in r.probabilities
    draws.commit_draw(small_db, r.draw_id, actor="alex")
    r = draws.reveal_draw(small_db, r.draw_id, "8", actor="alex")
    assert gone not in draws.current_panel(small_db)
    assert verify_bundle(draws.draw_bundle(small_db, r.draw_id)).ok


def test_fairness_summary_claims_only_what_the_trial_runs_can_show():
    from datetime import datetime, timezone

    def record(legacy_draws):
        fair = {"a": 0.3, "b": 0.3, "c": 0.4, "d": 0.0}
        legacy = {"a": 0.0, "b": 0.0005, "c": 0.9, "d": 0.0995}
        return draws.DrawRecord(1, "draw", "computed", datetime.now(timezone.utc), None, 1, 1, "leximin", None, None,
                                [], [], fair, legacy, 0.0, 0.2, None, [], None, legacy_draws=legacy_draws)

    few = draws.fairness_summary(record(50))
    assert (few["legacy_never"], few["fair_none"], few["legacy_almost_none"]) == (1, 1, None)
    many = draws.fairness_summary(record(2000))
    assert many["legacy_almost_none"] == 2 and many["fair_almost_none"] == 1
    assert draws.chance_text(0.05) == "about 1 in 20 (5.0%)" and draws.chance_text(0) == "no chance at all (0%)"


def test_no_draw_on_frozen_targets_whose_questions_changed_since(small_db):
    """The set-up page lets organisers change a question after a freeze (starting a new target version):
    the draw must not go on with the old frozen quotas, which may name answers that no longer exist."""
    from lib.recruitment.assembly_setup import save_questions
    from lib.recruitment.categories import load_fields

    small_db.transaction(lambda cur: cur.execute("DELETE FROM settings WHERE key = 'demo_database'"))  # real now
    draws.freeze_targets(small_db, actor="alex")
    fields = load_fields(small_db)
    gender = next(f for f in fields if f.key == "gender")
    old = gender.values[0]
    gender.values[0] = old + " (renamed)"
    gender.value_labels = {(old + " (renamed)" if v == old else v): lab for v, lab in gender.value_labels.items()}
    gender.aliases = {(old + " (renamed)" if v == old else v): a for v, a in gender.aliases.items()}
    saved = save_questions(small_db, fields, actor="alex", new_version=True)
    assert saved.new_version is not None
    with pytest.raises(draws.DrawError, match="questions changed after target version"):
        _compute(small_db)
    with pytest.raises(draws.DrawError, match="Freeze the newer target version"):
        draws.check_inputs(small_db)
    assert draws.latest_draw(small_db) is None


def test_a_second_computation_is_refused_naming_who_started_the_first_in_plain_words(small_db, monkeypatch):
    """Two organisers' tabs pressing "Compute" at once: the second was told "started by organiser:Sam Lee"."""
    import threading

    from lib.draws import jobs

    release = threading.Event()

    def slow_draw(db, **_kw):
        release.wait(30)
        raise draws.DrawError("stopped by the test")

    monkeypatch.setattr(jobs, "compute_draw", slow_draw)
    first = draws.start_draw_job(small_db, actor="organiser:Sam Lee")
    try:
        with pytest.raises(draws.DrawError) as refused:
            draws.start_draw_job(small_db, actor="organiser:Ana")
        assert "started by Sam Lee is still running" in str(refused.value)
        assert "organiser:" not in str(refused.value)
    finally:
        release.set()
        draws.wait_for_job(small_db, first, timeout=30)
