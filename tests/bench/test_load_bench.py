"""The load benchmark's own measuring parts (bench/load_bench.py), without a browser."""

from __future__ import annotations

import base64

from bench.load_bench import FrameClock, pct


def test_the_servers_share_runs_from_the_tap_to_the_first_frame_with_the_confirmation():
    clock = FrameClock()
    clock._sent({"timestamp": 1.0})                     # an earlier frame, before the tap
    since = clock.mark()
    clock._sent({"timestamp": 10.0})                    # the tap
    clock._received({"timestamp": 9.5, "response": {"opcode": 2, "payloadData": base64.b64encode(
        b"\x08(P-0001): present").decode()}})           # before the tap: not its answer
    clock._received({"timestamp": 10.2, "response": {"opcode": 2, "payloadData": base64.b64encode(
        b"\x08running").decode()}})
    clock._received({"timestamp": 10.35, "response": {"opcode": 2, "payloadData": base64.b64encode(
        b"\x08Mary (P-0001): present.").decode()}})
    clock._received({"timestamp": 10.9, "response": {"opcode": 1, "payloadData": "(P-0001): present"}})
    assert abs(clock.server_share(since, "(P-0001): present") - 0.35) < 1e-9
    assert clock.server_share(since, "(P-0002): present") is None     # never confirmed: no share
    assert clock.server_share(since + 1, "(P-0001): present") is None  # no tap sent after that mark


def test_percentiles_pick_a_measured_value():
    values = [0.1 * i for i in range(1, 21)]
    assert pct(values, 0.5) in values and pct(values, 0.95) == values[-2]
    assert pct([], 0.95) != pct([], 0.95)               # nan when nothing was measured


def test_the_processor_time_of_processes_counts_the_children_they_have_already_reaped():
    import subprocess
    import sys
    import uuid

    from bench.load_bench import processes_cpu

    marker = f"kl-cpu-{uuid.uuid4().hex}"
    # a parent (marked) whose child burns processor time and ends before the parent is measured
    burn = "import time\nt=time.process_time()\nwhile time.process_time()-t<0.3: pass"
    parent = subprocess.Popen([sys.executable, "-c", f"import subprocess,sys,time\n"
                               f"subprocess.run([sys.executable,'-c',{burn!r}])\nprint('ok',flush=True)\n"
                               f"time.sleep(30)", marker], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "ok"     # the child has ended and been reaped
        assert processes_cpu(marker.encode()) >= 0.25
        assert processes_cpu(f"kl-cpu-{uuid.uuid4().hex}".encode()) == 0
    finally:
        parent.kill()
        parent.wait()


def test_a_taps_waits_count_the_threads_alive_at_its_end_and_never_go_below_zero():
    """A thread that ended during the tap is left out (summing every thread's counters made the server's wait
    negative in a run); ``only`` reads the one thread asked for (the event loop, the page's main thread)."""
    from bench.load_bench import thread_delta

    before = {"1": (100, 50), "2": (10, 5), "3": (7_000, 9_000)}       # thread 3 ends during the tap
    after = {"1": (300, 80), "2": (20, 25), "4": (5, 1)}               # thread 4 starts during it
    run, wait = thread_delta(before, after)
    assert (round(run * 1e9), round(wait * 1e9)) == (200 + 10 + 5, 30 + 20 + 1)
    run, wait = thread_delta(before, after, only="1")
    assert (round(run * 1e9), round(wait * 1e9)) == (200, 30)


def test_the_tap_split_is_reported_at_the_median_and_for_the_slowest_taps_without_unknown_waits():
    from bench.load_bench import cost_lines

    nan = float("nan")
    costs = [(0.1 * i, 0.05, 0.08, 0.02, 0.1 * i, nan if i == 20 else 0.01 * i, 0.0) for i in range(1, 21)]
    median, slow = cost_lines("Check-in tap", costs)
    assert "median: on screen 1000 ms" in median or "median: on screen 1100 ms" in median
    assert "slowest 2 (>= p95)" in slow and "waiting for one 190 " in slow    # the unknown wait is left out


def test_split_cores_pins_every_thread_of_a_process_and_reports_a_thread_left_elsewhere():
    """--split-cores: the server's threads on one core, the browsers' on the other; the report says whether that
    held, and catches a process (here: a second child) still allowed on both cores."""
    import os
    import subprocess
    import sys

    from bench.load_bench import descendants, pin_all, pinning_report

    code = "import threading, time; threading.Thread(target=time.sleep, args=(30,)).start(); time.sleep(30)"
    server, browser, stray = (subprocess.Popen([sys.executable, "-c", code]) for _ in range(3))
    try:
        import time

        deadline = time.time() + 10
        while time.time() < deadline and any(len(os.listdir(f"/proc/{p.pid}/task")) < 2 for p in (server, browser)):
            time.sleep(0.05)
        pin_all(server.pid, {1})
        pin_all(browser.pid, {0})
        assert {server.pid, browser.pid, stray.pid} <= descendants(os.getpid())
        held, line = pinning_report((0, 1), server.pid, [browser.pid])
        assert held and "allowed on {1}" in line and "on {0}:" in line, line
        held, line = pinning_report((0, 1), server.pid, [browser.pid, stray.pid])
        assert not held and "{0} and {0, 1}" in line and "did NOT hold" in line, line
    finally:
        for p in (server, browser, stray):
            p.kill()
            p.wait()


def test_the_server_clock_splits_a_tap_at_the_server_and_leaves_out_an_answer_it_cannot_tell_apart():
    """bench/ws_clock's log (the server read a frame: 'in'; wrote an answer: 'out' with its words) against the
    browser's (needle, sent, received): sent -> answer written, read -> written, written -> received."""
    from bench.load_bench import server_legs

    def out(t, conn, text):
        return f"out {t} {conn} {text.encode().hex()}"

    log = "\n".join([
        "in 10.000 7", "in 10.020 7", out(10.050, 7, "Amira (P-0042): present"),     # the tap read at 10.020
        "in 10.030 8", out(10.060, 8, "Ben (P-0043): present"),
        "in 20.010 7", out(20.040, 7, "You have answered this survey"),
        "in 20.011 8", out(20.041, 8, "You have answered this survey"),                 # two at once
    ])
    taps = [("(P-0042): present", 10.010, 10.200), ("(P-0043): present", 10.025, 10.070),
            ("You have answered this survey", 20.000, 20.100), ("(P-0099): present", 30.0, 30.1)]
    legs, left_out = server_legs(log, taps)
    assert [tuple(round(x * 1000) for x in leg) for leg in legs] == [(40, 30, 150), (35, 30, 10)]
    assert left_out == 2        # the survey answer (two written meanwhile) and the tap never answered
