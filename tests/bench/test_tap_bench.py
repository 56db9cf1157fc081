"""The one-tap benchmark's reading of Chrome's trace (bench/tap_bench.py), without a browser."""

from __future__ import annotations

import json

from bench.tap_bench import Door


def test_a_trace_is_read_as_self_processor_time_on_the_pages_main_thread_only():
    """Nested events count once (a parent's time less its children's), by the thread clock (tts/tdur: processor
    time), and only on the renderer's main thread."""
    events = [
        {"ph": "M", "name": "thread_name", "pid": 1, "tid": 5, "args": {"name": "CrRendererMain"}},
        {"ph": "M", "name": "thread_name", "pid": 1, "tid": 6, "args": {"name": "Compositor"}},
        {"ph": "X", "name": "RunTask", "pid": 1, "tid": 5, "ts": 0, "dur": 90_000, "tts": 1_000, "tdur": 30_000},
        {"ph": "X", "name": "FunctionCall", "pid": 1, "tid": 5, "ts": 10, "dur": 50_000, "tts": 2_000, "tdur": 20_000},
        {"ph": "X", "name": "Layout", "pid": 1, "tid": 5, "ts": 20, "dur": 5_000, "tts": 5_000, "tdur": 4_000},
        {"ph": "X", "name": "Paint", "pid": 1, "tid": 6, "ts": 0, "dur": 9_000, "tts": 0, "tdur": 9_000},
    ]
    door = Door("old", server=None)  # type: ignore[arg-type]
    door.add_trace(json.dumps({"traceEvents": events}).encode())
    assert dict(door.self_times) == {"RunTask": 10.0, "FunctionCall": 16.0, "Layout": 4.0}
