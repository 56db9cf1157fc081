"""Replacement rounds: refill dropped-out seats so the panel meets the quotas again, verifiably."""

from __future__ import annotations

import pytest

from lib.sortition.audit.bundle import bundle_bytes, read_bundle
from lib.sortition.audit.ceremony import ReplacementContext, freeze, replacement_instance
from lib.sortition.audit.model import PanelChecker
from lib.sortition.audit.model import Instance, InputError, Person, Quota
from lib.sortition.prepare import prepare_lottery
from lib.sortition.replacement import prepare_replacement
from lib.sortition.audit.formats import pack_zip
from lib.sortition.audit.verify import verify_bundle


def pool(one_per_household: bool = False) -> Instance:
    """48 people: gender x age x region (8 of each gender-age pair), k = 6 with tight quotas."""
    people = []
    for i in range(48):
        people.append(Person(f"r{i:02d}", {"gender": ["f", "m"][i % 2], "age": ["young", "mid", "old"][i % 3],
                                           "region": ["north", "south"][(i // 6) % 2]},
                             household=f"house{i // 2}" if one_per_household else None))
    quotas = [Quota("gender", "f", 3, 3), Quota("gender", "m", 3, 3),
              Quota("age", "young", 2, 2), Quota("age", "mid", 2, 2), Quota("age", "old", 2, 2),
              Quota("region", "north", 2, 4), Quota("region", "south", 2, 4)]
    return Instance(people, quotas, 6, name="reserve-test", one_per_household=one_per_household)


@pytest.fixture(scope="module")
def original():
    inst = pool()
    prep = prepare_lottery(inst, M=60, created="2026-03-01T19:00:00Z")
    draw = prep.draw("31 4 15")
    return inst, draw, bundle_bytes(draw)


def test_replacements_restore_every_quota_and_verify(original):
    inst, draw, data = original
    dropouts = list(draw.panel[:2])
    prep = prepare_replacement(data, dropouts, M=40, created="2026-03-08T19:00:00Z")
    rd = prep.draw("7 7 2")
    assert len(rd.newcomers) == 2
    assert not set(rd.newcomers) & set(draw.panel)                 # newcomers come from the reserve
    assert set(rd.panel) == (set(draw.panel) - set(dropouts)) | set(rd.newcomers)
    assert inst.is_valid_panel(rd.panel), inst.panel_problems(rd.panel)
    # the kept members are fixed: every panel in the replacement lottery completes them validly
    checker = PanelChecker(inst)
    kept = set(draw.panel) - set(dropouts)
    assert all(not checker.problems(sorted(kept | set(p))) for p in prep.frozen.panels)
    # who takes which seat: each newcomer paired with one dropout
    assert sorted(r[1] for r in rd.replacements) == sorted(dropouts)
    res = verify_bundle(rd.bundle_bytes())
    assert res.ok, res.problems
    assert any("meets every original quota" in p for p in res.passed)
    assert any("round 1 continues previous.zip" in p for p in res.passed)
    assert read_bundle(rd.bundle_bytes())["previous.zip"] == data


def test_a_second_batch_chains_back_to_the_original_commitment(original):
    inst, draw, data = original
    r1 = prepare_replacement(data, [draw.panel[0]], M=30).draw("1")
    b1 = r1.bundle_bytes()
    r2p = prepare_replacement(b1, [r1.newcomers[0], draw.panel[3]], M=30)
    assert r2p.round == 2
    assert r2p.frozen.context.original_commitment == draw.commitment
    assert r2p.frozen.context.previous_commitment == r1.draw.commitment
    r2 = r2p.draw("2")
    assert not set(r2.newcomers) & ({*draw.panel, *r1.newcomers})   # nobody selected twice
    assert inst.is_valid_panel(r2.panel)
    res = verify_bundle(r2.bundle_bytes())
    assert res.ok, res.problems
    assert res.info["final_panel"] == r2.panel


def test_changing_the_previous_draw_inside_a_replacement_bundle_fails(original):
    inst, draw, data = original
    rd = prepare_replacement(data, [draw.panel[0]], M=20).draw("5")
    members = read_bundle(rd.bundle_bytes())
    prev = read_bundle(members["previous.zip"])
    prev["panel.csv"] = prev["panel.csv"].replace(draw.panel[1].encode(), b"r47")
    members["previous.zip"] = pack_zip(prev)
    res = verify_bundle(pack_zip(members))
    assert not res.ok
    assert any(p.startswith("previous.zip: ") for p in res.problems), res.problems


def test_a_replacement_drawn_from_the_wrong_reserve_is_caught(original):
    inst, draw, data = original
    dropouts = [draw.panel[0]]
    check = verify_bundle(data)
    sub, kept = replacement_instance(check.info["pool"], check.info["quotas"], list(draw.panel), dropouts)
    # sneak a dropout (already selected once) back into the reserve pool
    forged = Instance(sub.people + [p for p in check.info["pool"].people if p.id == dropouts[0]], sub.quotas, 1)
    ctx = ReplacementContext(1, draw.commitment, draw.commitment, tuple(dropouts))
    fl = freeze(forged, [(dropouts[0],)], algorithm="leximin", created="", context=ctx,
                pseudonymise_households=False)
    res = verify_bundle(bundle_bytes(fl.draw("9"), previous=data, replacements=[(dropouts[0], dropouts[0], 3)]))
    assert any(f"should not contain {dropouts[0]}" in p for p in res.problems), res.problems


def test_plain_errors_for_impossible_requests(original):
    inst, draw, data = original
    outsider = next(p.id for p in inst.people if p.id not in draw.panel)
    with pytest.raises(InputError, match="not on the current panel"):
        prepare_replacement(data, [outsider])
    with pytest.raises(InputError, match="at least one"):
        prepare_replacement(data, [])
    with pytest.raises(InputError, match="does not verify"):
        prepare_replacement(data[:-5] + b"xxxxx", [draw.panel[0]])


def test_when_the_reserve_cannot_meet_the_quotas_the_smallest_relaxation_is_recorded(original):
    inst, draw, data = original
    # exclude every reserve person with the age of the first dropout: nobody can refill that age quota
    d = draw.panel[0]
    age = inst.person(d).features["age"]
    excluded = [p.id for p in inst.people if p.features["age"] == age and p.id not in draw.panel]
    prep = prepare_replacement(data, [d], excluded=excluded, M=20)
    assert prep.prepared.relaxation and not prep.prepared.feasible
    assert any(f"age = {age}" in line for line in prep.prepared.diagnosis)
    rd = prep.draw("3")
    assert rd.newcomers[0] not in excluded
    res = verify_bundle(rd.bundle_bytes())
    assert res.ok, res.problems
    assert any("except where this round relaxed them" in p for p in res.passed)


def test_households_of_members_who_stay_are_kept_out_of_the_reserve():
    inst = pool(one_per_household=True)
    draw = prepare_lottery(inst, M=30).draw("11")
    data = bundle_bytes(draw)
    d = draw.panel[0]
    prep = prepare_replacement(data, [d], M=20)
    mates = {f"r{i:02d}" for p in draw.panel if p != d for i in (2 * (int(p[1:]) // 2), 2 * (int(p[1:]) // 2) + 1)}
    reserve = {p.id for p in prep.frozen.instance.people}
    assert not reserve & mates
    rd = prep.draw("12")
    assert inst.is_valid_panel(rd.panel)
    assert verify_bundle(rd.bundle_bytes()).ok
