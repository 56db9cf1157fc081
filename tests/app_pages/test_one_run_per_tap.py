"""Issue 15, speed: a tap is answered by the run it starts, with no second run of the page or fragment
(st.rerun) and, at the door, without moving what is already on the phone's screen.

Sending the survey used to take two runs of its fragment (the send, then a rerun for the thank-you),
and asking "Send anyway?" or going back took two as well; bench/server_work_bench.py measures the
processor time and the frames these cost on a real server. Here: the same answers are sent, asked
about and kept as before, in one run."""

from __future__ import annotations

import pytest
import streamlit

from lib import evaluation as ev
from lib.evaluation.answers import _state
from tests.app_pages.helpers import assert_ok, goto, open_app, texts
from tests.app_pages.participation_fixtures import demo_file, enrol_demo_panel, fast_app_env, session_today  # noqa: F401
from tests.app_pages.test_evaluation_pages import button, member_app, with_codes

SURVEY = "pages/member_survey.py"


@pytest.fixture
def reruns(monkeypatch):
    """How many times a page asked Streamlit to run it again (st.rerun) since the last reset."""
    calls: list[str] = []
    real = streamlit.rerun

    def counting(*a, **kw):
        calls.append(str(kw.get("scope", "app")))
        return real(*a, **kw)
    monkeypatch.setattr(streamlit, "rerun", counting)
    return calls


def test_sending_a_full_survey_shows_the_thank_you_from_the_send_itself(app_env, reruns):
    open_app(None)
    d, codes = with_codes(6)
    w = ev.open_wave(d, "pulse", "After session 1")
    at = goto(member_app(next(iter(codes.values()))), SURVEY)
    for r in at.radio:
        r.set_value(3)
    reruns.clear()
    button(at, "Send my answers").click()
    at.run()
    assert_ok(at)
    assert reruns == []                                   # one run: no rerun asked for the thank-you
    assert "are received" in texts(at) and "You have answered this survey" in texts(at)
    assert ev.waiting_count(d, w.wave_id) == 1            # sent once, waiting for its batch (anonymity)
    assert not [b for b in at.button if b.label == "Send my answers"]   # cannot be sent again


def test_asking_send_anyway_and_going_back_take_one_run_each_and_keep_the_answers(app_env, reruns):
    open_app(None)
    d, codes = with_codes(6)
    w = ev.open_wave(d, "pulse", "After session 1")
    n = len(ev.wave_questions(d, w.wave_id))
    at = goto(member_app(next(iter(codes.values()))), SURVEY)
    at.radio[0].set_value(4)
    reruns.clear()
    button(at, "Send my answers").click()
    at.run()
    assert_ok(at)
    assert f"You have not answered {n - 1} of {n} questions. Send anyway?" in texts(at)
    assert reruns == [] and at.radio[0].value == 4
    button(at, "Go back").click()
    at.run()
    assert reruns == [] and "Send anyway?" not in texts(at) and at.radio[0].value == 4
    button(at, "Send my answers").click()
    at.run()
    at.radio[1].set_value(1)                   # chosen while asked: it goes too
    button(at, "Send anyway").click()
    at.run()
    assert_ok(at)
    assert reruns == []
    assert "are received" in texts(at) and "You left" in texts(at)
    [sent] = _state(d).waiting[("wave", w.wave_id)]
    assert len(sent.items) == 2


def test_a_second_send_of_the_same_survey_records_nothing_more(app_env, reruns):
    """A double tap or a replayed send (the button's callback running twice) keeps one response."""
    open_app(None)
    d, codes = with_codes(6)
    w = ev.open_wave(d, "pulse", "After session 1")
    at = goto(member_app(next(iter(codes.values()))), SURVEY)
    for r in at.radio:
        r.set_value(5)
    send = button(at, "Send my answers")
    send.click()
    at.run()
    assert ev.waiting_count(d, w.wave_id) == 1
    send.click()                                      # the same press arriving again
    at.run()
    assert_ok(at)
    assert ev.waiting_count(d, w.wave_id) == 1 and "You have answered this survey" in texts(at)


def test_a_refused_send_says_why_in_plain_words_and_keeps_what_was_chosen(app_env, reruns):
    """Careless or unlucky: nothing chosen at all, then the survey closing while the member answers. Each is
    refused in plain words in the same one run, with nothing stored."""
    open_app(None)
    d, codes = with_codes(6)
    w = ev.open_wave(d, "pulse", "After session 1")
    at = goto(member_app(next(iter(codes.values()))), SURVEY)
    reruns.clear()
    button(at, "Send my answers").click()
    at.run()
    assert_ok(at)
    assert "No question was answered." in texts(at) and reruns == []
    assert [b for b in at.button if b.label == "Send my answers"]       # still there to answer
    for r in at.radio:
        r.set_value(4)
    ev.close_wave(d, w.wave_id)                        # an organiser closes it meanwhile
    button(at, "Send my answers").click()
    at.run()
    assert_ok(at)
    assert "This survey has closed, so answers are no longer taken." in texts(at)
    assert ev.waiting_count(d, w.wave_id) == 0 and ev.response_count(d, w.wave_id) == 0


# --- the door ----------------------------------------------------------------------------------

CHECKIN = "pages/checkin.py"


def _where(at, wanted) -> tuple | None:
    """The position (index path) of the first element for which ``wanted`` holds, in the page's tree."""
    def walk(node, prefix):
        for i, child in sorted(getattr(node, "children", {}).items()):
            if wanted(child):
                return prefix + (i,)
            found = walk(child, prefix + (i,))
            if found:
                return found
        return None
    return walk(at.main, ())


def test_a_tap_at_the_door_leaves_the_search_box_where_it_was(fast_app_env):
    """The confirmation goes in a place kept for it above the list: the search box (and everything under it)
    keeps its position, so the phone updates those elements instead of building them again."""
    from lib import assembly as P

    at = goto(open_app("volunteer"), CHECKIN)
    d, ids = enrol_demo_panel(10)
    sid = session_today(d)
    at.run()
    is_search = lambda e: getattr(e, "key", None) == "checkin_search"   # noqa: E731
    before = _where(at, is_search)
    at.text_input(key="checkin_search").input(ids[3]).run()
    assert _where(at, is_search) == before
    [b for b in at.button if b.label == "Present"][0].click().run()
    assert_ok(at)
    shown = texts(at)
    assert f"({ids[3]}): present." in shown and P.session_marks(d, sid) == {ids[3]: "present"}
    assert _where(at, is_search) == before
    confirmation = _where(at, lambda e: f"({ids[3]}): present." in str(getattr(e, "value", "")))
    assert confirmation is not None and confirmation < before       # above the search box, as before


def test_the_answer_to_a_tap_is_the_doors_first_element_and_a_single_one(fast_app_env):
    """The answer is what the volunteer waits for: the door's run sends it first, as one element beside the search
    box, not inside a box of its own (the box was one more message for the phone to handle before the answer, on
    every tap). Its place is kept when there is no answer, so the search box does not move."""
    at = goto(open_app("volunteer"), CHECKIN)
    d, ids = enrol_demo_panel(10)
    session_today(d)
    at.run()
    is_search = lambda e: getattr(e, "key", None) == "checkin_search"   # noqa: E731
    search = _where(at, is_search)
    at.text_input(key="checkin_search").input(ids[3]).run()
    [b for b in at.button if b.label == "Present"][0].click().run()
    assert_ok(at)
    answer = _where(at, lambda e: f"({ids[3]}): present." in str(getattr(e, "value", "")))
    assert answer is not None and len(answer) == len(search), "the answer sits in a box of its own"
    assert answer[:-1] == search[:-1] and answer[-1] == search[-1] - 2    # the answer, the count, the search box
    assert "Checked in: 1 of 10 · not marked yet: 9" in texts(at)
    assert _where(at, is_search) == search


def _elements(node) -> int:
    """How many elements the page's tree holds (what the phone builds when the door is drawn again)."""
    return sum(1 + _elements(child) for child in getattr(node, "children", {}).values())


def test_after_a_tap_the_phone_redraws_only_the_answer_and_the_empty_search_box(fast_app_env):
    """After a tap the search box is empty again, and the door draws the answer, the count and the box,
    not a list of people nobody asked for: six rows of the people still to come were 42 more elements for
    the phone to build after every tap (the check-in's p95 on screen was over its 500-ms target).
    The short list is there on request, and the request is kept across searches and taps."""
    from lib import assembly as P

    at = goto(open_app("volunteer"), CHECKIN)
    d, ids = enrol_demo_panel(30)
    sid = session_today(d)
    at.run()
    assert not [b for b in at.button if b.label == "Present"]
    assert "Show who is still to come (30)" in [t.label for t in at.toggle]
    at.text_input(key="checkin_search").input(ids[0]).run()
    [b for b in at.button if b.label == "Present"][0].click().run()
    assert_ok(at)
    assert at.text_input(key="checkin_search").value == ""
    assert P.session_marks(d, sid) == {ids[0]: "present"}
    assert f"({ids[0]}): present." in texts(at) and "Checked in: 1 of 30 · not marked yet: 29" in texts(at)
    assert not [b for b in at.button if b.label == "Present"]
    assert _elements(at.main) < 20, "the door after a tap should be a handful of elements, not a list"

    at.toggle(key="checkin_list").set_value(True).run()                 # a small door: the list, on request
    assert len([b for b in at.button if b.label == "Present"]) == 6
    assert "Showing 6 of 30: type a name or number to find someone quickly." in texts(at)
    at.text_input(key="checkin_search").input(ids[29]).run()           # anyone else: found by the search
    assert len([b for b in at.button if b.label == "Present"]) == 1
    [b for b in at.button if b.label == "Present"][0].click().run()
    assert_ok(at)
    assert len([b for b in at.button if b.label == "Present"]) == 6, "the list asked for stays after a search"


def test_the_list_switch_keeps_its_place_greyed_out_while_a_name_is_typed(fast_app_env):
    """The switch "Show who is still to come" stays where it is during a search, greyed out (the search decides who
    is listed), instead of disappearing with the search and coming back after the tap: the phone updates it rather
    than building it again after every search and every tap. What it asks for is kept across the search and tap."""
    from lib import assembly as P

    at = goto(open_app("volunteer"), CHECKIN)
    d, ids = enrol_demo_panel(10)
    sid = session_today(d)
    at.run()
    is_switch = lambda e: getattr(e, "key", None) == "checkin_list"   # noqa: E731
    before = _where(at, is_switch)
    assert before is not None and not at.toggle(key="checkin_list").disabled
    at.text_input(key="checkin_search").input(ids[3]).run()
    assert _where(at, is_switch) == before, "the switch left its place during the search"
    assert at.toggle(key="checkin_list").disabled
    assert len([b for b in at.button if b.label == "Present"]) == 1
    [b for b in at.button if b.label == "Present"][0].click().run()
    assert_ok(at)
    assert P.session_marks(d, sid) == {ids[3]: "present"}
    assert _where(at, is_switch) == before and not at.toggle(key="checkin_list").disabled
    assert at.toggle(key="checkin_list").label == "Show who is still to come (9)"
    assert not at.toggle(key="checkin_list").value and not [b for b in at.button if b.label == "Present"]
