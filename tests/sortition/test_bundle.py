"""The audit bundle: one canonical zip file holding everything needed to check a draw."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import pytest

from lib.sortition.audit.bundle import bundle_bytes, manifest_of, read_bundle, write_bundle
from lib.sortition.audit.model import InputError
from lib.sortition.audit.formats import format_fraction, pack_zip

from .test_ceremony import GOLDEN_COMMITMENT, tiny_lottery


@pytest.fixture
def draw():
    return tiny_lottery().draw("12 07 33")


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_bundle_holds_every_file_a_checker_needs(draw):
    members = read_bundle(bundle_bytes(draw))
    assert sorted(members) == ["README.txt", "frozen.jsonl", "lottery.csv", "manifest.json", "panel.csv",
                               "pool.csv", "probabilities.csv", "quotas.csv"]
    assert hashlib.sha256(members["frozen.jsonl"]).hexdigest() == GOLDEN_COMMITMENT
    assert rows(members["pool.csv"]) == [["id", "age", "gender", "household"], ["ann", "young", "f", ""],
                                         ["bob", "old", "m", ""], ["cleo", "old", "f", ""], ["dan", "young", "m", ""]]
    assert rows(members["quotas.csv"])[1:] == [["age", "young", "1", "2"], ["gender", "f", "1", "1"],
                                               ["gender", "m", "1", "1"]]
    assert rows(members["lottery.csv"])[1:] == [["0", "cleo"], ["0", "dan"], ["1", "ann"], ["1", "bob"],
                                                ["2", "ann"], ["2", "dan"]]
    assert rows(members["panel.csv"]) == [["id"], ["ann"], ["dan"]]
    assert rows(members["probabilities.csv"]) == [
        ["id", "appearances", "probability", "target_probability"],
        ["ann", "2", "0.666666666667", "0.666666666667"], ["bob", "1", "0.333333333333", "0.333333333333"],
        ["cleo", "1", "0.333333333333", "0.333333333333"], ["dan", "2", "0.666666666667", "0.666666666667"]]
    man = manifest_of(members)
    assert man["commitment"] == GOLDEN_COMMITMENT
    assert (man["public_number"], man["panel_index"], man["m"], man["panel_size"]) == ("120733", 2, 3, 2)
    assert man["files"]["pool.csv"] == hashlib.sha256(members["pool.csv"]).hexdigest()
    readme = members["README.txt"].decode()
    assert GOLDEN_COMMITMENT in readme and "120733" in readme and "python -m lib.sortition verify" in readme


def test_readme_hashlib_recipe_really_gives_the_chosen_panel(draw):
    readme = read_bundle(bundle_bytes(draw))["README.txt"].decode()
    start = readme.index("    import hashlib")
    code = "\n".join(line[4:] for line in readme[start:].split("\n")[:6])
    code = code.replace("open(\"frozen.jsonl\", \"rb\").read()", "FROZEN")
    scope = {"FROZEN": draw.lottery.canonical_bytes()}
    exec(compile(code + "\nRESULT = x % 3", "readme", "exec"), scope)
    assert scope["RESULT"] == draw.index == 2


def test_same_draw_gives_byte_identical_bundles_that_any_zip_tool_reads(draw, tmp_path):
    a = bundle_bytes(draw)
    b = bundle_bytes(tiny_lottery().draw(" 12  07 33"))
    assert a == b
    with zipfile.ZipFile(io.BytesIO(a)) as z:
        assert z.testzip() is None
        assert all(i.compress_type == zipfile.ZIP_STORED and i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
        assert json.loads(z.read("manifest.json"))["draw_hash"] == draw.draw_hash
    digest = write_bundle(draw, tmp_path / "b.zip")
    assert digest == hashlib.sha256(a).hexdigest()
    assert read_bundle(tmp_path / "b.zip") == read_bundle(a)


def test_pack_zip_is_canonical_whatever_the_insertion_order():
    assert pack_zip({"b.txt": b"2", "a.txt": b"1"}) == pack_zip({"a.txt": b"1", "b.txt": b"2"})
    with zipfile.ZipFile(io.BytesIO(pack_zip({"é.txt": b"x"}))) as z:
        assert z.namelist() == ["é.txt"]


def test_unreadable_bundles_give_plain_errors(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_bundle(tmp_path / "missing.zip")
    (tmp_path / "x.zip").write_text("hello")
    with pytest.raises(InputError, match="not a readable zip"):
        read_bundle(tmp_path / "x.zip")


def test_probabilities_are_written_exactly_with_integer_rounding():
    assert format_fraction(1, 3) == "0.333333333333"
    assert format_fraction(2, 3) == "0.666666666667"
    assert format_fraction(1, 8, 2) == "0.13"   # half up, not half even
    assert format_fraction(1000, 1000) == "1.000000000000"
    assert format_fraction(0, 7) == "0.000000000000"
