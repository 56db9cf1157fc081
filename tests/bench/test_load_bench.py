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
