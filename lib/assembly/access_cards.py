"""Printable access cards for assembly members: the personal code and a QR code that opens the
app's sign-in page with the code filled in. One self-contained HTML page (print it from the
browser: eight cards to an A4 sheet, cut along the dotted lines). QR codes are drawn by segno
as inline SVG, so nothing is fetched from the internet.
"""

from __future__ import annotations

import html
from urllib.parse import quote

import segno

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


def sign_in_link(app_url: str, code: str) -> str:
    base = (app_url or "").strip().rstrip("/")
    return f"{base}/sign-in?code={quote(code)}"


def qr_svg(text: str) -> str:
    """The QR code for ``text`` as an inline SVG element."""
    return segno.make(text, error="m").svg_inline(scale=4, border=2, title="QR code: opens the sign-in page")


def cards_html(codes: dict[str, str], app_url: str, assembly_name: str) -> str:
    """An HTML page with one card per member. ``codes``: person_id (pseudonym) -> access code."""
    name = html.escape(assembly_name or "Citizens' assembly")
    cards = []
    for pid, code in sorted(codes.items()):
        link = sign_in_link(app_url, code)
        cards.append(f"""
<div class="card">
  <div class="qr">{qr_svg(link)}</div>
  <div>
    <h2>{name}</h2>
    <div class="small">Your personal access code for the members' pages:</div>
    <div class="code">{html.escape(code)}</div>
    <div class="small">Scan the square with your phone's camera, or go to<br><b>{html.escape(app_url or '')}</b>
      and choose “Sign in”, then “Assembly member”.</div>
    <div class="small">Keep this card to yourself. Your survey answers are never linked to your name.</div>
    <div class="stub">For handing out: {html.escape(pid)}</div>
  </div>
</div>""")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Access cards – {name}</title>
<style>{_STYLE}</style></head>
<body>
<p class="noprint" style="padding:8px">Print this page (Ctrl+P or ⌘P). Cut along the dotted lines.
Hand each card to the member whose pseudonym is printed at the bottom. Nobody else needs to see it.</p>
<div class="sheet">{''.join(cards)}</div>
</body></html>"""
