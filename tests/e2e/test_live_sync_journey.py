"""Live sync in a real browser: a volunteer has the quota board open on a phone; somebody fills in the sign-up
form (a row is added to the fake Google Sheet on 127.0.0.1); the board shows the new sign-up by itself, with
nobody pressing anything. A real `streamlit run` of a real (not demo) assembly, the sheet connected, the
automatic sync set to every 2 seconds."""

from __future__ import annotations

import csv
import json
import re

import pytest
from playwright.sync_api import expect

from lib.store.config import DEMO_DIR
from tests.e2e.conftest import StreamlitServer, leave_sign_in_page, wait_idle
from tests.fakesheets import FakeSheets

pytestmark = pytest.mark.e2e

TAB = "Form responses 1"
PASSWORD = "lantern orchard kettle"
SLOW = 90_000


def demo_rows() -> list[list[str]]:
    with open(DEMO_DIR / "signups.csv", newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.fixture(scope="module")
def fake():
    with FakeSheets() as server:
        yield server


def build_assembly(path, fake) -> str:
    """A real assembly (the demo's questions and targets, but not the demo) whose sign-ups an organiser
    brought in from the fake Google Sheet, so the sheet is connected; automatic sync every 2 seconds."""
    from lib.recruitment.categories import load_fields, load_fields_file, save_fields
    from lib.store.db import open_database
    from lib.recruitment.signups import live
    from lib.recruitment.signups.mapping import load_mapping, save_mapping, suggest_mapping
    from lib.recruitment.signups.sources import grid_from_google_sheet
    from lib.recruitment.signups.sync import sync_from
    from lib.recruitment.targets import parse_targets_csv, save_targets

    db = open_database(path)
    save_fields(db, load_fields_file(DEMO_DIR / "fields.csv"))
    fields = load_fields(db)
    save_targets(db, parse_targets_csv((DEMO_DIR / "targets.csv").read_text(encoding="utf-8"), fields, "targets.csv"),
                 panel_size=30, note="census", actor="test")
    rows = demo_rows()
    key = fake.add_spreadsheet(tabs={TAB: rows})
    save_mapping(db, suggest_mapping(rows[0], fields))
    source = {"kind": "google_sheet", "spreadsheet": fake.url(key), "worksheet": TAB}
    result = sync_from(db, lambda: grid_from_google_sheet(fake.service_account_info(), fake.url(key), TAB,
                                                          api_base=fake.base_url),
                       load_mapping(db), source_kind="google_sheet", source_label=live.source_label(source),
                       actor="organiser", source=source)
    assert result.status == "ok" and result.added == 603
    live.save_live_settings(db, enabled=True, seconds=2)
    db.close()
    return key


def sheet_connected_server(folder, fake, key: str, role: str, password: str) -> StreamlitServer:
    """A real app on ``folder``/app.duckdb (demo off) that reads the fake Sheets server with a service account
    in its secrets, where ``role`` signs in with the shared ``password``."""
    from lib.access.auth import MIN_ITERATIONS, hash_password

    creds = fake.service_account_info()
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(
        "[gcp_service_account]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in creds.items())
        + "\n[kleroterion_auth]\n"
        + f"{role}_password_hash = {json.dumps(hash_password(password, iterations=MIN_ITERATIONS))}\n",
        encoding="utf-8")
    srv = StreamlitServer(folder / "app.duckdb", extra_env={
        "KLEROTERION_DEMO": "0", "STREAMLIT_SECRETS_FILES": str(secrets_file),
        "KLEROTERION_SHEETS_API_BASE": fake.base_url})
    srv.sheet_key = key
    return srv


def sign_in_with_password(page, url: str, role_label: str, password: str) -> None:
    """The first visit starts the app; then sign in on the sign-in page with the role's shared password."""
    page.goto(url)
    wait_idle(page, SLOW)
    page.get_by_text("Overview").first.wait_for()
    page.goto(url + "/sign-in")
    wait_idle(page, SLOW)
    page.get_by_text(role_label, exact=True).click()
    page.locator("input[type=password]").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    leave_sign_in_page(page)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, fake):
    folder = tmp_path_factory.mktemp("e2e_live")
    key = build_assembly(folder / "app.duckdb", fake)
    srv = sheet_connected_server(folder, fake, key, "volunteer", PASSWORD)
    yield srv
    srv.stop()


def test_a_row_added_to_the_sheet_appears_on_a_volunteers_quota_board_by_itself(live_server, fake, phone):
    phone.set_default_timeout(SLOW)
    sign_in_with_password(phone, live_server.url, "Volunteer", PASSWORD)
    phone.get_by_test_id("stExpandSidebarButton").click()
    phone.get_by_role("link", name="Quota board").click()
    wait_idle(phone, SLOW)
    if phone.get_by_test_id("stSidebar").get_attribute("aria-expanded") != "false":
        phone.get_by_test_id("stSidebarCollapseButton").locator("button").click()
    phone.get_by_role("heading", name="Quota board").wait_for()
    signed_up = phone.get_by_test_id("stMetricValue").first
    expect(signed_up).to_have_text("603")
    phone.get_by_text(re.compile(r"New sign-ups come in from the Google Sheet .* by themselves, every 2 seconds")
                      ).wait_for()

    # Somebody fills in the form: a new row at the bottom of the sheet.
    new = list(demo_rows()[1])
    new[0], new[1], new[2] = "02/10/2026 09:00:00", "Ada Newcomer", "ada.newcomer@example.org"
    reads_before = sum(1 for m, p in fake.requests if m == "GET" and "/values" in p)
    fake.tab(live_server.sheet_key, TAB).rows.append(new)

    # Nobody touches the phone: the board shows the newcomer by itself.
    expect(signed_up).to_have_text("604", timeout=60_000)
    phone.get_by_text(re.compile(r"Last synced less than a minute ago")).wait_for()
    assert sum(1 for m, p in fake.requests if m == "GET" and "/values" in p) > reads_before
    assert "Ada Newcomer" not in phone.content() and "@example.org" not in phone.content()
    phone.screenshot(path=str(live_server.log_path.with_name("live_quota_board_phone.png")), full_page=True)
