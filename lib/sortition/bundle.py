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

from .ceremony import ENGINE_VERSION, Draw, sha256_hex
from .model import InputError
from .verify import BUNDLE_FORMAT, FROZEN_NAME, format_fraction, manifest_bytes, pack_zip, read_zip

README_TEMPLATE = """\
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
3. Then a random number was drawn in public:
       {public_number}
   Together with the commitment it chooses panel number {index} out of the {M}
   (counting from 0). Every panel in the list was equally likely to be chosen.

How to check it
---------------
With Python 3.10 or newer and the Kleroterion source code, run from its folder:

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


def bundle_members(draw: Draw, *, previous: bytes | None = None,
                   replacements: Sequence[tuple[str, str, int]] | None = None,
                   extra_note: str = "") -> dict[str, bytes]:
    """All members of the bundle of ``draw`` (manifest included)."""
    fl = draw.lottery
    inst = fl.instance
    feats = sorted({f for p in inst.people for f in p.features})
    members: dict[str, bytes] = {FROZEN_NAME: fl.canonical_bytes()}
    members["pool.csv"] = csv_bytes(["id", *feats, "household"],
                                    ([p.id, *(p.features.get(f, "") for f in feats), p.household or ""]
                                     for p in sorted(inst.people, key=lambda p: p.id)))
    members["quotas.csv"] = csv_bytes(["feature", "value", "min", "max"],
                                      ([q.feature, q.value, q.min, q.max]
                                       for q in sorted(inst.quotas, key=lambda q: (q.feature, q.value))))
    members["lottery.csv"] = csv_bytes(["panel", "id"], ([n, pid] for n, panel in enumerate(fl.panels)
                                                          for pid in sorted(panel)))
    counts = dict.fromkeys(inst.ids, 0)
    for panel in fl.panels:
        for pid in panel:
            counts[pid] += 1
    targets = fl.targets or {}
    members["probabilities.csv"] = csv_bytes(
        ["id", "appearances", "probability", "target_probability"],
        ([pid, counts[pid], format_fraction(counts[pid], fl.M), targets.get(pid, "")] for pid in sorted(counts)))
    members["panel.csv"] = csv_bytes(["id"], ([pid] for pid in draw.panel))
    extra = ""
    if fl.relaxation:
        members["relaxation.csv"] = csv_bytes(
            ["feature", "value", "old_min", "old_max", "new_min", "new_max"],
            ([c.feature, c.value, c.old_min, c.old_max, c.new_min, c.new_max]
             for c in sorted(fl.relaxation, key=lambda c: (c.feature, c.value))))
        extra += EXTRA_RELAXED
    if fl.context is not None:
        if previous is None:
            raise InputError("a replacement bundle needs the bundle of the draw it continues")
        if replacements is None:
            raise InputError("a replacement bundle needs the list of who replaces whom")
        members["dropouts.csv"] = csv_bytes(["id"], ([pid] for pid in sorted(fl.context.dropouts)))
        members["excluded.csv"] = csv_bytes(["id"], ([pid] for pid in sorted(fl.context.excluded)))
        members["replacements.csv"] = csv_bytes(["new_id", "replaces", "shared_features"],
                                                sorted(replacements, key=lambda r: (r[0] == "", r[0], r[1])))
        members["previous.zip"] = bytes(previous)
        extra += EXTRA_REPLACEMENT
    if fl.context is not None:
        what = (f"replacement draw (round {fl.context.round}) that refills seats of the panel chosen in the draw "
                f"with commitment {fl.context.original_commitment}")
    else:
        what = f"draw ({fl.algorithm})"
    readme = README_TEMPLATE.format(what=what, M=fl.M, commitment=fl.commitment, public_number=draw.public_number,
                                    number_literal=repr(draw.public_number), index=draw.index, extra=extra)
    if fl.algorithm == "legacy":
        readme += ("\nNOTE: this draw used the LEGACY greedy algorithm, for comparison only: the list holds\n"
                   f"{fl.M} panels drawn one by one by the old quota-filling method (driven by SHA-256, see\n"
                   "docs/VERIFYING.md). It is less fair than the LEXIMIN lottery: some people's chances\n"
                   "are much smaller than others'.\n")
    if extra_note:
        readme += "\n" + extra_note.rstrip("\n") + "\n"
    members["README.txt"] = readme.encode("utf-8")
    manifest = {
        "format": BUNDLE_FORMAT, "kind": fl.kind, "engine_version": fl.engine_version, "algorithm": fl.algorithm,
        "m": fl.M, "panel_size": inst.panel_size, "one_per_household": bool(inst.one_per_household),
        "created": fl.created, "commitment": fl.commitment, "public_number": draw.public_number,
        "draw_hash": draw.draw_hash, "panel_index": draw.index,
        "files": {name: sha256_hex(data) for name, data in sorted(members.items())},
    }
    if fl.context is not None:
        manifest["round"] = fl.context.round
        manifest["original_commitment"] = fl.context.original_commitment
        manifest["previous_commitment"] = fl.context.previous_commitment
    members["manifest.json"] = manifest_bytes(manifest)
    return members


def bundle_bytes(draw: Draw, **kw) -> bytes:
    """The bundle of ``draw`` as the bytes of one canonical zip file."""
    return pack_zip(bundle_members(draw, **kw))


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


__all__ = ["bundle_members", "bundle_bytes", "write_bundle", "read_bundle", "manifest_of", "csv_bytes",
           "ENGINE_VERSION"]
