"""The projector: the live draw ceremony on the wall, for everyone in the room (no sign-in, read-only).

Large type: the commitment in groups of four, the public random number once it is entered, the
panel chosen (by the ids of the public audit bundle: never names, contacts or door pseudonyms) and
the full command that checks it all. The page looks at the public record every two seconds
(lib/reporting/projector.py), so it follows the organiser's screen by itself, without a reload.
"""

from __future__ import annotations

import streamlit as st

from lib import draws
from lib.plaintext import html as plain, md
from lib.reporting.projector import COMMITTED, REVEALED, fingerprint, projector_view
from pages.common import db, run_page, show_errors
from pages.language import _, ngettext

POLL_SECONDS = 2.0

_STYLE = """
<style>
[data-testid='projector'] { font-size: clamp(1.1rem, 2.6vw, 2rem); line-height: 1.35; }
[data-testid='projector'] .kl-label { font-weight: 700; margin: 1.2rem 0 .4rem; }
[data-testid='projector-number'] { font-family: ui-monospace, Menlo, Consolas, monospace; font-weight: 700;
  font-size: clamp(2rem, 8vw, 5rem); letter-spacing: .06em; overflow-wrap: anywhere; }
[data-testid='projector-panel'] { display: flex; flex-wrap: wrap; gap: .5rem 1.2rem;
  font-family: ui-monospace, Menlo, Consolas, monospace; font-size: clamp(1.2rem, 3.2vw, 2.4rem); }
[data-testid='projector-panel'] span { white-space: nowrap; }
</style>
"""


def _assembly_name() -> str:
    from lib.store.settings import get_setting

    return (get_setting(db(), "assembly", {}) or {}).get("name") or _("Citizens' assembly")


def _heading(view) -> str:
    """view.heading in the reader's language."""
    if view.stage not in (COMMITTED, REVEALED):
        return _("The draw has not started yet")
    if view.kind == "draw":
        return (
            _("The draw: the commitment is published")
            if view.stage == COMMITTED
            else _("The draw: the panel is chosen")
        )
    return (
        _("The replacement draw: the commitment is published")
        if view.stage == COMMITTED
        else _("The replacement draw: the panel is chosen")
    )


@st.fragment(run_every=POLL_SECONDS)
def live() -> None:
    show_errors(_live_body)  # a fragment reruns by itself, without app.py's router: no router check here


def _live_body() -> None:
    d = db()
    view = st.session_state.get("_projector_view")
    if view is None or view.fingerprint != fingerprint(d):  # one small query when nothing happened
        view = projector_view(d)
        st.session_state["_projector_view"] = view
    st.markdown(
        f"<div data-testid='projector' data-stage='{view.stage}'>"
        f"<h2 style='font-size: clamp(1.6rem, 4vw, 3rem)'>{plain(_heading(view))}</h2></div>",
        unsafe_allow_html=True,
    )
    if view.stage not in (COMMITTED, REVEALED):
        st.markdown(
            "<div data-testid='projector'>"
            + plain(
                _(
                    "The commitment will appear here as soon as the organisers publish it, before anybody draws the public "
                    "random number. This page follows the draw by itself: there is no need to reload it."
                )
            )
            + "</div>",
            unsafe_allow_html=True,
        )
        return
    st.markdown(
        "<div data-testid='projector'><div class='kl-label'>"
        + plain(
            _(
                "1. The commitment, published before the number is drawn. It locks in who can be picked, the quotas and "
                "every possible panel:"
            )
        )
        + "</div></div>",
        unsafe_allow_html=True,
    )
    st.markdown(
        draws.commitment_html(view.commitment, font_size="clamp(1.4rem, 4.6vw, 3.4rem)"), unsafe_allow_html=True
    )
    st.markdown(
        "<div data-testid='projector'><div class='kl-label'>"
        + plain(_("2. The public random number:"))
        + "</div></div>",
        unsafe_allow_html=True,
    )
    if view.stage == COMMITTED:
        st.markdown(
            "<div data-testid='projector-number' data-waiting='1'>…</div>"
            "<div data-testid='projector'>"
            + plain(_("Waiting for the number to be drawn in public and typed in."))
            + "</div>",
            unsafe_allow_html=True,
        )
    else:
        st.markdown(
            f"<div data-testid='projector-number'>{plain(view.public_number or '')}</div>", unsafe_allow_html=True
        )
        chosen = ngettext(
            "3. The panel chosen ({n} person), by their ids in the public audit bundle:",
            "3. The panel chosen ({n} people), by their ids in the public audit bundle:",
            len(view.panel_ids),
        ).format(n=len(view.panel_ids))
        st.markdown(
            f"<div data-testid='projector'><div class='kl-label'>{plain(chosen)}</div></div>", unsafe_allow_html=True
        )
        if view.panel_ids:
            spans = "".join(f"<span>{plain(p)}</span>" for p in view.panel_ids)
            st.markdown(f"<div data-testid='projector-panel'>{spans}</div>", unsafe_allow_html=True)
            st.caption(
                _(
                    "These ids name nobody. Each person chosen is told by the organisers; anybody can check "
                    "the choice with the command below."
                )
            )
        else:
            st.caption(_("This draw has no public audit bundle, so the panel is announced by the organisers."))
    st.markdown(
        "<div data-testid='projector'><div class='kl-label'>"
        + plain(_("Check it yourself, with the audit bundle and the public record from the Transparency page:"))
        + "</div></div>",
        unsafe_allow_html=True,
    )
    st.code(view.command or "", language=None, wrap_lines=True)  # no colouring: its colours fail contrast


def body() -> None:
    st.markdown(_STYLE, unsafe_allow_html=True)
    st.title(_("{assembly}: the draw, live").format(assembly=md(_assembly_name())))
    live()


run_page(body)
