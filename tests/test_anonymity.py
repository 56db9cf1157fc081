"""Proof that survey answers (and endorsements) cannot be joined back to members from the database.

The adversary is an organiser with the whole database file, who also knows the order in
which members answered (they watched people at the laptop) and every member's access code.
We check every table and every column: no shared key, no timestamp, no sequence number and
no stored order that would let them say whose answers a row holds.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

from lib import evaluation as ev
from lib.signups.store import pool_frame

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


@pytest.fixture(scope="module")
def answered(tmp_path_factory):
    """Eight members (pseudonyms from the pool) answer a wave one after another, in a known order.
    (One database for the module: the checks below only read it.)"""
    from lib.db import open_database
    from lib.demo import load_demo

    db = open_database(tmp_path_factory.mktemp("anon") / "anon.duckdb")
    load_demo(db)
    ids = pool_frame(db)["person_id"].tolist()[:8]
    codes = ev.issue_codes(db, ids)
    sessions = {pid: ev.member_sign_in(db, codes[pid]) for pid in ids}
    wave = ev.open_wave(db, "pulse").wave_id
    q = ev.propose_question(db, sessions[ids[0]], "Was the venue easy to reach?", "access")
    rnd = ev.open_round(db, datetime.now(timezone.utc) + timedelta(days=1))
    before_seq = db.query("SELECT sequence_name, last_value FROM duckdb_sequences() ORDER BY 1")
    before_log = db.scalar("SELECT count(*) FROM eval_log")
    t_start = datetime.now(timezone.utc)
    for pid, pattern in zip(ids, PATTERNS):          # the known order
        ev.submit_answers(db, sessions[pid], wave, pattern)
        ev.endorse(db, sessions[pid], rnd.round_id, [q])
    t_end = datetime.now(timezone.utc)
    yield {"db": db, "ids": ids, "codes": codes, "sessions": sessions, "wave": wave, "t": (t_start, t_end),
           "before_seq": before_seq, "before_log": before_log, "round": rnd.round_id}
    db.close()


def test_answer_rows_hold_nothing_but_a_random_id_the_wave_the_channel_and_the_answer(answered):
    db = answered["db"]
    cols = db.query("SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = 'eval_responses' ORDER BY ordinal_position")
    assert [c for c, _t in cols] == ["response_id", "wave_id", "channel", "question_id", "answer"]
    assert not [t for _c, t in cols if "TIME" in t or t == "DATE"]
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
    # tokens, code hashes, answered hashes and person ids never appear in an answer row
    tokens = {s.token for s in answered["sessions"].values()}
    for (table, col), vals in resp.items():
        if table == "eval_responses":
            assert not (vals & tokens) and not (vals & set(answered["ids"])), col
            if col not in ("wave_id", "question_id", "answer", "channel"):
                assert not (vals & member_side), f"eval_responses.{col} shares values with member data"
    # the who-has-answered list holds hashes that are neither tokens nor response ids
    (hashes,) = db.query("SELECT hashes FROM eval_answered WHERE wave_id = ?", [answered["wave"]])[0]
    assert len(hashes) == 8 and not (set(hashes) & (tokens | response_ids))


def test_answering_writes_no_timestamp_sequence_number_or_log_line_anywhere(answered):
    db = answered["db"]
    t_start, t_end = answered["t"]
    # everything else was set up before t_start: any time stamp from t_start on was written while answering
    during = [(t, c, v) for t, c, v in _timestamps(db)
              if isinstance(v, datetime) and t_start <= v.astimezone(timezone.utc) <= t_end + timedelta(seconds=1)]
    assert during == [], during
    assert db.query("SELECT sequence_name, last_value FROM duckdb_sequences() ORDER BY 1") == answered["before_seq"]
    assert db.scalar("SELECT count(*) FROM eval_log") == answered["before_log"]


def test_stored_order_does_not_follow_the_order_people_answered(answered):
    """Known order: member 1 answered first, member 8 last, each with a distinct pattern. The rows as
    stored (DuckDB's rowid) are sorted by the random response id, and the who-has-answered list is
    sorted by hash: neither follows the answering order, so the order cannot link them."""
    db = answered["db"]
    rows = db.query("SELECT rowid, response_id, question_id, answer FROM eval_responses WHERE wave_id = ? "
                    "ORDER BY rowid", [answered["wave"]])
    stored_ids = [r[1] for r in rows]
    assert stored_ids == sorted(stored_ids)               # order = random id order, nothing else
    first_seen = list(dict.fromkeys(stored_ids))
    by_response = {}
    for _rowid, rid, qid, ans in rows:
        by_response.setdefault(rid, {})[qid] = ans
    stored_patterns = [by_response[rid] for rid in first_seen]
    assert sorted(map(str, stored_patterns)) == sorted(map(str, PATTERNS))   # nothing lost
    assert stored_patterns != PATTERNS                    # (1 chance in 40,320 of matching by luck)
    (hashes,) = db.query("SELECT hashes FROM eval_answered WHERE wave_id = ?", [answered["wave"]])[0]
    assert list(hashes) == sorted(hashes)
    known_order = [ev.answered_hash(answered["sessions"][pid].token, answered["wave"]) for pid in answered["ids"]]
    assert list(hashes) != known_order
    endorsements = db.query("SELECT question_id FROM eval_endorsements ORDER BY rowid")
    assert [e[0] for e in endorsements] == sorted(e[0] for e in endorsements)


def test_the_write_ahead_log_keeps_no_step_by_step_record(answered):
    """Each anonymous save is checkpointed into the main file, so the .wal file does not keep the
    sequence of inserts (which would show the order of answers)."""
    wal = answered["db"].path + ".wal"
    assert not os.path.exists(wal) or os.path.getsize(wal) == 0


def test_even_with_every_access_code_an_organiser_learns_only_who_answered_not_what(answered):
    db = answered["db"]
    # With the codes they can tell who has answered (for reminders) …
    tokens = {pid: ev.member_sign_in(db, code).token for pid, code in answered["codes"].items()}
    (hashes,) = db.query("SELECT hashes FROM eval_answered WHERE wave_id = ?", [answered["wave"]])[0]
    assert {pid for pid, t in tokens.items() if ev.answered_hash(t, answered["wave"]) in hashes} == \
        set(answered["ids"])
    # … but no function of a token or code appears next to an answer: the only per-response value
    # is the random id, and it is not a hash of any token with any of the public inputs.
    resp_ids = {r[0] for r in db.query("SELECT DISTINCT response_id FROM eval_responses")}
    candidates = set()
    for t in tokens.values():
        candidates |= {ev.answered_hash(t, answered["wave"]), ev.voter_hash(t, answered["round"]),
                       ev.proposer_hash(t), t}
    assert not any(c.startswith(r) or r in c for r in resp_ids for c in candidates)
