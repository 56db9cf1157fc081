"""The public number and the commitment as people type them (issue 15).

"Spaces do not matter, but every digit does": from engine version 1.1 only the letters and
digits of the public number count, so the number read out as "17 23 05 41 38 09", typed as
"172305413809" or "17-23-05-41-38-09" picks the same panel. Lotteries committed by engine 1.0
keep the rule they were committed under (the version is part of the commitment), so a bundle made
before this change still verifies. The commitment is accepted in the grouped form the app shows.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from lib.sortition.audit.ceremony import ENGINE_VERSION, check_commitment, freeze, normalise_public_number
from lib.sortition.audit.model import InputError
from lib.sortition.audit.record import check_events, new_event
from lib.sortition.audit.verify import verify_bundle, verify_file
from tests.sortition.test_ceremony import tiny
from tests.test_draws import small_db, small_template  # noqa: F401 - fixtures

DATA = Path(__file__).parent / "data"
OLD_PUBLIC = DATA / "public_bundle_before_number_rule_1_1.zip"     # app draw at 71ed281, number "17 23 05 41 38 09"
OLD_V1 = DATA / "bundle_v1_leximin_before_goldilocks.zip"         # command line at 4d1d6a9, number "2026 01 01"

SPELLINGS = ["172305413809", "17 23 05 41 38 09", "17  23 05\t41 38 09 ", "17-23-05-41-38-09", "17,23,05,41,38,09",
             "17.23.05.41.38.09", "17 / 23 / 05 / 41 / 38 / 09", "１７ ２３ ０５ ４１ ３８ ０９", "17–23–05–41–38–09",
             "١٧ ٢٣ ٠٥ ٤١ ٣٨ ٠٩", "१७ २३ ०५ ४१ ३८ ०९", "17\u200b23 05 41 38 09"]


def _lottery(**kw):
    panels = [tuple(sorted(p)) for p in [("dan", "cleo"), ("ann", "bob"), ("ann", "dan")] * 40]
    return freeze(tiny(), panels, algorithm="leximin", created="2026-01-01T00:00:00Z", **kw)


def test_every_spelling_of_the_same_digits_picks_the_same_panel():
    fl = _lottery()
    assert fl.engine_version == ENGINE_VERSION != "1.0"
    draws_ = [fl.draw(s) for s in SPELLINGS]
    assert {d.public_number for d in draws_} == {"172305413809"}
    assert {d.index for d in draws_} == {draws_[0].index}
    assert {d.draw_hash for d in draws_} == {draws_[0].draw_hash}


def test_every_digit_still_counts():
    fl = _lottery()
    base = fl.draw("17 23 05 41 38 09")
    for other in ("17 23 5 41 38 9", "017 23 05 41 38 09", "17 23 05 41 38 08", "17 23 05 41 38"):
        assert fl.draw(other).draw_hash != base.draw_hash, other
    assert fl.draw("AB 12").public_number == "ab12"           # letters count too, case does not
    for empty in ("", "  ", "- , .", "//"):
        with pytest.raises(InputError, match="empty|no digits"):
            fl.draw(empty)


def test_a_lottery_committed_under_engine_1_0_keeps_its_rule():
    fl = _lottery(engine_version="1.0")
    assert fl.engine_version == "1.0"
    assert fl.draw("  17 23  05 41 38 09").public_number == "17 23 05 41 38 09"
    assert fl.draw("17 23 05 41 38 09").draw_hash != fl.draw("172305413809").draw_hash
    assert normalise_public_number(" 17  23 ", engine_version="1.0") == "17 23"
    with pytest.raises(InputError, match="engine version"):
        _lottery(engine_version="9.9").draw("1")


@pytest.mark.parametrize("path,number", [(OLD_PUBLIC, "17 23 05 41 38 09"), (OLD_V1, "2026 01 01")])
def test_bundles_made_before_the_change_still_verify_with_their_announced_values(path, number):
    with zipfile.ZipFile(path) as z:
        m = json.loads(z.read("manifest.json"))
    assert m["engine_version"] == "1.0" and m["public_number"] == number
    res = verify_file(path, commitment=m["commitment"], public_number=number)
    assert res.ok, res.problems
    # under its own rule, another spelling is another number: the announced spelling is checked
    res = verify_file(path, commitment=m["commitment"], public_number=number.replace(" ", ""))
    assert not res.ok and any("not the one you gave" in p for p in res.problems)


def test_a_new_bundle_verifies_with_the_number_in_any_spelling_and_refuses_other_digits():
    from lib.sortition.audit.bundle import bundle_bytes

    fl = _lottery()
    data = bundle_bytes(fl.draw("17 23 05 41 38 09"))
    for spelling in ("172305413809", "17-23-05-41-38-09", "17 23 05 41 38 09"):
        res = verify_bundle(data, commitment=fl.commitment, public_number=spelling)
        assert res.ok, res.problems
    res = verify_bundle(data, commitment=fl.commitment, public_number="17 23 05 41 38 08")
    assert not res.ok


def test_a_manifest_that_claims_the_old_rule_for_a_new_lottery_is_refused():
    """The rule comes from the committed text, not from the manifest: rewriting the manifest's engine
    version (to pick a panel with another spelling) breaks the check of the committed header."""
    from lib.sortition.audit.bundle import bundle_bytes
    from lib.sortition.audit.formats import manifest_bytes, pack_zip, read_zip

    fl = _lottery()
    members, _ = read_zip(bundle_bytes(fl.draw("172305413809")))
    m = json.loads(members["manifest.json"])
    m["engine_version"] = "1.0"
    members["manifest.json"] = manifest_bytes(m)
    res = verify_bundle(pack_zip(members), commitment=fl.commitment)
    assert not res.ok and any("engine_version" in p for p in res.problems)


@pytest.mark.parametrize("shown", [
    "c690 0257 aa11 bb22 cc33 dd44 ee55 ff66 0011 2233 4455 6677 8899 aabb ccdd eeff",
    "C6900257AA11BB22CC33DD44EE55FF660011223344556677 8899AABBCCDDEEFF",
    " c690\u00a00257 aa11 bb22\ncc33 dd44 ee55 ff66 0011 2233 4455 6677 8899 aabb ccdd eeff ",
])
def test_the_commitment_is_accepted_as_the_app_shows_it(shown):
    assert check_commitment(shown) == "c6900257aa11bb22cc33dd44ee55ff66001122334455667788 99aabbccddeeff".replace(" ", "")


def test_a_commitment_with_a_wrong_digit_count_or_letter_is_still_refused():
    for bad in ("c690 0257", "g690" + "0" * 60, "c690-0257" + "0" * 56 + "x"):
        with pytest.raises(InputError, match="64 hexadecimal digits"):
            check_commitment(bad)


def test_the_verify_command_accepts_the_grouped_commitment(tmp_path):
    from lib.sortition.cli import main

    with zipfile.ZipFile(OLD_PUBLIC) as z:
        m = json.loads(z.read("manifest.json"))
    grouped = " ".join(m["commitment"][i:i + 4] for i in range(0, 64, 4)).upper()
    assert main(["verify", str(OLD_PUBLIC), "--commitment", grouped, "--public-number", m["public_number"]]) == 0


def test_the_record_refuses_the_same_digits_again_in_another_spelling():
    a = new_event(None, at="2026-01-01T00:00:00Z", kind="commitment", slot="draw", draw=1, commitment="a" * 64)
    b = new_event(a, at="2026-01-01T00:01:00Z", kind="reveal", slot="draw", draw=1, commitment="a" * 64,
                  public_number="172305413809")
    c = new_event(b, at="2026-01-01T00:02:00Z", kind="commitment", slot="draw", draw=2, commitment="b" * 64,
                  reason="again")
    d = new_event(c, at="2026-01-01T00:03:00Z", kind="reveal", slot="draw", draw=2, commitment="b" * 64,
                  public_number="17 23 05 41 38 09")    # the same digits, written under the 1.0 rule
    res = check_events([a, b, c, d])
    assert not res.ok and any("already used" in p for p in res.problems)


def test_the_app_reveals_the_same_panel_for_any_spelling_and_refuses_the_digits_again(small_db):
    from lib import draws
    from tests.test_draws import _compute

    draws.freeze_targets(small_db, actor="alex")
    a = _compute(small_db)
    draws.commit_draw(small_db, a.draw_id, actor="alex")
    first = draws.reveal_draw(small_db, a.draw_id, "17 23 05 41 38 09", actor="sam")
    assert first.public_number == "172305413809"
    assert first.panel_index == draws.frozen_lottery(small_db, a.draw_id).draw("172305413809").index
    b = _compute(small_db)
    draws.commit_draw(small_db, b.draw_id, actor="alex", reason="run again to test the number rule")
    for spelling in ("172305413809", "17-23-05-41-38-09"):
        with pytest.raises(draws.DrawError, match="already used"):
            draws.reveal_draw(small_db, b.draw_id, spelling, actor="sam")


def test_the_record_head_is_accepted_grouped_and_in_capitals(tmp_path):
    from lib.sortition.cli import main
    from lib.sortition.audit.record import record_bytes

    a = new_event(None, at="2026-01-01T00:00:00Z", kind="commitment", slot="draw", draw=1, commitment="a" * 64)
    b = new_event(a, at="2026-01-01T00:01:00Z", kind="reveal", slot="draw", draw=1, commitment="a" * 64,
                  public_number="172305413809")
    path = tmp_path / "record.json"
    path.write_bytes(record_bytes([a, b]))
    grouped = " ".join(b["hash"][i:i + 4] for i in range(0, 64, 4)).upper()
    assert main(["verify-record", str(path), "--head", grouped]) == 0
    assert main(["verify-record", str(path), "--head", "\n".join(grouped.split(" ", 8))]) == 0
    wrong = grouped[:-1] + ("0" if grouped[-1] != "0" else "1")
    assert main(["verify-record", str(path), "--head", wrong]) != 0
