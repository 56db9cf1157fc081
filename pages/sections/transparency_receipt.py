"""The Transparency page's "Check your receipt": a person pastes the receipt the organisers sent them and
learns, in plain words, whether they were in the pool of the draw and whether they were picked. The check
runs on the draw's published public bundle with the command line's verifier (lib/assembly/receipts.py);
what was typed is never shown back."""

from __future__ import annotations

import streamlit as st

from lib.assembly.receipts import BUNDLE_FAILED, MISTYPED, NOT_PICKED, NOT_THIS_DRAW, NOT_YET, PICKED, check_receipt
from lib.reporting.transparency import VERIFY_COMMAND
from lib.i18n import Translator
from pages.common import db

_SHOWN = {
    PICKED: st.success,
    NOT_PICKED: st.info,
    NOT_THIS_DRAW: st.warning,
    MISTYPED: st.warning,
    NOT_YET: st.info,
    BUNDLE_FAILED: st.error,
}
_ICONS = {
    PICKED: ":material/check_circle:",
    NOT_PICKED: ":material/info:",
    NOT_THIS_DRAW: ":material/help:",
    MISTYPED: ":material/edit:",
    NOT_YET: ":material/schedule:",
    BUNDLE_FAILED: ":material/error:",
}


def receipt_section(draw, _: Translator) -> None:
    """Shown once a draw has a commitment; the check itself needs the public bundle (after the reveal). ``_``: the
    page's translator (pages.language.translator(): a section imports no page module)."""
    from lib.draws.records import public_bundle

    revealed = draw.status == "revealed"
    bundle = public_bundle(db(), draw.draw_id) if revealed else None
    if revealed and bundle is None:
        return  # a draw made before receipts existed: its bundle is for the auditors only
    st.header(_("Check your receipt"))
    st.markdown(
        _(
            "If you signed up, the organisers may have sent you a **receipt**: a code that starts with "
            "the letter b, like b0123456789ab-0123…. Paste it here to see whether you were in the pool of "
            "this draw and whether you were picked. This page does not keep the receipts people check."
        )
    )
    code = st.text_input(
        _("Your receipt"),
        key="receipt_code",
        max_chars=300,
        placeholder="b0123456789ab-0123456789abcdef0123456789abcdef",
    )
    if not st.button(_("Check my receipt"), key="receipt_check", icon=":material/verified:"):
        return
    found = check_receipt(bundle, code)
    _SHOWN[found.outcome](found.words(_), icon=_ICONS[found.outcome])
    if found.outcome in (PICKED, NOT_PICKED):
        st.caption(
            _("To check it on your own computer, download the audit bundle above and run (it needs only Python):")
        )
        # the receipt as read (hex digits and one dash): never the raw text typed
        st.code(f"{VERIFY_COMMAND} --receipt {found.receipt}", language=None, wrap_lines=True)
