"""The Transparency page lists every commitment, withdrawal and reveal, not only the newest draw."""

from __future__ import annotations

import pytest

from lib import draws
from tests.app_pages.helpers import goto, open_app, texts
from tests.draw_fixtures import small_demo_template

PAGE = "pages/transparency.py"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return small_demo_template(tmp_path_factory.mktemp("public_record"))


@pytest.fixture
def steered(app_env, template):
    """A commitment A, replaced by B (one per household switched on) before the number, then B revealed."""
    import shutil

    from lib.resources import get_db
    from lib.store.settings import set_setting

    shutil.copy(template, app_env / "app.duckdb")
    d = get_db()
    draws.freeze_targets(d, actor="alex")
    a = draws.compute_draw(d, actor="alex", M=100, time_limit=30, legacy_seconds=0.2)
    draws.commit_draw(d, a.draw_id, actor="alex")
    set_setting(d, "one_per_household", True, "alex")
    b = draws.compute_draw(d, actor="alex", M=100, time_limit=30, legacy_seconds=0.2)
    draws.commit_draw(d, b.draw_id, actor="alex", reason="We forgot the household rule")
    draws.reveal_draw(d, b.draw_id, "17 23 05 41 38 09", actor="sam")
    return a, draws.get_draw(d, b.draw_id)


def test_visitors_see_the_withdrawn_commitment_and_the_reason(steered):
    a, b = steered
    at = goto(open_app(None), PAGE)
    shown = texts(at)
    assert "1 published commitment was withdrawn before any number revealed it" in shown
    record = [df.value for df in at.dataframe if "What happened" in df.value.columns]
    assert len(record) == 1
    rows = record[0]
    assert rows["What happened"].tolist() == [
        f"Commitment published: draw {a.draw_id}", f"Commitment withdrawn (never revealed): draw {a.draw_id}",
        f"Commitment published: draw {b.draw_id}", f"Revealed with the public random number: draw {b.draw_id}"]
    assert "We forgot the household rule" in rows["Reason given"].tolist()
    assert rows["Public number"].tolist()[-1] == b.public_number
    labels = [btn.label for btn in at.get("download_button")]
    assert "Download the public record (record.json)" in labels
    head = draws.public_record(__import__("lib.resources", fromlist=["get_db"]).get_db())[-1]["hash"]
    assert head in [c.value for c in at.code]


def test_a_draw_run_once_shows_no_warning(app_env, template):
    import shutil

    from lib.resources import get_db

    shutil.copy(template, app_env / "app.duckdb")
    d = get_db()
    draws.freeze_targets(d, actor="alex")
    a = draws.compute_draw(d, actor="alex", M=100, time_limit=30, legacy_seconds=0.2)
    draws.commit_draw(d, a.draw_id, actor="alex")
    at = goto(open_app(None), PAGE)
    assert "Please note" not in texts(at)
    assert "The public random number** has not been drawn yet" in "\n".join(m.value for m in at.markdown)
