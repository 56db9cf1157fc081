"""The Evaluation page's "Access cards" tab (pages/evaluation_admin.py draws it): the app's address for the
QR code, who needs a card, a card printed again, and the cards just made, to download and print."""

from __future__ import annotations

import streamlit as st

from lib.assembly import public_url
from lib.assembly.access_cards import cards_html
from lib import evaluation as ev
from lib.plaintext import count, md
from lib.store.settings import get_setting
from pages.common import act, db


def new_cards(codes) -> None:
    """Cards just made: shown (to download and print) until the organiser says they are printed."""
    st.session_state["new_cards"] = codes


def cards_tab(who: str) -> None:
    s = ev.eval_settings(db())
    st.markdown(
        "Each member gets a personal **access code** on a printed card, with a QR code that opens the "
        "members' sign-in page. Only a scrambled form (hash) of each code is stored, so **the cards can be "
        "downloaded only right after they are made**: print them then. A member who lost their card gets "
        "a new one (below): their old code then stops working."
    )
    url = address_section(s, who)
    holders = set(ev.code_holders(db()))
    missing, gone = who_needs_a_card(holders)
    if missing and st.button(f"Make cards for {count(len(missing), 'member')} without one", type="primary"):
        act(lambda: ev.issue_codes(db(), missing, who), None, before_rerun=new_cards)
    if holders:
        replace_card_section(holders, who)
    if gone:
        st.warning(
            f"{count(len(gone), 'card')} {'belongs' if len(gone) == 1 else 'belong'} to people who are no longer "
            f"members: {md(', '.join(gone))}."
        )
        if st.button("Stop those codes"):
            act(lambda: ev.revoke_codes(db(), gone, who), "Those codes no longer work.")
    new = st.session_state.get("new_cards")
    if new:
        new_cards_section(new, url)


def address_section(s: dict, who: str) -> str:
    """The app's web address for the cards' QR code (saved, from the server, or this browser's); returned."""
    # the saved address, else the server's KLEROTERION_PUBLIC_URL, else the address this browser uses; never
    # a made-up localhost (lib/assembly/public_url.py)
    chosen = public_url.choose(s["app_url"], st.context.url, page_path="evaluation")
    url = st.text_input(
        "The app's web address (for the QR code)",
        value=chosen.url,
        help="The address members type in their browser to reach this app.",
    )
    if chosen.source in ("configured", "browser") and public_url.clean(url) == chosen.url:
        st.caption(f"Filled in from {public_url.SOURCE_WORDS[chosen.source]}. Save it to keep it.")
    address_problem = public_url.problem(url)
    if address_problem:
        st.warning(address_problem)
    if url.strip().rstrip("/") != s["app_url"]:
        if st.button("Save the address"):
            act(lambda: ev.save_eval_settings(db(), app_url=url, actor=who), "Address saved.")
    return url


def who_needs_a_card(holders: set) -> tuple[list, list]:
    """(members without a card, card holders who are no longer members); before the panel is drawn, the
    organiser chooses people from the pool."""
    members = ev.current_members(db())
    if members:
        missing = [m for m in members if m not in holders]
        st.metric("Members with a card", f"{len(set(members) & holders)} of {len(members)}")
        return missing, sorted(holders - set(members))
    st.info(
        "No member list is recorded yet (it comes from the Members page once the panel is drawn). "
        "Until then, choose members by pseudonym."
    )
    from lib.recruitment.signups.store import pool_frame

    pool = pool_frame(db())["person_id"].tolist()
    missing = st.multiselect("Make cards for", [p for p in pool if p not in holders], key="cards_for")
    st.caption(f"{len(holders)} people hold a card.")
    return missing, []


def replace_card_section(holders: set, who: str) -> None:
    with st.expander("Print a member's card again (lost or never printed)"):
        st.caption(
            "A code cannot be shown twice (only its scrambled form is kept), so the member gets a new "
            "code and the old one stops working. The change is written in the log below. If they already "
            "answered a survey that is still open, that answer still counts and stays anonymous, and "
            "they cannot answer it a second time: nobody, organisers included, can see which answers "
            "were theirs."
        )
        pid = st.selectbox("Member", sorted(holders), key="replace_pid")
        if st.button("Make a new card (the old code stops working)"):
            act(lambda: ev.issue_codes(db(), [pid], who, replace=True), None, before_rerun=new_cards)


def new_cards_section(new, url: str) -> None:
    """Cards just made: download them (in the members' language) and print them now."""
    name = (get_setting(db(), "assembly", {}) or {}).get("name", "")
    st.success(f"{count(len(new), 'new card')} made. Download and print them now: the codes cannot be shown again.")
    from lib.i18n import LANGUAGES

    lang = st.selectbox(
        "Language of the cards",
        list(LANGUAGES),
        format_func=LANGUAGES.get,
        key="cards_lang",
        help="The QR code then opens the sign-in page in that language too.",
    )
    st.download_button(
        "Download the cards to print",
        cards_html(new, url.strip().rstrip("/"), name, lang),
        file_name="access-cards.html",
        mime="text/html",
        type="primary",
        icon=":material/print:",
    )
    if st.button("I have printed them: hide the codes"):
        st.session_state.pop("new_cards", None)
        st.rerun()
