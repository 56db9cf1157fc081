"""The organisers' command line (python -m lib.cli), run for real in a subprocess: init, sync (a file with
accents, the fake Google Sheet), export, a draw and its verification on the export, backup and restore;
status 3 for a sync that needs a confirmation; bad input refused in plain words, naming the file, the row
and the column, with the database unchanged; never a traceback."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.fakesheets import FakeSheets

ROOT = Path(__file__).resolve().parents[1]
PASS = "correct horse battery staple"
NAME = "Assemblée citoyenne de Montreuil 2026"
TAB = "Réponses au formulaire 1"

FIELDS = """\
field,field_label,question,value,value_label,aliases,blank
gender,Genre,Vous êtes,Femme,Femme,F|female|woman,
gender,Genre,Vous êtes,Homme,Homme,H|M|male|man,
gender,Genre,Vous êtes,Autre,Autre ou non-binaire,non-binaire|other,
age,Âge,Quel âge avez-vous ?,16-34,16 à 34 ans,16 a 34|jeune,
age,Âge,Quel âge avez-vous ?,35-59,35 à 59 ans,35 a 59,
age,Âge,Quel âge avez-vous ?,60+,60 ans et plus,60 et plus|senior,
region,Région,Où habitez-vous ?,IDF,Île-de-France,ile de france|Paris|IdF,
region,Région,Où habitez-vous ?,ARA,Auvergne-Rhône-Alpes,rhone alpes|Lyon,
region,Région,Où habitez-vous ?,Autre,Autre région,ailleurs,yes
"""

QUOTAS = """\
feature,value,min,max
Genre,Femme,2,4
Genre,Homme,2,4
Genre,Autre ou non-binaire,0,1
Âge,16-34,1,3
Âge,35-59,1,3
Âge,60+,1,3
Région,Île-de-France,1,4
Région,ARA,1,4
Région,Autre,0,2
"""

TARGETS = """\
field,value,share,source
gender,Femme,52%,Recensement 2021
gender,Homme,47%,Recensement 2021
gender,Autre,1%,Recensement 2021
age,16-34,30%,Recensement 2021
age,35-59,40%,Recensement 2021
age,60+,30%,Recensement 2021
region,IDF,50%,Recensement 2021
region,ARA,30%,Recensement 2021
region,Autre,20%,Recensement 2021
"""

HEADER = ["Timestamp", "Full name", "Email address", "Phone number", "Postcode", "Vous êtes",
          "Quel âge avez-vous ?", "Où habitez-vous ?"]
_FIRST = ["Zoë", "Łukasz", "Hélène", "Søren", "Ana", "Mehmet", "Chloé", "François", "Aoife", "Jürgen"]
_LAST = ["Ó Briain", "Wiśniewski", "Dubois", "Kierkegård", "Núñez", "Yılmaz", "Lefèvre", "Müller", "Ní Bhriain"]
_GENDER = ["Femme", "female", "F", "Homme", "male", "H", "woman", "man"]
_AGE = ["16 à 34 ans", "35-59", "60 et plus", "jeune", "35 a 59", "senior"]
_REGION = ["Île-de-France", "Paris", "Lyon", "Auvergne-Rhône-Alpes", "ailleurs", ""]


def person(i: int) -> list[str]:
    return [f"2026-03-{1 + i // 20:02d} 10:{i % 60:02d}", f"{_FIRST[i % 10]} {_LAST[(i * 7) % 9]}",
            f"personne{i}@exemple.fr", f"07700 9001{i:02d}", f"93{i:03d}", _GENDER[i % 8], _AGE[(i * 5) % 6],
            _REGION[(i * 7 + 1) % 6]]


ROWS = [person(i) for i in range(30)]
BAD_ROW = ["2026-03-04 09:00", "Érika Lenoir", "erika@exemple.fr", "", "", "Femme", "Teenager", "Paris"]


def csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def cli(*args: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "lib.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                       encoding="utf-8", env={**os.environ, **(env or {})}, timeout=timeout)
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    return r


def sortition(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lib.sortition", *map(str, args)], cwd=ROOT, capture_output=True,
                          encoding="utf-8", timeout=300)


@pytest.fixture
def files(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "fields.csv").write_text(FIELDS, encoding="utf-8")
    (d / "quotas.csv").write_text(QUOTAS, encoding="utf-8")
    (d / "targets.csv").write_text(TARGETS, encoding="utf-8")
    (d / "inscriptions.csv").write_text(csv_text([HEADER] + ROWS + [BAD_ROW]), encoding="utf-8")
    return d


def init(db: Path, files: Path, *extra: str, quotas: str = "quotas.csv") -> subprocess.CompletedProcess:
    return cli("init", "--db", db, "--name", NAME, "--panel-size", "6", "--fields", files / "fields.csv",
               "--quotas", files / quotas, *extra)


def snapshot(path: Path) -> dict[str, list]:
    """Every table's rows, read with a connection of this process (closed again at once)."""
    from lib import backup
    from lib.store.db import Database

    db = Database(path, read_only=True)
    try:
        out = {}
        with db.cursor() as cur:
            for t in backup._tables(cur):
                out[t] = cur.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall()
        return out
    finally:
        db.close()


def query(path: Path, sql: str) -> list[tuple]:
    from lib.store.db import Database

    db = Database(path, read_only=True)
    try:
        return db.query(sql)
    finally:
        db.close()


def assembly(tmp_path, files) -> Path:
    """A database set up and holding the 31 sign-ups of inscriptions.csv."""
    db = tmp_path / "assemblee.duckdb"
    assert init(db, files).returncode == 0
    r = cli("sync", "--db", db, "--file", files / "inscriptions.csv")
    assert r.returncode == 0, r.stderr
    return db


# --- the journey ---------------------------------------------------------------------------------------
def test_init_sync_from_a_file_and_the_google_sheet_export_then_draw_and_verify(tmp_path, files):
    db = tmp_path / "assemblee.duckdb"
    r = init(db, files)
    assert r.returncode == 0, r.stderr
    assert f"Set up “{NAME}”" in r.stdout and "Région: Île-de-France, Auvergne-Rhône-Alpes, Autre région" in r.stdout

    r = cli("sync", "--db", db, "--file", files / "inscriptions.csv")
    assert r.returncode == 0, r.stderr
    assert "31 sign-ups read, 31 new, 1 problem to look at" in r.stdout
    assert "Ready for the draw: 30 of the 31 people signed up" in r.stdout
    assert ("must fix: Row 32, column “Quel âge avez-vous ?”: “Teenager” is not one of the expected answers"
            in r.stdout)
    # Accented names came in letter for letter; answers spelled otherwise count as the same answer.
    names = {n for (n,) in query(db, "SELECT name FROM contacts")}
    assert names == {row[1] for row in ROWS + [BAD_ROW]}
    assert any("Ł" in n for n in names) and any("ø" in n for n in names) and any("ı" in n for n in names)
    assert query(db, "SELECT count(*) FROM person_values WHERE field = 'region' AND raw = 'Paris' "
                     "AND value = 'IDF'")[0][0] > 0

    # The same form, now read from the (fake) Google Sheet with three more rows.
    with FakeSheets() as fake:
        creds = tmp_path / "service-account.json"
        creds.write_text(json.dumps(fake.service_account_info()), encoding="utf-8")
        key = fake.add_spreadsheet(tabs={TAB: [HEADER] + ROWS + [BAD_ROW] + [person(i) for i in range(30, 33)]})
        r = cli("sync", "--db", db, "--google-sheet", fake.url(key), "--worksheet", TAB, "--credentials", creds,
                env={"KLEROTERION_SHEETS_API_BASE": fake.base_url})
        assert r.returncode == 0, r.stderr
        assert "34 sign-ups read, 3 new" in r.stdout and "as chosen before" in r.stdout
        assert any(path.startswith("/v4/spreadsheets/" + key) for _m, path in fake.requests)
        # The key may also come from GOOGLE_APPLICATION_CREDENTIALS; a file that is not a key is named plainly.
        r = cli("sync", "--db", db, "--google-sheet", key, "--worksheet", TAB, "--json",
                env={"KLEROTERION_SHEETS_API_BASE": fake.base_url, "GOOGLE_APPLICATION_CREDENTIALS": str(creds)})
        assert r.returncode == 0 and json.loads(r.stdout)["added"] == 0, r.stderr
        r = cli("sync", "--db", db, "--google-sheet", key, "--worksheet", TAB, "--credentials", files / "fields.csv",
                env={"KLEROTERION_SHEETS_API_BASE": fake.base_url})
        assert r.returncode == 1 and "fields.csv, line 1, column 1: this is not the JSON key file" in r.stderr
    assert query(db, "SELECT source_kind, actor FROM sync_log ORDER BY sync_id DESC LIMIT 1") == [
        ("google_sheet", "command line")]
    live = json.loads(query(db, "SELECT value FROM settings WHERE key = 'live_source'")[0][0])
    assert (live["kind"], live["worksheet"]) == ("google_sheet", TAB)    # the app keeps this sheet in sync now

    out = tmp_path / "pool"
    r = cli("export", "--db", db, "--out", out)
    assert r.returncode == 0, r.stderr
    assert "Exported the 33 people ready for the draw" in r.stdout
    people = list(csv.reader((out / "people.csv").open(encoding="utf-8")))
    assert people[0] == ["id", "age", "gender", "region"] and len(people) == 34
    assert all(re.fullmatch(r"P-\d{4}", row[0]) for row in people[1:])
    meta = json.loads((out / "instance.json").read_text(encoding="utf-8"))
    assert (meta["name"], meta["panel_size"], meta["pool_size"]) == (NAME, 6, 33)
    exported = "".join(p.read_text(encoding="utf-8") for p in out.iterdir())
    for row in ROWS + [BAD_ROW]:
        for personal in row[1:5]:
            if personal:
                assert personal not in exported          # no names, e-mails, phones or postcodes

    res = tmp_path / "draw"
    r = sortition("draw", out, "--seed", "17 42 93 08 55", "--out", res, "--panels", "100")
    assert r.returncode == 0, r.stderr
    panel = [row["id"] for row in csv.DictReader((res / "panel.csv").open(encoding="utf-8"))]
    assert len(panel) == 6 and set(panel) <= {row[0] for row in people[1:]}
    r = sortition("verify", res / "bundle.zip", "--public-number", "17 42 93 08 55")
    assert r.returncode == 0 and "PASS" in r.stdout, r.stdout + r.stderr


def test_export_in_the_sortition_foundation_format_holds_the_same_pool_and_quotas(tmp_path, files):
    db = assembly(tmp_path, files)
    assert cli("export", "--db", db, "--out", tmp_path / "bench").returncode == 0
    r = cli("export", "--db", db, "--out", tmp_path / "sf", "--format", "sortition-foundation")
    assert r.returncode == 0, r.stderr
    sf, bench = tmp_path / "sf", tmp_path / "bench"
    assert sorted(p.name for p in sf.iterdir()) == ["categories.csv", "people.csv", "settings.toml"]
    assert (sf / "categories.csv").read_text(encoding="utf-8") == (bench / "categories.csv").read_text(encoding="utf-8")
    assert (sf / "people.csv").read_text(encoding="utf-8") == (bench / "people.csv").read_text(encoding="utf-8")
    assert 'id_column = "id"' in (sf / "settings.toml").read_text(encoding="utf-8")


def test_an_answer_that_looks_like_a_formula_is_exported_spreadsheet_safe_and_still_drawn(tmp_path, files):
    (files / "fields.csv").write_text(_edit(FIELDS, "region,Région,Où habitez-vous ?,Autre,",
                                            "region,Région,Où habitez-vous ?,\"=HYPERLINK(\"\"http://x\"\")\","),
                                      encoding="utf-8")
    (files / "quotas.csv").write_text(_edit(QUOTAS, "Région,Autre,0,2", "Région,Autre région,0,2"), encoding="utf-8")
    db = assembly(tmp_path, files)
    out = tmp_path / "pool"
    assert cli("export", "--db", db, "--out", out).returncode == 0
    for name in ("people.csv", "categories.csv"):
        cells = [c for row in csv.reader((out / name).open(encoding="utf-8")) for c in row]
        assert "'=HYPERLINK(\"http://x\")" in cells and not any(c.startswith("=") for c in cells)
    r = sortition("draw", out, "--seed", "1 2 3", "--out", tmp_path / "draw", "--panels", "50")
    assert r.returncode == 0, r.stderr


def test_targets_from_census_shares_and_households(tmp_path, files):
    db = tmp_path / "a.duckdb"
    r = cli("init", "--db", db, "--name", "Quartier Nord", "--panel-size", "6", "--fields", files / "fields.csv",
            "--targets", files / "targets.csv", "--households")
    assert r.returncode == 0, r.stderr
    assert "at most one person per household" in r.stdout and "9 shares" in r.stdout
    rows = [HEADER + ["Home address"]] + [r_ + [f"{i // 3} rue de la Paix"] for i, r_ in enumerate(ROWS)]
    for i, row in enumerate(rows[1:]):
        row[4] = f"93{i // 3:03d}"                       # three people per address and postcode
    (files / "foyers.csv").write_text(csv_text(rows), encoding="utf-8")
    assert cli("sync", "--db", db, "--file", files / "foyers.csv").returncode == 0
    r = cli("export", "--db", db, "--out", tmp_path / "pool")
    assert r.returncode == 0, r.stderr
    people = list(csv.DictReader((tmp_path / "pool" / "people.csv").open(encoding="utf-8")))
    households = [p["household"] for p in people]
    assert set(households) == {f"H{n}" for n in range(1, 11)} and households.count("H1") == 3
    assert json.loads((tmp_path / "pool" / "instance.json").read_text(encoding="utf-8"))["one_per_household"]
    res = tmp_path / "draw"
    r = sortition("draw", tmp_path / "pool", "--seed", "5", "--out", res, "--panels", "50")
    assert r.returncode == 0, r.stderr
    drawn = {row["id"] for row in csv.DictReader((res / "panel.csv").open(encoding="utf-8"))}
    assert len({p["household"] for p in people if p["id"] in drawn}) == 6      # six different homes


# --- sync: the report, the JSON, the confirmation -------------------------------------------------------
def test_sync_json_is_one_object_with_counts_and_every_problem(tmp_path, files):
    db = tmp_path / "a.duckdb"
    assert init(db, files).returncode == 0
    r = cli("sync", "--db", db, "--file", files / "inscriptions.csv", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)                           # the whole output is one JSON object
    assert {"added", "changed", "removed", "eligible", "problems"} <= set(data)
    assert (data["added"], data["changed"], data["removed"], data["eligible"]) == (31, 0, 0, 30)
    assert data["problems"] == [{
        "row": 32, "column": "Quel âge avez-vous ?", "value": "Teenager", "must_fix": True,
        "message": data["problems"][0]["message"]}]
    assert "“Teenager” is not one of the expected answers" in data["problems"][0]["message"]

    r = cli("sync", "--db", db, "--file", files / "inscriptions.csv", "--json")
    again = json.loads(r.stdout)
    assert (again["added"], again["changed"], again["removed"], again["eligible"]) == (0, 0, 0, 30)

    r = cli("sync", "--db", db, "--file", files / "missing.csv", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["status"] == "failed"
    assert "missing.csv: there is no such file" in r.stderr


def test_a_sync_that_would_retire_many_stops_with_status_3_until_yes(tmp_path, files):
    db = assembly(tmp_path, files)
    (files / "half.csv").write_text(csv_text([HEADER] + ROWS[:5]), encoding="utf-8")
    before = snapshot(db)

    r = cli("sync", "--db", db, "--file", files / "half.csv")
    assert r.returncode == 3
    assert "26 of the 31 people signed up (84%) would be marked as no longer in the sheet" in r.stderr
    assert "run the same command again with --yes" in r.stderr and r.stdout == ""
    after = snapshot(db)
    assert {t: v for t, v in after.items() if t != "sync_log"} == {t: v for t, v in before.items() if t != "sync_log"}
    assert "waiting for an organiser to confirm" in query(db, "SELECT message FROM sync_log ORDER BY sync_id DESC "
                                                              "LIMIT 1")[0][0]

    r = cli("sync", "--db", db, "--file", files / "half.csv", "--json")
    assert r.returncode == 3
    held = json.loads(r.stdout)
    assert (held["status"], held["removed"], held["pool"], held["reason"]) == ("needs_confirmation", 26, 31, "retire")

    r = cli("sync", "--db", db, "--file", files / "half.csv", "--yes", "--json")
    assert r.returncode == 0, r.stderr
    done = json.loads(r.stdout)
    assert (done["removed"], done["eligible"]) == (26, 5)


def test_any_change_while_a_draw_is_being_prepared_waits_for_yes(tmp_path, files):
    from lib.store.db import open_database
    from lib.draws.records import freeze_targets

    db = tmp_path / "a.duckdb"
    assert init(db, files).returncode == 0
    (files / "some.csv").write_text(csv_text([HEADER] + ROWS[:20]), encoding="utf-8")
    assert cli("sync", "--db", db, "--file", files / "some.csv").returncode == 0
    d = open_database(db)
    freeze_targets(d, actor="test")
    d.close()
    (files / "more.csv").write_text(csv_text([HEADER] + ROWS[:21]), encoding="utf-8")
    r = cli("sync", "--db", db, "--file", files / "more.csv", "--json")
    assert r.returncode == 3 and json.loads(r.stdout)["reason"] == "draw"
    assert "A draw is being prepared (the targets are frozen for a draw)" in r.stderr
    assert query(db, "SELECT count(*) FROM people")[0][0] == 20
    r = cli("sync", "--db", db, "--file", files / "more.csv", "--yes")
    assert r.returncode == 0 and "1 new" in r.stdout


def test_a_file_in_a_windows_code_page_is_read_letter_for_letter_or_its_encoding_asked_for(tmp_path, files):
    db = tmp_path / "a.duckdb"
    assert init(db, files).returncode == 0
    rows = [["2026-01-01 10:00", "Łukasz Żółć", "l@x.pl", "Homme", "jeune", "Paris"],
            ["2026-01-02 10:00", "Zoë Dvořák", "z@x.cz", "Femme", "senior", "Lyon"]]
    # Enough accented words to be sure: read at once, letter for letter.
    (files / "excel.csv").write_bytes(csv_text([["Horodatage", "Full name", "Email address", "Genre", "Âge",
                                                 "Région"]] + rows).encode("cp1250"))
    r = cli("sync", "--db", db, "--file", files / "excel.csv")
    assert r.returncode == 0, r.stderr
    assert {n for (n,) in query(db, "SELECT name FROM contacts")} == {"Łukasz Żółć", "Zoë Dvořák"}
    # Too few accented words to be sure: nothing is read until the encoding is chosen.
    db = tmp_path / "b.duckdb"
    assert init(db, files).returncode == 0
    (files / "few.csv").write_bytes(csv_text([["Horodatage", "Full name", "Email address", "Genre", "Age",
                                               "Region"]] + rows).encode("cp1250"))
    r = cli("sync", "--db", db, "--file", files / "few.csv")
    assert r.returncode == 1 and "cannot tell for sure which alphabet" in r.stderr
    assert "--encoding cp1250 (Central European (Windows-1250): Łukasz, Żółć" in r.stderr
    assert query(db, "SELECT count(*) FROM people")[0][0] == 0
    r = cli("sync", "--db", db, "--file", files / "few.csv", "--encoding", "cp1250")
    assert r.returncode == 0, r.stderr
    assert {n for (n,) in query(db, "SELECT name FROM contacts")} == {"Łukasz Żółć", "Zoë Dvořák"}


def test_columns_from_a_mapping_file_and_plain_messages_when_they_cannot_be_guessed(tmp_path, files):
    db = tmp_path / "a.duckdb"
    assert init(db, files).returncode == 0
    other = [["Horodateur", "Nom", "Courriel", "Q1", "Q2", "Q3"]] + [
        [r_[0], r_[1], r_[2], r_[5], r_[6], r_[7]] for r_ in ROWS]
    (files / "autre.csv").write_text(csv_text(other), encoding="utf-8")

    r = cli("sync", "--db", db, "--file", files / "autre.csv")
    assert r.returncode == 1
    assert "Choose the column that holds “Genre”" in r.stderr and "--mapping" in r.stderr and "“Q1”" in r.stderr
    assert query(db, "SELECT count(*) FROM people")[0][0] == 0

    (files / "mapping.csv").write_text("role,column\nid,Horodateur\nfield:Genre,Q1\nfield:agee,Q2\n"
                                       "field:region,Q9\nemail,Courriel\nname,Courriel\n", encoding="utf-8")
    r = cli("sync", "--db", db, "--file", files / "autre.csv", "--mapping", files / "mapping.csv")
    assert r.returncode == 1
    assert "mapping.csv, row 4, column “role”: “field:agee” is not a role" in r.stderr
    assert "mapping.csv, row 5, column “column”: “Q9” is not a column of" in r.stderr
    assert "mapping.csv, row 7, column “column”: “Courriel” is already used on row 6" in r.stderr
    assert "no row for the question “Âge”" in r.stderr
    assert query(db, "SELECT count(*) FROM people")[0][0] == 0

    (files / "mapping.csv").write_text("role,column\nid,Horodateur\nfield:Genre,Q1\nfield:age,Q2\n"
                                       "field:Région,Q3\nemail,Courriel\nname,Nom\n", encoding="utf-8")
    r = cli("sync", "--db", db, "--file", files / "autre.csv", "--mapping", files / "mapping.csv")
    assert r.returncode == 0, r.stderr
    assert "30 new" in r.stdout and "field:region (Région) ← “Q3”" in r.stdout
    r = cli("sync", "--db", db, "--file", files / "autre.csv")             # remembered for next time (and the app)
    assert r.returncode == 0 and "as chosen before" in r.stdout and "nothing changed" in r.stdout


# --- bad input: plain words, where it is, and nothing changed ------------------------------------------
def _edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


BAD_INIT = [
    ("fields.csv", FIELDS + "gender,Genre,Vous êtes,Femme,Femme,,\n",
     "fields.csv, row 11, column “value”: gender = Femme is listed twice (first on row 2)"),
    ("fields.csv", _edit(FIELDS, "non-binaire|other,", "non-binaire|other|male,"),
     "fields.csv, row 4, column “aliases”: “male” is already another spelling of “Homme” (fields.csv, row 3, "
     "column “aliases”)"),
    ("fields.csv", _edit(FIELDS, "Homme,Homme,", "Homme,,"), "fields.csv, row 3, column “value_label”: the label of "
     "the answer “Homme” is empty"),
    ("quotas.csv", QUOTAS + "Religion,Aucune,0,1\n", "quotas.csv, row 11, column “feature”: there is no question "
     "“Religion” here"),
    ("quotas.csv", _edit(QUOTAS, "Genre,Homme,2,4", "Genre,Martien,2,4"), "quotas.csv, row 3, column “value”: "
     "“Martien” is not an answer to Genre"),
    ("quotas.csv", _edit(QUOTAS, "Âge,60+,1,3", "Âge,60+,3,1"), "quotas.csv, row 7, column “min”: Âge = 60 ans et "
     "plus has min 3 above max 1"),
    ("quotas.csv", _edit(QUOTAS, "Genre,Femme,2,4\nGenre,Homme,2,4", "Genre,Femme,3,4\nGenre,Homme,4,4"),
     "quotas.csv, rows 2, 3, 4, column “min”: the minimums for Genre add up to 7 seats, more than the panel of 6"),
]


@pytest.mark.parametrize("name,text,message", BAD_INIT, ids=["duplicate value", "value is another's alias",
                                                            "empty label", "unknown question", "unknown answer",
                                                            "min above max", "minimums past the panel"])
def test_bad_fields_and_quota_files_are_refused_naming_file_row_and_column(tmp_path, files, name, text, message):
    (files / name).write_text(text, encoding="utf-8")
    db = tmp_path / "new.duckdb"
    r = init(db, files)
    assert r.returncode == 1
    assert message in r.stderr
    assert "nothing was changed" in r.stderr
    assert not db.exists()                              # not even an empty database file is left behind


def test_bad_input_leaves_an_existing_empty_database_exactly_as_it_was(tmp_path, files):
    from lib.store.db import open_database

    db = tmp_path / "empty.duckdb"
    open_database(db).close()
    before = snapshot(db)
    (files / "quotas.csv").write_text(_edit(QUOTAS, "Âge,60+,1,3", "Âge,60+,3,1"), encoding="utf-8")
    assert init(db, files).returncode == 1
    (files / "targets.csv").write_text(TARGETS + "gender,Martienne,1%,\n", encoding="utf-8")
    r = cli("init", "--db", db, "--name", NAME, "--panel-size", "6", "--fields", files / "fields.csv", "--targets",
            files / "targets.csv")
    assert r.returncode == 1 and "targets.csv, line 11: “Martienne” is not a value of Genre (column “value”" \
        in r.stderr
    (files / "targets.csv").write_text(TARGETS + "gender,Femme,50%,\n", encoding="utf-8")
    r = cli("init", "--db", db, "--name", NAME, "--panel-size", "6", "--fields", files / "fields.csv", "--targets",
            files / "targets.csv")
    assert r.returncode == 1, r.stderr
    assert "targets.csv, line 11: gender = Femme is listed twice (first on line 2; column “value”)" in r.stderr
    (files / "targets.csv").write_text(_edit(TARGETS, "gender,Homme,47%", "gender,Homme,nan"), encoding="utf-8")
    r = cli("init", "--db", db, "--name", NAME, "--panel-size", "6", "--fields", files / "fields.csv", "--targets",
            files / "targets.csv")
    assert r.returncode == 1 and "targets.csv, line 3: the share “nan” (column “share”) is not a number" in r.stderr
    r = cli("init", "--db", db, "--name", "", "--panel-size", "0", "--fields", files / "fields.csv", "--quotas",
            files / "quotas.csv")
    assert r.returncode == 1 and "Give the assembly a name" in r.stderr and "between 1 and 5,000" in r.stderr
    assert snapshot(db) == before


def test_init_only_into_an_empty_database_never_the_demo(tmp_path, files):
    from lib.store.db import open_database
    from lib.demo.load import load_demo

    db = tmp_path / "a.duckdb"
    assert init(db, files).returncode == 0
    before = snapshot(db)
    r = init(db, files)
    assert r.returncode == 1 and "already holds an assembly" in r.stderr
    assert snapshot(db) == before

    demo = tmp_path / "demo.duckdb"
    d = open_database(demo)
    load_demo(d)
    d.close()
    before = snapshot(demo)
    for args in (["init", "--db", demo, "--name", NAME, "--panel-size", "6", "--fields", files / "fields.csv",
                  "--quotas", files / "quotas.csv"], ["sync", "--db", demo, "--file", files / "inscriptions.csv"]):
        r = cli(*args)
        assert r.returncode == 1 and "is the demo database" in r.stderr and "never mix" in r.stderr
    assert snapshot(demo) == before


def test_while_the_app_holds_the_database_every_command_says_to_stop_it_first(tmp_path, files):
    from lib.store.db import open_database

    db = assembly(tmp_path, files)
    app = open_database(db)           # this process plays the running app
    try:
        for args in (["sync", "--db", db, "--file", files / "inscriptions.csv"],
                     ["export", "--db", db, "--out", tmp_path / "out"],
                     ["backup", "--db", db, "--out", tmp_path / "b.zip"],
                     ["restore", "--db", db, "--from", files / "inscriptions.csv"],
                     ["init", "--db", db, "--name", NAME, "--panel-size", "6", "--fields", files / "fields.csv",
                      "--quotas", files / "quotas.csv"],
                     ["status", "--db", db]):
            r = cli(*args)
            assert r.returncode == 1, args
            assert f"The app is running with this database ({db}): stop it first, or use the app's own page" \
                in r.stderr
    finally:
        app.close()
    assert not (tmp_path / "b.zip").exists() and not (tmp_path / "out").exists()


def test_nonsense_is_refused_in_plain_words(tmp_path, files):
    not_a_db = files / "inscriptions.csv"
    original = not_a_db.read_bytes()
    r = cli("status", "--db", not_a_db)
    assert r.returncode == 1 and "is not a Kleroterion database" in r.stderr
    assert not_a_db.read_bytes() == original
    other = tmp_path / "other.duckdb"                 # another program's DuckDB file is left alone
    import duckdb

    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE invoices (n INTEGER)")
    con.close()
    for args in (["status", "--db", other], ["init", "--db", other, "--name", NAME, "--panel-size", "6", "--fields",
                                             files / "fields.csv", "--quotas", files / "quotas.csv"]):
        r = cli(*args)
        assert r.returncode == 1 and "is a DuckDB database, but not a Kleroterion one" in r.stderr
    con = duckdb.connect(str(other), read_only=True)
    assert [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()] == ["invoices"]
    con.close()
    r = cli("sync", "--db", tmp_path / "nowhere.duckdb", "--file", not_a_db)
    assert r.returncode == 1 and "There is no database at" in r.stderr
    assert not (tmp_path / "nowhere.duckdb").exists()
    for args in (["frobnicate"], ["init", "--db", "x.duckdb"], ["sync", "--db", "x.duckdb"], []):
        r = cli(*args)
        assert r.returncode == 1 and r.stderr.strip(), args
    r = cli("init", "--db", tmp_path / "n.duckdb", "--name", NAME, "--panel-size", "six", "--fields",
            files / "fields.csv", "--quotas", files / "quotas.csv")
    assert r.returncode == 1 and "must be a whole number of people, not 'six'" in r.stderr


# --- backup and restore ---------------------------------------------------------------------------------
def test_backup_then_restore_gives_back_every_table_and_refuses_a_wrong_passphrase(tmp_path, files):
    db = assembly(tmp_path, files)
    env = {"KL_PASS": PASS, "KL_WRONG": PASS + "!"}
    out = tmp_path / "sauvegarde.zip"
    r = cli("backup", "--db", db, "--out", out, "--passphrase-env", "KL_PASS", env=env)
    assert r.returncode == 0, r.stderr
    assert "locked with the passphrase" in r.stdout

    copy = tmp_path / "restored.duckdb"
    r = cli("restore", "--db", copy, "--from", out, "--passphrase-env", "KL_WRONG", env=env)
    assert r.returncode == 1 and "The passphrase does not open" in r.stderr and "sauvegarde.zip" in r.stderr
    assert not copy.exists()
    r = cli("restore", "--db", copy, "--from", out, env=env)
    assert r.returncode == 1 and "locked with a passphrase" in r.stderr and "--passphrase-env" in r.stderr
    assert not copy.exists()

    r = cli("restore", "--db", copy, "--from", out, "--passphrase-env", "KL_PASS", env=env)
    assert r.returncode == 0, r.stderr
    assert f"Restored “{NAME}” (31 sign-ups" in r.stdout
    assert snapshot(copy) == snapshot(db)

    r = cli("restore", "--db", copy, "--from", out, "--passphrase-env", "KL_PASS", env=env)
    assert r.returncode == 1 and "already holds an assembly" in r.stderr


def _rezip(data: bytes, change) -> bytes:
    """The backup with its manifest changed by ``change(manifest)``, checksums kept consistent."""
    from lib import backup

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        found = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(found.pop("manifest.json"))
    change(manifest)
    manifest["files"] = {n: backup._sha256(d) for n, d in found.items() if n != "README.txt"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for n, d in found.items():
            zf.writestr(n, d)
    return buf.getvalue()


def test_newer_damaged_or_truncated_backups_are_refused_and_change_nothing(tmp_path, files):
    from lib.store.db import open_database

    db = assembly(tmp_path, files)
    good = tmp_path / "good.zip"
    assert cli("backup", "--db", db, "--out", good).returncode == 0
    data = good.read_bytes()

    def newer(m):
        m["migrations"].append([999, "from_the_future"])
        m["schema_version"] = 999

    middle = len(data) // 2
    bad = {"newer.zip": (_rezip(data, newer), "newer version of Kleroterion"),
           "damaged.zip": (data[:middle] + bytes([data[middle] ^ 0x55]) + data[middle + 1:], "damaged"),
           "truncated.zip": (data[: len(data) // 3], "damaged or incomplete")}
    empty = tmp_path / "empty.duckdb"
    open_database(empty).close()
    before = snapshot(empty)
    for name, (content, words) in bad.items():
        (tmp_path / name).write_bytes(content)
        for target in (empty, tmp_path / "new.duckdb"):
            r = cli("restore", "--db", target, "--from", tmp_path / name)
            assert r.returncode == 1, name
            assert words in r.stderr and name in r.stderr and "Nothing was changed" in r.stderr
    assert snapshot(empty) == before
    assert not (tmp_path / "new.duckdb").exists()
