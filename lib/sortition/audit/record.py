"""The public record of a draw: every commitment, withdrawal and reveal, in a hash chain.

A commitment binds the organisers to one lottery before the public random number exists.
That promise holds only if they cannot publish two commitments and, once the number is
known, reveal whichever panel they prefer; nor quietly run the draw again on changed
inputs after a reveal. So every public step of every draw is an *event* in one list, and
each event carries the SHA-256 of the one before it. Anyone holding the list (the
``record.json`` file offered on the Transparency page) can check, with the standard
library only:

1. **The chain is whole.** Each event's ``hash`` is the SHA-256 of its canonical JSON
   (below) and its ``prev`` is the previous event's ``hash`` (``""`` for the first). An
   event cannot be removed, changed or moved without breaking every later hash; the
   newest ``hash`` (the *head*) is shown on the Transparency page and printed in the
   transparency report, so a shortened list is noticed too.
2. **One live commitment at a time.** Events belong to a *slot*: ``"draw"`` for the main
   draw, ``"replacement:<draw>"`` for the replacement round that continues draw ``<draw>``.
   A commitment in a slot that already holds a live (committed, not yet revealed)
   commitment must come after a ``withdrawal`` of that commitment, and a withdrawal must
   give a reason. A withdrawn commitment can never be revealed.
3. **A public number is used once, for the live commitment.** A ``reveal`` names the
   commitment it reveals, which must be the live one of its slot, and its public number
   may not have been used by any earlier reveal, in any spelling: two numbers are the same
   when their letters and digits are (NFKC, lower case, only ``str.isalnum`` characters kept:
   ``"17 23 05"``, ``"17-23-05"`` and ``"172305"`` are one number), whatever rule each
   lottery's engine version used to turn its number into the hash.
4. **Draws again are in plain view.** A new commitment in a slot that was already revealed
   (the draw run again after its result was known) must give a reason; the verifier
   reports every such event, so "the draw was run twice" can never be hidden.

Canonical JSON of an event: the event without its ``hash`` key, ``json.dumps(event,
sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` encoded as UTF-8. The fields
are ``seq`` (1, 2, 3 …), ``at`` (UTC, ``YYYY-MM-DDTHH:MM:SSZ``), ``kind``
(``commitment``/``withdrawal``/``reveal``), ``slot``, ``draw`` (the draw's number in the
app), ``commitment`` (64 hex digits), ``public_number`` (reveals; else ``""``),
``reason`` (else ``""``) and ``prev``.

Pure Python: standard library only, like the verifier.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field

RECORD_FORMAT = "kleroterion-record-v1"
KINDS = ("commitment", "withdrawal", "reveal")
FIELDS = ("seq", "at", "kind", "slot", "draw", "commitment", "public_number", "reason", "prev")


def number_key(text: str) -> str:
    """Letters and digits of a public number (same as ``ceremony.number_key``; repeated so this module stays
    a standalone standard-library file)."""
    return "".join(
        str(unicodedata.decimal(c)) if c.isdecimal() else c
        for c in unicodedata.normalize("NFKC", str(text)).lower()
        if c.isalnum()
    )


def canonical(event: dict) -> bytes:
    body = {k: event[k] for k in FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_hash(event: dict) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


def new_event(
    previous: dict | None,
    *,
    at: str,
    kind: str,
    slot: str,
    draw: int,
    commitment: str,
    public_number: str = "",
    reason: str = "",
) -> dict:
    """The next event of the chain after ``previous`` (None for the first), with its hash."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    event = {
        "seq": (previous["seq"] + 1) if previous else 1,
        "at": at,
        "kind": kind,
        "slot": slot,
        "draw": int(draw),
        "commitment": commitment,
        "public_number": public_number or "",
        "reason": reason or "",
        "prev": previous["hash"] if previous else "",
    }
    event["hash"] = event_hash(event)
    return event


def record_bytes(events: list[dict]) -> bytes:
    """The downloadable record: ``{"format": …, "head": …, "events": [...]}`` as indented UTF-8 JSON."""
    doc = {"format": RECORD_FORMAT, "head": events[-1]["hash"] if events else "", "events": events}
    return (json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass
class RecordCheck:
    problems: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # public facts worth saying (draws run again)
    events: list[dict] = field(default_factory=list)
    head: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self) -> str:
        lines = [f"FAIL: {p}" for p in self.problems] + [f"NOTE: {n}" for n in self.notices]
        lines.append(
            "PASS: the public record is whole and every rule holds"
            if self.ok
            else f"FAIL: {len(self.problems)} problem{'' if len(self.problems) == 1 else 's'} in the public record"
        )
        return "\n".join(lines)


def check_events(events: list[dict]) -> RecordCheck:
    """Check the chain and the rules above; never raises on bad data, it reports it."""
    res = RecordCheck(events=events)
    rules = _Rules(res)
    by_kind = {"commitment": rules.commitment, "withdrawal": rules.withdrawal, "reveal": rules.reveal}
    prev_hash = ""
    for i, ev in enumerate(events, start=1):
        where = f"event {i}"
        if not isinstance(ev, dict) or any(k not in ev for k in (*FIELDS, "hash")):
            res.problems.append(f"{where} is not a complete event (it needs {', '.join(FIELDS)} and hash)")
            return res
        res.problems.extend(_chain_problems(where, ev, i, prev_hash))
        prev_hash = ev["hash"]
        check = by_kind.get(ev["kind"]) if isinstance(ev["kind"], str) else None  # bad data never raises
        if check is None:
            res.problems.append(f"{where} has an unknown kind {ev['kind']!r}")
        else:
            check(where, ev, i)
    res.head = prev_hash
    return res


def _chain_problems(where: str, ev: dict, i: int, prev_hash: str) -> list[str]:
    """The event is numbered in turn, follows the event before it, and was not changed since."""
    out = []
    if ev["seq"] != i:
        out.append(f"{where} is numbered {ev['seq']!r}; events are numbered 1, 2, 3 … with none missing")
    if ev["prev"] != prev_hash:
        out.append(
            f"{where} does not follow the event before it (its 'prev' is not that event's "
            "hash): an event was removed, changed or moved"
        )
    if event_hash(ev) != ev["hash"]:
        out.append(f"{where} was changed after it was recorded (its hash does not match its content)")
    return out


class _Rules:
    """The record's rules (docs/PUBLIC_RECORD.md), one method per kind of event, over the events so far."""

    def __init__(self, res: RecordCheck) -> None:
        self.res = res
        self.live: dict[str, tuple[str, int]] = {}  # slot -> (commitment, draw) now live
        self.revealed_slots: set[str] = set()
        self.withdrawn: set[str] = set()
        self.used_numbers: dict[str, int] = {}
        self.committed: set[str] = set()

    def commitment(self, where: str, ev: dict, i: int) -> None:
        """One live commitment per slot, each published once; a new one after a reveal gives its reason."""
        problems, slot, c = self.res.problems, ev["slot"], ev["commitment"]
        if slot in self.live:
            problems.append(
                f"{where}: a second commitment in '{slot}' while commitment "
                f"{self.live[slot][0][:12]}… (draw {self.live[slot][1]}) was still live and not withdrawn"
            )
        if c in self.committed:
            problems.append(f"{where}: commitment {c[:12]}… was already published once")
        if slot in self.revealed_slots:
            if not ev["reason"].strip():
                problems.append(f"{where}: the draw in '{slot}' is run again after a reveal with no reason")
            self.res.notices.append(
                f"draw {ev['draw']} was committed after an earlier draw in '{slot}' had been "
                f"revealed; reason given: {ev['reason']}"
            )
        self.live[slot] = (c, ev["draw"])
        self.committed.add(c)

    def withdrawal(self, where: str, ev: dict, i: int) -> None:
        """Only the live commitment is withdrawn, and with a reason."""
        problems, slot, c = self.res.problems, ev["slot"], ev["commitment"]
        if self.live.get(slot, ("", 0))[0] != c:
            problems.append(f"{where}: withdraws {c[:12]}…, which is not the live commitment of '{slot}'")
        if not ev["reason"].strip():
            problems.append(f"{where}: a commitment was withdrawn without a reason")
        self.res.notices.append(
            f"commitment {c[:12]}… (draw {ev['draw']}) was withdrawn before any reveal; reason given: {ev['reason']}"
        )
        self.live.pop(slot, None)
        self.withdrawn.add(c)

    def reveal(self, where: str, ev: dict, i: int) -> None:
        """Only the live commitment is revealed, with a public number never used before."""
        problems, slot, c = self.res.problems, ev["slot"], ev["commitment"]
        number = ev["public_number"]
        if c in self.withdrawn:
            problems.append(f"{where}: reveals commitment {c[:12]}…, which had been withdrawn")
        elif self.live.get(slot, ("", 0))[0] != c:
            problems.append(f"{where}: reveals {c[:12]}…, which is not the live commitment of '{slot}'")
        if not number:
            problems.append(f"{where}: a reveal without a public number")
        elif number_key(number) in self.used_numbers:
            problems.append(
                f"{where}: the public number {number!r} was already used by event "
                f"{self.used_numbers[number_key(number)]}; each reveal needs a number drawn after its "
                "commitment"
            )
        self.used_numbers.setdefault(number_key(number), i)
        self.live.pop(slot, None)
        self.revealed_slots.add(slot)


def check_record(
    data: bytes, *, head: str | None = None, commitment: str | None = None, public_number: str | None = None
) -> RecordCheck:
    """Check a ``record.json``; optionally that its head is ``head`` (as announced) and that it
    holds the reveal of ``commitment`` with ``public_number`` (both as in a bundle's manifest)."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        res = RecordCheck()
        res.problems.append(f"the record is not valid UTF-8 JSON ({e})")
        return res
    if not isinstance(doc, dict) or doc.get("format") != RECORD_FORMAT or not isinstance(doc.get("events"), list):
        res = RecordCheck()
        res.problems.append(f"this is not a public record in the format {RECORD_FORMAT}")
        return res
    res = check_events(doc["events"])
    if res.ok and doc.get("head") != res.head:
        res.problems.append("the record's 'head' is not the hash of its last event")
    if head is not None and res.head != "".join(str(head).split()).lower():
        res.problems.append(
            f"the record ends at {res.head[:16]}…, not at the announced head {head[:16]}…: "
            "events are missing or were changed"
        )
    if commitment is not None:
        c = "".join(str(commitment).split()).lower()
        reveals = [e for e in res.events if e.get("kind") == "reveal" and e.get("commitment") == c]
        if not reveals:
            res.problems.append(f"the record holds no reveal of commitment {c[:12]}…")
        elif public_number is not None and reveals[0].get("public_number") != public_number:
            res.problems.append(
                f"the record reveals {c[:12]}… with the number {reveals[0].get('public_number')!r}, "
                f"not {public_number!r}"
            )
    return res
