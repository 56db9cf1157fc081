"""Set up the assembly: a short guided flow for a group's own assembly (organisers only).

The rules and checks live in lib/recruitment/assembly_setup.py; this page only shows them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.recruitment import assembly_setup as setup
from lib.recruitment.categories import Field, FieldsError, fields_csv_text, fields_problems, load_fields
from lib.errors import UserError
from lib.plaintext import md
from lib.recruitment.targets import version_info
from pages.common import act, current_actor, db, require, run_page, show_flashes

STEPS = ["1. The assembly", "2. The questions", "3. The targets", "4. Sign-ups and the draw"]
DRAFT = "setup_draft"
BASE = "setup_draft_base"  # the questions as saved when the draft was started
ANSWERS_HELP = ("One answer per line, as people see it. After “=”, list other ways people may write the same "
                "answer, separated by commas. For example:  \nWoman = F, female, women  \nMan = M, male")


def show_error(e: Exception) -> None:
    """A plain message; a list of problems as a list (each may repeat what somebody typed: plain text)."""
    if isinstance(e, FieldsError):
        intro = str(e).split("\n", 1)[0]
        st.error(md(intro) + "\n\n" + "\n".join(f"- {md(p)}" for p in e.problems[:12])
                 + (f"\n- and {len(e.problems) - 12} more." if len(e.problems) > 12 else ""))
    else:
        st.error(md(e))


def go_to(step: int) -> None:
    st.session_state["setup_goto"] = STEPS[step]


def _forget_question_widgets() -> None:
    for k in [k for k in st.session_state if str(k).startswith(("q_label_", "q_wording_", "q_answers_", "q_blank_"))]:
        del st.session_state[k]
    st.session_state.pop(DRAFT, None)
    st.session_state.pop(BASE, None)
    st.session_state.pop("setup_questions_changed", None)


# --- 1 -----------------------------------------------------------------------------------------
def step_basics() -> None:
    b = setup.load_basics(db())
    st.write("Give your assembly a name, say how many people the panel will have, and whether people from the "
             "same household may both be chosen. You can change these later.")
    with st.form("setup_basics"):
        name = st.text_input("The assembly's name", value=b.name, max_chars=setup.MAX_NAME,
                             placeholder="e.g. Northfield climate assembly 2026")
        k = st.number_input("How many people on the panel", min_value=1, max_value=setup.MAX_PANEL,
                            value=int(b.panel_size or 30), step=1)
        hh = st.checkbox("At most one person from each household", value=b.one_per_household,
                         help="When ticked, two people who gave the same address are never both chosen.")
        go = st.form_submit_button("Save and continue", type="primary")
    if go:
        act(lambda: setup.save_basics(db(), name, int(k), bool(hh), actor=current_actor()),
            f"Saved: {md(name.strip())}, a panel of {int(k)}.", show_refusal=show_error, before_rerun=lambda _r: go_to(1))


# --- 2 -----------------------------------------------------------------------------------------
def _draft() -> list[Field]:
    if DRAFT not in st.session_state:
        st.session_state[DRAFT] = load_fields(db())
        st.session_state[BASE] = load_fields(db())
    return st.session_state[DRAFT]


def _current(f: Field) -> Field:
    """The question as its boxes say now (they may hold typing newer than the draft)."""
    s = st.session_state
    return setup.build_field(f.key, s.get(f"q_label_{f.key}", f.label), s.get(f"q_wording_{f.key}", f.question),
                             s.get(f"q_answers_{f.key}", setup.answers_text(f)),
                             s.get(f"q_blank_{f.key}", f.blank_value is not None), f)


def _move(key: str, step: int) -> None:
    st.session_state[DRAFT] = setup.move_question([_current(f) for f in _draft()], key, step)


def _remove(key: str) -> None:
    st.session_state[DRAFT] = setup.remove_question([_current(f) for f in _draft()], key)
    for prefix in ("q_label_", "q_wording_", "q_answers_", "q_blank_"):
        st.session_state.pop(prefix + key, None)


def _question_box(i: int, f: Field, count: int) -> Field:
    with st.container(border=True):
        st.markdown(f"**Question {i + 1}**")
        label = st.text_input("Name of the question", value=f.label, key=f"q_label_{f.key}", max_chars=300)
        wording = st.text_input("How the sign-up form asks it (optional; helps to find the right column)",
                                value=f.question, key=f"q_wording_{f.key}", max_chars=300)
        text = st.text_area("Answers", value=setup.answers_text(f), key=f"q_answers_{f.key}", help=ANSWERS_HELP,
                            height=150, placeholder="Woman = F, female\nMan = M, male")
        blank = st.checkbox("A blank answer counts as “Prefer not to say”", value=f.blank_value is not None,
                            key=f"q_blank_{f.key}",
                            help="Ticked: someone who leaves this question blank still counts, as “Prefer not "
                                 "to say” (added as an answer if it is not one yet). Not ticked: a blank answer "
                                 "is a problem to fix before that person can be in the draw.")
        built = setup.build_field(f.key, label, wording, text, blank, f)
        for p in fields_problems([built]):
            st.warning(md(p))
        if built.values:
            parts = []
            for v in built.values:
                also = built.aliases.get(v) or []
                parts.append(md(built.value_labels.get(v, v)) + (f" (also {md(', '.join(also))})" if also else ""))
            if built.blank_value:
                parts.append(f"a blank answer → {md(built.value_labels.get(built.blank_value, built.blank_value))}")
            st.caption("Read as: " + " · ".join(parts))
        c1, c2, c3 = st.columns(3)
        c1.button("Move up", key=f"q_up_{f.key}", icon=":material/arrow_upward:", disabled=i == 0,
                  on_click=_move, args=(f.key, -1))
        c2.button("Move down", key=f"q_down_{f.key}", icon=":material/arrow_downward:", disabled=i == count - 1,
                  on_click=_move, args=(f.key, 1))
        c3.button("Remove this question", key=f"q_remove_{f.key}", icon=":material/delete:",
                  on_click=_remove, args=(f.key,))
    return built


def _frozen_confirmation() -> bool:
    frozen = setup.frozen_targets(db())
    if frozen is None:
        return False
    st.warning(f"The targets (version {frozen.version}) are frozen for the draw. Changing the questions now starts "
               f"a new version of the targets; version {frozen.version} stays exactly as it was frozen.",
               icon=":material/lock:")
    return st.checkbox(f"Yes, start a new version of the targets (version {frozen.version} stays as it is)",
                       key="setup_new_version")


def step_questions() -> None:
    database = db()
    saved = load_fields(database)
    st.write("These are the questions the panel is balanced on (for example age band, gender, area). For each, "
             "list its answers and the other ways people may write them. Most assemblies use 3 to 7 questions.")
    new_version = _frozen_confirmation()
    _questions_from_a_file(database, bool(saved), new_version)

    draft = _draft()
    built = [_question_box(i, f, len(draft)) for i, f in enumerate(draft)]
    st.session_state[DRAFT] = built
    if not draft:
        st.info("No questions yet. Add the first one below, or bring them from a file above.")

    with st.form("add_question", clear_on_submit=True, border=False):
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        new_label = c1.text_input("A new question", placeholder="e.g. Age band", max_chars=300)
        add = c2.form_submit_button("Add this question", icon=":material/add:")
    if add:
        act(lambda: setup.new_question(built, new_label), None, show_refusal=show_error,
            before_rerun=lambda q: st.session_state.update({DRAFT: built + [q]}))

    changed = built != saved
    if changed and saved:
        st.caption("You have changes that are not saved yet.")
    if st.button("Save the questions", type="primary", disabled=not built):
        act(lambda: setup.save_questions(database, built, actor=current_actor(), new_version=new_version,
                                         based_on=st.session_state.get(BASE)),
            lambda result: md(result.summary()), show_refusal=_refused,
            before_rerun=lambda _r: (_forget_question_widgets(), go_to(2)))
    if st.session_state.get("setup_questions_changed"):
        st.button("Start again from the saved questions", on_click=_forget_question_widgets, icon=":material/refresh:")

    if saved:
        _keep_a_copy(database, saved)


def _refused(e: Exception) -> None:
    st.session_state["setup_questions_changed"] = isinstance(e, setup.QuestionsChanged)
    show_error(e)


def _questions_from_a_file(database, saved: bool, new_version: bool) -> None:
    with st.expander("Bring the questions from a file (for example last year's)", expanded=not saved,
                     icon=":material/upload_file:"):
        st.caption("A questions file downloaded from Kleroterion (fields.csv), or a categories.csv from the "
                   "Sortition Foundation's tools (columns feature, value, min, max). It replaces the questions "
                   "below.")
        up = st.file_uploader("Questions file (CSV)", type=["csv", "txt"], key="questions_file")
        if st.button("Use the questions in this file", disabled=up is None):
            act(lambda: setup.import_questions(database, up.getvalue(), up.name, actor=current_actor(),
                                               new_version=new_version),
                lambda result: f"Read {len(result.fields)} questions from {md(up.name)}. " + md(result.summary()),
                show_refusal=show_error, before_rerun=lambda _r: _forget_question_widgets())


def _keep_a_copy(database, saved) -> None:
    st.markdown("**Keep a copy** (to reuse next year, or to share with another group)")
    bands, k = setup.seats_now(database)
    d1, d2 = st.columns(2)
    d1.download_button("Download the questions (fields.csv)", fields_csv_text(saved), "fields.csv",
                       mime="text/csv", icon=":material/download:")
    d2.download_button("Download as categories.csv (Sortition Foundation)",
                       setup.categories_csv_text(saved, bands, k), "categories.csv", mime="text/csv",
                       icon=":material/download:")


# --- 3 -----------------------------------------------------------------------------------------
def step_targets() -> None:
    database = db()
    fields = load_fields(database)
    if not fields:
        st.info("First set up the questions (step 2).")
        return
    info = version_info(database)
    st.caption(md(setup.describe_version(database, info)))
    how = st.radio("How will you set the seats for each group?",
                   ["From the community's shares (census figures)",
                    "From a quota table (fewest and most seats for each answer)"], key="setup_targets_how")
    if how.startswith("From the community"):
        st.write("Enter what share of the community gives each answer (for example 14% are 16 to 24), with where "
                 "the figures come from. The app works out the fewest and most seats for each group.")
        st.page_link("pages/targets.py", label="Enter the shares on “Targets and quotas”", icon=":material/tune:")
        return
    basics = setup.load_basics(database)
    st.write("A quota table gives, for every answer, the fewest and the most seats on the panel, as the Sortition "
             "Foundation's categories.csv does (columns feature, value, min, max; older files category, name, "
             "min, max). Download the example below, fill in the numbers in a spreadsheet, and bring it back.")
    st.download_button("Download an example quota table for your questions",
                       setup.categories_csv_text(fields, [], basics.panel_size), "categories.csv", mime="text/csv",
                       icon=":material/download:")
    if info is not None and info.frozen:
        st.warning(f"The targets (version {info.version}) are frozen for the draw, so a new quota table cannot be "
                   "saved. Start a new version on “Targets and quotas” first.", icon=":material/lock:")
        return
    up = st.file_uploader("Quota table (CSV)", type=["csv", "txt"], key="quota_file")
    if st.button("Read this quota table", disabled=up is None):
        try:
            table = setup.read_quota_table(up.getvalue(), up.name, fields, basics.panel_size or 0)
        except UserError as e:
            st.session_state.pop("setup_quota_preview", None)
            show_error(e)
        else:
            st.session_state["setup_quota_preview"] = table
    table = st.session_state.get("setup_quota_preview")
    if table is None:
        return
    labels = {f.key: f for f in fields}
    st.markdown(f"**From {md(table.source)}**, for a panel of {table.panel_size}:")
    st.dataframe(pd.DataFrame([{
        "Question": labels[b.field].label if b.field in labels else b.field,
        "Answer": labels[b.field].label_of(b.value) if b.field in labels else b.value,
        "Fewest seats": b.min, "Most seats": b.max,
        **({"Fewest if relaxed": b.min_flex, "Most if relaxed": b.max_flex}
           if any(x.min_flex is not None or x.max_flex is not None for x in table.bands) else {})}
        for b in table.bands]), hide_index=True, width="stretch")
    for note in table.notes:
        st.info(md(note))
    next_v = (info.version + 1) if info else 1
    if st.button(f"Save these quotas as version {next_v}", type="primary"):
        act(lambda: setup.save_quota_table(database, table, actor=current_actor()),
            lambda v: f"Saved the quotas from {md(table.source)} as version {v} of the targets.",
            show_refusal=show_error,
            before_rerun=lambda _v: (st.session_state.pop("setup_quota_preview", None), go_to(3)))


# --- 4 -----------------------------------------------------------------------------------------
def step_next() -> None:
    p = setup.progress(db())

    def tick(done: bool) -> str:
        return "✅" if done else "⬜"

    st.markdown(
        f"{tick(p.basics)} The assembly's name and panel size  \n"
        f"{tick(p.questions > 0)} The questions to balance on ({p.questions})  \n"
        f"{tick(p.targets is not None)} The targets" + (" (a quota table)" if p.quota_table else "") + "  \n"
        f"{tick(p.signups > 0)} Sign-ups brought in ({p.signups})  \n"
        f"{tick(p.frozen)} Targets frozen for the draw")
    st.write("Next: invite your team, bring in the sign-ups (a Google Sheet, or a CSV or Excel file), watch the "
             "quota board while recruiting, then freeze the targets and run the draw in public.")
    st.page_link("pages/team.py", label="Invite your team (Team accounts)", icon=":material/manage_accounts:")
    st.page_link("pages/signups.py", label="Bring in the sign-ups", icon=":material/group_add:")
    st.page_link("pages/quota_board.py", label="The quota board", icon=":material/checklist:")
    st.page_link("pages/targets.py", label="Targets and quotas (freeze them before the draw)", icon=":material/tune:")
    st.page_link("pages/draw.py", label="The draw", icon=":material/casino:")


def body() -> None:
    st.title("Set up the assembly")
    show_flashes()
    if not require("setup", "Only organisers can set up the assembly."):
        return
    from lib.store.demo_marker import is_demo_database

    if is_demo_database(db()):
        st.info("This is the demo database, with made-up people, so your own assembly cannot be set up in it: "
                "demo and real data never mix. To set up your own assembly, start the app with "
                "KLEROTERION_DEMO=0 and a new, empty database file (KLEROTERION_DB); this page then guides you "
                "through it.", icon=":material/science:")
        return
    p = setup.progress(db())
    if "setup_goto" in st.session_state:
        st.session_state["setup_step"] = st.session_state.pop("setup_goto")
    elif "setup_step" not in st.session_state:
        st.session_state["setup_step"] = STEPS[0 if not p.basics else 1 if not p.questions else
                                               2 if p.targets is None else 3]
    step = st.radio("Step", STEPS, key="setup_step", horizontal=True, label_visibility="collapsed")
    st.subheader(step)
    {STEPS[0]: step_basics, STEPS[1]: step_questions, STEPS[2]: step_targets, STEPS[3]: step_next}[step]()


run_page(body)
