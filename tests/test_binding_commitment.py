"""One binding commitment: the organisers cannot choose the panel after the public number is known.

The attacks from issue 13, each against the real engine on the small demo assembly:
commit lottery A, change an input (one person per household), compute and commit lottery B,
then try to reveal whichever panel is preferred; and, after a reveal, change an input and
re-run with the same public number. Each must be impossible, or recorded in the public
record that everyone can download and check.
"""

from __future__ import annotations

import json

import pytest

from lib import draws
from lib.store.settings import set_setting
from lib.sortition.audit.record import check_events, check_record, record_bytes
from tests.test_draws import _compute, small_db, small_template  # noqa: F401 - fixtures

NUMBER = "17 23 05 41 38 09"


def _committed(db, **kw):
    rec = _compute(db, **kw)
    return draws.commit_draw(db, rec.draw_id, actor="alex", reason=kw.get("note"))


def _flip_households(db):
    inputs = draws.frozen_inputs(db)
    set_setting(db, "one_per_household", not inputs.one_per_household, "alex")


def test_a_second_commitment_withdraws_the_first_in_public_and_only_the_live_one_can_be_revealed(small_db):
    draws.freeze_targets(small_db, actor="alex")
    a = _committed(small_db)
    _flip_households(small_db)
    b = _compute(small_db)
    assert b.draw_id != a.draw_id
    # publishing B while A is live needs a reason, and nothing changes without one
    with pytest.raises(draws.DrawError, match="Say why"):
        draws.commit_draw(small_db, b.draw_id, actor="alex")
    assert draws.get_draw(small_db, a.draw_id).status == "committed"
    assert draws.get_draw(small_db, b.draw_id).status == "computed"
    assert [e["kind"] for e in draws.public_record(small_db)] == ["commitment"]

    draws.commit_draw(small_db, b.draw_id, actor="alex", reason="we forgot the household rule")
    assert draws.get_draw(small_db, a.draw_id).status == "withdrawn"
    assert draws.live_commitment(small_db).draw_id == b.draw_id
    # the number is now known: A can no longer be revealed, whatever its panel would have been
    with pytest.raises(draws.DrawError, match="withdrawn"):
        draws.reveal_draw(small_db, a.draw_id, NUMBER, actor="sam")
    assert draws.get_draw(small_db, a.draw_id).selected_ids == []
    revealed = draws.reveal_draw(small_db, b.draw_id, NUMBER, actor="sam")
    assert revealed.status == "revealed"

    events = draws.public_record(small_db)
    assert [(e["kind"], e["draw"]) for e in events] == [
        ("commitment", a.draw_id), ("withdrawal", a.draw_id), ("commitment", b.draw_id), ("reveal", b.draw_id)]
    assert events[1]["reason"] == "we forgot the household rule"
    check = check_record(draws.public_record_file(small_db), commitment=revealed.commitment,
                         public_number=revealed.public_number)
    assert check.ok, check.report()
    assert any("withdrawn" in n for n in check.notices)          # the withdrawal is reported, not hidden


def test_after_a_reveal_a_new_draw_cannot_reuse_the_public_number_and_is_shown_to_everyone(small_db):
    draws.freeze_targets(small_db, actor="alex")
    a = _committed(small_db)
    first = draws.reveal_draw(small_db, a.draw_id, NUMBER, actor="sam")
    _flip_households(small_db)
    b = _compute(small_db)
    with pytest.raises(draws.DrawError, match="Say why"):
        draws.commit_draw(small_db, b.draw_id, actor="alex")
    draws.commit_draw(small_db, b.draw_id, actor="alex", reason="a sign-up was wrongly excluded")
    # the same number again (it would pick another panel from the new lottery): refused
    for spelling in (NUMBER, "  17 23 05 41 38 09 ", "１７ ２３ ０５ ４１ ３８ ０９"):
        with pytest.raises(draws.DrawError, match="already used"):
            draws.reveal_draw(small_db, b.draw_id, spelling, actor="sam")
    assert draws.get_draw(small_db, b.draw_id).status == "committed"
    second = draws.reveal_draw(small_db, b.draw_id, "04 18 22 31 40 44", actor="sam")
    assert draws.revealed_draw(small_db).draw_id == second.draw_id
    events = draws.public_record(small_db)
    assert [e["kind"] for e in events] == ["commitment", "reveal", "commitment", "reveal"]
    assert events[2]["reason"] == "a sign-up was wrongly excluded"
    check = check_events(events)
    assert check.ok, check.report()
    assert any("after an earlier draw" in n for n in check.notices)
    assert first.public_number != second.public_number


def test_the_verifier_catches_a_record_that_hides_or_rewrites_a_step(small_db):
    draws.freeze_targets(small_db, actor="alex")
    a = _committed(small_db)
    _flip_households(small_db)
    b = _compute(small_db, note="household rule")
    draws.commit_draw(small_db, b.draw_id, actor="alex")          # the note given at compute time is the reason
    draws.reveal_draw(small_db, b.draw_id, NUMBER, actor="sam")
    events = draws.public_record(small_db)
    head = events[-1]["hash"]
    assert check_record(record_bytes(events), head=head).ok

    hidden = [events[0], events[2], events[3]]                    # drop the withdrawal of A
    assert not check_record(record_bytes(hidden)).ok
    rewritten = json.loads(json.dumps(events))
    rewritten[3]["commitment"] = events[0]["commitment"]          # claim A was revealed
    assert not check_record(record_bytes(rewritten)).ok
    shortened = events[:2]                                        # a record cut before B: not the announced head
    res = check_record(record_bytes(shortened), head=head)
    assert not res.ok and "announced head" in res.report()
    assert a.draw_id != b.draw_id


def test_hand_made_records_that_break_the_rules_fail():
    from lib.sortition.audit.record import new_event

    def chain(*specs):
        out = []
        for kind, c, number, reason in specs:
            out.append(new_event(out[-1] if out else None, at="2026-12-07T10:00:00Z", kind=kind, slot="draw",
                                 draw=1, commitment=c, public_number=number, reason=reason))
        return out

    A, B = "a" * 64, "b" * 64
    two_live = chain(("commitment", A, "", ""), ("commitment", B, "", "x"), ("reveal", B, "1 2 3", ""))
    assert "still live" in check_events(two_live).report()
    reveal_withdrawn = chain(("commitment", A, "", ""), ("withdrawal", A, "", "oops"), ("reveal", A, "1", ""))
    assert "had been withdrawn" in check_events(reveal_withdrawn).report()
    silent = chain(("commitment", A, "", ""), ("withdrawal", A, "", " "), ("commitment", B, "", ""))
    assert "without a reason" in check_events(silent).report()
    reused = chain(("commitment", A, "", ""), ("reveal", A, "7", ""), ("commitment", B, "", "again"),
                   ("reveal", B, "7", ""))
    assert "already used" in check_events(reused).report()
    fine = chain(("commitment", A, "", ""), ("reveal", A, "7", ""))
    assert check_events(fine).ok
    assert not check_record(b"not json").ok and not check_record(b'{"format": "other"}').ok


def _cli(args, cwd):
    """``python -m lib.sortition ARGS`` with the heavy libraries made unimportable (standard library only)."""
    import subprocess
    import sys

    code = ("import sys, runpy\n"
            "for m in ['highspy', 'numpy', 'pandas', 'duckdb', 'streamlit', 'pyarrow', 'altair']:\n"
            "    sys.modules[m] = None\n"
            f"sys.argv = ['lib.sortition', *{list(args)!r}]\n"
            "runpy.run_module('lib.sortition', run_name='__main__')\n")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_anyone_checks_the_bundle_against_the_public_record_with_the_standard_library(small_db, tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    draws.freeze_targets(small_db, actor="alex")
    a = _committed(small_db)
    _flip_households(small_db)
    b = _compute(small_db, note="household rule")
    draws.commit_draw(small_db, b.draw_id, actor="alex")
    rec = draws.reveal_draw(small_db, b.draw_id, NUMBER, actor="sam")
    (tmp_path / "bundle.zip").write_bytes(draws.draw_bundle(small_db, rec.draw_id))
    (tmp_path / "record.json").write_bytes(draws.public_record_file(small_db))
    head = draws.public_record(small_db)[-1]["hash"]
    run = _cli(["verify", str(tmp_path / "bundle.zip"), "--record", str(tmp_path / "record.json"),
                "--record-head", head], root)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASS: the public record is whole" in run.stdout and "withdrawn" in run.stdout

    # a record that leaves out the withdrawal of A (to hide that the draw was run twice) fails
    events = draws.public_record(small_db)
    (tmp_path / "short.json").write_bytes(record_bytes([e for e in events if e["kind"] != "withdrawal"]))
    run = _cli(["verify-record", str(tmp_path / "short.json"), "--head", head], root)
    assert run.returncode == 1 and "FAIL" in run.stdout and "Traceback" not in run.stderr
    # the bundle of the withdrawn lottery A never exists: A was never revealed
    assert draws.draw_bundle(small_db, a.draw_id) is None


def test_a_reason_that_says_nothing_is_refused_and_nothing_is_published(small_db):
    """Found on the landed code: a withdrawal's public reason could be a single letter ("x"), which
    tells the public nothing. A reason needs at least a few words; the refusal changes nothing."""
    draws.freeze_targets(small_db, actor="alex")
    a = _compute(small_db)
    draws.commit_draw(small_db, a.draw_id, actor="alex")
    _flip_households(small_db)
    b = _compute(small_db, note="")
    before = draws.public_record(small_db)
    for says_nothing in ["x", "again", "  ok ok  ", "......!!!!"]:
        with pytest.raises(draws.DrawError, match="too short"):
            draws.commit_draw(small_db, b.draw_id, actor="alex", reason=says_nothing)
    assert draws.public_record(small_db) == before
    assert draws.get_draw(small_db, a.draw_id).status == "committed"
    draws.commit_draw(small_db, b.draw_id, actor="alex", reason="we forgot the household rule")
    assert draws.get_draw(small_db, a.draw_id).status == "withdrawn"
