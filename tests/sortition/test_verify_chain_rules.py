"""The replacement chain's rules, each with its own words (lib.sortition.audit.verify): a round names the
draw it continues, its reserve pool and its quotas follow from the members who stay. The bundle tests make
whole honest and forged bundles; these reach the forgeries that are hard to build as a bundle."""

from __future__ import annotations

from types import SimpleNamespace

from lib.sortition.audit.ceremony import QuotaChangeRecord, ReplacementContext
from lib.sortition.audit.model import Instance, Person, Quota
from lib.sortition.audit.verify import _link_problems, _reserve_pool_problems, _round_quota_problems

A, B, C = "a" * 64, "b" * 64, "c" * 64


def test_a_round_must_name_the_draw_it_continues_the_first_draw_and_the_next_number():
    ctx = ReplacementContext(2, A, B, ("p1",))
    assert _link_problems(ctx, {"commitment": B, "root": A, "round": 1}) == []
    assert _link_problems(ctx, {"commitment": C, "root": C, "round": 2}) == [
        f"this round says it continues the draw with commitment {B}, but previous.zip has commitment {C}",
        f"this round names {A} as the original draw, but the chain starts at {C}",
        "this is called round 2, but previous.zip is round 2",
    ]


def people(*rows):
    return [Person(pid, {"gender": g}, hh) for pid, g, hh in rows]


def test_the_reserve_pool_must_be_everybody_never_selected_with_the_same_answers():
    root = Instance(people(("p1", "W", None), ("p2", "M", None), ("p3", "W", None)), [], 2)
    expected = Instance(people(("p2", "M", None), ("p3", "W", None)), [], 1)
    same = SimpleNamespace(instance=Instance(people(("p3", "W", None), ("p2", "M", None)), [], 1))
    assert _reserve_pool_problems(same, expected, root) == []
    other = SimpleNamespace(instance=Instance(people(("p1", "W", None), ("p3", "W", None)), [], 1))
    assert _reserve_pool_problems(other, expected, root) == [
        "the reserve pool of this round is not everybody who was never selected and is not excluded: "
        "it should not contain p1; it lacks p2"]
    changed = SimpleNamespace(instance=Instance(people(("p2", "W", None), ("p3", "W", "h1")), [], 1))
    assert _reserve_pool_problems(changed, expected, root) == [
        "these people's answers differ from the original pool: p2, p3"]


def test_each_quota_of_a_round_is_the_original_minus_the_members_who_stay_or_says_how_it_was_relaxed():
    expected = Instance([], [Quota("gender", "M", 0, 1), Quota("gender", "W", 1, 1), Quota("age", "old", 0, 1)], 1)
    good = SimpleNamespace(instance=Instance([], list(expected.quotas), 1), relaxation=[])
    assert _round_quota_problems(good, expected) == []
    bad = SimpleNamespace(
        instance=Instance([], [Quota("gender", "M", 0, 2), Quota("gender", "W", 0, 1), Quota("gender", "X", 0, 1)], 1),
        relaxation=[QuotaChangeRecord("gender", "W", 0, 1, 0, 1)])
    assert _round_quota_problems(bad, expected) == [
        "quota gender = M of this round is [0, 2], but the original quota minus the members who stay gives [0, 1]",
        "relaxed quota gender = W: the adjusted quota was [1, 1], not [0, 1]",
        "quota gender = X of this round is not a quota of the original draw",
    ]
    short = SimpleNamespace(instance=Instance([], expected.quotas[:2], 1), relaxation=[])
    assert _round_quota_problems(short, expected) == ["this round does not carry every quota of the original draw"]
