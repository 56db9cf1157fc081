"""The Draw page open in two tabs (two sessions of the real app.py on the same DuckDB file): the lottery is
computed in one; a "Compute the fair lottery" click left on the other tab's screen must not start a second
computation nor replace the first one's lottery (nor its switch, left as it was, undo the household rule the
first tab set), and that tab then shows where the draw is, saying why.
"""

from __future__ import annotations

import pytest

from lib import draws
from tests.app_pages.helpers import goto, open_app, texts
from tests.draw_fixtures import small_demo_template

DRAW = "pages/draw.py"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return small_demo_template(tmp_path_factory.mktemp("draw_two_tabs"), 10)


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


def _compute(at) -> draws.DrawRecord:
    at.button(key="compute").click().run()
    job = draws.last_job(_db(), "draw")
    job = draws.wait_for_job(_db(), job.job_id, timeout=180)
    assert job.status == "done", job.error
    at.run()
    assert "The fair lottery is ready" in texts(at)
    return draws.latest_draw(_db())


def _jobs() -> int:
    job = draws.last_job(_db(), "draw")
    return job.job_id if job else 0


def test_a_compute_click_left_on_a_second_tab_starts_nothing(draw_env):
    one = goto(open_app("organiser"), DRAW)
    one.button(key="freeze").click().run()
    one.button(key="freeze_confirm").click().run()
    two = goto(open_app("organiser"), DRAW)                 # the second tab, at step 2 as well
    assert "Compute the fair lottery" in two.button(key="compute").label

    first = _compute(one)                                   # the first tab computes the lottery
    jobs = _jobs()
    two.button(key="compute").click().run()                 # the second tab's button, still on its screen
    assert _jobs() == jobs and draws.latest_draw(_db()).draw_id == first.draw_id
    assert "The fair lottery is ready" in texts(two)

    # Both tabs chose "Start again"; the first changes the household rule and computes a new lottery, then the
    # second's click arrives.
    two.button(key="restart").click().run()
    one.button(key="restart").click().run()
    rule = not one.toggle(key="households").value
    one.toggle(key="households").set_value(rule).run()
    second = _compute(one)
    assert second.draw_id != first.draw_id
    jobs = _jobs()
    two.button(key="compute").click().run()
    assert _jobs() == jobs, "the second tab started another computation"
    assert draws.frozen_inputs(_db()).one_per_household == rule, "the second tab's switch put the old rule back"
    assert draws.latest_draw(_db()).draw_id == second.draw_id, "the second tab's lottery replaced the first's"
    page = texts(two)
    assert "another tab or by another organiser" in page and "The fair lottery is ready" in page
