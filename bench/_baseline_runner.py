"""Run by bench/sortition_bench.py inside bench/.baseline-venv (sortition-algorithms==0.12.15):
MAXIMIN with the library's HiGHS backend on one instance in the shared benchmark format.
Prints one JSON line: seconds, min probability, Gini, panels in the support."""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

from sortition_algorithms import Settings, read_in_features, read_in_people
from sortition_algorithms.committee_generation import find_distribution_maximin


def gini(values):
    xs = sorted(values)
    n, total = len(xs), sum(xs)
    if not n or total <= 0:
        return 0.0
    return max(0.0, sum(x * (2 * j - n + 1) for j, x in enumerate(xs)) / (n * total))


def main(directory: str) -> None:
    d = Path(directory)
    k = int(json.loads((d / "instance.json").read_text(encoding="utf-8"))["panel_size"])
    with open(d / "categories.csv", encoding="utf-8") as f:
        r = csv.DictReader(f)
        head, body = list(r.fieldnames or []), list(r)
    features, _, _ = read_in_features(head, body, k)
    with open(d / "people.csv", encoding="utf-8") as f:
        r = csv.DictReader(f)
        phead, pbody = list(r.fieldnames or []), list(r)
    settings = Settings(id_column="id", columns_to_keep=[], solver_backend="highspy", selection_algorithm="maximin")
    people, _ = read_in_people(phead, pbody, features, settings)
    t0 = time.perf_counter()
    c0 = time.process_time()
    committees, probabilities, _ = find_distribution_maximin(features, people, k, [], "highspy")
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    per_person = {pid: 0.0 for pid in (row["id"] for row in pbody)}
    for committee, p in zip(committees, probabilities):
        for pid in committee:
            per_person[pid] += p
    print(json.dumps({"seconds": seconds, "cpu": cpu, "min": min(per_person.values()), "gini": gini(per_person.values()),
                      "panels": len(committees), "sum": sum(per_person.values())}))


if __name__ == "__main__":
    main(sys.argv[1])
