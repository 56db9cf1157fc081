"""The survey results on a phone (390 × 844): every bar of the chart is on the screen and no label is
cut, in real Chromium against a real `streamlit run`. With KLEROTERION_SCREENSHOTS=1 it saves
bench/results/phone_results.png (and phone_results_es.png)."""

from __future__ import annotations

import os
import re

import pytest

from lib import evaluation as ev
from lib.store.db import open_database
from lib.demo.load import load_demo
from lib.recruitment.signups.store import pool_frame
from tests.e2e.conftest import ROOT, StreamlitServer, wait_for_sign_in_cookie, wait_idle
from tests.e2e.test_member_journey import member_sign_in, start

pytestmark = pytest.mark.e2e

WIDTH = 390


@pytest.fixture(scope="module")
def closed_survey(tmp_path_factory):
    """Six members answered the end-of-process survey (the longest one) and it closed."""
    path = tmp_path_factory.mktemp("results_phone") / "app.duckdb"
    db = open_database(path)
    load_demo(db)
    ids = pool_frame(db)["person_id"].tolist()[:6]
    codes = ev.issue_codes(db, ids, "organiser")
    w = ev.open_wave(db, "end", "End of the process")
    asked = ev.wave_questions(db, w.wave_id)["question_id"].tolist()
    for i, pid in enumerate(ids):
        ev.submit_answers(db, ev.member_sign_in(db, codes[pid]), w.wave_id,
                          {q: [1, 2, 3, 4, 5, 0][(i + j) % 6] for j, q in enumerate(asked)})
    ev.close_wave(db, w.wave_id)
    shown = int((~ev.results_frame(db, w.wave_id)["suppressed"]).sum())
    db.close()
    return path, codes[ids[0]], shown


def boxes(page, selector: str) -> list[dict]:
    return page.eval_on_selector_all(selector, """els => els.map(e => {
        const r = e.getBoundingClientRect();
        return {x: r.left, right: r.right, top: r.top, bottom: r.bottom, w: r.width, h: r.height,
                text: e.textContent || ''};
    })""")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_results_chart_fits_a_phone_and_cuts_no_label(closed_survey, phone, lang):
    path, code, shown = closed_survey
    assert shown >= 10
    srv: StreamlitServer = start(path, phone)
    try:
        member_sign_in(phone, srv.url, code)
        wait_for_sign_in_cookie(phone)
        phone.goto(srv.url + "/results" + ("" if lang == "en" else f"?lang={lang}"))   # Spanish labels are longer
        wait_idle(phone)
        chart = phone.locator("[data-testid='stVegaLiteChart'] svg.marks").first
        chart.wait_for()
        # the screenshot for the record goes to bench/results only when asked (KLEROTERION_SCREENSHOTS=1): a
        # test run must not rewrite files in the repository; otherwise beside the test's database
        out = ROOT / "bench" / "results" if os.environ.get("KLEROTERION_SCREENSHOTS") == "1" else path.parent
        out.mkdir(parents=True, exist_ok=True)
        phone.get_by_test_id("stMetric").first.evaluate("e => e.scrollIntoView({block: 'start'})")
        phone.screenshot(path=str(out / ("phone_results.png" if lang == "en" else f"phone_results_{lang}.png")))
        svg = chart.evaluate("e => {const r = e.getBoundingClientRect(); return {x: r.left, right: r.right}}")
        assert 0 <= svg["x"] and svg["right"] <= WIDTH, svg                       # the chart itself fits
        sel = "[data-testid='stVegaLiteChart'] svg.marks"
        bars = [b for b in boxes(phone, f"{sel} g.mark-rect path") if b["w"] > 0]
        assert len(bars) >= shown * 3                                             # several answers per question
        for b in bars:
            assert 0 <= b["x"] and b["right"] <= WIDTH + 0.5, b                   # every bar on the screen
        labels = [t for t in boxes(phone, f"{sel} text") if t["text"].strip()]
        questions = [t for t in labels if re.match(r"\d+\. \S", t["text"])]
        assert len(questions) >= shown                                            # each question's text is there
        for t in labels:
            # not cut at either side (1 px: a glyph's edge)
            assert 0 <= t["x"] and t["right"] <= min(WIDTH, svg["right"]) + 1, (t["text"], t, svg)
            assert not t["text"].endswith("…"), t                                 # not shortened either
    finally:
        srv.stop()
