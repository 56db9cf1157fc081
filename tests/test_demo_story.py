"""The demo's 'skip ahead': a real draw, then a few invented weeks, the same every time."""

from __future__ import annotations

import pytest

from lib.errors import UserError


def test_skip_ahead_draws_the_panel_and_fills_the_later_stages(demo_db):
    from lib import draws
    from lib import evaluation
    from lib import assembly as part
    from lib.demo.story import DEMO_PUBLIC_NUMBER, fast_forward, story_told

    fast_forward(demo_db, time_limit=30)
    rec = draws.revealed_draw(demo_db)
    assert rec is not None and rec.public_number and len(rec.selected_ids) == 30
    assert DEMO_PUBLIC_NUMBER.split()[0] in rec.public_number
    counts = part.status_counts(demo_db)
    assert sum(counts.values()) == 30
    assert counts["withdrawn"] == 1
    assert part.attended_last_session(demo_db) >= 15
    waves = evaluation.waves(demo_db)
    assert len(waves) == 1 and waves[0].status == "closed"
    # the story's members answer unless their own draw says not (lib/demo_story: about 85%); which members
    # there are depends on the panel, which differs from run to run (each lottery has its own secret ids)
    from lib.demo.story import _u

    statuses = part.member_statuses(demo_db)
    members = statuses[statuses["status"] != "withdrawn"]["person_id"].tolist()
    assert len(members) == 29
    answering = sum(1 for p in members if _u("answers", p) <= 0.85)
    assert answering >= 15                                   # "answered by most"
    assert evaluation.response_count(demo_db, waves[0].wave_id) == answering   # every answer was written
    assert story_told(demo_db)
    with pytest.raises(UserError, match="already been drawn"):
        fast_forward(demo_db)


def test_skip_ahead_refuses_a_real_assembly(db):
    from lib.demo.story import fast_forward

    with pytest.raises(UserError, match="only works on the demo"):
        fast_forward(db)
