"""The k-anonymity check over everything in a published bundle (issue 13, point 2).

Standard library and the bundle reader only, so that it runs on old code too (where it must fail).
"""

from __future__ import annotations

import csv
import io
import json
import re

from lib.sortition.audit.bundle import read_bundle

SMALL = 5
HEX = re.compile(r"^[0-9a-f]{32}$|^[0-9a-f]{64}$")


def _is_id_or_hash(value: str, ids: set[str]) -> bool:
    return value in ids or bool(HEX.match(value))


def published_rows(members: dict[str, bytes]):
    """Every row of every text file of a bundle, as a list of strings (JSON lines flattened)."""
    for name, data in sorted(members.items()):
        if name.endswith(".zip"):
            yield from published_rows(read_bundle(data))
            continue
        text = data.decode("utf-8")
        if name.endswith(".csv"):
            for row in list(csv.reader(io.StringIO(text)))[1:]:
                yield name, [str(x) for x in row]
        elif name.endswith(".jsonl"):
            for line in text.splitlines():
                v = json.loads(line)
                flat = []

                def walk(x):
                    if isinstance(x, list):
                        for y in x:
                            walk(y)
                    elif isinstance(x, dict):
                        for y in x.values():
                            walk(y)
                    else:
                        flat.append(str(x))
                walk(v)
                yield name, flat


def k_anonymity_problems(members: dict[str, bytes], inst) -> list[str]:
    """Rows about a person (holding an id) grouped by everything else they publish: each group must
    hold at least 5 people. Counts of people (groups.csv, panel lines, quota lines): 0 or at least 5."""
    ids = {p.id for p in inst.people}
    try:
        from lib.sortition.audit.public import parse_public

        pub = parse_public(members["frozen.jsonl"])
    except Exception:  # noqa: BLE001 - an old (v1) bundle: its frozen text is not a public text
        pub = None
    else:
        ids |= {p[0] for p in pub.people}
    problems = []
    groups: dict[tuple, int] = {}
    for name, row in published_rows(members):
        if any(x in ids for x in row):
            rest = tuple(x for x in row if not _is_id_or_hash(x, ids) and x not in ("person", "dropout", "excluded"))
            groups[(name, rest)] = groups.get((name, rest), 0) + 1
        if name == "README.txt":
            continue
    for (name, rest), n in groups.items():
        if rest and n < SMALL:
            problems.append(f"{name}: {n} person row(s) publish {rest}")
    for q in pub.quotas if pub else []:
        if q.pool < SMALL:
            problems.append(f"quota {q.feature}={q.value}: {q.pool} people in the pool")
    for _h, counts in pub.panels if pub else []:
        small = [c for c in counts if 0 < c < SMALL]
        if small:
            problems.append(f"a panel gives a published group {small[0]} seats")
    data = b"".join(members.values()).decode("utf-8", "replace")
    leaked = sorted(i for i in (p.id for p in inst.people) if i in data)
    if leaked:
        problems.append(f"door pseudonyms in the public bundle: {leaked[:3]}")
    return problems


