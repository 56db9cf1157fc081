"""The public draw ceremony: exact bytes, exact hashes, normalisation (golden values).

The golden values below were computed by hand with nothing but hashlib, following
docs/VERIFYING.md; each test also recomputes them from the documented formula, so a
change of format shows up as a failing test on every platform.
"""

from __future__ import annotations

import hashlib

import pytest

from lib.sortition.audit.ceremony import (HashStream, ReplacementContext, draw_hash, freeze, index_from_hash,
                                    normalise_public_number, parse_canonical, public_pool, rank_by_hash,
                                    replacement_instance, select_index)
from lib.sortition.audit.model import Instance, InputError, Person, Quota


def tiny() -> Instance:
    people = [Person("ann", {"age": "young", "gender": "f", "colour": "red"}),
              Person("bob", {"age": "old", "gender": "m"}),
              Person("cleo", {"age": "old", "gender": "f"}),
              Person("dan", {"age": "young", "gender": "m"})]
    quotas = [Quota("gender", "m", 1, 1), Quota("gender", "f", 1, 1), Quota("age", "young", 1, 2)]
    return Instance(people, quotas, 2)


def tiny_lottery(**kw):
    return freeze(tiny(), [("dan", "cleo"), ("ann", "bob"), ("ann", "dan")], algorithm="leximin",
                  created="2026-01-01T00:00:00Z", targets={"ann": 2 / 3, "bob": 1 / 3, "cleo": 1 / 3, "dan": 2 / 3},
                  **kw)


GOLDEN_BYTES = (
    b'{"algorithm":"leximin","created":"2026-01-01T00:00:00Z","engine_version":"1.1",'
    b'"format":"kleroterion-lottery-v1","kind":"draw","m":3,"one_per_household":false,"panel_size":2}\n'
    b'["quota","age","young",1,2]\n'
    b'["quota","gender","f",1,1]\n'
    b'["quota","gender","m",1,1]\n'
    b'["person","ann","",[["age","young"],["gender","f"]]]\n'
    b'["person","bob","",[["age","old"],["gender","m"]]]\n'
    b'["person","cleo","",[["age","old"],["gender","f"]]]\n'
    b'["person","dan","",[["age","young"],["gender","m"]]]\n'
    b'["target","ann","0.666666666667"]\n'
    b'["target","bob","0.333333333333"]\n'
    b'["target","cleo","0.333333333333"]\n'
    b'["target","dan","0.666666666667"]\n'
    b'["panel","cleo","dan"]\n'
    b'["panel","ann","bob"]\n'
    b'["panel","ann","dan"]\n'
)
GOLDEN_COMMITMENT = "9fc042dec2ffe41e379dab3e6f08dd6e43cdd4807c2b7e2738dbd5c7da805812"
GOLDEN_COMMITMENT_1_0 = "bc9eff8de3b37702fa21e4fc9eff048377487e4721d43b6c19270d75fcad033b"   # the same lottery under engine 1.0
GOLDEN_DRAW_HASH = "d5787cec424c7c6c4a50cea1cfbad6ec8bc005e1f94f5b9fc65c94401b607a9b"
GOLDEN_DRAW_HASH_1_0 = "6c87f33b3f4fea09b3968e0ab3b9dbbe2ea60623fdb4c7acd21a66fdc01813c7"


def test_canonical_bytes_and_commitment_are_the_documented_golden_values():
    fl = tiny_lottery()
    assert fl.canonical_bytes() == GOLDEN_BYTES
    assert hashlib.sha256(GOLDEN_BYTES).hexdigest() == GOLDEN_COMMITMENT
    assert fl.commitment == GOLDEN_COMMITMENT
    # the unquoted feature "colour" has no quota: it is not published and does not change the commitment
    assert b"colour" not in fl.canonical_bytes()


def test_selection_function_matches_hand_computation_with_hashlib():
    d = hashlib.sha256(b"kleroterion-draw-v1\n" + GOLDEN_COMMITMENT.encode("ascii") + b"\n" + b"120733").digest()
    assert d.hex() == GOLDEN_DRAW_HASH
    x = int.from_bytes(hashlib.sha256(d + (0).to_bytes(8, "big")).digest(), "big")
    assert x < 2**256 - (2**256 % 3)           # no rejection for this number
    assert x % 3 == 2
    assert select_index(GOLDEN_COMMITMENT, "12 07 33", 3) == 2
    draw = tiny_lottery().draw("  12 07  33 ")
    assert (draw.index, draw.panel, draw.draw_hash, draw.public_number) == (2, ("ann", "dan"), GOLDEN_DRAW_HASH, "120733")
    assert select_index(GOLDEN_COMMITMENT, "12 07 33", 1000) == x % 1000


def test_selection_under_engine_1_0_keeps_the_old_golden_values():
    fl = tiny_lottery(engine_version="1.0")
    assert fl.canonical_bytes() == GOLDEN_BYTES.replace(b'"engine_version":"1.1"', b'"engine_version":"1.0"')
    assert fl.commitment == GOLDEN_COMMITMENT_1_0
    d = hashlib.sha256(b"kleroterion-draw-v1\n" + GOLDEN_COMMITMENT_1_0.encode("ascii") + b"\n" + b"12 07 33").digest()
    assert d.hex() == GOLDEN_DRAW_HASH_1_0
    draw = fl.draw("  12 07  33 ")
    assert (draw.index, draw.panel, draw.draw_hash, draw.public_number) == (1, ("ann", "bob"), GOLDEN_DRAW_HASH_1_0,
                                                                           "12 07 33")


def test_the_same_inputs_give_the_same_commitment_in_any_input_order():
    inst = tiny()
    shuffled = Instance(list(reversed(inst.people)), list(reversed(inst.quotas)), 2)
    a = tiny_lottery()
    b = freeze(shuffled, [("cleo", "dan"), ("bob", "ann"), ("dan", "ann")], algorithm="leximin",
               created="2026-01-01T00:00:00Z", targets={"dan": 2 / 3, "cleo": 1 / 3, "bob": 1 / 3, "ann": 2 / 3})
    assert a.commitment == b.commitment
    # ... but the order of the panels in the list is part of what is committed
    c = freeze(inst, [("ann", "bob"), ("cleo", "dan"), ("ann", "dan")], algorithm="leximin",
               created="2026-01-01T00:00:00Z", targets={"ann": 2 / 3, "bob": 1 / 3, "cleo": 1 / 3, "dan": 2 / 3})
    assert c.commitment != a.commitment


@pytest.mark.parametrize("text", ["12 07 33", "  12 07  33 ", "12\t07\n33", "\u00a012 07\u300033", "１２ ０７ ３３"])
def test_public_number_whitespace_and_width_normalise_to_the_same_number(text):
    assert normalise_public_number(text) == "120733"
    assert normalise_public_number(text, engine_version="1.0") == "12 07 33"
    assert select_index(GOLDEN_COMMITMENT, text, 3) == 2


def test_public_number_case_and_separators_are_ignored_but_zeros_are_not():
    assert normalise_public_number("AbC 0042") == "abc0042"
    assert draw_hash(GOLDEN_COMMITMENT, "ABC") == draw_hash(GOLDEN_COMMITMENT, "abc")
    assert draw_hash(GOLDEN_COMMITMENT, "12,07,33") == draw_hash(GOLDEN_COMMITMENT, "12 07 33")
    assert draw_hash(GOLDEN_COMMITMENT, "042") != draw_hash(GOLDEN_COMMITMENT, "42")
    # engine 1.0 kept punctuation
    assert (draw_hash(GOLDEN_COMMITMENT, "12,07,33", engine_version="1.0")
            != draw_hash(GOLDEN_COMMITMENT, "12 07 33", engine_version="1.0"))
    for empty in ["", "   ", "\t\n"]:
        with pytest.raises(InputError, match="empty"):
            normalise_public_number(empty)


def test_index_from_hash_rejects_values_that_would_bias_the_choice():
    # With 1-byte numbers and M = 200, values 200..255 must be rejected (else 0..55 would be twice as likely).
    h = b"seed"
    picks = []
    for i in range(50):
        x = hashlib.sha256(h + i.to_bytes(8, "big")).digest()[0]
        picks.append(x)
        if x < 200:
            break
    assert picks[-1] < 200
    assert index_from_hash(h, 200, nbytes=1) == picks[-1] % 200
    rejected_once = next(s for s in (bytes([n]) for n in range(256))
                         if hashlib.sha256(s + bytes(8)).digest()[0] >= 200)
    second = hashlib.sha256(rejected_once + (1).to_bytes(8, "big")).digest()[0]
    if second < 200:
        assert index_from_hash(rejected_once, 200, nbytes=1) == second % 200
    with pytest.raises(InputError):
        index_from_hash(h, 0)


def test_rank_by_hash_is_the_documented_sha256_order():
    ids = ["ann", "bob", "cleo", "dan"]
    want = sorted(ids, key=lambda i: hashlib.sha256(("seed\n" + i).encode()).digest())
    assert rank_by_hash(ids, "seed") == want == ["dan", "bob", "cleo", "ann"]
    assert rank_by_hash(reversed(ids), "seed") == want


def test_hash_stream_is_the_documented_counter_mode_sha256():
    s = HashStream("x")
    got = [s.randrange(10) for _ in range(5)]
    want = [int.from_bytes(hashlib.sha256(b"x\n" + i.to_bytes(8, "big")).digest(), "big") % 10 for i in range(5)]
    assert got == want == [2, 7, 7, 7, 9]


def test_freeze_refuses_a_panel_that_breaks_a_quota():
    with pytest.raises(InputError, match=r"panel 1 .*gender = f: 2 selected, at most 1 allowed"):
        freeze(tiny(), [("ann", "bob"), ("ann", "cleo")], algorithm="leximin", created="")
    with pytest.raises(InputError, match="not in the pool"):
        freeze(tiny(), [("ann", "zed")], algorithm="leximin", created="")
    with pytest.raises(InputError, match="empty"):
        freeze(tiny(), [], algorithm="leximin", created="")


def test_canonical_text_reads_back_and_anything_else_is_refused():
    fl = tiny_lottery()
    back = parse_canonical(fl.canonical_bytes())
    assert back.commitment == fl.commitment and back.panels == fl.panels
    with pytest.raises(InputError, match="canonical"):
        parse_canonical(fl.canonical_bytes().replace(b'"m":3,', b'"m": 3,'))
    with pytest.raises(InputError):
        parse_canonical(fl.canonical_bytes()[:-1])
    with pytest.raises(InputError, match="line 2"):
        parse_canonical(fl.canonical_bytes().replace(b'["quota","age","young",1,2]', b'["quota","age"]'))


def test_non_ascii_and_special_characters_are_written_as_documented():
    people = [Person('a"1', {"région": "Île-de-France"}), Person("b\\2", {"région": "Nord\tEst"})]
    inst = Instance(people, [Quota("région", "Île-de-France", 0, 1), Quota("région", "Nord\tEst", 0, 1)], 1)
    fl = freeze(inst, [('a"1',)], algorithm="x", created="")
    lines = fl.canonical_bytes().decode("utf-8").split("\n")
    assert lines[3] == '["person","a\\"1","",[["région","Île-de-France"]]]'
    assert lines[4] == '["person","b\\\\2","",[["région","Nord\\tEst"]]]'


def test_households_are_pseudonymised_in_order_of_their_first_member():
    people = [Person("p1", {"g": "f"}, "Smith, 3 Oak St"), Person("p2", {"g": "m"}, "Smith, 3 Oak St"),
              Person("p0", {"g": "m"}, "Jones"), Person("p3", {"g": "f"}, "Lee"), Person("p4", {"g": "f"}, "Lee")]
    inst = Instance(people, [Quota("g", "f", 1, 1), Quota("g", "m", 1, 1)], 2, one_per_household=True)
    pub = public_pool(inst)
    assert [(p.id, p.household) for p in pub.people] == [("p0", None), ("p1", "H1"), ("p2", "H1"),
                                                         ("p3", "H2"), ("p4", "H2")]
    fl = freeze(inst, [("p0", "p1")], algorithm="x", created="")
    assert b"Smith" not in fl.canonical_bytes() and b"Oak" not in fl.canonical_bytes()
    with pytest.raises(InputError, match="same household"):
        freeze(inst, [("p1", "p2")], algorithm="x", created="")


def test_reserve_order_and_replacement_problem():
    fl = tiny_lottery(engine_version="1.0")    # "12 07 33" picks {ann, bob} under the 1.0 rule
    draw = fl.draw("12 07 33")
    assert draw.reserve_ids == rank_by_hash(["cleo", "dan"], GOLDEN_DRAW_HASH_1_0)
    sub, kept = replacement_instance(fl.instance, fl.instance.quotas, draw.panel, ["bob"])
    assert kept == ["ann"]
    assert sorted(p.id for p in sub.people) == ["cleo", "dan"]
    assert sub.panel_size == 1
    assert {(q.feature, q.value): (q.min, q.max) for q in sub.quotas} == {
        ("age", "young"): (0, 1), ("gender", "f"): (0, 0), ("gender", "m"): (1, 1)}
    with pytest.raises(InputError, match="not on the current panel"):
        replacement_instance(fl.instance, fl.instance.quotas, draw.panel, ["dan"])


def test_replacement_context_is_part_of_the_commitment():
    inst = tiny()
    ctx = ReplacementContext(1, GOLDEN_COMMITMENT, GOLDEN_COMMITMENT, ("bob",))
    a = freeze(inst, [("ann", "bob")], algorithm="leximin", created="", context=ctx)
    text = a.canonical_bytes().decode()
    assert '"kind":"replacement"' in text and '"round":1' in text and '["dropout","bob"]' in text
    assert f'"original_commitment":"{GOLDEN_COMMITMENT}"' in text
    assert parse_canonical(a.canonical_bytes()).context == ctx


def test_the_worked_example_in_verifying_md_runs_and_agrees_with_the_engine():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "VERIFYING.md").read_text(encoding="utf-8")
    code = doc.split("## 5. Worked example", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict = {}
    exec(compile(code, "VERIFYING.md", "exec"), scope)   # its own asserts check every step
    fl = tiny_lottery()
    assert scope["frozen"] == fl.canonical_bytes()
    assert scope["index"] == fl.draw(" 12 07  33 ").index
