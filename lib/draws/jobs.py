"""Long computations (a draw, a replacement round) run in a background thread (``start_draw_job`` /
``start_replacement_job``) whose progress is stored in ``draw_jobs``, so a page reload shows the
progress and nothing is computed twice. One computation at a time; a job whose thread is gone (the app
was restarted) is marked failed with a plain message."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Literal, Sequence

from lib.access.auth import actor_in_sentence
from lib.draws.compute import EngineState, Progress, compute_draw, engine_of
from lib.draws.records import DrawError, DrawRecord, latest_draw
from lib.draws.replacements import prepare_replacement
from lib.errors import UserError
from lib.sortition.audit.model import InputError
from lib.store.db import Database


log = logging.getLogger("kleroterion.draws")


@dataclass
class Job:
    job_id: int
    kind: str
    status: str  # running | done | failed
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    started_by: str | None
    progress: float
    message: str | None
    error: str | None
    draw_id: int | None


_ACTIVE: dict[tuple[str, int], threading.Thread] = {}


_ACTIVE_LOCK = threading.Lock()
# One check-and-start at a time: two tabs (or two organisers) pressing "Compute" at the same instant both found
# nothing running before either had stored its job. The app has one process per database (lib/store/db.py).
_START_LOCK = threading.Lock()


class DrawMovedOn(DrawError):
    """The draw changed since the page that asked for a computation was drawn (another tab or organiser)."""


def _job(db: Database, where: str, params: list) -> Job | None:
    rows = db.query(
        "SELECT job_id, kind, status, started_at, updated_at, finished_at, started_by, progress, "
        f"message, error, draw_id FROM draw_jobs {where} ORDER BY job_id DESC LIMIT 1",
        params,
    )
    return Job(*rows[0]) if rows else None


def get_job(db: Database, job_id: int) -> Job | None:
    job = _job(db, "WHERE job_id = ?", [int(job_id)])
    if job is not None and job.status == "running":
        with _ACTIVE_LOCK:
            t = _ACTIVE.get((db.path, job.job_id))
        if t is None or (t.ident is not None and not t.is_alive()):  # ident None: about to start
            # The thread is gone without finishing (the app was restarted while it ran).
            # Only if it is still marked running: the thread may have finished a moment ago.
            _finish(
                db,
                job.job_id,
                "failed",
                error="The computation was interrupted (the app was restarted). Start it again.",
                only_running=True,
            )
            job = _job(db, "WHERE job_id = ?", [int(job_id)])
    return job


def last_job(db: Database, kind: str) -> Job | None:
    job = _job(db, "WHERE kind = ?", [kind])
    return get_job(db, job.job_id) if job else None


def running_job(db: Database, kind: str | None = None) -> Job | None:
    job = _job(db, "WHERE status = 'running'" + (" AND kind = ?" if kind else ""), [kind] if kind else [])
    if job is None:
        return None
    job = get_job(db, job.job_id)
    return job if job and job.status == "running" else None


def engine_state(db: Database, job_id: int) -> EngineState | None:
    """The running computation of ``job_id`` in this process (None when it is not running here)."""
    with _ACTIVE_LOCK:
        thread = _ACTIVE.get((db.path, job_id))
    if thread is None:
        return None
    return engine_of(thread)


def stop_job(db: Database, job_id: int) -> bool:
    """Stop the computation now and keep the lottery found so far (True if it was running here)."""
    state = engine_state(db, job_id)
    if state is None:
        return False
    state.stopped = True
    if state.control is not None:
        state.control.stop()
    return True


def extend_job(db: Database, job_id: int, seconds: float) -> float | None:
    """Let the computation even out the chances for ``seconds`` more (up to its time limit). Returns the
    new settle time in seconds from its start, or None when it is not running here."""
    state = engine_state(db, job_id)
    if state is None:
        return None
    state.settle = max(state.settle, time.monotonic() - state.started) + float(seconds)
    if state.control is not None:
        state.control.set_settle_after(state.settle)
    return state.settle


def _finish(
    db: Database,
    job_id: int,
    status: str,
    *,
    error: str | None = None,
    draw_id: int | None = None,
    only_running: bool = False,
):
    def write(cur):
        cur.execute(
            "UPDATE draw_jobs SET status = ?, error = ?, draw_id = ?, finished_at = now(), updated_at = now(), "
            "progress = CASE WHEN ? = 'done' THEN 1.0 ELSE progress END WHERE job_id = ?"
            + (" AND status = 'running'" if only_running else ""),
            [status, error, draw_id, status, job_id],
        )

    db.transaction(write)


def _start_job(
    db: Database,
    kind: str,
    actor: str | None,
    work: Callable[[Progress], DrawRecord],
    *,
    wait: bool = False,
    check: Callable[[], None] | None = None,
) -> int:
    def create(cur):
        job_id = cur.execute("SELECT nextval('draw_job_seq')").fetchall()[0][0]
        cur.execute(
            "INSERT INTO draw_jobs (job_id, kind, status, started_by, message) VALUES (?, ?, 'running', ?, ?)",
            [job_id, kind, actor, "Starting"],
        )
        return job_id

    with _START_LOCK:
        if check is not None:
            check()
        other = running_job(db)
        if other is not None:
            raise DrawError(
                f"A computation started by {actor_in_sentence(other.started_by)} is still running. "
                "Wait for it to finish."
            )
        job_id = db.transaction(create)
    last = [0.0]

    last_message = [""]

    def progress(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] < 0.5 and fraction < 1.0 and message == last_message[0]:
            return
        last[0] = now
        last_message[0] = message

        def write(cur):
            cur.execute(
                "UPDATE draw_jobs SET progress = ?, message = ?, updated_at = now() WHERE job_id = ?",
                [float(max(0.0, min(1.0, fraction))), str(message)[:300], job_id],
            )

        try:
            db.transaction(write)
        except Exception:  # noqa: BLE001 - progress is best effort
            pass

    def run() -> None:
        try:
            rec = work(progress)
            _finish(db, job_id, "done", draw_id=rec.draw_id)
        except (UserError, InputError) as e:
            _finish(db, job_id, "failed", error=str(e))
        except Exception:  # noqa: BLE001 - reported in plain words, details in the log
            log.error("Draw computation failed:\n%s", traceback.format_exc())
            _finish(
                db,
                job_id,
                "failed",
                error="The computation failed because of a problem on our side. Nothing "
                "was published. Try again; if it happens again, the details are in "
                "the server's log.",
            )
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE.pop((db.path, job_id), None)

    thread = threading.Thread(target=run, name=f"kleroterion-draw-job-{job_id}", daemon=True)
    with _ACTIVE_LOCK:
        _ACTIVE[(db.path, job_id)] = thread
    thread.start()
    if wait:
        thread.join()
    return job_id


def start_draw_job(
    db: Database, *, actor: str | None, wait: bool = False, seen_latest: int | None | Literal["any"] = "any", **kw
) -> int:
    """Run ``compute_draw`` in the background; returns the job id (see ``get_job``).

    ``seen_latest``: the latest draw's id (None: no draw yet) on the page that asked. When the latest draw is
    another one by now (another tab or organiser computed or started again meanwhile), nothing is started and
    DrawMovedOn says so: a click left on an old screen must not compute again over the newer lottery."""

    def unchanged() -> None:
        if seen_latest == "any":
            return
        latest = latest_draw(db)
        if (latest.draw_id if latest else None) != seen_latest:
            raise DrawMovedOn(
                "The draw moved on in another tab or by another organiser since this page was shown"
                + (f" (the latest lottery is now draw {latest.draw_id})" if latest else "")
                + ", so nothing new was computed. This page now shows where the draw is."
            )

    return _start_job(
        db, "draw", actor, lambda p: compute_draw(db, actor=actor, progress=p, **kw), wait=wait, check=unchanged
    )


def start_replacement_job(
    db: Database, dropout_ids: Sequence[str], *, actor: str | None, wait: bool = False, **kw
) -> int:
    """Run ``prepare_replacement`` in the background; returns the job id."""
    return _start_job(
        db, "replacement", actor, lambda p: prepare_replacement(db, dropout_ids, actor, progress=p, **kw), wait=wait
    )


def wait_for_job(db: Database, job_id: int, timeout: float = 120) -> Job | None:
    """The job once it has finished, or as it is after ``timeout`` seconds (None: there is no such job)."""
    deadline = time.monotonic() + timeout
    while True:
        job = get_job(db, job_id)
        if job is None or job.status != "running" or time.monotonic() > deadline:
            return job
        time.sleep(0.1)
