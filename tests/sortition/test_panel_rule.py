"""One panel rule: the engine (Instance.panel_problems), the ceremony and the verifier (PanelChecker)
agree on every panel, and both agree with the rule written out plainly here."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from lib.sortition.audit.model import Instance, PanelChecker, Person, Quota

AGES = ["young", "middle", "old"]
AREAS = ["north", "south"]


def plainly_valid(inst: Instance, panel: list[str]) -> bool:
    """The rule as a person would state it: k different people from the pool, every quota met, and
    (when the rule is on) nobody from the same household twice."""
    by_id = {p.id: p for p in inst.people}
    if len(panel) != len(set(panel)) or len(panel) != inst.panel_size or any(i not in by_id for i in panel):
        return False
    for q in inst.quotas:
        n = sum(1 for i in panel if by_id[i].features.get(q.feature) == q.value)
        if not q.min <= n <= q.max:
            return False
    if inst.one_per_household:
        homes = Counter(by_id[i].household for i in panel if by_id[i].household)
        if any(n > 1 for n in homes.values()):
            return False
    return True


@st.composite
def instances_and_panels(draw):
    n = draw(st.integers(3, 12))
    people = [
        Person(
            f"p{i}",
            {"age": draw(st.sampled_from(AGES)), "area": draw(st.sampled_from(AREAS))},
            draw(st.sampled_from([None, "h1", "h2", "h3"])),
        )
        for i in range(n)
    ]
    k = draw(st.integers(1, n))
    quotas = []
    for feature, values in (("age", AGES), ("area", AREAS)):
        for v in draw(st.lists(st.sampled_from(values), unique=True)):
            lo = draw(st.integers(0, k))
            quotas.append(Quota(feature, v, lo, draw(st.integers(lo, k))))
    inst = Instance(people, quotas, k, one_per_household=draw(st.booleans()))
    ids = [p.id for p in people] + ["stranger"]
    panel = draw(st.lists(st.sampled_from(ids), min_size=max(0, k - 1), max_size=k + 1))
    return inst, panel


@settings(max_examples=400, deadline=None)
@given(instances_and_panels())
def test_engine_and_verifier_agree_on_every_panel(case):
    inst, panel = case
    engine = inst.is_valid_panel(panel)
    verifier = not PanelChecker(inst).problems(panel)
    assert engine == verifier == plainly_valid(inst, panel), (inst, panel, PanelChecker(inst).problems(panel))


def test_an_invalid_panel_says_why_in_plain_words():
    people = [Person("a", {"age": "young"}, "h1"), Person("b", {"age": "young"}, "h1"), Person("c", {"age": "old"})]
    inst = Instance(people, [Quota("age", "old", 1, 1)], 2, one_per_household=True)
    assert inst.panel_problems(["a", "b"]) == [
        "age = old: 0 selected, at least 1 needed",
        "a and b are in the same household (h1)",
    ]
    assert inst.panel_problems(["a", "c"]) == []
