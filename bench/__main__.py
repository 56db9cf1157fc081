"""Run every benchmark: ``python -m bench`` runs each ``bench/*_bench.py`` module in turn
(each in its own process, so one failing benchmark does not stop the others)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    status = 0
    for path in sorted(HERE.glob("*_bench.py")):
        name = f"bench.{path.stem}"
        print(f"=== python -m {name}", flush=True)
        r = subprocess.run([sys.executable, "-m", name], cwd=HERE.parent)
        if r.returncode != 0:
            print(f"=== {name} failed with exit status {r.returncode}", flush=True)
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
