"""Computing a draw's fair lottery: LEXIMIN or Goldilocks chances, M equally likely panels, frozen and
recorded as ``computed`` (``compute_draw``), with the greedy draw's chances beside it for comparison.

The optimiser runs in a worker process with a hard deadline (lib/sortition/worker.py); the page can
follow and steer a running computation through its ``EngineState`` (jobs.py runs it in the
background). A second draw on the same frozen inputs after one was committed or revealed is recorded
with ``rerun_of`` pointing at the first, so the app can show it to everyone.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Iterable

from lib.draws.feasibility import apply_quota_changes, feasibility_labels, quota_changes
from lib.draws.records import (
    DEFAULT_M,
    DrawError,
    DrawRecord,
    FrozenInputs,
    draw_instance,
    first_public_draw,
    frozen_inputs,
    get_draw,
    insert_draw,
    inputs_hash,
    latest_draw,
    select_draws,
    stale_questions,
    stored_draw,
)
from lib.sortition.audit.ceremony import HashStream, ReplacementContext, canonical_json, freeze
from lib.sortition.audit.model import Instance
from lib.sortition.audit.public import new_secret
from lib.store.db import Database

if TYPE_CHECKING:  # the optimiser (HiGHS, numpy) is loaded only when a draw runs
    from lib.sortition.leximin import Distribution
    from lib.sortition.worker import WorkerControl


Progress = Callable[[float, str], None]


SMALL_POOL = 2000  # sign-ups up to which the optimiser gets a minute by default (issue 12, item 4)


def default_time_limit(pool_size: int | None = None) -> float:
    """Seconds the fair-lottery optimiser may take: KLEROTERION_DRAW_TIME_LIMIT if set, else 60 for up to
    2,000 sign-ups and 120 for more (the engine proves the smallest chance and evens out the rest in that time
    on the pools measured in bench/; the organiser can let it work longer, or stop it and keep what it found).
    Before, 600 for every pool: a demo draw kept people waiting ten minutes."""
    if os.environ.get("KLEROTERION_DRAW_TIME_LIMIT"):
        return float(os.environ["KLEROTERION_DRAW_TIME_LIMIT"])
    return 60.0 if pool_size is None or pool_size <= SMALL_POOL else 120.0


def default_legacy_seconds() -> float:
    """Seconds spent estimating the greedy draw's chances (KLEROTERION_LEGACY_SECONDS, default 20)."""
    return float(os.environ.get("KLEROTERION_LEGACY_SECONDS", "20"))


def _now_text() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def estimate_legacy(instance: Instance, *, seconds: float, max_draws: int = 1000) -> tuple[dict | None, int, str]:
    """The greedy draw's chances, estimated from as many greedy draws as fit in ``seconds``.

    Each greedy draw is driven by ``HashStream("kleroterion-legacy-estimate <i>")`` (SHA-256),
    so the estimate is reproducible. Returns (probabilities or None, draws, plain note).
    """
    from lib.sortition.legacy import LegacyFailed, _Prepared, legacy_draw  # the engine, loaded when a draw runs

    prep = _Prepared(instance)
    counts = dict.fromkeys(instance.ids, 0)
    t0 = time.perf_counter()
    n = 0
    try:
        while n < max_draws and (n == 0 or time.perf_counter() - t0 < seconds):
            panel = legacy_draw(
                instance,
                HashStream(f"kleroterion-legacy-estimate {n}"),  # a legacy.RandomSource (randrange only)
                max_attempts=2000,
                _prepared=prep,
            )
            for pid in panel:
                counts[pid] += 1
            n += 1
    except LegacyFailed:
        if n == 0:
            return (
                None,
                0,
                (
                    "The greedy method used by many groups could not find a panel that meets these quotas "
                    "at all, so there is nothing to compare with."
                ),
            )
    return {pid: c / n for pid, c in counts.items()}, n, f"Estimated from {n} greedy draws."


def _fairness(probs: dict[str, float]) -> tuple[float, float]:
    from lib.sortition.metrics import gini

    return (min(probs.values()) if probs else 0.0), gini(probs)


@dataclass
class EngineState:
    """What the draw page may know and steer of a running computation (kept in this process)."""

    control: WorkerControl | None = None  # the worker's handles (stop, settle time), once it started
    proven: bool = False  # the smallest chance is proven the best possible
    level: int = 0  # the leximin level being evened out (1 = the minimum)
    levels: int = 0
    settle: float = 0.0  # seconds after which it stops once the minimum is proven
    started: float = field(default_factory=time.monotonic)
    stopped: bool = False


_ENGINES: dict[int, EngineState] = {}  # by the computing thread's id
_ENGINES_LOCK = threading.Lock()


def default_settle_seconds() -> float:
    """Once the smallest chance is proven the best possible, the draw keeps evening out the other chances
    for at most this long after its start (KLEROTERION_DRAW_SETTLE, default 50 s, so that with the rounding
    the whole draw takes about a minute); the organiser can stop it earlier or let
    it work longer, up to the time limit."""
    return float(os.environ.get("KLEROTERION_DRAW_SETTLE", "50"))


def _level_of(message: str) -> tuple[int, int] | None:
    import re

    m = re.match(r"Building panels: level (\d+) of (\d+)", message or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


@dataclass
class _Clock:
    """How far a computation is, for the progress bar: what the optimiser said last, against the time it may take
    (``limit`` grows when a try is allowed longer)."""

    state: EngineState
    objective: str
    limit: float
    t0: float

    def note(self, message: str) -> None:
        """Follow the optimiser's levels: from level 2 on (or the later stages) the smallest chance is proven."""
        lv = _level_of(message)
        if lv is not None:
            self.state.level, self.state.levels = lv
            self.state.proven = self.state.proven or lv[0] >= 2
        if message.startswith("Stage "):
            self.state.proven = True

    def words(self) -> tuple[float, str]:
        """(fraction of the optimiser's part done, the sentence under the progress bar)."""
        elapsed = time.perf_counter() - self.t0
        limit, state = self.limit, self.state
        if self.objective == "goldilocks":  # no levels: one balance between the smallest and the largest chance
            frac = max(0.0, min(1.0, elapsed / limit)) if limit else 0.0
            return frac, (
                f"Finding the most balanced lottery: nobody too unlikely, nobody nearly certain "
                f"({_duration(elapsed)} so far; it stops after {_duration(limit)} at the latest)"
            )
        if state.proven:
            end = min(limit, max(state.settle, elapsed + 1)) if limit else max(state.settle, elapsed + 1)
            where = f"level {state.level} of about {state.levels}" if state.levels else "the later stages"
            return max(0.0, min(1.0, elapsed / end)), (
                f"The smallest chance is proven the best possible. Now evening out the other chances: {where} "
                f"({_duration(elapsed)} so far; it stops after {_duration(end)} at the latest)"
            )
        frac = max(0.0, min(1.0, elapsed / limit)) if limit else 0.0
        return frac, (
            f"Finding the best possible smallest chance ({_duration(elapsed)} so far; it stops after "
            f"{_duration(limit)} at the latest)"
        )


def _optimise(work: Instance, clock: _Clock, report: Callable[[str, float], None]) -> Distribution:
    """The optimiser's distribution, from the worker process. When the time limit runs out before any lottery
    was found (a busy or slow computer), it is allowed twice as long, twice at most, rather than give up."""
    from lib.sortition.leximin import LeximinError
    from lib.sortition.worker import lottery_in_worker

    state = clock.state
    settle = state.settle  # as the computation started (the page may extend it later, through the worker)

    def started(control: WorkerControl) -> None:
        state.control = control

    attempt_limit = clock.limit
    for attempt in range(3):
        try:
            return lottery_in_worker(
                work,
                objective=clock.objective,
                time_limit=attempt_limit,
                progress=report,
                settle_after=settle,
                on_start=started,
                should_stop=lambda: state.stopped,
            )
        except LeximinError:
            if attempt == 2 or state.stopped:
                raise
            attempt_limit = attempt_limit * 2
            clock.limit = clock.limit + attempt_limit
    raise AssertionError("unreachable: the third try returns or raises")


def _greedy_comparison(work: Instance, legacy_seconds: float) -> tuple[threading.Thread, dict]:
    """The greedy draw's chances, estimated in a thread while the worker process computes the fair lottery:
    this process only waits for it, so the comparison costs no extra time on a machine with two cores.
    The result lands in the dict under "result" (none when ``legacy_seconds`` is 0)."""
    greedy: dict = {}

    def compare() -> None:
        if legacy_seconds > 0:
            greedy["result"] = estimate_legacy(work, seconds=legacy_seconds)

    comparison = threading.Thread(target=compare, daemon=True, name="kleroterion-greedy-estimate")
    comparison.start()
    return comparison, greedy


def _score_gap(dist: Distribution, objective: str) -> float:
    """How far the lottery may be from the best possible. Goldilocks: its score's gap as a share of the score
    (not a chance)."""
    if objective == "goldilocks":
        return getattr(dist, "objective_gap", 0.0) / max(getattr(dist, "objective", 1.0), 1e-12)
    return dist.gap


def prepare_lottery(
    work: Instance,
    *,
    relaxation: list,
    M: int,
    time_limit: float | None,
    legacy_seconds: float,
    context: ReplacementContext | None,
    progress: Progress,
    pseudonymise: bool,
    secret: str | None = None,
    settle_after: float | None = None,
    objective: str = "leximin",
) -> dict:
    """LEXIMIN (or Goldilocks: ``objective``) → M panels → freeze, plus the greedy comparison. Returns the
    record's columns.

    The optimiser runs in a worker process with a hard deadline (lib/sortition/worker.py), so a solver
    that never returns cannot hang the draw; it stops by itself ``settle_after`` seconds into the
    computation once the smallest chance is proven the best possible."""
    from lib.sortition.rounding import round_to_uniform

    t0 = time.perf_counter()
    limit = time_limit if time_limit is not None else default_time_limit(len(work.people))
    state = EngineState(settle=default_settle_seconds() if settle_after is None else settle_after)
    with _ENGINES_LOCK:
        _ENGINES[threading.get_ident()] = state
    clock = _Clock(state, objective, limit, t0)

    def report(message: str, fraction: float) -> None:
        clock.note(message)
        frac, text = clock.words()
        progress(0.05 + 0.65 * frac, text)

    progress(0.05, "Finding the fairest lottery")
    stop = threading.Event()

    def heartbeat() -> None:  # the optimiser may be silent for a long time: keep the bar moving
        while not stop.wait(1.0):
            report("", 0.0)

    comparison, greedy = _greedy_comparison(work, legacy_seconds)
    ticker = threading.Thread(target=heartbeat, daemon=True)
    ticker.start()
    try:
        dist = _optimise(work, clock, report)
    finally:
        stop.set()
        with _ENGINES_LOCK:
            _ENGINES.pop(threading.get_ident(), None)
    progress(0.72, f"Listing {M} equally likely panels")
    lot = round_to_uniform(work, dist, M)
    progress(0.80, "Freezing the lottery")
    fl = freeze(
        work,
        lot.panels,
        algorithm=objective,
        created=_now_text(),
        targets=dist.probabilities,
        relaxation=relaxation,
        context=context,
        pseudonymise_households=pseudonymise,
        secret=secret,
    )
    legacy, legacy_draws, legacy_note = None, 0, None
    if legacy_seconds > 0:
        progress(0.82, "Comparing with the greedy draw many groups use")
        comparison.join()
        legacy, legacy_draws, legacy_note = greedy.get("result", (None, 0, None))
    probs = dict(lot.probabilities)
    mn, g = _fairness(probs)
    progress(0.98, "Saving")
    return dict(
        lottery=fl.canonical_bytes(),
        m=fl.M,
        pool_size=len(work.people),
        probabilities=probs,
        exact=dict(dist.probabilities),
        legacy=legacy,
        legacy_draws=legacy_draws,
        legacy_note=legacy_note,
        min_probability=mn,
        gini=g,
        rounding_loss=lot.rounding_loss,
        gap=_score_gap(dist, objective),
        complete=bool(dist.complete),
        seconds=time.perf_counter() - t0,
        algorithm=objective,
    )


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


def lottery_options_hash(ihash: str, relaxation: list, M: int, extra: str = "") -> str:
    rel = sorted([c.feature, c.value, c.new_min, c.new_max] for c in relaxation)
    return hashlib.sha256(canonical_json([ihash, rel, M, extra]).encode()).hexdigest()


def compute_draw(
    db: Database,
    *,
    actor: str | None,
    relaxation: Iterable = (),
    M: int = DEFAULT_M,
    time_limit: float | None = None,
    legacy_seconds: float | None = None,
    progress: Progress | None = None,
    note: str | None = None,
    inputs: FrozenInputs | None = None,
    objective: str = "leximin",
) -> DrawRecord:
    """Compute the fair lottery on the frozen inputs and record it (status ``computed``).

    ``objective``: "leximin" (the smallest chances as large as possible) or "goldilocks" (nobody too
    unlikely, nobody nearly certain; see lib/sortition/goldilocks.py), recorded as the draw's algorithm
    and in its commitment. Both lotteries of the same inputs can be computed and kept side by side
    (``alternatives``); the organiser publishes one (``choose_draw``).

    ``relaxation``: the quota changes the organiser accepted (dicts or ``QuotaChange``);
    required when the frozen quotas cannot be met. When a computed, not yet committed
    draw on the very same inputs and options exists, it is returned instead of computing
    again. A draw on inputs that were already committed or revealed is recorded as a
    re-run (``rerun_of``).
    """
    from lib.sortition.feasibility import check_feasibility

    progress = progress or (lambda f, m: None)
    inputs = inputs or frozen_inputs(db)
    if inputs is None:
        raise DrawError("Freeze the targets before the draw (step 1), so that nobody can change them afterwards.")
    if not isinstance(M, int) or M < 1:
        raise DrawError("The number of panels in the lottery must be a whole number of at least 1.")
    if objective not in OBJECTIVE_LABELS:
        raise DrawError(f"Unknown kind of lottery {objective!r}: choose {' or '.join(OBJECTIVE_LABELS)}.")
    stale = stale_questions(db, inputs)
    if stale:
        raise DrawError(stale)
    progress(0.01, "Reading the sign-ups")
    pub = draw_instance(db, inputs)
    ihash = inputs_hash(pub)
    changes = quota_changes(relaxation)
    work, changes = apply_quota_changes(pub, changes)
    ohash = lottery_options_hash(ihash, changes, M, "" if objective == "leximin" else objective)
    same = select_draws(
        db, "WHERE kind = 'draw' AND status = 'computed' AND options_hash = ?", [ohash], order="draw_id DESC LIMIT 1"
    )
    if same:
        return same[0]
    progress(0.02, "Checking that the quotas can be met")
    report = check_feasibility(work, labels=feasibility_labels(db))
    if not report.feasible:
        what = "The quotas cannot all be met" + (" even with the changes you accepted" if changes else "")
        raise DrawError(f"{what}: {report.message()} Go back to step 1 and accept or edit the suggested change.")
    diagnosis = list(check_feasibility(pub, labels=feasibility_labels(db)).diagnosis) if changes else []
    cols = prepare_lottery(
        work,
        relaxation=changes,
        M=M,
        time_limit=time_limit,
        legacy_seconds=default_legacy_seconds() if legacy_seconds is None else legacy_seconds,
        context=None,
        progress=progress,
        pseudonymise=False,
        secret=new_secret(),
        objective=objective,
    )
    draw_id = insert_draw(
        db,
        record_columns(
            cols,
            kind="draw",
            actor=actor,
            target_version=inputs.target_version,
            panel_size=pub.panel_size,
            ihash=ihash,
            ohash=ohash,
            quotas=pub.quotas,
            changes=changes,
            diagnosis=diagnosis,
            rerun_of=first_public_draw(db, "draw", ihash),
            note=note,
        ),
    )
    progress(1.0, "Done")
    return stored_draw(db, draw_id)


def record_columns(
    cols: dict,
    *,
    kind,
    actor,
    target_version,
    panel_size,
    ihash,
    ohash,
    quotas,
    changes,
    diagnosis,
    rerun_of,
    note,
    **extra,
) -> dict:
    out = dict(
        kind=kind,
        status="computed",
        created_by=actor,
        target_version=target_version,
        panel_size=panel_size,
        algorithm=cols.get("algorithm", "leximin"),
        inputs_hash=ihash,
        options_hash=ohash,
        m=cols["m"],
        pool_size=cols["pool_size"],
        lottery=cols["lottery"],
        probabilities=json.dumps(cols["probabilities"]),
        exact_probabilities=json.dumps(cols["exact"]),
        legacy_probabilities=None if cols["legacy"] is None else json.dumps(cols["legacy"]),
        legacy_draws=cols["legacy_draws"],
        legacy_note=cols["legacy_note"],
        min_probability=cols["min_probability"],
        gini=cols["gini"],
        rounding_loss=cols["rounding_loss"],
        gap=cols["gap"],
        complete=cols["complete"],
        seconds=cols["seconds"],
        quotas=json.dumps([[q.feature, q.value, q.min, q.max] for q in quotas]),
        relaxation=json.dumps([c.as_dict() for c in changes]),
        diagnosis=json.dumps(list(diagnosis)),
        rerun_of=rerun_of,
        note=note,
    )
    out.update(extra)
    return out


OBJECTIVE_LABELS = {
    "leximin": "Fairest for the least likely (LEXIMIN)",
    "goldilocks": "Balanced: nobody too unlikely, nobody nearly certain (Goldilocks)",
}
"""The lotteries the organiser can choose between, in plain words, by the name recorded in the commitment."""


def alternatives(db: Database, rec: DrawRecord) -> dict[str, DrawRecord]:
    """The computed, unpublished lotteries on the same inputs, quota changes and number of panels as
    ``rec`` (a main draw), the newest of each kind: {"leximin": ..., "goldilocks": ...}."""
    found = select_draws(
        db,
        "WHERE kind = 'draw' AND status = 'computed' AND inputs_hash = ? AND m = ?",
        [rec.inputs_hash, rec.m],
        order="draw_id",
    )
    same = json.dumps(rec.relaxation, sort_keys=True)
    return {r.algorithm: r for r in found if json.dumps(r.relaxation, sort_keys=True) == same}


def choose_draw(db: Database, draw_id: int, *, actor: str | None) -> DrawRecord:
    """The organiser chooses which computed lottery to publish: it becomes the current draw (the latest).
    A lottery computed earlier is recorded again as a new, identical row (nothing is published, nothing
    recomputed); the other one stays on record, unpublished."""
    rec = get_draw(db, draw_id)
    if rec is None or rec.kind != "draw":
        raise DrawError(f"There is no draw number {draw_id}.")
    if rec.status != "computed":
        raise DrawError(f"Draw {draw_id} was already published; it cannot be chosen again.")
    latest = latest_draw(db)
    if latest is not None and latest.draw_id == rec.draw_id:
        return rec

    def write(cur):
        names = [
            r[0]
            for r in cur.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'draws' ORDER BY ordinal_position"
            ).fetchall()
        ]
        keep = [c for c in names if c not in ("draw_id", "created_at", "created_by")]
        new_id = cur.execute("SELECT nextval('draw_seq')").fetchall()[0][0]
        cur.execute(
            f"INSERT INTO draws (draw_id, created_by, {', '.join(keep)}) "
            f"SELECT ?, ?, {', '.join(keep)} FROM draws WHERE draw_id = ?",
            [new_id, actor, rec.draw_id],
        )
        return new_id

    return stored_draw(db, db.transaction(write))


def engine_of(thread: threading.Thread) -> EngineState | None:
    """The engine state of the computation running in ``thread`` (None once it has finished)."""
    with _ENGINES_LOCK:
        return _ENGINES.get(thread.ident or -1)
