"""What every part of the Draw page uses: the step's heading, the commitment in large type, the
progress of a computation running in the background, the organisers' labels for the questions."""

from __future__ import annotations

import streamlit as st

from lib import draws
from lib.access.auth import actor_in_sentence
from lib.draws.ceremony_steps import CeremonyStep, step
from lib.draws.explain import Labels
from lib.plaintext import md
from lib.recruitment.categories import load_fields
from pages.common import db


def labels() -> Labels:
    """The questions' and answers' labels, as the organisers wrote them."""
    fields = load_fields(db())
    return ({f.key: f.label for f in fields}, {(f.key, v): f.value_labels.get(v, v) for f in fields for v in f.values})


def step_header(current: int | CeremonyStep) -> None:
    """The step's title, progress and the list of steps, from lib.draws.ceremony_steps (the stored state)."""
    s = current if isinstance(current, CeremonyStep) else step(current)
    st.subheader(s.title)
    st.progress(s.progress)
    st.caption(s.trail())


def big_code(commitment: str | None) -> None:
    """The commitment in groups of four that never break across lines (each group is one inline block)."""
    st.markdown(draws.commitment_html(commitment, font_size="clamp(1.2rem, 4.5vw, 2.2rem)"), unsafe_allow_html=True)


@st.fragment(run_every=1.0)
def _progress(job_id: int) -> None:
    job = draws.get_job(db(), job_id)
    if job is None or job.status != "running":
        st.rerun(scope="app")
        return
    st.progress(min(1.0, max(0.0, job.progress)), text=job.message or "Working…")
    st.caption(
        f"Started by {md(actor_in_sentence(job.started_by))} at {job.started_at:%H:%M:%S}. You can leave this "
        "page and come back: the computation carries on, and the result is kept."
    )
    state = draws.engine_state(db(), job_id)
    if state is not None and state.proven and not state.stopped:
        st.caption(
            "Nobody's chance can be made any higher at the bottom any more. The computer is now evening out "
            "the chances above it, which matters less. You can stop it now, or let it work longer."
        )
        left, right = st.columns(2)
        if left.button("Stop now and keep this lottery", key=f"stop_{job_id}", icon=":material/stop_circle:"):
            draws.stop_job(db(), job_id)
            st.toast("Stopping: the lottery found so far is kept.")
        if right.button("Keep working 5 more minutes", key=f"extend_{job_id}", icon=":material/more_time:"):
            draws.extend_job(db(), job_id, 300)
            st.toast("It will keep evening out the chances for up to 5 more minutes.")


def show_job(kind: str) -> bool:
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
