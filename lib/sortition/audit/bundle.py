"""The audit bundle: one zip file that lets anybody check a draw.

Members (all UTF-8, LF line ends, CSV with a header row, comma-separated, quoted only
where needed):

- ``README.txt``: what this is and how to verify it, in plain words;
- ``manifest.json``: format, engine version, algorithm, M, panel size, created (the
  time the lottery was frozen), commitment, public number (normalised), draw hash,
  chosen panel index and the SHA-256 of every other member;
- ``frozen.jsonl``: the committed text itself (``FrozenLottery.canonical_bytes``);
  its SHA-256 is the commitment. The CSV files below are readable views of it;
- ``pool.csv``: ``id``, one column per feature that carries a quota (sorted by name),
  ``household`` (pseudonymous, only filled when one person per household applies);
- ``quotas.csv``: ``feature,value,min,max`` (the quotas the lottery was built for);
- ``lottery.csv``: ``panel,id``, panels numbered from 0, ids sorted within a panel;
- ``probabilities.csv``: ``id,appearances,probability,target_probability``; probability
  = appearances / M written with 12 decimals (rounded half up), target the probability
  the algorithm aimed for (the exact LEXIMIN probability; empty for legacy);
- ``panel.csv``: ``id``, the chosen panel;
- ``relaxation.csv`` (only when quotas were relaxed):
  ``feature,value,old_min,old_max,new_min,new_max``;
- replacement rounds also: ``dropouts.csv`` (``id``), ``excluded.csv`` (``id``),
  ``replacements.csv`` (``new_id,replaces,shared_features``) and ``previous.zip``, the
  bundle of the draw this round continues (the original draw or the previous round),
  byte for byte.

The zip itself is canonical (``verify.pack_zip``): members stored uncompressed, sorted
by name, fixed timestamps (1980-01-01 00:00), no extra fields, so the same draw always
gives the same bytes and the verifier can detect a change of any byte of the file.
Pure Python: standard library and ``model``/``ceremony``/``verify`` only.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Iterable, Sequence

from lib.sortition.audit.ceremony import ENGINE_VERSION, Draw, sha256_hex
from lib.sortition.audit.model import InputError
from lib.sortition.audit.formats import BUNDLE_FORMAT, FROZEN_NAME, format_fraction, manifest_bytes, pack_zip, read_zip

# Shared by both bundles' READMEs (the text is part of the bundle: change it only with the format).
_DRAWN_AND_HOW_TO_CHECK = """\
3. Then a random number was drawn in public:
       {public_number}
   Together with the commitment it chooses panel number {index} out of the {M}
   (counting from 0). Every panel in the list was equally likely to be chosen.

How to check it
---------------
With Python 3.10 or newer and the Kleroterion source code, run from its folder:
"""

README_TEMPLATE = (
    """\
AUDIT BUNDLE OF A CITIZENS' ASSEMBLY DRAW
=========================================

This file is part of the audit bundle of a {what}. The bundle holds everything
needed to check, without trusting the organisers' computer, that the panel was chosen
exactly as announced.

How the draw worked
-------------------
1. Before the draw, the organisers froze the pool of volunteers (pseudonymous ids and
   the answers that the quotas count), the quotas, and a list of {M} possible panels
   (the "lottery", lottery.csv). Every panel in that list meets every quota.
2. They published a fingerprint of all of this, the commitment:
       {commitment}
   Once published, nobody can change the pool, the quotas or the list of panels
   without the fingerprint changing.
"""
    + _DRAWN_AND_HOW_TO_CHECK
    + """
    python -m lib.sortition verify THIS_BUNDLE.zip

It re-computes the commitment from the files, the chosen panel from the public
number, and checks every panel, every quota and every probability. Then compare
the commitment and the public number it prints with the ones that were announced
before and at the draw: that comparison is the part only you can do.

docs/VERIFYING.md in the source code explains each check and gives the exact
hash functions, so you can also write your own checker.

Anyone can also check the heart of it by hand, with nothing but Python's hashlib:

    import hashlib
    hashlib.sha256(open("frozen.jsonl", "rb").read()).hexdigest()   # = the commitment
    d = hashlib.sha256(b"kleroterion-draw-v1\\n" + b"{commitment}\\n"
                       + {number_literal}.encode()).digest()
    x = int.from_bytes(hashlib.sha256(d + bytes(8)).digest(), "big")
    x % {M}   # = {index}, the chosen panel (see docs/VERIFYING.md for the rare exception)

Files
-----
manifest.json      summary, and a SHA-256 fingerprint of every other file
frozen.jsonl       the committed text: its SHA-256 is the commitment
pool.csv           the pool: pseudonymous id, the answers the quotas count, household
quotas.csv         feature, value, minimum, maximum
lottery.csv        the {M} possible panels (panel number, id)
probabilities.csv  each person's chance of selection (appearances / {M}), and the
                   chance the fair algorithm aimed for
panel.csv          the chosen panel
{extra}"""
)

EXTRA_RELAXED = "relaxation.csv     quotas that had to be relaxed because no panel could meet them\n"
EXTRA_REPLACEMENT = """\
dropouts.csv       panel members who dropped out and are replaced in this round
excluded.csv       people kept out of the reserve pool in this round (e.g. withdrew)
replacements.csv   which new member takes which seat (most similar dropout)
previous.zip       the bundle of the draw this round continues (verified as well)
"""


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if x is None else str(x) for x in r])
    return buf.getvalue().encode("utf-8")


def bundle_members(
    draw: Draw,
    *,
    previous: bytes | None = None,
    replacements: Sequence[tuple[str, str, int]] | None = None,
    extra_note: str = "",
) -> dict[str, bytes]:
    """All members of the bundle of ``draw`` (manifest included)."""
    fl = draw.lottery
    inst = fl.instance
    feats = sorted({f for p in inst.people for f in p.features})
    members: dict[str, bytes] = {FROZEN_NAME: fl.canonical_bytes()}
    members["pool.csv"] = csv_bytes(
        ["id", *feats, "household"],
        (
            [p.id, *(p.features.get(f, "") for f in feats), p.household or ""]
            for p in sorted(inst.people, key=lambda p: p.id)
        ),
    )
    members["quotas.csv"] = csv_bytes(
        ["feature", "value", "min", "max"],
        ([q.feature, q.value, q.min, q.max] for q in sorted(inst.quotas, key=lambda q: (q.feature, q.value))),
    )
    members["lottery.csv"] = csv_bytes(
        ["panel", "id"], ([n, pid] for n, panel in enumerate(fl.panels) for pid in sorted(panel))
    )
    counts = dict.fromkeys(inst.ids, 0)
    for panel in fl.panels:
        for pid in panel:
            counts[pid] += 1
    targets = fl.targets or {}
    members["probabilities.csv"] = csv_bytes(
        ["id", "appearances", "probability", "target_probability"],
        ([pid, counts[pid], format_fraction(counts[pid], fl.M), targets.get(pid, "")] for pid in sorted(counts)),
    )
    members["panel.csv"] = csv_bytes(["id"], ([pid] for pid in draw.panel))
    extra = ""
    if fl.relaxation:
        members["relaxation.csv"] = csv_bytes(
            ["feature", "value", "old_min", "old_max", "new_min", "new_max"],
            (
                [c.feature, c.value, c.old_min, c.old_max, c.new_min, c.new_max]
                for c in sorted(fl.relaxation, key=lambda c: (c.feature, c.value))
            ),
        )
        extra += EXTRA_RELAXED
    if fl.context is not None:
        if previous is None:
            raise InputError("a replacement bundle needs the bundle of the draw it continues")
        if replacements is None:
            raise InputError("a replacement bundle needs the list of who replaces whom")
        members["dropouts.csv"] = csv_bytes(["id"], ([pid] for pid in sorted(fl.context.dropouts)))
        members["excluded.csv"] = csv_bytes(["id"], ([pid] for pid in sorted(fl.context.excluded)))
        members["replacements.csv"] = csv_bytes(
            ["new_id", "replaces", "shared_features"], sorted(replacements, key=lambda r: (r[0] == "", r[0], r[1]))
        )
        members["previous.zip"] = bytes(previous)
        extra += EXTRA_REPLACEMENT
    if fl.context is not None:
        what = (
            f"replacement draw (round {fl.context.round}) that refills seats of the panel chosen in the draw "
            f"with commitment {fl.context.original_commitment}"
        )
    else:
        what = f"draw ({fl.algorithm})"
    readme = README_TEMPLATE.format(
        what=what,
        M=fl.M,
        commitment=fl.commitment,
        public_number=draw.public_number,
        number_literal=repr(draw.public_number),
        index=draw.index,
        extra=extra,
    )
    if fl.algorithm == "legacy":
        readme += (
            "\nNOTE: this draw used the LEGACY greedy algorithm, for comparison only: the list holds\n"
            f"{fl.M} panels drawn one by one by the old quota-filling method (driven by SHA-256, see\n"
            "docs/VERIFYING.md). It is less fair than the LEXIMIN lottery: some people's chances\n"
            "are much smaller than others'.\n"
        )
    if extra_note:
        readme += "\n" + extra_note.rstrip("\n") + "\n"
    members["README.txt"] = readme.encode("utf-8")
    manifest = {
        "format": BUNDLE_FORMAT,
        "kind": fl.kind,
        "engine_version": fl.engine_version,
        "algorithm": fl.algorithm,
        "m": fl.M,
        "panel_size": inst.panel_size,
        "one_per_household": bool(inst.one_per_household),
        "created": fl.created,
        "commitment": fl.commitment,
        "public_number": draw.public_number,
        "draw_hash": draw.draw_hash,
        "panel_index": draw.index,
        "files": {name: sha256_hex(data) for name, data in sorted(members.items())},
    }
    if fl.context is not None:
        manifest["round"] = fl.context.round
        manifest["original_commitment"] = fl.context.original_commitment
        manifest["previous_commitment"] = fl.context.previous_commitment
    members["manifest.json"] = manifest_bytes(manifest)
    return members


def bundle_bytes(draw: Draw, **kw) -> bytes:
    """The bundle anybody may download, as the bytes of one canonical zip file.

    A v2 lottery (frozen with a secret) gives the **public bundle** (``public_members``): no answers,
    no door pseudonyms. A v1 lottery gives the old complete bundle (its commitment covers everybody's
    answers, so nothing less can be checked): do not publish it; see ``audit_bundle_bytes``.
    """
    if draw.lottery.secret:
        return pack_zip(public_members(draw, **kw))
    return pack_zip(bundle_members(draw, **kw))


def audit_bundle_bytes(draw: Draw, **kw) -> bytes:
    """The **auditors' bundle** (complete: every answer per bundle id), for the named auditors only.

    For a v1 lottery this is the old complete bundle. ``previous`` is the auditors' bundle of the
    draw a replacement round continues."""
    if draw.lottery.secret:
        return pack_zip(audit_members(draw, **kw))
    return pack_zip(bundle_members(draw, **kw))


# --- v2: the public bundle and the auditors' bundle --------------------------------------------

BUNDLE_FORMAT_V2 = "kleroterion-bundle-v2"

PUBLIC_README = (
    """\
{title}
{underline}

This is the {which} of a {what}. {who}

How the draw worked
-------------------
1. Before the draw, the organisers froze the pool of volunteers, the quotas and a list of
   {M} possible panels (the "lottery"). Every panel in that list meets every quota.
2. They published a fingerprint of all of this, the commitment:
       {commitment}
   It is the SHA-256 of frozen.jsonl, a text that names nobody: each person appears only
   under a random bundle id with two fingerprints (of their receipt and of their answers),
   and each panel only with a fingerprint of its members and how many seats each large
   group holds in it. Once published, nobody can change the pool, the answers, the quotas
   or the list of panels without the fingerprint changing.
"""
    + _DRAWN_AND_HOW_TO_CHECK
    + """
    python -m lib.sortition verify THIS_BUNDLE.zip --commitment <announced> --public-number "<announced>"

If you were given a receipt (a code like b0123456789ab-0123...), add --receipt <your code>:
it tells you whether you were in the pool and whether you were picked, and shows the
answers that were recorded for you.

docs/VERIFYING.md in the source code explains each check.

What this bundle lets anybody check: the commitment, the panel chosen by the public number,
that every listed panel meets every published quota, and each published group's average
chance. {withheld}

Files
-----
manifest.json      summary, and a SHA-256 fingerprint of every other file
frozen.jsonl       the committed public text: its SHA-256 is the commitment
groups.csv         each published group: quota, people in the pool, average seats and chance
panel.csv          the chosen panel (bundle ids); its fingerprint is in frozen.jsonl
{extra}"""
)

AUDIT_EXTRA = """\
audit.jsonl        AUDITORS ONLY: the complete lottery, every answer per bundle id
salts.jsonl        AUDITORS ONLY: every person's and every panel's salt
pool.csv, quotas.csv, lottery.csv, probabilities.csv (and relaxation.csv,
replacements.csv): readable views of audit.jsonl
"""

ROUND_EXTRA = """\
dropouts.csv       panel members (bundle ids) who dropped out and are replaced in this round
excluded.csv       people (bundle ids) kept out of the reserve pool in this round
previous.zip       the same kind of bundle for the draw this round continues (verified as well)
"""


def _what(fl) -> str:
    if fl.context is not None:
        return (
            f"replacement draw (round {fl.context.round}) that refills seats of the panel chosen in the draw "
            f"with commitment {fl.context.original_commitment}"
        )
    return f"draw ({fl.algorithm})"


def _v2_manifest(draw: Draw, contents: str, members: dict[str, bytes]) -> bytes:
    from lib.sortition.audit.public import _fl_key, panel_salt

    fl = draw.lottery
    m = {
        "format": BUNDLE_FORMAT_V2,
        "contents": contents,
        "kind": fl.kind,
        "engine_version": fl.engine_version,
        "algorithm": fl.algorithm,
        "m": fl.M,
        "panel_size": fl.instance.panel_size,
        "one_per_household": bool(fl.instance.one_per_household),
        "pool_size": len(fl.instance.people),
        "created": fl.created,
        "commitment": fl.commitment,
        "public_number": draw.public_number,
        "draw_hash": draw.draw_hash,
        "panel_index": draw.index,
        "panel_salt": panel_salt(fl.secret, _fl_key(fl), draw.index),  # type: ignore[arg-type]  # v2 lotteries have a secret
        "files": {name: sha256_hex(data) for name, data in sorted(members.items())},
    }
    if fl.context is not None:
        m["round"] = fl.context.round
        m["original_commitment"] = fl.context.original_commitment
        m["previous_commitment"] = fl.context.previous_commitment
    return manifest_bytes(m)


def groups_csv(pl) -> bytes:
    from lib.sortition.audit.public import group_chances

    return csv_bytes(
        ["feature", "value", "min", "max", "people_in_pool", "average_seats", "average_chance"],
        ([q.feature, q.value, q.min, q.max, q.pool, seats, chance] for q, _n, seats, chance in group_chances(pl)),
    )


def public_readme(pl, *, what: str, number: str, index: int, contents: str) -> bytes:
    withheld = ""
    if pl.withheld:
        withheld = (
            f'The other {len(pl.withheld)} quota(s) are listed as "withheld" in frozen.jsonl: they '
            "concern groups so small that publishing them could identify people, so only the "
            "auditors check them."
        )
    auditors = contents == "auditors"
    extra = (ROUND_EXTRA if pl.kind == "replacement" else "") + (AUDIT_EXTRA if auditors else "")
    title = (
        "AUDITORS' BUNDLE OF A CITIZENS' ASSEMBLY DRAW: CONFIDENTIAL"
        if auditors
        else "PUBLIC AUDIT BUNDLE OF A CITIZENS' ASSEMBLY DRAW"
    )
    who = (
        "It holds every person's answers under a bundle id: it is for the auditors the members named, "
        "and must not be published or shared."
        if auditors
        else "It names nobody and holds nobody's answers, and anybody may have it."
    )
    text = PUBLIC_README.format(
        title=title,
        underline="=" * len(title),
        which="auditors' bundle" if auditors else "public audit bundle",
        what=what,
        who=who,
        M=pl.M,
        commitment=pl.commitment,
        public_number=number,
        index=index,
        withheld=withheld,
        extra=extra,
    )
    return text.encode("utf-8")


def public_members(
    draw: Draw, *, previous: bytes | None = None, replacements=None, extra_note: str = ""
) -> dict[str, bytes]:
    """The members of the public bundle of a v2 draw (``previous``: the public bundle it continues)."""
    from lib.sortition.audit.public import parse_public, public_bytes

    fl = draw.lottery
    if not fl.secret:
        raise InputError("a public bundle needs a lottery frozen in the public form (v2)")
    text = public_bytes(fl)
    pl = parse_public(text)
    from lib.sortition.audit.public import bundle_id

    members: dict[str, bytes] = {FROZEN_NAME: text}
    members["panel.csv"] = csv_bytes(["id"], ([b] for b in sorted(bundle_id(fl.secret, p) for p in draw.panel)))
    members["groups.csv"] = groups_csv(pl)
    if fl.context is not None:
        if previous is None:
            raise InputError("a replacement bundle needs the bundle of the draw it continues")
        members.update(_round_files(pl))
        members["previous.zip"] = bytes(previous)
    members["README.txt"] = public_readme(
        pl, what=_what(fl), number=draw.public_number, index=draw.index, contents="public"
    )
    members["manifest.json"] = _v2_manifest(draw, "public", members)
    return members


def _round_files(pl) -> dict[str, bytes]:
    return {
        "dropouts.csv": csv_bytes(["id"], ([d] for d in pl.dropouts)),
        "excluded.csv": csv_bytes(["id"], ([e] for e in pl.excluded)),
    }


def audit_members(
    draw: Draw,
    *,
    previous: bytes | None = None,
    replacements: Sequence[tuple[str, str, int]] | None = None,
    extra_note: str = "",
) -> dict[str, bytes]:
    """The members of the auditors' bundle of a v2 draw: the public members plus the complete lottery
    under bundle ids (``previous``: the auditors' bundle it continues)."""
    from lib.sortition.audit.public import audit_lottery, parse_public, public_bytes, salts_bytes

    fl = draw.lottery
    if not fl.secret:
        raise InputError("an auditors' bundle in the v2 form needs a lottery frozen in the public form")
    audit = audit_lottery(fl)
    inner = Draw(audit, draw.public_number, draw.draw_hash, draw.index)
    reps = None
    if fl.context is not None:
        if previous is None:
            raise InputError("a replacement bundle needs the bundle of the draw it continues")
        reps = replacements_by_bundle_id(audit, inner.panel, previous)
    full = bundle_members(inner, previous=previous, replacements=reps)
    pl = parse_public(public_bytes(fl))
    members = {name: data for name, data in full.items() if name not in ("manifest.json", "README.txt", FROZEN_NAME)}
    members["audit.jsonl"] = audit.canonical_bytes()
    members["salts.jsonl"] = salts_bytes(fl)
    members[FROZEN_NAME] = public_bytes(fl)
    members["groups.csv"] = groups_csv(pl)
    members["README.txt"] = public_readme(
        pl, what=_what(fl), number=draw.public_number, index=draw.index, contents="auditors"
    )
    members["manifest.json"] = _v2_manifest(draw, "auditors", members)
    return members


def root_audit_pool(previous: bytes, depth: int = 0):
    """The auditors' pool of the first draw of a chain, read from an auditors' bundle (following previous.zip)."""
    from lib.sortition.audit.ceremony import parse_canonical

    members = read_bundle(previous)
    if "previous.zip" in members and depth < 100:
        return root_audit_pool(members["previous.zip"], depth + 1)
    if "audit.jsonl" not in members:
        raise InputError("the bundle this round continues is not an auditors' bundle")
    return parse_canonical(members["audit.jsonl"]).instance


def replacements_by_bundle_id(audit, chosen: Sequence[str], previous: bytes) -> list[tuple[str, str, int]]:
    """Who takes whose seat, on bundle ids (the verifier recomputes exactly this)."""
    from lib.sortition.audit.ceremony import match_replacements

    assert audit.context is not None
    return match_replacements(root_audit_pool(previous), audit.context.dropouts, chosen)


def write_bundle(draw: Draw, path: str | Path, **kw) -> str:
    """Write the bundle to ``path``; returns its SHA-256 (hex)."""
    data = bundle_bytes(draw, **kw)
    Path(path).write_bytes(data)
    return sha256_hex(data)


def read_bundle(source: str | Path | bytes) -> dict[str, bytes]:
    """The members of a bundle (raises ``InputError`` with a plain message when unreadable)."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        name = "the bundle"
    else:
        name = str(source)
        try:
            data = Path(source).read_bytes()
        except FileNotFoundError:
            raise InputError("file not found", file=name) from None
        except OSError as e:
            raise InputError(f"cannot read the file ({e.strerror})", file=name) from None
    members, problem = read_zip(data)
    if problem:
        raise InputError(problem, file=name)
    return members


def manifest_of(members: dict[str, bytes]) -> dict:
    try:
        return json.loads(members["manifest.json"].decode("utf-8"))
    except (KeyError, UnicodeDecodeError, json.JSONDecodeError):
        raise InputError("the bundle has no readable manifest.json") from None


__all__ = [
    "audit_bundle_bytes",
    "audit_members",
    "public_members",
    "bundle_members",
    "bundle_bytes",
    "write_bundle",
    "read_bundle",
    "manifest_of",
    "csv_bytes",
    "ENGINE_VERSION",
]
