"""A draw as people read it on paper or a screen: the commitment in groups of four, and the printable
page of the lottery's M panels (HTML, every text escaped)."""

from __future__ import annotations

import html

from lib.draws.records import DrawRecord
from lib.sortition.audit.ceremony import FrozenLottery


def group_commitment(commitment: str | None, size: int = 4) -> str:
    """'3f9a0c…' -> '3f9a 0c…': groups of four hex digits, easy to read aloud."""
    c = (commitment or "").strip()
    return " ".join(c[i : i + size] for i in range(0, len(c), size))


def commitment_html(commitment: str | None, *, font_size: str = "2rem", size: int = 4) -> str:
    """The commitment in groups of four hex digits for a page: each group one inline block that never breaks
    across lines (``white-space: nowrap``), so a phone wraps between groups, never inside one ("325b 1 / f77")."""
    from lib.plaintext import html as plain

    groups = group_commitment(commitment, size).split()
    spans = " ".join(
        f"<span class='kl-group' data-testid='commitment-group' style='display: inline-block; "
        f"white-space: nowrap; margin-right: .45em'>{plain(g)}</span>"
        for g in groups
    )
    return (
        "<div data-testid='commitment' lang='en' style='font-family: ui-monospace, Menlo, Consolas, monospace; "
        f"font-size: {font_size}; line-height: 1.5; letter-spacing: .04em; padding: .6rem .8rem; "
        f"border: 2px solid; border-radius: .4rem;'>{spans}</div>"
    )


def printable_lottery_html(rec: DrawRecord, lottery: FrozenLottery, *, title: str = "") -> str:
    """A printable page: the commitment, the quotas and the M panels by pseudonym."""
    e = html.escape
    what = "replacement round " + str(rec.round) if rec.kind == "replacement" else "draw"
    quota_rows = "".join(
        f"<tr><td>{e(q.feature)}</td><td>{e(q.value)}</td><td>{q.min}</td><td>{q.max}</td></tr>"
        for q in sorted(lottery.instance.quotas, key=lambda q: (q.feature, q.value))
    )
    panel_rows = "".join(f"<tr><td>{n}</td><td>{e(', '.join(p))}</td></tr>" for n, p in enumerate(lottery.panels))
    relaxed = ""
    if lottery.relaxation:
        relaxed = (
            "<h2>Quotas relaxed</h2><ul>" + "".join(f"<li>{e(c.describe())}</li>" for c in lottery.relaxation) + "</ul>"
        )
    commitment = rec.commitment or lottery.commitment
    status = "" if rec.commitment else "<p class='warn'>Not yet published: this is a preview.</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title or "The lottery")}: {lottery.M} possible panels</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #111; }}
.commitment {{ font-family: ui-monospace, monospace; font-size: 1.6em; letter-spacing: .05em; word-spacing: .4em;
  border: 2px solid #111; padding: .5em; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #999; padding: 2px 6px; vertical-align: top; }}
td:first-child {{ text-align: right; }} .warn {{ color: #8a4b00; font-weight: bold; }}
@media print {{ .commitment {{ font-size: 1.3em; }} }}
</style></head><body>
<h1>{e(title or "The lottery")}</h1>
<p>{e(what.capitalize())} number {rec.draw_id}: {lottery.M} possible panels of {lottery.instance.panel_size} people,
each equally likely, frozen on {e(lottery.created)}. Each person's chance is the number of panels that list them
divided by {lottery.M}.</p>
{status}
<h2>Commitment (SHA-256 fingerprint of the frozen lottery)</h2>
<p class="commitment">{e(group_commitment(commitment))}</p>
<p>Once the public random number is drawn, it chooses one of the panels below. Anyone can check it with the audit
bundle and the command <code>python -m lib.sortition verify BUNDLE.zip</code>.</p>
<h2>Quotas</h2>
<table><tr><th>Field</th><th>Value</th><th>Minimum</th><th>Maximum</th></tr>{quota_rows}</table>
{relaxed}
<h2>The {lottery.M} panels</h2>
<table><tr><th>Panel</th><th>Members (pseudonyms)</th></tr>{panel_rows}</table>
</body></html>
"""
