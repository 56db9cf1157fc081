import pandas as pd

from lib.privacy import mask_email, mask_name, mask_phone, safe_csv_bytes, spreadsheet_safe, suppress_small


def test_masking_hides_contact_details():
    assert mask_name("Zoë Ó Briain") == "Z. Ó. B."
    assert mask_email("zoe.wright@example.org") == "z•••@e•••.org"
    assert mask_phone("07700 900123") == "•••123"
    assert mask_name("") == mask_email(None) == mask_phone("") == ""


def test_exports_neutralise_formulas():
    for bad in ("=HYPERLINK(\"x\")", "+A1", "-2+cmd|' /C calc'!A0", "@SUM(A1)", "\t=x", "\r=1+1"):
        assert spreadsheet_safe(bad) == "'" + bad
    for ordinary in ("+1", "-2", "+44 7700 900123", "\tx"):   # no formula can hide in these: left as they are
        assert spreadsheet_safe(ordinary) == ordinary
    assert spreadsheet_safe("Zoë") == "Zoë" and spreadsheet_safe(3) == 3
    data = safe_csv_bytes(pd.DataFrame({"note": ["=1+1", "ok"]})).decode("utf-8-sig")
    assert data.splitlines() == ["note", "'=1+1", "ok"]


def test_small_groups_are_suppressed_for_non_organisers():
    assert suppress_small(3) == "fewer than 5"
    assert suppress_small(3, organiser=True) == "3"
    assert suppress_small(0) == "0" and suppress_small(5) == "5"
