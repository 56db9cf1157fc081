"""The command line, end to end in a subprocess: draw, check, verify, replace; plain errors."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lib.sortition.cli import main
from lib.sortition.audit.model import load_instance
from tests.conftest import shared_benchmarks

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lib.sortition", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_instance(d: Path, people: str, categories: str, meta: dict | None = None) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "people.csv").write_text(people, encoding="utf-8")
    (d / "categories.csv").write_text(categories, encoding="utf-8")
    (d / "instance.json").write_text(json.dumps(meta or {"name": d.name, "panel_size": 3, "source": "test"}),
                                     encoding="utf-8")
    return d


TINY_PEOPLE = "id,gender,age,name\n" + "".join(
    f"t{i},{'f' if i % 2 else 'm'},{'young' if i < 4 else 'old'},Person {i}\n" for i in range(8))
TINY_CATEGORIES = "feature,value,min,max\ngender,f,1,2\ngender,m,1,2\nage,young,1,1\nage,old,2,2\n"


def test_draw_on_a_shared_instance_writes_every_file_and_verifies(tmp_path):
    inst_dir = shared_benchmarks() / "instances" / "example_small_20"
    inst = load_instance(inst_dir)
    out = tmp_path / "out"
    r = run("draw", str(inst_dir), "--seed", " 2026 03 01 ", "--out", str(out), "--panels", "200")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    panel = [row["id"] for row in read_csv(out / "panel.csv")]
    assert inst.is_valid_panel(panel), inst.panel_problems(panel)
    probs = read_csv(out / "probabilities.csv")
    assert sorted(p["id"] for p in probs) == sorted(inst.ids)                      # every person
    assert sum(float(p["probability"]) for p in probs) == pytest.approx(inst.panel_size, abs=1e-6)
    lottery = read_csv(out / "lottery.csv")
    panels: dict[str, list[str]] = {}
    for row in lottery:
        panels.setdefault(row["panel"], []).append(row["id"])
    assert len(panels) == 200 and all(inst.is_valid_panel(p) for p in panels.values())
    for p in probs:     # the lottery's chance is the number of listed panels containing the person / M
        assert float(p["lottery_probability"]) == sum(p["id"] in q for q in panels.values()) / 200
    report = json.loads((out / "report.json").read_text())
    assert report["algorithm"] == "leximin" and report["feasible"] is True
    assert report["min_probability"] == pytest.approx(0.1, abs=1e-6)   # the published LEXIMIN value
    assert 0 <= report["gini"] < 1e-6 and report["seconds"] > 0
    assert sorted(report["panel"]) == sorted(panel)
    v = run("verify", str(out / "bundle.zip"), "--commitment", report["commitment"], "--public-number", "2026 03 01")
    assert v.returncode == 0, v.stdout + v.stderr
    assert "PASS" in v.stdout
    # the same instance and public number give the same draw, byte for byte
    again = tmp_path / "again"
    assert main(["draw", str(inst_dir), "--seed", "2026 03 01", "--out", str(again), "--panels", "200"]) == 0
    assert (again / "bundle.zip").read_bytes() == (out / "bundle.zip").read_bytes()


def test_tampered_bundle_fails_with_exit_status_1(tmp_path):
    inst = write_instance(tmp_path / "tiny", TINY_PEOPLE, TINY_CATEGORIES)
    assert main(["draw", str(inst), "--seed", "99", "--out", str(tmp_path / "o"), "--panels", "20"]) == 0
    data = bytearray((tmp_path / "o" / "bundle.zip").read_bytes())
    pos = data.index(b"t1,young,f")
    data[pos + 9] = ord("m")      # in pool.csv, t1 now claims to be a man
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    r = run("verify", str(bad))
    assert r.returncode == 1
    assert "FAIL" in r.stdout and "PASS" not in r.stdout and "Traceback" not in r.stderr
    assert "pool.csv" in r.stdout


def test_tiny_hand_made_instance_leximin_and_legacy(tmp_path):
    inst_dir = write_instance(tmp_path / "tiny", TINY_PEOPLE, TINY_CATEGORIES)
    inst = load_instance(inst_dir)
    for algorithm in ("leximin", "legacy"):
        out = tmp_path / algorithm
        assert main(["draw", str(inst_dir), "--seed", "Abc", "--out", str(out), "--algorithm", algorithm,
                     "--panels", "50"]) == 0
        panel = [r["id"] for r in read_csv(out / "panel.csv")]
        assert inst.is_valid_panel(panel)
        report = json.loads((out / "report.json").read_text())
        assert report["algorithm"] == algorithm and report["public_number"] == "abc"
        probs = {r["id"]: float(r["probability"]) for r in read_csv(out / "probabilities.csv")}
        assert sum(probs.values()) == pytest.approx(3)
        assert report["min_probability"] == pytest.approx(min(probs.values()))
        assert main(["verify", str(out / "bundle.zip")]) == 0
    # young: 1 of 4 seats -> 1/4; old: 2 of 4 -> 1/2 ; LEXIMIN is exact here
    lex = {r["id"]: float(r["probability"]) for r in read_csv(tmp_path / "leximin" / "probabilities.csv")}
    assert lex["t0"] == pytest.approx(0.25) and lex["t5"] == pytest.approx(0.5)
    # the name column has no quota: it is not published in the bundle
    assert b"Person 1" not in (tmp_path / "leximin" / "bundle.zip").read_bytes()


def test_impossible_quotas_are_explained_relaxed_or_refused(tmp_path):
    cats = "feature,value,min,max\ngender,f,3,3\ngender,m,0,3\nage,young,0,3\nage,old,0,3\n"
    people = "id,gender,age\n1,f,young\n2,f,old\n3,m,young\n4,m,old\n5,m,old\n"
    inst_dir = write_instance(tmp_path / "inf", people, cats)
    r = run("check", str(inst_dir))
    assert r.returncode == 2
    assert "at least 3 people with gender = f, but only 2" in r.stderr
    assert "lower the minimum for gender = f from 3 to 2" in r.stderr
    out = tmp_path / "o"
    assert main(["draw", str(inst_dir), "--seed", "1", "--out", str(out), "--panels", "10"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["feasible"] is False and report["relaxed"] is True
    assert report["relaxation"][0]["new_min"] == 2 and report["diagnosis"]
    assert main(["verify", str(out / "bundle.zip")]) == 0
    assert main(["draw", str(inst_dir), "--seed", "1", "--out", str(tmp_path / "s"), "--strict"]) == 2
    # a panel larger than the pool: no relaxation can help
    big = write_instance(tmp_path / "big", people, cats, {"name": "big", "panel_size": 9, "source": "t"})
    assert main(["draw", str(big), "--seed", "1", "--out", str(tmp_path / "b")]) == 2
    assert json.loads((tmp_path / "b" / "report.json").read_text())["feasible"] is False
    assert main(["check", str(shared_benchmarks() / "instances" / "sa_fixture_22")]) == 0


@pytest.mark.parametrize("file, content, expected", [
    ("people.csv", "id,gender,age\nt1,f,young\nt2,m\n", "people.csv, line 3: this row has 2 cells but the header has 3"),
    ("people.csv", "id,gender,age\nt1,f,young\nt1,m,old\n", "people.csv, line 3: column \"id\": 't1' is used twice"),
    ("people.csv", "id,gender,age\nt1,f,young\n,m,old\n", "people.csv, line 3: column \"id\": empty"),
    ("people.csv", "name,gender,age\nt1,f,young\n", "people.csv, line 1: the first column must be \"id\""),
    ("people.csv", "id,gender,age\nt1,female,young\n", "people.csv, line 2: column \"gender\": 'female' has no row"),
    ("people.csv", "id,gender,age\nt1,f,\n", "people.csv, line 2: column \"age\": empty, but age has quotas"),
    ("categories.csv", "feature,value,min,max\ngender,f,one,2\n", "categories.csv, line 2: column \"min\": 'one' is not"),
    ("categories.csv", "feature,value,min,max\nsex,f,1,2\n", "categories.csv, line 2: column \"feature\": 'sex' is not a column"),
    ("categories.csv", "feature,value,minimum,max\n", "categories.csv, line 1: missing column min"),
    ("categories.csv", "feature,value,min,max\ngender,f,3,2\n", "categories.csv, line 2: gender = f: the minimum (3) is larger"),
    ("categories.csv", "feature,value,min,max\ngender,f,1,2\ngender,f,1,2\n", "categories.csv, line 3: gender = f is listed twice"),
    ("instance.json", '{"name": "x"}', 'instance.json: needs a "panel_size" entry'),
    ("instance.json", '{"panel_size": 0}', 'instance.json: "panel_size" must be a whole number of at least 1'),
    ("instance.json", '{"panel_size": 3,}', "instance.json, line 1: not valid JSON"),
    ("people.csv", b"id,gender,age\nt1,f,young\nt2,m,\xe9\n", "people.csv, line 3: not UTF-8"),
])
def test_bad_instance_folders_get_a_plain_message_naming_file_line_and_column(tmp_path, capsys, file, content, expected):
    d = write_instance(tmp_path / "bad", TINY_PEOPLE, TINY_CATEGORIES)
    if isinstance(content, bytes):
        (d / file).write_bytes(content)
    else:
        (d / file).write_text(content, encoding="utf-8")
    assert main(["check", str(d)]) == 1
    err = capsys.readouterr().err
    assert expected in err, err
    assert "Traceback" not in err


def test_missing_folder_files_and_arguments_in_a_subprocess(tmp_path):
    r = run("draw", str(tmp_path / "nowhere"), "--seed", "1", "--out", str(tmp_path / "o"))
    assert r.returncode == 1 and "folder not found" in r.stderr and "Traceback" not in r.stderr
    d = write_instance(tmp_path / "partial", TINY_PEOPLE, TINY_CATEGORIES)
    (d / "categories.csv").unlink()
    assert main(["check", str(d)]) == 1
    r = run("draw", str(d))
    assert r.returncode == 1 and "required: --seed, --out" in r.stderr and "Traceback" not in r.stderr
    r = run("draw", str(d), "--seed", "1", "--out", str(tmp_path / "o"), "--panels", "zero")
    assert r.returncode == 1 and "--panels" in r.stderr
    assert main(["draw", str(d), "--seed", "   ", "--out", str(tmp_path / "o")]) == 1


def test_replace_command_refills_seats_and_the_result_verifies(tmp_path):
    inst_dir = write_instance(tmp_path / "tiny", TINY_PEOPLE, TINY_CATEGORIES)
    inst = load_instance(inst_dir)
    assert main(["draw", str(inst_dir), "--seed", "5", "--out", str(tmp_path / "d"), "--panels", "30"]) == 0
    panel = [r["id"] for r in read_csv(tmp_path / "d" / "panel.csv")]
    r = run("replace", str(tmp_path / "d" / "bundle.zip"), "--dropouts", panel[0], "--seed", "77",
            "--out", str(tmp_path / "r"), "--panels", "20")
    assert r.returncode == 0, r.stderr
    new_panel = [row["id"] for row in read_csv(tmp_path / "r" / "panel.csv")]
    assert panel[0] not in new_panel and len(new_panel) == 3 and inst.is_valid_panel(new_panel)
    rep = read_csv(tmp_path / "r" / "replacements.csv")
    assert rep[0]["replaces"] == panel[0] and rep[0]["new_id"] in new_panel
    v = run("verify", str(tmp_path / "r" / "bundle.zip"))
    assert v.returncode == 0 and "PASS" in v.stdout and "replacement round 1" in v.stdout
    shutil.rmtree(tmp_path / "d")
