"""The real gspread client against the fake Google Sheets server on 127.0.0.1."""

from __future__ import annotations

import socket
import time

import pytest

from lib.recruitment.signups.sheets import (BadAddressError, CredentialsError, EmptySheetError, GoogleUnavailableError,
                                NetworkError, RateLimitedError, SheetRef, SpreadsheetNotFoundError,
                                WorksheetMissingError, fetch_values, make_client, write_worksheet)
from lib.recruitment.signups.sources import grid_from_google_sheet
from tests.fakesheets import FakeSheets

TAB = "Form responses 1"
SHEET = [
    ["Timestamp", "Full name", "Email address", "Phone number", "Postcode", "Gender"],
    ["01/09/2026 10:00:00", "Zoë Ó Briain", "zoe@example.org", "07700 900001", "01234", "Woman"],
    ["01/09/2026 10:05:00", "Nguyễn Thị Minh Khai", "", "0044 20 7946 0000", "00501"],          # ragged
    ["01/09/2026 10:07:00", "محمد الأحمد", "m@example.org"],                                       # ragged
    ["01/09/2026 10:09:00", "Łukasz Żółw", "lz@example.org", "+48 600 000 000", "", "Man"],
]


@pytest.fixture
def fake():
    with FakeSheets() as server:
        yield server


def client_for(fake, **kw):
    kw.setdefault("backoff", 0.01)
    return make_client(fake.service_account_info(), api_base=fake.base_url, **kw)


def value_reads(fake):
    return sum(1 for m, p in fake.requests if m == "GET" and "/values/" in p)


def test_normal_sheet_is_read_as_text_with_leading_zeros_unicode_and_ragged_rows_padded(fake):
    key = fake.add_spreadsheet(tabs={"Notes": [["x"]], TAB: SHEET})
    values = fetch_values(client_for(fake), SheetRef(fake.url(key), TAB))
    assert len(values) == 5 and all(len(r) == 6 for r in values)
    assert values[1] == SHEET[1]
    assert [r[4] for r in values[1:]] == ["01234", "00501", "", ""]                 # leading zeros kept
    assert values[2][3] == "0044 20 7946 0000"
    assert values[3] == ["01/09/2026 10:07:00", "محمد الأحمد", "m@example.org", "", "", ""]
    assert values[4][1] == "Łukasz Żółw"
    assert all(type(c) is str for r in values for c in r)
    # The first call signed in at the fake token endpoint with the throw-away key.
    assert fake.requests[0] == ("POST", "/token")


def test_grid_from_google_sheet_by_key_and_the_first_tab_when_no_tab_is_named(fake):
    key = fake.add_spreadsheet(tabs={TAB: SHEET, "Other": [["a"]]})
    grid = grid_from_google_sheet(fake.service_account_info(), key, "", api_base=fake.base_url)
    assert grid.row_count == 4
    assert grid.column_values("Postcode") == ["01234", "00501", "", ""]
    assert grid.table.column("row_number").to_pylist() == [2, 3, 4, 5]


def test_tab_name_differing_only_in_capitals_is_found(fake):
    key = fake.add_spreadsheet(tabs={"Form Responses 1": SHEET})
    assert len(fetch_values(client_for(fake), SheetRef(key, "form responses  1"))) == 5


def test_empty_sheet_is_explained(fake):
    key = fake.add_spreadsheet(tabs={TAB: []})
    with pytest.raises(EmptySheetError, match="“Form responses 1” is empty"):
        fetch_values(client_for(fake), SheetRef(key, TAB))


def test_missing_worksheet_lists_the_tabs_that_exist(fake):
    key = fake.add_spreadsheet(title="Assembly sign-ups", tabs={"Responses": SHEET, "Notes": []})
    with pytest.raises(WorksheetMissingError) as e:
        fetch_values(client_for(fake), SheetRef(key, TAB))
    assert "no tab called “Form responses 1”" in str(e.value)
    assert "“Responses”, “Notes”" in str(e.value)


def test_spreadsheet_not_found_names_the_service_account_email(fake):
    with pytest.raises(SpreadsheetNotFoundError) as e:
        fetch_values(client_for(fake), SheetRef(fake.url("nosuchsheet0123456789abcdef"), TAB))
    msg = str(e.value)
    assert "cannot be found" in msg and "kleroterion@test-project.iam.gserviceaccount.com" in msg


def test_a_sheet_not_shared_with_the_service_account_says_to_share_it(fake):
    key = fake.add_spreadsheet(tabs={TAB: SHEET})
    fake.fail(403, times=1)
    with pytest.raises(SpreadsheetNotFoundError, match="is not shared with Kleroterion.*share the sheet with "
                                                      "kleroterion@test-project"):
        fetch_values(client_for(fake), SheetRef(key, TAB))


def test_repeated_429_gives_up_after_the_bounded_retries_with_a_clear_message(fake):
    key = fake.add_spreadsheet(tabs={TAB: SHEET})
    fake.fail(429, times=1000, path="/values/")
    t0 = time.perf_counter()
    with pytest.raises(RateLimitedError) as e:
        fetch_values(client_for(fake, retries=3), SheetRef(key, TAB))
    assert time.perf_counter() - t0 < 5
    assert str(e.value) == ("Google Sheets is refusing requests because too many were made (429) — wait a minute "
                            "and sync again; your last good data is kept.")
    assert value_reads(fake) == 4                      # the first try and 3 retries, then it stops


def test_backoff_doubles_and_honours_retry_after_within_the_cap(fake):
    from lib.recruitment.signups.sheets import BoundedRetryHTTPClient

    c = BoundedRetryHTTPClient.__new__(BoundedRetryHTTPClient)
    c.backoff, c.max_wait = 0.5, 4.0
    assert [c._wait(i, None) for i in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert c._wait(0, "3") == 3.0 and c._wait(0, "60") == 4.0 and c._wait(2, "nonsense") == 2.0


def test_server_error_then_success_is_retried(fake):
    key = fake.add_spreadsheet(tabs={TAB: SHEET})
    fake.fail(500, times=1, path="/values/")
    fake.fail(503, times=1, path="/values/")
    assert fetch_values(client_for(fake), SheetRef(key, TAB))[1][1] == "Zoë Ó Briain"
    assert value_reads(fake) == 3


def test_server_errors_that_do_not_stop_are_explained(fake):
    key = fake.add_spreadsheet(tabs={TAB: SHEET})
    fake.fail(500, times=100)
    with pytest.raises(GoogleUnavailableError, match=r"problem on its side \(error 500\)"):
        fetch_values(client_for(fake, retries=2), SheetRef(key, TAB))


def test_a_key_google_does_not_accept_is_a_credentials_error(fake):
    key = fake.add_spreadsheet(tabs={TAB: SHEET})
    fake.service_account_info()                                 # the server knows the real public key
    wrong = fake.service_account_info(key_name="someone-else", register=False)   # signed with another key
    client = make_client(wrong, api_base=fake.base_url, backoff=0.01)
    with pytest.raises(CredentialsError, match="did not accept the service account key"):
        fetch_values(client, SheetRef(key, TAB))


def test_an_incomplete_key_is_explained_before_any_request(fake):
    info = fake.service_account_info()
    del info["private_key"]
    with pytest.raises(CredentialsError, match="private_key is missing"):
        make_client(info, api_base=fake.base_url)
    info = fake.service_account_info() | {"private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n"}
    with pytest.raises(CredentialsError, match="could not be read"):
        make_client(info, api_base=fake.base_url)


def test_network_down_is_explained():
    with socket.socket() as s:                       # a port on 127.0.0.1 where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with FakeSheets() as fake:
        info = fake.service_account_info() | {"token_uri": base + "/token"}
    client = make_client(info, api_base=base, retries=1, backoff=0.01, timeout=2)
    with pytest.raises(NetworkError, match="could not reach Google Sheets"):
        fetch_values(client, SheetRef("a" * 30, TAB))


def test_a_slow_answer_times_out_with_a_plain_message(fake):
    key = fake.add_spreadsheet(tabs={TAB: SHEET})
    fetch_values(client := client_for(fake, timeout=0.3, retries=0), SheetRef(key, TAB))   # sign in first
    fake.delay = 1.0
    with pytest.raises(NetworkError, match="did not answer within 0.3 seconds"):
        fetch_values(client, SheetRef(key, TAB))


def test_an_address_that_is_not_a_sheet_is_explained(fake):
    with pytest.raises(BadAddressError, match="does not look like the address of a Google Sheet"):
        fetch_values(client_for(fake), SheetRef("https://example.org/my-form", TAB))


def test_write_back_creates_a_tab_then_replaces_its_contents_as_plain_text(fake):
    key = fake.add_spreadsheet(tabs={TAB: SHEET})
    client = client_for(fake)
    ref = SheetRef(fake.url(key), TAB)
    assert write_worksheet(client, ref, "Selected panel", ["Pseudonym", "Note"],
                           [["P-0001", "=HYPERLINK(\"x\")"], ["P-0002", 7]]) == "Selected panel"
    assert [t.title for t in fake.books[key].tabs] == [TAB, "Selected panel"]
    assert fake.tab(key, "Selected panel").rows == [["Pseudonym", "Note"], ["P-0001", "=HYPERLINK(\"x\")"],
                                                    ["P-0002", "7"]]
    assert any(m == "PUT" for m, _p in fake.requests)
    # Written again with more rows than the tab has: emptied, grown, rewritten; the sign-ups are untouched.
    rows = [[f"P-{i:04d}"] for i in range(1, 1202)]
    write_worksheet(client, ref, "Selected panel", ["Pseudonym"], rows)
    tab = fake.tab(key, "Selected panel")
    assert tab.rows == [["Pseudonym"]] + rows and tab.row_count >= 1202
    assert fake.tab(key, TAB).rows == SHEET
    # And it reads back through the same client.
    assert fetch_values(client, SheetRef(key, "Selected panel"))[-1] == ["P-1201"]


def test_the_guide_shows_the_exact_secrets_section_the_app_reads(fake):
    """docs/GOOGLE_SHEETS.md's TOML is what the Sign-ups page looks up, and has what make_client needs."""
    import re
    import tomllib
    from pathlib import Path

    from lib.recruitment.signups.sheets import SECRETS_SECTION

    root = Path(__file__).resolve().parents[2]
    guide = (root / "docs" / "GOOGLE_SHEETS.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", guide, re.S).group(1)
    parsed = tomllib.loads(block)
    assert list(parsed) == [SECRETS_SECTION] == ["gcp_service_account"]
    page_code = "".join(f.read_text(encoding="utf-8")          # the page and the sections it draws
                        for f in [root / "pages" / "signups.py", *sorted((root / "pages" / "sections").glob("signups_*.py"))])
    assert f'secrets_section("{SECRETS_SECTION}")' in page_code
    # With a real key pasted into the guide's layout, the client works against the fake server.
    info = dict(parsed[SECRETS_SECTION]) | {k: v for k, v in fake.service_account_info().items()
                                             if k in ("private_key", "client_email")}
    key = fake.add_spreadsheet(tabs={TAB: SHEET})
    assert fetch_values(make_client(info, api_base=fake.base_url), SheetRef(key, TAB))[0] == SHEET[0]


def test_fake_server_speaks_the_other_calls_gspread_makes(fake):
    """batchGet, append and a ranged read, through gspread itself, so the fake stays faithful."""
    key = fake.add_spreadsheet(tabs={TAB: SHEET})
    sh = client_for(fake).open_by_key(key)
    ws = sh.worksheet(TAB)
    ws.append_row(["01/09/2026 11:00:00", "New Person", "new@example.org", "", "09999", "Woman"])
    assert ws.get("B6:E6") == [["New Person", "new@example.org", "", "09999"]]
    got = sh.values_batch_get([f"'{TAB}'!A1:B1", f"'{TAB}'!E2:E3"])["valueRanges"]
    assert [r["values"] for r in got] == [[["Timestamp", "Full name"]], [["01234"], ["00501"]]]
