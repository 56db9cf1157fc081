"""Steps 3 to 6 of the Draw page, shared by draws and replacement rounds: publish the commitment,
enter the public number, reveal the panel, download and share."""

from __future__ import annotations

import os

import streamlit as st

from lib.draws import explain
from lib import draws
from lib.draws.ceremony_steps import ceremony_step
from lib.errors import UserError
from lib.plaintext import md
from lib.privacy import safe_csv_bytes
from lib.reporting.transparency import verify_command
from lib.recruitment.signups.sheets import make_client
from lib.resources import secrets_section
from lib.store.settings import get_setting
from pages.common import act, current_actor, db
from pages.sections.draw_common import big_code, labels, step_header
from pages.sections.draw_receipts import receipts_section


def ceremony(rec: draws.DrawRecord, prefix: str) -> None:
    """Steps 3 to 6 for a computed, committed or revealed record (a withdrawn one says so)."""
    if rec.status == "withdrawn":
        st.warning(explain.withdrawn_text(rec, draws.live_commitment(db(), draws.slot_of(rec))))
        return
    step_header(ceremony_step(rec.status))
    if rec.status == "computed":
        _step_commit(rec, prefix)
    elif rec.status == "committed":
        _commitment_block(rec, prefix)
        receipts_section(rec, prefix)
        _step_number(rec, prefix)
    else:
        with st.expander("The commitment and the printable page"):
            _commitment_block(rec, prefix)
        result(rec, prefix)
        receipts_section(rec, prefix)


def _step_commit(rec: draws.DrawRecord, prefix: str) -> None:
    st.markdown(
        "Next, publish the lottery's **commitment**: a fingerprint of the pool, the quotas and all "
        f"{rec.m} panels. Once it is published, nobody (not even you) can change the lottery without "
        "everyone noticing. Publish it *before* the public random number is drawn."
    )
    again = draws.rerun_notice(db(), rec)
    reason = ""
    if again:
        st.warning(
            f"This draw is run again: {again}. Everyone will see it on the Transparency page, with "
            "the reason you give here."
        )
        reason = st.text_input(
            "Why is the draw run again? (published)", value=rec.note or "", key=f"{prefix}commit_reason"
        )
    if st.button("Publish the commitment", type="primary", key=f"{prefix}commit"):
        if again and not reason.strip():
            st.error("Please say why the draw is run again. The reason is published with the commitment.")
            return
        act(lambda: draws.commit_draw(db(), rec.draw_id, actor=current_actor(), reason=reason.strip() or None), None)


def _assembly_name() -> str:
    return (get_setting(db(), "assembly", {}) or {}).get("name") or "Citizens' assembly"


def _commitment_block(rec: draws.DrawRecord, prefix: str) -> None:
    st.markdown(
        "**The commitment**. Read it aloud, put it on your website and in the room, before the public number is drawn:"
    )
    big_code(rec.commitment)
    st.page_link(
        "pages/projector.py",
        label="Show the ceremony on the room's screen: the projector page (no sign-in; it follows this page by itself)",
        icon=":material/cast:",
    )
    page = draws.printable_lottery_html(rec, draws.frozen_lottery(db(), rec.draw_id), title=_assembly_name())
    st.download_button(
        "Download the printable page (every panel by pseudonym)",
        page.encode("utf-8"),
        file_name=f"lottery-{prefix}{rec.draw_id}.html",
        mime="text/html",
        key=f"{prefix}print",
        icon=":material/print:",
    )


def _engine_version(rec: draws.DrawRecord) -> str | None:
    try:
        return draws.frozen_lottery(db(), rec.draw_id).engine_version
    except Exception:  # noqa: BLE001 - the sentence is only help; the reveal itself checks again
        return None


def _step_number(rec: draws.DrawRecord, prefix: str) -> None:
    st.markdown(
        "Now get a **random number that nobody could know in advance**, in public. Good ways:\n"
        "- numbered balls drawn from a bag, or dice rolled, in the room, by a member of the public;\n"
        "- a lottery result published *after* the commitment (for example the next national lottery draw).\n\n"
        + explain.number_rule(_engine_version(rec))
    )
    with st.form(f"{prefix}number_form"):
        number = st.text_input(
            "The public random number", key=f"{prefix}number", placeholder="for example: 12 07 33 41 05"
        )
        sure = st.checkbox("This number was drawn in public, after the commitment was published", key=f"{prefix}sure")
        go = st.form_submit_button("Reveal the panel", type="primary")
    if go:
        problem = explain.number_problem(number, sure)
        if problem:
            st.error(problem)
            return
        act(lambda: draws.reveal_draw(db(), rec.draw_id, number, actor=current_actor()), None)


def result(rec: draws.DrawRecord, prefix: str) -> None:
    """Steps 5 and 6: the panel and its counts per group, then the downloads."""
    d = db()
    st.success(f"The public number “{md(rec.public_number)}” chose panel number {rec.panel_index} of {rec.m}.")
    if rec.kind == "replacement":
        st.markdown(f"**New members**: {', '.join(rec.selected_ids)} (replacing {', '.join(rec.replaces)}).")
    st.markdown(f"**The panel** ({len(rec.panel_after)} people), by pseudonym:")
    st.write(", ".join(rec.panel_after))
    st.dataframe(explain.counts_table(draws.group_counts(rec, db=d), labels()), hide_index=True, width="stretch")
    names = st.toggle("Show names and contact details (organisers only)", key=f"{prefix}names")
    st.dataframe(
        draws.selected_frame(d, rec, with_contacts=names),
        hide_index=True,  # a table: plain text
        width="stretch",
    )
    st.divider()
    _downloads(rec, prefix, names)
    _sheet_export(rec, prefix)


def _downloads(rec: draws.DrawRecord, prefix: str, names: bool) -> None:
    d = db()
    st.markdown("**Step 6: download and share**")
    bundle = draws.draw_bundle(d, rec.draw_id)
    name = explain.export_name(rec)
    st.download_button(
        "Download the audit bundle (zip)",
        bundle or b"",
        file_name=f"{name}-bundle.zip",
        mime="application/zip",
        key=f"{prefix}bundle",
        type="primary",
        icon=":material/download:",
    )
    st.caption(
        "Anyone can check the draw with it and this command, which carries the commitment and the public "
        "number you announced (see docs/VERIFYING.md). Share the command as it is: without those two values a "
        "forged bundle could pass. The Transparency page shows the bundle and the command to everyone."
    )
    st.code(verify_command(rec, None, bundle=f"{name}-bundle.zip"), language="bash", wrap_lines=True)
    audit = draws.auditors_bundle(d, rec.draw_id)
    if audit and audit != bundle:
        st.download_button(
            "Download the auditors' bundle (confidential: every answer)",
            audit,
            file_name=f"{name}-auditors-bundle.zip",
            mime="application/zip",
            key=f"{prefix}audit_bundle",
            icon=":material/lock:",
        )
        st.caption(
            "Only for the auditors the members named. It holds every person's answers under a bundle id; "
            "never publish it. The bundle above names nobody and is the one for everyone."
        )
    elif audit:
        st.warning(
            "This draw was made before public audit bundles existed: its bundle lists everybody's answers. "
            "Give it only to the auditors the members named; do not publish it."
        )
    c1, c2 = st.columns(2)
    c1.download_button(
        "Selected panel (CSV)",
        safe_csv_bytes(draws.selected_frame(d, rec, with_contacts=names)),
        file_name=f"{name}-panel.csv",
        mime="text/csv",
        key=f"{prefix}panel_csv",
    )
    c2.download_button(
        "Reserve list (CSV)",
        safe_csv_bytes(draws.reserve_frame(d, rec, with_contacts=names)),
        file_name=f"{name}-reserve.csv",
        mime="text/csv",
        key=f"{prefix}reserve_csv",
    )
    if not names:
        st.caption(
            "The CSV files hold pseudonyms and answers. Switch on “Show names” above to include names and "
            "contact details."
        )


def _sheet_export(rec: draws.DrawRecord, prefix: str) -> None:
    d = db()
    if draws.sheet_source(d) is None:
        return
    sel, res = draws.export_titles(rec)
    done = draws.exports(d, rec.draw_id)
    if done:
        st.caption(f"Written to the Google Sheet on {done[-1][0]:%d %b %Y at %H:%M}: {done[-1][3]}.")
    if not st.button(f"Write “{sel}” and “{res}” to the sign-up Google Sheet", key=f"{prefix}sheet"):
        return
    creds = secrets_section("gcp_service_account")
    if not creds:
        st.error(
            "Kleroterion has no Google service account key, so it cannot write to the sheet. "
            "Download the CSV files instead (docs/GOOGLE_SHEETS.md shows how to add the key)."
        )
        return
    try:
        client = make_client(dict(creds), api_base=os.environ.get("KLEROTERION_SHEETS_API_BASE"))
        titles = draws.write_to_sheet(d, client, rec, actor=current_actor())
    except Exception as e:  # noqa: BLE001 - shown in plain words
        msg = (
            str(e)
            if isinstance(e, UserError)
            else (
                "The Google Sheet could not be written to. Nothing "
                "in the app was changed. Try again, or download "
                "the CSV files instead."
            )
        )
        st.error(md(msg))
        return
    st.success("Written to the sheet: " + ", ".join(f"“{md(t)}”" for t in titles) + ".")
