"""Receipts handed to people: each person in a draw's pool gets a code with which they alone can check, in the
public bundle, that they were in the pool and whether they were picked (docs/VERIFYING.md, section 7).

Two sides, both pure:

- the organisers' mail-merge table (:func:`receipts_frame`, :func:`receipts_csv`): one row per person in the
  frozen pool with first name, email and phone (personal data: organisers only) and the receipt code
  (``lib.sortition.audit.public.receipt_code``), plus a sentence to paste into an email or a text message;
- the public check (:func:`check_receipt`): a code against a draw's published public bundle, with the same
  verifier the command line runs (``lib.sortition.audit.verify.verify_bundle``), in one of a few plain
  outcomes (:data:`OUTCOME_WORDS`). It never shows or returns what was typed, nor the holder's answers.

Here in ``lib.assembly`` (not ``lib.draws``) because the table uses the assembly's careful first-name rule
(``lib.assembly.first_names.first_name``) and the members' web address, and packages only use those below them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from lib.assembly.first_names import first_name
from lib.draws.records import DrawError, frozen_lottery, stored_draw
from lib.i18n import N_, Translator, normalise
from lib.privacy import safe_csv_bytes
from lib.sortition.audit.model import InputError
from lib.sortition.audit.public import parse_receipt, receipt_code
from lib.sortition.audit.verify import verify_bundle
from lib.store.db import Database
from lib.store.settings import get_setting

COLUMNS = ["First name", "Email", "Phone", "Receipt", "Message"]

PICKED, NOT_PICKED, NOT_THIS_DRAW, MISTYPED, NOT_YET, BUNDLE_FAILED = (
    "picked",
    "not picked",
    "not this draw",
    "mistyped",
    "not yet",
    "bundle failed",
)

OUTCOME_WORDS = {
    PICKED: N_("You were in the pool of this draw. You were picked."),
    NOT_PICKED: N_("You were in the pool of this draw. You were not picked this time."),
    NOT_THIS_DRAW: N_(
        "This receipt is not from this draw. Check that it is your receipt for this assembly's "
        "draw, and that you copied all of it."
    ),
    MISTYPED: N_(
        "This receipt could not be read: part of it may be missing or mistyped. A receipt starts with "
        "the letter b, has one dash, and is 46 letters and digits long (for example "
        "b0123456789ab-0123…). Copy it again from your message, all of it."
    ),
    NOT_YET: N_("Receipts can be checked here once the panel has been revealed. Please come back after the draw."),
    BUNDLE_FAILED: N_(
        "The published record of this draw did not pass its own checks, so your receipt cannot be "
        "checked against it. Please tell the organisers."
    ),
}

_LONGEST = 300
"""A receipt is 46 characters; a pasted text much longer than that is not one (and is not read further)."""

# What the verifier (lib/sortition/audit/public_verify.py, _check_receipt) writes about a receipt.
_SAYS_PICKED = "in the pool; PICKED"
_SAYS_NOT_PICKED = "in the pool; not picked"
_SAYS_NOT_IN_POOL = "NOT in the pool of this draw"
_SAYS_NO_MATCH = "the code does not match"


@dataclass(frozen=True)
class ReceiptCheck:
    outcome: str  # one of the keys of OUTCOME_WORDS
    receipt: str = ""  # the receipt as read (normalised: hex digits and one dash), "" when unreadable

    def words(self, tr: Translator | None = None) -> str:
        return (tr or Translator())(OUTCOME_WORDS[self.outcome])


def check_receipt(bundle: bytes | None, code: object) -> ReceiptCheck:
    """Check a receipt ``code`` (as a person typed or pasted it) against a draw's public ``bundle`` (None
    before the reveal). Never raises: every input gives one of the outcomes of :data:`OUTCOME_WORDS`."""
    text = str(code or "")
    if len(text) > _LONGEST:
        return ReceiptCheck(MISTYPED)
    try:
        bid, salt = parse_receipt(text)
    except InputError:
        return ReceiptCheck(MISTYPED)
    receipt = f"{bid}-{salt}"
    if bundle is None:
        return ReceiptCheck(NOT_YET, receipt)
    return ReceiptCheck(_verdict(bytes(bundle), receipt), receipt)


@lru_cache(maxsize=512)
def _verdict(bundle: bytes, receipt: str) -> str:
    """The outcome for a well-formed receipt. Kept: a genuine receipt costs the verifier a few tenths of a second
    of processor time (it also recovers the holder's answers), so the same one checked again costs nothing."""
    res = verify_bundle(bundle, receipt=receipt)
    lines = " ".join(res.info.get("receipt_lines", []))
    others = [p for p in res.problems if "receipt" not in p]
    if others or not lines:
        return BUNDLE_FAILED
    for says, outcome in (
        (_SAYS_PICKED, PICKED),
        (_SAYS_NOT_PICKED, NOT_PICKED),
        (_SAYS_NOT_IN_POOL, NOT_THIS_DRAW),
        (_SAYS_NO_MATCH, MISTYPED),
    ):
        if says in lines:
            return outcome
    return BUNDLE_FAILED


# --- the organisers' table ---------------------------------------------------------------------------------

_MESSAGE = N_(
    "Your receipt for the draw of {assembly} (its commitment was published on {date}): {receipt} . "
    "After the draw you can check at {address}/transparency whether you were in the pool and whether "
    "you were picked."
)
_MESSAGE_NO_ADDRESS = N_(
    "Your receipt for the draw of {assembly} (its commitment was published on {date}): "
    "{receipt} . After the draw you can check on the assembly's Transparency page whether "
    "you were in the pool and whether you were picked."
)


def _long_date(when, lang: str) -> str:
    from babel.dates import format_date

    return format_date(when, "long", locale="en_GB" if lang == "en" else lang)


def _receipt_draw(db: Database, draw_id: int):
    try:
        rec = stored_draw(db, draw_id)
    except DrawError:
        raise DrawError(f"There is no draw number {draw_id}.") from None
    if rec.kind != "draw":
        raise DrawError("Receipts belong to the draw itself: people keep the same receipt in its replacement rounds.")
    if rec.status == "withdrawn":
        raise DrawError(
            "This commitment was withdrawn, so its receipts would not work. Make receipts for the "
            "draw whose commitment is published now."
        )
    if rec.status not in ("committed", "revealed"):
        raise DrawError("Receipts can be made once the lottery's commitment is published (step 3 of the draw).")
    return rec


def _receipt_lottery(db: Database, draw_id: int):
    rec = _receipt_draw(db, draw_id)
    fl = frozen_lottery(db, rec.draw_id)
    if not fl.secret:
        raise DrawError("This draw was made before receipts existed, so it has none to hand out.")
    return rec, fl


def why_no_receipts(db: Database, draw_id: int) -> str | None:
    """None when the draw's receipts can be made now, else why not, in plain words (for the Draw page)."""
    try:
        _receipt_lottery(db, draw_id)
    except DrawError as e:
        return str(e)
    return None


def receipts_frame(db: Database, draw_id: int, *, address: str, lang: str | None = None) -> pd.DataFrame:
    """One row per person in the draw's frozen pool: first name, email, phone, receipt code and a sentence to
    paste (in ``lang``). Personal data, for organisers only. Refuses (DrawError) before the commitment."""
    rec, fl = _receipt_lottery(db, draw_id)
    lang = normalise(lang)
    tr = Translator(lang)
    ids = [p.id for p in fl.instance.people]
    contacts = {
        pid: (name, email, phone)
        for pid, name, email, phone in db.query(
            "SELECT person_id, name, email, phone FROM contacts WHERE list_contains(?, person_id)", [ids]
        )
    }
    assembly = (get_setting(db, "assembly", {}) or {}).get("name") or tr("Citizens' assembly")
    when = rec.committed_at or rec.created_at
    address = (address or "").strip().rstrip("/")
    template = tr(_MESSAGE if address else _MESSAGE_NO_ADDRESS)
    rows = []
    for pid in ids:
        name, email, phone = contacts.get(pid, (None, None, None))
        code = receipt_code(fl, pid)
        message = template.format(assembly=assembly, date=_long_date(when, lang), receipt=code, address=address)
        rows.append([first_name(name), email or "", phone or "", code, message])
    frame = pd.DataFrame(rows, columns=COLUMNS)
    order = frame["First name"].str.casefold().argsort(kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def receipts_csv(db: Database, draw_id: int, *, address: str, lang: str | None = None) -> bytes:
    """:func:`receipts_frame` as a CSV file for a mail merge, safe to open in a spreadsheet."""
    return safe_csv_bytes(receipts_frame(db, draw_id, address=address, lang=lang))
