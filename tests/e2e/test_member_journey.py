"""A member proposes and endorses a question, it is adopted, the member answers the survey with
their access code, and the organiser sees the aggregated result — in real Chromium against a
real `streamlit run`.

The database is a real DuckDB file that only one process may open, so what a browser would do
slowly (make access cards for the test, and five other members' answers so the result passes
the small-group rule) is done with lib.evaluation while the server is stopped.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lib import evaluation as ev
from lib.store.db import open_database
from lib.demo.load import load_demo
from lib.recruitment.signups.store import pool_frame
from tests.e2e.conftest import StreamlitServer, leave_sign_in_page, open_page, sign_in, wait_idle

pytestmark = pytest.mark.e2e

QUESTION = "I felt comfortable asking the experts questions."


def member_sign_in(page, url: str, code: str) -> None:
    page.goto(url)                                    # still signed in from before (the cookie)?
    wait_idle(page)
    page.get_by_role("heading", name="The steps").wait_for()
    if page.get_by_text("Signed in as Assembly member").count():
        return
    page.goto(f"{url}/sign-in?code={code}")          # the card's QR link
    wait_idle(page)
    page.get_by_role("tab", name="Assembly member").click()
    box = page.get_by_label("Your access code (on your card)")
    expect(box).to_have_value(code)                   # filled in from the link
    page.get_by_role("button", name="Open my pages").click()
    page.get_by_text("Signed in as Assembly member").wait_for()
    leave_sign_in_page(page)


def choose(page, label: str, option: str, tries: int = 4) -> None:
    """Pick an option of a select box. A page still redrawing (a tab click reruns it) closes an open list,
    so open it again until the option shows."""
    for i in range(tries):
        wait_idle(page)
        page.get_by_label(label).click()
        try:
            page.get_by_role("option", name=option).click(timeout=5_000)
            return
        except Exception:  # noqa: BLE001 - the list closed under us: open it again
            if i == tries - 1:
                raise


def start(path, page) -> StreamlitServer:
    """A server on the prepared database; the first visit (to the start page) warms it up, since
    a fresh server shown a page address first answers "page not found"."""
    srv = StreamlitServer(path)
    page.goto(srv.url)
    page.get_by_role("heading", name="The steps").wait_for()
    return srv


@pytest.fixture(scope="module")
def assembly(tmp_path_factory):
    """The demo assembly with eight members holding access cards; the members agreed that a
    quarter of them must endorse a question (8 card holders, no attendance yet: 2 needed)."""
    path = tmp_path_factory.mktemp("journey") / "app.duckdb"
    db = open_database(path)
    load_demo(db)
    ids = pool_frame(db)["person_id"].tolist()[:8]
    codes = ev.issue_codes(db, ids, "organiser")
    ev.save_eval_settings(db, share=0.25)
    db.close()
    return path, [codes[i] for i in ids]


def test_member_designed_question_from_proposal_to_result(browser, assembly):
    path, codes = assembly
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(3)]
    member, other, organiser = (c.new_page() for c in contexts)
    for p in (member, other, organiser):
        p.set_default_timeout(30_000)
    srv = start(path, organiser)
    try:
        # 1. A member proposes a question.
        member_sign_in(member, srv.url, codes[0])
        open_page(member, "Our questions")
        member.get_by_label("Your question").fill(QUESTION)
        member.get_by_label("What do you want to learn from it?").fill("Whether the evidence sessions work")
        member.get_by_role("button", name="Propose this question").click()
        member.get_by_text("your question is saved").wait_for()
        member.get_by_text("Waiting for a check by the organisers", exact=True).wait_for()
        # 2. The organiser checks the question, then opens an endorsement round.
        sign_in(organiser, srv.url, "organiser")
        open_page(organiser, "Evaluation")
        organiser.get_by_role("tab", name="Members' questions").click()
        wait_idle(organiser)             # the tab click reruns the page
        organiser.get_by_role("button", name="Accept", exact=True).click()
        organiser.get_by_text("M1 accepted").wait_for()
        wait_idle(organiser)
        organiser.get_by_role("tab", name="Members' questions").click()
        wait_idle(organiser)             # the tab click reruns the page
        organiser.get_by_role("button", name="Open the round").click()
        organiser.get_by_text("Round opened. Members can endorse now.").wait_for()
        # 3. The member and one other member endorse it.
        open_page(member, "Survey")
        open_page(member, "Our questions")
        member_sign_in(other, srv.url, codes[1])
        open_page(other, "Our questions")
        for who in (member, other):
            who.get_by_text(QUESTION).first.click()          # the checkbox's label
            who.get_by_role("button", name="Endorse the ticked questions").click()
            who.get_by_text("You have endorsed in this round").wait_for()
        # 4. The organiser closes the round: adopted. Then opens the after-session survey.
        open_page(organiser, "Results")
        open_page(organiser, "Evaluation")
        organiser.get_by_role("tab", name="Members' questions").click()
        wait_idle(organiser)             # the tab click reruns the page
        organiser.get_by_role("button", name="Close the round now and count").click()
        organiser.get_by_text("Round 1 closed and counted").wait_for()
        wait_idle(organiser)
        organiser.get_by_role("tab", name="Members' questions").click()
        wait_idle(organiser)             # the tab click reruns the page
        organiser.get_by_text(re.compile(r"Round 1: closed")).first.wait_for()
        organiser.get_by_role("tab", name="Surveys").click()
        wait_idle(organiser)             # the tab click reruns the page
        choose(organiser, "Which survey", "After a session (short)")
        organiser.get_by_role("button", name="Open this survey").click()
        organiser.get_by_text("Survey opened").wait_for()
    finally:
        srv.stop()

    # Five other members answer (seeded directly), so the result is large enough to show.
    db = open_database(path)
    [wave] = ev.waves(db)
    asked = ev.wave_questions(db, wave.wave_id)["question_id"].tolist()
    assert "M1" in asked and ev.adopted_questions(db) == ["M1"]
    for i, code in enumerate(codes[2:7]):
        ev.submit_answers(db, ev.member_sign_in(db, code), wave.wave_id, {q: 1 + (i + j) % 5 for j, q in
                                                                          enumerate(asked)})
    assert ev.save_waiting(db) == 0          # a full batch waits in memory: written before closing
    db.close()

    srv = start(path, organiser)
    try:
        # 5. The member answers the survey with their access code.
        member_sign_in(member, srv.url, codes[0])
        open_page(member, "Survey")
        member.get_by_text(QUESTION).first.wait_for()
        groups = member.get_by_test_id("stForm").first.get_by_role("radiogroup")   # the form, not the language picker
        assert groups.count() == len(asked)
        for i in range(groups.count()):
            groups.nth(i).get_by_text("Agree", exact=True).click()
        member.get_by_role("button", name="Send my answers").click()
        member.get_by_text("You have answered this survey").wait_for()
        # 6. The organiser closes the survey and sees the aggregated result. (A sign-in may survive the
        # server's restart, in this browser's cookie.)
        if not organiser.get_by_text("Signed in as Organiser").count():
            sign_in(organiser, srv.url, "organiser")
        open_page(organiser, "Evaluation")
        organiser.get_by_role("tab", name="Surveys").click()
        wait_idle(organiser)             # the tab click reruns the page
        organiser.get_by_role("button", name="Close this survey").click()
        organiser.get_by_text("Survey closed").wait_for()
        open_page(organiser, "Results")
        organiser.locator("[data-testid='stVegaLiteChart'], .vega-embed").first.wait_for()
        values = [m.inner_text() for m in organiser.get_by_test_id("stMetricValue").all()]
        assert values[0] == "6"                                   # six members answered
        assert values[1] == f"{len(asked)} of {len(asked)}"       # every question has 5+ answers: shown
        organiser.screenshot(path=str(path.with_suffix(".results.png")), full_page=True)
        # The member sees it too (members first), before anything is published.
        open_page(member, "Results")
        member.get_by_text("For members only until").wait_for()
    finally:
        srv.stop()
        for c in contexts:
            c.close()

    db = open_database(path)
    try:
        assert ev.response_count(db, wave.wave_id) == 6
        m1 = ev.results_frame(db, wave.wave_id).set_index("question_id").loc["M1"]
        assert m1["answers"] == 6 and m1["Agree"] >= 1
    finally:
        db.close()
