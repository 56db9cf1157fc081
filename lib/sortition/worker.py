"""LEXIMIN in a worker process with a hard deadline: a draw can never hang.

HiGHS runs in C. Every solve has a time limit (``leximin._run``), but a solve that ignores it
(a solver bug, a stalled simplex that never checks its clock) would hold a thread for ever,
and a thread cannot be stopped from outside. So the app and the command line run the
computation in a separate process (``multiprocessing``'s *spawn* start method: a fresh
interpreter, safe beside Streamlit's threads) and keep, in this process:

- the lottery found so far: the child sends a *snapshot* (a valid ``Distribution``) each time
  a leximin level is finished, and always as soon as the minimum probability is proven;
- a hard deadline: ``time_limit + grace`` seconds after the start, a child that has not
  answered is killed, and the last snapshot is returned (``complete=False``);
- the controls: a stop request (keep the lottery found so far) and the settle time (stop by
  itself once the minimum is proven and this many seconds have passed), both of which the
  child reads at its next check.

``leximin_in_worker`` returns the same ``Distribution`` as ``leximin`` and raises the same
errors (``InfeasibleQuotas``, ``LeximinError``).
"""

from __future__ import annotations

import math
import multiprocessing as mp
import time
from typing import Callable

from .leximin import Control, Distribution, LeximinError, leximin
from .model import Instance

GRACE_SECONDS = 5.0
"""How long past the time limit a worker may take to hand back its answer before it is killed."""

_POLL = 0.1


def _child(conn, instance: Instance, time_limit: float | None, stop, settle, test_stall_after: int | None) -> None:
    """The worker's body: run leximin, stream progress and snapshots, send the result."""
    from . import leximin as lx

    if test_stall_after is not None:      # tests only: a solver that never returns (see the module's tests)
        plain_run = lx._run
        sent = {"n": 0}

        def stuck(h, *a, **kw):
            if sent["n"] >= test_stall_after:
                while True:
                    time.sleep(3600)
            return plain_run(h, *a, **kw)

        lx._run = stuck

    def progress(message: str, fraction: float) -> None:
        conn.send(("progress", message, fraction))

    def on_snapshot(dist: Distribution) -> None:
        conn.send(("snapshot", dist))
        if test_stall_after is not None:
            sent["n"] += 1

    control = Control(should_stop=stop.is_set,
                      settle_after=lambda: None if math.isnan(settle.value) else settle.value,
                      on_snapshot=on_snapshot)
    try:
        dist = leximin(instance, time_limit=time_limit, progress=progress, control=control)
        conn.send(("done", dist))
    except BaseException as e:  # noqa: BLE001 - everything goes back to the parent
        try:
            conn.send(("error", e))
        except Exception:  # noqa: BLE001 - an exception that cannot be pickled
            conn.send(("error", LeximinError(f"The computation failed: {type(e).__name__}: {e}")))
    finally:
        conn.close()


class WorkerControl:
    """Handles for a computation running in a worker: stop it, or change its settle time."""

    def __init__(self, ctx) -> None:
        self._stop = ctx.Event()
        self._settle = ctx.Value("d", math.nan)

    def stop(self) -> None:
        self._stop.set()

    def set_settle_after(self, seconds: float | None) -> None:
        self._settle.value = math.nan if seconds is None else float(seconds)


def leximin_in_worker(instance: Instance, *, time_limit: float | None = None,
                      progress: Callable[[str, float], None] | None = None,
                      settle_after: float | None = None, grace: float = GRACE_SECONDS,
                      on_start: Callable[[WorkerControl], None] | None = None,
                      should_stop: Callable[[], bool] | None = None,
                      _test_stall_after: int | None = None) -> Distribution:
    """``leximin`` in a worker process that is killed ``grace`` seconds after ``time_limit``.

    ``on_start(control)`` receives the handles to stop the computation or change its settle time
    while it runs; ``should_stop()`` is polled too (either stops it). Returns the finished
    lottery, or the best one found when it was stopped, timed out or killed (``complete=False``).
    """
    ctx = mp.get_context("spawn")
    control = WorkerControl(ctx)
    control.set_settle_after(settle_after)
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, name="kleroterion-leximin",
                       args=(child, instance, time_limit, control._stop, control._settle, _test_stall_after),
                       daemon=True)
    t0 = time.monotonic()
    proc.start()
    child.close()
    if on_start is not None:
        on_start(control)
    hard = None if time_limit is None else t0 + float(time_limit) + grace
    best: Distribution | None = None
    try:
        while True:
            if should_stop is not None and should_stop():
                control.stop()
            if hard is not None and time.monotonic() > hard:
                break
            try:
                ready = parent.poll(_POLL)
            except (EOFError, OSError):
                ready = False
            if not ready:
                if not proc.is_alive() and not parent.poll(0):
                    raise LeximinError("The computation stopped unexpectedly (its process ended without an "
                                       "answer). Try again; if it happens again, tell whoever runs the app.")
                continue
            try:
                msg = parent.recv()
            except EOFError:
                continue
            if msg[0] == "progress" and progress is not None:
                progress(msg[1], msg[2])
            elif msg[0] == "snapshot":
                best = msg[1]
            elif msg[0] == "done":
                return msg[1]
            elif msg[0] == "error":
                raise msg[1]
    finally:
        if proc.is_alive():
            proc.terminate()
            proc.join(2)
            if proc.is_alive():
                proc.kill()
                proc.join(2)
        parent.close()
    # the hard deadline passed: the solver did not return
    if best is None:
        raise LeximinError(f"The computation did not answer within its time limit of {time_limit:g} s and was "
                           "stopped before it had found a lottery. Allow more time, or try again.")
    best.complete = False
    best.seconds = time.monotonic() - t0
    return best
