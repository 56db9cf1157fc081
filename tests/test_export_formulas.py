"""CSV/Excel exports: a cell a spreadsheet would run as a formula is neutralised, however it is
disguised (control characters, whitespace, zero-width or full-width characters in front), and an
ordinary value (a phone number, a minus sign, a date) is exported exactly as it is.

The spreadsheet is modelled the way Excel, LibreOffice and Google Sheets read a CSV cell: leading
whitespace and invisible characters are skipped, and a cell then starting with = + - @ (or their
full-width forms) is a formula. A value made only of digits, spaces and + - ( ) . , / cannot call
a function or reference a cell, so it is left alone (``+44 7700 900123`` stays a phone number).
"""

from __future__ import annotations

import csv
import io
import unicodedata

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.privacy import safe_csv_bytes, safe_csv_rows, spreadsheet_safe

TRIGGERS = "=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63"       # ASCII, full-width and small forms
INVISIBLE = " \t\r\n\x0b\x0c\x00\x1b\u00a0\u2000\u3000\u200b\u200c\u200d\u2060\ufeff\u00ad\u202e"
HARMLESS = "0123456789 +-().,/"


def is_formula(cell: str) -> bool:
    """Would a spreadsheet run this cell? (see the module docstring)"""
    i = 0
    while i < len(cell) and (cell[i].isspace() or unicodedata.category(cell[i]) in ("Cc", "Cf", "Zs", "Zl", "Zp")):
        i += 1
    return i < len(cell) and unicodedata.normalize("NFKC", cell[i]) in "=+-@"


def harmless(cell: str) -> bool:
    return all(c in HARMLESS for c in cell)


RAN = {"hidden": 0, "ordinary": 0, "csv": 0}

invisible = st.text(alphabet=INVISIBLE, max_size=4)
payload = st.text(min_size=0, max_size=30).filter(lambda s: not harmless(s))


@settings(max_examples=400, deadline=None)
@given(prefix=invisible, sign=st.sampled_from(TRIGGERS), rest=st.text(max_size=30))
def test_a_formula_is_neutralised_whatever_is_in_front_of_it(prefix, sign, rest):
    value = prefix + sign + rest
    out = spreadsheet_safe(value)
    if harmless(value):
        assert out == value
    else:
        RAN["hidden"] += 1
        assert not is_formula(out), repr(out)
        assert out == "'" + value                 # nothing else is changed: the text is all there


@settings(max_examples=400, deadline=None)
@given(value=st.one_of(
    st.text(alphabet=HARMLESS, max_size=25),                                             # +44 7700 900123, -5, (0)
    st.from_regex(r"\+?[0-9]{1,3}( ?\(0\))?( [0-9]{2,5}){1,4}", fullmatch=True),        # phone numbers
    st.dates().map(str), st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.text(max_size=30).filter(lambda s: not is_formula(s)),                           # names, notes, anything
))
def test_an_ordinary_value_is_exported_exactly_as_it_is(value):
    RAN["ordinary"] += 1
    assert spreadsheet_safe(value) == value


@settings(max_examples=150, deadline=None)
@given(cells=st.lists(st.one_of(invisible.flatmap(lambda p: st.sampled_from(TRIGGERS).map(lambda s: p + s))
                                .flatmap(lambda head: payload.map(lambda t: head + t)),
                                st.text(max_size=20)), min_size=1, max_size=8))
def test_a_csv_file_read_back_has_no_formula_and_loses_nothing(cells):
    RAN["csv"] += 1
    df = pd.DataFrame({"note": cells})
    for data in (safe_csv_bytes(df).decode("utf-8-sig"), safe_csv_rows(["note"], [[c] for c in cells])):
        back = [r[0] for r in csv.reader(io.StringIO(data, newline=""))][1:]
        assert len(back) == len(cells)
        for original, cell in zip(cells, back):
            assert cell in (original, "'" + original)
            assert not is_formula(cell) or harmless(cell)


def test_the_property_tests_checked_enough_cases():
    """Reported, and enforced: the generators above are not quietly filtered down to nothing."""
    if not any(RAN.values()):          # run alone: run the three properties here
        test_a_formula_is_neutralised_whatever_is_in_front_of_it()
        test_an_ordinary_value_is_exported_exactly_as_it_is()
        test_a_csv_file_read_back_has_no_formula_and_loses_nothing()
    print(f"export properties: {RAN}")
    assert RAN["hidden"] >= 200 and RAN["ordinary"] >= 200 and RAN["csv"] >= 100, RAN


def test_the_reported_attacks_and_ordinary_values():
    for bad in ("\r=1+1", "\t=HYPERLINK(\"http://x\")", " =cmd|' /C calc'!A0", "\n+SUM(A1)", "\u200b=1+A1",
                "\uff1dSUM(A1)", "\u3000@SUM(A1)", "-2+3+cmd|' /C calc'!A0", "=1+1"):
        assert spreadsheet_safe(bad) == "'" + bad, repr(bad)
    for ok in ("+44 7700 900123", "-", "-5", "+1 (555) 123-4567", "2026-03-01", "01/03/2026", "Zoë", "O'Brien",
               "", "a=b", "Kind - gentle"):
        assert spreadsheet_safe(ok) == ok, repr(ok)
    assert spreadsheet_safe(3) == 3 and spreadsheet_safe(None) is None
