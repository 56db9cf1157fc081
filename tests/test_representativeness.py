"""Representativeness measures by hand-computed examples, the stages read from the store, and the
printable transparency report."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from types import SimpleNamespace

import pandas as pd

import pytest

from lib.recruitment.categories import Field, load_fields
from lib.recruitment.quotas import QuotaRow
from lib.reporting.representativeness import (FAIR_LABEL, LEGACY_LABEL, chance_curve, chance_summary, chance_table,
                                    collect_stages, comparison, counts_sql, deviation_pp, detail_table,
                                    population_stage, public_table, representation_ratio, stage_from_counts, tvd,
                                    tvd_table)
from lib.recruitment.signups.store import pool_frame
from lib.recruitment.targets import Target, load_targets

AGE = Field("age", "Age band", values=["young", "old"], value_labels={"young": "Young", "old": "Old"})
AREA = Field("area", "Area", values=["north", "south", "east"])


def test_deviation_and_ratio_by_hand():
    assert deviation_pp(0.12, 0.17) == pytest.approx(-5.0)
    assert deviation_pp(0.30, 0.25) == pytest.approx(5.0)
    assert representation_ratio(0.12, 0.16) == pytest.approx(0.75)
    assert representation_ratio(0.05, 0.0) is None


def test_total_variation_distance_by_hand():
    # ½ (|0.5−0.7| + |0.5−0.2| + |0−0.1|) = ½ (0.2 + 0.3 + 0.1) = 0.3
    assert tvd({"a": 0.5, "b": 0.5}, {"a": 0.7, "b": 0.2, "c": 0.1}) == pytest.approx(0.3)
    assert tvd({"a": 0.4, "b": 0.6}, {"a": 0.4, "b": 0.6}) == 0
    assert tvd({"a": 1.0}, {"b": 1.0}) == pytest.approx(1.0)


def test_stage_frames_and_comparison():
    stage = stage_from_counts({("age", "young"): 1, ("age", "old"): 3, ("area", "north"): 2}, [AGE, AREA])
    assert stage.values.tolist() == [["age", "young", 1, 0.25], ["age", "old", 3, 0.75],
                                     ["area", "north", 2, 1.0], ["area", "south", 0, 0.0], ["area", "east", 0, 0.0]]
    pop = population_stage([Target("age", "young", 0.4), Target("age", "old", 0.6)], [AGE, AREA])
    assert pop["share"].tolist() == [0.4, 0.6] and pop["count"].isna().all()
    quotas = [QuotaRow("age", "young", 0.4, 4.0, 4, 4), QuotaRow("age", "old", 0.6, 6.0, 5, 7)]
    comp = comparison({"population": pop, "signups": stage}, [AGE, AREA], quotas=quotas, panel_size=10)
    young = comp[(comp.value == "young") & (comp.stage == "signups")].iloc[0]
    assert young.value_label == "Young" and young.stage_label == "Signed up"
    assert young.deviation_pp == pytest.approx(-15.0)           # 25% against 40%
    assert young.ratio == pytest.approx(0.625)
    old = comp[(comp.value == "old") & (comp.stage == "signups")].iloc[0]
    assert (old.band_min, old.band_max) == (0.5, 0.7)           # 5 to 7 seats of 10
    pop_row = comp[(comp.value == "old") & (comp.stage == "population")].iloc[0]
    assert math.isnan(pop_row.deviation_pp) and pop_row.target == 0.6
    # No target for area: no deviation, no band.
    north = comp[(comp.value == "north")].iloc[0]
    assert math.isnan(north.target) and math.isnan(north.band_min)

    table = tvd_table({"population": pop, "signups": stage}, [AGE, AREA])
    assert table.set_index("field")["Signed up"]["age"] == pytest.approx(0.15)   # ½(0.15 + 0.15)
    assert math.isnan(table.set_index("field")["Signed up"]["area"])              # no targets

    detail = detail_table(comp[comp.field == "age"])
    assert detail.columns.tolist() == ["Group", "Community", "Signed up", "Points off (Signed up)",
                                       "Ratio (Signed up)"]
    assert detail.iloc[0].tolist() == ["Young", "40.0%", "25.0% (1)", "-15.0", "0.62"]


def test_public_table_hides_small_groups_and_their_shares():
    stage = stage_from_counts({("age", "young"): 3, ("age", "old"): 40}, [AGE])
    pop = population_stage([Target("age", "young", 0.4), Target("age", "old", 0.6)], [AGE])
    comp = comparison({"population": pop, "selected": stage}, [AGE])
    public = public_table(comp)
    # With only two groups, showing the other one would give the hidden 3 away (total − 40): both go.
    assert public.to_dict("records") == [{"Group": "Young", "Community": "40%", "Selected": "fewer than 5"},
                                         {"Group": "Old", "Community": "60%", "Selected": "not shown"}]
    assert public_table(comp, organiser=True)["Selected"].tolist() == ["7% (3)", "93% (40)"]
    # Three groups: the smallest other one is not shown either; two small groups protect each other.
    one_small = comparison({"signups": stage_from_counts({("area", "north"): 2, ("area", "south"): 8,
                                                          ("area", "east"): 30}, [AREA])}, [AREA])
    assert public_table(one_small)["Signed up"].tolist() == ["fewer than 5", "not shown", "75% (30)"]
    two_small = comparison({"signups": stage_from_counts({("area", "north"): 2, ("area", "south"): 4,
                                                          ("area", "east"): 30}, [AREA])}, [AREA])
    assert public_table(two_small)["Signed up"].tolist() == ["fewer than 5", "fewer than 5", "83% (30)"]


def test_chance_curve_sorted_and_thinned():
    probs = {f"p{i}": (i % 10) / 100 for i in range(1000)}
    legacy = {f"p{i}": 0.05 for i in range(1000)}
    curve = chance_curve(probs, legacy, max_points=101)
    fair = curve[curve.method == FAIR_LABEL]
    assert len(fair) == 101 and set(curve.method) == {FAIR_LABEL, LEGACY_LABEL}
    assert fair.probability.is_monotonic_increasing
    assert (fair.position.iloc[0], fair.position.iloc[-1]) == (0.0, 100.0)
    assert (fair.probability.iloc[0], fair.probability.iloc[-1]) == (0.0, 0.09)   # lowest and highest kept
    small = chance_curve({"a": 0.3, "b": 0.1, "c": 0.2}, None)
    assert small.values.tolist() == [[FAIR_LABEL, 0.0, 0.1], [FAIR_LABEL, 50.0, 0.2], [FAIR_LABEL, 100.0, 0.3]]
    assert chance_curve(None, None).empty


def test_chance_summary_by_hand():
    s = chance_summary({"a": 0.1, "b": 0.4, "c": 0.2, "d": 0.3}, panel_size=1)
    assert (s.people, s.lowest, s.median, s.highest) == (4, 0.1, pytest.approx(0.25), 0.4)
    assert s.equal_share == 0.25 and s.below_half_equal == 1       # only 0.1 < 0.125
    table = chance_table({"a": 0.1, "b": 0.4, "c": 0.2, "d": 0.3}, {"a": 0.0, "b": 0.5, "c": 0.25, "d": 0.25}, 1)
    assert table["Lowest chance"].tolist() == ["10.0%", "0.00%"]
    assert table["People under half the equal chance"].tolist() == [1, 1]


def test_counts_from_the_store_match_the_pool(demo_db):
    fields = load_fields(demo_db)
    pool = pool_frame(demo_db, eligible_only=True)
    chosen = list(pool.person_id[:30])
    counts = counts_sql(demo_db, person_ids=chosen)
    for f in fields:
        for v in f.values:
            assert counts.get((f.key, v), 0) == int((pool[pool.person_id.isin(chosen)][f.key] == v).sum())
    stages = collect_stages(demo_db, fields, load_targets(demo_db))
    assert list(stages)[:3] == ["population", "signups", "eligible"]
    assert stages["signups"].groupby("field")["share"].sum().round(9).eq(1).all()
    assert int(stages["eligible"].query("field == 'gender'")["count"].sum()) == 596


def _report_data(draw, comp, fields):
    from lib.reporting.transparency import ReportData

    targets = [Target("age", "young", 0.4, "Census 2021 <table 7>"), Target("age", "old", 0.6, "Census 2021")]
    version = SimpleNamespace(version=2, created_by="Ann", note="census", frozen=True, panel_size=10, slack=0,
                              small_group_threshold=0.5, frozen_at=datetime(2026, 11, 1, 18, 0), frozen_by="Bo")
    probs = {f"P-{i}": 0.1 for i in range(100)}
    return ReportData("Riverside & co", datetime(2026, 11, 2, tzinfo=timezone.utc), fields, version, targets,
                      [QuotaRow("age", "young", 0.4, 4.0, 4, 4), QuotaRow("age", "old", 0.6, 6.0, 6, 6)], draw,
                      comp, tvd_table({}, fields), chance_curve(probs, None), chance_table(probs, None, 10),
                      equal_share=0.1)


def test_transparency_report_is_one_printable_page_without_personal_data():
    from lib.reporting.transparency import report_html

    draw = SimpleNamespace(draw_id=3, status="revealed", commitment="ab" * 32, public_number="17 23 41",
                           panel_size=10, rerun_of=None, selected_ids=["P-1", "P-2"])
    stage = stage_from_counts({("age", "young"): 3, ("age", "old"): 7}, [AGE])
    pop = population_stage([Target("age", "young", 0.4), Target("age", "old", 0.6)], [AGE])
    comp = comparison({"population": pop, "selected": stage}, [AGE])
    html = report_html(_report_data(draw, comp, [AGE]))
    assert html.startswith("<!doctype html>") and "@media print" in html
    assert "Riverside &amp; co" in html and "Census 2021 &lt;table 7&gt;" in html    # escaped
    assert "abab abab" in html and "17 23 41" in html                                 # commitment, number
    assert "python -m lib.sortition verify bundle.zip" in html
    assert "<svg" in html and "<polyline" in html                                     # the chance curve
    assert "fewer than 5" in html and "not shown" in html and "70% (7)" not in html   # 3 hidden, so 7 too
    assert "P-1" not in html                                                          # no pseudonyms
    assert "Frozen for the draw on 01 November 2026" in html
    organiser = report_html(_report_data(draw, comp, [AGE]), organiser=True)
    assert "30% (3)" in organiser and "70% (7)" in organiser


def test_transparency_report_before_any_draw(demo_db):
    from lib.reporting.transparency import build_report

    html = build_report(demo_db)
    assert "The draw has not taken place yet." in html
    assert "Riverside census 2021 (synthetic)" in html
    names = [n for (n,) in demo_db.query("SELECT name FROM contacts")]
    emails = [e for (e,) in demo_db.query("SELECT email FROM contacts")]
    assert not [x for x in names + emails if x and x in html]


def test_participation_stages_come_from_the_participation_records(demo_db):
    from datetime import datetime as dt

    from lib import assembly as part

    fields = load_fields(demo_db)
    pool = pool_frame(demo_db, eligible_only=True)
    panel = list(pool.person_id[:12])
    part.enrol_panel(demo_db, panel, None, "test")
    for pid in panel[:8]:                                   # 8 confirm, 2 of them drop out later
        for status in ("contacted", "confirmed"):
            part.change_status(demo_db, pid, status, "test")
    for pid in panel[6:8]:
        part.change_status(demo_db, pid, "withdrawn", "test", reason="moved away")
    sid = part.schedule_session(demo_db, "Session 1", dt(2026, 12, 1, 18, 0), "Library", "test")
    for pid, mark in zip(panel[:6], ["present", "present", "late", "absent", "excused", "present"]):
        part.mark_attendance(demo_db, sid, pid, mark, "test")
    stages = collect_stages(demo_db, fields, load_targets(demo_db))
    assert [s for s in stages if s not in ("population", "signups", "eligible")] == \
        ["confirmed", "attending:2026-12-01"]
    assert int(stages["confirmed"].query("field == 'gender'")["count"].sum()) == 6
    assert int(stages["attending:2026-12-01"].query("field == 'gender'")["count"].sum()) == 4  # present/late
    attending = set(panel[:3]) | {panel[5]}
    expect = (pool[pool.person_id.isin(attending)]["age"] == "65+").sum()
    got = stages["attending:2026-12-01"].set_index(["field", "value"]).loc[("age", "65+"), "count"]
    assert got == expect


def test_the_public_sees_a_draw_only_once_its_commitment_is_published():
    from lib.reporting.transparency import public_view, report_html

    stage = stage_from_counts({("age", "young"): 3, ("age", "old"): 7}, [AGE])
    comp = comparison({"selected": stage}, [AGE])
    computed = SimpleNamespace(draw_id=1, status="computed", commitment=None, public_number=None, panel_size=10,
                               rerun_of=None)
    hidden = public_view(_report_data(computed, comp, [AGE]))
    assert hidden.draw is None and hidden.curve.empty and hidden.chances.empty
    assert "The draw has not taken place yet." in report_html(hidden)
    committed = SimpleNamespace(**{**vars(computed), "status": "committed", "commitment": "cd" * 32})
    shown = public_view(_report_data(committed, comp, [AGE]))
    assert shown.draw is committed and not shown.curve.empty


def test_funnel_table_by_hand():
    from lib.reporting.representativeness import funnel_table

    frame = pd.DataFrame([("age", "young", "selected", 10), ("age", "young", "confirmed", 7),
                          ("age", "young", "withdrawn", 4), ("age", "old", "selected", 20),
                          ("age", "old", "confirmed", 19), ("age", "old", "withdrawn", 1)],
                         columns=["field", "value", "stage", "count"])
    table = funnel_table(frame, AGE, ("selected", "confirmed", "withdrawn"))
    assert table.to_dict("records") == [
        {"Group": "Young", "Selected": 10, "Confirmed": 7, "Withdrawn": 4, "Still on board": "60%"},
        {"Group": "Old", "Selected": 20, "Confirmed": 19, "Withdrawn": 1, "Still on board": "95%"}]


def test_every_public_table_has_one_column_order_whichever_group_or_stage_comes_first():
    """Issue 15: the Transparency tables changed column order from table to table. A first group without a
    target put "Community" after the stages; stages listed in another order moved theirs."""
    pop = population_stage([Target("age", "old", 0.6)], [AGE])            # no target for "young", the first group
    signups = stage_from_counts({("age", "young"): 10, ("age", "old"): 30}, [AGE])
    selected = stage_from_counts({("age", "young"): 5, ("age", "old"): 15}, [AGE])
    want = ["Group", "Community", "Signed up", "Selected"]
    for stages in ({"population": pop, "signups": signups, "selected": selected},
                   {"selected": selected, "signups": signups, "population": pop},
                   {"signups": signups, "population": pop, "selected": selected}):
        for organiser in (False, True):
            assert public_table(comparison(stages, [AGE]), organiser=organiser).columns.tolist() == want
    area_pop = population_stage([Target("area", "north", 0.5), Target("area", "south", 0.5)], [AREA])
    area = stage_from_counts({("area", "north"): 20, ("area", "south"): 20}, [AREA])
    tables = [public_table(comparison({"population": pop, "signups": signups, "selected": selected}, [AGE])),
              public_table(comparison({"signups": area, "population": area_pop}, [AREA]))]
    assert [t.columns.tolist() for t in tables] == [want, ["Group", "Community", "Signed up"]]


@pytest.mark.parametrize("actor, shown", [("organiser:Camille Martin", "by Camille Martin."),
                                          ("organiser", "by an organiser.")])
def test_the_public_report_names_who_froze_the_targets_in_plain_words(actor, shown):
    # The public report said "by organiser:Camille Martin" (the record's internal form).
    from dataclasses import replace

    from lib.reporting.transparency import report_html

    data = _report_data(None, comparison({}, [AGE]), [AGE])
    data = replace(data, version=SimpleNamespace(**{**vars(data.version), "frozen_by": actor}))
    html = report_html(data)
    assert shown in html
    assert "organiser:" not in html
