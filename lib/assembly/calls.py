"""The "needs a call" list: members to call, with the reasons in plain words, people in the groups most at
risk of dropping out first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from lib.assembly.attendance import session_marks
from lib.assembly.members import (
    ABSENT,
    CONTACTED,
    GONE,
    NEED_LABELS,
    NO_REPLY_HOURS,
    REPLY_OUTCOMES,
    _local_naive,
    _now,
    member_statuses,
)
from lib.assembly.sessions import Session, get_session, list_sessions
from lib.assembly.support import support_frame
from lib.store.db import Database

# --- the "needs a call" list ------------------------------------------------------------------


def last_recorded_session(db: Database, now: datetime | None = None) -> Session | None:
    """The latest session that has started (by ``now``) and has attendance recorded."""
    local = _local_naive(_now(now))
    rows = db.query(
        """
        SELECT s.session_id FROM assembly_sessions s
        WHERE s.cancelled_at IS NULL AND s.starts_at <= ?
          AND EXISTS (SELECT 1 FROM attendance_log a WHERE a.session_id = s.session_id)
        ORDER BY s.starts_at DESC, s.session_id DESC LIMIT 1""",
        [local],
    )
    return get_session(db, rows[0][0]) if rows else None


@dataclass
class _CallFacts:
    """What the "needs a call" rules read once for all members (see :func:`needs_a_call`)."""

    at: datetime
    cutoff: datetime  # contacted before this and no reply since: "no reply"
    contacts: pd.DataFrame
    open_needs: dict[str, list[str]]
    last: Session | None  # the latest session with attendance recorded
    marks: dict[str, str]  # the marks at that session
    last_start: datetime | None
    sessions: dict[int, Session]
    latest_absent: dict[str, tuple[int, datetime]]  # person -> (session, marked at) when their latest mark is Absent

    def contacts_since(self, pid: str, since: datetime, replies_only: bool) -> bool:
        c = self.contacts[self.contacts["person_id"] == pid]
        if replies_only:
            c = c[c["outcome"].isin(REPLY_OUTCOMES)]
        return bool((c["recorded_at"] >= since).any()) if not c.empty else False


def _call_facts(db: Database, at: datetime, no_reply_hours: int) -> _CallFacts:
    contacts = db.query_df("SELECT person_id, recorded_at, outcome FROM contact_log")
    support = support_frame(db, open_only=True)
    open_needs: dict[str, list[str]] = {}
    for r in support.itertuples():
        open_needs.setdefault(r.person_id, []).append(NEED_LABELS.get(r.need, r.need).lower())
    last = last_recorded_session(db, at)
    marks = session_marks(db, last.session_id) if last else {}
    last_start = last.starts_at.astimezone() if last else None  # naive local -> aware
    # Each member's latest mark (by session), when it is Absent: a clear sign, whatever the clock
    # says of the session (marked at the door before its start time) and whenever they joined.
    sessions = {s.session_id: s for s in list_sessions(db)}
    latest_absent = {
        pid: (sid, rec_at)
        for pid, mark, sid, rec_at in db.query(
            """
        SELECT n.person_id, arg_max(n.mark, s.starts_at), arg_max(n.session_id, s.starts_at),
               arg_max(n.recorded_at, s.starts_at)
        FROM attendance_now n JOIN assembly_sessions s USING (session_id)
        WHERE s.cancelled_at IS NULL AND n.recorded_at <= ?
        GROUP BY n.person_id""",
            [at],
        )
        if mark == ABSENT and sid in sessions
    }
    cutoff = at - timedelta(hours=no_reply_hours)
    return _CallFacts(at, cutoff, contacts, open_needs, last, marks, last_start, sessions, latest_absent)


def _no_reply_reason(facts: _CallFacts, member: Any) -> str | None:
    """The "no reply" reason: contacted long enough ago, not yet confirmed, and no reply logged since."""
    since = member.since.to_pydatetime()
    if not (
        member.status == CONTACTED and since <= facts.cutoff and not facts.contacts_since(member.person_id, since, True)
    ):
        return None
    hours = int((facts.at - since).total_seconds() // 3600)
    return (
        f"No reply since they were contacted {hours // 24} days ago"
        if hours >= 48
        else f"No reply since they were contacted {hours} hours ago"
    )


def _missed_reason(facts: _CallFacts, member: Any) -> str | None:
    """The "missed a session" reason: absent or unmarked at the latest session with attendance (on the panel before it
    started), else a latest mark of Absent; in both cases only when nobody has logged a contact since."""
    pid, last = member.person_id, facts.last
    if last is not None and facts.last_start is not None and member.enrolled_at.to_pydatetime() <= facts.last_start:
        mark = facts.marks.get(pid)
        if mark in (None, ABSENT) and not facts.contacts_since(pid, facts.last_start, False):
            return f"Missed {last.title} ({last.starts_at:%d %b})" + (" (no mark)" if mark is None else "")
    if pid in facts.latest_absent:
        sid, marked_at = facts.latest_absent[pid]
        sess = facts.sessions[sid]
        start = sess.starts_at.astimezone()
        if not facts.contacts_since(pid, min(start, marked_at), False):
            return f"{'Missed' if start <= facts.at else 'Marked absent for'} {sess.title} ({sess.starts_at:%d %b})"
    return None


def needs_a_call(db: Database, now: datetime | None = None, *, no_reply_hours: int = NO_REPLY_HOURS) -> pd.DataFrame:
    """Members to call, with the reasons in plain words: person_id, status, reasons, no_reply,
    open_support, missed_session. Rules:

    - **no reply**: contacted at least ``no_reply_hours`` ago, not yet confirmed, and no reply
      logged since (a contact with outcome "they replied" or "spoke with them");
    - **support**: a support need not sorted yet;
    - **missed a session**: at the latest session with attendance recorded they were marked
      absent or not marked at all (excused does not count), they were on the panel before it
      started, and nobody has logged a contact with them since it started; and, whatever the clock
      and whenever they joined, anyone whose latest mark is **absent** (until a contact is logged).
    Only members still expected to take part are listed (not completed, withdrawn or replaced)."""
    at = _now(now)
    members = db.query_df(
        "SELECT person_id, status, since, enrolled_at FROM members "
        "WHERE status IN ('selected', 'contacted', 'confirmed', 'active') ORDER BY person_id"
    )
    cols = ["person_id", "status", "reasons", "no_reply", "open_support", "missed_session"]
    if members.empty:
        return pd.DataFrame(columns=cols)
    facts = _call_facts(db, at, no_reply_hours)
    out = []
    for r in members.itertuples():
        no_reply = _no_reply_reason(facts, r)
        needs = facts.open_needs.get(r.person_id, [])
        missed = _missed_reason(facts, r)
        support = "Support not sorted yet: " + ", ".join(needs) if needs else None
        reasons = [reason for reason in (no_reply, support, missed) if reason]
        if reasons:
            out.append(
                [r.person_id, r.status, "; ".join(reasons), no_reply is not None, bool(needs), missed is not None]
            )
    return pd.DataFrame(out, columns=cols)


def _member_values(db: Database) -> pd.DataFrame:
    return db.query_df("""
        SELECT m.person_id, v.field, v.value FROM members m JOIN person_values v USING (person_id)
        WHERE v.value IS NOT NULL""")


def risk_by_group(db: Database, now: datetime | None = None, *, calls: pd.DataFrame | None = None) -> pd.DataFrame:
    """Which groups are most at risk of dropping out: per stratification value, members ever
    enrolled, how many withdrew, how many are on the "needs a call" list, and the share at risk
    ((withdrawn + needs a call) / enrolled). Sorted, riskiest first; ``above_average`` flags
    groups whose share is higher than the whole panel's."""
    from lib.recruitment.categories import load_fields

    cols = [
        "field",
        "field_label",
        "value",
        "value_label",
        "enrolled",
        "withdrawn",
        "needs_call",
        "at_risk",
        "share_at_risk",
        "above_average",
    ]
    members = member_statuses(db)
    if members.empty:
        return pd.DataFrame(columns=cols)
    calls = set((needs_a_call(db, now) if calls is None else calls)["person_id"])
    gone = set(members.loc[members["status"].isin(GONE), "person_id"])
    values = _member_values(db)
    fields = {f.key: f for f in load_fields(db)}
    overall = (len(gone) + len(calls - gone)) / len(members)
    rows = []
    for (field, value), grp in values.groupby(["field", "value"], sort=False):
        ids = set(grp["person_id"])
        w, c = len(ids & gone), len((ids & calls) - gone)
        f = fields.get(field)
        share = (w + c) / len(ids)
        rows.append(
            [
                field,
                f.label if f else field,
                value,
                f.value_labels.get(value, value) if f else value,
                len(ids),
                w,
                c,
                w + c,
                share,
                share > overall + 1e-9,
            ]
        )
    df = pd.DataFrame(rows, columns=cols)
    order = {k: i for i, k in enumerate(fields)}
    df["_pos"] = df["field"].map(lambda k: order.get(k, 99))
    return (
        df.sort_values(["share_at_risk", "at_risk", "_pos"], ascending=[False, False, True])
        .drop(columns="_pos")
        .reset_index(drop=True)
    )


def call_list(db: Database, now: datetime | None = None, *, top: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The "needs a call" list, people in the groups most at risk first, and the risk table.

    Returns (calls, risk): ``calls`` is :func:`needs_a_call` plus ``risk_groups`` (plain words:
    which of the ``top`` riskiest groups, above the panel's average, the person belongs to),
    sorted: at-risk groups first, then by the number of reasons; ``risk`` is :func:`risk_by_group`."""
    calls = needs_a_call(db, now)
    risk = risk_by_group(db, now, calls=calls)
    if calls.empty:
        return calls.assign(risk_groups=pd.Series(dtype=object)), risk
    flagged = risk[risk["above_average"] & (risk["at_risk"] > 0)].head(top)
    labels = {(r.field, r.value): f"{r.field_label}: {r.value_label}" for r in flagged.itertuples()}
    values = _member_values(db)
    values = values[values["person_id"].isin(set(calls["person_id"]))]
    groups: dict[str, list[str]] = {}
    for r in values.itertuples():
        if (r.field, r.value) in labels:
            groups.setdefault(r.person_id, []).append(labels[(r.field, r.value)])
    calls = calls.assign(risk_groups=calls["person_id"].map(lambda p: "; ".join(groups.get(p, []))))
    order = calls.assign(_g=calls["risk_groups"] != "", _n=calls["reasons"].str.count("; "))
    order = order.sort_values(["_g", "_n", "person_id"], ascending=[False, False, True])
    return order.drop(columns=["_g", "_n"]).reset_index(drop=True), risk
