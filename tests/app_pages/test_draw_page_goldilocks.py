"""The Draw page offers both lotteries before the commitment (issue 12, item 7), in AppTest (the real app.py).

The database holds the demo assembly with one more target version (gender, age and ethnicity, a panel
of 10): small enough for a quick draw, and LEXIMIN gives some people about three times the chance that
the balanced (Goldilocks) lottery gives them, so the comparison shows a difference.
"""

from __future__ import annotations

import shutil

import pytest

from lib import draws
from tests.app_pages.helpers import assert_ok, goto, open_app, texts

DRAW = "pages/draw.py"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    from lib.store.db import open_database
    from lib.demo.load import load_demo
    from lib.recruitment.targets import load_targets, save_target_version

    path = tmp_path_factory.mktemp("draw_goldilocks") / "template.duckdb"
    database = open_database(path)
    load_demo(database)
    targets = [t for t in load_targets(database) if t.field in ("gender", "age", "ethnicity")]
    save_target_version(database, targets, panel_size=10, note="three fields for quick tests", actor="test")
    database.close()
    return path


@pytest.fixture
def draw_env(app_env, template, monkeypatch):
    monkeypatch.setenv("KLEROTERION_DRAW_TIME_LIMIT", "60")
    monkeypatch.setenv("KLEROTERION_LEGACY_SECONDS", "0.5")
    shutil.copy(template, app_env / "app.duckdb")
    return app_env


def _db():
    from lib.resources import get_db

    return get_db()


def _wait_job():
    job = draws.last_job(_db(), "draw")
    job = draws.wait_for_job(_db(), job.job_id, timeout=120)
    assert job.status == "done", job.error
    return job


def _comparison(at):
    frames = [df.value for df in at.dataframe if "Largest chance" in df.value.columns]
    assert len(frames) == 1
    return frames[0].set_index("Lottery")


def _pct(text: str) -> float:
    return float(text.split("(")[-1].rstrip("%)")) if "(" in text else float(text.rstrip("%"))


def test_the_organiser_compares_both_lotteries_and_publishes_the_balanced_one(draw_env):
    at = goto(open_app("organiser"), DRAW)
    at.button(key="freeze").click().run()
    at.button(key="freeze_confirm").click().run()     # freezing asks first
    at.button(key="compute").click().run()
    _wait_job()
    at.run()
    page = texts(at)
    assert "The fair lottery is ready" in page and "Which lottery do you want to publish?" in page
    table = _comparison(at)
    lex_label = draws.OBJECTIVE_LABELS["leximin"] + " (shown above)"
    gold_label = draws.OBJECTIVE_LABELS["goldilocks"]
    assert table.loc[gold_label, "Largest chance"] == "not computed yet"
    assert draws.latest_draw(_db()).algorithm == "leximin"

    # the balanced lottery, computed on the same inputs: both side by side, the newest shown and chosen
    at.button(key="compute_goldilocks").click().run()
    _wait_job()
    at.run()
    assert_ok(at)
    table = _comparison(at)
    gold_label += " (shown above)"
    lex_label = draws.OBJECTIVE_LABELS["leximin"]
    lex_max, gold_max = _pct(table.loc[lex_label, "Largest chance"]), _pct(table.loc[gold_label, "Largest chance"])
    lex_min, gold_min = _pct(table.loc[lex_label, "Smallest chance"]), _pct(table.loc[gold_label, "Smallest chance"])
    assert gold_max < lex_max and gold_min >= 0.75 * lex_min
    assert "The lottery that will be published is **Balanced" in texts(at)
    assert draws.latest_draw(_db()).algorithm == "goldilocks"

    # changing one's mind: back to LEXIMIN (nothing recomputed), then to the balanced one again
    at.button(key="choose_leximin").click().run()
    assert draws.latest_draw(_db()).algorithm == "leximin"
    assert "The lottery that will be published is **Fairest for the least likely" in texts(at)
    at.button(key="choose_goldilocks").click().run()
    rec = draws.latest_draw(_db())
    assert rec.algorithm == "goldilocks" and rec.status == "computed"

    # the commitment records the choice
    at.button(key="d_commit").click().run()
    assert_ok(at)
    rec = draws.latest_draw(_db())
    assert rec.status == "committed" and rec.algorithm == "goldilocks"
    assert draws.frozen_lottery(_db(), rec.draw_id).algorithm == "goldilocks"
    assert "Which lottery do you want to publish?" not in texts(at)
    # and the lottery not chosen stays on record, unpublished
    others = [r for r in draws.list_draws(_db()) if r.algorithm == "leximin"]
    assert others and all(r.status == "computed" for r in others)

    # revealed: the public bundle names the objective and the verifier checks and reports it
    from lib.sortition.audit.verify import verify_bundle

    draws.reveal_draw(_db(), rec.draw_id, "12 07 33 41", actor="test")
    res = verify_bundle(draws.public_bundle(_db(), rec.draw_id))
    assert res.ok, res.problems
    assert res.info["algorithm"] == "goldilocks"
    assert any("Goldilocks with gamma = 1" in line for line in res.passed)
