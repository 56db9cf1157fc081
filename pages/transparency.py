"""Transparency, open to everyone: how the draw can be checked, and how representative the assembly is."""

from __future__ import annotations

import streamlit as st

from lib import i18n
from lib.reporting import charts
from lib.plaintext import md
from lib.reporting.representativeness import public_table
from lib.reporting.transparency import gather, public_view, record_notice, record_table, report_html, verify_command
from pages.common import db, run_page
from pages.language import _, table_in_language, translator
from pages.sections.transparency_receipt import receipt_section


@st.cache_data(show_spinner=False, max_entries=32)
def _chance_spec(curve, equal_share: float | None, lang: str) -> dict:
    return charts.chance_chart(curve, equal_share=equal_share, tr=i18n.Translator(lang)).to_dict()


@st.cache_data(show_spinner=False, max_entries=256)
def _public_table(frame):
    return public_table(frame)


def _bundle(draw_id) -> bytes | None:
    """Only the public bundle, which names nobody (never the auditors' complete one)."""
    from lib.draws.records import public_bundle

    return public_bundle(db(), draw_id)


def _public_record(events: list[dict]) -> None:
    from lib.draws.records import public_record_file

    st.header(_("Every public step of the draw"))
    st.markdown(
        _(
            "Each commitment, each withdrawn commitment and each reveal is listed here for good, with the "
            "time and any reason given. Each step carries the fingerprint of the one before it, so none can "
            "be removed or changed later without everyone noticing."
        )
    )
    notice = record_notice(events, translator())
    if notice:
        st.warning(notice, icon=":material/warning:")
    st.dataframe(table_in_language(record_table(events, translator())), hide_index=True, width="stretch")
    st.caption(
        _("The record's fingerprint now (its head). Write it down: a record that ends anywhere else is not this one.")
    )
    st.code(events[-1]["hash"], language=None, wrap_lines=True)
    st.download_button(
        _("Download the public record (record.json)"),
        public_record_file(db()),
        file_name="record.json",
        mime="application/json",
        icon=":material/download:",
    )


def body() -> None:
    st.title(_("Transparency"))
    st.write(
        _(
            "How the assembly's members were chosen, and how you can check it yourself. "
            "This page shows no names or contact details, and groups of fewer than 5 people are not shown."
        )
    )
    data = public_view(gather(db()))
    draw = data.draw
    published = draw is not None
    if not published:
        st.info(
            _(
                "The draw has not happened yet. Before it does, a *commitment* (a long code that locks in "
                "everything about the draw) will appear here, then the public random number and the result. "
                "Please come back after the draw meeting."
            ),
            icon=":material/schedule:",
        )
    else:
        st.header(_("The draw"))
        st.markdown(
            _(
                "**1. The commitment**, published before the random number existed. It locks in who could "
                "be picked, the quotas and every possible panel."
            )
        )
        from lib.draws.printable import commitment_html  # groups of four that never break across lines

        st.markdown(commitment_html(draw.commitment, font_size="1.4rem"), unsafe_allow_html=True)
        if draw.public_number:
            st.markdown(_("**2. The public random number**, which nobody could know in advance:"))
            # typed by a person: shown as plain text (st.code renders nothing inside it), never as HTML
            st.code(draw.public_number, language=None, wrap_lines=True)
        else:
            st.markdown(_("**2. The public random number** has not been drawn yet."))
        if getattr(draw, "rerun_of", None):
            st.warning(
                _("This draw repeats draw {draw} on the same frozen inputs. Both are recorded.").format(
                    draw=draw.rerun_of
                )
            )
        head = data.record[-1]["hash"] if data.record else None
        st.markdown(
            _(
                "**3. Check it yourself.** Download the audit bundle and the public record (below), and "
                "run this one command in the Kleroterion folder (it needs only Python):"
            )
        )
        st.code(verify_command(draw, head), language=None, wrap_lines=True)  # no colouring: its colours fail contrast
        st.caption(
            _(
                "It checks that the bundle is the one committed to before the number was drawn, that the "
                "public number picks exactly the panel announced, that the panel meets every quota, and that "
                "the public record shows no hidden second draw."
            )
        )
        bundle = _bundle(draw.draw_id) if draw.status == "revealed" else None
        if bundle:
            st.download_button(
                _("Download the audit bundle (bundle.zip)"),
                bundle,
                file_name="bundle.zip",
                mime="application/zip",
                icon=":material/download:",
                type="primary",
            )
        elif draw.status == "revealed":
            st.caption(
                _(
                    "This draw was made before public audit bundles existed: its bundle lists everybody's "
                    "answers, so only the auditors the members named receive it."
                )
            )
        else:
            st.caption(_("The audit bundle can be downloaded once the panel has been revealed."))
        receipt_section(draw, translator())  # pages/sections/transparency_receipt.py: "Check your receipt"

    if data.record:
        _public_record(data.record)

    if not data.curve.empty:
        st.header(_("Who got a chance"))
        left, right = st.columns([3, 2])
        left.vega_lite_chart(_chance_spec(data.curve, data.equal_share, translator().lang), width="stretch")
        right.dataframe(table_in_language(data.chances), hide_index=True, width="stretch")

    st.header(_("How representative"))
    if not data.targets:
        st.info(_("The community's targets have not been published yet."))
    for f in data.fields:
        sub = data.comp[data.comp["field"] == f.key]
        if sub.empty:
            continue
        st.subheader(md(f.label))
        st.dataframe(table_in_language(_public_table(sub)), hide_index=True, width="stretch")
    st.download_button(
        _("Download the transparency report (a printable page)"),
        lambda: report_html(data, tr=translator()),
        file_name="transparency-report.html",
        mime="text/html",
        icon=":material/print:",
    )


run_page(body)
