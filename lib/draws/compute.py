"""The app's record of the draw ceremony (migration 002): frozen inputs, lotteries,
commitments, reveals, audit bundles, and replacement rounds.

Life of a draw (``DrawRecord.status``)::

    computed  -- the fair lottery (M panels) is ready; nothing is public yet
    committed -- its commitment (SHA-256 of the frozen lottery) has been published
    revealed  -- the public random number chose the panel; the audit bundle exists
    withdrawn -- its commitment was replaced by a newer one before any reveal (in public)

A draw cannot be revealed before it is committed, nor revealed twice. There is at most one
live commitment per slot (the main draw; the replacement round continuing a given draw):
publishing another withdraws the live one, with a reason, and every commitment, withdrawal
and reveal is appended to the public record (``draw_events``, a hash chain checked by
``lib.sortition.audit.record``), which the Transparency page lists in full. A public number is
used once, for the live commitment only. A second draw on
the same frozen inputs (pool, quotas, panel size) after one was committed or revealed is
recorded with ``rerun_of`` pointing at the first, so the app can show it to everyone.

The inputs of a draw come from a *frozen* target version (``target_versions.frozen_at``,
``freeze_targets``): its quotas (``lib.recruitment.quotas.quotas_for_version``) and panel size, and the
eligible sign-ups (``lib.recruitment.quotas.build_instance``). Everything the ceremony publishes is
pseudonymous (person ids only); names stay in the ``contacts`` table.

Replacement rounds (``prepare_replacement``) continue the revealed draw: the reserve pool
is everybody never selected and not excluded, the quotas are the original ones minus the
members who stay (``lib.sortition.audit.ceremony.replacement_instance``), and the round goes
through the same commit → public number → reveal steps; its bundle contains the previous
one, so verifying the last round verifies the chain.

Long computations run in a background thread (``start_draw_job`` /
``start_replacement_job``) whose progress is stored in ``draw_jobs``, so a page reload
shows the progress and nothing is computed twice. Pure Python: no Streamlit here.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable, Iterable, Sequence

import pandas as pd

from lib.store.db import Database
from lib.errors import UserError
from lib.sortition.audit.ceremony import (FrozenLottery, HashStream, ReplacementContext, canonical_json, freeze,
                                    parse_canonical, public_pool, rank_by_hash)
from lib.sortition.audit.model import InputError, Instance, Quota
from lib.sortition.audit.public import new_secret

log = logging.getLogger("kleroterion.draws")

DEFAULT_M = 1000
ALMOST_NO_CHANCE = 0.001
"""A chance below 1 in 1,000 counts as "almost no chance" in the comparison with the greedy draw."""

Progress = Callable[[float, str], None]


class DrawError(UserError):
    """A step of the ceremony that cannot be done now; the message says why and what to do."""


# --- settings from the environment (the demo and tests shorten the computation) ---------------

def default_time_limit() -> float:
    """Seconds the fair-lottery optimiser may take (KLEROTERION_DRAW_TIME_LIMIT, default 600)."""
    return float(os.environ.get("KLEROTERION_DRAW_TIME_LIMIT", "600"))


def default_legacy_seconds() -> float:
    """Seconds spent estimating the greedy draw's chances (KLEROTERION_LEGACY_SECONDS, default 20)."""
    return float(os.environ.get("KLEROTERION_LEGACY_SECONDS", "20"))


# --- the record -----------------------------------------------------------------------------

@dataclass
class DrawRecord:
    draw_id: int
    kind: str                 # "draw" | "replacement"
    status: str               # "computed" | "committed" | "revealed" | "withdrawn" (replaced before a reveal)
    created_at: datetime
    created_by: str | None
    target_version: int | None
    panel_size: int
    algorithm: str            # "leximin" | "goldilocks" | "legacy"
    commitment: str | None    # 64 hex digits once committed
    public_number: str | None # once revealed
    selected_ids: list[str]   # person_ids, empty until revealed
    reserve_ids: list[str]    # the pool minus the selected, in SHA-256 rank order (revealed only)
    probabilities: dict[str, float]          # each person's chance in the fair lottery (appearances / M)
    legacy_probabilities: dict[str, float] | None  # estimated chances under the greedy draw
    min_probability: float | None
    gini: float | None
    rerun_of: int | None      # a second draw on the same frozen inputs points at the first
    replaces: list[str]       # replacement draws: the person_ids replaced (same order as selected_ids)
    note: str | None
    # --- extensions ---
    m: int = DEFAULT_M
    pool_size: int = 0
    exact_probabilities: dict[str, float] = field(default_factory=dict)
    legacy_draws: int | None = None
    legacy_note: str | None = None
    rounding_loss: float | None = None
    gap: float | None = None
    complete: bool | None = None
    seconds: float | None = None
    quotas: list[tuple[str, str, int, int]] = field(default_factory=list)   # frozen, before relaxation
    relaxation: list[dict] = field(default_factory=list)
    diagnosis: list[str] = field(default_factory=list)
    committed_at: datetime | None = None
    committed_by: str | None = None
    revealed_at: datetime | None = None
    revealed_by: str | None = None
    draw_hash: str | None = None
    panel_index: int | None = None
    panel_after: list[str] = field(default_factory=list)   # the whole panel once revealed
    excluded: list[str] = field(default_factory=list)
    round: int = 0
    parent_id: int | None = None
    root_id: int | None = None
    inputs_hash: str = ""
    options_hash: str = ""

    @property
    def is_committed(self) -> bool:
        return self.status in ("committed", "revealed")

    @property
    def is_revealed(self) -> bool:
        return self.status == "revealed"


_COLUMNS = ("draw_id, kind, status, created_at, created_by, target_version, panel_size, algorithm, commitment, "
            "public_number, selected_ids, reserve_ids, probabilities, legacy_probabilities, min_probability, gini, "
            "rerun_of, replaces, note, m, pool_size, exact_probabilities, legacy_draws, legacy_note, rounding_loss, "
            "gap, complete, seconds, quotas, relaxation, diagnosis, committed_at, committed_by, revealed_at, "
            "revealed_by, draw_hash, panel_index, panel_after, excluded, round, parent_id, root_id, inputs_hash, "
            "options_hash")


def _loads(text, default):
    return default if text is None else json.loads(text)


def _record(row: tuple) -> DrawRecord:
    (draw_id, kind, status, created_at, created_by, target_version, panel_size, algorithm, commitment,
     public_number, selected, reserve, probs, legacy, min_p, gini, rerun_of, replaces, note, m, pool_size, exact,
     legacy_draws, legacy_note, loss, gap, complete, seconds, quotas, relaxation, diagnosis, committed_at,
     committed_by, revealed_at, revealed_by, draw_hash, panel_index, panel_after, excluded, rnd, parent_id,
     root_id, inputs_hash, options_hash) = row
    return DrawRecord(
        draw_id=draw_id, kind=kind, status=status, created_at=created_at, created_by=created_by,
        target_version=target_version, panel_size=panel_size, algorithm=algorithm, commitment=commitment,
        public_number=public_number, selected_ids=list(selected or []), reserve_ids=list(reserve or []),
        probabilities=_loads(probs, {}), legacy_probabilities=_loads(legacy, None), min_probability=min_p,
        gini=gini, rerun_of=rerun_of, replaces=list(replaces or []), note=note, m=m, pool_size=pool_size,
        exact_probabilities=_loads(exact, {}), legacy_draws=legacy_draws, legacy_note=legacy_note,
        rounding_loss=loss, gap=gap, complete=complete, seconds=seconds,
        quotas=[tuple(q) for q in _loads(quotas, [])], relaxation=_loads(relaxation, []),
        diagnosis=_loads(diagnosis, []), committed_at=committed_at, committed_by=committed_by,
        revealed_at=revealed_at, revealed_by=revealed_by, draw_hash=draw_hash, panel_index=panel_index,
        panel_after=list(panel_after or []), excluded=list(excluded or []), round=rnd, parent_id=parent_id,
        root_id=root_id, inputs_hash=inputs_hash, options_hash=options_hash)


def _select(db: Database, where: str = "", params: list | None = None, order: str = "draw_id") -> list[DrawRecord]:
    rows = db.query(f"SELECT {_COLUMNS} FROM draws {where} ORDER BY {order}", params or [])
    return [_record(r) for r in rows]


def get_draw(db: Database, draw_id: int) -> DrawRecord | None:
    found = _select(db, "WHERE draw_id = ?", [int(draw_id)])
    return found[0] if found else None


def list_draws(db: Database) -> list[DrawRecord]:
    """Every draw and replacement round, oldest first."""
    return _select(db)


def latest_draw(db: Database) -> DrawRecord | None:
    """The most recent main draw, whatever its status (None before the first lottery is computed)."""
    found = _select(db, "WHERE kind = 'draw'", order="draw_id DESC LIMIT 1")
    return found[0] if found else None


def revealed_draw(db: Database) -> DrawRecord | None:
    """The latest revealed main draw (the one the assembly's panel comes from)."""
    found = _select(db, "WHERE kind = 'draw' AND status = 'revealed'", order="draw_id DESC LIMIT 1")
    return found[0] if found else None


def replacement_rounds(db: Database, root_id: int | None = None) -> list[DrawRecord]:
    """Replacement rounds continuing ``root_id`` (default: the revealed draw), oldest first."""
    if root_id is None:
        root = revealed_draw(db)
        if root is None:
            return []
        root_id = root.draw_id
    return _select(db, "WHERE kind = 'replacement' AND root_id = ?", [root_id])


def chain_tip(db: Database) -> DrawRecord | None:
    """The latest revealed record of the revealed draw's chain (the draw itself, or its last round)."""
    root = revealed_draw(db)
    if root is None:
        return None
    revealed = [r for r in replacement_rounds(db, root.draw_id) if r.is_revealed]
    return revealed[-1] if revealed else root


def current_panel(db: Database) -> list[str]:
    """The panel now: the revealed draw's selection with every revealed replacement round applied."""
    tip = chain_tip(db)
    return list(tip.panel_after) if tip else []


def draw_bundle(db: Database, draw_id: int) -> bytes | None:
    """The audit bundle (zip bytes) of a revealed draw or round; None before it is revealed."""
    data = db.scalar("SELECT bundle FROM draws WHERE draw_id = ?", [int(draw_id)])
    return bytes(data) if data is not None else None


def public_bundle(db: Database, draw_id: int) -> bytes | None:
    """The bundle anybody may download: only a public (v2) bundle, which names nobody. None before the
    reveal, and None for a draw made before public bundles existed (its bundle lists everybody's answers)."""
    data = draw_bundle(db, draw_id)
    if data is None or not _is_public(data):
        return None
    return data


def _is_public(data: bytes) -> bool:
    from lib.sortition.audit.bundle import manifest_of, read_bundle

    try:
        return manifest_of(read_bundle(data)).get("contents") == "public"
    except InputError:
        return False


def auditors_bundle(db: Database, draw_id: int) -> bytes | None:
    """The complete bundle (every answer per bundle id), for the auditors the members named: organisers
    only. For a draw made before public bundles existed, its one (complete) bundle."""
    row = db.query("SELECT audit_bundle, bundle FROM draws WHERE draw_id = ?", [int(draw_id)])
    if not row:
        return None
    audit, bundle = row[0]
    if audit is not None:
        return bytes(audit)
    if bundle is not None and not _is_public(bytes(bundle)):
        return bytes(bundle)
    return None


_LOTTERIES: dict[bytes, FrozenLottery] = {}
_LOTTERIES_LOCK = threading.Lock()


def frozen_lottery(db: Database, draw_id: int) -> FrozenLottery:
    """The frozen lottery of a draw (parsed once per content, then kept in memory)."""
    data = db.scalar("SELECT lottery FROM draws WHERE draw_id = ?", [int(draw_id)])
    if data is None:
        raise DrawError(f"There is no draw number {draw_id}.")
    data = bytes(data)
    key = hashlib.sha256(data).digest()
    with _LOTTERIES_LOCK:
        found = _LOTTERIES.get(key)
    if found is not None:
        return found
    fl = parse_canonical(data)
    with _LOTTERIES_LOCK:
        if len(_LOTTERIES) >= 16:
            _LOTTERIES.pop(next(iter(_LOTTERIES)))
        _LOTTERIES[key] = fl
    return fl


# --- frozen inputs --------------------------------------------------------------------------

@dataclass
class FrozenInputs:
    target_version: int
    panel_size: int
    quotas: list[Quota]
    frozen_at: datetime | None
    frozen_by: str | None
    one_per_household: bool = False


def freeze_targets(db: Database, version: int | None = None, *, actor: str | None) -> int:
    """Freeze a target version (default: the latest) for the draw; returns its number.

    Uses ``target_versions.frozen_at / frozen_by`` (migration 001), which the Targets page
    also reads: a frozen version can no longer change. Freezing twice is harmless.
    """
    from lib.recruitment.targets import latest_version, load_targets

    v = latest_version(db) if version is None else int(version)
    if v is None:
        raise DrawError("There are no population targets yet. Enter them on the Targets page first.")
    info = db.query("SELECT panel_size FROM target_versions WHERE version = ?", [v])
    if not info:
        raise DrawError(f"There is no target version {v}.")
    if not info[0][0]:
        raise DrawError(f"Target version {v} has no panel size. Set it on the Targets page first.")
    if not load_targets(db, v):
        raise DrawError(f"Target version {v} has no targets in it. Enter them on the Targets page first.")

    def write(cur):
        cur.execute("UPDATE target_versions SET frozen_at = now(), frozen_by = ? "
                    "WHERE version = ? AND frozen_at IS NULL", [actor or "organiser", v])

    db.transaction(write)
    return v


def frozen_inputs(db: Database) -> FrozenInputs | None:
    """The latest frozen target version as draw inputs (quotas and panel size); None when none is frozen."""
    from lib.recruitment.quotas import quotas_for_version

    rows = db.query("SELECT version, panel_size, frozen_at, frozen_by FROM target_versions "
                    "WHERE frozen_at IS NOT NULL ORDER BY version DESC LIMIT 1")
    if not rows:
        return None
    v, k, at, by = rows[0]
    if not k:
        return None
    quotas = [r.as_quota() for r in quotas_for_version(db, v)]
    from lib.store.settings import get_setting

    return FrozenInputs(v, int(k), quotas, at, by, bool(get_setting(db, "one_per_household", False)))


def draw_instance(db: Database, inputs: FrozenInputs) -> Instance:
    """The public (pseudonymous) selection problem: eligible sign-ups with the frozen quotas."""
    from lib.recruitment.quotas import build_instance

    inst = build_instance(db, inputs.quotas, inputs.panel_size, one_per_household=inputs.one_per_household)
    if not inst.people:
        raise DrawError("There are no eligible sign-ups to draw from. Bring in the sign-ups first.")
    return public_pool(inst, pseudonymise_households=True)


def inputs_hash(instance: Instance) -> str:
    """SHA-256 over the pool, the quotas, the panel size and the household rule, in canonical lines."""
    h = hashlib.sha256()
    h.update(canonical_json({"k": instance.panel_size, "one_per_household": bool(instance.one_per_household)})
             .encode() + b"\n")
    for q in sorted(instance.quotas, key=lambda q: (q.feature, q.value)):
        h.update(canonical_json(["quota", q.feature, q.value, q.min, q.max]).encode() + b"\n")
    for p in sorted(instance.people, key=lambda p: p.id):
        feats = [[f, p.features.get(f, "")] for f in sorted(p.features)]
        h.update(canonical_json(["person", p.id, p.household or "", feats]).encode() + b"\n")
    return h.hexdigest()


def stale_questions(db: Database, inputs: FrozenInputs) -> str | None:
    """Why the frozen quotas no longer fit the questions (a sentence), or None when they do: the questions
    or their answers were changed after the targets were frozen (the set-up page then starts a new target
    version), so a quota may name an answer nobody can give any more."""
    from lib.recruitment.categories import load_fields

    fields = {f.key: f for f in load_fields(db)}
    for q in inputs.quotas:
        f = fields.get(q.feature)
        if f is None or q.value not in f.values:
            what = (f"the question “{q.feature}”" if f is None else
                    f"the answer “{q.value}” to “{f.label}”")
            return (f"The questions changed after target version {inputs.target_version} was frozen: {what} no "
                    "longer exists. Freeze the newer target version (step 1) so that the draw uses the questions "
                    "as they are now.")
    return None


def check_inputs(db: Database, inputs: FrozenInputs | None = None):
    """Feasibility report (``lib.sortition.feasibility.FeasibilityReport``) for the frozen inputs."""
    from lib.sortition.feasibility import check_feasibility

    inputs = inputs or frozen_inputs(db)
    if inputs is None:
        raise DrawError("Freeze the targets first (step 1).")
    stale = stale_questions(db, inputs)
    if stale:
        raise DrawError(stale)
    return check_feasibility(draw_instance(db, inputs), labels=feasibility_labels(db))


def feasibility_labels(db: Database):
    """The questions' and answers' labels as the organisers set them up, for infeasibility messages."""
    from lib.recruitment.categories import load_fields
    from lib.sortition.feasibility import Labels

    fields = load_fields(db)
    return Labels({f.key: f.label for f in fields},
                  {(f.key, v): f.value_labels.get(v, v) for f in fields for v in f.values})


def quota_changes(relaxation: Iterable) -> list:
    """``QuotaChange`` objects from dicts or QuotaChange-like objects (e.g. edited by the organiser)."""
    from lib.sortition.feasibility import QuotaChange

    out = []
    for c in relaxation or []:
        get = c.get if isinstance(c, dict) else (lambda k, c=c: getattr(c, k))
        out.append(QuotaChange(str(get("feature")), str(get("value")), int(get("old_min")), int(get("old_max")),
                               int(get("new_min")), int(get("new_max"))))
    return out


def _apply_relaxation(instance: Instance, changes: list) -> Instance:
    from lib.sortition.feasibility import apply_relaxation

    by_key = {(q.feature, q.value): q for q in instance.quotas}
    cleaned = []
    for c in changes:
        q = by_key.get((c.feature, c.value))
        if q is None:
            raise DrawError(f"The change to {c.feature} = {c.value} does not match any quota.")
        if (c.old_min, c.old_max) != (q.min, q.max):
            raise DrawError(f"The change to {c.feature} = {c.value} was made for the quota [{c.old_min}, "
                            f"{c.old_max}], but the quota is now [{q.min}, {q.max}]. Check the quotas again.")
        if c.new_min < 0 or c.new_max < c.new_min:
            raise DrawError(f"{c.feature} = {c.value}: the new minimum ({c.new_min}) must be at least 0 and not "
                            f"more than the new maximum ({c.new_max}).")
        if c.new_max > instance.panel_size:
            raise DrawError(f"{c.feature} = {c.value}: the new maximum ({c.new_max}) is larger than the panel "
                            f"({instance.panel_size}).")
        if (c.new_min, c.new_max) != (c.old_min, c.old_max):
            cleaned.append(c)
    return apply_relaxation(instance, cleaned), cleaned


# --- computing the lottery -------------------------------------------------------------------

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
            panel = legacy_draw(instance, HashStream(f"kleroterion-legacy-estimate {n}"), max_attempts=2000,  # type: ignore[arg-type]
                                _prepared=prep)
            for pid in panel:
                counts[pid] += 1
            n += 1
    except LegacyFailed:
        if n == 0:
            return None, 0, ("The greedy method used by many groups could not find a panel that meets these quotas "
                             "at all, so there is nothing to compare with.")
    return {pid: c / n for pid, c in counts.items()}, n, f"Estimated from {n} greedy draws."


def _fairness(probs: dict[str, float]) -> tuple[float, float]:
    from lib.sortition.metrics import gini

    return (min(probs.values()) if probs else 0.0), gini(probs)


@dataclass
class EngineState:
    """What the draw page may know and steer of a running computation (kept in this process)."""
    control: object | None = None            # lib.sortition.worker.WorkerControl, once the worker started
    proven: bool = False                     # the smallest chance is proven the best possible
    level: int = 0                           # the leximin level being evened out (1 = the minimum)
    levels: int = 0
    settle: float = 0.0                      # seconds after which it stops once the minimum is proven
    started: float = field(default_factory=time.monotonic)
    stopped: bool = False


_ENGINES: dict[int, EngineState] = {}       # by the computing thread's id
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


def _prepare(work: Instance, *, relaxation: list, M: int, time_limit: float | None, legacy_seconds: float,  # noqa: C901 - draws.py is edited on main now: split by concern after (issue 14)
             context: ReplacementContext | None, progress: Progress, pseudonymise: bool,
             secret: str | None = None, settle_after: float | None = None, objective: str = "leximin") -> dict:
    """LEXIMIN (or Goldilocks: ``objective``) → M panels → freeze, plus the greedy comparison. Returns the
    record's columns.

    The optimiser runs in a worker process with a hard deadline (lib/sortition/worker.py), so a solver
    that never returns cannot hang the draw; it stops by itself ``settle_after`` seconds into the
    computation once the smallest chance is proven the best possible."""
    from lib.sortition.leximin import LeximinError
    from lib.sortition.rounding import round_to_uniform
    from lib.sortition.worker import lottery_in_worker

    t0 = time.perf_counter()
    limit = time_limit if time_limit is not None else default_time_limit()
    settle = default_settle_seconds() if settle_after is None else settle_after
    state = EngineState(settle=settle)
    with _ENGINES_LOCK:
        _ENGINES[threading.get_ident()] = state

    def lex_progress(message: str, fraction: float) -> None:
        elapsed = time.perf_counter() - t0
        lv = _level_of(message)
        if lv is not None:
            state.level, state.levels = lv
            state.proven = state.proven or lv[0] >= 2
        if message.startswith("Stage "):
            state.proven = True
        if objective == "goldilocks":   # no levels: one balance between the smallest and the largest chance
            frac = max(0.0, min(1.0, elapsed / limit)) if limit else 0.0
            text = (f"Finding the most balanced lottery: nobody too unlikely, nobody nearly certain "
                    f"({_duration(elapsed)} so far; it stops after {_duration(limit)} at the latest)")
        elif state.proven:
            end = min(limit, max(state.settle, elapsed + 1)) if limit else max(state.settle, elapsed + 1)
            frac = max(0.0, min(1.0, elapsed / end))
            where = (f"level {state.level} of about {state.levels}" if state.levels else "the later stages")
            text = (f"The smallest chance is proven the best possible. Now evening out the other chances: {where} "
                    f"({_duration(elapsed)} so far; it stops after {_duration(end)} at the latest)")
        else:
            frac = max(0.0, min(1.0, elapsed / limit)) if limit else 0.0
            text = (f"Finding the best possible smallest chance ({_duration(elapsed)} so far; it stops after "
                    f"{_duration(limit)} at the latest)")
        progress(0.05 + 0.65 * frac, text)

    progress(0.05, "Finding the fairest lottery")
    stop = threading.Event()

    def heartbeat() -> None:   # the optimiser may be silent for a long time: keep the bar moving
        while not stop.wait(1.0):
            lex_progress("", 0.0)

    def started(control) -> None:
        state.control = control

    # The greedy draw's chances are estimated here while the worker process computes the fair lottery:
    # this process only waits for it, so the comparison costs no extra time on a machine with two cores.
    greedy: dict = {}

    def compare() -> None:
        if legacy_seconds > 0:
            greedy["result"] = estimate_legacy(work, seconds=legacy_seconds)

    comparison = threading.Thread(target=compare, daemon=True, name="kleroterion-greedy-estimate")
    comparison.start()
    ticker = threading.Thread(target=heartbeat, daemon=True)
    ticker.start()
    try:
        attempt_limit = limit
        for attempt in range(3):
            try:
                dist = lottery_in_worker(work, objective=objective, time_limit=attempt_limit, progress=lex_progress,
                                         settle_after=settle, on_start=started, should_stop=lambda: state.stopped)
                break
            except LeximinError:
                # The time limit ran out before any lottery was found (a busy or slow computer):
                # allow twice as long, twice at most, rather than give up.
                if attempt == 2 or attempt_limit is None or state.stopped:
                    raise
                attempt_limit = attempt_limit * 2
                limit = limit + attempt_limit
    finally:
        stop.set()
        with _ENGINES_LOCK:
            _ENGINES.pop(threading.get_ident(), None)
    progress(0.72, f"Listing {M} equally likely panels")
    lot = round_to_uniform(work, dist, M)
    progress(0.80, "Freezing the lottery")
    fl = freeze(work, lot.panels, algorithm=objective, created=_now_text(), targets=dist.probabilities,
                relaxation=relaxation, context=context, pseudonymise_households=pseudonymise, secret=secret)
    legacy, legacy_draws, legacy_note = None, 0, None
    if legacy_seconds > 0:
        progress(0.82, "Comparing with the greedy draw many groups use")
        comparison.join()
        legacy, legacy_draws, legacy_note = greedy.get("result", (None, 0, None))
    probs = dict(lot.probabilities)
    mn, g = _fairness(probs)
    progress(0.98, "Saving")
    return dict(lottery=fl.canonical_bytes(), m=fl.M, pool_size=len(work.people), probabilities=probs,
                exact=dict(dist.probabilities), legacy=legacy, legacy_draws=legacy_draws, legacy_note=legacy_note,
                min_probability=mn, gini=g, rounding_loss=lot.rounding_loss,
                # Goldilocks: how far its score may be from the best possible, as a share of it (not a chance)
                gap=getattr(dist, "objective_gap", 0.0) / max(getattr(dist, "objective", 1.0), 1e-12)
                if objective == "goldilocks" else dist.gap,
                complete=bool(dist.complete), seconds=time.perf_counter() - t0, algorithm=objective)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


def _options_hash(ihash: str, relaxation: list, M: int, extra: str = "") -> str:
    rel = sorted([c.feature, c.value, c.new_min, c.new_max] for c in relaxation)
    return hashlib.sha256(canonical_json([ihash, rel, M, extra]).encode()).hexdigest()


def _first_public(db: Database, kind: str, ihash: str, exclude: int | None = None) -> int | None:
    return db.scalar("SELECT min(draw_id) FROM draws WHERE kind = ? AND inputs_hash = ? "
                     "AND status IN ('committed', 'revealed', 'withdrawn') AND draw_id IS DISTINCT FROM ?",
                     [kind, ihash, exclude])


def _insert(db: Database, cols: dict) -> int:
    names = list(cols)

    def write(cur):
        draw_id = cur.execute("SELECT nextval('draw_seq')").fetchall()[0][0]
        cur.execute(f"INSERT INTO draws (draw_id, {', '.join(names)}) VALUES (?{', ?' * len(names)})",
                    [draw_id, *cols.values()])
        return draw_id

    return db.transaction(write)


def compute_draw(db: Database, *, actor: str | None, relaxation: Iterable = (), M: int = DEFAULT_M,
                 time_limit: float | None = None, legacy_seconds: float | None = None,
                 progress: Progress | None = None, note: str | None = None,
                 inputs: FrozenInputs | None = None, objective: str = "leximin") -> DrawRecord:
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
    work, changes = _apply_relaxation(pub, changes)
    ohash = _options_hash(ihash, changes, M, "" if objective == "leximin" else objective)
    same = _select(db, "WHERE kind = 'draw' AND status = 'computed' AND options_hash = ?", [ohash],
                   order="draw_id DESC LIMIT 1")
    if same:
        return same[0]
    progress(0.02, "Checking that the quotas can be met")
    report = check_feasibility(work, labels=feasibility_labels(db))
    if not report.feasible:
        what = "The quotas cannot all be met" + (" even with the changes you accepted" if changes else "")
        raise DrawError(f"{what}: {report.message()} Go back to step 1 and accept or edit the suggested change.")
    diagnosis = list(check_feasibility(pub, labels=feasibility_labels(db)).diagnosis) if changes else []
    cols = _prepare(work, relaxation=changes, M=M, time_limit=time_limit,
                    legacy_seconds=default_legacy_seconds() if legacy_seconds is None else legacy_seconds,
                    context=None, progress=progress, pseudonymise=False, secret=new_secret(), objective=objective)
    draw_id = _insert(db, _columns(cols, kind="draw", actor=actor, target_version=inputs.target_version,
                                   panel_size=pub.panel_size, ihash=ihash, ohash=ohash,
                                   quotas=pub.quotas, changes=changes, diagnosis=diagnosis,
                                   rerun_of=_first_public(db, "draw", ihash), note=note))
    progress(1.0, "Done")
    return get_draw(db, draw_id)  # type: ignore[return-value]


def _columns(cols: dict, *, kind, actor, target_version, panel_size, ihash, ohash, quotas, changes, diagnosis,
             rerun_of, note, **extra) -> dict:
    out = dict(kind=kind, status="computed", created_by=actor, target_version=target_version,
               panel_size=panel_size, algorithm=cols.get("algorithm", "leximin"), inputs_hash=ihash, options_hash=ohash,
               m=cols["m"],
               pool_size=cols["pool_size"], lottery=cols["lottery"], probabilities=json.dumps(cols["probabilities"]),
               exact_probabilities=json.dumps(cols["exact"]),
               legacy_probabilities=None if cols["legacy"] is None else json.dumps(cols["legacy"]),
               legacy_draws=cols["legacy_draws"], legacy_note=cols["legacy_note"],
               min_probability=cols["min_probability"], gini=cols["gini"], rounding_loss=cols["rounding_loss"],
               gap=cols["gap"], complete=cols["complete"], seconds=cols["seconds"],
               quotas=json.dumps([[q.feature, q.value, q.min, q.max] for q in quotas]),
               relaxation=json.dumps([{"feature": c.feature, "value": c.value, "old_min": c.old_min,
                                       "old_max": c.old_max, "new_min": c.new_min, "new_max": c.new_max,
                                       "change": c.describe()} for c in changes]),
               diagnosis=json.dumps(list(diagnosis)), rerun_of=rerun_of, note=note)
    out.update(extra)
    return out


# --- which lottery: LEXIMIN or Goldilocks (issue 12, item 7) -------------------------------------

OBJECTIVE_LABELS = {
    "leximin": "Fairest for the least likely (LEXIMIN)",
    "goldilocks": "Balanced: nobody too unlikely, nobody nearly certain (Goldilocks)",
}
"""The lotteries the organiser can choose between, in plain words, by the name recorded in the commitment."""


def alternatives(db: Database, rec: DrawRecord) -> dict[str, DrawRecord]:
    """The computed, unpublished lotteries on the same inputs, quota changes and number of panels as
    ``rec`` (a main draw), the newest of each kind: {"leximin": ..., "goldilocks": ...}."""
    found = _select(db, "WHERE kind = 'draw' AND status = 'computed' AND inputs_hash = ? AND m = ?",
                    [rec.inputs_hash, rec.m], order="draw_id")
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
        names = [r[0] for r in cur.execute("SELECT column_name FROM information_schema.columns "
                                           "WHERE table_name = 'draws' ORDER BY ordinal_position").fetchall()]
        keep = [c for c in names if c not in ("draw_id", "created_at", "created_by")]
        new_id = cur.execute("SELECT nextval('draw_seq')").fetchall()[0][0]
        cur.execute(f"INSERT INTO draws (draw_id, created_by, {', '.join(keep)}) "
                    f"SELECT ?, ?, {', '.join(keep)} FROM draws WHERE draw_id = ?", [new_id, actor, rec.draw_id])
        return new_id

    return get_draw(db, db.transaction(write))  # type: ignore[return-value]


# --- commit and reveal ------------------------------------------------------------------------

def slot_of(rec: DrawRecord) -> str:
    """Where a commitment lives: one live commitment per slot (the main draw, or the replacement round
    that continues one draw). See lib/sortition/audit/record.py."""
    return "draw" if rec.kind == "draw" else f"replacement:{rec.parent_id}"


def _in_slot(slot: str) -> tuple[str, list]:
    if slot == "draw":
        return "kind = 'draw'", []
    return "kind = 'replacement' AND parent_id = ?", [int(slot.split(":", 1)[1])]


def live_commitment(db: Database, slot: str = "draw") -> DrawRecord | None:
    """The published, not yet revealed (nor withdrawn) commitment of ``slot``: the only one that a public
    number can reveal."""
    where, params = _in_slot(slot)
    found = _select(db, f"WHERE {where} AND status = 'committed'", params, order="draw_id DESC LIMIT 1")
    return found[0] if found else None


_EVENT_COLUMNS = "seq, at_utc, kind, slot, draw_id, commitment, public_number, reason, prev_hash, hash"


def _event(row: tuple) -> dict:
    seq, at, kind, slot, draw_id, commitment, number, reason, prev, h = row
    return {"seq": seq, "at": at, "kind": kind, "slot": slot, "draw": draw_id, "commitment": commitment,
            "public_number": number, "reason": reason, "prev": prev, "hash": h}


def _append_event(cur, rec: DrawRecord, kind: str, *, commitment: str, public_number: str = "", reason: str = "",
                  actor: str | None = None) -> dict:
    from lib.sortition.audit.record import new_event

    last = cur.execute(f"SELECT {_EVENT_COLUMNS} FROM draw_events ORDER BY seq DESC LIMIT 1").fetchall()
    ev = new_event(_event(last[0]) if last else None, at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                   kind=kind, slot=slot_of(rec), draw=rec.draw_id, commitment=commitment,
                   public_number=public_number, reason=reason)
    cur.execute(f"INSERT INTO draw_events ({_EVENT_COLUMNS}, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [ev["seq"], ev["at"], ev["kind"], ev["slot"], ev["draw"], ev["commitment"], ev["public_number"],
                 ev["reason"], ev["prev"], ev["hash"], actor])
    return ev


def public_record(db: Database) -> list[dict]:
    """Every commitment, withdrawal and reveal so far, oldest first (the hash chain of
    lib/sortition/audit/record.py). Public: no names, no actors."""
    return [_event(r) for r in db.query(f"SELECT {_EVENT_COLUMNS} FROM draw_events ORDER BY seq")]


def public_record_file(db: Database) -> bytes:
    """``record.json``: the public record, as anyone can check it with ``python -m lib.sortition
    verify-record``."""
    from lib.sortition.audit.record import record_bytes

    return record_bytes(public_record(db))


def _earlier_in_slot(cur, rec: DrawRecord) -> str | None:
    """Why publishing ``rec`` is a draw run again (a sentence), or None when it is the slot's first."""
    where, params = _in_slot(slot_of(rec))
    live = cur.execute(f"SELECT max(draw_id) FROM draws WHERE {where} AND status = 'committed' AND draw_id <> ?",
                       [*params, rec.draw_id]).fetchall()[0][0]
    if live is not None:
        return (f"the commitment of draw {live} is already published; publishing this one withdraws it, in public, "
                "and only this one can then be revealed")
    revealed = cur.execute(f"SELECT max(draw_id) FROM draws WHERE {where} AND status = 'revealed'",
                           params).fetchall()[0][0]
    if revealed is not None:
        return f"draw {revealed} was already revealed; this new draw will be shown to everyone beside it"
    return None


def rerun_notice(db: Database, rec: DrawRecord) -> str | None:
    """For the draw page: why publishing ``rec`` needs a public reason, or None."""
    with db.cursor() as cur:
        return _earlier_in_slot(cur, rec)


def commit_draw(db: Database, draw_id: int, *, actor: str | None, reason: str | None = None) -> DrawRecord:
    """Step 3: publish the commitment. Committing twice returns the same record.

    One live commitment per slot: publishing a commitment while another one of the same slot is
    live withdraws that one in public, and needs a reason (``reason``, or the note given when the
    lottery was computed); so does a new commitment after the slot was already revealed. Every
    step is appended to the public record in the same transaction.
    """
    rec = get_draw(db, draw_id)
    if rec is None:
        raise DrawError(f"There is no draw number {draw_id}.")
    if rec.is_committed:
        return rec
    if rec.status == "withdrawn":
        raise DrawError(f"The commitment of draw {draw_id} was withdrawn in public; it cannot be published again. "
                        "Compute a new lottery.")
    commitment = frozen_lottery(db, draw_id).commitment
    rerun = rec.rerun_of or _first_public(db, rec.kind, rec.inputs_hash, exclude=rec.draw_id)
    why = (reason or rec.note or "").strip()
    where, params = _in_slot(slot_of(rec))

    def write(cur):
        status = cur.execute("SELECT status FROM draws WHERE draw_id = ?", [rec.draw_id]).fetchall()[0][0]
        if status != "computed":
            return
        again = _earlier_in_slot(cur, rec)
        if again and not why:
            raise DrawError(f"Say why the draw is run again: {again}. Your reason is published on the "
                            "Transparency page.")
        live = cur.execute(f"SELECT draw_id, commitment FROM draws WHERE {where} AND status = 'committed' "
                           "AND draw_id <> ?", [*params, rec.draw_id]).fetchall()
        for old_id, old_commitment in live:
            cur.execute("UPDATE draws SET status = 'withdrawn' WHERE draw_id = ?", [old_id])
            _append_event(cur, replace(rec, draw_id=old_id), "withdrawal", commitment=old_commitment, reason=why,
                          actor=actor)
        cur.execute("UPDATE draws SET status = 'committed', commitment = ?, committed_at = now(), committed_by = ?, "
                    "rerun_of = ? WHERE draw_id = ?", [commitment, actor, rerun, rec.draw_id])
        _append_event(cur, rec, "commitment", commitment=commitment, reason=why if again else "", actor=actor)

    db.transaction(write)
    return get_draw(db, draw_id)  # type: ignore[return-value]


def reveal_draw(db: Database, draw_id: int, public_number: str, *, actor: str | None) -> DrawRecord:  # noqa: C901 - draws.py is edited on main now: split by concern after (issue 14)
    """Steps 4-5: the public random number chooses the panel; the audit bundle is stored."""
    from lib.sortition.audit.bundle import audit_bundle_bytes, bundle_bytes
    from lib.sortition.audit.ceremony import match_replacements, normalise_public_number

    rec = get_draw(db, draw_id)
    if rec is None:
        raise DrawError(f"There is no draw number {draw_id}.")
    if rec.status == "computed":
        raise DrawError("The commitment of this draw has not been published yet. Publish it (step 3) before "
                        "anybody draws the public random number; otherwise nobody can check that the lottery "
                        "was fixed in advance.")
    if rec.status == "revealed":
        raise DrawError(f"This draw was already revealed with the public number “{rec.public_number}”. "
                        "A draw is revealed only once.")
    if rec.status == "withdrawn":
        raise DrawError(f"The commitment of draw {draw_id} was withdrawn in public, so no number can reveal it. "
                        "Only the live commitment can be revealed.")
    fl = frozen_lottery(db, draw_id)
    try:   # under the rule of the lottery's own engine version (fixed by its commitment)
        number = normalise_public_number(public_number or "", engine_version=fl.engine_version)
    except InputError as e:
        raise DrawError(_sentence(str(e))) from None
    used = _number_used(db.query("SELECT draw_id, public_number FROM draw_events WHERE kind = 'reveal' "
                                 "ORDER BY seq"), number)
    if used is not None:
        raise DrawError(f"The public number “{number}” was already used to reveal draw {used}. Each commitment "
                        "needs its own number, drawn in public after that commitment was published.")
    draw = fl.draw(number)
    chosen = list(draw.panel)
    if rec.kind == "replacement":
        parent = get_draw(db, rec.parent_id) if rec.parent_id is not None else None
        tip = chain_tip(db)
        if parent is None or tip is None or tip.draw_id != parent.draw_id:
            raise DrawError("The panel has changed since this replacement round was prepared (another round was "
                            "revealed). Prepare a new replacement round.")
        root = get_draw(db, rec.root_id)  # type: ignore[arg-type]
        root_pool = frozen_lottery(db, root.draw_id).instance  # type: ignore[union-attr]
        matches = match_replacements(root_pool, rec.replaces, chosen)
        bundle = bundle_bytes(draw, previous=draw_bundle(db, parent.draw_id), replacements=matches)
        audit = audit_bundle_bytes(draw, previous=auditors_bundle(db, parent.draw_id), replacements=matches)
        pairs = [(n, old) for n, old, _s in matches if n and old]
        selected = [n for n, _o in pairs] + sorted(set(chosen) - {n for n, _o in pairs})
        replaces = [o for _n, o in pairs] + sorted(set(rec.replaces) - {o for _n, o in pairs})
        after = sorted((set(parent.panel_after) - set(rec.replaces)) | set(chosen))
    else:
        bundle = bundle_bytes(draw)
        audit = audit_bundle_bytes(draw)
        selected, replaces, after = chosen, rec.replaces, chosen
    reserve = rank_by_hash([p.id for p in fl.instance.people if p.id not in set(chosen)], draw.draw_hash)

    def write(cur):
        status = cur.execute("SELECT status FROM draws WHERE draw_id = ?", [rec.draw_id]).fetchall()[0][0]
        if status != "committed":
            raise DrawError("This draw was revealed or withdrawn a moment ago by somebody else. Reload the page.")
        if _number_used(cur.execute("SELECT draw_id, public_number FROM draw_events WHERE kind = 'reveal'")
                        .fetchall(), draw.public_number) is not None:
            raise DrawError(f"The public number “{draw.public_number}” was used a moment ago for another draw. "
                            "Reload the page.")
        cur.execute("UPDATE draws SET status = 'revealed', public_number = ?, draw_hash = ?, panel_index = ?, "
                    "selected_ids = ?, reserve_ids = ?, panel_after = ?, replaces = ?, bundle = ?, audit_bundle = ?, "
                    "revealed_at = now(), revealed_by = ? WHERE draw_id = ?",
                    [draw.public_number, draw.draw_hash, draw.index, selected, reserve, after, replaces, bundle,
                     audit if fl.secret else None,
                     actor, rec.draw_id])
        _append_event(cur, rec, "reveal", commitment=rec.commitment or "", public_number=draw.public_number,
                      actor=actor)

    db.transaction(write)
    if rec.kind == "replacement":     # the newcomers join the tracked panel now: the door finds them at once
        from lib.assembly import participation

        try:
            participation.sync_replacements(db, actor or "replacement draw")
        except UserError:             # e.g. somebody left the sign-ups: the Members page says so
            pass
    return get_draw(db, draw_id)  # type: ignore[return-value]


def _number_used(rows, number: str) -> int | None:
    """The draw whose reveal used the same public number (its letters and digits, in any spelling), or None."""
    from lib.sortition.audit.ceremony import number_key

    key = number_key(number)
    return next((int(d) for d, n in rows if number_key(n or "") == key), None)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


# --- replacements ------------------------------------------------------------------------------

def excluded_by_default(db: Database, pool_ids: Iterable[str]) -> list[str]:
    """People of the original pool who are no longer eligible sign-ups (left the sheet, or blocked)."""
    ids = list(pool_ids)
    if not ids:
        return []
    still = {r[0] for r in db.query("SELECT person_id FROM people WHERE eligible AND removed_sync IS NULL "
                                    "AND list_contains(?, person_id)", [ids])}
    return sorted(set(ids) - still)


def _replacement_problem(db: Database, dropout_ids: Sequence[str], excluded: Sequence[str] | None):
    from lib.sortition.audit.ceremony import replacement_instance

    root = revealed_draw(db)
    if root is None:
        raise DrawError("There is no revealed draw yet, so there is nobody to replace.")
    tip = chain_tip(db)
    assert tip is not None
    dropouts = sorted({str(d) for d in dropout_ids})
    if not dropouts:
        raise DrawError("Choose at least one panel member who dropped out.")
    root_fl = frozen_lottery(db, root.draw_id)
    pool = root_fl.instance
    ever: set[str] = set(root.selected_ids)
    for r in replacement_rounds(db, root.draw_id):
        if r.is_revealed:
            ever |= set(r.selected_ids)
    panel = set(tip.panel_after)
    if excluded is None:
        excluded = [p for p in excluded_by_default(db, pool.ids) if p not in panel]
    excl = sorted({str(e) for e in excluded} - panel)
    try:
        inst, kept = replacement_instance(pool, list(pool.quotas), tip.panel_after, dropouts, excl, ever)
    except InputError as e:
        raise DrawError(_sentence(str(e))) from None
    if len(inst.people) < len(dropouts):
        raise DrawError(f"{len(dropouts)} seat(s) to refill, but only {len(inst.people)} people are left in the "
                        "reserve pool.")
    ctx = ReplacementContext(tip.round + 1, root.commitment, tip.commitment, tuple(dropouts), tuple(excl))  # type: ignore[arg-type]
    return root, tip, inst, kept, ctx, dropouts, excl


def check_replacement(db: Database, dropout_ids: Sequence[str], excluded: Sequence[str] | None = None):
    """Feasibility report of the replacement round for these dropouts (before computing it)."""
    from lib.sortition.feasibility import check_feasibility

    _root, _tip, inst, _kept, _ctx, _d, _e = _replacement_problem(db, dropout_ids, excluded)
    return check_feasibility(inst, labels=feasibility_labels(db))


def prepare_replacement(db: Database, dropout_ids: Sequence[str], actor: str | None, *,
                        excluded: Sequence[str] | None = None, M: int = DEFAULT_M, time_limit: float | None = None,
                        relax: bool = True, progress: Progress | None = None,
                        note: str | None = None) -> DrawRecord:
    """Compute a replacement round for ``dropout_ids`` (status ``computed``); then commit and reveal it.

    The reserve pool is everybody in the original pool never selected and not ``excluded``
    (default: people who are no longer eligible sign-ups). When the reserve cannot meet the
    adjusted quotas, the smallest relaxation is applied (``relax``) and recorded.
    """
    from lib.sortition.feasibility import InfeasibleQuotas, check_feasibility

    progress = progress or (lambda f, m: None)
    root, tip, inst, _kept, ctx, dropouts, excl = _replacement_problem(db, dropout_ids, excluded)
    ihash = hashlib.sha256(canonical_json([tip.commitment, dropouts, excl]).encode()).hexdigest()
    ohash = _options_hash(ihash, [], M, "relax" if relax else "strict")
    same = _select(db, "WHERE kind = 'replacement' AND status = 'computed' AND options_hash = ? AND parent_id = ?",
                   [ohash, tip.draw_id], order="draw_id DESC LIMIT 1")
    if same:
        return same[0]
    progress(0.02, "Checking that the quotas can be met")
    report = check_feasibility(inst, labels=feasibility_labels(db))
    changes: list = []
    work = inst
    if not report.feasible:
        if not relax or not report.relaxable or not report.relaxation:
            raise DrawError("The reserve pool cannot refill these seats within the quotas: " + report.message())
        changes = list(report.relaxation)
        work = report.relaxed_instance()
    try:
        cols = _prepare(work, relaxation=changes, M=M, time_limit=time_limit, legacy_seconds=0, context=ctx,
                        progress=progress, pseudonymise=False, secret=frozen_lottery(db, root.draw_id).secret)
    except InfeasibleQuotas as e:  # pragma: no cover - checked above
        raise DrawError(str(e)) from None
    draw_id = _insert(db, _columns(cols, kind="replacement", actor=actor, target_version=root.target_version,
                                   panel_size=len(dropouts), ihash=ihash, ohash=ohash, quotas=inst.quotas,
                                   changes=changes, diagnosis=list(report.diagnosis),
                                   rerun_of=_first_public(db, "replacement", ihash), note=note,
                                   replaces=dropouts, excluded=excl, round=ctx.round, parent_id=tip.draw_id,
                                   root_id=root.draw_id))
    progress(1.0, "Done")
    return get_draw(db, draw_id)  # type: ignore[return-value]


# --- background computations ------------------------------------------------------------------

@dataclass
class Job:
    job_id: int
    kind: str
    status: str          # running | done | failed
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


def _job(db: Database, where: str, params: list) -> Job | None:
    rows = db.query("SELECT job_id, kind, status, started_at, updated_at, finished_at, started_by, progress, "
                    f"message, error, draw_id FROM draw_jobs {where} ORDER BY job_id DESC LIMIT 1", params)
    return Job(*rows[0]) if rows else None


def get_job(db: Database, job_id: int) -> Job | None:
    job = _job(db, "WHERE job_id = ?", [int(job_id)])
    if job is not None and job.status == "running":
        with _ACTIVE_LOCK:
            t = _ACTIVE.get((db.path, job.job_id))
        if t is None or (t.ident is not None and not t.is_alive()):   # ident None: about to start
            # The thread is gone without finishing (the app was restarted while it ran).
            # Only if it is still marked running: the thread may have finished a moment ago.
            _finish(db, job.job_id, "failed", error="The computation was interrupted (the app was restarted). "
                                                    "Start it again.", only_running=True)
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
    with _ENGINES_LOCK:
        return _ENGINES.get(thread.ident or -1)


def stop_job(db: Database, job_id: int) -> bool:
    """Stop the computation now and keep the lottery found so far (True if it was running here)."""
    state = engine_state(db, job_id)
    if state is None:
        return False
    state.stopped = True
    if state.control is not None:
        state.control.stop()  # type: ignore[attr-defined]
    return True


def extend_job(db: Database, job_id: int, seconds: float) -> float | None:
    """Let the computation even out the chances for ``seconds`` more (up to its time limit). Returns the
    new settle time in seconds from its start, or None when it is not running here."""
    state = engine_state(db, job_id)
    if state is None:
        return None
    state.settle = max(state.settle, time.monotonic() - state.started) + float(seconds)
    if state.control is not None:
        state.control.set_settle_after(state.settle)  # type: ignore[attr-defined]
    return state.settle


def _finish(db: Database, job_id: int, status: str, *, error: str | None = None, draw_id: int | None = None,
            only_running: bool = False):
    def write(cur):
        cur.execute("UPDATE draw_jobs SET status = ?, error = ?, draw_id = ?, finished_at = now(), updated_at = now(), "
                    "progress = CASE WHEN ? = 'done' THEN 1.0 ELSE progress END WHERE job_id = ?"
                    + (" AND status = 'running'" if only_running else ""),
                    [status, error, draw_id, status, job_id])

    db.transaction(write)


def _start_job(db: Database, kind: str, actor: str | None, work: Callable[[Progress], DrawRecord],
               *, wait: bool = False) -> int:
    other = running_job(db)
    if other is not None:
        raise DrawError(f"A computation started by {other.started_by or 'an organiser'} is still running. "
                        "Wait for it to finish.")

    def create(cur):
        job_id = cur.execute("SELECT nextval('draw_job_seq')").fetchall()[0][0]
        cur.execute("INSERT INTO draw_jobs (job_id, kind, status, started_by, message) VALUES (?, ?, 'running', ?, ?)",
                    [job_id, kind, actor, "Starting"])
        return job_id

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
            cur.execute("UPDATE draw_jobs SET progress = ?, message = ?, updated_at = now() WHERE job_id = ?",
                        [float(max(0.0, min(1.0, fraction))), str(message)[:300], job_id])

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
            _finish(db, job_id, "failed", error="The computation failed because of a problem on our side. Nothing "
                                                "was published. Try again; if it happens again, the details are in "
                                                "the server's log.")
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


def start_draw_job(db: Database, *, actor: str | None, wait: bool = False, **kw) -> int:
    """Run ``compute_draw`` in the background; returns the job id (see ``get_job``)."""
    return _start_job(db, "draw", actor, lambda p: compute_draw(db, actor=actor, progress=p, **kw), wait=wait)


def start_replacement_job(db: Database, dropout_ids: Sequence[str], *, actor: str | None, wait: bool = False,
                          **kw) -> int:
    """Run ``prepare_replacement`` in the background; returns the job id."""
    return _start_job(db, "replacement", actor,
                      lambda p: prepare_replacement(db, dropout_ids, actor, progress=p, **kw), wait=wait)


def wait_for_job(db: Database, job_id: int, timeout: float = 120) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        job = get_job(db, job_id)
        if job is None or job.status != "running" or time.monotonic() > deadline:
            return job  # type: ignore[return-value]
        time.sleep(0.1)


# --- presentation helpers (pure; used by the Draw page and exports) ---------------------------

def group_commitment(commitment: str | None, size: int = 4) -> str:
    """'3f9a0c…' -> '3f9a 0c…': groups of four hex digits, easy to read aloud."""
    c = (commitment or "").strip()
    return " ".join(c[i:i + size] for i in range(0, len(c), size))


def commitment_html(commitment: str | None, *, font_size: str = "2rem", size: int = 4) -> str:
    """The commitment in groups of four hex digits for a page: each group one inline block that never breaks
    across lines (``white-space: nowrap``), so a phone wraps between groups, never inside one ("325b 1 / f77")."""
    from lib.plaintext import html as plain

    groups = group_commitment(commitment, size).split()
    spans = " ".join(f"<span class='kl-group' data-testid='commitment-group' style='display: inline-block; "
                     f"white-space: nowrap; margin-right: .45em'>{plain(g)}</span>" for g in groups)
    return ("<div data-testid='commitment' lang='en' style='font-family: ui-monospace, Menlo, Consolas, monospace; "
            f"font-size: {font_size}; line-height: 1.5; letter-spacing: .04em; padding: .6rem .8rem; "
            f"border: 2px solid; border-radius: .4rem;'>{spans}</div>")


def chance_text(p: float | None) -> str:
    """A probability in plain words: '1 in 20 (5.0%)'."""
    if p is None:
        return "unknown"
    if p <= 0:
        return "no chance at all (0%)"
    n = 1 / p
    return f"about 1 in {n:,.0f} ({p * 100:.1f}%)" if n >= 2 else f"{p * 100:.0f}%"


def fairness_summary(rec: DrawRecord) -> dict:
    """Numbers for the comparison with the greedy draw."""
    fair = rec.probabilities or {}
    legacy = rec.legacy_probabilities
    out = {"people": len(fair), "fair_min": min(fair.values()) if fair else None,
           "fair_almost_none": sum(1 for p in fair.values() if p < ALMOST_NO_CHANCE),
           "legacy_min": None, "legacy_almost_none": None}
    out["fair_none"] = sum(1 for p in fair.values() if p <= 0)
    out["legacy_draws"] = rec.legacy_draws or 0
    out["legacy_never"] = None
    if legacy:
        out["legacy_min"] = min(legacy.values())
        out["legacy_never"] = sum(1 for p in legacy.values() if p <= 0)
        # "Below 1 in 1,000" can only be told apart from "never picked" with enough trial draws.
        if out["legacy_draws"] >= 1 / ALMOST_NO_CHANCE:
            out["legacy_almost_none"] = sum(1 for p in legacy.values() if p < ALMOST_NO_CHANCE)
    return out


def chance_frame(rec: DrawRecord) -> pd.DataFrame:
    """One row per person and method: rank (1 = smallest chance), chance. For the 'who gets a chance' curve."""
    rows = []
    for method, probs in (("Fair lottery", rec.probabilities), ("Greedy draw (estimate)", rec.legacy_probabilities)):
        if not probs:
            continue
        for rank, p in enumerate(sorted(probs.values()), start=1):
            rows.append((method, rank, p))
    return pd.DataFrame(rows, columns=["method", "rank", "chance"])


def group_counts(rec: DrawRecord, ids: Sequence[str] | None = None, *, lottery: FrozenLottery | None = None,
                 db: Database | None = None) -> pd.DataFrame:
    """Per quota: how many of ``ids`` (default: the panel after this draw) have the value, and the quota."""
    if lottery is None:
        if db is None:
            raise ValueError("give the lottery or the database")
        lottery = frozen_lottery(db, rec.root_id if rec.kind == "replacement" and rec.root_id else rec.draw_id)
    by = {p.id: p for p in lottery.instance.people}
    ids = list(rec.panel_after if ids is None else ids)
    rows = []
    for q in sorted(lottery.instance.quotas, key=lambda q: (q.feature, q.value)):
        n = sum(1 for i in ids if i in by and by[i].features.get(q.feature, "") == q.value)
        rows.append((q.feature, q.value, n, q.min, q.max, "yes" if q.min <= n <= q.max else "no"))
    return pd.DataFrame(rows, columns=["field", "value", "selected", "min", "max", "within quota"])


def people_frame(db: Database, ids: Sequence[str], *, with_contacts: bool = False,
                 order: str = "given") -> pd.DataFrame:
    """Pseudonym, sheet row and answers of ``ids`` (in the given order); names and contacts only on request."""
    from lib.recruitment.categories import load_fields

    ids = list(ids)
    fields = load_fields(db)
    if not ids:
        cols = ["Pseudonym", "Sheet row"] + (["Name", "Email", "Phone"] if with_contacts else []) + \
               [f.label for f in fields]
        return pd.DataFrame(columns=cols)
    answers = ", ".join(f'max(v.value) FILTER (WHERE v.field = ?) AS "f{i}"' for i in range(len(fields)))
    df = db.query_df(f"""
        SELECT p.person_id, p.row_number, c.name, c.email, c.phone{', ' + answers if answers else ''}
        FROM people p LEFT JOIN contacts c USING (person_id) LEFT JOIN person_values v USING (person_id)
        WHERE list_contains(?, p.person_id)
        GROUP BY ALL""", [f.key for f in fields] + [ids])
    pos = {pid: i for i, pid in enumerate(ids)}
    df = df.assign(_pos=df["person_id"].map(pos)).sort_values("_pos")
    out = pd.DataFrame({"Pseudonym": df["person_id"].values,
                        "Sheet row": df["row_number"].astype("Int64").values})
    if with_contacts:
        out["Name"] = df["name"].values
        out["Email"] = df["email"].values
        out["Phone"] = df["phone"].values
    for i, f in enumerate(fields):
        out[f.label] = df[f"f{i}"].values
    return out.reset_index(drop=True)


def selected_frame(db: Database, rec: DrawRecord, *, with_contacts: bool = False) -> pd.DataFrame:
    df = people_frame(db, rec.selected_ids, with_contacts=with_contacts)
    if rec.kind == "replacement" and rec.replaces:
        df.insert(1, "Replaces", (list(rec.replaces) + [""] * len(df))[:len(df)])
    return df


def reserve_frame(db: Database, rec: DrawRecord, *, with_contacts: bool = False) -> pd.DataFrame:
    df = people_frame(db, rec.reserve_ids, with_contacts=with_contacts)
    df.insert(0, "Reserve rank", range(1, len(df) + 1))
    return df


def printable_lottery_html(rec: DrawRecord, lottery: FrozenLottery, *, title: str = "") -> str:
    """A printable page: the commitment, the quotas and the M panels by pseudonym."""
    e = html.escape
    what = "replacement round " + str(rec.round) if rec.kind == "replacement" else "draw"
    quota_rows = "".join(f"<tr><td>{e(q.feature)}</td><td>{e(q.value)}</td><td>{q.min}</td><td>{q.max}</td></tr>"
                         for q in sorted(lottery.instance.quotas, key=lambda q: (q.feature, q.value)))
    panel_rows = "".join(f"<tr><td>{n}</td><td>{e(', '.join(p))}</td></tr>" for n, p in enumerate(lottery.panels))
    relaxed = ""
    if lottery.relaxation:
        relaxed = "<h2>Quotas relaxed</h2><ul>" + "".join(f"<li>{e(c.describe())}</li>"
                                                           for c in lottery.relaxation) + "</ul>"
    commitment = rec.commitment or lottery.commitment
    status = "" if rec.commitment else "<p class='warn'>Not yet published: this is a preview.</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title or 'The lottery')}: {lottery.M} possible panels</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #111; }}
.commitment {{ font-family: ui-monospace, monospace; font-size: 1.6em; letter-spacing: .05em; word-spacing: .4em;
  border: 2px solid #111; padding: .5em; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #999; padding: 2px 6px; vertical-align: top; }}
td:first-child {{ text-align: right; }} .warn {{ color: #8a4b00; font-weight: bold; }}
@media print {{ .commitment {{ font-size: 1.3em; }} }}
</style></head><body>
<h1>{e(title or 'The lottery')}</h1>
<p>{e(what.capitalize())} number {rec.draw_id}: {lottery.M} possible panels of {lottery.instance.panel_size} people,
each equally likely, frozen on {e(lottery.created)}. Each person's chance is the number of panels that list them
divided by {lottery.M}.</p>
{status}
<h2>Commitment (SHA-256 fingerprint of the frozen lottery)</h2>
<p class="commitment">{e(group_commitment(commitment))}</p>
<p>Once the public random number is drawn, it chooses one of the panels below. Anyone can check it with the audit
bundle and the command <code>python -m lib.sortition verify BUNDLE.zip</code>.</p>
<h2>Quotas</h2>
<table><tr><th>Field</th><th>Value</th><th>Minimum</th><th>Maximum</th></tr>{quota_rows}</table>
{relaxed}
<h2>The {lottery.M} panels</h2>
<table><tr><th>Panel</th><th>Members (pseudonyms)</th></tr>{panel_rows}</table>
</body></html>
"""


# --- writing back to the Google Sheet ---------------------------------------------------------

def sheet_source(db: Database) -> dict | None:
    """{spreadsheet, worksheet} when the current sign-ups came from a Google Sheet; else None."""
    from lib.store.settings import get_setting

    kind = db.scalar("SELECT source_kind FROM sync_log WHERE status = 'ok' ORDER BY sync_id DESC LIMIT 1")
    if kind != "google_sheet":
        return None
    src = get_setting(db, "sheet_source", None)
    return src if src and src.get("spreadsheet") else None


def export_titles(rec: DrawRecord) -> tuple[str, str]:
    tag = f"draw {rec.draw_id}" if rec.kind == "draw" else f"replacement round {rec.round}"
    return f"Selected panel ({tag})", f"Reserve list ({tag})"


def write_to_sheet(db: Database, client, rec: DrawRecord, *, actor: str | None) -> list[str]:
    """Write the selected panel and the reserve list to two new tabs of the sign-up sheet."""
    from lib.recruitment.signups.sheets import SheetRef, write_worksheet

    if not rec.is_revealed:
        raise DrawError("Reveal the panel first.")
    src = sheet_source(db)
    if src is None:
        raise DrawError("The sign-ups did not come from a Google Sheet, so there is no sheet to write to. "
                        "Download the CSV files instead.")
    ref = SheetRef(src["spreadsheet"], None)
    titles = []
    sel_title, res_title = export_titles(rec)
    for title, df in ((sel_title, selected_frame(db, rec, with_contacts=True)),
                      (res_title, reserve_frame(db, rec, with_contacts=True))):
        # Written in RAW mode (write_worksheet): Google stores each value as text and never runs it as a
        # formula, so values go as they are: no apostrophe in front of "+44 …" or a name.
        cells = df.astype(object).where(df.notna(), "")
        titles.append(write_worksheet(client, ref, title, list(cells.columns), cells.values.tolist()))

    def write(cur):
        cur.execute("INSERT INTO draw_exports (draw_id, exported_by, target, detail) VALUES (?, ?, 'google_sheet', ?)",
                    [rec.draw_id, actor, ", ".join(titles)])

    db.transaction(write)
    return titles


def exports(db: Database, draw_id: int) -> list[tuple]:
    return db.query("SELECT exported_at, exported_by, target, detail FROM draw_exports WHERE draw_id = ? "
                    "ORDER BY exported_at", [int(draw_id)])


__all__ = ["DrawRecord", "DrawError", "FrozenInputs", "Job", "latest_draw", "revealed_draw", "list_draws",
           "current_panel", "draw_bundle", "get_draw", "freeze_targets", "frozen_inputs", "check_inputs",
           "compute_draw", "commit_draw", "reveal_draw", "prepare_replacement", "check_replacement",
           "start_draw_job", "start_replacement_job", "get_job", "last_job", "running_job", "chain_tip",
           "replacement_rounds", "printable_lottery_html", "live_commitment", "slot_of", "public_record", "stop_job",
           "extend_job", "engine_state", "rerun_notice",
           "public_record_file", "group_commitment", "write_to_sheet", "sheet_source"]
