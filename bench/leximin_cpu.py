"""LEXIMIN on generated pools with the engine's clock on *processor* time (fair on a loaded machine): processor s
to the proven minimum and to complete LEXIMIN, one JSON line per pool, each run a separate process under nice 19.

    python bench/leximin_cpu.py OUT.jsonl LIMIT c:0 c:1 demo ...   (run from the repository root; PAR=2 runs at once)

HiGHS's own time limits stay wall-clock, so a starved run can still stop a solve early. Used for
``results/leximin_region_hull_first_20261207.md``.
"""
import json
import math
import os
import subprocess
import sys
import time
import types
from concurrent.futures import ThreadPoolExecutor

def one(pool, limit):
    sys.path.insert(0, os.getcwd())
    import lib.sortition.leximin as lx
    if pool == "demo":
        from bench.sortition_bench import demo_instance
        inst = demo_instance()
    else:
        from bench.shapes import generate
        sh, sd = pool.split(":")
        inst = generate(sh, int(sd))
    clock = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("__")})
    clock.perf_counter = time.process_time
    lx.time = clock
    c0 = time.process_time()
    try:
        d = lx.leximin(inst, time_limit=limit)
    except Exception as e:
        print(json.dumps({"pool": pool, "error": repr(e)[:200], "cpu": time.process_time() - c0}))
        return
    cpu = time.process_time() - c0
    print(json.dumps({"pool": pool, "min_cpu": None if math.isnan(d.maximin_seconds) else d.maximin_seconds,
                      "complete": bool(d.complete), "cpu": cpu, "min": d.min_probability, "bound": d.upper_bound,
                      "gap": d.gap, "stages": d.stages, "method": getattr(d, "method", "")}))

def main():
    if sys.argv[1] == "--one":
        return one(sys.argv[2], float(sys.argv[3]))
    out, limit, pools = sys.argv[1], sys.argv[2], sys.argv[3:]
    par = int(os.environ.get("PAR", "2"))
    def run(p):
        try:
            r = subprocess.run(["nice", "-n", "19", ".venv/bin/python", os.path.abspath(__file__), "--one", p, limit],
                               capture_output=True, text=True, timeout=float(limit) * 8 + 120)
            line = (r.stdout.strip().splitlines() or [json.dumps({"pool": p, "error": r.stderr[-300:]})])[-1]
        except subprocess.TimeoutExpired:
            line = json.dumps({"pool": p, "error": "timeout"})
        with open(out, "a") as f:
            f.write(line + "\n")
    with ThreadPoolExecutor(par) as ex:
        list(ex.map(run, pools))
main()
