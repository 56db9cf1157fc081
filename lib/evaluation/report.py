"""Survey results as pictures and a printable report: diverging Likert bar charts (Altair) and a
self-contained HTML page. Pure Python (no Streamlit).

Colours: ColorBrewer's PuOr diverging scheme (orange for disagree, purple for agree, grey for
neither), which people with the common kinds of colour blindness can tell apart; the bars
also sit left (disagree) or right (agree) of the zero line, so they read in black and white.
"""

from __future__ import annotations

import html
import textwrap

import altair as alt
import pandas as pd

from lib.evaluation.vocabulary import ANSWERS, SCALE, STAGES
from lib.i18n import N_, Translator
from lib.privacy import SMALL_GROUP

MEMBERS_QUESTION = N_("Members' question")

# Disagree in browns and oranges, agree in purples, "neither" grey: each at least 3:1 on white (WCAG's
# minimum for graphics) and neighbours apart for colour-blind readers too (tests/test_chart_colours.py).
LIKERT_COLOURS = {1: "#7F3B08", 2: "#E66101", 3: "#858585", 4: "#B860F8", 5: "#542788"}


WRAP = 40  # characters per line of a question above its bar: fits a 390-px phone screen
_LINE, _BAR, _GAP = 17, 22, 16  # pixels: a line of question text, a bar, the space between questions


def wrap_lines(text: str, width: int = WRAP) -> list[str]:
    """Text cut into lines of at most ``width`` characters (long words broken too), for chart text."""
    return textwrap.wrap(" ".join(str(text).split()), width=width, break_long_words=True) or [""]


def likert_chart(diverging: pd.DataFrame, title: str = "", tr=None) -> alt.LayerChart | alt.FacetChart:
    """Diverging stacked bars: disagree to the left of 0, agree to the right, neither split at 0.

    Made for phones as well as desktops: each question's text (its number in the survey and its
    wording, wrapped) sits above its own full-width bar instead of in a y-axis label that would take
    the width, so the chart fits the screen at any width (it takes its container's width).

    ``tr`` (gettext for the reader's language, lib/i18n.py) puts the answers, axis and legend in it."""
    tr = tr or (lambda text: text)
    domain = [tr(ANSWERS[a]) for a in SCALE]
    diverging = diverging.assign(answer=diverging["answer"].map(tr)) if not diverging.empty else diverging
    colours = [LIKERT_COLOURS[a] for a in SCALE]
    questions = list(dict.fromkeys(diverging["question"]))
    rows, top = [], 0
    for q in questions:
        lines = wrap_lines(q)
        bar_top = top + len(lines) * _LINE + 7
        rows.append(
            {"question": q, "text": "\n".join(lines), "text_top": top, "bar_top": bar_top, "bar_bottom": bar_top + _BAR}
        )
        top = bar_top + _BAR + _GAP
    height = max(top - _GAP, 1)
    layout = pd.DataFrame(rows, columns=["question", "text", "text_top", "bar_top", "bar_bottom"])
    bars_df = diverging.merge(layout[["question", "bar_top", "bar_bottom"]], on="question", how="left")
    y_scale = alt.Scale(domain=[height, 0], nice=False, zero=False)  # pixels from the top
    x_scale = alt.Scale(domain=[-100, 100], nice=False)
    bars = (
        alt.Chart(bars_df)
        .mark_bar()
        .encode(
            x=alt.X(
                "start:Q",
                scale=x_scale,
                title=[tr(N_("← disagree                    agree →")), tr(N_("% of those who gave a view"))],
                axis=alt.Axis(
                    values=[-100, -50, 0, 50, 100], labelExpr="abs(datum.value) + '%'", labelFlush=True, grid=False
                ),
            ),
            x2="end:Q",
            y=alt.Y("bar_top:Q", scale=y_scale, axis=None),
            y2="bar_bottom:Q",
            color=alt.Color(
                "answer:N",
                scale=alt.Scale(domain=domain, range=colours),
                sort=domain,
                legend=alt.Legend(title=tr(N_("Answer")), orient="bottom", columns=2, labelLimit=0),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("question:N", title=tr(N_("Question"))),
                alt.Tooltip("answer:N", title=tr(N_("Answer"))),
                alt.Tooltip("count:Q", title=tr(N_("People"))),
                alt.Tooltip("percent:Q", title="%", format=".0f"),
            ],
        )
    )
    zero = (
        alt.Chart(layout.assign(start=0, bar_top=layout["bar_top"] - 3, bar_bottom=layout["bar_bottom"] + 3))
        .mark_rule(color="#444")
        .encode(  # the zero line at each bar, not across the text
            x=alt.X("start:Q", scale=x_scale), y=alt.Y("bar_top:Q", scale=y_scale, axis=None), y2="bar_bottom:Q"
        )
    )
    text = (
        alt.Chart(layout)
        .mark_text(align="left", baseline="top", lineBreak="\n", fontSize=13, lineHeight=_LINE, color="#111")
        .encode(x=alt.datum(-100), y=alt.Y("text_top:Q", scale=y_scale, axis=None), text="text:N")
    )
    chart = alt.layer(bars, zero, text).properties(
        height=height, width="container", usermeta={"embedOptions": {"renderer": "svg"}}
    )  # text stays text: screen readers, zoom, browser tests
    if title:
        chart = chart.properties(title=alt.Title(wrap_lines(title), anchor="start"))
    return chart


def _bar_html(row: pd.Series, tr=None) -> str:
    tr = tr or (lambda text: text)
    counts = [int(row[ANSWERS[a]] or 0) for a in SCALE]
    total = sum(counts)
    if total < SMALL_GROUP:  # never a bar from fewer than 5 real answers, whoever built the row
        return ""
    parts = []
    for a, c in zip(SCALE, counts):
        if c:
            pct = 100 * c / total
            parts.append(
                f'<span title="{html.escape(tr(ANSWERS[a]))}: {c}" style="display:inline-block;height:14px;'
                f'width:{pct:.1f}%;background:{LIKERT_COLOURS[a]}"></span>'
            )
    return f'<div style="width:260px;border:1px solid #999;line-height:0">{"".join(parts)}</div>'


def report_html(
    assembly_name: str, sections: list[tuple[str, str, pd.DataFrame]], you_said: pd.DataFrame, tr=None
) -> str:
    """A printable report. ``sections``: (survey label, status line, results_frame) per wave.

    ``tr`` (a lib.i18n.Translator) writes the report's own words in the reader's language; the
    questions are those of ``results_frame`` (their wording in the language it was read in) and people's
    text (the assembly's name, the survey names, "you said, we did") stays as written."""
    tr = tr or Translator()
    e = html.escape
    legend = " ".join(
        f'<span style="display:inline-block;width:12px;height:12px;background:{LIKERT_COLOURS[a]}">'
        f"</span> {e(tr(ANSWERS[a]))}"
        for a in SCALE
    )
    body = []
    for label, status, res in sections:
        body.append(f"<h2>{e(label)}</h2><p class='small'>{e(status)}</p>")
        rows = []
        for _, r in res.iterrows():
            stage = tr(STAGES.get(r["stage"], MEMBERS_QUESTION) if isinstance(r["stage"], str) else MEMBERS_QUESTION)
            if r["suppressed"]:
                answers = ""
                cells = (
                    "<td colspan='7'><i>"
                    + e(
                        tr(
                            N_(
                                "Fewer than {n} people gave a view (“prefer not to say” "
                                "does not count): not shown, so nobody's answers can be "
                                "recognised."
                            )
                        ).format(n=SMALL_GROUP)
                    )
                    + "</i></td><td></td>"
                )
            else:
                answers = str(int(r["answers"]))
                cells = "".join(f"<td>{int(r[ANSWERS[a]])}</td>" for a in (*SCALE, 0)) + f"<td>{_bar_html(r, tr)}</td>"
            rows.append(
                f"<tr><td><b>{int(r['position'])}.</b> {e(str(r['wording']))}"
                f"<div class='small'>{e(stage)}</div></td><td>{answers}</td>{cells}</tr>"
            )
        head = "".join(f"<th>{e(tr(ANSWERS[a]))}</th>" for a in (*SCALE, 0))
        question, answers_word = e(tr(N_("Question"))), e(tr(N_("Answers")))
        body.append(f"<table><tr><th>{question}</th><th>{answers_word}</th>{head}<th></th></tr>{''.join(rows)}</table>")
    said = []
    for _, r in you_said.iterrows():
        said.append(
            f"<tr><td>{e(str(r['survey'] or ''))}</td><td>{e(str(r['you_said']))}</td>"
            f"<td>{e(str(r['we_did']))}</td></tr>"
        )
    words = {
        k: e(tr(k))
        for k in (N_("Survey"), N_("You said"), N_("We did"), N_("Nothing recorded yet."), N_("You said, we did"))
    }
    said_html = (
        f"<table><tr><th>{words['Survey']}</th><th>{words['You said']}</th>"
        f"<th>{words['We did']}</th></tr>" + "".join(said) + "</table>"
        if said
        else f"<p>{words['Nothing recorded yet.']}</p>"
    )
    title = e(tr(N_("Evaluation results – {name}")).format(name=assembly_name or tr(N_("Citizens' assembly"))))
    intro = e(
        tr(
            N_(
                "Answers are anonymous: they are stored with no link to the member who gave them. Questions that "
                "fewer than {n} people answered on the agree/disagree scale are not shown (“prefer not to say” "
                "does not count). Questions are numbered as in each survey. Bars: share of those who gave a view "
                "(“prefer not to say” left out)."
            )
        ).format(n=SMALL_GROUP)
    )
    return f"""<!doctype html><html lang="{e(getattr(tr, "lang", "en"))}"><head><meta charset="utf-8">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#111}} table{{border-collapse:collapse;margin-bottom:1.5em}}
td,th{{border:1px solid #bbb;padding:4px 6px;font-size:10pt;vertical-align:top}} th{{background:#eee}}
.small{{font-size:9pt;color:#444}} @media print{{h2{{page-break-before:auto}}}}</style></head><body>
<h1>{title}</h1>
<p>{intro}</p>
<p class="small">{legend}</p>
{"".join(body)}
<h2>{words["You said, we did"]}</h2>{said_html}
</body></html>"""
