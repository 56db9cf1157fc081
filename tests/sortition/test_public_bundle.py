"""The public bundle (v2): identifies nobody, still verifiable; the auditors' bundle; receipts.

Pools: the demo (596 eligible sign-ups, seven questions, the demo's own quotas for a panel of
30) and a skewed pool like real recruitment gives (300 people, a few rare combinations). The
lotteries are lists of valid panels made by the greedy method (fast); the format does not
depend on how the panels were found.
"""

from __future__ import annotations

import json

import pytest

from lib.sortition.audit.bundle import audit_bundle_bytes, bundle_bytes, read_bundle
from lib.sortition.audit.ceremony import HashStream, freeze
from lib.sortition.legacy import legacy_draw
from lib.sortition.audit.model import Instance, Person, Quota
from lib.sortition.audit.public import (audit_lottery, new_secret, parse_public, public_bytes, published_groups,
                                  receipt_code)
from lib.sortition.audit.formats import pack_zip
from lib.sortition.audit.verify import verify_bundle



# --- pools ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_instance():
    from lib.store.db import open_database
    from lib.demo.load import load_demo
    from lib.recruitment.quotas import build_instance, quotas_for_version

    db = open_database(":memory:")
    load_demo(db)
    quotas = [Quota(q.field, q.value, q.min, q.max) for q in quotas_for_version(db, panel_size=30)]
    inst = build_instance(db, quotas, 30)
    db.close()
    return inst


def skewed_instance() -> Instance:
    """300 sign-ups as recruitment really gives them: mostly older, educated, keen; a few rare combinations
    (3 disabled people, 2 of one ethnicity, 1 young person from the rural area)."""
    people = []
    for i in range(300):
        feats = {
            "gender": "f" if i % 5 < 3 else "m",
            "age": ["65+", "45-64", "45-64", "25-44", "65+", "16-24"][i % 6],
            "area": "rural" if i % 11 == 0 and i % 6 != 5 else "town",
            "disability": "yes" if i in (7, 150, 299) else "no",
            "ethnicity": "b" if i in (40, 41) else ("c" if i % 13 == 0 else "a"),
            "attitude": ["keen", "keen", "neutral", "sceptical"][i % 4],
        }
        if i == 5:
            feats["area"] = "rural"   # the only young person from the rural area
        people.append(Person(f"P-{i:04d}", feats))
    quotas = [Quota("gender", "f", 14, 16), Quota("gender", "m", 14, 16),
              Quota("age", "16-24", 4, 7), Quota("age", "25-44", 5, 8), Quota("age", "45-64", 8, 11),
              Quota("age", "65+", 7, 10),
              Quota("area", "rural", 2, 6), Quota("area", "town", 24, 28),
              Quota("disability", "yes", 1, 3), Quota("disability", "no", 27, 29),
              Quota("ethnicity", "a", 20, 27), Quota("ethnicity", "b", 1, 2), Quota("ethnicity", "c", 2, 6),
              Quota("attitude", "keen", 7, 12), Quota("attitude", "neutral", 7, 11),
              Quota("attitude", "sceptical", 7, 11)]
    return Instance(people=people, quotas=quotas, panel_size=30)


def lottery(inst: Instance, M: int = 24, *, secret: str | None = "fresh"):
    panels = [legacy_draw(inst, HashStream(f"test panel {n}")) for n in range(M)]
    return freeze(inst, panels, algorithm="legacy", created="2026-01-01T00:00:00Z",
                  secret=new_secret() if secret == "fresh" else secret)


@pytest.fixture(scope="module", params=["demo", "skewed"])
def pool(request, demo_instance):
    return demo_instance if request.param == "demo" else skewed_instance()


@pytest.fixture(scope="module")
def drawn(pool):
    fl = lottery(pool)
    return fl, fl.draw("12 07 33 41")


from tests.privacy_checks import HEX, k_anonymity_problems  # noqa: E402


def test_old_complete_bundle_fails_the_check(pool):
    """The check can fail: today's (v1) bundle lists every answer per pseudonym."""
    fl = lottery(pool, secret=None)
    members = read_bundle(bundle_bytes(fl.draw("12 07 33 41")))
    assert "pool.csv" in members
    problems = k_anonymity_problems(members, pool)
    assert any("person row" in p for p in problems) and any("door pseudonyms" in p for p in problems)


def test_public_bundle_publishes_no_group_smaller_than_5(drawn, pool):
    fl, draw = drawn
    members = read_bundle(bundle_bytes(draw))
    assert sorted(members) == ["README.txt", "frozen.jsonl", "groups.csv", "manifest.json", "panel.csv"]
    assert k_anonymity_problems(members, pool) == []
    text = members["frozen.jsonl"].decode()
    for p in pool.people:   # nobody's answers per person: person lines are an id and two fingerprints
        assert p.id not in text
    for line in text.splitlines()[2:]:
        row = json.loads(line)
        if row[0] == "person":
            assert len(row) == 4 and all(HEX.match(x) for x in row[2:])


def test_the_rare_groups_are_withheld_and_cannot_be_subtracted(pool):
    fl = lottery(pool)
    shown = set(published_groups(audit_lottery(fl)))
    pub = parse_public(public_bytes(fl))
    withheld = set(pub.withheld)
    assert shown and withheld and shown.isdisjoint(withheld)
    for f in {q.feature for q in pool.quotas}:
        values = [q.value for q in pool.quotas if q.feature == f]
        hidden = [v for v in values if (f, v) in withheld]
        # never exactly one hidden group of a question when the others would add up to it
        assert len(hidden) != 1 or any(p.features.get(f) not in values for p in pool.people), (f, hidden)
    if pool.name != "assembly":   # the skewed pool: its rare groups
        for key in [("disability", "yes"), ("ethnicity", "b"), ("area", "rural")]:
            assert key in withheld


def test_public_bundle_verifies_and_says_which(drawn):
    fl, draw = drawn
    res = verify_bundle(bundle_bytes(draw), commitment=fl.commitment, public_number="12 07 33 41")
    assert res.ok, res.problems
    assert "checked: the PUBLIC bundle" in res.report()
    assert res.info["index"] == draw.index


def test_auditors_bundle_verifies_everything_and_says_which(drawn):
    fl, draw = drawn
    data = audit_bundle_bytes(draw)
    res = verify_bundle(data, commitment=fl.commitment, public_number="12 07 33 41")
    assert res.ok, res.problems
    assert "checked: the AUDITORS' bundle" in res.report()
    members = read_bundle(data)
    assert {"audit.jsonl", "salts.jsonl", "pool.csv", "lottery.csv"} <= set(members)
    assert "withheld ones included" in " ".join(res.passed)
    # the auditors' bundle names people by bundle id, never by door pseudonym
    assert not any(p.id in b"".join(members.values()).decode() for p in fl.instance.people)


def _repack(data: bytes, name: str, change) -> bytes:
    members = read_bundle(data)
    members[name] = change(members[name])
    return pack_zip(members)


def _refingerprint(members: dict[str, bytes]) -> bytes:
    """A forger who also fixes manifest.json's fingerprints (and the commitment)."""
    import hashlib

    m = json.loads(members["manifest.json"])
    m["files"] = {k: hashlib.sha256(v).hexdigest() for k, v in members.items() if k != "manifest.json"}
    m["commitment"] = hashlib.sha256(members["frozen.jsonl"]).hexdigest()
    members["manifest.json"] = (json.dumps(m, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()
    return pack_zip(members)


def test_tampered_public_bundles_fail(drawn):
    fl, draw = drawn
    good = bundle_bytes(draw)
    members = read_bundle(good)
    # 1. swap a member of the chosen panel for somebody else of the pool
    pub = parse_public(members["frozen.jsonl"])
    chosen = members["panel.csv"].decode().split("\n")[1:-1]
    other = next(p[0] for p in pub.people if p[0] not in chosen)
    swapped = sorted(chosen[1:] + [other])
    forged = dict(members, **{"panel.csv": ("id\n" + "\n".join(swapped) + "\n").encode()})
    res = verify_bundle(_refingerprint(forged))
    assert not res.ok and any("fingerprint" in p and "panel.csv" in p for p in res.problems)
    # 2. a panel that breaks a published quota, consistently re-committed: caught, and not the announced one
    text = members["frozen.jsonl"].decode().split("\n")
    last = json.loads(text[-2])
    last[2] = last[2] + 100
    text[-2] = json.dumps(last, separators=(",", ":"))
    forged = dict(members, **{"frozen.jsonl": "\n".join(text).encode()})
    res = verify_bundle(_refingerprint(forged), commitment=fl.commitment)
    assert not res.ok
    assert any("break a published quota" in p for p in res.problems)
    assert any("not the one you gave" in p for p in res.problems)
    # 3. any byte of the file
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 1
    assert not verify_bundle(bytes(flipped)).ok
    # 4. a public bundle may not carry answers
    forged = dict(members, **{"pool.csv": b"id,age\nb1,16-24\n"})
    res = verify_bundle(_refingerprint(forged))
    assert not res.ok and any("do not belong in a public bundle" in p for p in res.problems)


def test_tampered_auditors_bundle_fails(drawn):
    fl, draw = drawn
    good = audit_bundle_bytes(draw)
    members = read_bundle(good)
    lines = members["audit.jsonl"].decode().split("\n")
    i = next(n for n, line in enumerate(lines) if line.startswith('["person"'))
    row = json.loads(lines[i])
    row[3] = [[f, "changed"] for f, _v in row[3]]
    lines[i] = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    forged = dict(members, **{"audit.jsonl": "\n".join(lines).encode()})
    res = verify_bundle(_refingerprint(forged))
    assert not res.ok and any("audit.jsonl" in p for p in res.problems)


def test_a_receipt_checks_membership_and_selection(drawn):
    fl, draw = drawn
    data = bundle_bytes(draw)
    picked = draw.panel[0]
    res = verify_bundle(data, receipt=receipt_code(fl, picked))
    assert res.ok, res.problems
    assert any("in the pool; PICKED" in line for line in res.info["receipt_lines"])
    person = next(p for p in fl.instance.people if p.id == picked)
    answers = next(line for line in res.info["receipt_lines"] if line.startswith("answers recorded"))
    assert all(f"{f} = {v}" in answers for f, v in person.features.items() if v)
    not_picked = next(p.id for p in fl.instance.people if p.id not in draw.panel)
    res = verify_bundle(data, receipt=receipt_code(fl, not_picked))
    assert res.ok and any("in the pool; not picked" in line for line in res.info["receipt_lines"])
    # a wrong salt (somebody else's id, guessed code) is refused
    bid = receipt_code(fl, picked).split("-")[0]
    res = verify_bundle(data, receipt=f"{bid}-{'0' * 32}")
    assert not res.ok and any("not genuine" in p for p in res.problems)
    # somebody who was not in the pool
    other = lottery(skewed_instance())
    res = verify_bundle(data, receipt=receipt_code(other, "P-0001"))
    assert not res.ok and any("not in this pool" in p for p in res.problems)


def test_a_bundle_made_before_the_change_still_verifies(pool):
    fl = lottery(pool, M=6, secret=None)
    draw = fl.draw("5 5 5")
    res = verify_bundle(bundle_bytes(draw), commitment=fl.commitment, public_number="5 5 5")
    assert res.ok, res.problems
    assert "old-format complete bundle" in res.report()
    res = verify_bundle(bundle_bytes(draw), receipt="b0123456789ab-" + "0" * 32)
    assert not res.ok and any("before receipts existed" in p for p in res.problems)


def test_door_pseudonyms_cannot_be_joined_to_bundle_ids(pool):
    """Bundle ids are keyed by a secret: the same pool frozen twice gets unrelated ids."""
    a, b = lottery(pool, M=2), lottery(pool, M=2)
    ids_a = {p[0] for p in parse_public(public_bytes(a)).people}
    ids_b = {p[0] for p in parse_public(public_bytes(b)).people}
    assert not ids_a & ids_b
    assert not ids_a & {p.id for p in pool.people}
