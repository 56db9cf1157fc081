"""Run every benchmark: ``python -m bench`` runs each ``bench/*_bench.py`` module in turn
(each in its own process, so one failing benchmark does not stop the others).

The benchmark on pools shaped like real assemblies (``python -m bench.leximin_shapes``: 20 seeds
of 6 shapes, about 2 hours on 2 cores, see bench/leximin_shapes.py) is not part of this run;
``python -m bench --with-shapes [options of bench.leximin_shapes]`` adds it at the end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _run(name: str, extra: list[str]) -> int:
    print(f"=== python -m {name} {' '.join(extra)}".rstrip(), flush=True)
    r = subprocess.run([sys.executable, "-m", name, *extra], cwd=HERE.parent)
    if r.returncode != 0:
        print(f"=== {name} failed with exit status {r.returncode}", flush=True)
    return r.returncode


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    shapes = "--with-shapes" in argv
    extra = [a for a in argv if a != "--with-shapes"]
    status = 0
    for path in sorted(HERE.glob("*_bench.py")):
        if _run(f"bench.{path.stem}", []) != 0:
            status = 1
    if shapes and _run("bench.leximin_shapes", extra) != 0:
        status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
