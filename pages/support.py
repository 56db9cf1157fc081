"""Support and stipends (organisers): who needs a call, support needs, the contact log, stipends."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import assembly as P
from lib.access.auth import actor_in_words
from lib.plaintext import md
from pages.common import act, current_actor, db, require, run_page, show_flashes


def member_picker(key: str, names: dict[str, str], ids: list[str] | None = None) -> str | None:
    ids = P.current_members(db()) if ids is None else ids
    if not ids:
        st.caption("Nobody on the panel.")
        return None
    return st.selectbox("Member", ids, format_func=lambda p: f"{p} · {names.get(p, '')}", key=key)


def calls_tab(names: dict[str, str]) -> None:
    calls, risk = P.call_list(db())
    if calls.empty:
        st.success("Nobody needs a call right now.")
    else:
        st.markdown(
            f"**{len(calls)} member{'s' if len(calls) != 1 else ''} to call.** People in the groups most "
            "at risk of dropping out come first. Log each call in “Contact log”: a reply takes them off "
            "the list."
        )
        details = P.contact_details(db(), list(calls["person_id"])).set_index("person_id")
        st.dataframe(
            pd.DataFrame(
                {
                    "Pseudonym": calls["person_id"],
                    "Name": calls["person_id"].map(lambda p: details["name"].get(p, "")),
                    "Phone": calls["person_id"].map(lambda p: details["phone"].get(p, "")),
                    "Status": calls["status"].map(P.status_label),
                    "Why": calls["reasons"],
                    "Group at risk": calls["risk_groups"],
                }
            ),
            hide_index=True,
            width="stretch",
        )
    st.caption(
        f"Who is listed: contacted over {P.NO_REPLY_HOURS} hours ago with no reply yet; support not "
        "sorted yet; missed the last session (absent or not marked); or marked absent, as soon as a "
        "volunteer marks them, even before the session starts. They stay listed until a contact is logged."
    )
    st.subheader("Groups most at risk of dropping out")
    if risk.empty:
        st.caption("Nobody on the panel yet.")
        return
    flagged = risk[risk["above_average"]]
    if not flagged.empty and flagged["at_risk"].sum():
        top = flagged.head(3)
        st.warning(
            "Most at risk: "
            + "; ".join(
                f"{md(r.field_label)} {md(r.value_label)} ({r.at_risk} of {r.enrolled})" for r in top.itertuples()
            )
            + ". Dropouts from these groups are the hardest to replace: call them first."
        )
    st.dataframe(
        pd.DataFrame(
            {
                "Group": risk["field_label"] + ": " + risk["value_label"],
                "Members (ever)": risk["enrolled"],
                "Withdrew": risk["withdrawn"],
                "Need a call": risk["needs_call"],
                "At risk": (risk["share_at_risk"] * 100).round().astype(int).astype(str) + "%",
                "Higher than average": risk["above_average"].map({True: "▲ yes", False: ""}),
            }
        ),
        hide_index=True,
        width="stretch",
    )


def needs_tab(names: dict[str, str]) -> None:
    with st.form("add_need", clear_on_submit=True):
        st.markdown("**Record a support need**")
        pid = member_picker("need_member", names)
        need = st.selectbox("Kind of support", P.NEEDS, format_func=lambda n: P.NEED_LABELS[n], key="need_kind")
        note = st.text_input("Details", placeholder="e.g. two children under 5, Saturday mornings")
        if st.form_submit_button("Save the need", type="primary") and pid:
            act(
                lambda: P.add_support_need(db(), pid, need, note, current_actor()),
                f"{P.NEED_LABELS[need]} need recorded for {pid}.",
            )
    sf = P.support_frame(db())
    if sf.empty:
        st.caption("No support needs recorded yet.")
        return
    open_ = sf[~sf["resolved"]]
    st.markdown(f"**Not sorted yet: {len(open_)}**")
    st.dataframe(
        pd.DataFrame(
            {
                "Pseudonym": sf["person_id"],
                "Name": sf["person_id"].map(lambda p: names.get(p, "")),
                "Support": sf["need"].map(P.NEED_LABELS),
                "State": sf["resolved"].map({True: "✓ sorted", False: "to sort"}),
                "Since": sf["since"].dt.strftime("%d %b %Y"),
                "Latest note": sf["note"].fillna(""),
            }
        ),
        hide_index=True,
        width="stretch",
    )
    if not open_.empty:
        keys = [f"{r.person_id}|{r.need}" for r in open_.itertuples()]
        with st.form("resolve_need"):
            choice = st.selectbox(
                "Mark as sorted",
                keys,
                key="resolve_pick",
                format_func=lambda k: (
                    f"{k.split('|')[0]} · {names.get(k.split('|')[0], '')}: {P.NEED_LABELS[k.split('|')[1]]}"
                ),
            )
            note = st.text_input("How it was sorted", placeholder="e.g. crèche booked for all sessions")
            if st.form_submit_button("Mark as sorted"):
                pid, need = choice.split("|")
                act(
                    lambda: P.resolve_support_need(db(), pid, need, note, current_actor()),
                    f"{P.NEED_LABELS[need]} for {pid} is sorted.",
                )


def contact_tab(names: dict[str, str]) -> None:
    with st.form("log_contact", clear_on_submit=True):
        st.markdown("**Log a contact**")
        pid = member_picker("contact_member", names)
        c1, c2 = st.columns(2)
        channel = c1.selectbox("How", P.CHANNELS, key="contact_channel")
        outcome = c2.selectbox("What happened", P.OUTCOMES, key="contact_outcome")
        note = st.text_input("Note", placeholder="e.g. will come, needs a lift")
        if st.form_submit_button("Save", type="primary") and pid:
            act(
                lambda: P.log_contact(db(), pid, channel, outcome, note, current_actor()), f"Contact with {pid} logged."
            )
    log = P.contact_frame(db())
    if log.empty:
        st.caption("No contacts logged yet.")
        return
    st.dataframe(
        pd.DataFrame(
            {
                "When": log["recorded_at"].dt.strftime("%d %b %Y %H:%M"),
                "Pseudonym": log["person_id"],
                "Name": log["person_id"].map(lambda p: names.get(p, "")),
                "How": log["channel"],
                "What happened": log["outcome"],
                "Note": log["note"].fillna(""),
                "By": log["actor"].map(actor_in_words),
            }
        ),
        hide_index=True,
        width="stretch",
    )


def stipends_tab(names: dict[str, str]) -> None:
    settings = P.stipend_settings(db())
    cur = settings["currency"]
    with st.form("stipend_rate"):
        c1, c2 = st.columns([1, 3])
        currency = c1.text_input("Currency", value=cur)
        amount = c2.text_input("Amount per session attended", value=str(settings["amount"]))
        if st.form_submit_button("Save the amount"):
            act(lambda: P.set_stipend(db(), amount, current_actor(), currency=currency), "Amount per session saved.")
    st.caption(
        "Owed = amount per session × sessions attended (present, or late and part of it). "
        "Cancelled sessions do not count."
    )
    df = P.stipends_frame(db())
    if df.empty:
        st.caption("Nobody on the panel yet.")
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Owed in total", f"{cur}{df['owed'].sum():,.2f}")
    c2.metric("Paid", f"{cur}{df['paid'].sum():,.2f}")
    c3.metric("Still to pay", f"{cur}{df['balance'].sum():,.2f}")
    st.dataframe(
        pd.DataFrame(
            {
                "Pseudonym": df["person_id"],
                "Name": df["person_id"].map(lambda p: names.get(p, "")),
                "Status": df["status"].map(P.status_label),
                "Sessions attended": df["sessions_attended"],
                "Owed": df["owed"].astype(float),
                "Paid": df["paid"].astype(float),
                "Still to pay": df["balance"].astype(float),
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.NumberColumn(c, format=f"{cur}%.2f") for c in ("Owed", "Paid", "Still to pay")
        },
    )
    with st.form("payment", clear_on_submit=True):
        st.markdown("**Record a payment**")
        pid = member_picker("pay_member", names, list(df["person_id"]))
        c1, c2 = st.columns(2)
        amount = c1.text_input(f"Amount ({md(cur)})", placeholder="25.00")
        method = c2.text_input("How it was paid", placeholder="bank transfer, cash, voucher")
        note = st.text_input("Note")
        if st.form_submit_button("Save the payment", type="primary") and pid:
            act(
                lambda: P.record_payment(db(), pid, amount, current_actor(), method=method, note=note),
                f"Payment to {pid} recorded.",
            )
    st.markdown("**For the treasurer**")
    include = st.checkbox(
        "Include full names",
        key="export_names",
        help="Only if your treasurer needs names to pay people. Without names the sheet uses "
        "pseudonyms (P-0042), which is safer if it is emailed or printed.",
    )
    if include:
        st.warning(
            "This file will contain members' full names. Only send it to the treasurer, and delete it "
            "when the payments are done."
        )
    else:
        st.caption("The file lists pseudonyms only (no names). Tick the box above only if your treasurer needs names.")
    st.download_button(
        "Download the stipends sheet (CSV)",
        P.treasurer_export(db(), include_names=include),
        file_name="stipends-with-names.csv" if include else "stipends.csv",
        mime="text/csv",
        icon=":material/download:",
    )


def body() -> None:
    st.title("Support and stipends")
    if not require("support", "This page is for organisers only. Sign in first."):
        return
    show_flashes()
    if not P.current_members(db()) and P.member_statuses(db()).empty:
        st.info("Nobody is on the panel yet. Start tracking the drawn panel on the Members page.")
        return
    names = P.member_names(db())
    t1, t2, t3, t4 = st.tabs(
        ["Needs a call", "Support needs", "Contact log", "Stipends"], key="support_tab", on_change="rerun"
    )  # kept after a save
    # only the open tab is drawn (a click on another tab reruns the page): the four took 100+ ms and 60 elements
    for tab, draw in ((t1, calls_tab), (t2, needs_tab), (t3, contact_tab), (t4, stipends_tab)):
        if tab.open:
            with tab:
                draw(names)


run_page(body)
