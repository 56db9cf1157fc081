"""LEXIMIN (or Goldilocks, the request's ``objective``) in a worker process with a hard deadline: a draw can never hang.

HiGHS runs in C. Every solve has a time limit (``leximin._run``), but a solve that ignores it
(a solver bug, a stalled simplex that never checks its clock) would hold a thread for ever,
and a thread cannot be stopped from outside. So the app and the command line run the
computation in a separate process (``python -m lib.sortition.worker``, started with
``subprocess``: a fresh interpreter that imports nothing of the caller's main program, so it
is safe beside Streamlit's threads and from any script) and keep, in this process:

- the lottery found so far: the worker sends a *snapshot* (a valid ``Distribution``) each
  time a leximin level is finished, and always as soon as the minimum probability is proven;
- a hard deadline: ``time_limit + grace`` seconds after the start, a worker that has not
  answered is killed, and the last snapshot is returned (``complete=False``);
- the controls: a stop request (keep the lottery found so far) and the settle time (stop by
  itself once the minimum is proven and this many seconds have passed), which the worker
  reads at its next check.

The two processes exchange length-prefixed pickles over the worker's standard input and
output (the worker's own prints go to its standard error). ``leximin_in_worker`` returns the
same ``Distribution`` as ``leximin`` and raises the same errors (``InfeasibleQuotas``,
``LeximinError``).
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Callable

from lib.sortition.leximin import Control, Distribution, LeximinError, leximin
from lib.sortition.audit.model import Instance

GRACE_SECONDS = 5.0
"""How long past the time limit a worker may take to hand back its answer before it is killed."""

_ROOT = Path(__file__).resolve().parents[2]
_HEADER = struct.Struct(">I")


def _send(stream: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _recv(stream: IO[bytes]):
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    """One of the worker's pipes: ``_start`` opens both (``stdin=PIPE, stdout=PIPE``), so it is never None."""
    assert stream is not None
    return stream


# --- the worker's side ------------------------------------------------------------------------


def _listen(inp: IO[bytes], stop: threading.Event, settle_box: list[float | None]) -> None:
    """The worker's control channel, until the caller is gone: a stop request, or a new settle time."""
    while True:
        try:
            msg = _recv(inp)
        except (EOFError, OSError, pickle.UnpicklingError):
            stop.set()  # the caller is gone: finish quickly
            return
        if msg[0] == "stop":
            stop.set()
        elif msg[0] == "settle":
            settle_box[0] = msg[1]


def _stall_after(snapshots: list[int], stall_after: int) -> None:
    """Tests only: a solver that never returns once ``stall_after`` snapshots have been sent: every HiGHS
    solve from then on (the engine's ``_run`` and any other, e.g. the direct decomposition's, all made by
    ``typespace.new_highs``) hangs."""
    from lib.sortition import leximin as lx
    from lib.sortition import typespace

    plain_run, base = lx._run, typespace._HighsClass

    def hang_if_due() -> None:
        if snapshots[0] >= stall_after:
            while True:
                time.sleep(3600)

    def stuck(h, *a, **kw):
        hang_if_due()
        return plain_run(h, *a, **kw)

    class Stuck(base):  # type: ignore[misc, valid-type]
        def run(self, *a, **kw):
            hang_if_due()
            return base.run(self, *a, **kw)

    lx._run = stuck
    typespace._HighsClass = Stuck  # type: ignore[misc]


def _solver(objective: str) -> Callable[..., Distribution]:
    """The request's objective: leximin, or goldilocks (whose result is a Distribution too)."""
    if objective == "goldilocks":
        from lib.sortition.goldilocks import goldilocks

        return goldilocks
    return leximin


def _serve() -> None:
    """``python -m lib.sortition.worker``: one computation, asked for on standard input."""
    out = os.fdopen(os.dup(1), "wb")  # the protocol's channel ...
    os.dup2(2, 1)  # ... and anything printed goes to standard error
    inp = sys.stdin.buffer
    request = _recv(inp)
    instance, time_limit, settle, stall_after = (
        request["instance"],
        request["time_limit"],
        request["settle"],
        request.get("test_stall_after"),
    )
    objective = request.get("objective", "leximin")
    stop = threading.Event()
    settle_box = [settle]
    lock = threading.Lock()
    threading.Thread(target=_listen, args=(inp, stop, settle_box), daemon=True).start()

    def send(obj) -> None:
        with lock:
            _send(out, obj)

    snapshots = [0]
    if stall_after is not None:
        _stall_after(snapshots, stall_after)

    def on_snapshot(dist: Distribution) -> None:
        send(("snapshot", dist))
        snapshots[0] += 1

    control = Control(should_stop=stop.is_set, settle_after=lambda: settle_box[0], on_snapshot=on_snapshot)
    try:
        solve = _solver(objective)
        dist = solve(instance, time_limit=time_limit, progress=lambda m, f: send(("progress", m, f)), control=control)
        send(("done", dist))
    except BaseException as e:  # noqa: BLE001 - everything goes back to the caller
        try:
            send(("error", e))
        except Exception:  # noqa: BLE001 - an exception that cannot be pickled
            send(("error", LeximinError(f"The computation failed: {type(e).__name__}: {e}")))
    out.close()


# --- the caller's side ------------------------------------------------------------------------


class WorkerControl:
    """Handles for a computation running in a worker: stop it, or change its settle time."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc
        self._lock = threading.Lock()

    def _tell(self, msg) -> None:
        with self._lock:
            try:
                _send(_pipe(self._proc.stdin), msg)
            except (BrokenPipeError, OSError, ValueError):
                pass  # the worker has ended

    def stop(self) -> None:
        self._tell(("stop",))

    def set_settle_after(self, seconds: float | None) -> None:
        self._tell(("settle", seconds))


def _start(request: dict) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lib.sortition.worker"],
        cwd=str(_ROOT),
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=None,
    )
    _send(_pipe(proc.stdin), request)
    return proc


OBJECTIVES = ("leximin", "goldilocks")
"""What the worker can compute: ``leximin.leximin`` or ``goldilocks.goldilocks`` (the request's ``objective``)."""


def lottery_in_worker(instance: Instance, *, objective: str = "leximin", **kw) -> Distribution:
    """``leximin_in_worker`` for either objective: "leximin" (``leximin.leximin``) or "goldilocks"
    (``goldilocks.goldilocks``, gamma = 1); the same hard deadline, controls and snapshots."""
    from lib.sortition.audit.model import InputError

    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective {objective!r}: use {' or '.join(OBJECTIVES)}")
    return leximin_in_worker(instance, _objective=objective, **kw)


def _close(proc: subprocess.Popen[bytes]) -> None:
    """End the worker if it still runs, and close its pipes."""
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass
    for stream in (_pipe(proc.stdin), _pipe(proc.stdout)):
        try:
            stream.close()
        except OSError:
            pass


def _read_into(inbox: queue.Queue, stdout: IO[bytes]) -> None:
    """The worker's answers, into ``inbox`` as they come; ``("eof",)`` once the worker has ended."""
    try:
        while True:
            inbox.put(_recv(stdout))
    except (EOFError, OSError, pickle.UnpicklingError, ValueError):
        inbox.put(("eof",))


def _hard_deadline(t0: float, time_limit: float | None, grace: float) -> float | None:
    """When a worker that has not answered is killed (none without a time limit)."""
    return None if time_limit is None else t0 + float(time_limit) + grace


def _waited_enough(
    now: float, hard: float | None, stopped_at: float | None, best: Distribution | None, grace: float
) -> bool:
    """Past the hard deadline; or asked to stop, busy in a long step, with a lottery found so far to keep."""
    if hard is not None and now > hard:
        return True
    return stopped_at is not None and best is not None and now > stopped_at + grace


def _last_snapshot(best: Distribution | None, time_limit: float | None, t0: float) -> Distribution:
    """The lottery found so far, marked unfinished, when the worker gave no answer (see the caller)."""
    if best is None:
        raise LeximinError(
            f"The computation did not answer within its time limit of {time_limit:g} s and was "
            "stopped before it had found a lottery. Allow more time, or try again."
        )
    best.complete = False
    best.seconds = time.monotonic() - t0
    return best


def leximin_in_worker(
    instance: Instance,
    *,
    time_limit: float | None = None,
    progress: Callable[[str, float], None] | None = None,
    settle_after: float | None = None,
    grace: float = GRACE_SECONDS,
    on_start: Callable[[WorkerControl], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    _test_stall_after: int | None = None,
    _objective: str = "leximin",
) -> Distribution:
    """``leximin`` in a worker process that is killed ``grace`` seconds after ``time_limit``.

    ``on_start(control)`` receives the handles to stop the computation or change its settle time
    while it runs; ``should_stop()`` is polled too: once it says stop, the worker has ``grace``
    seconds to hand back its lottery before the last snapshot is taken instead. Returns the finished
    lottery, or the best one found when it was stopped, timed out or killed (``complete=False``).
    """
    t0 = time.monotonic()
    proc = _start(
        {
            "instance": instance,
            "time_limit": time_limit,
            "settle": settle_after,
            "test_stall_after": _test_stall_after,
            "objective": _objective,
        }
    )
    control = WorkerControl(proc)
    inbox: queue.Queue = queue.Queue()
    threading.Thread(
        target=_read_into, args=(inbox, _pipe(proc.stdout)), daemon=True, name="kleroterion-leximin-reader"
    ).start()
    if on_start is not None:
        on_start(control)
    hard = _hard_deadline(t0, time_limit, grace)
    best: Distribution | None = None
    stopped_at: float | None = None
    try:
        while True:
            now = time.monotonic()
            if stopped_at is None and should_stop is not None and should_stop():
                control.stop()
                stopped_at = now
            if _waited_enough(now, hard, stopped_at, best, grace):
                break
            try:
                msg = inbox.get(timeout=0.1)
            except queue.Empty:
                continue
            if msg[0] == "progress" and progress is not None:
                progress(msg[1], msg[2])
            elif msg[0] == "snapshot":
                best = msg[1]
            elif msg[0] == "done":
                return msg[1]
            elif msg[0] == "error":
                raise msg[1]
            elif msg[0] == "eof":
                if best is not None:
                    break
                raise LeximinError(
                    "The computation stopped unexpectedly (its process ended without an answer). "
                    "Try again; if it happens again, tell whoever runs the app."
                )
    finally:
        _close(proc)
    # the hard deadline passed (the solver did not return), or the worker died after a snapshot
    return _last_snapshot(best, time_limit, t0)


if __name__ == "__main__":
    _serve()
