"""The verifier catches any change to a bundle and says what changed; it needs only the stdlib."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lib.sortition.audit.bundle import bundle_bytes, read_bundle
from lib.sortition.audit.ceremony import freeze
from lib.sortition.audit.model import Instance, Person, Quota
from lib.sortition.audit.formats import manifest_bytes, pack_zip
from lib.sortition.audit.verify import verify_bundle

from .test_ceremony import GOLDEN_COMMITMENT

ROOT = Path(__file__).resolve().parents[2]


def small_draw():
    """12 people, 2 features, a lottery of 6 panels of 4."""
    people = [Person(f"p{i:02d}", {"gender": "f" if i % 2 else "m", "age": ["16-29", "30-59", "60+"][i % 3]})
              for i in range(12)]
    quotas = [Quota("gender", "f", 2, 2), Quota("gender", "m", 2, 2),
              Quota("age", "16-29", 1, 2), Quota("age", "30-59", 1, 2), Quota("age", "60+", 1, 2)]
    inst = Instance(people, quotas, 4)
    panels = [("p00", "p01", "p02", "p03"), ("p04", "p05", "p06", "p07"), ("p08", "p09", "p10", "p11"),
              ("p00", "p05", "p10", "p03"), ("p06", "p01", "p08", "p11"), ("p04", "p09", "p02", "p07")]
    fl = freeze(inst, panels, algorithm="leximin", created="2026-02-01T10:00:00Z",
                targets={p.id: 1 / 3 for p in people})
    return fl.draw("4 8 15 16 23 42")


@pytest.fixture(scope="module")
def good():
    return bundle_bytes(small_draw())


def repack(data: bytes, name: str, change) -> bytes:
    members = read_bundle(data)
    members[name] = change(members[name])
    return pack_zip(members)


def test_an_untouched_bundle_passes(good):
    res = verify_bundle(good, name="b.zip")
    assert res.ok, res.problems
    text = res.report()
    assert text.strip().splitlines()[-2] == "PASS"
    assert res.info["commitment"] in text and "4815162342" in text


@pytest.mark.parametrize("name, change, expected", [
    ("pool.csv", lambda b: b.replace(b"p03,16-29,f", b"p03,60+,f"), r"pool\.csv, line 5"),
    ("quotas.csv", lambda b: b.replace(b"gender,f,2,2", b"gender,f,1,3"), r"quotas\.csv, line 5"),
    ("lottery.csv", lambda b: b.replace(b"1,p04", b"1,p02", 1), r"lottery\.csv, line 6"),
    ("probabilities.csv", lambda b: b.replace(b"p00,2,", b"p00,3,"), r"probabilities\.csv, line 2"),
    ("panel.csv", lambda b: b.replace(b"p11", b"p10"), r"panel\.csv is not the chosen panel"),
    ("README.txt", lambda b: b.replace(b"equally likely", b"likely"), r"README\.txt, line \d+"),
    ("frozen.jsonl", lambda b: b.replace(b'["panel","p00","p01","p02","p03"]', b'["panel","p00","p01","p02","p05"]'),
     r"commitment mismatch: SHA-256 of frozen\.jsonl"),
])
def test_changing_any_member_fails_and_names_it(good, name, change, expected):
    bad = repack(good, name, change)
    assert bad != good
    res = verify_bundle(bad)
    assert not res.ok
    assert any(name in p and "changed" in p for p in res.problems), res.problems   # fingerprint in the manifest
    assert any(__import__("re").search(expected, p) for p in res.problems), res.problems
    assert "FAIL" in res.report() and "PASS" not in res.report()


def test_a_forged_manifest_fingerprint_does_not_hide_a_change(good):
    members = read_bundle(good)
    members["pool.csv"] = members["pool.csv"].replace(b"p03,16-29,f", b"p03,60+,f")
    man = json.loads(members["manifest.json"])
    man["files"]["pool.csv"] = __import__("hashlib").sha256(members["pool.csv"]).hexdigest()
    members["manifest.json"] = manifest_bytes(man)
    res = verify_bundle(pack_zip(members))
    assert not res.ok
    assert any(p.startswith("pool.csv, line 5: the bundle has 'p03,60+,f,'") for p in res.problems), res.problems


@pytest.mark.parametrize("key, value, expected", [
    ("public_number", "4 8 15 16 23 43", r"chooses panel number|draw hash"),
    ("panel_index", 0, r"manifest\.json says panel number 0 was chosen"),
    ("commitment", GOLDEN_COMMITMENT, r"commitment mismatch"),
    ("m", 7, r"manifest\.json says there are 7 panels"),
    ("public_number", "4  8 15 16 23 42", r"not written in its normalised form"),
])
def test_changing_the_manifest_fails_and_says_what(good, key, value, expected):
    members = read_bundle(good)
    man = json.loads(members["manifest.json"])
    man[key] = value
    members["manifest.json"] = manifest_bytes(man)
    res = verify_bundle(pack_zip(members))
    assert not res.ok
    assert any(__import__("re").search(expected, p) for p in res.problems), res.problems


def test_flipping_any_byte_of_the_file_fails(good):
    # every 7th byte of the ~7 KB file (headers, names, data, central directory); all bytes were checked once
    for pos in range(0, len(good), 7):
        bad = bytearray(good)
        bad[pos] ^= 0x20
        res = verify_bundle(bytes(bad))
        assert not res.ok, f"byte {pos} changed but the bundle still passed"


def test_added_or_removed_members_are_named(good):
    members = read_bundle(good)
    members["extra.txt"] = b"hello"
    res = verify_bundle(pack_zip(members))
    assert any("extra.txt is in the bundle but not listed" in p for p in res.problems)
    members = read_bundle(good)
    del members["quotas.csv"]
    res = verify_bundle(pack_zip(members))
    assert any("quotas.csv is listed in manifest.json but missing" in p for p in res.problems)


def test_a_lottery_that_breaks_quotas_is_caught_even_if_consistently_recommitted():
    # A dishonest organiser re-commits a list with an invalid panel and rebuilds the whole bundle:
    # the fingerprints all agree, but the quota check fails.
    draw = small_draw()
    fl = draw.lottery
    fl.panels[2] = ("p00", "p02", "p04", "p06")       # four men
    object.__setattr__(fl, "_bytes", None)
    res = verify_bundle(bundle_bytes(fl.draw("1")))
    assert any("break the quotas" in p and "gender = m: 4 selected, at most 2 allowed" in p for p in res.problems)


def test_the_announced_commitment_and_number_can_be_checked(good):
    info = verify_bundle(good).info
    assert verify_bundle(good, commitment=info["commitment"].upper(), public_number=" 4 8 15 16 23 42").ok
    res = verify_bundle(good, commitment=GOLDEN_COMMITMENT)
    assert any("not the one you gave" in p for p in res.problems)
    res = verify_bundle(good, public_number="4 8 15 16 23 41")
    assert any("public number in the bundle is '4815162342'" in p for p in res.problems)


def test_garbage_is_a_plain_failure_not_a_crash():
    for data in [b"", b"PK\x03\x04garbage", pack_zip({"manifest.json": b"{"}), pack_zip({"manifest.json": b"[]"}),
                 pack_zip({"a.txt": b"x"})]:
        res = verify_bundle(data)
        assert not res.ok and res.problems


def test_verifier_runs_with_only_the_standard_library(tmp_path, good):
    """No HiGHS, numpy, pandas, duckdb or streamlit: they are made unimportable in the child."""
    path = tmp_path / "bundle.zip"
    path.write_bytes(good)
    code = ("import sys, runpy\n"
            "for m in ['highspy', 'numpy', 'pandas', 'duckdb', 'streamlit', 'pyarrow', 'altair']:\n"
            "    sys.modules[m] = None\n"
            f"sys.argv = ['lib.sortition', 'verify', {str(path)!r}]\n"
            "runpy.run_module('lib.sortition', run_name='__main__')\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "PASS" in run.stdout
    bad = tmp_path / "bad.zip"
    bad.write_bytes(repack(good, "pool.csv", lambda b: b.replace(b"p03,16-29,f", b"p03,60+,f")))
    run = subprocess.run([sys.executable, "-c", code.replace(str(path), str(bad))], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 1
    assert "FAIL  pool.csv" in run.stdout and "Traceback" not in run.stderr


def test_an_unpacked_bundle_folder_can_be_verified_too(tmp_path, good):
    from lib.sortition.audit.verify import verify_file

    for name, data in read_bundle(good).items():
        (tmp_path / name).write_bytes(data)
    res = verify_file(tmp_path)
    assert res.ok, res.problems
    (tmp_path / "quotas.csv").write_bytes((tmp_path / "quotas.csv").read_bytes().replace(b"gender,f,2,2", b"gender,f,0,4"))
    res = verify_file(tmp_path)
    assert any(p.startswith("quotas.csv was changed") for p in res.problems)
    assert any(p.startswith("quotas.csv, line 5") for p in res.problems)
