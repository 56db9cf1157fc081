"""What the Draw page says about a draw (lib/draws/explain.py): its sentences and tables, from records
built here, without a database or a page."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from lib.draws import explain
from lib.draws.chances import fairness_summary
from lib.draws.compute import OBJECTIVE_LABELS
from lib.draws.records import DrawRecord
from lib.sortition.feasibility import QuotaChange


def record(**kw) -> DrawRecord:
    base = dict(draw_id=7, kind="draw", status="computed", created_at=datetime(2026, 3, 5, 18, 30), created_by="Sam",
                target_version=2, panel_size=2, algorithm="leximin", commitment=None, public_number=None,
                selected_ids=[], reserve_ids=[], probabilities={"P-1": 0.5, "P-2": 0.5, "P-3": 0.0},
                legacy_probabilities=None, min_probability=0.0, gini=None, rerun_of=None, replaces=[], note=None)
    base.update(kw)
    return DrawRecord(**base)


def test_the_greedy_draw_is_described_by_what_was_measured():
    rec = record(legacy_probabilities={"P-1": 0.9, "P-2": 0.1, "P-3": 0.0}, legacy_draws=150)
    s = fairness_summary(rec)
    assert explain.greedy_min_text(s) == "never picked in 150 trials"
    assert explain.trials_sentence(s) == ("In 150 trial runs of the greedy draw many groups use, **1** of the 3 "
                                          "sign-ups were never picked. In the fair lottery, **1** have no chance at all.")
    assert explain.trials_caveat(s) == ("Only 150 trial runs fitted in the time allowed, so the greedy draw's "
                                        "figures are rough.")
    many = fairness_summary(record(legacy_probabilities={"P-1": 0.9, "P-2": 0.0005, "P-3": 0.25}, legacy_draws=2000))
    assert explain.greedy_min_text(many) == "about 1 in 2,000 (0.1%)"
    assert "**1** had a chance below 1 in 1,000 (in the fair lottery: **1**)" in explain.trials_sentence(many)
    assert explain.trials_caveat(many) is None
    unmeasured = fairness_summary(record())
    assert explain.greedy_min_text(unmeasured) == "not measured"
    assert explain.trials_sentence(unmeasured) is None and explain.trials_caveat(unmeasured) is None


def test_people_with_no_chance_are_explained_by_whether_the_computer_finished():
    kind, text = explain.zero_chance_notice(record(complete=False))
    assert kind == "warning" and text.startswith("1 sign-up has no chance at all in this lottery, because the computer")
    kind, text = explain.zero_chance_notice(record(complete=True, probabilities={"P-1": 0.0, "P-2": 0.0, "P-3": 1}))
    assert kind == "info" and text.startswith("2 sign-ups have no chance at all in this lottery: no panel")
    assert "1 in 1000" in text
    assert explain.zero_chance_notice(record(probabilities={"P-1": 0.5, "P-2": 0.5})) is None


def test_why_the_computer_stopped():
    assert explain.stop_note(record(complete=None)) is None
    finished = explain.stop_note(record(complete=True, seconds=41.4))     # the organiser sees how long it took
    assert finished.startswith("The computer finished the fairest lottery in 41 seconds")
    proven = explain.stop_note(record(complete=False, gap=0.0, seconds=61.6))
    assert proven.startswith("The computer stopped improving the lottery after 62 seconds (once the smallest chance")
    assert "already the highest possible" in proven
    limit = explain.stop_note(record(complete=False, gap=0.0123, seconds=30))
    assert "(at its time limit)" in limit and "up to 1.23 percentage points higher" in limit
    balanced = explain.stop_note(record(complete=False, gap=0.004, seconds=5, algorithm="goldilocks"))
    assert "proven within 0.40% of the best possible" in balanced


def test_the_two_lotteries_side_by_side():
    rec = record(probabilities={"P-1": 0.2, "P-2": 0.8, "P-3": 1.0})
    table = explain.lotteries_table(rec, {"leximin": rec})
    assert list(table["Lottery"]) == [label + (" (shown above)" if key == "leximin" else "")
                                      for key, label in OBJECTIVE_LABELS.items()]
    mine = table[table["Lottery"].str.endswith("(shown above)")].iloc[0]
    assert mine["People with more than a 50% chance"] == "2" and mine["Largest chance"] == "100%"
    other = table[~table["Lottery"].str.endswith("(shown above)")].iloc[0]
    assert other["Smallest chance"] == "not computed yet" and other["People with more than a 50% chance"] == ""


def test_an_edited_relaxation_keeps_the_suggestion_and_takes_the_organisers_numbers():
    changes = [QuotaChange("gender", "f", 4, 5, 3, 5), QuotaChange("age", "16-29", 2, 2, 1, 3)]
    labels = ({"gender": "Gender"}, {("gender", "f"): "Woman"})
    table = explain.relaxation_table(changes, labels)
    assert table.iloc[0].to_dict() == {"Field": "Gender", "Group": "Woman", "Now at least": 4, "Now at most": 5,
                                       "New at least": 3, "New at most": 5}
    assert table.iloc[1]["Field"] == "age" and table.iloc[1]["Group"] == "16-29"     # no label: the key
    table.loc[1, "New at most"] = 4                                                   # the organiser's edit
    out = explain.relaxation_from_table(changes, table)
    assert out[1] == {"feature": "age", "value": "16-29", "old_min": 2, "old_max": 2, "new_min": 1, "new_max": 4}
    assert out[0]["new_min"] == 3


def test_counts_per_group_name_the_quota_and_whether_it_is_met():
    raw = pd.DataFrame([("gender", "f", 5, 4, 6, "yes"), ("gender", "m", 2, 3, 3, "no")],
                       columns=["field", "value", "selected", "min", "max", "within quota"])
    table = explain.counts_table(raw, ({"gender": "Gender"}, {("gender", "m"): "Man"}))
    assert table.to_dict("records") == [
        {"Field": "Gender", "Group": "f", "On the panel": 5, "Quota": "4–6", "Within quota": "✓ yes"},
        {"Field": "Gender", "Group": "Man", "On the panel": 2, "Quota": "3", "Within quota": "✗ no"},
    ]


def test_a_rerun_reason_is_shown_as_plain_text():
    assert explain.rerun_warning(record()) is None
    text = explain.rerun_warning(record(rerun_of=3, note="**loud** [link](http://x)"))
    assert text.startswith("⚠ This is a **re-run**: draw 3 was already done")
    assert "**loud**" not in text and "[link](http://x)" not in text


def test_a_new_draw_after_a_published_one():
    earlier = record(status="revealed")
    kind, text = explain.earlier_draw_notice(earlier, same_inputs=True)
    assert kind == "warning" and "Draw 7 on these same sign-ups and quotas was already revealed" in text
    kind, text = explain.earlier_draw_notice(record(status="committed"), same_inputs=False)
    assert kind == "info" and text.startswith("Draw 7 was already published, but the sign-ups or the quotas")


def test_withdrawn_commitments_name_the_live_one():
    rec = record(status="withdrawn")
    assert explain.withdrawn_text(rec, None).endswith("can never be revealed. Start a new draw below.")
    assert explain.withdrawn_text(rec, record(draw_id=9)).endswith("The live commitment is draw 9's.")


def test_the_public_number_rule_and_what_is_missing_before_the_reveal():
    assert "same spaces and punctuation" in explain.number_rule("1.0")
    assert "do not matter" in explain.number_rule("2.0") and "do not matter" in explain.number_rule(None)
    assert explain.number_problem("   ", True) == "Type the public random number first."
    assert explain.number_problem("12 07", False).startswith("Tick the box")
    assert explain.number_problem("12 07", True) is None


def test_file_names_and_the_list_of_draws():
    assert explain.export_name(record()) == "draw-7"
    assert explain.export_name(record(kind="replacement", round=2, draw_id=9)) == "replacement-round-2-draw-9"
    rows = explain.history_table([record(status="committed", commitment="ab" * 32, rerun_of=3),
                                  record(draw_id=9, kind="replacement", round=1, status="withdrawn")])
    assert rows.iloc[0]["Status"] == "commitment published" and rows.iloc[0]["Commitment"] == "ab" * 8 + "…"
    assert rows.iloc[0]["Created"] == "05 Mar 2026 18:30" and rows.iloc[0]["Re-run of"] == 3
    assert rows.iloc[1]["Kind"] == "replacement round 1" and rows.iloc[1]["Status"] == "commitment withdrawn"
    assert rows.iloc[1]["Commitment"] == ""
