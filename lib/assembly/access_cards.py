"""Printable access cards for assembly members: the personal code and a QR code that opens the
app's sign-in page with the code filled in. One self-contained HTML page (print it from the
browser: eight cards to an A4 sheet, cut along the dotted lines). QR codes are drawn by segno
as inline SVG, so nothing is fetched from the internet.
"""

from __future__ import annotations

import html
from urllib.parse import quote

import segno

from lib.i18n import DEFAULT, Translator, normalise

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #111; }
.sheet { display: flex; flex-wrap: wrap; gap: 0; }
.card { box-sizing: border-box; width: 50%; height: 68mm; padding: 6mm; border: 1px dashed #777;
        display: flex; gap: 5mm; align-items: center; page-break-inside: avoid; break-inside: avoid; }
.card h2 { font-size: 13pt; margin: 0 0 2mm 0; }
.code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 18pt; font-weight: bold;
        letter-spacing: 1px; margin: 2mm 0; }
.small { font-size: 9pt; color: #333; }
.stub { font-size: 8pt; color: #555; margin-top: 2mm; }
.qr svg { width: 34mm; height: 34mm; }
@media print { .noprint { display: none; } }
"""


def sign_in_link(app_url: str, code: str, lang: str | None = None) -> str:
    """The card's link; with a language other than English the sign-in page opens in it (``&lang=es``)."""
    base = (app_url or "").strip().rstrip("/")
    lang = normalise(lang)
    return f"{base}/sign-in?code={quote(code)}" + (f"&lang={lang}" if lang != DEFAULT else "")


def qr_svg(text: str, title: str = "QR code: opens the sign-in page") -> str:
    """The QR code for ``text`` as an inline SVG element."""
    return segno.make(text, error="m").svg_inline(scale=4, border=2, title=title)


def cards_html(codes: dict[str, str], app_url: str, assembly_name: str, lang: str | None = None) -> str:
    """An HTML page with one card per member, in ``lang`` (English by default; the QR link then opens the
    sign-in page in that language). ``codes``: person_id (pseudonym) -> access code."""
    _ = Translator(lang)
    name = html.escape(assembly_name or _("Citizens' assembly"))
    cards = []
    for pid, code in sorted(codes.items()):
        link = sign_in_link(app_url, code, _.lang)
        where = _(
            "Scan the square with your phone's camera, or go to {address} and choose “Sign in”, then “Assembly member”."
        ).format(address=f"<br><b>{html.escape(app_url or '')}</b><br>")
        qr = qr_svg(link, _("QR code: opens the sign-in page"))
        yours = html.escape(_("Your personal access code for the members' pages:"))
        private = html.escape(_("Keep this card to yourself. Your survey answers are never linked to your name."))
        stub = html.escape(_("For handing out: {pseudonym}").format(pseudonym=pid))
        cards.append(f"""
<div class="card">
  <div class="qr">{qr}</div>
  <div>
    <h2>{name}</h2>
    <div class="small">{yours}</div>
    <div class="code">{html.escape(code)}</div>
    <div class="small">{where}</div>
    <div class="small">{private}</div>
    <div class="stub">{stub}</div>
  </div>
</div>""")
    title = html.escape(_("Access cards – {assembly}").format(assembly=assembly_name or _("Citizens' assembly")))
    note = html.escape(
        _(
            "Print this page (Ctrl+P or ⌘P). Cut along the dotted lines. Hand each card to the member "
            "whose pseudonym is printed at the bottom. Nobody else needs to see it."
        )
    )
    return f"""<!doctype html>
<html lang="{_.lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>{_STYLE}</style></head>
<body>
<p class="noprint" style="padding:8px">{note}</p>
<div class="sheet">{"".join(cards)}</div>
</body></html>"""
