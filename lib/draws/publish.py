"""Publishing a draw: its commitment (step 3; ``commit_draw``) and its reveal by the public random number
(steps 4-5; ``reveal_draw``), each appended to the public record in the same transaction.

A draw cannot be revealed before it is committed, nor revealed twice. Publishing another commitment
in the same slot withdraws the live one, in public, with a reason. A public number is used once, for
the live commitment only. Revealing a replacement round enrols the newcomers at once
(``lib.assembly.sync_replacements``), so the door finds them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

from lib.draws.records import (
    DrawError,
    DrawRecord,
    EVENT_COLUMNS,
    auditors_bundle,
    chain_tip,
    draw_bundle,
    event_of,
    first_public_draw,
    frozen_lottery,
    get_draw,
    plain_sentence,
    slot_filter,
    slot_of,
    stored_draw,
)
from lib.errors import UserError
from lib.sortition.audit.ceremony import Draw, FrozenLottery, rank_by_hash
from lib.sortition.audit.model import InputError
from lib.store.db import Database


def _append_event(
    cur,
    rec: DrawRecord,
    kind: str,
    *,
    commitment: str,
    public_number: str = "",
    reason: str = "",
    actor: str | None = None,
) -> dict:
    from lib.sortition.audit.record import new_event

    last = cur.execute(f"SELECT {EVENT_COLUMNS} FROM draw_events ORDER BY seq DESC LIMIT 1").fetchall()
    ev = new_event(
        event_of(last[0]) if last else None,
        at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        kind=kind,
        slot=slot_of(rec),
        draw=rec.draw_id,
        commitment=commitment,
        public_number=public_number,
        reason=reason,
    )
    cur.execute(
        f"INSERT INTO draw_events ({EVENT_COLUMNS}, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ev["seq"],
            ev["at"],
            ev["kind"],
            ev["slot"],
            ev["draw"],
            ev["commitment"],
            ev["public_number"],
            ev["reason"],
            ev["prev"],
            ev["hash"],
            actor,
        ],
    )
    return ev


def _earlier_in_slot(cur, rec: DrawRecord) -> str | None:
    """Why publishing ``rec`` is a draw run again (a sentence), or None when it is the slot's first."""
    where, params = slot_filter(slot_of(rec))
    live = cur.execute(
        f"SELECT max(draw_id) FROM draws WHERE {where} AND status = 'committed' AND draw_id <> ?",
        [*params, rec.draw_id],
    ).fetchall()[0][0]
    if live is not None:
        return (
            f"the commitment of draw {live} is already published; publishing this one withdraws it, in public, "
            "and only this one can then be revealed"
        )
    revealed = cur.execute(f"SELECT max(draw_id) FROM draws WHERE {where} AND status = 'revealed'", params).fetchall()[
        0
    ][0]
    if revealed is not None:
        return f"draw {revealed} was already revealed; this new draw will be shown to everyone beside it"
    return None


def rerun_notice(db: Database, rec: DrawRecord) -> str | None:
    """For the draw page: why publishing ``rec`` needs a public reason, or None."""
    with db.cursor() as cur:
        return _earlier_in_slot(cur, rec)


MIN_REASON_LETTERS = 10


def reason_says_something(reason: str) -> bool:
    """A public reason for running a draw again must say something: at least ``MIN_REASON_LETTERS``
    letters or digits ("x" or "again" tells the public nothing)."""
    return sum(ch.isalnum() for ch in reason) >= MIN_REASON_LETTERS


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
        raise DrawError(
            f"The commitment of draw {draw_id} was withdrawn in public; it cannot be published again. "
            "Compute a new lottery."
        )
    commitment = frozen_lottery(db, draw_id).commitment
    rerun = rec.rerun_of or first_public_draw(db, rec.kind, rec.inputs_hash, exclude=rec.draw_id)
    why = (reason or rec.note or "").strip()
    where, params = slot_filter(slot_of(rec))

    def write(cur):
        status = cur.execute("SELECT status FROM draws WHERE draw_id = ?", [rec.draw_id]).fetchall()[0][0]
        if status != "computed":
            return
        again = _earlier_in_slot(cur, rec)
        if again and not why:
            raise DrawError(
                f"Say why the draw is run again: {again}. Your reason is published on the Transparency page."
            )
        if again and not reason_says_something(why):
            raise DrawError(
                f"Your reason is too short to tell anyone why the draw is run again ({again}). Please explain in a few words, "
                f"at least {MIN_REASON_LETTERS} letters, for example “we forgot the one-per-household rule”. "
                "Your reason is published on the Transparency page."
            )
        live = cur.execute(
            f"SELECT draw_id, commitment FROM draws WHERE {where} AND status = 'committed' AND draw_id <> ?",
            [*params, rec.draw_id],
        ).fetchall()
        for old_id, old_commitment in live:
            cur.execute("UPDATE draws SET status = 'withdrawn' WHERE draw_id = ?", [old_id])
            _append_event(
                cur, replace(rec, draw_id=old_id), "withdrawal", commitment=old_commitment, reason=why, actor=actor
            )
        cur.execute(
            "UPDATE draws SET status = 'committed', commitment = ?, committed_at = now(), committed_by = ?, "
            "rerun_of = ? WHERE draw_id = ?",
            [commitment, actor, rerun, rec.draw_id],
        )
        _append_event(cur, rec, "commitment", commitment=commitment, reason=why if again else "", actor=actor)

    db.transaction(write)
    return stored_draw(db, draw_id)


@dataclass
class _Revealed:
    """What a reveal writes: the bundles, the people chosen (newcomers first, in the order of those they
    replace), the people replaced, and the whole panel afterwards."""

    bundle: bytes
    audit: bytes
    selected: list[str]
    replaces: list[str]
    after: list[str]


def _revealable(db: Database, draw_id: int) -> DrawRecord:
    """The draw, if a public number may reveal it now (its commitment is live); else a plain refusal."""
    rec = get_draw(db, draw_id)
    if rec is None:
        raise DrawError(f"There is no draw number {draw_id}.")
    if rec.status == "computed":
        raise DrawError(
            "The commitment of this draw has not been published yet. Publish it (step 3) before "
            "anybody draws the public random number; otherwise nobody can check that the lottery "
            "was fixed in advance."
        )
    if rec.status == "revealed":
        raise DrawError(
            f"This draw was already revealed with the public number “{rec.public_number}”. "
            "A draw is revealed only once."
        )
    if rec.status == "withdrawn":
        raise DrawError(
            f"The commitment of draw {draw_id} was withdrawn in public, so no number can reveal it. "
            "Only the live commitment can be revealed."
        )
    return rec


def _unused_number(db: Database, fl: FrozenLottery, public_number: str) -> str:
    """The public number as the lottery's engine version reads it, refused if an earlier reveal used it."""
    from lib.sortition.audit.ceremony import normalise_public_number

    try:  # under the rule of the lottery's own engine version (fixed by its commitment)
        number = normalise_public_number(public_number or "", engine_version=fl.engine_version)
    except InputError as e:
        raise DrawError(plain_sentence(str(e))) from None
    used = _number_used(
        db.query("SELECT draw_id, public_number FROM draw_events WHERE kind = 'reveal' ORDER BY seq"), number
    )
    if used is not None:
        raise DrawError(
            f"The public number “{number}” was already used to reveal draw {used}. Each commitment "
            "needs its own number, drawn in public after that commitment was published."
        )
    return number


def _replacement_revealed(db: Database, rec: DrawRecord, draw: Draw) -> _Revealed:
    """A replacement round's reveal: its bundles contain the previous ones, each newcomer is matched with the
    member they replace, and the panel is the previous one with the newcomers in."""
    from lib.sortition.audit.bundle import audit_bundle_bytes, bundle_bytes
    from lib.sortition.audit.ceremony import match_replacements

    chosen = list(draw.panel)
    parent = get_draw(db, rec.parent_id) if rec.parent_id is not None else None
    tip = chain_tip(db)
    if parent is None or tip is None or tip.draw_id != parent.draw_id:
        raise DrawError(
            "The panel has changed since this replacement round was prepared (another round was "
            "revealed). Prepare a new replacement round."
        )
    assert rec.root_id is not None  # every replacement round records the draw it continues
    root_pool = frozen_lottery(db, rec.root_id).instance
    matches = match_replacements(root_pool, rec.replaces, chosen)
    pairs = [(n, old) for n, old, _s in matches if n and old]
    return _Revealed(
        bundle=bundle_bytes(draw, previous=draw_bundle(db, parent.draw_id), replacements=matches),
        audit=audit_bundle_bytes(draw, previous=auditors_bundle(db, parent.draw_id), replacements=matches),
        selected=[n for n, _o in pairs] + sorted(set(chosen) - {n for n, _o in pairs}),
        replaces=[o for _n, o in pairs] + sorted(set(rec.replaces) - {o for _n, o in pairs}),
        after=sorted((set(parent.panel_after) - set(rec.replaces)) | set(chosen)),
    )


def _draw_revealed(rec: DrawRecord, draw: Draw) -> _Revealed:
    from lib.sortition.audit.bundle import audit_bundle_bytes, bundle_bytes

    chosen = list(draw.panel)
    return _Revealed(bundle_bytes(draw), audit_bundle_bytes(draw), chosen, rec.replaces, chosen)


def reveal_draw(db: Database, draw_id: int, public_number: str, *, actor: str | None) -> DrawRecord:
    """Steps 4-5: the public random number chooses the panel; the audit bundle is stored."""
    rec = _revealable(db, draw_id)
    fl = frozen_lottery(db, draw_id)
    draw = fl.draw(_unused_number(db, fl, public_number))
    out = _replacement_revealed(db, rec, draw) if rec.kind == "replacement" else _draw_revealed(rec, draw)
    chosen = set(draw.panel)
    reserve = rank_by_hash([p.id for p in fl.instance.people if p.id not in chosen], draw.draw_hash)

    def write(cur):
        status = cur.execute("SELECT status FROM draws WHERE draw_id = ?", [rec.draw_id]).fetchall()[0][0]
        if status != "committed":
            raise DrawError("This draw was revealed or withdrawn a moment ago by somebody else. Reload the page.")
        if (
            _number_used(
                cur.execute("SELECT draw_id, public_number FROM draw_events WHERE kind = 'reveal'").fetchall(),
                draw.public_number,
            )
            is not None
        ):
            raise DrawError(
                f"The public number “{draw.public_number}” was used a moment ago for another draw. Reload the page."
            )
        cur.execute(
            "UPDATE draws SET status = 'revealed', public_number = ?, draw_hash = ?, panel_index = ?, "
            "selected_ids = ?, reserve_ids = ?, panel_after = ?, replaces = ?, bundle = ?, audit_bundle = ?, "
            "revealed_at = now(), revealed_by = ? WHERE draw_id = ?",
            [
                draw.public_number,
                draw.draw_hash,
                draw.index,
                out.selected,
                reserve,
                out.after,
                out.replaces,
                out.bundle,
                out.audit if fl.secret else None,
                actor,
                rec.draw_id,
            ],
        )
        _append_event(
            cur, rec, "reveal", commitment=rec.commitment or "", public_number=draw.public_number, actor=actor
        )

    db.transaction(write)
    if rec.kind == "replacement":  # the newcomers join the tracked panel now: the door finds them at once
        from lib import assembly

        try:
            assembly.sync_replacements(db, actor or "replacement draw")
        except UserError:  # e.g. somebody left the sign-ups: the Members page says so
            pass
    return stored_draw(db, draw_id)


def _number_used(rows, number: str) -> int | None:
    """The draw whose reveal used the same public number (its letters and digits, in any spelling), or None."""
    from lib.sortition.audit.ceremony import number_key

    key = number_key(number)
    return next((int(d) for d, n in rows if number_key(n or "") == key), None)
