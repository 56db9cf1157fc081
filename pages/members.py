"""Members (organisers): who is on the panel, their status timeline, withdrawals and the quotas
they break, and the way to the replacement draw."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from lib import assembly as P
from lib.access.auth import actor_in_words
from lib.plaintext import md
from pages.common import act, current_actor, db, require, run_page, show_flashes

DRAW_PAGE = "pages/draw.py"
ROOT = Path(__file__).resolve().parent.parent


def draw_link(label: str = "Go to the replacement draw") -> None:
    if (ROOT / DRAW_PAGE).exists():
        try:
            st.page_link(DRAW_PAGE, label=label, icon=":material/casino:")
            return
        except Exception:  # noqa: BLE001 - the draw page is not in this role's menu
            pass
    st.caption("Replacements are drawn on “The draw” page (replacement section), in public, like the first draw.")


def start_tracking() -> None:
    pending = P.draw_panel_to_enrol(db())
    if pending is None:
        st.info(
            "Nobody is on the panel yet. Once the draw has been revealed, come back here and press "
            "“Start tracking the drawn panel”."
        )
        draw_link("Go to the draw")
        return
    draw_id, ids = pending
    st.success(f"The draw (number {draw_id}) picked {len(ids)} people.")
    if st.button("Start tracking the drawn panel", type="primary"):
        act(
            lambda: P.enrol_panel(db(), ids, draw_id, current_actor()),
            lambda added: (
                f"{len(added)} members are now on the panel, each marked “Selected”. "
                "Next: contact them and record who confirms."
            ),
        )


def show_breaks(breaks: list[P.QuotaBreak], who: str | None = None) -> None:
    if breaks:
        head = f"Without {who}, the panel" if who else "The panel"
        st.warning(
            f"{head} no longer meets {len(breaks)} quota{'s' if len(breaks) != 1 else ''}:\n\n"
            + "\n".join(f"- {md(b.message)}" for b in breaks)
        )
    elif who:
        st.success(f"Without {who}, every quota is still met.")


def members_table(names: dict[str, str]) -> None:
    m = P.members_frame(db())
    table = pd.DataFrame(
        {
            "Pseudonym": m["person_id"],
            "Name": m["person_id"].map(lambda p: names.get(p, "")),
            "Status": m["status"].map(P.status_label),
            "Since": m["since"].dt.strftime("%d %b %Y %H:%M"),
            "Replaces": m["replaces"].fillna(""),
            "Replaced by": m["replaced_by"].fillna(""),
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")


def change_form(names: dict[str, str]) -> None:
    st.subheader("Record a change")
    m = P.members_frame(db()).set_index("person_id")
    ids = list(m.index)
    pid = st.selectbox(
        "Member",
        ids,
        format_func=lambda p: f"{p} · {names.get(p, '')} ({P.status_label(m.loc[p, 'status'])})",
        key="member_pick",
    )
    current = m.loc[pid, "status"]
    options = list(P.NEXT_STATUSES[current])
    timeline = P.member_events_frame(db(), pid)
    st.dataframe(
        pd.DataFrame(
            {
                "When": timeline["recorded_at"].dt.strftime("%d %b %Y %H:%M"),
                "Status": timeline["status"].map(P.status_label),
                "By": timeline["actor"].map(actor_in_words),
                "Why / note": timeline["reason"].fillna(""),
            }
        ),
        hide_index=True,
        width="stretch",
    )
    if not options:
        st.info(f"{pid} is “{P.status_label(current)}”: that is the last step, nothing can follow it.")
        return
    new = st.radio("New status", options, format_func=P.status_label, horizontal=True, key=f"member_new_{pid}")
    reason = st.text_input(
        "Why did they withdraw?" if new == P.WITHDRAWN else "Note (optional)", key=f"member_reason_{pid}"
    )
    replaced_by = None
    if new == P.REPLACED:
        candidates = [p for p in P.current_members(db()) if p != pid]
        replaced_by = st.selectbox(
            "Replaced by", candidates, format_func=lambda p: f"{p} · {names.get(p, '')}", key=f"member_repl_{pid}"
        )
    if st.button("Save the change", type="primary", key="member_save"):
        act(lambda: save_change(pid, new, reason, replaced_by), str)


def save_change(pid: str, new: str, reason: str, replaced_by: str | None) -> str:
    """Record a member's new status; what to tell the organiser."""
    if new == P.WITHDRAWN:
        breaks = P.record_withdrawal(db(), pid, reason, current_actor())
        st.session_state["last_withdrawal"] = (pid, [b.__dict__ for b in breaks])
        return f"{pid} is now recorded as withdrawn."
    P.change_status(db(), pid, new, current_actor(), reason=reason, replaced_by=replaced_by)
    return f"{pid} is now “{P.status_label(new)}”."


def body() -> None:
    st.title("Members")
    if not require("members", "This page is for organisers only. Sign in first."):
        return
    show_flashes()
    for old, new in P.sync_replacements(db(), "replacement draw"):
        st.success(f"{new} has joined the panel, replacing {old} (from the replacement draw).")
    counts = P.status_counts(db())
    if not sum(counts.values()):
        start_tracking()
        return
    cols = st.columns(4)
    cols[0].metric("On the panel", len(P.current_members(db())))
    cols[1].metric("Confirmed or taking part", counts[P.CONFIRMED] + counts[P.ACTIVE])
    cols[2].metric("Not yet confirmed", counts[P.SELECTED] + counts[P.CONTACTED])
    cols[3].metric("Withdrawn", counts[P.WITHDRAWN] + counts[P.REPLACED])

    last = st.session_state.pop("last_withdrawal", None)
    if last:
        pid, breaks = last
        show_breaks([P.QuotaBreak(**b) for b in breaks], pid)
        draw_link()

    waiting = P.awaiting_replacement(db())
    if waiting:
        st.info(f"Waiting for a replacement: {', '.join(waiting)}.")
        if not last:
            draw_link()
    breaks = P.quota_breaks(db())
    with st.expander("Quotas now" + (f": {len(breaks)} not met" if breaks else ": all met"), expanded=bool(breaks)):
        show_breaks(breaks)
        qs = P.quota_status(db())
        if not qs.empty:
            st.dataframe(
                pd.DataFrame(
                    {
                        "Group": qs["field_label"] + ": " + qs["value_label"],
                        "At least": qs["min"],
                        "At most": qs["max"],
                        "On the panel now": qs["count"],
                        "": qs["state"].map({"ok": "✓ met", "short": "▼ too few", "over": "▲ too many"}),
                    }
                ),
                hide_index=True,
                width="stretch",
            )
        else:
            st.caption("No quotas yet: set the targets first.")

    names = P.member_names(db())
    members_table(names)
    change_form(names)


run_page(body)
