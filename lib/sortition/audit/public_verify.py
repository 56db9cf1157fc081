"""Checking a v2 bundle: the public bundle (names nobody) or the auditors' bundle (complete).

Called by ``verify._verify_members`` when ``manifest.json`` says ``kleroterion-bundle-v2``.
Standard library only. What each check means is in docs/VERIFYING.md, section 6.

Public bundle (anybody):
1. files match their fingerprints; ``frozen.jsonl`` (the public text) is canonical and its SHA-256
   is the commitment (and the announced one, when given);
2. the public number and the commitment choose the panel number and draw hash in the manifest;
   ``panel.csv`` with the manifest's ``panel_salt`` gives that panel's fingerprint in the public text;
3. every listed panel gives every published group a number of seats within its quota, and not
   more than the group has people; ``groups.csv`` (average seats and chance per group) and the
   README are exactly what the engine writes;
4. replacement rounds: ``previous.zip`` passes all checks; the commitments and round number chain;
   the dropouts were on the panel; the reserve pool is drawn from the original pool, leaves out
   everybody ever selected or excluded, and each person's two fingerprints are unchanged;
5. with ``--receipt``: the receipt's bundle id is in the pool, the receipt is genuine (its
   fingerprint), whether that person is on the chosen panel, and the answers recorded for them.

Auditors' bundle, also: ``audit.jsonl`` and ``salts.jsonl`` are the texts the public text binds,
re-writing the public text from them gives it byte for byte (so every fingerprint and every
published count is true), every listed panel meets *every* quota and the household rule, and the
readable files (pool, lottery, probabilities, ...) are exactly what the engine writes; replacement
rounds are checked as for v1 bundles, on bundle ids.
"""

from __future__ import annotations

from lib.sortition.audit.ceremony import Draw, FrozenLottery, draw_hash, index_from_hash, parse_canonical, sha256_hex
from lib.sortition.audit.model import InputError
from lib.sortition.audit.public import (
    PublicLottery,
    ids_hash,
    parse_public,
    parse_receipt,
    public_text,
    receipt_hash,
    recover_answers,
)

PUBLIC_FILES = {"manifest.json", "frozen.jsonl", "panel.csv", "groups.csv", "README.txt"}
ROUND_FILES = {"dropouts.csv", "excluded.csv", "previous.zip"}
AUDIT_FILES = {
    "audit.jsonl",
    "salts.jsonl",
    "pool.csv",
    "quotas.csv",
    "lottery.csv",
    "probabilities.csv",
    "relaxation.csv",
    "replacements.csv",
}


def _csv_ids(data: bytes | None) -> list[str]:
    if data is None:
        return []
    lines = data.decode("utf-8", "replace").split("\n")
    return [x for x in lines[1:] if x != ""]


def verify_v2(members: dict[str, bytes], m: dict, res, expected_commitment, expected_number, depth: int) -> None:
    """The verifier's checks of a version 2 bundle, in the order docs/VERIFYING.md lists them."""
    from lib.sortition.audit.formats import FROZEN_NAME
    from lib.sortition.audit.verify import (
        check_commitment_of,
        check_header,
        check_objective,
        manifest_facts,
        parse_frozen,
        previous_round,
    )

    contents = m["contents"]
    auditors = contents == "auditors"
    res.info.update(contents=contents, **manifest_facts(m))
    _check_v2_files(members, m, res)

    # 1. the commitment
    frozen = members.get(FROZEN_NAME)
    if frozen is None:
        res.fail(f"{FROZEN_NAME} (the committed public text) is missing, so the commitment cannot be checked")
        return
    actual = check_commitment_of(frozen, m, res, expected_commitment, f"{FROZEN_NAME} (the public text)")
    pl = parse_frozen(frozen, parse_public, res)
    if pl is None:
        return
    head = pl.header
    check_header(head, m, res)
    if m["m"] != pl.M:
        res.fail(f"manifest.json says there are {m['m']} panels, but {FROZEN_NAME} lists {pl.M}")
    res.info.update(kind=pl.kind, algorithm=head["algorithm"], m=pl.M, panel_size=pl.panel_size)
    check_objective(head["algorithm"], res)

    # 2. the draw
    drawn = _check_v2_draw(members, m, res, pl, actual, expected_number)
    if drawn is None:
        return
    number, h, idx, chosen = drawn

    # 3. published quotas and chances
    _check_counts(pl, res)
    _check_published_files(members, pl, number, idx, contents, res)

    # 4. replacement rounds
    previous = members.get("previous.zip")
    if pl.kind == "replacement":
        prev_info = previous_round(previous, res, depth, contents)
        if prev_info is None:
            return
        _check_round_public(pl, chosen, prev_info, res)
    else:
        res.info.update(
            public_people={p[0]: p for p in pl.people}, final_panel=list(chosen), ever=set(chosen), round=0, root=actual
        )

    # 5. auditors
    if auditors:
        _check_auditors(members, pl, frozen, number, h, idx, previous, depth, res)

    # the receipt
    code = res.info.get("receipt_code")
    if code:
        _check_receipt(pl, code, chosen, res)


def _check_v2_files(members: dict[str, bytes], m: dict, res) -> None:
    """Every file matches manifest.json, and only the files of this kind of bundle are in it."""
    from lib.sortition.audit.verify import check_files

    contents = m["contents"]
    auditors = contents == "auditors"
    check_files(members, m, res)
    allowed = (
        PUBLIC_FILES | (ROUND_FILES if m["kind"] == "replacement" else set()) | (AUDIT_FILES if auditors else set())
    )
    odd = sorted(set(members) - allowed)
    if odd:
        res.fail(
            f"these files do not belong in a {contents} bundle: {', '.join(odd)}"
            + (" (the public bundle must hold nobody's answers)" if not auditors else "")
        )


def _check_v2_draw(members: dict[str, bytes], m: dict, res, pl: PublicLottery, actual: str, expected_number):
    """2. The public number chooses a panel whose fingerprint was committed, and panel.csv is that panel.
    Returns (number, draw hash, panel index, the ids in panel.csv); None before a public number."""
    from lib.sortition.audit.formats import FROZEN_NAME
    from lib.sortition.audit.verify import check_draw, check_public_number

    head = pl.header
    number = check_public_number(m, res, expected_number, head["engine_version"])
    if number is None:
        return None
    h = draw_hash(actual, number, engine_version=head["engine_version"])
    idx = index_from_hash(h, pl.M)
    chosen = _csv_ids(members.get("panel.csv"))
    res.info.update(index=idx, public_number=number, panel=True, chosen=chosen)
    draw_ok = check_draw(m, h, idx, number, res)
    pool_ids = {p[0] for p in pl.people}
    if chosen != sorted(set(chosen)) or len(chosen) != pl.panel_size or not set(chosen) <= pool_ids:
        res.fail(f"panel.csv must list {pl.panel_size} different bundle ids of the pool, sorted")
        draw_ok = False
    elif ids_hash(m["panel_salt"], chosen) != pl.panels[idx][0]:
        res.fail(
            f"panel.csv is not panel number {idx}: its fingerprint (with the panel salt in manifest.json) is not "
            f"the one committed in {FROZEN_NAME}"
        )
        draw_ok = False
    if draw_ok:
        res.good(
            f"the public number chooses panel number {idx} of {pl.M}, and panel.csv is that panel "
            "(its fingerprint was committed)"
        )
    return number, h, idx, chosen


def _check_published_files(
    members: dict[str, bytes], pl: PublicLottery, number: str, idx: int, contents: str, res
) -> None:
    """3. groups.csv (and a round's files) and README.txt are what the committed public text gives."""
    from lib.sortition.audit.bundle import _round_files, groups_csv, public_readme
    from lib.sortition.audit.formats import FROZEN_NAME

    want = {"groups.csv": groups_csv(pl)}
    if pl.kind == "replacement":
        want.update(_round_files(pl))
    same = True
    for fname, data in want.items():
        if members.get(fname) != data:
            res.fail(_diff(fname, members.get(fname), data, f"the committed public text ({FROZEN_NAME})"))
            same = False
    what = _what_of(pl, pl.header)
    readme = public_readme(pl, what=what, number=number, index=idx, contents=contents)
    if members.get("README.txt") != readme:
        res.fail(_diff("README.txt", members.get("README.txt"), readme, "the engine's standard text"))
        same = False
    if same:
        res.good(
            "groups.csv (average seats and chance of each published group) and README.txt say exactly what "
            "the committed public text says"
        )


def _what_of(pl: PublicLottery, head: dict) -> str:
    if pl.kind == "replacement":
        return (
            f"replacement draw (round {head['round']}) that refills seats of the panel chosen in the draw "
            f"with commitment {head['original_commitment']}"
        )
    return f"draw ({head['algorithm']})"


def _diff(name: str, got: bytes | None, want: bytes, source: str) -> str:
    from lib.sortition.audit.verify import _first_difference

    if got is None:
        return f"{name} is missing from the bundle"
    return _first_difference(name, got, want, source)


def _check_counts(pl: PublicLottery, res) -> None:
    """Each published count: the groups fit in the pool, each relaxed quota is its quota line, and every
    listed panel meets every published quota."""
    bad = _panels_breaking_published_quotas(pl)
    feats: dict[str, int] = {}
    for q in pl.quotas:
        feats[q.feature] = feats.get(q.feature, 0) + q.pool
    over = [f for f, n in feats.items() if n > pl.header["pool_size"]]
    if over:
        res.fail("the published groups of " + ", ".join(over) + " hold more people than the pool")
    by = {(q.feature, q.value): q for q in pl.quotas}
    for change in pl.relaxation:
        line = by.get((change.feature, change.value))
        if line is None or (line.min, line.max) != (change.new_min, change.new_max):
            res.fail(
                f"the relaxed quota {change.feature} = {change.value} says [{change.new_min}, {change.new_max}] "
                f"but the quota line says {[line.min, line.max] if line else 'nothing'}"
            )
    if bad:
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        res.fail(f"{len(bad)} of the {pl.M} listed panels break a published quota: " + " | ".join(bad[:5]) + more)
    elif pl.quotas:
        res.good(
            f"all {pl.M} listed panels meet the {len(pl.quotas)} published quota{'' if len(pl.quotas) == 1 else 's'}"
            + (
                f"; {len(pl.withheld)} quota{'' if len(pl.withheld) == 1 else 's'} of small groups "
                f"{'is' if len(pl.withheld) == 1 else 'are'} withheld and checked by the auditors"
                if pl.withheld
                else ""
            )
        )
    else:
        res.good(f"no quota is published for this {pl.kind} (all {len(pl.withheld)} are checked by the auditors)")


def _panels_breaking_published_quotas(pl: PublicLottery) -> list[str]:
    """One line per listed panel whose published counts break a quota (or exceed the group in the pool)."""
    bad = []
    for n, (_h, counts) in enumerate(pl.panels):
        problems = []
        for q, c in zip(pl.quotas, counts):
            if c < q.min:
                problems.append(f"{q.feature} = {q.value}: {c} seats, at least {q.min} needed")
            elif c > q.max:
                problems.append(f"{q.feature} = {q.value}: {c} seats, at most {q.max} allowed")
            elif c > q.pool:
                problems.append(f"{q.feature} = {q.value}: {c} seats but only {q.pool} such people in the pool")
        if problems:
            bad.append(f"panel {n}: " + "; ".join(problems))
    return bad


def _check_round_public(pl: PublicLottery, chosen: list[str], pi: dict, res) -> None:
    head = pl.header
    ok = True
    if head["previous_commitment"] != pi["commitment"]:
        res.fail(
            f"this round says it continues the draw with commitment {head['previous_commitment']}, "
            f"but previous.zip has commitment {pi['commitment']}"
        )
        ok = False
    if head["original_commitment"] != pi["root"]:
        res.fail(
            f"this round names {head['original_commitment']} as the original draw, but the chain starts at {pi['root']}"
        )
        ok = False
    if head["round"] != pi["round"] + 1:
        res.fail(f"this is called round {head['round']}, but previous.zip is round {pi['round']}")
        ok = False
    final, ever, root_people = set(pi["final_panel"]), set(pi["ever"]), pi["public_people"]
    not_on = sorted(set(pl.dropouts) - final)
    if not_on or not pl.dropouts:
        res.fail("the dropouts must be members of the panel: " + (", ".join(not_on[:10]) or "none listed"))
        ok = False
    if pl.panel_size != len(pl.dropouts):
        res.fail(f"this round fills {pl.panel_size} seats, but {len(pl.dropouts)} people dropped out")
        ok = False
    ids = {p[0] for p in pl.people}
    wrong = sorted(ids & (ever | set(pl.excluded)))
    stranger = sorted(ids - set(root_people))
    if wrong or stranger:
        res.fail(
            "the reserve pool must hold only people of the original pool never selected and not excluded: "
            + ", ".join((wrong + stranger)[:10])
        )
        ok = False
    expected = set(root_people) - ever - set(pl.excluded)
    if not pl.header["one_per_household"] and ids != expected:
        res.fail(
            "the reserve pool lacks people who were never selected and are not excluded: "
            + ", ".join(sorted(expected - ids)[:10])
        )
        ok = False
    changed = sorted(p[0] for p in pl.people if p[0] in root_people and tuple(root_people[p[0]]) != tuple(p))
    if changed:
        res.fail(
            "these people's fingerprints (receipt or answers) differ from the original pool: " + ", ".join(changed[:10])
        )
        ok = False
    if ok:
        res.good(
            f"round {head['round']} continues previous.zip: the dropouts were on the panel, and the reserve "
            "pool comes from the original pool with everybody's answers unchanged"
            + (
                " (who is left out by the household rule is checked by the auditors)"
                if pl.header["one_per_household"]
                else ""
            )
        )
    after = sorted((final - set(pl.dropouts)) | set(chosen))
    res.info.update(
        round=head["round"],
        original_commitment=head["original_commitment"],
        public_people=root_people,
        final_panel=after,
        ever=ever | set(chosen),
        root=pi["root"],
    )


def _check_auditors(
    members, pl: PublicLottery, frozen: bytes, number: str, h: bytes, idx: int, previous, depth: int, res
) -> None:
    """5. The auditors' files: they give exactly the public text, their panels meet every quota (withheld
    ones included), and the readable files are what audit.jsonl says."""
    from lib.sortition.audit.model import PanelChecker
    from lib.sortition.audit.verify import _verify_chain, rebuilt

    fl = _audit_lottery(members, pl, frozen, res)
    if fl is None:
        return
    bad = PanelChecker(fl.instance).problems_of_each(fl.panels)
    if bad:
        res.fail(f"{len(bad)} of the {fl.M} listed panels break the quotas: " + " | ".join(bad[:5]))
    else:
        res.good(
            f"all {fl.M} listed panels have {fl.instance.panel_size} members and meet every quota, withheld "
            "ones included" + (" and the household rule" if fl.instance.one_per_household else "")
        )
    draw = Draw(fl, number, h.hex(), idx)
    replacements = None
    if fl.context is not None:
        replacements = _verify_chain(fl, draw, previous, members, res, depth)
        res.info.update(commitment=sha256_hex(frozen))
    else:
        res.info.update(pool=fl.instance, quotas=list(fl.instance.quotas))
    want = rebuilt(draw, previous, replacements, res)
    if want is None:
        return
    same = True
    for fname in (
        sorted(AUDIT_FILES - {"audit.jsonl", "salts.jsonl"}) + sorted(ROUND_FILES - {"previous.zip"}) + ["panel.csv"]
    ):
        if fname in want or fname in members:
            if members.get(fname) != want.get(fname):
                res.fail(_diff(fname, members.get(fname), want.get(fname, b""), "audit.jsonl"))
                same = False
    if same:
        res.good("pool, quotas, lottery and probabilities say exactly what audit.jsonl says")


def _audit_lottery(members, pl: PublicLottery, frozen: bytes, res) -> FrozenLottery | None:
    """The full lottery in audit.jsonl, once it and salts.jsonl are the texts the commitment binds and
    give exactly the public text; else None (with the reason in ``res``)."""
    audit, salts = members.get("audit.jsonl"), members.get("salts.jsonl")
    if audit is None or salts is None:
        res.fail("an auditors' bundle needs audit.jsonl and salts.jsonl")
        return None
    if sha256_hex(audit) != pl.audit_hash or sha256_hex(salts) != pl.salts_hash:
        res.fail(
            "audit.jsonl or salts.jsonl is not the text the commitment binds (their SHA-256 differ from the "
            "audit line of frozen.jsonl)"
        )
        return None
    try:
        fl = parse_canonical(audit)
        again = public_text(fl, salts)
    except InputError as e:
        res.fail(f"audit.jsonl / salts.jsonl: {e}")
        return None
    if again != frozen:
        from lib.sortition.audit.verify import _first_difference

        res.fail(_first_difference("frozen.jsonl", frozen, again, "audit.jsonl and salts.jsonl"))
        return None
    res.good(
        "the public text is exactly what audit.jsonl and salts.jsonl give: every fingerprint and every "
        "published count is true"
    )
    return fl


def _check_receipt(pl: PublicLottery, code: str, chosen: list[str], res) -> None:
    lines = res.info.setdefault("receipt_lines", [])
    try:
        bid, salt = parse_receipt(code)
    except InputError as e:
        res.fail(f"the receipt: {e}")
        return
    person = next((p for p in pl.people if p[0] == bid), None)
    if person is None:
        res.fail(f"the receipt's bundle id {bid} is not in this pool")
        lines.append(f"receipt {bid}: NOT in the pool of this draw")
        return
    if receipt_hash(bid, salt) != person[1]:
        res.fail(f"the receipt for {bid} is not genuine: its code does not give the fingerprint committed for {bid}")
        lines.append(f"receipt {bid}: the code does not match (copied wrongly, or not this person's receipt)")
        return
    picked = bid in chosen
    res.good(f"the receipt {bid} is genuine and its holder is in the pool")
    lines.append(f"receipt {bid}: in the pool; " + ("PICKED for the panel" if picked else "not picked"))
    values: dict[str, list[str]] = {}
    for f, v in [(q.feature, q.value) for q in pl.quotas] + list(pl.withheld):
        values.setdefault(f, [""])
        if v not in values[f]:
            values[f].append(v)
    found = recover_answers(pl, bid, salt, values)
    if found is not None:
        lines.append(
            "answers recorded for you: " + ", ".join(f"{f} = {v or '(none)'}" for f, v in sorted(found.items()))
        )
    else:
        lines.append(
            "your recorded answers include one that has no quota, so they cannot be listed here; "
            "the auditors check them"
        )


__all__ = ["verify_v2"]
