"""The command line's mapping file (role,column) and its sync options, in process: every way a line or an
option can be wrong has its own plain message naming the file, the row and the column (lib/cli.py)."""

from __future__ import annotations

from argparse import Namespace

import pytest

from lib.cli import CliError, _check_sync_args, read_mapping_file
from lib.recruitment.categories import Field

FIELDS = [Field("gender", "Gender", "", ["Woman", "Man"]), Field("age", "Age band", "", ["Young", "Old"])]
HEADERS = ["Timestamp", "Name", "Email", "Q1", "Q2"]


def read(tmp_path, text: str):
    path = tmp_path / "map.csv"
    path.write_text(text, encoding="utf-8")
    return read_mapping_file(str(path), HEADERS, FIELDS, "signups.csv")


def test_a_good_mapping_file_gives_each_role_its_column_by_key_or_question_name(tmp_path):
    mapping = read(tmp_path, "Role,Column\nid,Timestamp\nfield:gender,Q1\nfield:Age band,Q2\n\nEMAIL,Email\n")
    assert (mapping.column("id"), mapping.column("email")) == ("Timestamp", "Email")
    assert {mapping.column("field:gender"), mapping.column("field:age")} == {"Q1", "Q2"}


@pytest.mark.parametrize("text, message", [
    ("role,where\nid,Timestamp\n", "map.csv, row 1: the first row must be the header “role,column” (found: role,where)."),
    ("", "map.csv, row 1: the first row must be the header “role,column” (found: nothing)."),
    ("role,column\nfield:gender,Q1\nfield:gender,Q2\nfield:age,Q2\n",
     "map.csv, row 3, column “role”: “field:gender” is given twice (first on row 2)."),
    ("role,column\nfield:gender,\nfield:age,Q2\n",
     "map.csv, row 2, column “column”: the column is empty (write the sheet's column header, or leave the row out)."),
    ("role,column\nhouse,Q1\nfield:gender,Q1\nfield:age,Q2\n",
     "map.csv, row 2, column “role”: “house” is not a role. Roles: id, name, email, phone, address, postcode, or "
     "one per question: field:gender, field:age."),
    ("role,column\nfield:gender,Q1\n",
     "map.csv: no row for the question “Age band”: add a row “field:age,<the column that holds it>”."),
])
def test_each_way_a_mapping_line_can_be_wrong_is_named(tmp_path, text, message):
    with pytest.raises(CliError) as e:
        read(tmp_path, text)
    assert str(e.value).startswith("map.csv")
    assert message in str(e.value), str(e.value)


def args(**kw) -> Namespace:
    base = dict(file=None, google_sheet=None, sheet=None, encoding=None, worksheet=None, credentials=None)
    return Namespace(**{**base, **kw})


@pytest.mark.parametrize("given, message", [
    (args(), "Say where the sign-ups come from: --file FILE, or --google-sheet URL_OR_KEY --worksheet NAME (one of them)."),
    (args(file="a.csv", google_sheet="key"), "Say where the sign-ups come from"),
    (args(google_sheet="key", sheet="S"), "--sheet and --encoding are for --file; a Google Sheet's tab is --worksheet."),
    (args(file="a.csv", credentials="c.json"),
     "--worksheet and --credentials are for --google-sheet; a workbook's sheet is --sheet."),
])
def test_the_sync_options_must_name_one_source_with_its_own_options(given, message):
    with pytest.raises(CliError) as e:
        _check_sync_args(given)
    assert message in str(e.value)
    _check_sync_args(args(file="a.csv", sheet="S", encoding="cp1252"))
    _check_sync_args(args(google_sheet="key", worksheet="Form responses 1", credentials="c.json"))
