"""The verifier: re-derive a draw from its audit bundle and say PASS or what does not match.

``python -m lib.sortition verify BUNDLE.zip`` calls ``verify_bundle``. This module and
everything it imports (``model``, ``ceremony``, ``bundle``) use the Python standard
library only: no HiGHS, no numpy, no database, no app. ``docs/VERIFYING.md`` describes
each check in plain words.

Checks, in order:

1. the file is a readable zip, packed exactly as the engine packs it (``pack_zip``),
   so that a change of any single byte of the file is noticed;
2. ``manifest.json`` is readable and the SHA-256 of every member matches it;
3. ``sha256(frozen.jsonl)`` is the commitment in the manifest (and the one you pass
   with ``--commitment``, i.e. the one that was announced);
4. ``frozen.jsonl`` is in the canonical format, and the readable files (pool, quotas,
   lottery, probabilities, relaxation, dropouts) say exactly what it says;
5. the public number (normalised) and the commitment choose the panel index and the
   draw hash in the manifest, and ``panel.csv`` is that panel;
6. every listed panel meets every quota (and the household rule), and has the right size;
7. for a replacement round: ``previous.zip`` verifies too, the round continues it
   (commitments, round number), the reserve pool and the adjusted quotas follow from
   it, and who-replaces-whom is as computed;
8. every file is byte for byte what the engine writes for this draw (README included).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from lib.sortition.audit.bundle import bundle_members
from lib.sortition.audit.ceremony import (
    Draw,
    FrozenLottery,
    check_commitment,
    draw_hash,
    index_from_hash,
    match_replacements,
    normalise_public_number,
    parse_canonical,
    replacement_instance,
    sha256_hex,
)
from lib.sortition.audit.formats import (
    BUNDLE_FORMAT,
    BUNDLE_FORMAT_V2,
    FROZEN_NAME,
    format_fraction,
    manifest_bytes,
    pack_zip,
    read_zip,
)
from lib.sortition.audit.model import InputError, Instance, PanelChecker, Quota

CONTENTS = {
    "public": "the PUBLIC bundle (names nobody; withheld quotas are for the auditors)",
    "auditors": "the AUDITORS' bundle (complete: every answer per bundle id; confidential)",
    "v1": "an old-format complete bundle (v1, made before public bundles existed; it lists every "
    "person's answers, so it is for the auditors only)",
}
MAX_CHAIN = 100
OBJECTIVES = {
    "leximin": "LEXIMIN (the smallest chances as large as possible; Flanigan et al., Nature 2021)",
    "goldilocks": "Goldilocks with gamma = 1 (nobody too unlikely, nobody nearly certain; Baharav and Flanigan, "
    "arXiv 2406.15009)",
    "legacy": "the LEGACY greedy draw (for comparison only)",
}
"""The lottery objectives a commitment may name (its ``algorithm``); see docs/VERIFYING.md."""


def check_objective(algorithm, res: "VerifyResult") -> None:
    """The commitment names a known objective. Nobody can recompute the optimum from the bundle: what is
    checked is that every listed panel is valid and that the chances are what the panels give."""
    if algorithm in OBJECTIVES:
        res.good(
            f"the lottery's objective, fixed in the commitment: {OBJECTIVES[algorithm]} (the checks below "
            "confirm the panels and the chances; whether they are the best possible for this objective "
            "cannot be checked from the bundle)"
        )
    else:
        res.fail(
            f"the commitment names an unknown lottery objective {algorithm!r} (known: {', '.join(sorted(OBJECTIVES))})"
        )


# --- results ----------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    name: str
    problems: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, text: str) -> None:
        self.problems.append(text)

    def good(self, text: str) -> None:
        self.passed.append(text)

    def report(self) -> str:
        """The text printed by ``python -m lib.sortition verify``."""
        i = self.info
        lines = [f"Audit bundle: {self.name}"]
        if i.get("contents") in CONTENTS:
            lines.append(f"  checked: {CONTENTS[i['contents']]}")
        if i.get("kind"):
            what = "replacement round " + str(i.get("round")) if i["kind"] == "replacement" else "draw"
            lines.append(
                f"  {what}, algorithm {i.get('algorithm')}, {i.get('m')} panels listed, "
                f"panel size {i.get('panel_size')}"
            )
        if i.get("commitment"):
            lines.append(f"  commitment:    {i['commitment']}")
        if i.get("public_number") is not None:
            lines.append(f"  public number: {i['public_number']!r}")
        if i.get("index") is not None:
            lines.append(f"  chosen panel:  number {i['index']} (counting from 0) of {i.get('m')}")
        if i.get("panel"):
            lines.append(f"  panel:         {', '.join(i['chosen'])}")
        if i.get("original_commitment"):
            lines.append(f"  continues the draw with commitment {i['original_commitment']}")
        for text in i.get("receipt_lines", ()):
            lines.append(f"  {text}")
        lines.append("")
        for text in self.passed:
            lines.append(f"ok    {text}")
        for text in self.problems:
            lines.append(f"FAIL  {text}")
        lines.append("")
        if self.ok:
            lines.append("PASS")
            lines.append(
                "Now compare the commitment and the public number above with the ones that were announced "
                "before and at the draw (or pass them with --commitment and --public-number)."
            )
        else:
            n = len(self.problems)
            lines.append(f"FAIL: {n} problem{'s' if n != 1 else ''} found (listed above).")
        return "\n".join(lines) + "\n"


# --- the checks ---------------------------------------------------------------------------------


def _first_difference(name: str, got: bytes, want: bytes, source: str) -> str:
    g = got.decode("utf-8", "replace").split("\n")
    w = want.decode("utf-8", "replace").split("\n")
    for n, (a, b) in enumerate(zip(g, w), start=1):
        if a != b:
            return f"{name}, line {n}: the bundle has {_cut(a)!r}, but {source} gives {_cut(b)!r}"
    if len(g) > len(w):
        return (
            f"{name}, line {len(w) + (0 if w[-1] == '' else 1)}: the bundle has extra lines that {source} does not give"
        )
    if len(g) < len(w):
        more = len(w) - len(g)
        return f"{name}: the bundle's file ends at line {len(g)}, but {source} gives {more} more line{'' if more == 1 else 's'}"
    return f"{name}: the bytes differ from what {source} gives (line ends or invisible characters)"


def _cut(text: str, n: int = 120) -> str:
    return text if len(text) <= n else text[:n] + "..."


def _manifest(members: dict[str, bytes], res: VerifyResult) -> dict | None:
    raw = members.get("manifest.json")
    if raw is None:
        res.fail("manifest.json is missing from the bundle")
        return None
    try:
        m = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        res.fail(f"manifest.json is not readable JSON ({e})")
        return None
    types = {
        "format": str,
        "kind": str,
        "algorithm": str,
        "m": int,
        "panel_size": int,
        "created": str,
        "engine_version": str,
        "commitment": str,
        "public_number": str,
        "draw_hash": str,
        "panel_index": int,
        "files": dict,
    }
    bad = [k for k, t in types.items() if not isinstance(m.get(k) if isinstance(m, dict) else None, t)]
    if bad:
        res.fail("manifest.json lacks or garbles these entries: " + ", ".join(bad))
        return None
    if m["format"] == BUNDLE_FORMAT_V2:
        more = {"contents": str, "panel_salt": str, "pool_size": int, "one_per_household": bool}
        bad = [k for k, t in more.items() if not isinstance(m.get(k), t) or (t is int and isinstance(m.get(k), bool))]
        if bad or m["contents"] not in ("public", "auditors"):
            res.fail("manifest.json lacks or garbles these entries: " + ", ".join(bad or ["contents"]))
            return None
        return m
    if m["format"] != BUNDLE_FORMAT:
        res.fail(
            f"manifest.json: format {m['format']!r} is not {BUNDLE_FORMAT!r} (a different or newer verifier is needed)"
        )
        return None
    return m


def verify_bundle(
    data: bytes,
    *,
    name: str = "the bundle",
    commitment: str | None = None,
    public_number: str | None = None,
    receipt: str | None = None,
    _depth: int = 0,
) -> VerifyResult:
    """Check an audit bundle (the zip file's bytes): public (v2), auditors' (v2) or old (v1).

    ``receipt``: a person's receipt code; the result then says whether they were in the pool and
    picked (``info["receipt_lines"]``). Never raises on bad content."""
    res = VerifyResult(name)
    res.info["receipt_code"] = receipt
    try:
        _verify(bytes(data), res, commitment, public_number, _depth)
    except RecursionError:  # pragma: no cover - bounded by MAX_CHAIN
        res.fail("the chain of replacement rounds is too long to check")
    except InputError as e:
        res.fail(str(e))
    except Exception as e:  # noqa: BLE001 - a forged bundle must give FAIL, never a crash
        res.fail(f"the bundle could not be checked: it is malformed ({type(e).__name__}: {e})")
    return res


def verify_file(path, **kw) -> VerifyResult:
    from pathlib import Path

    p = Path(path)
    if p.is_dir():
        return verify_folder(p, **kw)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        res = VerifyResult(str(p))
        res.fail(f"{p}: file not found")
        return res
    except OSError as e:
        res = VerifyResult(str(p))
        res.fail(f"{p}: cannot read the file ({e.strerror})")
        return res
    return verify_bundle(data, name=str(p), **kw)


def _verify(
    data: bytes, res: VerifyResult, expected_commitment: str | None, expected_number: str | None, depth: int
) -> None:
    members, problem = read_zip(data)
    if problem:
        res.fail(f"{res.name}: {problem}")
        return
    packed = pack_zip(members)
    if packed != data:
        at = next((i for i, (a, b) in enumerate(zip(packed, data)) if a != b), min(len(packed), len(data)))
        res.fail(
            f"the zip file itself differs from the standard packing of its files (first at byte {at}): "
            f"it was altered, or unpacked and re-zipped"
        )
    else:
        res.good("the zip file is packed exactly as the engine packs it (no byte changed)")
    _verify_members(members, res, expected_commitment, expected_number, depth)


def verify_folder(
    path, *, commitment: str | None = None, public_number: str | None = None, receipt: str | None = None
) -> VerifyResult:
    """Check a bundle that was unpacked into a folder (every check except the zip packing)."""
    from pathlib import Path

    d = Path(path)
    res = VerifyResult(str(d))
    res.info["receipt_code"] = receipt
    members = {f.name: f.read_bytes() for f in sorted(d.iterdir()) if f.is_file()}
    res.good(f"read {len(members)} files from the folder (the zip packing itself cannot be checked this way)")
    try:
        _verify_members(members, res, commitment, public_number, 0)
    except InputError as e:
        res.fail(str(e))
    except Exception as e:  # noqa: BLE001
        res.fail(f"the bundle could not be checked: it is malformed ({type(e).__name__}: {e})")
    return res


HEADER_KEYS = (
    "kind",
    "algorithm",
    "created",
    "engine_version",
    "panel_size",
    "one_per_household",
    "pool_size",
    "round",
    "original_commitment",
    "previous_commitment",
)


def check_commitment_of(
    frozen: bytes, m: dict, res: "VerifyResult", expected: str | None, what: str = FROZEN_NAME
) -> str:
    """The commitment is the SHA-256 of the committed text, as the manifest (and, if given, the announcement)
    says. Returns the actual commitment (also in ``res.info``). Shared by both bundle formats."""
    actual = sha256_hex(frozen)
    try:
        claimed = check_commitment(m["commitment"])
    except InputError as e:
        res.fail(f"manifest.json: {e}")
        claimed = ""
    if actual == claimed:
        res.good(f"the commitment is the SHA-256 of {what}")
    else:
        res.fail(
            f"commitment mismatch: SHA-256 of {FROZEN_NAME} is {actual}, but manifest.json says "
            f"{claimed or m['commitment']!r}"
        )
    if expected is not None:
        try:
            exp = check_commitment(expected)
        except InputError as e:
            res.fail(f"the commitment you gave: {e}")
        else:
            if exp == actual:
                res.good("the commitment is the one you gave (the announced one)")
            else:
                res.fail(f"the commitment is {actual}, not the one you gave ({exp}): this is not the announced draw")
    res.info["commitment"] = actual
    return actual


def check_header(head: dict, m: dict, res: "VerifyResult") -> None:
    """The manifest repeats the committed header's values (those the header has) unchanged."""
    for key in HEADER_KEYS:
        if key in head and m.get(key) != head[key]:
            res.fail(f"manifest.json says {key} = {m.get(key)!r}, but {FROZEN_NAME} says {head[key]!r}")


def parse_frozen(frozen: bytes, parse, res: "VerifyResult"):
    """``parse(frozen)``, saying in ``res`` whether the committed text is in the canonical format (None if not)."""
    try:
        parsed = parse(frozen)
    except InputError as e:
        res.fail(f"{FROZEN_NAME}: {e}")
        return None
    res.good(f"{FROZEN_NAME} is in the canonical format")
    return parsed


def rebuilt(draw: Draw, previous: bytes | None, replacements, res: "VerifyResult") -> dict[str, bytes] | None:
    """The bundle's files as the writer makes them from the committed lottery (None: said in ``res``)."""
    try:
        return bundle_members(draw, previous=previous, replacements=replacements)
    except InputError as e:
        res.fail(f"the bundle cannot be re-created: {e}")
        return None


def check_draw(m: dict, h: bytes, idx: int, number: str, res: "VerifyResult") -> bool:
    """The manifest's draw hash and panel number are those the commitment and the public number give."""
    ok = True
    if m["draw_hash"] != h.hex():
        res.fail(
            f"manifest.json: the draw hash should be {h.hex()} (from the commitment and the public number), "
            f"not {m['draw_hash']}"
        )
        ok = False
    if m["panel_index"] != idx:
        res.fail(
            f"manifest.json says panel number {m['panel_index']} was chosen, but the public number "
            f"{number!r} chooses panel number {idx}"
        )
        ok = False
    return ok


def check_public_number(m: dict, res: "VerifyResult", expected: str | None, engine_version: str = "1.0") -> str | None:
    """The manifest's public number, normalised (None when it cannot be read), checked against the announced
    one if given. The rule is the one of the committed header's ``engine_version`` (1.0: spaces; 1.1: only
    letters and digits count), never the manifest's, so it was fixed before the number existed."""
    try:
        number = normalise_public_number(m["public_number"], engine_version=engine_version)
    except InputError as e:
        res.fail(f"manifest.json: {e}")
        return None
    if number != m["public_number"]:
        res.fail(
            f"manifest.json: the public number {m['public_number']!r} is not written in its normalised form {number!r}"
        )
    if expected is not None:
        try:
            exp_n = normalise_public_number(expected, engine_version=engine_version)
        except InputError as e:
            res.fail(f"the public number you gave: {e}")
        else:
            if exp_n == number:
                res.good("the public number is the one you gave")
            else:
                res.fail(f"the public number in the bundle is {number!r}, not the one you gave ({exp_n!r})")
    return number


def _verify_members(
    members: dict[str, bytes],
    res: VerifyResult,
    expected_commitment: str | None,
    expected_number: str | None,
    depth: int,
) -> None:
    m = _manifest(members, res)
    if m is None:
        return
    if m["format"] == BUNDLE_FORMAT_V2:
        from lib.sortition.audit.public_verify import verify_v2

        verify_v2(members, m, res, expected_commitment, expected_number, depth)
        return
    res.info["contents"] = "v1"
    if res.info.get("receipt_code"):
        res.fail("this bundle was made before receipts existed (format v1), so a receipt cannot be checked in it")
    res.info.update(manifest_facts(m))

    # 2. fingerprints of the files
    check_files(members, m, res)

    # 3. the commitment
    frozen = members.get(FROZEN_NAME)
    _v1_rest(members, m, res, frozen, expected_commitment, expected_number, depth)


def manifest_facts(m: dict) -> dict:
    """What the verifier reports from a bundle's manifest.json, for either format."""
    keys = ("kind", "algorithm", "m", "panel_size", "commitment", "public_number")
    return {key: m[key] for key in keys}


def check_files(members: dict[str, bytes], m: dict, res: VerifyResult) -> bool:
    """Every member's SHA-256 matches manifest.json, none missing, none added."""
    listed = m["files"]
    ok = True
    for fname in sorted(set(members) - {"manifest.json"}):
        if fname not in listed:
            res.fail(f"{fname} is in the bundle but not listed in manifest.json (added afterwards?)")
            ok = False
        elif sha256_hex(members[fname]) != listed[fname]:
            res.fail(
                f"{fname} was changed: its SHA-256 is {sha256_hex(members[fname])}, "
                f"manifest.json records {listed[fname]}"
            )
            ok = False
    for fname in sorted(set(listed) - set(members)):
        res.fail(f"{fname} is listed in manifest.json but missing from the bundle")
        ok = False
    if ok:
        res.good(f"every file matches its SHA-256 fingerprint in manifest.json ({len(listed)} files)")
    return ok


def _v1_rest(members, m, res, frozen, expected_commitment, expected_number, depth) -> None:
    """The v1 bundle's checks in the order docs/VERIFYING.md lists them."""
    if frozen is None:
        res.fail(f"{FROZEN_NAME} (the committed text) is missing, so the commitment cannot be checked")
        return
    actual = check_commitment_of(frozen, m, res, expected_commitment)
    fl = parse_frozen(frozen, parse_canonical, res)
    if fl is None:
        return
    check_header(fl.header(), m, res)
    if m["m"] != fl.M:
        res.fail(f"manifest.json says there are {m['m']} panels, but {FROZEN_NAME} lists {fl.M}")
    res.info.update(kind=fl.kind, algorithm=fl.algorithm, m=fl.M, panel_size=fl.instance.panel_size)
    check_objective(fl.algorithm, res)
    draw = _v1_draw(members, m, res, fl, actual, expected_number)  # 5. the draw
    _v1_quotas(fl, res)  # 6. quotas
    # 7. replacement rounds
    replacements = None
    previous = members.get("previous.zip")
    if fl.context is not None:
        replacements = _verify_chain(fl, draw, previous, members, res, depth)
    elif previous is not None:
        res.fail("previous.zip is in the bundle of a first draw (only replacement rounds continue a draw)")
    else:
        res.info.update(
            pool=fl.instance,
            quotas=list(fl.instance.quotas),
            final_panel=list(draw.panel) if draw else [],
            ever=set(draw.panel) if draw else set(),
            round=0,
            root=actual,
        )
    # 4 and 8. the readable files and the README, byte for byte
    if draw is not None:
        _v1_files(members, res, draw, previous, replacements)


def _v1_draw(members, m, res, fl: FrozenLottery, actual: str, expected_number) -> Draw | None:
    """5. The public number chooses a panel, and panel.csv is that panel (None: no public number yet)."""
    number = check_public_number(m, res, expected_number, fl.engine_version)
    if number is None:
        return None
    h = draw_hash(actual, number, engine_version=fl.engine_version)
    idx = index_from_hash(h, fl.M)
    draw = Draw(fl, number, h.hex(), idx)
    res.info.update(index=idx, public_number=number, panel=True, chosen=list(draw.panel))
    draw_ok = check_draw(m, h, idx, number, res)
    got_panel = members.get("panel.csv", b"").decode("utf-8", "replace").split("\n")
    got_ids = [x for x in got_panel[1:] if x != ""]
    if sorted(got_ids) != sorted(draw.panel):
        extra = sorted(set(got_ids) - set(draw.panel))
        missing = sorted(set(draw.panel) - set(got_ids))
        res.fail(
            f"panel.csv is not the chosen panel (number {idx}): "
            + (f"it lists {', '.join(extra[:10])} who should not be there" if extra else "")
            + ("; " if extra and missing else "")
            + (f"it omits {', '.join(missing[:10])}" if missing else "")
            + ("it lists somebody twice" if not extra and not missing else "")
        )
        draw_ok = False
    if draw_ok:
        res.good(f"the public number chooses panel number {idx} of {fl.M}, and panel.csv is that panel")
    return draw


def _v1_quotas(fl: FrozenLottery, res) -> None:
    """6. Every listed panel meets the quotas, and each relaxed quota is the quota line it says."""
    bad_panels = PanelChecker(fl.instance).problems_of_each(fl.panels)
    if bad_panels:
        more = f" (and {len(bad_panels) - 5} more)" if len(bad_panels) > 5 else ""
        res.fail(
            f"{len(bad_panels)} of the {fl.M} listed panels break the quotas: " + " | ".join(bad_panels[:5]) + more
        )
    else:
        res.good(
            f"all {fl.M} listed panels have {fl.instance.panel_size} members and meet every quota"
            + (" and the household rule" if fl.instance.one_per_household else "")
        )
    quota_at = {(q.feature, q.value): q for q in fl.instance.quotas}
    for c in fl.relaxation:
        q = quota_at.get((c.feature, c.value))
        if q is None or (q.min, q.max) != (c.new_min, c.new_max):
            res.fail(
                f"{FROZEN_NAME}: the relaxed quota {c.feature} = {c.value} says [{c.new_min}, {c.new_max}] "
                f"but the quota line says {[q.min, q.max] if q else 'nothing'}"
            )


def _v1_files(members, res, draw: Draw, previous, replacements) -> None:
    """4 and 8. The readable files and the README are, byte for byte, what the committed lottery says."""
    want = rebuilt(draw, previous, replacements, res)
    if want is None:
        return
    same = True
    for fname in sorted(set(want) | set(members)):
        if fname in ("manifest.json", FROZEN_NAME):
            continue  # checked above
        if fname not in members:
            res.fail(f"{fname} is missing from the bundle")
            same = False
        elif fname not in want:
            res.fail(f"{fname} does not belong in this bundle")
            same = False
        elif members[fname] != want[fname]:
            source = {
                "README.txt": "the engine's standard text",
                "panel.csv": "the draw",
                "previous.zip": "the previous draw",
            }.get(fname, f"the committed lottery ({FROZEN_NAME})")
            res.fail(_first_difference(fname, members[fname], want[fname], source))
            same = False
    if members.get("manifest.json") != want.get("manifest.json") and not res.problems:
        res.fail(
            _first_difference(
                "manifest.json", members["manifest.json"], want["manifest.json"], "the engine (for this draw)"
            )
        )
        same = False
    if same:
        res.good("pool, quotas, lottery, probabilities and README say exactly what the committed lottery says")


def _verify_chain(
    fl: FrozenLottery,
    draw: Draw | None,
    previous: bytes | None,
    members: dict[str, bytes],
    res: VerifyResult,
    depth: int,
):
    """7. A replacement round: previous.zip passes, this round follows from it (the link, the reserve pool,
    the adjusted quotas), and the panel after it meets the original quotas. Returns the replacements."""
    ctx = fl.context
    assert ctx is not None
    res.info["original_commitment"] = ctx.original_commitment
    res.info["round"] = ctx.round
    pi = previous_round(previous, res, depth)
    if pi is None:
        return None
    root_pool: Instance = pi["pool"]
    quotas: list[Quota] = pi["quotas"]
    problems = _link_problems(ctx, pi)
    for p in problems:
        res.fail(p)
    try:
        expected, kept = replacement_instance(
            root_pool, quotas, pi["final_panel"], ctx.dropouts, ctx.excluded, pi["ever"]
        )
    except InputError as e:
        res.fail(f"the dropouts do not fit the previous panel: {e}")
        return None
    pool_problems = _reserve_pool_problems(fl, expected, root_pool)
    for p in pool_problems:
        res.fail(p)
    if [p.id for p in sorted(fl.instance.people, key=lambda p: p.id)] != [p.id for p in expected.people]:
        return None
    quota_problems = _round_quota_problems(fl, expected)
    if fl.instance.panel_size != len(ctx.dropouts):
        quota_problems.append(
            f"this round fills {fl.instance.panel_size} seats, but {len(ctx.dropouts)} people dropped out"
        )
    for p in quota_problems:
        res.fail(p)
    if not problems and not pool_problems and not quota_problems:
        res.good(
            f"round {ctx.round} continues previous.zip: the reserve pool and the adjusted quotas follow "
            f"from the {len(kept)} members who stay"
        )
    if draw is None:
        return None
    final = sorted(set(kept) | set(draw.panel))
    full = Instance(
        people=root_pool.people,
        quotas=quotas,
        panel_size=len(pi["final_panel"]),
        one_per_household=root_pool.one_per_household,
    )
    pr = PanelChecker(full).problems(final)
    if pr and not fl.relaxation:
        res.fail("the panel after this round does not meet the original quotas: " + "; ".join(pr))
    elif pr:
        res.good("the panel after this round meets the quotas except where this round relaxed them: " + "; ".join(pr))
    else:
        res.good(f"the panel after this round ({len(final)} members) meets every original quota")
    res.info.update(
        pool=root_pool, quotas=quotas, final_panel=final, ever=set(pi["ever"]) | set(draw.panel), root=pi["root"]
    )
    return match_replacements(root_pool, ctx.dropouts, draw.panel)


def previous_round(previous: bytes | None, res: VerifyResult, depth: int, contents: str | None = None) -> dict | None:
    """What previous.zip says (its VerifyResult's info), once it passes every check itself (and, given
    ``contents``, is a bundle of that kind: public or auditors'); else None."""
    if previous is None:
        res.fail("previous.zip (the bundle of the draw this round continues) is missing")
        return None
    if depth >= MAX_CHAIN:
        res.fail("the chain of replacement rounds is too long to check")
        return None
    prev = verify_bundle(previous, name="previous.zip", _depth=depth + 1)
    if not prev.ok:
        for p in prev.problems:
            res.fail(f"previous.zip: {p}")
        return None
    if contents is not None and prev.info.get("contents") != contents:
        res.fail(f"previous.zip is not a {contents} bundle of the same kind")
        return None
    res.good("previous.zip (the draw this round continues) passes every check")
    return prev.info


def _link_problems(ctx, pi: dict) -> list[str]:
    """This round names previous.zip's commitment, the chain's first draw and the next round number."""
    out = []
    if ctx.previous_commitment != pi["commitment"]:
        out.append(
            f"this round says it continues the draw with commitment {ctx.previous_commitment}, "
            f"but previous.zip has commitment {pi['commitment']}"
        )
    if ctx.original_commitment != pi["root"]:
        out.append(
            f"this round names {ctx.original_commitment} as the original draw, but the chain starts at {pi['root']}"
        )
    if ctx.round != pi["round"] + 1:
        out.append(f"this is called round {ctx.round}, but previous.zip is round {pi['round']}")
    return out


def _reserve_pool_problems(fl: FrozenLottery, expected: Instance, root_pool: Instance) -> list[str]:
    """The reserve pool is everybody never selected and not excluded, with their answers unchanged."""
    got_ids = [p.id for p in sorted(fl.instance.people, key=lambda p: p.id)]
    want_ids = [p.id for p in expected.people]
    if got_ids != want_ids:
        extra = sorted(set(got_ids) - set(want_ids))
        missing = sorted(set(want_ids) - set(got_ids))
        return [
            "the reserve pool of this round is not everybody who was never selected and is not excluded: "
            + (f"it should not contain {', '.join(extra[:10])}" if extra else "")
            + ("; " if extra and missing else "")
            + (f"it lacks {', '.join(missing[:10])}" if missing else "")
        ]
    by_root = {p.id: p for p in root_pool.people}
    changed = [
        p.id
        for p in fl.instance.people
        if dict(p.features) != dict(by_root[p.id].features)
        or (p.household or None) != (by_root[p.id].household or None)
    ]
    if changed:
        return ["these people's answers differ from the original pool: " + ", ".join(changed[:10])]
    return []


def _round_quota_problems(fl: FrozenLottery, expected: Instance) -> list[str]:
    """Each quota of this round is the original quota minus the members who stay (or says how it was relaxed)."""
    out = []
    before = {(q.feature, q.value): (q.min, q.max) for q in expected.quotas}
    relaxed = {(c.feature, c.value): c for c in fl.relaxation}
    for q in fl.instance.quotas:
        key = (q.feature, q.value)
        if key not in before:
            out.append(f"quota {q.feature} = {q.value} of this round is not a quota of the original draw")
            continue
        want = before[key]
        c = relaxed.get(key)
        if c is not None:
            if (c.old_min, c.old_max) != want:
                out.append(
                    f"relaxed quota {q.feature} = {q.value}: the adjusted quota was [{want[0]}, {want[1]}], "
                    f"not [{c.old_min}, {c.old_max}]"
                )
        elif (q.min, q.max) != want:
            out.append(
                f"quota {q.feature} = {q.value} of this round is [{q.min}, {q.max}], but the original quota "
                f"minus the members who stay gives [{want[0]}, {want[1]}]"
            )
    if len(fl.instance.quotas) != len(before):
        out.append("this round does not carry every quota of the original draw")
    return out


__all__ = [
    "BUNDLE_FORMAT",
    "FROZEN_NAME",
    "VerifyResult",
    "format_fraction",
    "manifest_bytes",
    "pack_zip",
    "read_zip",
    "verify_bundle",
    "verify_file",
    "verify_folder",
]
