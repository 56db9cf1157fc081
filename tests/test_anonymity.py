"""Proof that survey answers (and endorsements) cannot be joined back to members, with the database
file in hand.

The adversary holds the database file, its write-ahead log (``.wal``) and its free blocks (old
versions of rows that DuckDB leaves behind), every member's access code (they printed the cards),
every token and person id in ``eval_access_codes``, and knows the order in which members answered
(they watched people at the laptop). Another transaction (even a read) may be open while members
answer, so DuckDB cannot checkpoint and the write-ahead log keeps everything that was written.

What they must not find: any member identifier written while people answer, any stored order
that follows the order people answered, any mark they can recompute, or any write finer than a
batch of ``ev.BATCH`` members' answers.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timedelta, timezone

import pytest

from lib import evaluation as ev
from lib.recruitment.signups.store import pool_frame

# Eight members with answers different enough to be recognised if rows could be linked.
PATTERNS = [{"E1": 1, "E2": 1}, {"E1": 2, "E2": 5}, {"E1": 3, "E2": 0}, {"E1": 4, "E2": 2},
            {"E1": 5, "E2": 3}, {"E1": 1, "E2": 4}, {"E1": 2, "E2": 2}, {"E1": 5, "E2": 5}]


def _all_values(db, *, exclude: set[str] = frozenset()) -> dict[tuple[str, str], set[str]]:
    """Every value of every column of every table (as text), except the tables in ``exclude``."""
    out = {}
    cols = db.query("SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position")
    for table, col in cols:
        if table in exclude:
            continue
        vals = db.query(f'SELECT DISTINCT CAST("{col}" AS VARCHAR) FROM "{table}" WHERE "{col}" IS NOT NULL')
        out[(table, col)] = {v[0] for v in vals}
    return out


def _timestamps(db) -> list[tuple[str, str, datetime]]:
    cols = db.query("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main' "
                    "AND (data_type LIKE 'TIMESTAMP%' OR data_type = 'DATE')")
    out = []
    for table, col in cols:
        for (v,) in db.query(f'SELECT "{col}" FROM "{table}" WHERE "{col}" IS NOT NULL'):
            out.append((table, col, v))
    return out


def _recomputable(token: str, wave: int, rnd: int | None = None) -> set[str]:
    """Every mark someone could compute from what the database holds (a token), without the key."""
    out = {hashlib.sha256(f"answered|{wave}|{token}".encode()).hexdigest(),
           hashlib.sha256(f"proposer|{token}".encode()).hexdigest(), token}
    if rnd is not None:
        out.add(hashlib.sha256(f"endorsed|{rnd}|{token}".encode()).hexdigest())
    return out


@pytest.fixture(scope="module")
def answered(tmp_path_factory):
    """Eight members (pseudonyms from the pool) answer a wave one after another, in a known order.
    (One database for the module: the checks below only read it.)"""
    from lib.store.db import open_database
    from lib.demo.load import load_demo

    db = open_database(tmp_path_factory.mktemp("anon") / "anon.duckdb")
    load_demo(db)
    ids = pool_frame(db)["person_id"].tolist()[:8]
    codes = ev.issue_codes(db, ids)
    sessions = {pid: ev.member_sign_in(db, codes[pid]) for pid in ids}
    wave = ev.open_wave(db, "pulse").wave_id
    q = ev.propose_question(db, sessions[ids[0]], "Was the venue easy to reach?", "access")
    ev.check_question(db, q, True)
    rnd = ev.open_round(db, datetime.now(timezone.utc) + timedelta(days=1))
    before_seq = db.query("SELECT sequence_name, last_value FROM duckdb_sequences() ORDER BY 1")
    before_log = db.scalar("SELECT count(*) FROM eval_log")
    t_start = datetime.now(timezone.utc)
    for pid, pattern in zip(ids, PATTERNS):          # the known order
        ev.submit_answers(db, sessions[pid], wave, pattern)
        ev.endorse(db, sessions[pid], rnd.round_id, [q])
    t_end = datetime.now(timezone.utc)
    after_seq = db.query("SELECT sequence_name, last_value FROM duckdb_sequences() ORDER BY 1")
    after_log = db.scalar("SELECT count(*) FROM eval_log")
    ev.close_wave(db, wave, now=t_start - timedelta(days=1))
    ev.close_round(db, rnd.round_id, now=t_start - timedelta(days=1))
    yield {"db": db, "ids": ids, "codes": codes, "sessions": sessions, "wave": wave, "t": (t_start, t_end),
           "before_seq": before_seq, "before_log": before_log, "after_seq": after_seq, "after_log": after_log,
           "round": rnd.round_id}
    db.close()


def test_answer_rows_hold_nothing_but_a_random_id_the_wave_the_channel_the_answer_and_the_typist(answered):
    db = answered["db"]
    cols = db.query("SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = 'eval_responses' ORDER BY ordinal_position")
    assert [c for c, _t in cols] == ["response_id", "wave_id", "channel", "question_id", "answer", "typed_by"]
    assert not [t for _c, t in cols if "TIME" in t or t == "DATE"]
    assert db.query("SELECT DISTINCT typed_by FROM eval_responses WHERE channel = 'online'") == [(None,)]
    assert [c for c, _t in db.query("SELECT column_name, data_type FROM information_schema.columns "
                                    "WHERE table_name = 'eval_endorsements'")] == ["round_id", "question_id"]


def test_no_column_anywhere_shares_a_value_with_the_answers_except_wave_and_question(answered):
    db = answered["db"]
    resp = _all_values(db)
    response_ids = resp[("eval_responses", "response_id")]
    assert len(response_ids) == 8
    member_side = set()
    for (table, _col), vals in resp.items():
        if table in ("eval_responses", "eval_endorsements"):
            continue
        assert not (vals & response_ids), f"{table} holds a response id"
        if table in ("eval_access_codes", "eval_answered", "eval_round_voters", "eval_questions", "people",
                     "contacts", "person_values"):
            member_side |= vals
    # tokens, code hashes, marks and person ids never appear in an answer row
    tokens = {s.token for s in answered["sessions"].values()}
    for (table, col), vals in resp.items():
        if table == "eval_responses":
            assert not (vals & tokens) and not (vals & set(answered["ids"])), col
            if col not in ("wave_id", "question_id", "answer", "channel"):
                assert not (vals & member_side), f"eval_responses.{col} shares values with member data"
    # the who-has-answered list holds marks that are neither tokens nor response ids
    (marks,) = db.query("SELECT hashes FROM eval_answered WHERE wave_id = ?", [answered["wave"]])[0]
    assert len(marks) == 8 and not (set(marks) & (tokens | response_ids))


def test_answering_writes_no_timestamp_sequence_number_or_log_line_anywhere(answered):
    db = answered["db"]
    t_start, t_end = answered["t"]
    # everything else was set up before t_start (closing is dated the day before): any time stamp
    # from t_start on was written while answering
    during = [(t, c, v) for t, c, v in _timestamps(db)
              if isinstance(v, datetime) and t_start <= v.astimezone(timezone.utc) <= t_end]
    assert during == [], during
    assert answered["after_seq"] == answered["before_seq"]
    assert answered["after_log"] == answered["before_log"]


def test_stored_order_does_not_follow_the_order_people_answered(answered):
    """Known order: member 1 answered first, member 8 last, each with a distinct pattern. The rows as
    stored (DuckDB's rowid) are in the order of their random response ids, and the who-has-answered
    list is sorted: neither follows the answering order, so the order cannot link them."""
    db = answered["db"]
    rows = db.query("SELECT rowid, response_id, question_id, answer FROM eval_responses WHERE wave_id = ? "
                    "ORDER BY rowid", [answered["wave"]])
    stored_ids = [r[1] for r in rows]
    assert stored_ids == sorted(stored_ids)               # one batch (at closing): random id order
    first_seen = list(dict.fromkeys(stored_ids))
    by_response = {}
    for _rowid, rid, qid, ans in rows:
        by_response.setdefault(rid, {})[qid] = ans
    stored_patterns = [by_response[rid] for rid in first_seen]
    assert sorted(map(str, stored_patterns)) == sorted(map(str, PATTERNS))   # nothing lost
    assert stored_patterns != PATTERNS                    # (1 chance in 40,320 of matching by luck)
    (marks,) = db.query("SELECT hashes FROM eval_answered WHERE wave_id = ?", [answered["wave"]])[0]
    assert list(marks) == sorted(marks)
    endorsements = db.query("SELECT question_id FROM eval_endorsements ORDER BY rowid")
    assert [e[0] for e in endorsements] == sorted(e[0] for e in endorsements)


def test_the_write_ahead_log_is_empty_once_nothing_else_is_open(answered):
    wal = answered["db"].path + ".wal"
    assert not os.path.exists(wal) or os.path.getsize(wal) == 0


def test_even_with_every_access_code_and_token_nobody_can_recompute_the_marks(answered):
    """The tokens sit beside person ids in eval_access_codes, and the organisers printed the codes.
    Before, SHA-256("answered|wave|token") was the mark, so anyone with the file could tell who had
    answered. Now every mark needs the survey key, which is not in the database."""
    db = answered["db"]
    stored_tokens = {t for (t,) in db.query("SELECT token FROM eval_access_codes")}
    assert stored_tokens == {s.token for s in answered["sessions"].values()}
    (marks,) = db.query("SELECT hashes FROM eval_answered WHERE wave_id = ?", [answered["wave"]])[0]
    (voters,) = db.query("SELECT voters FROM eval_round_voters WHERE round_id = ?", [answered["round"]])[0]
    proposers = {p for (p,) in db.query("SELECT proposer_hash FROM eval_questions WHERE proposer_hash IS NOT NULL")}
    guesses = set()
    for t in stored_tokens:
        guesses |= _recomputable(t, answered["wave"], answered["round"])
    for code in answered["codes"].values():
        guesses |= {ev.normalise_code(code), ev.code_hash(code)}
    assert len(marks) == 8 and len(voters) == 8 and len(proposers) == 1
    assert not (set(marks) | set(voters) | proposers) & guesses
    # the server, holding the key, still knows each member's own state (one answer per member)
    assert all(ev.has_answered(db, s, answered["wave"]) for s in answered["sessions"].values())
    key_path = ev.survey_key_path(db)
    assert key_path is not None and key_path.exists() and str(key_path) != db.path
    key_hex = key_path.read_text().strip()
    data = _files(db)
    assert key_hex.encode() not in data and bytes.fromhex(key_hex) not in data


# --- the file in hand, under concurrent reads ------------------------------------------------

MEMBERS = 17


def _pattern(i: int) -> dict[str, int]:
    """A pattern no other member has: E1..E3 spell i in base 6."""
    return {"E1": i % 6, "E2": (i // 6) % 6, "E3": (i // 36) % 6 + 1, "E4": 4, "E5": 2}


def _files(db) -> bytes:
    out = b""
    for path in (db.path, db.path + ".wal"):
        if os.path.exists(path):
            with open(path, "rb") as f:
                out += f.read()
    return out


def _wal(db) -> bytes:
    path = db.path + ".wal"
    if not os.path.exists(path):
        return b""
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def file_in_hand(tmp_path_factory):
    """17 members answer one after another while another cursor holds a transaction open (so DuckDB
    cannot checkpoint). We keep a fingerprint of the files after every save."""
    from lib.store.db import open_database

    db = open_database(tmp_path_factory.mktemp("hand") / "hand.duckdb")
    ids = [f"P-{i:04d}" for i in range(1, MEMBERS + 1)]
    codes = ev.issue_codes(db, ids)
    sessions = [ev.member_sign_in(db, codes[pid]) for pid in ids]
    wave = ev.open_wave(db, "end").wave_id
    db.query("CHECKPOINT")                       # the set-up is in the file; the log starts empty
    setup = _files(db)
    steps = []
    with db.cursor() as reader:
        reader.begin()
        reader.execute("SELECT count(*) FROM eval_responses").fetchall()   # a read, left open
        for i, session in enumerate(sessions):
            before = hashlib.sha256(_files(db)).hexdigest()
            ev.submit_answers(db, session, wave, _pattern(i))
            after = hashlib.sha256(_files(db)).hexdigest()
            steps.append((before != after, ev.response_count(db, wave)))
        ev.close_wave(db, wave)
        steps.append((True, ev.response_count(db, wave)))
        wal = _wal(db)
        assert len(wal) > 0, "the open read should have kept everything in the write-ahead log"
        reader.rollback()
    db.query("CHECKPOINT")
    final = _files(db)
    # ground truth (the test knows it; the adversary does not): response id -> who answered
    by_rid = {}
    for rid, qid, ans in db.query("SELECT response_id, question_id, answer FROM eval_responses"):
        by_rid.setdefault(rid, {})[qid] = ans
    who = {rid: next(i for i in range(MEMBERS) if {k: v for k, v in _pattern(i).items()} == pat)
           for rid, pat in by_rid.items()}
    yield {"db": db, "ids": ids, "codes": codes, "sessions": sessions, "wave": wave, "setup": setup,
           "steps": steps, "wal": wal, "final": final, "who": who}
    db.close()


def test_saving_an_answer_writes_nothing_until_a_batch_of_at_least_five(file_in_hand):
    """Before: every save wrote the member's mark and answers at once, so the log (or each old copy in
    the file) showed one member at a time. Now a member's save leaves the files byte for byte as they
    were, until a batch of at least ev.BATCH members' answers is written together."""
    steps = file_in_hand["steps"]
    stored = 0
    batches = []
    for changed, now_stored in steps:
        if not changed:
            assert now_stored == stored
            continue
        batches.append(now_stored - stored)
        stored = now_stored
    assert stored == MEMBERS
    assert all(b >= ev.BATCH for b in batches), batches
    assert len(batches) >= 2                       # some written while answering, the rest at closing
    assert sum(not c for c, _n in steps) >= MEMBERS - len(batches)


def test_no_member_identifier_is_written_while_people_answer(file_in_hand):
    """The write-ahead log (everything written while members answered, since the open read stopped
    every checkpoint) holds no access code, code hash, token, person id or recomputable mark of any
    member; the file holds no recomputable mark, and no more copies of any member's identifiers than
    before anyone answered."""
    _, wal, setup, final = file_in_hand["db"], file_in_hand["wal"], file_in_hand["setup"], file_in_hand["final"]
    assert len(file_in_hand["who"]) == MEMBERS
    for pid, session in zip(file_in_hand["ids"], file_in_hand["sessions"]):
        code = file_in_hand["codes"][pid]
        identifiers = {pid, session.token, ev.normalise_code(code), code, ev.code_hash(code)}
        recomputable = _recomputable(session.token, file_in_hand["wave"]) - {session.token}
        for value in identifiers | recomputable:
            assert value.encode() not in wal, f"the write-ahead log holds {value!r} of {pid}"
        for value in recomputable:
            assert value.encode() not in final, f"the file holds a mark of {pid} anyone can recompute"
        for value in identifiers:
            assert final.count(value.encode()) == setup.count(value.encode()), f"{pid}: {value!r} written again"


def _order_found(data: bytes, who: dict[str, int]) -> list[int]:
    """Members in the order their answers first appear in the bytes (what an adversary would read)."""
    found = sorted((data.find(rid.encode()), member) for rid, member in who.items() if data.find(rid.encode()) >= 0)
    return [member for _pos, member in found]


def test_the_order_in_the_log_and_the_file_does_not_follow_the_order_people_answered(file_in_hand):
    """The adversary reads the answer sets in the order they appear in the log (and in the file, free
    blocks included) and guesses that the k-th belongs to the k-th member to answer. Before: 17 of 17
    right. Now batches are chosen at random among those waiting and written in random order: about one
    right guess by luck; more than 8 has a chance well under one in a million."""
    who = file_in_hand["who"]
    for name, data in (("write-ahead log", file_in_hand["wal"]), ("database file", file_in_hand["final"])):
        order = _order_found(data, who)
        assert sorted(order) == list(range(MEMBERS)), f"every answer set should be readable in the {name}"
        assert order != list(range(MEMBERS)), name
        right = sum(1 for k, member in enumerate(order) if k == member)
        assert right <= 8, f"{right} of {MEMBERS} members' answers found in the order they answered ({name})"


def test_a_member_can_answer_again_if_the_server_stops_before_their_answers_are_written(tmp_path):
    """Answers waiting in memory are lost if the server stops abruptly (nothing about them was
    written); the member's 'has answered' mark waits with them, so they may answer again."""
    from lib.store.db import open_database

    path = tmp_path / "crash.duckdb"
    db = open_database(path)
    codes = ev.issue_codes(db, ["P-0001", "P-0002"])
    wave = ev.open_wave(db, "pulse").wave_id
    s1 = ev.member_sign_in(db, codes["P-0001"])
    ev.submit_answers(db, s1, wave, {"E1": 4})
    assert ev.answer_state(db, s1, wave) == "waiting" and ev.answered_count(db, wave) == 1
    assert ev.save_waiting(db) == 1             # fewer than a batch: never written on its own
    db.close()                                  # the server stops (no closing of the survey)
    db = open_database(path)
    s1 = ev.member_sign_in(db, codes["P-0001"])
    assert ev.answer_state(db, s1, wave) == "none" and ev.answered_count(db, wave) == 0
    ev.submit_answers(db, s1, wave, {"E1": 5})
    assert ev.answer_state(db, s1, wave) == "waiting"
    db.close()


def test_a_normal_stop_writes_a_full_batch_waiting_in_memory(tmp_path):
    from lib.store.db import open_database

    path = tmp_path / "stop.duckdb"
    db = open_database(path)
    ids = [f"P-{i:04d}" for i in range(1, 7)]
    codes = ev.issue_codes(db, ids)
    wave = ev.open_wave(db, "pulse").wave_id
    for i, pid in enumerate(ids):
        ev.submit_answers(db, ev.member_sign_in(db, codes[pid]), wave, {"E1": 1 + i % 5})
    assert ev.response_count(db, wave) == 0 and ev.waiting_count(db, wave) == 6
    assert ev.save_waiting(db) == 0
    db.close()
    db = open_database(path)
    assert ev.response_count(db, wave) == 6 and ev.answered_count(db, wave) == 6
    db.close()


def test_a_lost_survey_key_is_refused_in_plain_words_not_a_second_answer(tmp_path):
    from lib.store.db import open_database
    from lib.errors import UserError

    path = tmp_path / "key.duckdb"
    db = open_database(path)
    codes = ev.issue_codes(db, ["P-0001"])
    wave = ev.open_wave(db, "pulse").wave_id
    ev.mark_answered_on_paper(db, wave, codes["P-0001"])
    db.close()
    os.remove(str(path) + ev.KEY_SUFFIX)        # the key file is lost
    db = open_database(path)
    with pytest.raises(UserError, match="survey key"):
        ev.submit_answers(db, ev.member_sign_in(db, codes["P-0001"]), wave, {"E1": 3})
    assert ev.waiting_count(db, wave) == 0
    db.close()


def test_marks_made_before_the_key_are_converted_and_no_longer_recomputable(tmp_path):
    """A database answered with the old marks (SHA-256 of the token) is converted when the app first
    opens it with its key: the same members count as answered, and the old marks are gone."""
    from lib.store.db import open_database

    path = tmp_path / "old.duckdb"
    db = open_database(path)
    codes = ev.issue_codes(db, ["P-0001", "P-0002"])
    tokens = {pid: ev.member_sign_in(db, c).token for pid, c in codes.items()}
    old = sorted(hashlib.sha256(f"answered|1|{t}".encode()).hexdigest() for t in tokens.values())
    db.query("INSERT INTO eval_waves (wave_id, kind, label, status, opened_at) VALUES (1, 'pulse', 'Old', 'open', "
             "now())")
    db.query("INSERT INTO eval_answered (wave_id, hashes) VALUES (1, ?)", [old[:1]])
    db.close()
    db = open_database(path)
    assert ev.answered_count(db, 1) == 1          # the app's first look converts the list
    (marks,) = db.query("SELECT hashes FROM eval_answered WHERE wave_id = 1")[0]
    assert len(marks) == 1 and not set(marks) & set(old)
    answered = [pid for pid, t in tokens.items() if ev.has_answered(db, ev.MemberSession(t), 1)]
    assert answered == [pid for pid, t in tokens.items()
                        if hashlib.sha256(f"answered|1|{t}".encode()).hexdigest() == old[0]]
    db.close()


def test_endorsing_writes_nothing_until_a_batch_and_no_mark_anyone_can_recompute(tmp_path):
    """Endorsements are anonymous too: with a read held open, an endorsement leaves the files as they
    were until a batch of at least ev.BATCH members' endorsements is written, and the log never holds
    a voter mark computable from a token."""
    from lib.store.db import open_database

    db = open_database(tmp_path / "endorse.duckdb")
    ids = [f"P-{i:04d}" for i in range(1, 13)]
    codes = ev.issue_codes(db, ids)
    sessions = [ev.member_sign_in(db, codes[pid]) for pid in ids]
    qs = [ev.propose_question(db, sessions[0], f"Question {i}?", "to learn") for i in range(3)]
    for q in qs:
        ev.check_question(db, q, True)
    rnd = ev.open_round(db, datetime.now(timezone.utc) + timedelta(days=1)).round_id
    db.query("CHECKPOINT")
    changes = []
    with db.cursor() as reader:
        reader.begin()
        reader.execute("SELECT count(*) FROM eval_endorsements").fetchall()
        for i, s in enumerate(sessions):
            before = hashlib.sha256(_files(db)).hexdigest()
            ev.endorse(db, s, rnd, [qs[i % 3]] if i % 2 else qs[:2])
            changes.append(before != hashlib.sha256(_files(db)).hexdigest())
        waiting = len(sessions) - db.scalar("SELECT len(voters) FROM eval_round_voters WHERE round_id = ?", [rnd])
        ev.close_round(db, rnd)
        wal = _wal(db)
        reader.rollback()
    assert changes.count(True) == 1 and changes.index(True) == 2 * ev.BATCH - 1, changes
    assert waiting == ev.BATCH + len(sessions) - 2 * ev.BATCH     # those waiting in memory until the close
    assert ev.endorsed_count(db, rnd) == len(sessions)
    for s in sessions:
        for value in _recomputable(s.token, 0, rnd):
            assert value.encode() not in wal
    assert db.scalar("SELECT count(*) FROM eval_endorsements WHERE round_id = ?", [rnd]) == 6 * 1 + 6 * 2
    (voters,) = db.query("SELECT voters FROM eval_round_voters WHERE round_id = ?", [rnd])[0]
    assert len(voters) == len(sessions) and list(voters) == sorted(voters)
    db.close()


def test_a_survey_answered_by_fewer_than_five_keeps_no_answers(tmp_path):
    """With fewer than 5 sets of answers in a whole survey, the batch written at closing would be small
    enough to recognise people (and no result would be shown anyway): only the marks are kept."""
    from lib.store.db import open_database

    db = open_database(tmp_path / "few.duckdb")
    ids = [f"P-{i:04d}" for i in range(1, 5)]
    codes = ev.issue_codes(db, ids)
    wave = ev.open_wave(db, "pulse").wave_id
    for i, pid in enumerate(ids[:3]):
        ev.submit_answers(db, ev.member_sign_in(db, codes[pid]), wave, {"E1": 1 + i})
    ev.set_paper_cards(db, wave, 1)
    ev.submit_paper_answers(db, wave, {"E1": 5}, actor="volunteer:Sam")
    ev.close_wave(db, wave)
    assert ev.response_count(db, wave) == 0 and ev.answered_count(db, wave) == 3
    assert db.scalar("SELECT count(*) FROM eval_responses") == 0
    assert "so those 4 were not kept" in ev.log_frame(db)["detail"].iloc[-1]
    assert all(r["suppressed"] for _, r in ev.results_frame(db, wave).iterrows())
    db.close()
