"""The public form of a lottery (v2): a commitment anybody can recompute, that identifies nobody.

A v2 lottery (``FrozenLottery`` with a ``secret``) has three texts:

- the organisers' stored text (``canonical_bytes``, format ``kleroterion-lottery-v2``): door
  pseudonyms, answers, households, the secret. It never leaves the organisers' database;
- the **auditors' text** (``audit_lottery(fl).canonical_bytes()``, file ``audit.jsonl``, format
  v1): the same lottery with every door pseudonym replaced by a random **bundle id**, and every
  household by a keyed pseudonym; plus ``salts.jsonl``, each person's salt and each panel's salt;
- the **public text** (``public_bytes(fl)``, file ``frozen.jsonl`` of the public bundle, format
  ``kleroterion-public-v2``). **commitment = sha256(public text)**. Lines, in this order:

  - header: ``{"algorithm","created","engine_version","format":"kleroterion-public-v2","kind","m",
    "one_per_household","panel_size","pool_size"}`` (replacement rounds also
    ``original_commitment``, ``previous_commitment``, ``round``);
  - ``["audit", sha256(audit.jsonl), sha256(salts.jsonl)]``: binds the auditors' texts;
  - ``["quota", feature, value, min, max, people_in_pool]`` for each **published** group (sorted);
  - ``["relaxed", feature, value, old_min, old_max, new_min, new_max]`` for published groups;
  - ``["withheld", feature, value]`` for every other quota (checked by the auditors only);
  - ``["person", bundle_id, receipt_hash, answers_hash]`` sorted by bundle id, where
    ``receipt_hash = sha256("kleroterion-receipt-v2\\n" + bundle_id + "\\n" + salt)`` and
    ``answers_hash = sha256(canonical_json(["kleroterion-answers-v2", bundle_id, salt, features]))``;
  - replacement rounds: ``["dropout", bundle_id]``, ``["excluded", bundle_id]``, sorted;
  - for each listed panel, in order: ``["panel", ids_hash, count, count, ...]`` with
    ``ids_hash = sha256(canonical_json(["kleroterion-panel-v2", panel_salt, id, id, ...]))`` (ids
    sorted) and one count per published quota line, in that order: how many of its seats that
    group holds.

A group is **published** (its quota, its number of people in the pool, and its seats in every
panel) only when nothing published about it can be smaller than 5 (``SMALL``): its minimum is at
least 5 seats (so every listed panel gives it 5 or more) and at least 5 people in the pool have it.
When exactly one group of a question is withheld (a group that is not a quota's value, such as a
missing answer, counts as a withheld group when anybody has it), the published group of that
question with the fewest seats is withheld too, so nothing withheld can be found by subtraction.
Replacement rounds publish no group: their panels are small, and their quotas (the original ones
minus the members who stay) would give away the answers of the people who dropped out.

The public text holds no answer of anybody, no door pseudonym and no panel's list of people: only
the chosen panel is opened (its ids and salt are in the public bundle), so the published counts
cannot be solved back into each person's answers. Pure Python, standard library only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from lib.sortition.audit.ceremony import (
    HEADER_TYPES,
    FrozenLottery,
    QuotaChangeRecord,
    ReplacementContext,
    canonical_json,
    canonical_lines,
    sha256_hex,
)
from lib.sortition.audit.model import InputError, Instance, Person

PUBLIC_FORMAT = "kleroterion-public-v2"
SMALL = 5
"""No count smaller than this about people is published (the app's ``lib.privacy.SMALL_GROUP``)."""

RECEIPT_DOMAIN = "kleroterion-receipt-v2"
ANSWERS_DOMAIN = "kleroterion-answers-v2"
PANEL_DOMAIN = "kleroterion-panel-v2"
ID_HEX = 12
SALT_HEX = 32


def new_secret() -> str:
    """A fresh random secret for a v2 lottery (64 hex digits, from ``secrets``; no draw depends on it)."""
    return secrets.token_hex(32)


def _keyed(secret: str, *parts: str) -> str:
    return hmac.new(bytes.fromhex(secret), "\n".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()


def bundle_id(secret: str, person_id: str) -> str:
    """The random-looking id a person has in the bundles (not their door pseudonym)."""
    return "b" + _keyed(secret, "bundle-id", person_id)[:ID_HEX]


def person_salt(secret: str, person_id: str) -> str:
    return _keyed(secret, "salt", person_id)[:SALT_HEX]


def panel_salt(secret: str, fl_key: str, n: int) -> str:
    return _keyed(secret, "panel", fl_key, str(n))[:SALT_HEX]


def household_pseudonym(secret: str, household: str) -> str:
    return "h" + _keyed(secret, "household", household)[:ID_HEX]


def receipt_hash(bid: str, salt: str) -> str:
    return sha256_hex(f"{RECEIPT_DOMAIN}\n{bid}\n{salt}".encode("utf-8"))


def answers_hash(bid: str, salt: str, features: Mapping[str, str]) -> str:
    feats = [[f, features[f]] for f in sorted(features)]
    return sha256_hex(canonical_json([ANSWERS_DOMAIN, bid, salt, feats]).encode("utf-8"))


def ids_hash(salt: str, ids: Iterable[str]) -> str:
    return sha256_hex(canonical_json([PANEL_DOMAIN, salt, *sorted(ids)]).encode("utf-8"))


def receipt_code(fl: FrozenLottery, person_id: str) -> str:
    """What a person is given to check the public bundle themselves: ``<bundle id>-<salt>``."""
    if not fl.secret:
        raise InputError("this lottery was frozen before receipts existed (format v1)")
    return f"{bundle_id(fl.secret, person_id)}-{person_salt(fl.secret, person_id)}"


def parse_receipt(code: str) -> tuple[str, str]:
    text = "".join(str(code).split()).lower()
    bid, sep, salt = text.partition("-")
    if (
        not sep
        or not bid.startswith("b")
        or len(bid) != ID_HEX + 1
        or len(salt) != SALT_HEX
        or any(c not in "0123456789abcdef" for c in bid[1:] + salt)
    ):
        raise InputError(
            "a receipt looks like b + 12 letters or digits, a dash, then 32 letters or digits "
            "(for example b0123456789ab-0123…); check that it was copied whole"
        )
    return bid, salt


def check_bundle_ids(fl: FrozenLottery) -> None:
    """Raises when two people would get the same bundle id (about 1 in 10^7 for 10,000 people)."""
    assert fl.secret
    ids = [bundle_id(fl.secret, p.id) for p in fl.instance.people]
    if len(set(ids)) != len(ids):
        raise InputError("two people got the same bundle id: freeze again with a new secret")


# --- the auditors' text -----------------------------------------------------------------------


def _fl_key(fl: FrozenLottery) -> str:
    return f"{fl.kind}:{fl.context.round if fl.context else 0}"


def audit_lottery(fl: FrozenLottery) -> FrozenLottery:
    """The lottery as the auditors see it: bundle ids instead of door pseudonyms (format v1 text)."""
    if not fl.secret:
        raise InputError("this lottery has no public form (format v1)")
    s = fl.secret
    to = {p.id: bundle_id(s, p.id) for p in fl.instance.people}

    def b(pid: str) -> str:  # dropouts are on the panel, not in a round's pool
        return to.get(pid) or bundle_id(s, pid)

    inst = fl.instance
    people = sorted(
        (
            Person(to[p.id], dict(p.features), household_pseudonym(s, p.household) if p.household else None)
            for p in inst.people
        ),
        key=lambda p: p.id,
    )
    pool = Instance(
        people=people, quotas=list(inst.quotas), panel_size=inst.panel_size, one_per_household=inst.one_per_household
    )
    ctx = None
    if fl.context is not None:
        c = fl.context
        ctx = ReplacementContext(
            c.round,
            c.original_commitment,
            c.previous_commitment,
            tuple(sorted(b(d) for d in c.dropouts)),
            tuple(sorted(b(e) for e in c.excluded)),
        )
    targets = {to[k]: v for k, v in fl.targets.items()} if fl.targets else None
    panels = [tuple(sorted(to[i] for i in p)) for p in fl.panels]
    return FrozenLottery(pool, panels, fl.algorithm, fl.created, fl.engine_version, targets, list(fl.relaxation), ctx)


def salts_bytes(fl: FrozenLottery) -> bytes:
    """``salts.jsonl``: ``["salt", bundle_id, salt]`` sorted by id, then ``["panel-salt", n, salt]``."""
    assert fl.secret
    s = fl.secret
    rows = sorted((bundle_id(s, p.id), person_salt(s, p.id)) for p in fl.instance.people)
    lines = [canonical_json(["salt", b, x]) for b, x in rows]
    key = _fl_key(fl)
    lines += [canonical_json(["panel-salt", n, panel_salt(s, key, n)]) for n in range(fl.M)]
    return "".join(line + "\n" for line in lines).encode("utf-8")


def parse_salts(data: bytes) -> tuple[dict[str, str], list[str]]:
    """Inverse of ``salts_bytes``: ({bundle id: salt}, [panel salt, ...])."""
    people: dict[str, str] = {}
    panels: list[str] = []
    try:
        text = bytes(data).decode("utf-8")
        rows = [json.loads(line) for line in text.split("\n")[:-1]]
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError("salts.jsonl is not readable") from None
    for n, r in enumerate(rows, start=1):
        if isinstance(r, list) and len(r) == 3 and r[0] == "salt" and all(isinstance(x, str) for x in r[1:]):
            people[r[1]] = r[2]
        elif (
            isinstance(r, list)
            and len(r) == 3
            and r[0] == "panel-salt"
            and r[1] == len(panels)
            and isinstance(r[2], str)
        ):
            panels.append(r[2])
        else:
            raise InputError(f"salts.jsonl: line {n} is not a salt")
    out = "".join(canonical_json(["salt", b, people[b]]) + "\n" for b in sorted(people))
    out += "".join(canonical_json(["panel-salt", n, x]) + "\n" for n, x in enumerate(panels))
    if out.encode("utf-8") != bytes(data):
        raise InputError("salts.jsonl is not in the canonical format")
    return people, panels


# --- which groups are published ---------------------------------------------------------------


def published_groups(audit: FrozenLottery) -> list[tuple[str, str]]:
    """The quota groups whose quota, pool count and seats per panel are public (see module doc)."""
    inst = audit.instance
    if audit.context is not None:
        return []
    quotas = sorted(inst.quotas, key=lambda q: (q.feature, q.value))
    pool: dict[tuple[str, str], int] = {}
    for p in inst.people:
        for f, v in p.features.items():
            pool[(f, v)] = pool.get((f, v), 0) + 1
    ok = {(q.feature, q.value) for q in quotas if q.min >= SMALL and pool.get((q.feature, q.value), 0) >= SMALL}
    for f in sorted({q.feature for q in quotas}):
        groups = [q for q in quotas if q.feature == f]
        values = {q.value for q in groups}
        rest = sum(n for (g, v), n in pool.items() if g == f and v not in values)
        rest += sum(1 for p in inst.people if f not in p.features)
        withheld = sum(1 for q in groups if (f, q.value) not in ok) + (1 if rest else 0)
        if withheld == 1:
            shown = sorted((q.min, pool.get((f, q.value), 0), q.value) for q in groups if (f, q.value) in ok)
            if shown:
                ok.discard((f, shown[0][2]))
    return [(q.feature, q.value) for q in quotas if (q.feature, q.value) in ok]


# --- the public text ---------------------------------------------------------------------------


def public_bytes(fl: FrozenLottery) -> bytes:
    """The public text of a v2 lottery; its SHA-256 is the commitment (cached on ``fl``)."""
    cached = getattr(fl, "_public", None)
    if isinstance(cached, bytes):
        return cached
    data = public_text(audit_lottery(fl), salts_bytes(fl))
    fl._public = data
    return data


def public_text(audit: FrozenLottery, salts: bytes) -> bytes:
    """The public text, from the auditors' two texts alone (so auditors can recompute it)."""
    people_salt, panel_salts = parse_salts(salts)
    inst = audit.instance
    if sorted(people_salt) != sorted(p.id for p in inst.people):
        raise InputError("salts.jsonl does not list exactly the people of audit.jsonl")
    if len(panel_salts) != audit.M:
        raise InputError(f"salts.jsonl lists {len(panel_salts)} panel salts for {audit.M} panels")
    head = {
        "algorithm": audit.algorithm,
        "created": audit.created,
        "engine_version": audit.engine_version,
        "format": PUBLIC_FORMAT,
        "kind": audit.kind,
        "m": audit.M,
        "one_per_household": bool(inst.one_per_household),
        "panel_size": inst.panel_size,
        "pool_size": len(inst.people),
    }
    if audit.context:
        head.update(
            original_commitment=audit.context.original_commitment,
            previous_commitment=audit.context.previous_commitment,
            round=audit.context.round,
        )
    lines = [
        canonical_json(head),
        canonical_json(["audit", sha256_hex(audit.canonical_bytes()), sha256_hex(bytes(salts))]),
    ]
    shown = published_groups(audit)
    lines += _quota_lines(audit, shown)
    for p in sorted(inst.people, key=lambda p: p.id):
        s = people_salt[p.id]
        lines.append(canonical_json(["person", p.id, receipt_hash(p.id, s), answers_hash(p.id, s, p.features)]))
    if audit.context:
        lines += [canonical_json(["dropout", d]) for d in sorted(audit.context.dropouts)]
        lines += [canonical_json(["excluded", e]) for e in sorted(audit.context.excluded)]
    by = {p.id: p for p in inst.people}
    for n, panel in enumerate(audit.panels):
        counts = [sum(1 for i in panel if by[i].features.get(f) == v) for f, v in shown]
        lines.append(canonical_json(["panel", ids_hash(panel_salts[n], panel), *counts]))
    return "".join(line + "\n" for line in lines).encode("utf-8")


def _quota_lines(audit: FrozenLottery, shown: list[tuple[str, str]]) -> list[str]:
    """The quota lines of the published groups (with their size in the pool), their relaxed quotas, and
    a withheld line for every other quota."""
    inst = audit.instance
    shown_set = set(shown)
    pool: dict[tuple[str, str], int] = {}
    for p in inst.people:
        for f, v in p.features.items():
            pool[(f, v)] = pool.get((f, v), 0) + 1
    quotas = {(q.feature, q.value): q for q in inst.quotas}
    lines = []
    for key in shown:
        q = quotas[key]
        lines.append(canonical_json(["quota", q.feature, q.value, q.min, q.max, pool.get(key, 0)]))
    for c in sorted(audit.relaxation, key=lambda c: (c.feature, c.value)):
        if (c.feature, c.value) in shown_set:
            lines.append(canonical_json(["relaxed", c.feature, c.value, c.old_min, c.old_max, c.new_min, c.new_max]))
    for key in sorted(quotas):
        if key not in shown_set:
            lines.append(canonical_json(["withheld", *key]))
    return lines


@dataclass
class PublicQuota:
    feature: str
    value: str
    min: int
    max: int
    pool: int


@dataclass
class PublicLottery:
    """The public text, read back (``parse_public``)."""

    header: dict
    audit_hash: str
    salts_hash: str
    quotas: list[PublicQuota]
    relaxation: list[QuotaChangeRecord]
    withheld: list[tuple[str, str]]
    people: list[tuple[str, str, str]]  # (bundle id, receipt hash, answers hash)
    dropouts: list[str]
    excluded: list[str]
    panels: list[tuple[str, list[int]]]  # (ids hash, counts per published quota)
    _bytes: bytes = field(default=b"", repr=False)

    @property
    def M(self) -> int:
        return len(self.panels)

    @property
    def kind(self) -> str:
        return self.header["kind"]

    @property
    def panel_size(self) -> int:
        return self.header["panel_size"]

    @property
    def commitment(self) -> str:
        return sha256_hex(self._bytes)

    @property
    def context(self) -> dict | None:
        h = self.header
        if h["kind"] != "replacement":
            return None
        return {
            "round": h["round"],
            "original_commitment": h["original_commitment"],
            "previous_commitment": h["previous_commitment"],
        }


def _bad(n: int, what: str) -> InputError:
    return InputError(f"the public lottery is not in the canonical format: line {n}: {what}")


def _strs(xs) -> bool:
    return all(isinstance(x, str) for x in xs)


def _ints(xs) -> bool:
    return all(isinstance(x, int) and not isinstance(x, bool) for x in xs)


# The public text's lines after the header and the audit line: each tag, and the shape its line must have.
_LINE_SHAPES = {
    "quota": lambda r: len(r) == 6 and _strs(r[1:3]) and _ints(r[3:6]),
    "relaxed": lambda r: len(r) == 7 and _strs(r[1:3]) and _ints(r[3:7]),
    "withheld": lambda r: len(r) == 3 and _strs(r[1:3]),
    "person": lambda r: len(r) == 4 and _strs(r[1:4]),
    "dropout": lambda r: len(r) == 2 and _strs(r[1:2]),
    "excluded": lambda r: len(r) == 2 and _strs(r[1:2]),
    "panel": lambda r: len(r) >= 2 and isinstance(r[1], str) and _ints(r[2:]),
}


def parse_public(data: bytes) -> PublicLottery:
    """Read the public text back (raises ``InputError`` on anything but the exact canonical text)."""
    rows = []
    for n, line in enumerate(canonical_lines(data, "the public lottery"), start=1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise _bad(n, f"not JSON ({e.msg})") from None
    head = _public_header(rows)
    found: dict[str, list[list]] = {tag: [] for tag in _LINE_SHAPES}
    for n, r in enumerate(rows[2:], start=3):
        if not isinstance(r, list) or not r or not isinstance(r[0], str):
            raise _bad(n, "expected a list starting with a tag")
        tag = r[0]
        fits = _LINE_SHAPES.get(tag)
        if fits is None or not fits(r):
            raise _bad(n, f"unknown line {tag!r}")
        if tag == "panel" and len(r) - 2 != len(found["quota"]):
            raise _bad(n, f"a panel needs one count per published quota ({len(found['quota'])})")
        found[tag].append(r)
    quotas = [PublicQuota(*r[1:6]) for r in found["quota"]]
    relax = [QuotaChangeRecord(*r[1:7]) for r in found["relaxed"]]
    withheld = [(r[1], r[2]) for r in found["withheld"]]
    people = [(r[1], r[2], r[3]) for r in found["person"]]
    drop = [r[1] for r in found["dropout"]]
    excl = [r[1] for r in found["excluded"]]
    panels = [(r[1], list(r[2:])) for r in found["panel"]]
    if len(panels) != head["m"]:
        raise InputError(f"the public lottery announces {head['m']} panels but lists {len(panels)}")
    if len(people) != head["pool_size"]:
        raise InputError(f"the public lottery announces {head['pool_size']} people but lists {len(people)}")
    if len({p[0] for p in people}) != len(people):
        raise InputError("the public lottery lists a bundle id twice")
    _check_sorted_once(
        (
            ("quota", [(q.feature, q.value) for q in quotas]),
            ("withheld", withheld),
            ("person", [p[0] for p in people]),
            ("dropout", drop),
            ("excluded", excl),
            ("relaxed", [(c.feature, c.value) for c in relax]),
        )
    )
    pl = PublicLottery(head, rows[1][1], rows[1][2], quotas, relax, withheld, people, drop, excl, panels, bytes(data))
    if _write_public(pl) != bytes(data):
        raise InputError("the public lottery is not in the canonical format (re-writing it changes its bytes)")
    return pl


def _check_sorted_once(lists) -> None:
    """Each kind of line is sorted and lists nothing twice (so the text has one canonical form)."""
    for what, seq in lists:
        if list(seq) != sorted(seq) or len(set(seq)) != len(seq):
            raise InputError(f"the public lottery's {what} lines are not sorted, or list something twice")


def _public_header(rows: list) -> dict:
    """The public text's header line (every key of its kind, with its type) and its audit line."""
    head = rows[0]
    if not isinstance(head, dict) or head.get("format") != PUBLIC_FORMAT:
        raise InputError(f"the public lottery does not start with a {PUBLIC_FORMAT} header")
    needed = {**HEADER_TYPES, "pool_size": int}
    if head.get("kind") == "replacement":
        needed.update(original_commitment=str, previous_commitment=str, round=int)
    for key, typ in needed.items():
        if not isinstance(head.get(key), typ) or (typ is int and isinstance(head.get(key), bool)):
            raise _bad(1, f"the header needs {key!r}")
    if head["kind"] not in ("draw", "replacement"):
        raise _bad(1, f"unknown kind {head['kind']!r}")
    if len(rows) < 2 or not (
        isinstance(rows[1], list)
        and len(rows[1]) == 3
        and rows[1][0] == "audit"
        and all(isinstance(x, str) for x in rows[1][1:])
    ):
        raise _bad(2, "the second line must be the audit line")
    return head


def _write_public(pl: PublicLottery) -> bytes:
    lines = [canonical_json(pl.header), canonical_json(["audit", pl.audit_hash, pl.salts_hash])]
    lines += [canonical_json(["quota", q.feature, q.value, q.min, q.max, q.pool]) for q in pl.quotas]
    lines += [
        canonical_json(["relaxed", c.feature, c.value, c.old_min, c.old_max, c.new_min, c.new_max])
        for c in pl.relaxation
    ]
    lines += [canonical_json(["withheld", f, v]) for f, v in pl.withheld]
    lines += [canonical_json(["person", *p]) for p in pl.people]
    lines += [canonical_json(["dropout", d]) for d in pl.dropouts]
    lines += [canonical_json(["excluded", e]) for e in pl.excluded]
    lines += [canonical_json(["panel", h, *c]) for h, c in pl.panels]
    return "".join(line + "\n" for line in lines).encode("utf-8")


def group_chances(pl: PublicLottery) -> list[tuple[PublicQuota, int, str, str]]:
    """Per published group: (quota, seats over all panels, average seats, average chance), exact decimals."""
    from lib.sortition.audit.formats import format_fraction

    out = []
    for i, q in enumerate(pl.quotas):
        seats = sum(c[i] for _h, c in pl.panels)
        out.append(
            (q, seats, format_fraction(seats, pl.M, 6), format_fraction(seats, pl.M * q.pool, 6) if q.pool else "")
        )
    return out


def recover_answers(
    pl: PublicLottery, bid: str, salt: str, values: Mapping[str, Sequence[str]], limit: int = 2_000_000
) -> dict | None:
    """The answers committed for ``bid`` (tried against every combination of ``values``), or None."""
    target = next((a for b, _r, a in pl.people if b == bid), None)
    if target is None:
        return None
    feats = sorted(values)
    total = 1
    for f in feats:
        total *= max(1, len(values[f]))
    if total > limit:
        return None

    def walk(i: int, chosen: dict):
        if i == len(feats):
            return dict(chosen) if answers_hash(bid, salt, chosen) == target else None
        for v in values[feats[i]]:
            chosen[feats[i]] = v
            found = walk(i + 1, chosen)
            if found is not None:
                return found
        chosen.pop(feats[i], None)
        return None

    return walk(0, {})


__all__ = [
    "PUBLIC_FORMAT",
    "SMALL",
    "PublicLottery",
    "PublicQuota",
    "answers_hash",
    "audit_lottery",
    "bundle_id",
    "check_bundle_ids",
    "group_chances",
    "ids_hash",
    "new_secret",
    "parse_public",
    "parse_receipt",
    "parse_salts",
    "public_bytes",
    "public_text",
    "published_groups",
    "receipt_code",
    "receipt_hash",
    "recover_answers",
    "salts_bytes",
]
