"""A new group's own assembly, in real Chromium against a real `streamlit run` with the demo switched off
and an empty database: the first organiser gets in with the one-time set-up code from the server's log,
sets up the assembly with three questions of its own (one with accented answers and other spellings),
imports a quota table, uploads a CSV of sign-ups, sees the quota board, freezes the targets and runs the
draw. Screenshots of the main steps go to docs/screenshots/setup-*.png."""

from __future__ import annotations

import os

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, StreamlitServer, open_page, wait_for_sign_in_cookie, wait_idle

pytestmark = pytest.mark.e2e

SHOTS = ROOT / "docs" / "screenshots"
NAME, PASSWORD = "Camille Martin", "lanterne verger bouilloire"

QUOTAS = """category,name,min,max
Région,Île-de-France,2,4
Région,Bretagne,2,3
Région,Occitanie,2,3
Gender,Woman,3,5
Gender,Man,3,5
Gender,Prefer not to say,0,1
Age band,18 to 39,3,5
Age band,40 and over,3,5
"""

REGIONS = ["Île-de-France", "IDF", "ile de france", "Paris region", "Bretagne", "BZH", "Breizh", "Occitanie", "Occ"]
GENDERS = ["F", "female", "Woman", "M", "male", "Man", "F", "M", ""]
AGES = ["18-39", "18 to 39", "40+", "over 40", "40 and over"]


def signups_csv() -> str:
    rows = ["Timestamp,Name,Email,Région,Gender,Age band"]
    for i in range(30):
        rows.append(f"2026-09-{1 + i // 10:02d} 10:{i:02d},Personne {i},p{i}@example.org,{REGIONS[i % len(REGIONS)]},"
                    f"{GENDERS[i % len(GENDERS)]},{AGES[i % len(AGES)]}")
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def real_server(tmp_path_factory):
    srv = StreamlitServer(tmp_path_factory.mktemp("e2e_setup") / "app.duckdb",
                          extra_env={"KLEROTERION_DEMO": "0", "KLEROTERION_DRAW_TIME_LIMIT": "10",
                                     "KLEROTERION_LEGACY_SECONDS": "1", "KLEROTERION_DRAW_SETTLE": "5"})
    yield srv
    srv.stop()


def shot(page, name: str) -> None:
    """The journey's screenshots for docs/screenshots/, only when asked (KLEROTERION_SCREENSHOTS=1): a test run
    must not rewrite files in the repository."""
    if os.environ.get("KLEROTERION_SCREENSHOTS") != "1":
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    wait_idle(page)
    page.wait_for_timeout(1500)          # tables are drawn a moment after the page settles
    page.screenshot(path=str(SHOTS / f"setup-{name}.png"), full_page=True)


def set_up_code(server: StreamlitServer, timeout_s: float = 30) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = re.findall(r"set-up code for the first organiser.*?: ([A-Z0-9]{4}(?:-[A-Z0-9]{4}){3})",
                           server.log_path.read_text(errors="replace"))
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError("the server never wrote a set-up code in its log")


def fill_and_leave(locator, text: str) -> None:
    """Type into a box and leave it, so that Streamlit takes the value."""
    locator.fill(text)
    locator.press("Tab")


def test_a_new_group_sets_up_its_own_assembly_and_draws_its_panel(real_server, page, tmp_path):
    url = real_server.url
    page.set_viewport_size({"width": 1280, "height": 1300})     # screenshots show a whole step
    # An empty database with the demo off: no Riverside, no demo banner, no demo password.
    page.goto(url)
    wait_idle(page)
    page.get_by_text("This assembly is being set up by its organisers").wait_for()
    assert "Riverside" not in page.inner_text("body")
    page.goto(url + "/sign-in")
    wait_idle(page)
    page.get_by_text("No organiser can sign in yet").wait_for()
    assert "riverside-organiser" not in page.inner_text("body")

    # The first organiser: the one-time set-up code from the server's log.
    page.goto(f"{url}/sign-in?invite={set_up_code(real_server)}")
    wait_idle(page)
    page.get_by_text("This is the set-up code for the first organiser").wait_for()
    page.get_by_label("Your name (as your team knows you)").fill(NAME)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("The same password again").fill(PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    page.get_by_text("Your password is set").wait_for()
    wait_idle(page)
    page.get_by_role("textbox", name="Your name or e-mail").fill(NAME)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text(f"Signed in as {NAME} (Organiser)").wait_for()
    page.wait_for_url(lambda u: "/sign-in" not in u)
    wait_for_sign_in_cookie(page)
    wait_idle(page)

    # The Overview points to the set-up.
    page.get_by_text("This assembly is not set up yet").wait_for()
    shot(page, "1-overview")
    page.get_by_role("button", name="Set up the assembly").click()
    page.get_by_role("heading", name="Set up the assembly").first.wait_for()
    wait_idle(page)

    # 1. The assembly.
    page.get_by_label("The assembly's name").fill("Assemblée citoyenne de Northfield")
    page.get_by_label("How many people on the panel").fill("8")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_text("Saved: Assemblée citoyenne de Northfield, a panel of 8.").wait_for()
    wait_idle(page)

    # 2. Three questions of our own.
    for label in ("Région", "Gender", "Age band"):
        box = page.get_by_label("A new question")
        expect(box).to_have_count(1, timeout=30_000)     # not the old page's box while a rerun redraws it
        box.fill(label)
        page.get_by_role("button", name="Add this question").click()
        page.get_by_text(f"Question “{label}”: the question has no answers").wait_for()
        wait_idle(page)
    answers = page.get_by_role("textbox", name="Answers", exact=True)
    for n, (text, read_as) in enumerate([
            ("Île-de-France = IDF, Paris region\nBretagne = BZH, Breizh\nOccitanie = Occ",
             "Read as: Île-de-France (also IDF, Paris region) · Bretagne (also BZH, Breizh) · Occitanie (also Occ)"),
            ("Woman = F, female\nMan = M, male", "Read as: Woman (also F, female) · Man (also M, male)"),
            ("18 to 39 = 18-39\n40 and over = 40+, over 40", "Read as: 18 to 39 (also 18-39) · 40 and over")]):
        fill_and_leave(answers.nth(n), text)
        page.get_by_text(read_as).wait_for()
        wait_idle(page)
    page.get_by_text("A blank answer counts as “Prefer not to say”").nth(1).click()
    page.get_by_text("a blank answer → Prefer not to say").wait_for()
    wait_idle(page)
    assert page.get_by_label("A new question").input_value() == ""      # ready for the next one
    shot(page, "2-questions")
    page.get_by_role("button", name="Save the questions").click()
    page.get_by_text("Saved 3 questions.").wait_for()
    wait_idle(page)

    # 3. The targets: a Sortition Foundation quota table (older header spelling, accents).
    page.get_by_text("From a quota table (fewest and most seats for each answer)").click()
    wait_idle(page)
    quotas = tmp_path / "categories.csv"
    quotas.write_text(QUOTAS, encoding="utf-8")
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(quotas))
    page.get_by_text("categories.csv").first.wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Read this quota table").click()
    page.get_by_role("button", name="Save these quotas as version 1").wait_for()
    wait_idle(page)
    shot(page, "3-quota-table")
    page.get_by_role("button", name="Save these quotas as version 1").click()
    page.get_by_text("Saved the quotas from categories.csv as version 1 of the targets.").wait_for()
    wait_idle(page)
    shot(page, "4-next-steps")

    # Sign-ups: a small CSV whose answers use the other spellings (and three blank genders).
    open_page(page, "Sign-ups")
    people = tmp_path / "inscriptions.csv"
    people.write_text(signups_csv(), encoding="utf-8")
    page.get_by_role("tab", name="Upload a file").click()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(people))
    page.get_by_text("inscriptions.csv").first.wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Bring in sign-ups from this file").click()
    page.get_by_role("button", name="Save and bring in").click()
    page.get_by_text(re.compile(r"Done: 30 sign-ups read, 30 new")).wait_for()
    wait_idle(page)
    shot(page, "5-signups")
    body = page.inner_text("body")
    assert "Riverside" not in body

    # The quota board.
    open_page(page, "Quota board")
    page.get_by_role("heading", name="Every group").wait_for()
    for question in ("Région", "Gender"):
        box = page.get_by_test_id("stExpander").filter(has_text=question).first
        if not box.locator("table").first.is_visible():
            box.locator("summary").first.click()
        box.locator("table").first.wait_for()
    page.get_by_role("cell", name="Île-de-France").first.wait_for()
    page.get_by_role("cell", name="Prefer not to say").first.wait_for()
    shot(page, "6-quota-board")

    # Freeze and draw.
    open_page(page, "The draw")
    page.get_by_role("button", name=re.compile(r"Freeze target version 1 for the draw")).click()
    page.get_by_role("button", name="Yes, freeze version 1").click()      # freezing asks first
    page.get_by_text("panels that meet every quota exist").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Compute the fair lottery").click()
    page.get_by_text("The fair lottery is ready").wait_for(timeout=180_000)
    wait_idle(page)
    page.get_by_role("button", name="Publish the commitment").click()
    page.locator("[data-testid='commitment']").first.wait_for()
    wait_idle(page)
    page.get_by_label("The public random number").fill("04 19 27 33 41")
    page.get_by_text("This number was drawn in public, after the commitment was published").click()
    wait_idle(page)
    page.get_by_role("button", name="Reveal the panel").click()
    page.get_by_text(re.compile(r"chose panel number \d+ of \d+")).wait_for(timeout=60_000)
    wait_idle(page)
    shot(page, "7-draw")
    assert "Riverside" not in page.inner_text("body")
