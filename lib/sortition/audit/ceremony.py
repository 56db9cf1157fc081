"""The public draw ceremony: freeze, commit, then let a public random number choose.

The ceremony has three steps, in this order:

1. **Freeze.** The pseudonymised pool, the quotas, the panel size, the algorithm and
   the list of M panels (the *lottery*, e.g. from ``rounding.round_to_uniform``) are
   written in one canonical text (``FrozenLottery.canonical_bytes``).
2. **Commit.** ``commitment = sha256(canonical bytes)``, as 64 lowercase hex digits,
   is published *before* the random number exists (on the website, read out at the
   meeting, ...). From then on nobody can change the pool, the quotas or the lottery
   without the commitment changing.
3. **Draw.** A public random number that nobody could know in advance (lottery balls
   drawn in the room, a national lottery result, dice) is typed in. ``select_index``
   turns (commitment, number) into one index in [0, M) by SHA-256; the panel at that
   index is the panel. The listed panels name people, not counts of a type (the
   rounding expands types into members before the commitment), so nothing else is
   left to choose; ``rank_by_hash`` orders people wherever an order is still needed
   (the reserve list, ``Draw.reserve_ids``).

Also here (all standard library; the panel rule itself is ``model.PanelChecker``),
``HashStream`` (SHA-256 ``randrange`` for the legacy lottery), ``replacement_instance``
(the reserve pool and adjusted quotas of a replacement round) and
``match_replacements`` (who takes whose seat).

Everything here is a documented SHA-256 function of public inputs; no library random
number generator is used anywhere in this path. The exact byte formats are specified
in ``docs/VERIFYING.md`` and fixed by golden-value tests.

Pure Python, standard library plus ``model.py`` only (no optimiser imports), so the
verifier and the app can use it without HiGHS.

Canonical serialisation, format ``kleroterion-lottery-v1``
-----------------------------------------------------------
UTF-8, one JSON value per line, every line ended by LF (``\\n``), no other whitespace.
JSON is written compactly (separators ``,`` and ``:``, no spaces), object keys sorted,
strings escaped only where JSON requires it: ``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``
and other characters below U+0020 as ``\\u00xx`` (lowercase hex); every other character,
non-ASCII included, is written as itself in UTF-8. Integers in decimal, no floats.
"Sorted" always means by Unicode code point (the same as sorting the UTF-8 bytes).
Ids, features and values are written exactly as given (no trimming, no case change).

Lines, in this order:

- header: ``{"algorithm":..,"created":..,"engine_version":..,"format":"kleroterion-lottery-v1",
  "kind":"draw","m":M,"one_per_household":false,"panel_size":k}``; a replacement draw
  also has ``"original_commitment"``, ``"previous_commitment"`` and ``"round"``;
- one line per quota, sorted by (feature, value): ``["quota",feature,value,min,max]``;
- one line per person, sorted by id:
  ``["person",id,household,[[feature,value],...]]`` with household ``""`` when none and
  the features sorted by feature name (only features that carry a quota);
- one line per relaxed quota, sorted by (feature, value):
  ``["relaxed",feature,value,old_min,old_max,new_min,new_max]``;
- one line per person with a target probability, sorted by id: ``["target",id,"0.123456789012"]``
  (the exact probability the algorithm aimed for, as a decimal string);
- replacement draws only: ``["dropout",id]`` lines sorted by id, then ``["excluded",id]``;
- one line per panel, in the listed order: ``["panel",id,id,...]`` with the ids sorted.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from lib.sortition.audit.model import Instance, InputError, Panel, PanelChecker, Person, Quota

ENGINE_VERSION = "1.1"
"""Version of the draw engine's public formats; part of every commitment. 1.1 (issue 15): only the letters
and digits of the public number count (``normalise_public_number``); 1.0 lotteries keep their rule."""

LOTTERY_FORMAT = "kleroterion-lottery-v1"
PRIVATE_FORMAT = "kleroterion-lottery-v2"
"""The organisers' stored text of a lottery whose commitment is public (``lib/sortition/audit/public.py``):
the v1 lines with door pseudonyms, plus a ``secret`` in the header from which the bundle ids and
salts derive. It never leaves the organisers' database; the commitment is the SHA-256 of its
public text (``public.public_bytes``), not of this text."""
DRAW_DOMAIN = b"kleroterion-draw-v1\n"
RANK_FORMAT = "sha256(seed + LF + id)"
KINDS = ("draw", "replacement")

_HEX64 = re.compile(r"[0-9a-f]{64}")


# --- canonical JSON ------------------------------------------------------------------


def canonical_json(value) -> str:
    """Compact JSON with sorted keys and only the escapes JSON requires (see module doc)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def format_probability(p: float) -> str:
    """A probability as the fixed decimal string used in commitments: 12 decimals."""
    if not (p == p) or p < -1e-9 or p > 1 + 1e-9:
        raise InputError(f"a probability must lie between 0 and 1, not {p!r}")
    return f"{min(1.0, max(0.0, float(p))):.12f}"


# --- the public random number ------------------------------------------------------------

NUMBER_RULES = {"1.0": "spaces", "1.1": "letters-and-digits"}
"""Which rule turns the typed public number into the text that enters the hash, by the engine version
written in the committed header (so the rule is fixed before the number exists): 1.0 kept punctuation and
one space between groups; from 1.1 only the letters and digits count."""


def normalise_public_number(text: str, *, engine_version: str = ENGINE_VERSION) -> str:
    """The public number as it enters the hash, under the rule of the lottery's engine version.

    Engine 1.1 (every lottery committed since issue 15), exactly::

        "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c
                for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum())

    i.e. Unicode NFKC normalisation (full-width digits become ordinary digits, and so on),
    lower case, then only letters and digits are kept (Python's ``str.isalnum``), every decimal
    digit of any script written as its ASCII digit ("١٢" is "12"): spaces,
    commas, dots, dashes, slashes and every other sign people put between the groups of a
    number when they read it out do not count; every digit does, leading zeros included.
    So ``"17 23 05 41 38 09"``, ``"172305413809"``, ``"17-23-05-41-38-09"`` and
    ``"１７ ２３ ０５ ４１ ３８ ０９"`` are the same number (``"172305413809"``), ``"AB12"``
    and ``"ab 12"`` too, but ``"17 23 5 41 38 9"`` is a different one.

    Engine 1.0 (lotteries committed before), exactly::

        " ".join(unicodedata.normalize("NFKC", text).lower().split())

    whitespace at both ends removed and each run inside replaced by one space; punctuation kept.
    """
    if not isinstance(text, str):
        raise InputError("the public random number must be text")
    rule = NUMBER_RULES.get(str(engine_version))
    if rule is None:
        raise InputError(
            f"this lottery was made by engine version {engine_version!r}, which this program does not "
            f"know (it knows {', '.join(NUMBER_RULES)}): use a newer version of Kleroterion to check it"
        )
    folded = unicodedata.normalize("NFKC", text).lower()
    if rule == "spaces":
        s = " ".join(folded.split())
    else:
        s = number_key(folded)
    if not s:
        if folded.strip():
            raise InputError(
                "the public random number has no digits or letters: type the number that was drawn in public"
            )
        raise InputError("the public random number is empty: type the number that was drawn in public")
    return s


def number_key(text: str) -> str:
    """What makes two public numbers "the same number" for the rule that a number is used once: its letters and
    digits (the 1.1 rule), whatever rule each lottery used, so that "12 07 33" once used cannot come back as
    "120733". Returns "" for text with no letters or digits."""
    return "".join(
        str(unicodedata.decimal(c)) if c.isdecimal() else c
        for c in unicodedata.normalize("NFKC", str(text)).lower()
        if c.isalnum()
    )


def draw_hash(commitment_hex: str, public_number: str, *, engine_version: str = ENGINE_VERSION) -> bytes:
    """``sha256(b"kleroterion-draw-v1\\n" + commitment + b"\\n" + normalised number)`` (32 bytes).

    ``commitment`` is the 64 lowercase hex digits as ASCII, the number is UTF-8, normalised under the
    rule of ``engine_version`` (``normalise_public_number``).
    """
    c = check_commitment(commitment_hex)
    number = normalise_public_number(public_number, engine_version=engine_version)
    return hashlib.sha256(DRAW_DOMAIN + c.encode("ascii") + b"\n" + number.encode("utf-8")).digest()


def check_commitment(commitment_hex: str) -> str:
    """The commitment as 64 lowercase hex digits. Accepts it as people copy it from the app or a poster:
    grouped by spaces (any whitespace, line breaks included) and in upper or lower case."""
    c = "".join(unicodedata.normalize("NFKC", str(commitment_hex)).split()).lower()
    if not _HEX64.fullmatch(c):
        raise InputError(
            f"a commitment is 64 hexadecimal digits (0-9 and a-f; spaces between groups do not "
            f"matter), not {commitment_hex!r}"
        )
    return c


def index_from_hash(h: bytes, M: int, *, nbytes: int = 32) -> int:
    """Map the draw hash to [0, M) without modulo bias, by rejection sampling.

    For counter i = 0, 1, 2, ...: ``block_i = sha256(h + i as 8-byte big-endian)``,
    ``x_i`` = the first ``nbytes`` bytes of ``block_i`` read as a big-endian unsigned
    integer (so 0 <= x_i < 2^(8 nbytes)). Let ``limit = 2^(8 nbytes) - (2^(8 nbytes) mod M)``,
    the largest multiple of M that fits. The first ``x_i < limit`` gives the index
    ``x_i mod M``; larger values are rejected and the counter moves on. Every index is
    then exactly equally likely. With the standard ``nbytes = 32`` a rejection happens
    with probability below M / 2^256, i.e. never in practice; smaller ``nbytes`` exist
    only so the tests can exercise the rejection branch.
    """
    if not isinstance(M, int) or M < 1:
        raise InputError(f"the number of panels must be a whole number of at least 1, not {M!r}")
    space = 1 << (8 * nbytes)
    if M > space:
        raise InputError(f"cannot choose among {M} panels with {nbytes}-byte numbers")
    limit = space - (space % M)
    i = 0
    while True:
        block = hashlib.sha256(h + i.to_bytes(8, "big")).digest()
        x = int.from_bytes(block[:nbytes], "big")
        if x < limit:
            return x % M
        i += 1


def select_index(commitment_hex: str, public_number: str, M: int, *, engine_version: str = ENGINE_VERSION) -> int:
    """Which of the M committed panels the public number chooses (see ``draw_hash``, ``index_from_hash``)."""
    return index_from_hash(draw_hash(commitment_hex, public_number, engine_version=engine_version), M)


def rank_by_hash(ids: Iterable[str], seed_text: str) -> list[str]:
    """``ids`` sorted by ``sha256(UTF-8(seed_text + "\\n" + id))`` (ties, impossible in practice, by id).

    Used wherever a count has to become names among interchangeable people, so that the
    order is fixed by public text and anybody can recompute it.
    """
    seed = str(seed_text)
    return sorted(ids, key=lambda i: (hashlib.sha256((seed + "\n" + i).encode("utf-8")).digest(), i))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the frozen lottery -----------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaChangeRecord:
    """A relaxed quota as recorded in commitments (same fields as ``feasibility.QuotaChange``)."""

    feature: str
    value: str
    old_min: int
    old_max: int
    new_min: int
    new_max: int

    @classmethod
    def of(cls, change) -> "QuotaChangeRecord":
        return cls(
            str(change.feature),
            str(change.value),
            int(change.old_min),
            int(change.old_max),
            int(change.new_min),
            int(change.new_max),
        )

    def describe(self) -> str:
        parts = []
        if self.new_min != self.old_min:
            parts.append(f"minimum for {self.feature} = {self.value} lowered from {self.old_min} to {self.new_min}")
        if self.new_max != self.old_max:
            parts.append(f"maximum for {self.feature} = {self.value} raised from {self.old_max} to {self.new_max}")
        return " and ".join(parts) or f"{self.feature} = {self.value} unchanged"


@dataclass(frozen=True)
class ReplacementContext:
    """What a replacement draw refers to: the draw it continues and who dropped out."""

    round: int  # 1 for the first replacement round after the original draw
    original_commitment: str  # the commitment of the original draw
    previous_commitment: str  # the draw this one continues (the original, or the previous round)
    dropouts: tuple[str, ...]  # panel members being replaced, sorted
    excluded: tuple[str, ...] = ()  # people kept out of the reserve pool this round (e.g. withdrew), sorted


def public_pool(instance: Instance, *, pseudonymise_households: bool = True) -> Instance:
    """The pool as it is published and committed.

    - only the features that carry a quota are kept (other columns do not affect the
      draw and are not published); a missing value becomes ``""``;
    - people sorted by id, quotas sorted by (feature, value);
    - households: dropped unless ``one_per_household``; otherwise, with
      ``pseudonymise_households``, households with two or more people in the pool are
      renamed ``H1``, ``H2``, ... in the order of their first member's id, and
      households of one person are dropped (they constrain nothing).
    """
    feats = sorted(set(instance.features()))
    people = sorted(instance.people, key=lambda p: p.id)
    names: dict[str, str] = {}
    if instance.one_per_household:
        if pseudonymise_households:
            sizes: dict[str, int] = {}
            for p in people:
                if p.household:
                    sizes[p.household] = sizes.get(p.household, 0) + 1
            for p in people:
                if p.household and sizes[p.household] > 1 and p.household not in names:
                    names[p.household] = f"H{len(names) + 1}"
        else:
            names = {p.household: p.household for p in people if p.household}
    out = [
        Person(p.id, {f: str(p.features.get(f, "") or "") for f in feats}, names.get(p.household or "", None))
        for p in people
    ]
    quotas = sorted(instance.quotas, key=lambda q: (q.feature, q.value))
    return Instance(
        people=out,
        quotas=list(quotas),
        panel_size=instance.panel_size,
        name=instance.name,
        one_per_household=instance.one_per_household,
    )


@dataclass
class FrozenLottery:
    """Everything the commitment covers. Build it with ``freeze``; do not mutate it."""

    instance: Instance  # the public pool (see ``public_pool``)
    panels: list[Panel]  # the M panels, each a sorted tuple of ids
    algorithm: str
    created: str  # when the lottery was frozen, e.g. "2025-03-01T18:30:00Z"
    engine_version: str = ENGINE_VERSION
    targets: dict[str, str] | None = None  # id -> exact probability aimed for (12-decimal string)
    relaxation: list[QuotaChangeRecord] = field(default_factory=list)
    context: ReplacementContext | None = None
    secret: str | None = None  # v2: 64 hex digits; bundle ids and salts derive from it (public.py)
    _bytes: bytes | None = field(default=None, init=False, repr=False, compare=False)
    _public: object = field(default=None, init=False, repr=False, compare=False)

    @property
    def M(self) -> int:
        return len(self.panels)

    @property
    def kind(self) -> str:
        return "replacement" if self.context else "draw"

    def header(self) -> dict:
        inst = self.instance
        h = {
            "algorithm": self.algorithm,
            "created": self.created,
            "engine_version": self.engine_version,
            "format": LOTTERY_FORMAT,
            "kind": self.kind,
            "m": self.M,
            "one_per_household": bool(inst.one_per_household),
            "panel_size": inst.panel_size,
        }
        if self.secret:
            h["format"] = PRIVATE_FORMAT
            h["secret"] = self.secret
        if self.context:
            h["original_commitment"] = self.context.original_commitment
            h["previous_commitment"] = self.context.previous_commitment
            h["round"] = self.context.round
        return h

    def lines(self) -> Iterable[str]:
        inst = self.instance
        yield canonical_json(self.header())
        for q in sorted(inst.quotas, key=lambda q: (q.feature, q.value)):
            yield canonical_json(["quota", q.feature, q.value, q.min, q.max])
        for p in sorted(inst.people, key=lambda p: p.id):
            feats = [[f, p.features[f]] for f in sorted(p.features)]
            yield canonical_json(["person", p.id, p.household or "", feats])
        for c in sorted(self.relaxation, key=lambda c: (c.feature, c.value)):
            yield canonical_json(["relaxed", c.feature, c.value, c.old_min, c.old_max, c.new_min, c.new_max])
        targets = self.targets or {}
        for pid in sorted(targets):
            yield canonical_json(["target", pid, targets[pid]])
        if self.context:
            for pid in sorted(self.context.dropouts):
                yield canonical_json(["dropout", pid])
            for pid in sorted(self.context.excluded):
                yield canonical_json(["excluded", pid])
        for panel in self.panels:
            yield canonical_json(["panel", *sorted(panel)])

    def canonical_bytes(self) -> bytes:
        if self._bytes is None:
            self._bytes = "".join(line + "\n" for line in self.lines()).encode("utf-8")
        return self._bytes

    @property
    def commitment(self) -> str:
        """v1: SHA-256 of the canonical text. v2 (with a secret): SHA-256 of the public text, which
        names nobody (``public.public_bytes``), so that anybody can recompute it."""
        if self.secret:
            from lib.sortition.audit.public import public_bytes

            return sha256_hex(public_bytes(self))
        return sha256_hex(self.canonical_bytes())

    def draw(self, public_number: str) -> "Draw":
        """Step 3: the public number chooses one of the committed panels."""
        number = normalise_public_number(public_number, engine_version=self.engine_version)
        h = draw_hash(self.commitment, number, engine_version=self.engine_version)
        idx = index_from_hash(h, self.M)
        return Draw(self, number, h.hex(), idx)

    @classmethod
    def from_canonical(cls, data: bytes) -> "FrozenLottery":
        """Read back the canonical text (e.g. stored between the commitment and the draw)."""
        return parse_canonical(data)


@dataclass
class Draw:
    lottery: FrozenLottery
    public_number: str  # normalised
    draw_hash: str  # hex of draw_hash(commitment, public number)
    index: int

    @property
    def panel(self) -> Panel:
        return tuple(sorted(self.lottery.panels[self.index]))

    @property
    def commitment(self) -> str:
        return self.lottery.commitment

    @property
    def reserve_ids(self) -> list[str]:
        """Everybody in the pool who was not chosen, in the order ``rank_by_hash(ids, draw hash)``.

        A published, reproducible order for a reserve list (the replacement ceremony
        itself draws replacements by a new lottery, not from this order).
        """
        chosen = set(self.panel)
        return rank_by_hash([p.id for p in self.lottery.instance.people if p.id not in chosen], self.draw_hash)


def freeze(
    instance: Instance,
    panels: Sequence[Sequence[str]],
    *,
    algorithm: str,
    created: str,
    targets: Mapping[str, float] | None = None,
    relaxation: Iterable = (),
    context: ReplacementContext | None = None,
    pseudonymise_households: bool = True,
    check_panels: bool = True,
    secret: str | None = None,
    engine_version: str = ENGINE_VERSION,
) -> FrozenLottery:
    """Steps 1 and 2: freeze the inputs and the lottery; ``.commitment`` is what to publish.

    ``instance`` is the instance the lottery was computed for (quotas already relaxed,
    if they were); ``relaxation`` the ``QuotaChange`` list that was applied, if any.
    Raises ``InputError`` when a panel is not valid for the instance.

    ``secret`` (64 hex digits, e.g. ``public.new_secret()``): freeze in the v2 form, whose commitment
    is the SHA-256 of a public text that names nobody (``lib/sortition/audit/public.py``); the same secret
    for a replacement round as for its original draw keeps everybody's bundle id and receipt.
    """
    if secret is not None:
        secret = check_commitment(secret)
    if not panels:
        raise InputError("the lottery is empty: it needs at least one panel")
    if not algorithm or not isinstance(algorithm, str):
        raise InputError("the algorithm needs a name")
    pub = public_pool(instance, pseudonymise_households=pseudonymise_households)
    plist = [tuple(sorted(str(i) for i in p)) for p in panels]
    if check_panels:
        seen: set[Panel] = set()
        checker = PanelChecker(pub)
        for n, p in enumerate(plist):
            if p in seen:
                continue
            problems = checker.problems(p)
            if problems:
                raise InputError(f"panel {n} of the lottery is not valid: " + "; ".join(problems))
            seen.add(p)
    tg = None
    if targets is not None:
        known = set(pub.ids)
        tg = {str(k): format_probability(v) for k, v in targets.items() if str(k) in known}
    ctx = None
    if context is not None:
        ctx = ReplacementContext(
            int(context.round),
            check_commitment(context.original_commitment),
            check_commitment(context.previous_commitment),
            tuple(sorted(context.dropouts)),
            tuple(sorted(context.excluded)),
        )
    fl = FrozenLottery(
        pub,
        plist,
        algorithm,
        str(created),
        engine_version,
        tg,
        [QuotaChangeRecord.of(c) for c in relaxation],
        ctx,
        secret,
    )
    if secret is not None:
        from lib.sortition.audit.public import check_bundle_ids

        check_bundle_ids(fl)
    return fl


def _bad(lineno: int, what: str) -> InputError:
    return InputError(f"the frozen lottery is not in the canonical format: line {lineno}: {what}")


def _strs(lineno: int, values, n: int | None = None) -> list[str]:
    if (
        not isinstance(values, list)
        or (n is not None and len(values) != n)
        or not all(isinstance(v, str) for v in values)
    ):
        raise _bad(lineno, "unexpected fields")
    return values


def _ints(lineno: int, values) -> list[int]:
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise _bad(lineno, "expected whole numbers")
    return list(values)


def canonical_lines(data: bytes, what: str) -> list[str]:
    """The lines of a canonical text file (UTF-8, ending with a line break), without the last break;
    ``InputError`` naming ``what`` otherwise."""
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{what} is not UTF-8 text (byte {e.start})") from None
    if not text.endswith("\n"):
        raise InputError(f"{what} must end with a line break")
    return text[:-1].split("\n")


def parse_canonical(data: bytes) -> FrozenLottery:
    """Inverse of ``FrozenLottery.canonical_bytes`` (raises ``InputError`` on anything else)."""
    lines = canonical_lines(data, "the frozen lottery")
    rows = []
    for n, line in enumerate(lines, start=1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise _bad(n, f"not JSON ({e.msg})") from None
    head = _frozen_header(rows[0])
    quotas, people, relax, targets, drop, excl, panels = _frozen_lines(rows)
    ids = [p.id for p in people]
    if len(set(ids)) != len(ids):
        raise InputError("the frozen lottery lists somebody twice in the pool")
    if len({(q.feature, q.value) for q in quotas}) != len(quotas):
        raise InputError("the frozen lottery lists a quota twice")
    if head["m"] < 1 or head["panel_size"] < 1:
        raise InputError("the frozen lottery needs at least one panel of at least one person")
    if len(panels) != head["m"]:
        raise InputError(f"the frozen lottery announces {head['m']} panels but lists {len(panels)}")
    inst = Instance(
        people=people, quotas=quotas, panel_size=head["panel_size"], one_per_household=head["one_per_household"]
    )
    ctx = None
    if head["kind"] == "replacement":
        ctx = ReplacementContext(
            head["round"], head["original_commitment"], head["previous_commitment"], tuple(drop), tuple(excl)
        )
    elif drop or excl:
        raise InputError("the frozen lottery of a draw lists dropouts: only replacement draws may")
    fl = FrozenLottery(
        inst,
        panels,
        head["algorithm"],
        head["created"],
        head["engine_version"],
        targets or None,
        relax,
        ctx,
        head.get("secret"),
    )
    if fl.canonical_bytes() != bytes(data):
        raise InputError("the frozen lottery is not in the canonical format (re-writing it changes its bytes)")
    return fl


# The keys every lottery header has (frozen and public), with their types.
HEADER_TYPES: dict[str, type] = {
    "algorithm": str,
    "created": str,
    "engine_version": str,
    "kind": str,
    "m": int,
    "one_per_household": bool,
    "panel_size": int,
}


def _frozen_header(head) -> dict:
    """The frozen lottery's first line: its format, and every key of its kind with its type."""
    if not isinstance(head, dict) or head.get("format") not in (LOTTERY_FORMAT, PRIVATE_FORMAT):
        raise InputError(f"the frozen lottery does not start with a {LOTTERY_FORMAT} header")
    needed = dict(HEADER_TYPES)
    if head["format"] == PRIVATE_FORMAT:
        needed["secret"] = str
    if head.get("kind") == "replacement":
        needed.update(original_commitment=str, previous_commitment=str, round=int)
    for key, typ in needed.items():
        if not isinstance(head.get(key), typ) or (typ is int and isinstance(head.get(key), bool)):
            raise _bad(1, f"the header needs {key!r}")
    if head["kind"] not in KINDS:
        raise _bad(1, f"unknown kind {head['kind']!r}")
    return head


def _frozen_lines(rows: list):
    """The lines after the header, each read by its tag: (quotas, people, relaxed quotas, targets,
    dropouts, excluded, panels)."""
    quotas: list[Quota] = []
    people: list[Person] = []
    relax: list[QuotaChangeRecord] = []
    targets: dict[str, str] = {}
    drop: list[str] = []
    excl: list[str] = []
    panels: list[tuple[str, ...]] = []
    for n, r in enumerate(rows[1:], start=2):
        if not isinstance(r, list) or not r or not isinstance(r[0], str):
            raise _bad(n, "expected a list starting with a tag")
        tag = r[0]
        if tag == "quota" and len(r) == 5:
            f, v = _strs(n, r[1:3])
            quotas.append(Quota(f, v, *_ints(n, r[3:5])))
        elif tag == "person" and len(r) == 4:
            people.append(_person_line(n, r))
        elif tag == "relaxed" and len(r) == 7:
            f, v = _strs(n, r[1:3])
            relax.append(QuotaChangeRecord(f, v, *_ints(n, r[3:7])))
        elif tag == "target" and len(r) == 3:
            pid, p = _strs(n, r[1:3])
            targets[pid] = p
        elif tag == "dropout" and len(r) == 2:
            drop.append(_strs(n, r[1:2])[0])
        elif tag == "excluded" and len(r) == 2:
            excl.append(_strs(n, r[1:2])[0])
        elif tag == "panel":
            panels.append(tuple(_strs(n, r[1:])))
        else:
            raise _bad(n, f"unknown line {tag!r}")
    return quotas, people, relax, targets, drop, excl, panels


def _person_line(n: int, r: list) -> Person:
    pid, hh = _strs(n, r[1:3])
    if not isinstance(r[3], list):
        raise _bad(n, "the features must be a list")
    feats = dict(_strs(n, fv, 2) for fv in r[3])
    return Person(pid, feats, hh or None)


# --- a SHA-256 random stream (for the legacy lottery; not a library RNG) -------------------


class HashStream:
    """Deterministic random choices from SHA-256, for code that calls ``randrange``.

    Number i of the stream is ``sha256(UTF-8(seed) + LF + i as 8-byte big-endian)`` read
    as a 256-bit big-endian integer; ``randrange(n)`` takes the next number x, rejects it
    when ``x >= 2^256 - (2^256 mod n)`` and otherwise returns ``x mod n``. Used to build
    the M panels of a legacy lottery *before* the commitment, so that they too are a
    documented function of public text.
    """

    def __init__(self, seed: str):
        self.prefix = str(seed).encode("utf-8") + b"\n"
        self.counter = 0

    def _next(self) -> int:
        x = int.from_bytes(hashlib.sha256(self.prefix + self.counter.to_bytes(8, "big")).digest(), "big")
        self.counter += 1
        return x

    def randrange(self, n: int) -> int:
        if n < 1:
            raise ValueError("empty range")
        limit = (1 << 256) - ((1 << 256) % n)
        while True:
            x = self._next()
            if x < limit:
                return x % n


# --- who replaces whom (informational, recomputed by the verifier) ------------------------


def match_replacements(
    instance: Instance, dropouts: Sequence[str], newcomers: Sequence[str], features: Sequence[str] | None = None
) -> list[tuple[str, str, int]]:
    """Pair each newcomer with the dropout whose seat they take: ``(new_id, replaces, shared)``.

    Greedy by similarity: repeatedly take the pair with the most shared quota-feature
    values (``shared``); ties go to the smallest (dropout id, newcomer id) by code point.
    Unpaired people (when the counts differ) appear with ``""`` on the other side.
    """
    feats = sorted(features if features is not None else {q.feature for q in instance.quotas})
    by = {p.id: p for p in instance.people}
    left_d, left_n = sorted(dropouts), sorted(newcomers)
    out: list[tuple[str, str, int]] = []
    while left_d and left_n:
        best = None
        for d in left_d:
            for n in left_n:
                shared = sum(1 for f in feats if by[d].features.get(f, "") == by[n].features.get(f, ""))
                key = (-shared, d, n)
                if best is None or key < best:
                    best = key
        assert best is not None
        out.append((best[2], best[1], -best[0]))
        left_d.remove(best[1])
        left_n.remove(best[2])
    out.extend((n, "", 0) for n in left_n)
    out.extend(("", d, 0) for d in left_d)
    return out


# --- the reserve pool of a replacement round ----------------------------------------------


def replacement_instance(
    pool: Instance,
    quotas: Sequence[Quota],
    panel: Sequence[str],
    dropouts: Sequence[str],
    excluded: Sequence[str] = (),
    ever_selected: Iterable[str] = (),
) -> tuple[Instance, list[str]]:
    """The selection problem of a replacement round, and the members who stay.

    - ``kept`` = the current ``panel`` minus the ``dropouts``;
    - the reserve pool = everybody in ``pool`` never selected so far (``ever_selected``,
      which includes the current panel and earlier dropouts), not ``excluded`` and, when
      one person per household applies, not in a household of a kept member;
    - each quota [min, max] becomes [max(0, min - c), max(0, max - c)] where c is the
      number of kept members with that value, so kept + newcomers meets the quotas;
    - the panel size is the number of dropouts.
    Raises ``InputError`` when a dropout is not on the panel, or an excluded person is.
    """
    panel_set, drop, excl = set(panel), sorted(set(dropouts)), sorted(set(excluded))
    if not drop:
        raise InputError("name at least one panel member who dropped out")
    not_on = [d for d in drop if d not in panel_set]
    if not_on:
        raise InputError(
            "these people are not on the current panel, so they cannot drop out: " + ", ".join(not_on[:10])
        )
    on = [e for e in excl if e in panel_set]
    if on:
        raise InputError(
            "these people are on the current panel; list them as dropouts, not as excluded: " + ", ".join(on[:10])
        )
    kept = sorted(panel_set - set(drop))
    ever = set(ever_selected) | panel_set
    by = {p.id: p for p in pool.people}
    unknown = [e for e in excl if e not in by]
    if unknown:
        raise InputError("these excluded people are not in the pool: " + ", ".join(unknown[:10]))
    blocked = {by[i].household for i in kept if by[i].household} if pool.one_per_household else set()
    reserve = [
        p
        for p in sorted(pool.people, key=lambda p: p.id)
        if p.id not in ever and p.id not in excl and not (p.household and p.household in blocked)
    ]
    counts = {(q.feature, q.value): 0 for q in quotas}
    feats = sorted({q.feature for q in quotas})
    for pid in kept:
        for f in feats:
            key = (f, by[pid].features.get(f, ""))
            if key in counts:
                counts[key] += 1
    adjusted = [
        Quota(
            q.feature,
            q.value,
            max(0, q.min - counts[(q.feature, q.value)]),
            max(0, q.max - counts[(q.feature, q.value)]),
        )
        for q in quotas
    ]
    inst = Instance(
        people=reserve, quotas=adjusted, panel_size=len(drop), name=pool.name, one_per_household=pool.one_per_household
    )
    return inst, kept
