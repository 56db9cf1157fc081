"""A quota table (Sortition Foundation categories.csv) read against the questions set up: the checks
the setup tests do not reach, each with its own plain message (lib.recruitment.assembly_setup)."""

from __future__ import annotations

import pytest

from lib.errors import UserError
from lib.recruitment.assembly_setup import read_quota_table
from lib.recruitment.categories import parse_fields_csv

FIELDS = parse_fields_csv("""field,field_label,value
gender,Gender,Woman
gender,Gender,Man
age,Age band,18-39
age,Age band,40+
""")


def read(text: str, panel: int = 6):
    return read_quota_table(text.encode(), "sf.csv", FIELDS, panel)


@pytest.mark.parametrize("row, message", [
    ("gender,Woman,2,3,3,4", "sf.csv, row 2, column “min_flex”: the relaxed minimum 3 is above the minimum 2."),
    ("gender,Woman,2,3,1,2", "sf.csv, row 2, column “max_flex”: the relaxed maximum 2 is below the maximum 3."),
])
def test_a_relaxed_quota_tighter_than_the_quota_is_refused(row, message):
    text = f"feature,value,min,max,min_flex,max_flex\n{row}\ngender,Man,2,3,,\n"
    with pytest.raises(UserError) as e:
        read(text)
    assert message in str(e.value)


def test_a_question_without_quotas_is_named_as_not_balanced():
    table = read("feature,value,min,max\ngender,Woman,2,4\ngender,Man,2,4\n")
    assert table.notes == ["The table gives no quotas for: Age band. These questions will not be balanced in the "
                           "draw."]
    assert [(b.field, b.value, b.min, b.max) for b in table.bands] == [("gender", "Woman", 2, 4),
                                                                         ("gender", "Man", 2, 4)]


def test_a_table_without_quotas_or_with_too_many_rows_is_refused_plainly():
    with pytest.raises(UserError, match="^sf.csv has no quotas in it.$"):
        read("feature,value,min,max\n")
    rows = "".join(f"gender,Woman,{i},{i}\n" for i in range(5001))
    with pytest.raises(UserError, match="^sf.csv has 5,001 rows: too many for a quota table.$"):
        read("feature,value,min,max\n" + rows)
