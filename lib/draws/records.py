"""What is kept of the app's draws (migrations 002, 007): the draw records, the frozen inputs they are
drawn from, the frozen lotteries and audit bundles, and the public record. Reading and storing only;
the steps of the ceremony are elsewhere in this package.

Life of a draw (``DrawRecord.status``)::

    computed  -- the fair lottery (M panels) is ready; nothing is public yet (compute.py)
    committed -- its commitment (SHA-256 of the frozen lottery) has been published (publish.py)
    revealed  -- the public random number chose the panel; the audit bundle exists (publish.py)
    withdrawn -- its commitment was replaced by a newer one before any reveal (in public)

There is at most one live commitment per slot (the main draw; the replacement round continuing a
given draw: ``slot_of``), and every commitment, withdrawal and reveal is appended to the public record
(``draw_events``, a hash chain checked by ``lib.sortition.audit.record``), which the Transparency page
lists in full (``public_record``).

The inputs of a draw come from a *frozen* target version (``target_versions.frozen_at``,
``freeze_targets``): its quotas (``lib.recruitment.quotas.quotas_for_version``) and panel size, and the
eligible sign-ups (``lib.recruitment.quotas.build_instance``). Everything the ceremony publishes is
pseudonymous (person ids only); names stay in the ``contacts`` table. Pure Python: no Streamlit here.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime

from lib.errors import UserError
from lib.sortition.audit.ceremony import FrozenLottery, canonical_json, parse_canonical, public_pool
from lib.sortition.audit.model import InputError, Instance, Quota
from lib.store.db import Database


DEFAULT_M = 1000


class DrawError(UserError):
    """A step of the ceremony that cannot be done now; the message says why and what to do."""


@dataclass
class DrawRecord:
    draw_id: int
    kind: str  # "draw" | "replacement"
    status: str  # "computed" | "committed" | "revealed" | "withdrawn" (replaced before a reveal)
    created_at: datetime
    created_by: str | None
    target_version: int | None
    panel_size: int
    algorithm: str  # "leximin" | "goldilocks" | "legacy"
    commitment: str | None  # 64 hex digits once committed
    public_number: str | None  # once revealed
    selected_ids: list[str]  # person_ids, empty until revealed
    reserve_ids: list[str]  # the pool minus the selected, in SHA-256 rank order (revealed only)
    probabilities: dict[str, float]  # each person's chance in the fair lottery (appearances / M)
    legacy_probabilities: dict[str, float] | None  # estimated chances under the greedy draw
    min_probability: float | None
    gini: float | None
    rerun_of: int | None  # a second draw on the same frozen inputs points at the first
    replaces: list[str]  # replacement draws: the person_ids replaced (same order as selected_ids)
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
    quotas: list[tuple[str, str, int, int]] = field(default_factory=list)  # frozen, before relaxation
    relaxation: list[dict] = field(default_factory=list)
    diagnosis: list[str] = field(default_factory=list)
    committed_at: datetime | None = None
    committed_by: str | None = None
    revealed_at: datetime | None = None
    revealed_by: str | None = None
    draw_hash: str | None = None
    panel_index: int | None = None
    panel_after: list[str] = field(default_factory=list)  # the whole panel once revealed
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


_COLUMNS = (
    "draw_id, kind, status, created_at, created_by, target_version, panel_size, algorithm, commitment, "
    "public_number, selected_ids, reserve_ids, probabilities, legacy_probabilities, min_probability, gini, "
    "rerun_of, replaces, note, m, pool_size, exact_probabilities, legacy_draws, legacy_note, rounding_loss, "
    "gap, complete, seconds, quotas, relaxation, diagnosis, committed_at, committed_by, revealed_at, "
    "revealed_by, draw_hash, panel_index, panel_after, excluded, round, parent_id, root_id, inputs_hash, "
    "options_hash"
)


def _loads(text, default):
    return default if text is None else json.loads(text)


def _record(row: tuple) -> DrawRecord:
    (
        draw_id,
        kind,
        status,
        created_at,
        created_by,
        target_version,
        panel_size,
        algorithm,
        commitment,
        public_number,
        selected,
        reserve,
        probs,
        legacy,
        min_p,
        gini,
        rerun_of,
        replaces,
        note,
        m,
        pool_size,
        exact,
        legacy_draws,
        legacy_note,
        loss,
        gap,
        complete,
        seconds,
        quotas,
        relaxation,
        diagnosis,
        committed_at,
        committed_by,
        revealed_at,
        revealed_by,
        draw_hash,
        panel_index,
        panel_after,
        excluded,
        rnd,
        parent_id,
        root_id,
        inputs_hash,
        options_hash,
    ) = row
    return DrawRecord(
        draw_id=draw_id,
        kind=kind,
        status=status,
        created_at=created_at,
        created_by=created_by,
        target_version=target_version,
        panel_size=panel_size,
        algorithm=algorithm,
        commitment=commitment,
        public_number=public_number,
        selected_ids=list(selected or []),
        reserve_ids=list(reserve or []),
        probabilities=_loads(probs, {}),
        legacy_probabilities=_loads(legacy, None),
        min_probability=min_p,
        gini=gini,
        rerun_of=rerun_of,
        replaces=list(replaces or []),
        note=note,
        m=m,
        pool_size=pool_size,
        exact_probabilities=_loads(exact, {}),
        legacy_draws=legacy_draws,
        legacy_note=legacy_note,
        rounding_loss=loss,
        gap=gap,
        complete=complete,
        seconds=seconds,
        quotas=[tuple(q) for q in _loads(quotas, [])],
        relaxation=_loads(relaxation, []),
        diagnosis=_loads(diagnosis, []),
        committed_at=committed_at,
        committed_by=committed_by,
        revealed_at=revealed_at,
        revealed_by=revealed_by,
        draw_hash=draw_hash,
        panel_index=panel_index,
        panel_after=list(panel_after or []),
        excluded=list(excluded or []),
        round=rnd,
        parent_id=parent_id,
        root_id=root_id,
        inputs_hash=inputs_hash,
        options_hash=options_hash,
    )


def select_draws(db: Database, where: str = "", params: list | None = None, order: str = "draw_id") -> list[DrawRecord]:
    rows = db.query(f"SELECT {_COLUMNS} FROM draws {where} ORDER BY {order}", params or [])
    return [_record(r) for r in rows]


def get_draw(db: Database, draw_id: int) -> DrawRecord | None:
    found = select_draws(db, "WHERE draw_id = ?", [int(draw_id)])
    return found[0] if found else None


def stored_draw(db: Database, draw_id: int) -> DrawRecord:
    """The draw just written or changed (a plain refusal, should it be gone)."""
    rec = get_draw(db, draw_id)
    if rec is None:
        raise DrawError(f"There is no draw number {draw_id}.")
    return rec


def list_draws(db: Database) -> list[DrawRecord]:
    """Every draw and replacement round, oldest first."""
    return select_draws(db)


def latest_draw(db: Database) -> DrawRecord | None:
    """The most recent main draw, whatever its status (None before the first lottery is computed)."""
    found = select_draws(db, "WHERE kind = 'draw'", order="draw_id DESC LIMIT 1")
    return found[0] if found else None


def revealed_draw(db: Database) -> DrawRecord | None:
    """The latest revealed main draw (the one the assembly's panel comes from)."""
    found = select_draws(db, "WHERE kind = 'draw' AND status = 'revealed'", order="draw_id DESC LIMIT 1")
    return found[0] if found else None


def replacement_rounds(db: Database, root_id: int | None = None) -> list[DrawRecord]:
    """Replacement rounds continuing ``root_id`` (default: the revealed draw), oldest first."""
    if root_id is None:
        root = revealed_draw(db)
        if root is None:
            return []
        root_id = root.draw_id
    return select_draws(db, "WHERE kind = 'replacement' AND root_id = ?", [root_id])


def chain_tip(db: Database) -> DrawRecord | None:
    """The latest revealed record of the revealed draw's chain (the draw itself, or its last round)."""
    root = revealed_draw(db)
    if root is None:
        return None
    revealed = [r for r in replacement_rounds(db, root.draw_id) if r.is_revealed]
    return revealed[-1] if revealed else root


def current_panel(db: Database) -> list[str]:
    """The panel now: the revealed draw's selection with every revealed replacement round applied (the
    ``panel_after`` of ``chain_tip``). One narrow query, not whole records with every sign-up's chances:
    the Overview asks on every run."""
    rows = db.query(
        "WITH root AS (SELECT max(draw_id) AS id FROM draws WHERE kind = 'draw' AND status = 'revealed') "
        "SELECT d.panel_after FROM draws d, root WHERE d.status = 'revealed' "
        "AND (d.draw_id = root.id OR (d.kind = 'replacement' AND d.root_id = root.id)) "
        "ORDER BY d.draw_id DESC LIMIT 1"
    )
    return list(rows[0][0] or []) if rows else []


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
        cur.execute(
            "UPDATE target_versions SET frozen_at = now(), frozen_by = ? WHERE version = ? AND frozen_at IS NULL",
            [actor or "organiser", v],
        )

    db.transaction(write)
    return v


def frozen_inputs(db: Database) -> FrozenInputs | None:
    """The latest frozen target version as draw inputs (quotas and panel size); None when none is frozen."""
    from lib.recruitment.quotas import quotas_for_version

    rows = db.query(
        "SELECT version, panel_size, frozen_at, frozen_by FROM target_versions "
        "WHERE frozen_at IS NOT NULL ORDER BY version DESC LIMIT 1"
    )
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
    h.update(
        canonical_json({"k": instance.panel_size, "one_per_household": bool(instance.one_per_household)}).encode()
        + b"\n"
    )
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
            what = f"the question “{q.feature}”" if f is None else f"the answer “{q.value}” to “{f.label}”"
            return (
                f"The questions changed after target version {inputs.target_version} was frozen: {what} no "
                "longer exists. Freeze the newer target version (step 1) so that the draw uses the questions "
                "as they are now."
            )
    return None


def first_public_draw(db: Database, kind: str, ihash: str, exclude: int | None = None) -> int | None:
    return db.scalar(
        "SELECT min(draw_id) FROM draws WHERE kind = ? AND inputs_hash = ? "
        "AND status IN ('committed', 'revealed', 'withdrawn') AND draw_id IS DISTINCT FROM ?",
        [kind, ihash, exclude],
    )


def insert_draw(db: Database, cols: dict) -> int:
    names = list(cols)

    def write(cur):
        draw_id = cur.execute("SELECT nextval('draw_seq')").fetchall()[0][0]
        cur.execute(
            f"INSERT INTO draws (draw_id, {', '.join(names)}) VALUES (?{', ?' * len(names)})", [draw_id, *cols.values()]
        )
        return draw_id

    return db.transaction(write)


def slot_of(rec: DrawRecord) -> str:
    """Where a commitment lives: one live commitment per slot (the main draw, or the replacement round
    that continues one draw). See lib/sortition/audit/record.py."""
    return "draw" if rec.kind == "draw" else f"replacement:{rec.parent_id}"


def slot_filter(slot: str) -> tuple[str, list]:
    if slot == "draw":
        return "kind = 'draw'", []
    return "kind = 'replacement' AND parent_id = ?", [int(slot.split(":", 1)[1])]


def live_commitment(db: Database, slot: str = "draw") -> DrawRecord | None:
    """The published, not yet revealed (nor withdrawn) commitment of ``slot``: the only one that a public
    number can reveal."""
    where, params = slot_filter(slot)
    found = select_draws(db, f"WHERE {where} AND status = 'committed'", params, order="draw_id DESC LIMIT 1")
    return found[0] if found else None


EVENT_COLUMNS = "seq, at_utc, kind, slot, draw_id, commitment, public_number, reason, prev_hash, hash"


def event_of(row: tuple) -> dict:
    seq, at, kind, slot, draw_id, commitment, number, reason, prev, h = row
    return {
        "seq": seq,
        "at": at,
        "kind": kind,
        "slot": slot,
        "draw": draw_id,
        "commitment": commitment,
        "public_number": number,
        "reason": reason,
        "prev": prev,
        "hash": h,
    }


def public_record(db: Database) -> list[dict]:
    """Every commitment, withdrawal and reveal so far, oldest first (the hash chain of
    lib/sortition/audit/record.py). Public: no names, no actors."""
    return [event_of(r) for r in db.query(f"SELECT {EVENT_COLUMNS} FROM draw_events ORDER BY seq")]


def public_record_file(db: Database) -> bytes:
    """``record.json``: the public record, as anyone can check it with ``python -m lib.sortition
    verify-record``."""
    from lib.sortition.audit.record import record_bytes

    return record_bytes(public_record(db))


def plain_sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."
