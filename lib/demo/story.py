"""Fast-forward the demo assembly to a few weeks after the draw, so every page has something to show.

Only for the embedded demo (``lib.demo.load``): it freezes the demo targets, runs the real draw
ceremony (fair lottery, commitment, a public number), starts tracking the panel, holds two
sessions with attendance, records a withdrawal, a few support needs, contacts and stipend
payments, prints access codes and fills a baseline survey with answers. Every choice here is
a SHA-256 function of a fixed text, so the story is the same each time; it is invented and
says so.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from lib.store.db import Database
from lib.store.settings import get_setting, set_setting

DEMO_PUBLIC_NUMBER = "07 19 23 31 42 48"
ACTOR = "Demo organiser"


def _u(*parts) -> float:
    """A number in [0, 1) from SHA-256 of the parts (deterministic, documented, not a library RNG)."""
    h = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def story_told(db: Database) -> bool:
    return bool(get_setting(db, "demo_story"))


def fast_forward(db: Database, *, time_limit: float = 60, now: datetime | None = None) -> str:
    """Run the demo story on a demo database that has not been drawn yet. Returns a summary sentence."""
    from lib import draws
    from lib.errors import UserError

    from lib.store.demo_marker import is_demo_database

    if not is_demo_database(db):
        raise UserError("Skipping ahead only works on the demo assembly, never on a real one.")
    if story_told(db) or draws.revealed_draw(db) is not None:
        raise UserError("The demo has already been drawn; there is nothing to skip.")
    now = now or datetime.now(timezone.utc)
    drawn_at = now - timedelta(days=30)
    draw_id, panel = _draw(db, time_limit, drawn_at)
    withdrawn = _contact_the_panel(db, panel, drawn_at)
    _hold_sessions(db, panel, withdrawn, now, drawn_at)
    codes = _baseline_survey(db, panel, withdrawn, now)
    set_setting(db, "demo_story", {"draw_id": draw_id, "told_at": now.isoformat()}, ACTOR)
    return (
        f"The demo panel of {len(panel)} was drawn (public number {DEMO_PUBLIC_NUMBER}), two sessions "
        f"were held and {len(codes)} members got access cards. This story is invented."
    )


def _draw(db: Database, time_limit: float, drawn_at: datetime) -> tuple[int, list[str]]:
    """The draw ceremony, for real: (the draw's id, the panel enrolled as members)."""
    from lib import draws
    from lib import assembly as part

    if draws.frozen_inputs(db) is None:
        draws.freeze_targets(db, actor=ACTOR)
    rec = draws.compute_draw(db, actor=ACTOR, time_limit=time_limit, note="Demo: drawn by 'skip ahead'")
    draws.commit_draw(db, rec.draw_id, actor=ACTOR)
    rec = draws.reveal_draw(db, rec.draw_id, DEMO_PUBLIC_NUMBER, actor=ACTOR)
    panel = list(rec.selected_ids)
    part.enrol_panel(db, panel, rec.draw_id, ACTOR, now=drawn_at)
    return rec.draw_id, panel


def _contact_the_panel(db: Database, panel: list[str], drawn_at: datetime) -> str | None:
    """Contacting people: most confirm, one withdraws (returned), one has not replied yet."""
    from lib import assembly as part

    withdrawn = None
    for i, pid in enumerate(panel):
        r = _u("contact", pid)
        t = drawn_at + timedelta(days=1, hours=i)
        part.change_status(db, pid, part.CONTACTED, ACTOR, now=t)
        part.log_contact(db, pid, "phone", "spoke with them" if r > 0.1 else "left a message", None, ACTOR, now=t)
        if withdrawn is None and r > 0.85:
            part.record_withdrawal(db, pid, "Started a new job with evening shifts", ACTOR, now=t + timedelta(days=2))
            withdrawn = pid
            continue
        if r > 0.1:
            part.change_status(db, pid, part.CONFIRMED, ACTOR, now=t + timedelta(days=1))
        if _u("need", pid) < 0.25:
            need = part.NEEDS[int(_u("which need", pid) * len(part.NEEDS))]
            part.add_support_need(db, pid, need, "Asked for help when we called", ACTOR, now=t)
            if _u("resolved", pid) < 0.6:
                part.resolve_support_need(db, pid, need, "Arranged", ACTOR, now=t + timedelta(days=3))
    return withdrawn


def _hold_sessions(db: Database, panel: list[str], withdrawn: str | None, now: datetime, drawn_at: datetime) -> None:
    """Two sessions held (attendance marked, stipends paid to most), two to come."""
    from lib import assembly as part

    part.set_stipend(db, 40, ACTOR)
    sessions = []
    for n, (days, title) in enumerate(
        [
            (-14, "Session 1: getting to know the issue"),
            (-7, "Session 2: hearing from experts"),
            (7, "Session 3: weighing the options"),
            (14, "Session 4: writing our recommendations"),
        ]
    ):
        start = (now + timedelta(days=days)).replace(hour=18, minute=30, second=0, microsecond=0)
        sessions.append(
            part.schedule_session(
                db, title, start, "Riverside Community Centre", ACTOR, now=drawn_at + timedelta(days=2)
            )
        )
    confirmed = [p for p in panel if p != withdrawn and _u("contact", p) > 0.1]
    for n, sid in enumerate(sessions[:2]):
        marks = {}
        for pid in confirmed:
            r = _u("attend", n, pid)
            marks[pid] = (
                part.PRESENT if r < 0.78 else part.LATE if r < 0.86 else part.EXCUSED if r < 0.93 else part.ABSENT
            )
        part.mark_many(db, sid, marks, "Demo volunteer", source="door", now=now + timedelta(days=-14 + 7 * n))
    status = dict(part.member_statuses(db)[["person_id", "status"]].itertuples(index=False))
    for pid in confirmed:
        if status.get(pid) == part.CONFIRMED:
            part.change_status(db, pid, part.ACTIVE, ACTOR, now=now - timedelta(days=14))
        if _u("paid", pid) < 0.7:
            part.record_payment(db, pid, 40, ACTOR, method="bank transfer", now=now - timedelta(days=10))


def _baseline_survey(db: Database, panel: list[str], withdrawn: str | None, now: datetime) -> dict:
    """Evaluation: access cards for everyone on the panel (returned), a baseline survey answered by most."""
    from lib import evaluation

    codes = evaluation.issue_codes(db, [p for p in panel if p != withdrawn], ACTOR)
    wave = evaluation.open_wave(db, "baseline", "Baseline survey", ACTOR, now=now - timedelta(days=14))
    questions = list(evaluation.wave_questions(db, wave.wave_id)["question_id"])
    for pid, code in codes.items():
        if _u("answers", pid) > 0.85:
            continue
        session = evaluation.member_sign_in(db, code)
        if session is None:  # a card issued a moment ago always signs in
            raise RuntimeError("The demo's access card did not sign in.")
        leaning = _u("leaning", pid)
        answers = {}
        for q in questions:
            r = _u("answer", pid, q)
            answers[q] = 0 if r > 0.95 else max(1, min(5, round(1 + 4 * (0.55 * leaning + 0.45 * r) + 0.6)))
        evaluation.submit_answers(db, session, wave.wave_id, answers)
    evaluation.close_wave(db, wave.wave_id, ACTOR, now=now - timedelta(days=8))
    return codes
