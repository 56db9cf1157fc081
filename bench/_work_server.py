"""`streamlit run app.py` with counters, for bench/server_work_bench.py (not used by the app).

    python bench/_work_server.py <tree> <log.jsonl> [streamlit run options …]

Runs the app of ``<tree>`` (this checkout, or an older commit's files exported beside it) and writes
one JSON line per script run to ``<log.jsonl>``: whether it was a whole run (app.py and the page) or
a fragment's own run, the processor time of the script thread (time.thread_time, so waiting on
other threads or processes does not count), and the DuckDB statements it ran with their processor
time (execute plus fetching the result). Nothing in the app is changed: the counters wrap
``lib.store.db.Database``'s connection and Streamlit's ``ScriptRunner._run_script`` from outside.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

_local = threading.local()


def _count(seconds: float, statement: bool) -> None:
    _local.queries = getattr(_local, "queries", 0) + (1 if statement else 0)
    _local.query_cpu = getattr(_local, "query_cpu", 0.0) + seconds


class _Cursor:
    def __init__(self, real):
        self._real = real

    def execute(self, *a, **kw):
        t = time.thread_time()
        self._real.execute(*a, **kw)
        _count(time.thread_time() - t, True)
        return self

    def executemany(self, *a, **kw):
        t = time.thread_time()
        self._real.executemany(*a, **kw)
        _count(time.thread_time() - t, True)
        return self

    def __getattr__(self, name):
        attr = getattr(self._real, name)
        if not callable(attr):
            return attr

        def timed(*a, **kw):
            t = time.thread_time()
            try:
                return attr(*a, **kw)
            finally:
                _count(time.thread_time() - t, False)
        return timed


class _Connection:
    def __init__(self, real):
        self._real = real

    def cursor(self):
        return _Cursor(self._real.cursor())

    def __getattr__(self, name):
        return getattr(self._real, name)


def install(log_path: Path) -> None:
    from lib.store import db as store_db

    init = store_db.Database.__init__

    def counting_init(self, *a, **kw):
        init(self, *a, **kw)
        self._con = _Connection(self._con)
    store_db.Database.__init__ = counting_init   # type: ignore[method-assign]

    from streamlit.runtime.scriptrunner import script_runner

    run = script_runner.ScriptRunner._run_script
    finished = script_runner.ScriptRunner._on_script_finished
    lock = threading.Lock()

    profile_dir = os.environ.get("KLEROTERION_PROFILE_DIR")   # a cProfile file per script run, if set
    runs = [0]

    def start_marks() -> None:
        _local.queries, _local.query_cpu = 0, 0.0
        if profile_dir:
            import cProfile

            _local.profile = cProfile.Profile(time.thread_time)
            _local.profile.enable()
        _local.t_cpu, _local.t_wall = time.thread_time(), time.perf_counter()

    def counting_run(self, rerun_data):
        start_marks()       # one call may run the script several times (st.rerun loops inside it)
        try:
            return run(self, rerun_data)
        finally:
            if getattr(_local, "profile", None) is not None:
                _local.profile.disable()
                _local.profile = None

    def counting_finished(self, ctx, event, *a, **kw):
        out = finished(self, ctx, event, *a, **kw)
        if profile_dir and getattr(_local, "profile", None) is not None:
            _local.profile.disable()
            with lock:
                runs[0] += 1
                n = runs[0]
            kind = "fragment" if ctx.fragment_ids_this_run else "full"
            _local.profile.dump_stats(str(Path(profile_dir) / f"run{n:04d}-{kind}.prof"))
            _local.profile = None
        line = {"kind": "fragment" if ctx.fragment_ids_this_run else "full",
                "stopped_for_rerun": "RERUN" in str(event),
                "session": ctx.session_id,
                "cpu_ms": (time.thread_time() - _local.t_cpu) * 1000,
                "wall_ms": (time.perf_counter() - _local.t_wall) * 1000,
                "queries": _local.queries, "query_cpu_ms": _local.query_cpu * 1000}
        with lock, open(log_path, "a") as f:
            f.write(json.dumps(line) + "\n")
        start_marks()
        return out
    script_runner.ScriptRunner._run_script = counting_run   # type: ignore[method-assign]
    script_runner.ScriptRunner._on_script_finished = counting_finished   # type: ignore[method-assign]


def main() -> None:
    tree, log_path, *options = sys.argv[1:]
    sys.path.insert(0, tree)
    install(Path(log_path))
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(Path(tree) / "app.py"), *options]
    cli.main()


if __name__ == "__main__":
    main()
