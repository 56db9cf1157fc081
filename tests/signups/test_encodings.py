"""Uploads in the encodings people's files really have: letters are never silently mangled."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.errors import UserError
from lib.recruitment.signups.sources import grid_from_upload, guess_upload_encoding

POLISH = "Imię i nazwisko,Miasto\nŁukasz Wiśniewski,Kraków\nZofia Żółć,Łódź\nJoanna Ślęzak,Gdańsk\n"
FRENCH = "Nom,Ville\nHélène Dupré,Besançon\nJérôme Noël,Saint-Étienne\nFrançoise Lefèvre,Orléans\n"
GERMAN = "Name,Ort\nJürgen Groß,München\nBärbel Köhler,Düsseldorf\n"
RUSSIAN = "Имя,Город\nИван Петров,Москва\nОльга Смирнова,Санкт-Петербург\n"
CZECH = "Jméno,Město\nJiří Dvořák,Brno\nRůžena Černá,Plzeň\n"


def names(grid, header):
    return grid.column_values(header)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_and_without_bom_reads_the_real_headers(codec):
    # Excel's "Unicode text" is UTF-16 with tabs; today it became garbage headers without an error.
    data = POLISH.replace(",", "\t").encode(codec)
    g = grid_from_upload("signups.txt", data)
    assert g.headers == ["Imię i nazwisko", "Miasto"]
    assert names(g, "Imię i nazwisko") == ["Łukasz Wiśniewski", "Zofia Żółć", "Joanna Ślęzak"]


def test_utf8_with_bom_and_without():
    for data in (POLISH.encode("utf-8"), POLISH.encode("utf-8-sig")):
        g = grid_from_upload("a.csv", data)
        assert g.headers[0] == "Imię i nazwisko" and names(g, "Miasto")[2] == "Gdańsk"


@pytest.mark.parametrize("text,codec,header,expected", [
    (POLISH, "cp1250", "Imię i nazwisko", ["Łukasz Wiśniewski", "Zofia Żółć", "Joanna Ślęzak"]),
    (CZECH, "cp1250", "Jméno", ["Jiří Dvořák", "Růžena Černá"]),
    (FRENCH, "cp1252", "Nom", ["Hélène Dupré", "Jérôme Noël", "Françoise Lefèvre"]),
    (GERMAN, "cp1252", "Name", ["Jürgen Groß", "Bärbel Köhler"]),
    (GERMAN, "latin-1", "Name", ["Jürgen Groß", "Bärbel Köhler"]),
    (RUSSIAN, "cp1251", "Имя", ["Иван Петров", "Ольга Смирнова"]),
])
def test_windows_code_pages_are_recognised(text, codec, header, expected):
    # Today a cp1250 file turned "Łukasz" into "£ukasz" without a word.
    guess = guess_upload_encoding(text.encode(codec))
    assert guess.certain, guess
    g = grid_from_upload("a.csv", text.encode(codec))
    assert names(g, header) == expected


def test_an_uncertain_file_is_not_read_silently_and_the_choices_are_offered():
    # One word whose letters are plausible in both Western and Central European code pages.
    data = "Name,Town\nWiśniewski,Leeds\n".encode("cp1250")
    guess = guess_upload_encoding(data)
    assert not guess.certain
    assert {"cp1250", "cp1252"} <= set(guess.options)
    labels = " ".join(guess.labels.values())
    assert "Wiśniewski" in labels and "Wiœniewski" in labels        # the organiser sees what each choice gives
    with pytest.raises(UserError, match="cannot tell for sure which alphabet"):
        grid_from_upload("a.csv", data)
    assert names(grid_from_upload("a.csv", data, encoding="cp1250"), "Name") == ["Wiśniewski"]


def test_a_chosen_encoding_that_does_not_fit_the_bytes_is_refused_plainly():
    with pytest.raises(UserError, match="not saved as UTF-8"):
        grid_from_upload("a.csv", POLISH.encode("cp1250"), encoding="utf-8")


def test_a_workbook_or_old_excel_file_with_a_csv_name_is_explained():
    with pytest.raises(UserError, match=r"old Excel format \(\.xls\)"):
        grid_from_upload("a.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    with pytest.raises(UserError, match="not a text"):
        grid_from_upload("a.csv", bytes(range(256)) * 10)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_crash_the_reader(data):
    for name in ("x.csv", "x.txt", "x.xlsx", "x.ods"):
        try:
            grid_from_upload(name, data)
        except UserError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12),
                min_size=2, max_size=8),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_any_unicode_text_in_a_unicode_encoding_comes_back_exactly(cells, codec):
    import csv
    import io

    buf = io.StringIO()
    header = [f"Q{i}" for i in range(len(cells))]
    csv.writer(buf).writerows([header, cells])
    g = grid_from_upload("x.csv", buf.getvalue().encode(codec))
    assert [g.column_values(h)[0] for h in header] == cells
