"""Issue 13 point 2: receipts handed to people (lib/assembly/receipts.py).

The organiser's mail-merge table gives every person in the pool exactly one receipt that the public bundle
accepts as theirs; the public check says in plain words whether the holder was in the pool and picked, with
the same verifier the command line uses. Runs on the demo with a real, revealed draw (596 sign-ups).
"""

from __future__ import annotations

import csv
import io
import shutil

import pytest

from lib import draws
from lib.assembly import receipts
from lib.errors import UserError
from lib.sortition.audit.bundle import read_bundle
from lib.sortition.audit.public import (bundle_id, new_secret, parse_public, person_salt, receipt_code,
                                        receipt_hash)
from lib.sortition.audit.verify import verify_bundle
from tests.app_pages.drawn_demo import drawn_demo_file

ADDRESS = "https://assembly.example.org"


@pytest.fixture
def drawn(tmp_path, tmp_path_factory):
    from lib.store.db import open_database

    path = tmp_path / "drawn.duckdb"
    shutil.copyfile(drawn_demo_file(tmp_path_factory.getbasetemp()), path)
    database = open_database(path)
    yield database, draws.revealed_draw(database)
    database.close()


def _public_people(bundle: bytes) -> dict[str, str]:
    """bundle id -> receipt hash, as committed in the public text."""
    pl = parse_public(read_bundle(bundle)["frozen.jsonl"])
    return {p[0]: p[1] for p in pl.people}


def test_every_person_in_the_pool_gets_exactly_one_receipt_that_the_bundle_accepts(drawn):
    db, rec = drawn
    table = receipts.receipts_frame(db, rec.draw_id, address=ADDRESS)
    pool = [p.id for p in draws.frozen_lottery(db, rec.draw_id).instance.people]
    assert len(table) == len(pool) == 596
    fl = draws.frozen_lottery(db, rec.draw_id)
    own = {receipt_code(fl, pid): pid for pid in pool}
    assert sorted(own[code] for code in table["Receipt"]) == sorted(pool)   # each pool person exactly once
    contact = {pid: (email or "", phone or "") for pid, email, phone in db.query(
        "SELECT person_id, email, phone FROM contacts")}
    for code, email, phone in zip(table["Receipt"], table["Email"], table["Phone"]):
        assert (email, phone) == contact[own[code]]                       # beside that person's own contact
    committed = _public_people(draws.public_bundle(db, rec.draw_id))
    for code in table["Receipt"]:
        bid, salt = code.split("-")
        assert committed[bid] == receipt_hash(bid, salt)                   # genuine: the bundle's fingerprint
    # the sentence to paste names the person's own code and where to check
    for code, message in zip(table["Receipt"], table["Message"]):
        assert code in message and f"{ADDRESS}/transparency" in message
    assert not set(table.columns) & {"Pseudonym", "person_id"}                # no door pseudonym beside it


def test_receipts_in_spanish_say_the_same_in_spanish(drawn):
    db, rec = drawn
    table = receipts.receipts_frame(db, rec.draw_id, address=ADDRESS, lang="es")
    first = table["Message"].iloc[0]
    assert first.startswith("Su recibo") and table["Receipt"].iloc[0] in first and "/transparency" in first


def test_the_check_says_picked_or_not_picked_with_the_command_lines_verifier(drawn):
    db, rec = drawn
    bundle = draws.public_bundle(db, rec.draw_id)
    table = receipts.receipts_frame(db, rec.draw_id, address=ADDRESS)
    contact = dict(db.query("SELECT person_id, email FROM contacts"))
    by_email = dict(zip(table["Email"], table["Receipt"]))
    picked = by_email[contact[rec.selected_ids[0]]]
    not_picked = by_email[contact[rec.reserve_ids[0]]]
    assert receipts.check_receipt(bundle, picked).outcome == receipts.PICKED
    assert receipts.check_receipt(bundle, not_picked).outcome == receipts.NOT_PICKED
    # what the command line says about the same codes
    assert any("PICKED" in line for line in verify_bundle(bundle, receipt=picked).info["receipt_lines"])
    assert any("not picked" in line for line in verify_bundle(bundle, receipt=not_picked).info["receipt_lines"])
    # copied with spaces, upper case, across two lines: still the same receipt
    spaced = " " + picked.upper()[:9] + " \n" + picked.upper()[9:] + " "
    assert receipts.check_receipt(bundle, spaced).outcome == receipts.PICKED


def test_a_receipt_from_another_draw_or_mistyped_is_told_plainly(drawn):
    db, rec = drawn
    bundle = draws.public_bundle(db, rec.draw_id)
    secret = new_secret()                      # another draw of the same pool: unrelated ids and salts
    other = f"{bundle_id(secret, rec.selected_ids[0])}-{person_salt(secret, rec.selected_ids[0])}"
    assert receipts.check_receipt(bundle, other).outcome == receipts.NOT_THIS_DRAW
    good = receipts.receipts_frame(db, rec.draw_id, address=ADDRESS)["Receipt"].iloc[0]
    wrong_end = good[:-1] + ("0" if good[-1] != "0" else "1")       # one character of the secret part wrong
    assert receipts.check_receipt(bundle, wrong_end).outcome == receipts.MISTYPED
    for garbage in ("", "hello", "<b>x</b>", "**" + good + "**", good[:20], "[x](http://evil.example)", "b" * 5000):
        assert receipts.check_receipt(bundle, garbage).outcome == receipts.MISTYPED, garbage
    # before the reveal there is no public bundle to check against
    assert receipts.check_receipt(None, good).outcome == receipts.NOT_YET


def test_a_broken_bundle_is_never_reported_as_picked(drawn):
    db, rec = drawn
    bundle = bytearray(draws.public_bundle(db, rec.draw_id))
    good = receipts.receipts_frame(db, rec.draw_id, address=ADDRESS)["Receipt"].iloc[0]
    bundle[len(bundle) // 2] ^= 1
    assert receipts.check_receipt(bytes(bundle), good).outcome == receipts.BUNDLE_FAILED


def test_the_receipts_file_is_safe_in_a_spreadsheet(drawn):
    db, rec = drawn
    pid = draws.frozen_lottery(db, rec.draw_id).instance.people[0].id
    db.transaction(lambda cur: cur.execute(
        "UPDATE contacts SET name = ?, email = ?, phone = ? WHERE person_id = ?",
        ["=cmd Smith", "\r@SUM(1+1)@x.org", "+44 7700 900123", pid]))
    data = receipts.receipts_csv(db, rec.draw_id, address=ADDRESS)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 596
    [row] = [r for r in rows if "cmd" in r["First name"] or "SUM" in r["Email"]]
    assert row["First name"] == "'=cmd" and row["Email"].startswith("'")   # neutralised, not run
    assert row["Phone"] == "+44 7700 900123"                                     # ordinary values untouched


def test_receipts_only_once_the_lottery_is_committed(drawn):
    db, rec = drawn
    with pytest.raises(UserError, match="no draw number"):
        receipts.receipts_frame(db, 999, address=ADDRESS)
    db.transaction(lambda cur: cur.execute("UPDATE draws SET status = 'computed' WHERE draw_id = ?", [rec.draw_id]))
    with pytest.raises(UserError, match="commitment"):
        receipts.receipts_frame(db, rec.draw_id, address=ADDRESS)
