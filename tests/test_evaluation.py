"""The evaluation rules: core questionnaire, co-design (wording, endorsement, threshold, limit,
lot, objection), waves, one answer per member per wave, members-first results."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from lib import evaluation as ev
from lib.assembly.access_cards import cards_html, sign_in_link
from lib.errors import UserError

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)


def members(db, n):
    """Issue codes to n members (pseudonyms as in the store); returns {person_id: session}, codes."""
    ids = [f"P-{i:04d}" for i in range(1, n + 1)]
    codes = ev.issue_codes(db, ids)
    return {pid: ev.member_sign_in(db, code) for pid, code in codes.items()}, codes


@pytest.fixture
def ten(db):
    sessions, codes = members(db, 10)
    return db, list(sessions.values()), codes


# --- core questionnaire ------------------------------------------------------------------

def test_core_covers_the_three_oecd_stages_and_every_wave(db):
    core = ev.questions_frame(db, "core")
    assert set(core["stage"]) == set(ev.STAGES)
    for kind in ev.WAVE_KINDS:
        assert any(kind in list(w) for w in core["waves"]), kind


def test_rewording_a_core_item_keeps_every_version_and_waves_keep_the_wording_they_asked(db):
    w1 = ev.open_wave(db, "end", now=T0)
    old = ev.wave_questions(db, w1.wave_id).set_index("question_id").loc["E1", "wording"]
    assert ev.edit_core_wording(db, "E1", "I could say what I think whenever I wanted to.") == 2
    hist = ev.wording_history(db, "E1")
    assert hist["wording"].tolist() == [old, "I could say what I think whenever I wanted to."]
    assert ev.wave_questions(db, w1.wave_id).set_index("question_id").loc["E1", "wording"] == old
    w2 = ev.open_wave(db, "end", now=T0)
    assert ev.wave_questions(db, w2.wave_id).set_index("question_id").loc["E1", "wording"].startswith("I could")
    with pytest.raises(UserError, match="already has"):
        ev.edit_core_wording(db, "E1", "I could say what I think whenever I wanted to.")
    with pytest.raises(UserError, match="not one of the core"):
        ev.edit_core_wording(db, "M1", "x")


# --- access codes -------------------------------------------------------------------------

def test_access_codes_sign_in_and_are_stored_only_as_hashes(ten):
    db, sessions, codes = ten
    code = next(iter(codes.values()))
    assert ev.member_sign_in(db, code.lower().replace("-", " ")) == ev.member_sign_in(db, code)
    assert ev.member_sign_in(db, "AAAA-BBBB-CC") is None and ev.member_sign_in(db, "") is None
    stored = db.query("SELECT * FROM eval_access_codes")
    assert not any(ev.normalise_code(code) in str(row) for row in stored)
    assert "token" not in repr(sessions[0]) and sessions[0].token not in repr(sessions[0])


def test_a_replaced_card_stops_the_old_code_but_keeps_one_answer_per_wave(ten):
    db, sessions, codes = ten
    pid, old = next(iter(codes.items()))
    wave = ev.open_wave(db, "pulse", now=T0)
    ev.submit_answers(db, ev.member_sign_in(db, old), wave.wave_id, {"E1": 4})
    new = ev.issue_codes(db, [pid], replace=True)[pid]
    assert ev.member_sign_in(db, old) is None
    again = ev.member_sign_in(db, new)
    with pytest.raises(UserError, match="already answered"):
        ev.submit_answers(db, again, wave.wave_id, {"E1": 2})


def test_cards_hold_the_code_and_a_qr_link_to_the_sign_in_page(ten):
    _db, _s, codes = ten
    page = cards_html(dict(list(codes.items())[:2]), "https://assembly.example.org", "Riverside")
    first = next(iter(codes.values()))
    assert first in page and page.count("<svg") == 2
    assert sign_in_link("https://assembly.example.org/", first) == f"https://assembly.example.org/sign-in?code={first}"


# --- co-design ----------------------------------------------------------------------------

def test_wording_suggestion_waits_for_the_proposer_and_both_versions_are_kept(ten):
    db, s, _ = ten
    q = ev.propose_question(db, s[0], "Was the food ok?", "Whether catering helps people stay")
    ev.suggest_wording(db, q, "The food and drink at the sessions were good.", actor="volunteer")
    with pytest.raises(UserError, match="No members' question is ready"):
        ev.open_round(db, T0 + timedelta(days=2), now=T0)        # waits for the proposer
    with pytest.raises(UserError, match="Only the member who proposed"):
        ev.answer_suggestion(db, s[1], q, accept=True)
    ev.answer_suggestion(db, s[0], q, accept=True)
    hist = ev.wording_history(db, q)
    assert hist["wording"].tolist() == ["Was the food ok?", "The food and drink at the sessions were good."]
    assert hist["state"].tolist() == ["accepted", "accepted"]
    assert ev.questions_frame(db, "member").iloc[0]["wording"] == "The food and drink at the sessions were good."
    ev.suggest_wording(db, q, "Catering was fine.", actor="volunteer")
    ev.answer_suggestion(db, s[0], q, accept=False)
    assert ev.wording_history(db, q)["state"].tolist()[-1] == "declined"
    assert ev.questions_frame(db, "member").iloc[0]["wording"] == "The food and drink at the sessions were good."


def _round_with(db, sessions, n_questions):
    qs = [ev.propose_question(db, sessions[0], f"Question number {i}?", "to learn") for i in range(n_questions)]
    for q in qs:
        ev.check_question(db, q, True, actor="organiser Ana")
    rnd = ev.open_round(db, T0 + timedelta(days=3), lot_seed="public seed 2026-03-01", now=T0)
    return qs, rnd


def test_threshold_is_the_agreed_share_of_the_base(ten):
    db, s, _ = ten                      # 10 code holders, no attendance recorded: base 10, half = 5
    base = ev.adoption_base(db)
    assert base.count == 10 and "access code" in base.source or "current members" in base.source
    (q1, q2), rnd = _round_with(db, s, 2)
    for m in s[:5]:
        ev.endorse(db, m, rnd.round_id, [q1], now=T0)
    for m in s[5:9]:
        ev.endorse(db, m, rnd.round_id, [q2], now=T0)
    res = ev.close_round(db, rnd.round_id, now=T0 + timedelta(days=1)).set_index("question_id")
    assert res.loc[q1, "outcome"] == "adopted" and res.loc[q1, "endorsements"] == 5
    assert res.loc[q2, "outcome"] == "not_enough" and res.loc[q2, "endorsements"] == 4
    assert ev.needed_endorsements(0.5, 9) == 5 and ev.needed_endorsements(0.5, 10) == 5
    assert ev.needed_endorsements(0.5, 0) == 2          # never fewer than 2: nobody adopts a question alone


def test_tallies_stay_hidden_until_the_round_closes_and_each_member_endorses_once(ten):
    db, s, _ = ten
    (q1,), rnd = _round_with(db, s, 1)
    ev.endorse(db, s[0], rnd.round_id, [q1], now=T0)
    assert ev.round_result(db, rnd.round_id).empty
    assert ev.has_endorsed(db, s[0], rnd.round_id) and not ev.has_endorsed(db, s[1], rnd.round_id)
    with pytest.raises(UserError, match="already endorsed"):
        ev.endorse(db, s[0], rnd.round_id, [q1], now=T0)
    with pytest.raises(UserError, match="closed"):
        ev.endorse(db, s[1], rnd.round_id, [q1], now=T0 + timedelta(days=4))
    assert ev.close_due_rounds(db, now=T0 + timedelta(days=4)) == [rnd.round_id]
    assert ev.round_result(db, rnd.round_id).iloc[0]["endorsements"] == 1


def test_limit_and_ties_at_the_limit_are_decided_by_the_public_lot():
    tallies = {"M1": 9, "M2": 7, "M3": 7, "M4": 7, "M5": 2}
    d = ev.decide(tallies, needed=5, room=2, lot_seed="seed")
    adopted = sorted(q for q, x in d.items() if x["outcome"] == "adopted")
    # M1 first; one place left among the three on 7: the smallest SHA-256 key wins.
    winner = min(["M2", "M3", "M4"], key=lambda q: ev.lot_key("seed", q))
    assert adopted == sorted(["M1", winner])
    assert {q for q, x in d.items() if x["by_lot"]} == {"M2", "M3", "M4"}
    assert d["M5"]["outcome"] == "not_enough" and not d["M1"]["by_lot"]
    assert ev.decide(tallies, needed=5, room=2, lot_seed="seed") == d            # reproducible
    import hashlib
    assert ev.lot_key("seed", "M2") == hashlib.sha256(b"seed|M2").hexdigest()   # documented formula
    others = {ev.decide(tallies, needed=5, room=2, lot_seed=f"seed {i}")["M2"]["outcome"] for i in range(20)}
    assert others == {"adopted", "no_room"}                                      # the seed matters
    assert all(x["outcome"] != "adopted" for x in ev.decide(tallies, needed=5, room=0, lot_seed="s").values())


def test_the_limit_counts_questions_adopted_in_earlier_rounds(ten):
    db, s, _ = ten
    ev.save_eval_settings(db, share=0.1, limit=2)
    qs, rnd = _round_with(db, s, 3)
    for m in s[:3]:
        ev.endorse(db, m, rnd.round_id, qs, now=T0)
    res = ev.close_round(db, rnd.round_id, now=T0 + timedelta(hours=1)).set_index("question_id")
    assert sorted(res["outcome"]) == ["adopted", "adopted", "no_room"]
    assert res["by_lot"].all()          # three tied on 3 for two places
    q4 = ev.propose_question(db, s[1], "Another one?", "x")
    ev.check_question(db, q4, True)
    rnd2 = ev.open_round(db, T0 + timedelta(days=5), now=T0 + timedelta(hours=2))
    for m in s[1:3]:                    # two members: enough (the proposer alone never is)
        ev.endorse(db, m, rnd2.round_id, [q4], now=T0 + timedelta(hours=2))
    res2 = ev.close_round(db, rnd2.round_id, now=T0 + timedelta(hours=3)).set_index("question_id")
    assert res2.loc[q4, "outcome"] == "no_room"
    assert len(ev.adopted_questions(db)) == 2


def test_options_appear_in_a_per_member_order_from_sha256(ten):
    db, s, _ = ten
    qs, rnd = _round_with(db, s, 6)
    orders = {tuple(ev.round_options(db, m, rnd.round_id)["question_id"]) for m in s}
    assert len(orders) > 1                                   # members see different orders
    assert all(sorted(o) == sorted(qs) for o in orders)
    again = tuple(ev.round_options(db, s[0], rnd.round_id)["question_id"])
    assert again == tuple(ev.option_order(rnd.order_salt, s[0].token, qs))   # reproducible


def test_an_objection_reopens_the_question_for_a_new_round_and_is_logged(ten):
    db, s, _ = ten
    (q1,), rnd = _round_with(db, s, 1)
    for m in s[:5]:
        ev.endorse(db, m, rnd.round_id, [q1], now=T0)
    ev.close_round(db, rnd.round_id, now=T0 + timedelta(hours=1))
    assert ev.adopted_questions(db) == [q1]
    with pytest.raises(UserError, match="write your reason"):
        ev.object_to(db, s[7], q1, "   ")
    ev.object_to(db, s[7], q1, "It was decided while half of us were away.")
    assert ev.adopted_questions(db) == []
    rnd2 = ev.open_round(db, T0 + timedelta(days=9), now=T0 + timedelta(days=1))
    assert ev.round_options(db, s[0], rnd2.round_id)["question_id"].tolist() == [q1]
    log = ev.log_frame(db)
    assert {"proposed", "round_opened", "round_closed", "objection"} <= set(log["event"])
    assert "half of us were away" in " ".join(log["detail"].dropna())
    with pytest.raises(UserError, match="not been decided"):
        ev.object_to(db, s[7], q1, "again")


def test_attendance_at_the_last_session_is_the_base_when_known(demo_db):
    """Through the real lib.assembly (no stand-in: a broken assembly module must fail here,
    not quietly change the threshold)."""
    from lib import assembly as P
    from lib.recruitment.signups.store import pool_frame

    panel = pool_frame(demo_db)["person_id"].tolist()[:6]
    P.enrol_panel(demo_db, panel, None, "organiser", now=T0)
    assert ev.adoption_base(demo_db) == ev.Base(6, "current members (no session attendance is recorded yet)")
    sid = P.schedule_session(demo_db, "Session 1", T0 - timedelta(days=1), None, "organiser", now=T0)
    for pid in panel[:4]:
        P.mark_attendance(demo_db, sid, pid, "present", "volunteer")
    base = ev.adoption_base(demo_db)
    assert (base.count, base.source) == (4, "members who attended the last session")


# --- waves and answers ----------------------------------------------------------------------

def test_each_wave_has_its_core_items_plus_adopted_members_questions(ten):
    db, s, _ = ten
    (q1,), rnd = _round_with(db, s, 1)
    for m in s[:5]:
        ev.endorse(db, m, rnd.round_id, [q1], now=T0)
    ev.close_round(db, rnd.round_id, now=T0)
    pulse = ev.wave_questions(db, ev.open_wave(db, "pulse", now=T0).wave_id)
    end = ev.wave_questions(db, ev.open_wave(db, "end", now=T0).wave_id)
    fu = ev.wave_questions(db, ev.open_wave(db, "followup12", now=T0).wave_id)
    assert q1 in set(pulse["question_id"]) and q1 in set(end["question_id"]) and q1 in set(fu["question_id"])
    assert len(pulse) < len(end)
    assert set(fu[fu["kind"] == "core"]["stage"]) == {"impact"}
    with pytest.raises(UserError, match="Unknown kind"):
        ev.open_wave(db, "weekly")


def test_one_answer_per_member_per_wave_and_answers_are_checked(ten):
    db, s, codes = ten
    w = ev.open_wave(db, "pulse", now=T0).wave_id
    ev.submit_answers(db, s[0], w, {"E1": 5, "E2": 0})
    with pytest.raises(UserError, match="already answered"):
        ev.submit_answers(db, s[0], w, {"E1": 1})
    with pytest.raises(UserError, match="not part of this survey"):
        ev.submit_answers(db, s[1], w, {"I5": 3})
    with pytest.raises(UserError, match="one of the choices"):
        ev.submit_answers(db, s[1], w, {"E1": 7})
    with pytest.raises(UserError, match="No question was answered"):
        ev.submit_answers(db, s[1], w, {"E1": None})
    with pytest.raises(UserError, match="sign in"):
        ev.submit_answers(db, None, w, {"E1": 3})
    assert ev.answered_count(db, w) == 1 and ev.waiting_count(db, w) == 1
    # paper: the form is typed in, the card is ticked separately; then online is refused
    ev.set_paper_cards(db, w, 1, actor="organiser")
    ev.submit_paper_answers(db, w, {"E1": 2}, actor="volunteer Sam")
    code = list(codes.values())[1]
    ev.mark_answered_on_paper(db, w, code)
    with pytest.raises(UserError, match="already been used"):
        ev.mark_answered_on_paper(db, w, code)
    with pytest.raises(UserError, match="already answered"):
        ev.submit_answers(db, s[1], w, {"E1": 3})
    for m in s[3:6]:
        ev.submit_answers(db, m, w, {"E1": 1})
    ev.close_wave(db, w, now=T0)
    assert db.query("SELECT channel, count(DISTINCT response_id) FROM eval_responses GROUP BY 1 ORDER BY 1") == \
        [("online", 4), ("paper", 1)]
    with pytest.raises(UserError, match="closed"):
        ev.submit_answers(db, s[2], w, {"E1": 3})


def test_results_are_suppressed_under_five_and_members_see_them_before_the_public(ten):
    db, s, _ = ten
    w = ev.open_wave(db, "pulse", now=T0).wave_id
    for i, m in enumerate(s[:5]):
        ev.submit_answers(db, m, w, {"E1": [1, 2, 4, 5, 5][i], **({"E2": 4} if i < 4 else {})})
    assert ev.visible_waves(db, "member") == []                 # nothing while it is open
    ev.close_wave(db, w, members_first_days=7, now=T0)
    r = ev.results_frame(db, w).set_index("question_id")
    assert r.loc["E1", "answers"] == 5 and not r.loc["E1", "suppressed"]
    assert r.loc["E1", "Strongly agree"] == 2 and r.loc["E1", "Agree"] == 1
    assert r.loc["E2", "suppressed"] and pd.isna(r.loc["E2", "Agree"])
    d = ev.diverging_frame(ev.results_frame(db, w))
    assert set(d["question_id"]) == {"E1"}
    e1 = d[d["question_id"] == "E1"].sort_values("order")
    assert e1["start"].iloc[0] == pytest.approx(-40.0) and e1["end"].iloc[-1] == pytest.approx(60.0)
    assert [x.wave_id for x in ev.visible_waves(db, "member")] == [w]
    assert ev.visible_waves(db, "public") == []
    with pytest.raises(UserError, match="Members see these results first"):
        ev.publish_wave(db, w, now=T0 + timedelta(days=2))
    ev.publish_wave(db, w, now=T0 + timedelta(days=8))
    assert [x.wave_id for x in ev.visible_waves(db, "public")] == [w]
    exp = ev.export_frame(db, [w]).set_index("question_id")
    assert exp.loc["E2", "answers"] == "fewer than 5"
    ev.add_you_said(db, "Half of you did not feel heard.", "We now use small groups first.", wave_id=w,
                    question_id="E1")
    assert ev.you_said_frame(db, [w])["we_did"].tolist() == ["We now use small groups first."]


def test_saving_at_the_same_moment_loses_nothing_and_counts_nobody_twice(ten):
    """Eight threads: the same member pressing 'send' four times at once, plus six other members."""
    from concurrent.futures import ThreadPoolExecutor

    db, s, _ = ten
    w = ev.open_wave(db, "pulse", now=T0).wave_id
    jobs = [s[0]] * 4 + s[1:7]

    def send(session):
        try:
            ev.submit_answers(db, session, w, {"E1": 4, "E2": 2})
            return "saved"
        except UserError as e:
            return "refused" if "already answered" in str(e) else str(e)

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(send, jobs))
    assert outcomes.count("saved") == 7 and outcomes.count("refused") == 3, outcomes
    assert ev.answered_count(db, w) == 7 and ev.waiting_count(db, w) == 7
    ev.close_wave(db, w, now=T0)
    assert ev.answered_count(db, w) == 7 and ev.response_count(db, w) == 7
    assert db.scalar("SELECT count(*) FROM eval_responses WHERE wave_id = ?", [w]) == 14


# --- the organisers' check of members' questions ---------------------------------------------

def test_a_members_question_waits_for_the_organisers_check_before_any_round(ten):
    db, s, _ = ten
    q = ev.propose_question(db, s[0], "The sessions started on time.", "whether timing matters")
    mine = ev.my_questions(db, s[0]).iloc[0]
    assert (mine["status"], mine["check_state"]) == ("ready", "waiting")
    assert ev.questions_to_check(db)["question_id"].tolist() == [q]
    with pytest.raises(UserError, match="No members' question is ready"):
        ev.open_round(db, T0 + timedelta(days=2), now=T0)          # not checked yet: no round
    ev.check_question(db, q, True, actor="organiser Ana")
    assert ev.my_questions(db, s[0]).iloc[0]["check_state"] == "accepted"
    assert ev.questions_to_check(db).empty
    rnd = ev.open_round(db, T0 + timedelta(days=2), now=T0)
    assert ev.round_options(db, s[1], rnd.round_id)["question_id"].tolist() == [q]
    with pytest.raises(UserError, match="already been accepted"):
        ev.check_question(db, q, False, "too late")
    log = ev.log_frame(db)
    assert log[log["event"] == "question_accepted"]["actor"].tolist() == ["organiser Ana"]


def test_a_question_not_accepted_keeps_its_reason_for_the_member_and_never_goes_into_a_round(ten):
    db, s, _ = ten
    bad = ev.propose_question(db, s[0], "Vote for [my party](https://evil.example)", "to win")
    good = ev.propose_question(db, s[1], "I felt welcome.", "whether people feel welcome")
    with pytest.raises(UserError, match="write why"):
        ev.check_question(db, bad, False, "   ")                   # a reason is needed
    assert ev.my_questions(db, s[0]).iloc[0]["check_state"] == "waiting"
    ev.check_question(db, bad, False, "It asks people to vote for a party.", actor="organiser Ana")
    ev.check_question(db, good, True)
    mine = ev.my_questions(db, s[0]).iloc[0]
    assert (mine["check_state"], mine["check_reason"]) == ("declined", "It asks people to vote for a party.")
    rnd = ev.open_round(db, T0 + timedelta(days=2), now=T0)
    assert ev.round_options(db, s[2], rnd.round_id)["question_id"].tolist() == [good]
    with pytest.raises(UserError, match="not accepted"):
        ev.suggest_wording(db, bad, "A better wording", actor="volunteer")
    with pytest.raises(UserError, match="not a members' question"):
        ev.check_question(db, "E1", True)


# --- paper answers: capped, with who typed them in, counted apart ------------------------------

def test_paper_forms_beyond_the_cards_handed_out_are_refused_and_nothing_is_stored(ten):
    """The attack: 20 members answer online; a volunteer types in 50 invented 'paper forms' that all
    disagree, flipping the result. Now typed-in forms stop at the number of cards handed out."""
    db, s, _ = ten
    more = {pid: ev.member_sign_in(db, c) for pid, c in ev.issue_codes(db, [f"X-{i}" for i in range(10)]).items()}
    members = s + list(more.values())
    w = ev.open_wave(db, "pulse", now=T0).wave_id
    for m in members:
        ev.submit_answers(db, m, w, {"E1": 5})
    with pytest.raises(UserError, match="No paper cards are recorded"):
        ev.submit_paper_answers(db, w, {"E1": 1}, actor="volunteer Sam")
    ev.set_paper_cards(db, w, 3, actor="organiser Ana")
    refused = 0
    for _ in range(50):
        try:
            ev.submit_paper_answers(db, w, {"E1": 1}, actor="volunteer Sam")
        except UserError as e:
            assert "All 3 paper cards handed out for this survey have been typed in already" in str(e)
            assert "not saved" in str(e)
            refused += 1
    assert refused == 47
    assert ev.paper_status(db, w) == {"cards": 3, "typed": 3, "left": 0, "by": {"volunteer Sam": 3}}
    ev.close_wave(db, w, now=T0)
    assert ev.answer_counts(db, w) == {"online": 20, "paper": 3}
    r = ev.results_frame(db, w).set_index("question_id").loc["E1"]
    assert (r["Strongly agree"], r["Strongly disagree"]) == (20, 3)
    assert db.query("SELECT DISTINCT typed_by FROM eval_responses WHERE channel = 'paper'") == [("volunteer Sam",)]
    assert db.query("SELECT DISTINCT typed_by FROM eval_responses WHERE channel = 'online'") == [(None,)]
    log = ev.log_frame(db)
    assert log[log["event"] == "paper_cards"][["actor", "detail"]].values.tolist() == [
        ["organiser Ana", "3 paper cards handed out (was 0)"]]


def test_the_number_of_cards_cannot_drop_below_the_forms_typed_in_and_a_typist_is_needed(ten):
    db, _s, _ = ten
    w = ev.open_wave(db, "pulse", now=T0).wave_id
    ev.set_paper_cards(db, w, 2)
    with pytest.raises(UserError, match="who typed it in"):
        ev.submit_paper_answers(db, w, {"E1": 2}, actor="  ")
    ev.submit_paper_answers(db, w, {"E1": 2}, actor="volunteer Sam")
    ev.submit_paper_answers(db, w, {"E1": 3}, actor="volunteer Kim")
    with pytest.raises(UserError, match="cannot be less than 2"):
        ev.set_paper_cards(db, w, 1)
    for bad in ("many", -1, 10**6):
        with pytest.raises(UserError, match="paper cards"):
            ev.set_paper_cards(db, w, bad)
    assert ev.paper_status(db, w)["cards"] == 2
    ev.set_paper_cards(db, w, 4)
    assert ev.paper_status(db, w) == {"cards": 4, "typed": 2, "left": 2, "by": {"volunteer Kim": 1, "volunteer Sam": 1}}
    ev.close_wave(db, w, now=T0)
    with pytest.raises(UserError, match="closed"):
        ev.set_paper_cards(db, w, 10)


def test_volunteers_typing_at_the_same_moment_cannot_pass_the_cap_together(ten):
    from concurrent.futures import ThreadPoolExecutor

    db, _s, _ = ten
    w = ev.open_wave(db, "pulse", now=T0).wave_id
    ev.set_paper_cards(db, w, 5)

    def type_in(i):
        try:
            ev.submit_paper_answers(db, w, {"E1": 1 + i % 5}, actor=f"volunteer {i}")
            return "saved"
        except UserError as e:
            return "refused" if "typed in already" in str(e) else str(e)

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(type_in, range(12)))
    assert outcomes.count("saved") == 5 and outcomes.count("refused") == 7, outcomes
    ev.close_wave(db, w, now=T0)
    assert ev.answer_counts(db, w) == {"online": 0, "paper": 5}


def test_the_same_question_proposed_twice_is_kept_once_so_no_survey_asks_it_twice(ten):
    """A double tap on "Propose", a second tab, or two members with the same idea: the organisers used to get
    the question twice, accept both, and the survey then asked it twice (found driving the real app)."""
    db, s, _ = ten
    q = ev.propose_question(db, s[0], "I felt heard.", "whether people could speak")
    with pytest.raises(UserError, match=f"already been proposed \\({q}\\)"):
        ev.propose_question(db, s[0], "I felt heard.", "whether people could speak")
    with pytest.raises(UserError, match="already been proposed"):
        ev.propose_question(db, s[1], "  i felt   HEARD ", "something else")
    assert ev.questions_to_check(db)["question_id"].tolist() == [q]
    ev.check_question(db, q, True, actor="organiser")
    ev.propose_question(db, s[2], "I felt heard by the experts.", "another question")  # a different one is welcome
    assert len(ev.questions_frame(db, "member")) == 2


def test_a_question_the_organisers_did_not_accept_may_be_proposed_again(ten):
    db, s, _ = ten
    q = ev.propose_question(db, s[0], "I felt heard.", "whether people could speak")
    ev.check_question(db, q, False, "please say which session", actor="organiser")
    again = ev.propose_question(db, s[0], "I felt heard.", "whether people could speak")
    assert again != q


def test_the_refusal_of_a_question_proposed_twice_reads_in_spanish(ten):
    from lib import i18n

    db, s, _ = ten
    q = ev.propose_question(db, s[0], "Me sentí escuchado.", "si la gente pudo hablar")
    with pytest.raises(UserError) as refused:
        ev.propose_question(db, s[1], "Me sentí escuchado", "otra cosa")
    assert i18n.said("es", str(refused.value)).startswith(f"La misma pregunta ya se ha propuesto ({q})")
