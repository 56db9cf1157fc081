"""The targets an organiser types into the table or brings as a file (lib/recruitment/targets.py), read outside
the page: every share that is not one gets its own plain message, and nothing typed is lost."""

from __future__ import annotations

import pytest

from lib.errors import UserError
from lib.recruitment.categories import Field
from lib.recruitment.targets import Target, read_targets_file, targets_from_rows

SHARE, SOURCE = "Share (%)", "Source"
AGE = Field("age", "Age band", values=["16-24", "25-44"], value_labels={"16-24": "16 to 24", "25-44": "25 to 44"})


def row(value: str, share, source="census 2021") -> dict:
    return {"field": "age", "value": value, "Question": "Age band", "Group": value, SHARE: share, SOURCE: source}


def test_typed_percentages_become_shares_and_blank_rows_are_skipped():
    targets, errors = targets_from_rows([row("16-24", 14.0, " census 2021 "), row("25-44", float("nan")),
                                         row("25-44", None)], SHARE, SOURCE)
    assert errors == []
    assert targets == [Target("age", "16-24", pytest.approx(0.14), "census 2021")]


def test_each_share_that_is_not_one_is_named_and_the_others_are_kept():
    targets, errors = targets_from_rows([row("16-24", "lots"), row("25-44", 120.0), row("16-24", 0.0)],
                                        SHARE, SOURCE)
    assert errors == ["Age band, 16-24: “lots” is not a number.",
                      "Age band, 25-44: the share must be between 0 and 100 (it is 120)."]
    assert [(t.value, t.share) for t in targets] == [("16-24", 0.0)]


def test_a_targets_file_with_a_byte_order_mark_is_read():
    data = "\ufefffield,value,share\nage,16-24,14%\nage,25-44,30%\n".encode()
    assert [(t.value, t.share) for t in read_targets_file(data, [AGE], "t.csv")] == [
        ("16-24", pytest.approx(0.14)), ("25-44", pytest.approx(0.30))]


def test_a_file_that_is_not_text_is_refused_in_plain_words():
    with pytest.raises(UserError, match=r"t\.xlsx is not a text CSV file \(save it as “CSV UTF-8”"):
        read_targets_file(b"PK\x03\x04\xff\xfe\x00binary", [AGE], "t.xlsx")
