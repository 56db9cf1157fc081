import streamlit as st

from lib.access.auth import ORGANISER, PUBLIC
from lib.recruitment.assembly_setup import needs_setup
from lib.store.config import demo_enabled
from lib.store.demo_marker import is_demo_database
from lib.plaintext import md
from lib.store.settings import get_setting
from lib.recruitment.signups.store import signup_counts
from lib.draws.records import current_panel
from pages.common import act, db, run_page, show_flashes
from pages.language import _


def skip_ahead() -> None:
    """Demo only: jump to a few weeks after the draw, so the later pages have something to show."""
    from lib.demo.story import fast_forward, story_told
    from lib.draws.records import revealed_draw

    if story_told(db()) or revealed_draw(db()) is not None:
        return
    with st.expander("Demo: skip ahead to after the draw"):
        st.write(
            "This runs the real draw on the demo sign-ups, then invents a few weeks of the assembly: "
            "two sessions with attendance, one person who dropped out, support needs, stipends and a "
            "first survey. Use it to see the later pages. To try the draw yourself, use “The draw” "
            "instead."
        )
        if st.button("Skip ahead", icon=":material/fast_forward:"):
            with st.spinner("Drawing the panel and filling in the next few weeks… this can take a minute."):
                act(lambda: fast_forward(db()), str)


def body() -> None:
    show_flashes()
    assembly = get_setting(db(), "assembly", {}) or {}
    st.title(md(assembly.get("name")) or "Kleroterion")
    st.markdown(
        _(
            "Kleroterion helps a community run its own **citizens' assembly**: a group of residents "
            "chosen by lot, like the community itself, who meet to talk things through and recommend "
            "what to do. Everything here is done in the open, so anyone can check it was fair."
        )
    )
    demo = is_demo_database(db())
    role = st.session_state.get("role", PUBLIC)
    unset = not demo and needs_setup(db())
    if unset:
        if role == ORGANISER:
            st.warning(
                "**This assembly is not set up yet.** Start here: give it a name and a panel size, then "
                "describe the questions the panel is balanced on. It takes a few minutes.",
                icon=":material/construction:",
            )
            if st.button("Set up the assembly", type="primary", icon=":material/arrow_forward:"):
                st.switch_page("pages/setup.py")
        else:
            st.info(_("This assembly is being set up by its organisers. Please come back a little later."))
    elif not demo and role == ORGANISER and demo_enabled():
        st.caption(
            "The demo is switched on for this app (KLEROTERION_DEMO), but this database holds your own "
            "assembly, so the demo was not loaded into it. Set KLEROTERION_DEMO=0 to stop this note."
        )
    counts = signup_counts(db())
    panel = current_panel(db())  # after the draw, problems with sign-ups no longer matter to anyone reading this
    c1, c2, c3 = st.columns(3)
    c1.metric(_("People signed up"), counts["current"])
    c2.metric(_("Ready for the draw"), counts["eligible"])
    if panel:
        c3.metric(_("On the panel"), len(panel))
    else:
        c3.metric(_("Sign-ups with a problem to fix"), counts["blocked"])
    st.subheader(_("The steps"))
    st.markdown(
        _("1. **Sign-ups** come in through your sign-up form or sheet, and are checked.")
        + "\n"
        + _("2. **Quotas**: you set what the community looks like, and volunteers see who is still missing.")
        + "\n"
        + _("3. **The draw** picks the panel by lot, as fairly as possible, in public.")
        + "\n"
        + _("4. **Sessions**: you keep track of who comes and what support they need.")
        + "\n"
        + _("5. **Evaluation**: members help decide how the assembly is judged.")
    )
    if role == ORGANISER and not unset:
        st.page_link("pages/signups.py", label="Go to sign-ups", icon=":material/arrow_forward:")
        if demo:
            skip_ahead()
    elif role == PUBLIC:
        st.caption(_("Organisers, volunteers and assembly members: use “Sign in” in the menu."))


run_page(body)
