"""The Draw page's "Receipts for everyone in the pool" (organisers only): a CSV for a mail merge with each
person's first name, email, phone, receipt and a sentence to paste (lib/assembly/receipts.py)."""

from __future__ import annotations

import streamlit as st

from lib import draws
from lib.assembly import public_url
from lib.assembly.receipts import receipts_csv, why_no_receipts
from lib.i18n import LANGUAGES
from lib.evaluation import eval_settings
from pages.common import db

LABEL = "Download the receipts for everyone in the pool (CSV, personal data)"


def receipts_section(rec: draws.DrawRecord, prefix: str) -> None:
    """Once the main draw's commitment is published (and after the reveal): the receipts file."""
    if rec.kind != "draw" or rec.status not in ("committed", "revealed"):
        return
    with st.expander(
        "Receipts for everyone in the pool: send them before the draw",
        expanded=rec.status == "committed",
        icon=":material/receipt_long:",
    ):
        refusal = why_no_receipts(db(), rec.draw_id)
        if refusal:
            st.info(refusal)
            return
        st.markdown(
            "Send each person in the pool their own **receipt**, by email or text message. With it, and "
            "nothing else, they can check on the Transparency page (no sign-in) that they were in the pool "
            "and whether they were picked. Nobody else can tell which receipt is whose."
        )
        chosen = public_url.choose(eval_settings(db())["app_url"], st.context.url, page_path="draw")
        address = st.text_input(
            "The app's web address, for the message",
            value=chosen.url,
            key=f"{prefix}receipts_address",
            help="The address people type in their browser to reach this app.",
        )
        problem = public_url.problem(address)
        if problem:
            st.warning(problem)
        lang = st.selectbox(
            "Language of the message", list(LANGUAGES), format_func=LANGUAGES.get, key=f"{prefix}receipts_lang"
        )
        st.download_button(
            LABEL,
            lambda: receipts_csv(db(), rec.draw_id, address=address, lang=lang),
            file_name=f"receipts-draw-{rec.draw_id}.csv",
            mime="text/csv",
            key=f"{prefix}receipts_csv",
            icon=":material/lock:",
        )
        st.caption(
            "Personal data: first names, emails and phone numbers. One row per person, with a column "
            "“Message” to paste into an email or a text (a mail merge). Keep the file to the organisers "
            "and delete it once the receipts are sent. If this commitment were withdrawn and the draw "
            "computed again, these receipts would stop working: you would send the new ones."
        )
