"""A member picks Español, reloads the page and still reads Spanish, answers the survey in Spanish and
reads the results in Spanish (real streamlit run, Chromium)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lib import evaluation as ev
from lib.store.db import open_database
from lib.demo.load import load_demo
from lib.recruitment.signups.store import pool_frame
from tests.e2e.conftest import open_page, wait_for_sign_in_cookie, wait_idle
from tests.e2e.test_member_journey import member_sign_in, start

pytestmark = pytest.mark.e2e

E1_ES = "Tuve suficientes oportunidades para decir lo que pienso."


@pytest.fixture(scope="module")
def assembly(tmp_path_factory):
    """The demo with six card holders: a first survey closed with five members' answers (its results are
    there to read) and a second one open for the member in this journey."""
    path = tmp_path_factory.mktemp("languages") / "app.duckdb"
    db = open_database(path)
    load_demo(db)
    ids = pool_frame(db)["person_id"].tolist()[:6]
    codes = ev.issue_codes(db, ids, "organiser")
    first = ev.open_wave(db, "pulse", "Después de la sesión 1")
    for pid in ids[1:]:
        ev.submit_answers(db, ev.member_sign_in(db, codes[pid]), first.wave_id, {"E1": 4, "E2": 5})
    ev.close_wave(db, first.wave_id)
    ev.open_wave(db, "pulse", "Después de la sesión 2")
    db.close()
    return path, codes[ids[0]]


ICON = re.compile(r"[a-z]+(_[a-z]+)*")
STREAMLIT_OWN = {"Skip to main content"}
PEOPLES_TEXT = {"Riverside climate assembly (demo)", "Después de la sesión 1", "Después de la sesión 2", "Riverside",
                "Kleroterion"}


def english_on_screen(page) -> list[str]:
    """English words or untranslated messages in what the browser shows (the side menu, the page, the text
    of its charts), line by line: the language test's rule (tests/app_pages/test_languages.py)."""
    from tests.app_pages.test_languages import english_in

    wait_idle(page)
    lines = page.locator("[data-testid='stSidebar'], [data-testid='stMain']").evaluate_all(
        "els => els.flatMap(e => e.innerText.split('\\n'))")
    lines += page.locator("[data-testid='stMain'] svg text").evaluate_all("els => els.map(e => e.textContent)")
    # left out: Material icons (a ligature such as "download" draws the icon, never read as text) and
    # Streamlit's own link for keyboard users, which the app cannot word
    lines = [t for t in lines if t and t.strip() and not ICON.fullmatch(t.strip()) and t.strip() not in STREAMLIT_OWN]
    where = page.url.split("/")[-1]
    return [f"{where}: {x}" for x in english_in([("screen", t) for t in lines], PEOPLES_TEXT)]


def test_a_member_picks_spanish_reloads_answers_and_reads_the_results_in_spanish(assembly, page):
    path, code = assembly
    srv = start(path, page)
    try:
        member_sign_in(page, srv.url, code)
        wait_for_sign_in_cookie(page)
        main = page.get_by_test_id("stMain")                 # at the top of the page: a phone hides the menu
        assert english_on_screen(page), "the check for English words sees none on the English page"
        assert page.evaluate("document.documentElement.lang") == "en"
        expect(main.get_by_text("Language / Idioma")).to_be_visible()
        main.get_by_label("Language / Idioma").click()        # the drop-down
        page.get_by_role("option", name="Español").click()
        expect(main.get_by_role("radiogroup")).to_have_count(0)   # the page's radio groups are its own
        sidebar = page.get_by_test_id("stSidebar")
        expect(page.get_by_role("heading", name="Los pasos")).to_be_visible()
        page.wait_for_function("document.documentElement.lang === 'es'")   # screen readers read Spanish
        expect(sidebar.get_by_role("link", name="Encuesta", exact=True)).to_be_visible()   # the menu too
        # a reload (pull-to-refresh on a phone): a new browser session, still Spanish and still signed in
        page.wait_for_url(lambda url: "lang=es" in url)
        page.reload()
        wait_idle(page)
        expect(page.get_by_role("heading", name="Los pasos")).to_be_visible()
        expect(page.get_by_role("heading", name="The steps")).to_have_count(0)
        # the survey, in Spanish
        left = english_on_screen(page)                       # the Overview
        open_page(page, "Encuesta")
        expect(page.get_by_text("Después de la sesión 2")).to_be_visible()
        expect(page.get_by_text(E1_ES)).to_be_visible()
        expect(page.get_by_text("Send my answers")).to_have_count(0)
        groups = page.get_by_role("radiogroup").filter(has_text="Muy de acuerdo")
        expect(groups.first).to_be_visible()
        for i in range(groups.count()):
            groups.nth(i).get_by_text("De acuerdo", exact=True).click()
        page.get_by_role("button", name="Enviar mis respuestas").click()
        expect(page.get_by_text("Gracias: hemos recibido sus respuestas a “Después de la sesión 2”.")).to_be_visible()
        expect(page.get_by_text("Ya ha respondido esta encuesta. ¡Gracias!").first).to_be_visible()
        left += english_on_screen(page)
        # the results, in Spanish: the closed first survey
        open_page(page, "Resultados")
        expect(page.get_by_text("Resultados de las encuestas anónimas.")).to_be_visible()
        expect(page.get_by_text("Personas que respondieron")).to_be_visible()
        expect(page.get_by_text("Results of the anonymous surveys")).to_have_count(0)
        page.get_by_text("Las cifras del gráfico").click()
        expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
        # no English left anywhere the browser shows it: the menu, the page, the chart's own text
        left += english_on_screen(page)
        assert not left, "English left in Spanish:\n" + "\n".join(left)
    finally:
        srv.stop()
