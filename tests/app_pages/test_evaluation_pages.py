"""The evaluation pages, for every role, through AppTest on the real app.py."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from lib import evaluation as ev
from lib.plaintext import md
from lib.recruitment.signups.store import pool_frame
from tests.app_pages.helpers import assert_ok, goto, open_app, texts

ADMIN = "pages/evaluation_admin.py"
PAPER = "pages/paper_answers.py"
WORDING = "pages/question_wording.py"
QUESTIONS = "pages/member_questions.py"
SURVEY = "pages/member_survey.py"
RESULTS = "pages/results.py"


def database():
    from lib.resources import get_db

    return get_db()


def with_codes(n=6):
    d = database()
    ids = pool_frame(d)["person_id"].tolist()[:n]
    return d, ev.issue_codes(d, ids)


def button(at, label):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r} in {[b.label for b in at.button]}"
    return found[0]


def tab(at, label):
    """A click on one of the Evaluation page's tabs (only the open tab is drawn)."""
    at.session_state["evaluation_tab"] = label
    at.run()
    return assert_ok(at)


def everything(at) -> str:
    return "\n".join([texts(at), *(str(b.label) for b in at.button), *(str(c.label) for c in at.checkbox),
                      *(str(r.label) for r in at.radio), *(str(df.value) for df in at.dataframe)])


def member_app(code: str):
    """A member signs in on the real sign-in page with their access code."""
    at = goto(open_app(None), "pages/signin.py")
    [box] = [t for t in at.text_input if t.label.startswith("Your access code")]
    box.input(code)
    button(at, "Open my pages").click()
    at.run()
    assert at.session_state["role"] == "member", texts(at)
    return at


def test_organiser_makes_cards_and_a_wrong_code_is_refused(app_env):
    at = goto(open_app("organiser"), ADMIN)
    assert "Access cards" in [t.label for t in at.tabs]
    d = database()
    members = ev.current_members(d)
    if not members:
        pick = at.multiselect(key="cards_for")
        pick.set_value(pick.options[:3]).run()
    n = 3 if not members else len(members)
    button(at, f"Make cards for {n} member{'' if n == 1 else 's'} without one").click()
    at.run()
    assert_ok(at)
    assert "made. Download and print them now" in texts(at)
    assert len(ev.code_holders(d)) == (3 if not members else len(members))
    codes = at.session_state["new_cards"]
    assert ev.member_sign_in(d, next(iter(codes.values()))) is not None
    # a wrong code on the sign-in page: plain message, no role
    si = goto(open_app(None), "pages/signin.py")
    [box] = [t for t in si.text_input if t.label.startswith("Your access code")]
    box.input("WRONG-CODE-00")
    button(si, "Open my pages").click()
    si.run()
    assert "That code was not recognised" in texts(si) and "role" not in si.session_state


def test_organiser_rewords_a_core_item_and_runs_a_round_and_a_survey(app_env):
    at = goto(open_app("organiser"), ADMIN)
    d, codes = with_codes(4)
    session = ev.member_sign_in(d, next(iter(codes.values())))
    ev.propose_question(d, session, "The sessions started on time.", "whether timing matters")
    tab(at, "Members' questions")
    assert "Questions to check" in texts(at) and "The sessions started on time." in texts(at)
    assert button(at, "Open the round").disabled            # nothing accepted yet
    button(at, "Accept").click()
    at.run()
    assert "M1 accepted" in texts(at)
    assert ev.questions_frame(d, "member").iloc[0]["check_state"] == "accepted"
    tab(at, "Core questions")
    at.selectbox(key="core_pick").set_value("E5").run()
    [area] = [a for a in at.text_area if a.label == "New wording"]
    area.input("We had enough time to talk things through.")
    button(at, "Save the new wording").click()
    at.run()
    assert ev.wording_history(d, "E5")["version"].tolist() == [1, 2]
    tab(at, "Members' questions")
    button(at, "Open the round").click()
    at.run()
    assert ev.open_round_now(d) is not None and "Round 1 is open" in texts(at)
    for code in list(codes.values())[:2]:                    # 2 of the 4 card holders: half
        ev.endorse(d, ev.member_sign_in(d, code), 1, ["M1"])
    button(at, "Close the round now and count").click()
    at.run()
    assert ev.adopted_questions(d) == ["M1"]
    assert "Round 1: closed" in "\n".join(e.label for e in at.expander)
    tab(at, "Surveys")
    [kind] = [s for s in at.selectbox if s.label == "Which survey"]
    kind.set_value("pulse")
    button(at, "Open this survey").click()
    at.run()
    [w] = ev.waves(d)
    assert "M1" in ev.wave_questions(d, w.wave_id)["question_id"].tolist()
    button(at, "Close this survey").click()
    at.run()
    assert ev.get_wave(d, w.wave_id).status == "closed"
    assert button(at, "Publish the results").disabled          # members see them first
    assert "Members see the results first" in texts(at)


def test_a_member_proposes_accepts_wording_endorses_and_answers(app_env):
    open_app(None)
    d, codes = with_codes(6)
    code = next(iter(codes.values()))
    at = goto(member_app(code), QUESTIONS)
    assert "No endorsement round is open" in texts(at)
    [q, why] = at.text_area
    q.input("The sessions started on time.")
    why.input("Whether late starts put people off")
    button(at, "Propose this question").click()
    at.run()
    assert "your question is saved" in texts(at)
    assert "Waiting for a check by the organisers" in texts(at)
    ev.check_question(d, "M1", True)
    ev.suggest_wording(d, "M1", "Sessions started and finished on time.", actor="volunteer")
    at.run()
    assert "A volunteer suggests clearer wording" in texts(at)
    button(at, "Use the new wording").click()
    at.run()
    assert ev.questions_frame(d, "member").iloc[0]["wording"] == "Sessions started and finished on time."
    ev.open_round(d, datetime.now(timezone.utc) + timedelta(days=1))
    at.run()
    [box] = at.checkbox
    assert box.label == md("Sessions started and finished on time.")          # shown as plain text
    box.check()
    button(at, "Endorse the ticked questions").click()
    at.run()
    assert "You have endorsed in this round" in texts(at)
    # the survey: answer once
    ev.open_wave(d, "pulse", "After session 1")
    goto(at, SURVEY)
    assert "After session 1" in texts(at)
    at.radio[0].set_value(4)
    at.radio[1].set_value(0)
    button(at, "Send my answers").click()
    at.run()
    assert "You have not answered 3 of 5 questions. Send anyway?" in texts(at)      # asked first
    button(at, "Send anyway").click()
    at.run()
    assert "your answers to “After session 1” are received" in texts(at)
    assert "You have answered this survey" in texts(at)
    # honest about where they are: waiting in memory for a batch, lost if the server stops first
    assert "waiting in the server's memory" in texts(at) and "ask you to answer again" in texts(at)
    assert ev.response_count(d, 1) == 0 and ev.waiting_count(d, 1) == 1
    for c in list(codes.values())[1:5]:
        ev.submit_answers(d, ev.member_sign_in(d, c), 1, {"E1": 2})
    ev.close_wave(d, 1)
    assert ev.response_count(d, 1) == 5


def test_a_volunteer_types_in_a_paper_form_ticks_a_card_and_suggests_wording(app_env):
    at = open_app("volunteer")
    d, codes = with_codes(6)
    goto(at, PAPER)
    assert "No survey is open" in texts(at)
    w = ev.open_wave(d, "pulse")
    at.run()
    assert "No paper cards are recorded as handed out" in texts(at) and not at.radio
    ev.set_paper_cards(d, w.wave_id, 1)
    at.run()
    assert "0 of the 1 paper card handed out" in texts(at)
    at.text_input(key="paper_typist").input("Sam")
    at.radio[0].set_value(5)
    button(at, "Save this paper form").click()
    at.run()
    assert "Paper form saved" in texts(at)
    # the one card is typed in: the page says so in plain words and offers no form
    assert "The paper card handed out for this survey has been typed in already" in texts(at)
    assert not [b for b in at.button if b.label == "Save this paper form"]
    assert ev.paper_status(d, w.wave_id)["by"] == {"volunteer:Sam": 1}
    for c in list(codes.values())[2:6]:
        ev.submit_answers(d, ev.member_sign_in(d, c), w.wave_id, {"E1": 2})
    ev.close_wave(d, w.wave_id)
    assert d.query("SELECT DISTINCT channel, typed_by FROM eval_responses ORDER BY 1") == [
        ("online", None), ("paper", "volunteer:Sam")]
    w = ev.open_wave(d, "pulse")
    at.run()
    [box] = [t for t in at.text_input if t.label.startswith("The access code")]
    box.input(next(iter(codes.values())))
    button(at, "Tick as answered on paper").click()
    at.run()
    assert "Card ticked" in texts(at) and ev.answered_count(d, w.wave_id) == 1
    box = [t for t in at.text_input if t.label.startswith("The access code")][0]
    box.input(next(iter(codes.values())))
    button(at, "Tick as answered on paper").click()
    at.run()
    assert "already been used" in texts(at)
    q = ev.propose_question(d, ev.member_sign_in(d, list(codes.values())[1]), "Food ok?", "catering")
    ev.check_question(d, q, True)
    goto(at, WORDING)
    [area] = at.text_area
    area.input("The food and drink at the sessions were good.")
    button(at, "Suggest this wording").click()
    at.run()
    assert "Suggestion sent" in texts(at)
    assert ev.questions_frame(d, "member").iloc[0]["status"] == "awaiting_proposer"


def test_results_members_first_then_public_with_small_groups_hidden(app_env):
    at = open_app("public")
    d, codes = with_codes(6)
    w = ev.open_wave(d, "pulse")
    for i, code in enumerate(codes.values()):
        ev.submit_answers(d, ev.member_sign_in(d, code), w.wave_id, {"E1": 1 + i % 5, **({"E2": 3} if i < 2 else {})})
    goto(at, RESULTS)
    assert "No results to show yet" in texts(at)
    ev.close_wave(d, w.wave_id, members_first_days=3)
    at.run()
    assert "No results to show yet" in texts(at)            # the public waits for members
    member = goto(member_app(next(iter(codes.values()))), RESULTS)
    assert_ok(member)
    assert "For members only until" in texts(member)
    assert "fewer than 5 real answers" in texts(member) and "questions 2, 3, 4, 5." in texts(member)   # as numbered
    assert len(charts(member)) == 1
    assert "People who answered: 6" in texts(member)
    org = goto(open_app("organiser"), RESULTS)
    assert len(charts(org)) == 1
    ev.publish_wave(d, w.wave_id, now=datetime.now(timezone.utc) + timedelta(days=4))
    ev.add_you_said(d, "Some of you felt rushed.", "Sessions now have a longer break.", wave_id=w.wave_id)
    at.run()
    assert "Published on" in texts(at) and "Sessions now have a longer break." in texts(at)
    assert [b.label for b in at.get("download_button")] == ["Download the results (CSV)",
                                                             "Download a printable report"]


def test_member_pages_ask_for_a_code_when_signed_in_without_one(app_env):
    for page in (QUESTIONS, SURVEY, RESULTS):
        at = goto(open_app("member"), page)
        assert "sign in with the access code" in texts(at).lower(), page


def charts(at):
    return at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")


def test_each_role_reaches_only_its_evaluation_pages(app_env):
    import pytest

    allowed = {"organiser": {ADMIN, PAPER, WORDING, RESULTS},
               "volunteer": {PAPER, WORDING},
               "member": {QUESTIONS, SURVEY, RESULTS},
               "public": {RESULTS}}
    every = {ADMIN, PAPER, WORDING, QUESTIONS, SURVEY, RESULTS}
    for role, pages in allowed.items():
        at = open_app(role)
        for page in sorted(every - pages):
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(page)
        for page in sorted(pages):
            at.switch_page(page)         # registered for this role (no error)


# --- paper cards, the organisers' check, and members' text as plain text ---------------------

def test_an_organiser_records_paper_cards_and_results_count_paper_and_online_apart(app_env):
    at = goto(open_app("organiser"), ADMIN)
    d, codes = with_codes(6)
    w = ev.open_wave(d, "pulse", "After session 1")
    tab(at, "Surveys")
    [n] = [x for x in at.number_input if x.label == "Paper cards handed out for this survey"]
    n.set_value(2)
    button(at, "Save the number of paper cards").click()
    at.run()
    assert "2 paper cards handed out" in texts(at)
    assert ev.paper_status(d, w.wave_id)["cards"] == 2
    log = ev.log_frame(d)
    assert log[log["event"] == "paper_cards"]["actor"].tolist() == ["organiser"]
    for i, code in enumerate(codes.values()):
        ev.submit_answers(d, ev.member_sign_in(d, code), w.wave_id, {"E1": 1 + i % 5})
    ev.submit_paper_answers(d, w.wave_id, {"E1": 2}, actor="volunteer:Sam")
    ev.submit_paper_answers(d, w.wave_id, {"E1": 3}, actor="volunteer:Sam")
    at.run()
    assert "Paper forms typed in: 2 (typed in by volunteer:Sam: 2)" in texts(at)
    ev.close_wave(d, w.wave_id)
    org = goto(open_app("organiser"), RESULTS)
    assert "Answers given online: 6. Paper forms typed in: 2 (of 2 paper cards handed out)." in texts(org)
    member = goto(member_app(next(iter(codes.values()))), RESULTS)
    assert "Answers given online: 6. Paper forms typed in: fewer than 5 (of 2 paper cards handed out)." in \
        texts(member)


def test_a_member_sees_that_their_question_waits_for_a_check_and_why_it_was_not_accepted(app_env):
    open_app(None)
    d, codes = with_codes(3)
    code = next(iter(codes.values()))
    ev.propose_question(d, ev.member_sign_in(d, code), "Which party will you vote for?", "politics")
    member = goto(member_app(code), QUESTIONS)
    assert "Waiting for a check by the organisers" in texts(member)
    org = tab(goto(open_app("organiser"), ADMIN), "Members' questions")
    [area] = [a for a in org.text_area if a.label == "Why not (the member will see this)"]
    area.input("We do not ask how people vote: it is private.")
    button(org, "Do not accept this question").click()
    org.run()
    assert "M1 not accepted" in texts(org)
    member.run()
    assert "Not accepted by the organisers: We do not ask how people vote: it is private." in texts(member)
    assert not [b for b in org.button if b.label == "Accept"]          # nothing left to check
    assert "Open the round" in [b.label for b in org.button] and button(org, "Open the round").disabled


HOSTILE = "Click [here](https://evil.example/login) ![x](https://evil.example/t.png) <b>hi</b>"


def _shown(at) -> list[str]:
    """Every string the page hands to Streamlit's Markdown renderer."""
    out = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning", "error"):
        out.extend(str(e.value) for e in getattr(at, kind))
    out.extend(str(w.label) for w in [*at.checkbox, *at.radio, *at.button, *at.expander, *at.text_area])
    out.extend(str(c.help) for c in at.checkbox if c.help)
    out.extend(f"{m.label} {m.value}" for m in at.metric)
    return out


def assert_inert(at, where: str) -> None:
    hits = [v for v in _shown(at) if "evil" in v]
    assert hits, f"{where}: the member's text should be on the page"
    for v in hits:
        assert "](" not in v and "![" not in v and "<b>" not in v, f"{where}: live markup in {v!r}"
        assert md("https://evil.example/login") in v or md("https://evil.example/t.png") in v, v


def test_members_text_with_a_link_or_an_image_shows_as_plain_text_on_every_evaluation_page(app_env):
    """A member's question, what they want to learn, a volunteer's wording, the survey's name and a
    "you said, we did" entry, each carrying a Markdown link, an image and HTML: every evaluation page
    shows them escaped (the Markdown element's value holds \\[, \\(, \\! …), so nothing loads or links."""
    open_app(None)
    d, codes = with_codes(5)
    code = next(iter(codes.values()))
    q = ev.propose_question(d, ev.member_sign_in(d, code), HOSTILE, "to learn " + HOSTILE)
    assert_inert(tab(goto(open_app("organiser"), ADMIN), "Members' questions"), "Evaluation: questions to check")
    ev.check_question(d, q, True)
    ev.suggest_wording(d, q, "Better: " + HOSTILE, actor="volunteer")
    assert_inert(goto(open_app("volunteer"), WORDING), "Help with wording")
    member = goto(member_app(code), QUESTIONS)
    assert_inert(member, "Our questions: your questions and the suggestion")
    ev.answer_suggestion(d, ev.member_sign_in(d, code), q, False)
    ev.open_round(d, datetime.now(timezone.utc) + timedelta(days=1), lot_seed="seed " + HOSTILE)
    member.run()
    assert_inert(member, "Our questions: endorsing")
    assert md(HOSTILE) in [c.label for c in member.checkbox]
    for c in list(codes.values())[:3]:
        ev.endorse(d, ev.member_sign_in(d, c), 1, [q])
    ev.close_round(d, 1)
    assert ev.adopted_questions(d) == [q]
    member.run()
    assert_inert(member, "Our questions: adopted")
    w = ev.open_wave(d, "pulse", "After " + HOSTILE)
    assert_inert(tab(goto(open_app("organiser"), ADMIN), "Surveys"), "Evaluation: surveys")
    survey = goto(member_app(list(codes.values())[1]), SURVEY)
    assert_inert(survey, "Survey")
    assert any(md(HOSTILE) in r.label for r in survey.radio)
    for i, c in enumerate(codes.values()):
        ev.submit_answers(d, ev.member_sign_in(d, c), w.wave_id, {q: 1 + i % 5, "E1": 2})
    ev.close_wave(d, w.wave_id)
    ev.add_you_said(d, "You said " + HOSTILE, "We did " + HOSTILE, wave_id=w.wave_id)
    assert_inert(goto(member_app(code), RESULTS), "Results")
    paper = goto(open_app("volunteer"), PAPER)
    ev.set_paper_cards(d, ev.open_wave(d, "pulse", "Paper " + HOSTILE).wave_id, 3)
    paper.run()
    assert_inert(paper, "Type in paper answers")


# --- access cards: the real address, and printing a member's card again (issue 15) --------------

ADDRESS = "The app's web address (for the QR code)"


def address_box(at):
    [box] = [t for t in at.text_input if t.label == ADDRESS]
    return box


def test_cards_use_the_configured_address_never_a_made_up_localhost(app_env, monkeypatch):
    at = goto(open_app("organiser"), ADMIN)
    assert "localhost" not in address_box(at).value                  # nothing configured: no made-up address
    assert "Type the web address members will use" in texts(at)
    monkeypatch.setenv("KLEROTERION_PUBLIC_URL", "https://assembly.example.org/")
    at = goto(open_app("organiser"), ADMIN)
    assert address_box(at).value == "https://assembly.example.org"
    assert "Filled in from the address set on the server (KLEROTERION_PUBLIC_URL)" in texts(at)
    assert "only works on the computer" not in texts(at)
    # an address that only the server itself can open is warned about, saved or typed
    address_box(at).input("http://localhost:8501").run()
    assert "http://localhost:8501 only works on the computer that runs Kleroterion" in texts(at)


def test_an_organiser_prints_a_members_card_again_the_old_code_stops_and_one_answer_stays_one(app_env):
    d, codes = with_codes(3)
    pid, old = sorted(codes.items())[0]
    wave = ev.open_wave(d, "baseline", "Baseline survey")
    first = ev.member_sign_in(d, old)
    answers = {q: 1 for q in ev.wave_questions(d, wave.wave_id)["question_id"]}
    ev.submit_answers(d, first, wave.wave_id, answers)
    ev.save_waiting(d)
    at = goto(open_app("organiser"), ADMIN)
    assert "Print a member's card again" in texts(at) or any(
        e.label.startswith("Print a member's card again") for e in at.expander)
    at.selectbox(key="replace_pid").set_value(pid).run()
    button(at, "Make a new card (the old code stops working)").click()
    at.run()
    new = at.session_state["new_cards"]
    assert list(new) == [pid] and new[pid] != old
    assert ev.member_sign_in(d, old) is None                          # the lost card no longer opens anything
    again = ev.member_sign_in(d, new[pid])
    assert again is not None and ev.has_answered(d, again, wave.wave_id)   # still one answer per member
    log = ev.log_frame(d)
    assert f"new access card for {pid}: the old code no longer works" in log["detail"].tolist()
    assert "stays anonymous" in texts(at)


def test_the_evaluation_page_draws_only_its_open_tab(app_env):
    """Opening the page draws the access cards only, not the five other tabs' forms and tables (each was work
    for the server and the browser on every run of the page); a click on a tab draws that one instead."""
    at = goto(open_app("organiser"), ADMIN)
    card = "Each member gets a personal **access code**"
    assert card in texts(at)
    assert not [s for s in at.selectbox if s.label == "Which survey"] and not at.dataframe
    tab(at, "Surveys")
    assert [s for s in at.selectbox if s.label == "Which survey"]
    assert card not in texts(at)


def test_the_log_tab_reads_in_words_not_database_names(app_env):
    """The organisers' Log: headings and events in words (never ``logged_at``, ``question_id`` or an event key
    like ``codes_issued``), and who did it without the record's "role:name" form."""
    d, _ = with_codes(3)
    ev.issue_codes(d, pool_frame(d)["person_id"].tolist()[3:5], actor="organiser:Sam Lee")
    at = tab(goto(open_app("organiser"), ADMIN), "Log")
    [table] = at.dataframe
    frame = table.value
    assert list(frame.columns) == ["When", "By", "What happened", "About", "Details"]
    assert "Access cards made" in frame["What happened"].tolist()
    assert "Sam Lee" in frame["By"].tolist()
    shown = " ".join(frame.astype(str).to_numpy().ravel())
    for raw in ("codes_issued", "organiser:Sam Lee", "logged_at", "question_id", "wave_id", "_"):
        assert raw not in shown + " ".join(frame.columns), raw
