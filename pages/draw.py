"""The draw: a step-by-step ceremony for organisers.

1 check the quotas → 2 compute the fair lottery → 3 publish the commitment → 4 enter the
public random number → 5 reveal the panel → 6 download the audit bundle and lists.
Every step is stored (lib/draws/records.py), so reloading the page comes back to the right step.
"""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from lib.draws import records as draws
from lib.plaintext import md
from lib.privacy import safe_csv_bytes
from pages.common import db, flash, run_page, show_flashes
from pages.common import current_actor

from lib.draws.ceremony_steps import STEPS, CeremonyStep, ceremony_step, step as step_at  # noqa: F401


def _actor() -> str:
    return current_actor()


def _labels() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    from lib.recruitment.categories import load_fields

    fields = load_fields(db())
    return ({f.key: f.label for f in fields},
            {(f.key, v): f.value_labels.get(v, v) for f in fields for v in f.values})


def _step_header(current: int | CeremonyStep) -> None:
    """The step's title, progress and the list of steps, from lib.draws.ceremony_steps (the stored state)."""
    s = current if isinstance(current, CeremonyStep) else step_at(current)
    marks = []
    for i, name, state in s.marks():
        marks.append(f"~~{i}. {name}~~ ✓" if state == "done" else f"**{i}. {name}**" if state == "now" else
                     f"{i}. {name}")
    st.subheader(s.title)
    st.progress(s.progress)
    st.caption(" → ".join(marks))


def _big_code(commitment: str | None) -> None:
    """The commitment in groups of four that never break across lines (each group is one inline block)."""
    st.markdown(draws.commitment_html(commitment, font_size="clamp(1.2rem, 4.5vw, 2.2rem)"), unsafe_allow_html=True)


# --- progress of a background computation -------------------------------------------------------

@st.fragment(run_every=1.0)
def _progress(job_id: int) -> None:
    job = draws.get_job(db(), job_id)
    if job is None or job.status != "running":
        st.rerun(scope="app")
        return
    st.progress(min(1.0, max(0.0, job.progress)), text=job.message or "Working…")
    st.caption(f"Started by {md(job.started_by or 'an organiser')} at {job.started_at:%H:%M:%S}. You can leave this "
               "page and come back: the computation carries on, and the result is kept.")
    state = draws.engine_state(db(), job_id)
    if state is not None and state.proven and not state.stopped:
        st.caption("Nobody's chance can be made any higher at the bottom any more. The computer is now evening out "
                   "the chances above it, which matters less. You can stop it now, or let it work longer.")
        left, right = st.columns(2)
        if left.button("Stop now and keep this lottery", key=f"stop_{job_id}", icon=":material/stop_circle:"):
            draws.stop_job(db(), job_id)
            st.toast("Stopping: the lottery found so far is kept.")
        if right.button("Keep working 5 more minutes", key=f"extend_{job_id}", icon=":material/more_time:"):
            draws.extend_job(db(), job_id, 300)
            st.toast("It will keep evening out the chances for up to 5 more minutes.")


def _show_job(kind: str) -> bool:
    """Show a running computation (True) or the error of the last failed one."""
    d = db()
    job = draws.running_job(d, kind)
    if job is not None:
        st.info("The computer is working on it. This can take a few minutes for a large pool.")
        _progress(job.job_id)
        return True
    last = draws.last_job(d, kind)
    if last is not None and last.status == "failed" and not st.session_state.get(f"dismissed_job_{last.job_id}"):
        newer = draws.latest_draw(d) if kind == "draw" else None
        if newer is None or newer.created_at < last.started_at:
            st.error(last.error or "The computation did not finish.")
            if st.button("OK, hide this message", key=f"dismiss_{last.job_id}"):
                st.session_state[f"dismissed_job_{last.job_id}"] = True
                st.rerun()
    return False


# --- step 1 and 2 --------------------------------------------------------------------------------

def _step_inputs(new_after: draws.DrawRecord | None) -> None:  # noqa: C901 - page under rework on main (issue 15: the draw step state); split there
    from lib.recruitment.targets import version_info

    d = db()
    _step_header(1)
    inputs = draws.frozen_inputs(d)
    if inputs is None:
        info = version_info(d)
        if info is None:
            st.error("There are no population targets yet, so the draw cannot know which groups to balance. "
                     "Enter them on the Targets page first.")
            return
        st.markdown(f"The draw uses the **latest targets (version {info.version})**, for a panel of "
                    f"**{info.panel_size or '?'}** people. Before the draw they are *frozen*: nobody can change "
                    "them afterwards, and everyone can see which targets were used.")
        _freeze_with_confirmation(info.version, f"Freeze target version {info.version} for the draw", "freeze",
                                  primary=True)
        return
    from lib.recruitment.targets import latest_version

    newest = latest_version(d)
    if newest and newest > inputs.target_version:
        st.info(f"There is a newer target version ({newest}) that is not frozen yet. The draw uses the frozen "
                f"version {inputs.target_version} unless you freeze the newer one.")
        _freeze_with_confirmation(newest, f"Freeze target version {newest} and use it", "freeze_newer")
    pool = draws.draw_instance(d, inputs)
    st.markdown(f"Targets **version {inputs.target_version}** (frozen"
                f"{' by ' + inputs.frozen_by if inputs.frozen_by else ''}), a panel of **{inputs.panel_size}** "
                f"people, drawn from **{len(pool.people)}** eligible sign-ups.")
    households = st.toggle("At most one person per household", value=inputs.one_per_household, key="households",
                           help="People who gave the same address count as one household; at most one of them "
                                "can be on the panel.")
    if households != inputs.one_per_household:
        from lib.store.settings import set_setting

        set_setting(d, "one_per_household", bool(households), _actor())
        st.rerun()
    # The check is quick for most pools; keep its answer for this exact pool and quotas.
    key = draws.inputs_hash(pool)
    if new_after is not None:
        done = "revealed" if new_after.is_revealed else "published"
        if key == new_after.inputs_hash:
            st.warning(f"Draw {new_after.draw_id} on these same sign-ups and quotas was already {done}. A new draw "
                       "will be recorded as a **re-run** and shown as such to everyone, next to the first one.")
        else:
            st.info(f"Draw {new_after.draw_id} was already {done}, but the sign-ups or the quotas have changed "
                    "since. The new draw is recorded as a separate draw; the earlier one stays on record.")
            new_after = None
    cached = st.session_state.get("feasibility")
    if cached and cached[0] == key:
        report = cached[1]
    else:
        report = draws.check_inputs(d, inputs)
        st.session_state["feasibility"] = (key, report)
    relaxation: list = []
    if report.feasible:
        st.success("Good news: panels that meet every quota exist.")
    else:
        st.warning("No panel can meet every quota as they stand. " + md(report.message()))   # labels, not keys
        if not report.relaxable or not report.relaxation:
            st.error("No change to the quotas can fix this (for example, the panel is larger than the pool). "
                     "Bring in more sign-ups or make the panel smaller on the Targets page.")
            return
        st.markdown("The computer suggests the **smallest change** below. Accept it as it is, or edit the new "
                    "minimum and maximum; the change is published with the draw.")
        fl, vl = _labels()
        df = pd.DataFrame([{"Field": fl.get(c.feature, c.feature), "Group": vl.get((c.feature, c.value), c.value),
                            "Now at least": c.old_min, "Now at most": c.old_max,
                            "New at least": c.new_min, "New at most": c.new_max} for c in report.relaxation])
        edited = st.data_editor(df, disabled=["Field", "Group", "Now at least", "Now at most"], hide_index=True,
                                key="relax_editor", width="stretch")
        for c, (_, row) in zip(report.relaxation, edited.iterrows()):
            relaxation.append({"feature": c.feature, "value": c.value, "old_min": c.old_min, "old_max": c.old_max,
                               "new_min": int(row["New at least"]), "new_max": int(row["New at most"])})
        if not st.checkbox("I accept this change to the quotas", key="accept_relax"):
            return

    st.divider()
    _step_header(2)
    st.markdown("The computer now works out the **fairest lottery**: the one that gives the people with the "
                "smallest chance as big a chance as possible, while every possible panel meets the quotas. "
                "It then lists 1,000 equally likely panels, so that anybody can check each person's chance by "
                "counting.")
    reason = ""
    if new_after is not None:
        reason = st.text_input("Why is the draw run again? (shown with the re-run)", key="rerun_reason")
    if st.button("Compute the fair lottery", type="primary", key="compute"):
        if new_after is not None and not reason.strip():
            st.error("Please say why the draw is run again. It is published with the re-run.")
            return
        st.session_state.pop("new_draw", None)
        draws.start_draw_job(d, actor=_actor(), relaxation=relaxation, note=reason.strip() or None,
                             time_limit=draws.default_time_limit())
        st.rerun()


def _chances(rec: draws.DrawRecord) -> None:
    s = draws.fairness_summary(rec)
    c1, c2 = st.columns(2)
    c1.metric("Smallest chance in the fair lottery", draws.chance_text(s["fair_min"]))
    n = s["legacy_draws"]
    if s["legacy_min"] is None:
        greedy = "not measured"
    elif s["legacy_min"] <= 0:
        greedy = f"never picked in {n:,} trials"
    else:
        greedy = draws.chance_text(s["legacy_min"])
    c2.metric("Smallest chance with the usual greedy draw", greedy)
    if s["legacy_never"] is not None:
        line = (f"In {n:,} trial runs of the greedy draw many groups use, **{s['legacy_never']}** of the "
                f"{s['people']} sign-ups were never picked")
        if s["legacy_almost_none"] is not None:
            line += (f", and **{s['legacy_almost_none']}** had a chance below 1 in 1,000 (in the fair lottery: "
                     f"**{s['fair_almost_none']}**)")
        line += f". In the fair lottery, **{s['fair_none']}** have no chance at all."
        st.markdown(line)
        if n < 200:
            st.caption(f"Only {n} trial runs fitted in the time allowed, so the greedy draw's figures are rough.")
    if rec.legacy_note:
        st.caption(rec.legacy_note)
    zero = sum(1 for p in rec.probabilities.values() if p <= 0)
    if zero:
        who = f"{zero} sign-up{'s have' if zero != 1 else ' has'} no chance at all in this lottery"
        if rec.complete is False:
            st.warning(f"{who}, because the computer ran out of time before finishing. Before publishing, press "
                       "“Start again” and let it run longer (the time limit is the setting "
                       "KLEROTERION_DRAW_TIME_LIMIT, in seconds).")
        else:
            st.info(f"{who}: no panel that meets the quotas can include them, or their chance is smaller than "
                    f"1 in {rec.m}.")
    if rec.complete is False and rec.algorithm == "goldilocks":
        st.caption(f"The computer stopped improving the lottery after {rec.seconds or 0:.0f} seconds. Every panel "
                   f"meets the quotas; its balance is proven within {100 * (rec.gap or 0):.2f}% of the best possible.")
    elif rec.complete is False:
        gap = rec.gap or 0
        outcome = ("Every panel meets the quotas and the smallest chance is already the highest possible; with more "
                   "time, the chances just above it could have been evened out a little further." if gap <= 1e-6 else
                   "Every panel still meets the quotas; with more time the smallest chance might be up to "
                   f"{gap * 100:.2f} percentage points higher.")
        why = ("once the smallest chance was proven the best possible, or when you stopped it" if gap <= 1e-6 else
               "at its time limit")
        st.caption(f"The computer stopped improving the lottery after {rec.seconds or 0:.0f} seconds ({why}). "
                   f"{outcome}")
    from lib.reporting.charts import chance_chart, chance_explanation
    from lib.reporting.representativeness import chance_curve

    curve = chance_curve(rec.probabilities, rec.legacy_probabilities)
    st.altair_chart(chance_chart(curve, equal_share=rec.panel_size / max(1, rec.pool_size)), width="stretch")
    st.markdown(chance_explanation(rec.probabilities, panel_size=rec.panel_size, pool_size=rec.pool_size))
    with st.expander("The numbers behind the chart"):
        df = pd.DataFrame({"Pseudonym": list(rec.probabilities),
                           "Chance (fair lottery)": list(rec.probabilities.values())})
        if rec.legacy_probabilities:
            df["Chance (greedy draw, estimate)"] = df["Pseudonym"].map(rec.legacy_probabilities)
        st.dataframe(df.sort_values("Chance (fair lottery)"), hide_index=True, width="stretch")


def _which_lottery(rec: draws.DrawRecord) -> None:
    """Both kinds of lottery side by side (smallest and largest chance) before the commitment; the organiser
    chooses which one to publish (issue 12, item 7)."""
    d = db()
    alts = draws.alternatives(d, rec)
    alts[rec.algorithm] = rec
    labels = draws.OBJECTIVE_LABELS
    st.subheader("Which lottery do you want to publish?")
    st.markdown("There are two ways to make the lottery fair. The **fairest for the least likely** gives the "
                "people with the smallest chance as big a chance as possible, but it can make a few people almost "
                "sure to be picked: anyone in a rare group, or anyone who falsely claims to be, is then all but "
                "certain to get a seat. The **balanced** lottery keeps everybody's chance close to the average from "
                "both sides: nobody too unlikely, nobody nearly certain.")
    rows = []
    for key, label in labels.items():
        r = alts.get(key)
        probs = list(r.probabilities.values()) if r is not None else []
        rows.append({"Lottery": label + (" (shown above)" if key == rec.algorithm else ""),
                     "Smallest chance": draws.chance_text(min(probs)) if probs else "not computed yet",
                     "Largest chance": draws.chance_text(max(probs)) if probs else "not computed yet",
                     "People with more than a 50% chance": str(sum(1 for p in probs if p > 0.5)) if probs else ""})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    missing = [k for k in labels if k not in alts]
    if missing:
        other = missing[0]
        st.caption("Compute the other lottery to compare them before you publish. Nothing is published until you "
                   "press “Publish the commitment”.")
        if st.button(f"Also compute: {labels[other]}", key=f"compute_{other}"):
            draws.start_draw_job(d, actor=_actor(), relaxation=rec.relaxation, note=rec.note, objective=other,
                                 time_limit=draws.default_time_limit())
            st.rerun()
        return
    st.markdown(f"The lottery that will be published is **{labels[rec.algorithm]}**.")
    for key, r in alts.items():
        if key != rec.algorithm and st.button(f"Publish the other one instead: {labels[key]}", key=f"choose_{key}"):
            draws.choose_draw(d, r.draw_id, actor=_actor())
            flash("success", f"The lottery to publish is now: {labels[key]}.")
            st.rerun()


def _changes_text(rec: draws.DrawRecord) -> str:
    """The relaxed quotas in words, naming questions and answers by their labels."""
    labels = draws.feasibility_labels(db())
    try:
        return "; ".join(md(c.describe(labels)) for c in draws.quota_changes(rec.relaxation))
    except (KeyError, TypeError, ValueError):     # an old record without the numbers: its stored words
        return "; ".join(md(c.get("change", "")) for c in rec.relaxation)


def _relaxation_note(rec: draws.DrawRecord) -> None:
    if rec.relaxation:
        st.warning("These quotas were relaxed so that a panel is possible: " + _changes_text(rec) + ".")


def _stale_warning(rec: draws.DrawRecord) -> None:
    d = db()
    inputs = draws.frozen_inputs(d)
    try:
        same = inputs is not None and draws.inputs_hash(draws.draw_instance(d, inputs)) == rec.inputs_hash
    except Exception:  # noqa: BLE001 - e.g. no eligible sign-ups any more
        same = False
    if not same:
        st.warning("The sign-ups or the quotas have changed since this lottery was computed. It does not include "
                   "the changes. Press “Start again” below to compute a new one (nothing has been published yet).")


def _rerun_note(rec: draws.DrawRecord) -> None:
    if rec.rerun_of:
        st.warning(f"⚠ This is a **re-run**: draw {rec.rerun_of} was already done on the same sign-ups and quotas. "
                   "Both are kept and shown." + (f" Reason given: “{md(rec.note)}”." if rec.note else ""))


# --- steps 3 to 6 (shared by draws and replacement rounds) ---------------------------------------

def _step_commit(rec: draws.DrawRecord, prefix: str) -> None:
    st.markdown("Next, publish the lottery's **commitment**: a fingerprint of the pool, the quotas and all "
                f"{rec.m} panels. Once it is published, nobody (not even you) can change the lottery without "
                "everyone noticing. Publish it *before* the public random number is drawn.")
    again = draws.rerun_notice(db(), rec)
    reason = ""
    if again:
        st.warning(f"This draw is run again: {again}. Everyone will see it on the Transparency page, with "
                   "the reason you give here.")
        reason = st.text_input("Why is the draw run again? (published)", value=rec.note or "",
                               key=f"{prefix}commit_reason")
    if st.button("Publish the commitment", type="primary", key=f"{prefix}commit"):
        if again and not reason.strip():
            st.error("Please say why the draw is run again. The reason is published with the commitment.")
            return
        draws.commit_draw(db(), rec.draw_id, actor=_actor(), reason=reason.strip() or None)
        st.rerun()


def _commitment_block(rec: draws.DrawRecord, prefix: str) -> None:
    st.markdown("**The commitment**. Read it aloud, put it on your website and in the room, before the public "
                "number is drawn:")
    _big_code(rec.commitment)
    st.page_link("pages/projector.py", label="Show the ceremony on the room's screen: the projector page (no "
                 "sign-in; it follows this page by itself)", icon=":material/cast:")
    page = draws.printable_lottery_html(rec, draws.frozen_lottery(db(), rec.draw_id), title=_assembly_name())
    st.download_button("Download the printable page (every panel by pseudonym)", page.encode("utf-8"),
                       file_name=f"lottery-{prefix}{rec.draw_id}.html", mime="text/html", key=f"{prefix}print",
                       icon=":material/print:")


def _step_number(rec: draws.DrawRecord, prefix: str) -> None:
    st.markdown(
        "Now get a **random number that nobody could know in advance**, in public. Good ways:\n"
        "- numbered balls drawn from a bag, or dice rolled, in the room, by a member of the public;\n"
        "- a lottery result published *after* the commitment (for example the next national lottery draw).\n\n"
        + _number_rule(rec))
    with st.form(f"{prefix}number_form"):
        number = st.text_input("The public random number", key=f"{prefix}number",
                               placeholder="for example: 12 07 33 41 05")
        sure = st.checkbox("This number was drawn in public, after the commitment was published", key=f"{prefix}sure")
        go = st.form_submit_button("Reveal the panel", type="primary")
    if go:
        if not number.strip():
            st.error("Type the public random number first.")
            return
        if not sure:
            st.error("Tick the box to confirm that the number was drawn in public after the commitment.")
            return
        draws.reveal_draw(db(), rec.draw_id, number, actor=_actor())
        st.rerun()


def _number_rule(rec: draws.DrawRecord) -> str:
    """How the number is read, under the rule this lottery was committed with (its engine version)."""
    try:
        version = draws.frozen_lottery(db(), rec.draw_id).engine_version
    except Exception:  # noqa: BLE001 - the sentence is only help; the reveal itself checks again
        version = None
    if version == "1.0":
        return ("Type it exactly as announced, with the same spaces and punctuation: this draw was committed before "
                "spaces stopped mattering, so “12 07 33” and “120733” would be different numbers.")
    return ("Type it as announced. Spaces, commas, dots and dashes between the groups do not matter "
            "(“17 23 05”, “17-23-05” and “172305” are the same number), but every digit does, zeros included.")


def _freeze_with_confirmation(version: int, label: str, key: str, *, primary: bool = False) -> None:
    """Freezing the targets asks first, saying what freezing means and what can still change."""
    d = db()
    asking = st.session_state.get("confirm_freeze") == (key, version)
    if not asking:
        if st.button(label, type="primary" if primary else "secondary", key=key, icon=":material/lock:"):
            st.session_state["confirm_freeze"] = (key, version)
            st.rerun()
        return
    with st.container(border=True):
        st.markdown(f"**Freeze target version {version}?**")
        st.markdown(
            f"- Version {version} can **never change again**. Everyone can see that the draw used it, and the "
            "quotas it gives are written into the draw's public record.\n"
            "- **What can still change:** sign-ups keep coming in until you compute the lottery (step 2); the "
            "“one person per household” rule can still be switched; and if the targets turn out wrong, you can "
            "start a new version on the Targets page and freeze that one instead, until the commitment is "
            "published.\n"
            "- Do this once everyone agrees on the targets, just before the draw.")
        yes, no = st.columns(2)
        if yes.button(f"Yes, freeze version {version}", type="primary", key=f"{key}_confirm"):
            st.session_state.pop("confirm_freeze", None)
            draws.freeze_targets(d, version, actor=_actor())
            flash("success", f"Target version {version} is frozen for the draw.")
            st.rerun()
        if no.button("Not yet", key=f"{key}_cancel"):
            st.session_state.pop("confirm_freeze", None)
            st.rerun()


def _assembly_name() -> str:
    from lib.store.settings import get_setting

    return (get_setting(db(), "assembly", {}) or {}).get("name") or "Citizens' assembly"


def _step_result(rec: draws.DrawRecord, prefix: str) -> None:
    d = db()
    st.success(f"The public number “{md(rec.public_number)}” chose panel number {rec.panel_index} of {rec.m}.")
    fl, vl = _labels()
    raw = draws.group_counts(rec, db=d)
    counts = pd.DataFrame({
        "Field": raw["field"].map(lambda f: fl.get(f, f)),
        "Group": [vl.get((f, v), v) for f, v in zip(raw["field"], raw["value"])],
        "On the panel": raw["selected"],
        "Quota": [f"{lo}–{hi}" if lo != hi else str(lo) for lo, hi in zip(raw["min"], raw["max"])],
        "Within quota": raw["within quota"].map({"yes": "✓ yes", "no": "✗ no"}),
    })
    if rec.kind == "replacement":
        st.markdown(f"**New members**: {', '.join(rec.selected_ids)} (replacing {', '.join(rec.replaces)}).")
    st.markdown(f"**The panel** ({len(rec.panel_after)} people), by pseudonym:")
    st.write(", ".join(rec.panel_after))
    st.dataframe(counts, hide_index=True, width="stretch")
    names = st.toggle("Show names and contact details (organisers only)", key=f"{prefix}names")
    st.dataframe(draws.selected_frame(d, rec, with_contacts=names), hide_index=True,   # a table: plain text
                 width="stretch")

    st.divider()
    st.markdown("**Step 6: download and share**")
    bundle = draws.draw_bundle(d, rec.draw_id)
    name = f"{'draw' if rec.kind == 'draw' else 'replacement-round-' + str(rec.round) + '-draw'}-{rec.draw_id}"
    st.download_button("Download the audit bundle (zip)", bundle or b"", file_name=f"{name}-bundle.zip",
                       mime="application/zip", key=f"{prefix}bundle", type="primary", icon=":material/download:")
    st.caption(f"Anyone can check the draw with it: `python -m lib.sortition verify {name}-bundle.zip` "
               "(see docs/VERIFYING.md). Publish it on the transparency page.")
    audit = draws.auditors_bundle(d, rec.draw_id)
    if audit and audit != bundle:
        st.download_button("Download the auditors' bundle (confidential: every answer)", audit,
                           file_name=f"{name}-auditors-bundle.zip", mime="application/zip",
                           key=f"{prefix}audit_bundle", icon=":material/lock:")
        st.caption("Only for the auditors the members named. It holds every person's answers under a bundle id; "
                   "never publish it. The bundle above names nobody and is the one for everyone.")
    elif audit:
        st.warning("This draw was made before public audit bundles existed: its bundle lists everybody's answers. "
                   "Give it only to the auditors the members named; do not publish it.")
    c1, c2 = st.columns(2)
    c1.download_button("Selected panel (CSV)", safe_csv_bytes(draws.selected_frame(d, rec, with_contacts=names)),
                       file_name=f"{name}-panel.csv", mime="text/csv", key=f"{prefix}panel_csv")
    c2.download_button("Reserve list (CSV)", safe_csv_bytes(draws.reserve_frame(d, rec, with_contacts=names)),
                       file_name=f"{name}-reserve.csv", mime="text/csv", key=f"{prefix}reserve_csv")
    if not names:
        st.caption("The CSV files hold pseudonyms and answers. Switch on “Show names” above to include names and "
                   "contact details.")
    _sheet_export(rec, prefix)


def _sheet_export(rec: draws.DrawRecord, prefix: str) -> None:
    d = db()
    src = draws.sheet_source(d)
    if src is None:
        return
    sel, res = draws.export_titles(rec)
    done = draws.exports(d, rec.draw_id)
    if done:
        st.caption(f"Written to the Google Sheet on {done[-1][0]:%d %b %Y at %H:%M}: {done[-1][3]}.")
    if st.button(f"Write “{sel}” and “{res}” to the sign-up Google Sheet", key=f"{prefix}sheet"):
        from lib.recruitment.signups.sheets import make_client
        from lib.resources import secrets_section

        creds = secrets_section("gcp_service_account")
        if not creds:
            st.error("Kleroterion has no Google service account key, so it cannot write to the sheet. "
                     "Download the CSV files instead (docs/GOOGLE_SHEETS.md shows how to add the key).")
            return
        try:
            client = make_client(dict(creds), api_base=os.environ.get("KLEROTERION_SHEETS_API_BASE"))
            titles = draws.write_to_sheet(d, client, rec, actor=_actor())
        except Exception as e:  # noqa: BLE001 - shown in plain words
            from lib.errors import UserError

            msg = str(e) if isinstance(e, UserError) else ("The Google Sheet could not be written to. Nothing "
                                                            "in the app was changed. Try again, or download "
                                                            "the CSV files instead.")
            st.error(md(msg))
            return
        st.success("Written to the sheet: " + ", ".join(f"“{md(t)}”" for t in titles) + ".")


def _ceremony(rec: draws.DrawRecord, prefix: str, *, first_step: int = 3) -> None:
    """Steps 3 to 6 for a computed/committed/revealed record."""
    if rec.status == "withdrawn":
        live = draws.live_commitment(db(), draws.slot_of(rec))
        st.warning(f"The commitment of draw {rec.draw_id} was withdrawn in public, so it can never be revealed."
                   + (f" The live commitment is draw {live.draw_id}'s." if live else " Start a new draw below."))
        return
    _step_header(ceremony_step(rec.status))
    if rec.status == "computed":
        _step_commit(rec, prefix)
    elif rec.status == "committed":
        _commitment_block(rec, prefix)
        _step_number(rec, prefix)
    else:
        with st.expander("The commitment and the printable page"):
            _commitment_block(rec, prefix)
        _step_result(rec, prefix)


# --- replacements ----------------------------------------------------------------------------------

def _withdrawn() -> list[str]:
    from lib.assembly.participation import awaiting_replacement

    try:
        return awaiting_replacement(db())
    except Exception:  # noqa: BLE001 - participation tables may not exist yet
        return []


def _replacements() -> None:  # noqa: C901 - page under rework on main (issue 15); split there
    d = db()
    tip = draws.chain_tip(d)
    if tip is None:
        return
    st.header("Replacements")
    st.markdown("When panel members drop out, draw replacements from the people who were not selected, through "
                "the same public steps. The new members are chosen so that the panel meets the quotas again.")
    rounds = draws.replacement_rounds(d)
    pending = [r for r in rounds if r.status in ("computed", "committed") and r.parent_id == tip.draw_id]
    if _show_job("replacement"):
        return
    if pending:
        rec = pending[-1]
        st.subheader(f"Replacement round {rec.round}: replacing {', '.join(rec.replaces)}")
        _rerun_note(rec)
        if rec.relaxation:
            st.warning("The people left could not meet every quota, so these were relaxed: "
                       + _changes_text(rec) + ".")
        st.caption(f"Reserve pool: {rec.pool_size} people. Smallest chance among them: "
                   f"{draws.chance_text(rec.min_probability)}.")
        _ceremony(rec, f"r{rec.draw_id}_")
        if rec.status == "computed" and st.button("Cancel this round (nothing was published)",
                                                  key=f"cancel_{rec.draw_id}"):
            st.session_state["replacement_new"] = True
        if not st.session_state.get("replacement_new"):
            return
    elif tip.kind == "replacement":
        with st.expander(f"Latest replacement round ({tip.round}): result and downloads", expanded=True):
            _step_result(tip, f"r{tip.draw_id}_")
    panel = tip.panel_after
    withdrawn = [p for p in _withdrawn() if p in panel]
    if withdrawn:
        st.info(f"{len(withdrawn)} member(s) withdrew and are waiting for a replacement: {', '.join(withdrawn)}.")
    picked = st.multiselect("Who dropped out? (pseudonyms of current panel members)", options=panel,
                            default=withdrawn, key="dropouts")
    if st.button("Prepare the replacement round", type="primary", key="prepare_replacement"):
        if not picked:
            st.error("Choose at least one panel member who dropped out.")
            return
        st.session_state.pop("replacement_new", None)
        draws.start_replacement_job(d, picked, actor=_actor(), time_limit=draws.default_time_limit())
        st.rerun()
    done = [r for r in rounds if r.is_revealed and r.draw_id != tip.draw_id]
    if done:
        with st.expander(f"Earlier replacement rounds ({len(done)})"):
            for r in reversed(done):
                st.markdown(f"**Round {r.round}** (draw {r.draw_id}): {', '.join(r.selected_ids)} replace "
                            f"{', '.join(r.replaces)}.")
                st.download_button("Audit bundle of this round", draws.draw_bundle(d, r.draw_id) or b"",
                                   file_name=f"replacement-round-{r.round}-draw-{r.draw_id}-bundle.zip",
                                   key=f"old_bundle_{r.draw_id}", mime="application/zip")


def _history() -> None:
    records = draws.list_draws(db())
    if not records:
        return
    with st.expander(f"Every draw so far ({len(records)})"):
        rows = [{"Draw": r.draw_id, "Kind": "replacement round " + str(r.round) if r.kind == "replacement" else "draw",
                 "Status": {"computed": "computed (not published)", "committed": "commitment published",
                            "revealed": "revealed", "withdrawn": "commitment withdrawn"}.get(r.status, r.status),
                 "Created": f"{r.created_at:%d %b %Y %H:%M}", "By": r.created_by or "",
                 "Commitment": (r.commitment or "")[:16] + ("…" if r.commitment else ""),
                 "Public number": r.public_number or "",
                 "Re-run of": r.rerun_of or "", "Note": r.note or ""} for r in records]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


# --- the page --------------------------------------------------------------------------------------

def body() -> None:
    if st.session_state.get("role") != "organiser":
        st.error("Only organisers can run the draw. Please sign in as an organiser.")
        return
    st.title("The draw")
    st.caption("A fair, public draw in six steps. Every step is saved: you can close this page and come back.")
    show_flashes()
    d = db()
    rec = draws.latest_draw(d)
    computing = _show_job("draw")
    if not computing:
        restart = st.session_state.get("new_draw")
        if rec is None or restart:
            public = rec if rec is not None and rec.is_committed else None
            _step_inputs(public)
            if restart and st.button("Back to the current draw", key="back"):
                st.session_state.pop("new_draw", None)
                st.rerun()
        else:
            _rerun_note(rec)
            _relaxation_note(rec)
            if rec.status == "computed":
                _stale_warning(rec)
                _step_header(2)
                st.success(f"The fair lottery is ready: {rec.m} equally likely panels of {rec.panel_size}, from "
                           f"{rec.pool_size} sign-ups. Here is each person's chance of being picked.")
                _chances(rec)
                if rec.kind == "draw":
                    _which_lottery(rec)
                st.divider()
            else:
                with st.expander("Each person's chance in this lottery"):
                    _chances(rec)
            _ceremony(rec, "d_")
            if rec.status == "computed":
                if st.button("Start again (nothing has been published yet)", key="restart"):
                    st.session_state["new_draw"] = True
                    st.rerun()
            else:
                with st.expander("Run the draw again"):
                    st.warning("A draw should be run once. If you run it again, the new draw is recorded as a "
                               "**re-run** of this one, and both are shown to everyone.")
                    if st.button("I understand: start a new draw", key="rerun"):
                        st.session_state["new_draw"] = True
                        st.rerun()
    if draws.chain_tip(d) is not None:
        st.divider()
        _replacements()
    _history()


run_page(body)
