"""The one-page transparency report: a self-contained, printable HTML page.

It gathers the targets and their sources, the quotas, the draw's commitment and public
number, the "who gets a chance" curve (drawn as inline SVG, so it prints and needs no
internet) and the representativeness tables. Groups smaller than 5 are hidden unless the
report is made for the organisers. No names, contacts or pseudonyms appear in it.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

import pandas as pd

from lib.recruitment.categories import Field, load_fields
from lib.recruitment.quotas import QuotaRow, quotas_for_version
from lib.reporting.representativeness import (
    chance_curve,
    chance_table,
    collect_stages,
    comparison,
    latest_chances,
    public_table,
    tvd_table,
)
from lib.i18n import N_, Translator
from lib.store.settings import get_setting
from lib.recruitment.targets import Target, TargetVersion, load_targets, version_info
from lib.access.auth import actor_name

VERIFY_COMMAND = "python -m lib.sortition verify bundle.zip"


def verify_command(draw, head: str | None, bundle: str = "bundle.zip") -> str:
    """The full check, with the values that were announced filled in: without ``--commitment`` and
    ``--public-number`` a forged but self-consistent bundle would pass; ``--record`` adds the public
    record of every commitment, withdrawal and reveal. ``bundle``: the bundle's file name as downloaded."""
    import shlex

    parts = [VERIFY_COMMAND.replace("bundle.zip", shlex.quote(bundle))]
    if draw is not None and getattr(draw, "commitment", None):
        parts.append(f"--commitment {draw.commitment}")
    if draw is not None and getattr(draw, "public_number", None):
        parts.append(f"--public-number {shlex.quote(draw.public_number)}")
    if head:
        parts.append(f"--record record.json --record-head {head}")
    return " ".join(parts)


_EVENT_WORDS = {
    "commitment": N_("Commitment published: draw {draw}"),
    "withdrawal": N_("Commitment withdrawn (never revealed): draw {draw}"),
    "reveal": N_("Revealed with the public random number: draw {draw}"),
}


def _slot_words(slot: str, tr: Translator) -> str:
    if slot == "draw":
        return tr(N_("the draw"))
    return tr(N_("replacement round after draw {draw}")).format(draw=slot.split(":", 1)[-1])


def record_table(events: list[dict], tr: Translator | None = None) -> pd.DataFrame:
    """The public record for people: one row per step, oldest first, in plain words (in ``tr``'s language;
    the column headings stay English here: the page translates them with the other tables' headings)."""
    tr = tr or Translator()
    return pd.DataFrame(
        [
            {
                "Step": e["seq"],
                "When (UTC)": e["at"].replace("T", " ").rstrip("Z"),
                "What happened": tr(_EVENT_WORDS[e["kind"]]).format(draw=e["draw"])
                if e["kind"] in _EVENT_WORDS
                else f"{e['kind']}: {e['draw']}",
                "For": _slot_words(e["slot"], tr),
                "Commitment": _grouped(e["commitment"][:16]) + " …",
                "Public number": e["public_number"],
                "Reason given": e["reason"],
            }
            for e in events
        ],
        columns=["Step", "When (UTC)", "What happened", "For", "Commitment", "Public number", "Reason given"],
    )


def record_notice(events: list[dict], tr: Translator | None = None) -> str | None:
    """A plain warning when the draw was not simply committed once and revealed once, per slot."""
    tr = tr or Translator()
    withdrawn = sum(e["kind"] == "withdrawal" for e in events)
    revealed: dict[str, int] = {}
    for e in events:
        if e["kind"] == "reveal":
            revealed[e["slot"]] = revealed.get(e["slot"], 0) + 1
    again = sum(n - 1 for n in revealed.values())
    committed_after = sum(
        1
        for i, e in enumerate(events)
        if e["kind"] == "commitment" and any(p["kind"] == "reveal" and p["slot"] == e["slot"] for p in events[:i])
    )
    parts = []
    if withdrawn:
        parts.append(
            tr.ngettext(
                "{n} published commitment was withdrawn before any number revealed it",
                "{n} published commitments were withdrawn before any number revealed them",
                withdrawn,
            ).format(n=withdrawn)
        )
    if again or committed_after:
        n = max(again, committed_after)
        parts.append(
            tr.ngettext(
                "the draw was run again {n} time after a result was known",
                "the draw was run again {n} times after a result was known",
                n,
            ).format(n=n)
        )
    if not parts:
        return None
    return tr(
        N_(
            "Please note: {what}. Every step is listed below with the reason the organisers gave, so that "
            "everyone can judge it."
        )
    ).format(what="; ".join(parts))


class DrawFacts(Protocol):
    """What the report reads of a draw (a lib.draws.records.DrawRecord)."""

    @property
    def draw_id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def commitment(self) -> str | None: ...
    @property
    def public_number(self) -> str | None: ...


@dataclass
class ReportData:
    assembly: str
    generated_at: datetime
    fields: list[Field]
    version: TargetVersion | None
    targets: list[Target]
    quotas: list[QuotaRow]
    draw: DrawFacts | None  # a lib.draws.records.DrawRecord, when there is a draw
    comp: pd.DataFrame
    tvd: pd.DataFrame
    curve: pd.DataFrame
    chances: pd.DataFrame
    equal_share: float | None = None
    notes: list[str] = field(default_factory=list)
    record: list[dict] = field(default_factory=list)  # the public record (lib.draws.records.public_record)


def gather(db) -> ReportData:
    """Everything the report shows, read from the store (and the draw module, when it exists)."""
    fields = load_fields(db)
    draw, probs, legacy = latest_chances(db)
    version = None
    if draw is not None and getattr(draw, "target_version", None):
        version = version_info(db, draw.target_version)
    if version is None:
        version = version_info(db)
    targets = load_targets(db, version.version) if version else []
    panel_size = getattr(draw, "panel_size", None) or (version.panel_size if version else None)
    quotas = quotas_for_version(db, version.version, panel_size=panel_size) if version else []
    stages = collect_stages(db, fields, targets)
    comp = comparison(stages, fields, quotas=quotas, panel_size=panel_size)
    n = len(probs) if probs else 0
    assembly = (get_setting(db, "assembly", {}) or {}).get("name") or "Citizens' assembly"
    from lib.draws.records import public_record

    return ReportData(
        record=public_record(db),
        assembly=assembly,
        generated_at=datetime.now(timezone.utc),
        fields=fields,
        version=version,
        targets=targets,
        quotas=quotas,
        draw=draw,
        comp=comp,
        tvd=tvd_table(stages, fields),
        curve=chance_curve(probs, legacy),
        chances=chance_table(probs, legacy, panel_size),
        equal_share=(panel_size / n) if (n and panel_size) else None,
    )


# --- HTML ------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111; max-width: 60rem;
       margin: 1.5rem auto; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 1.6rem;
       border-bottom: 2px solid #0B4F8A; } h3 { font-size: 1rem; margin-bottom: 0.3rem; }
table { border-collapse: collapse; margin: 0.4rem 0 0.8rem; font-size: 0.9rem; }
th, td { border: 1px solid #bbb; padding: 0.2rem 0.5rem; text-align: left; }
th { background: #eef3f8; } td.num { text-align: right; }
.hash { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 1.25rem; word-break: normal;
        letter-spacing: 0.05em; background: #f4f4f4; padding: 0.4rem; }
.muted { color: #555; font-size: 0.85rem; }
code { background: #f4f4f4; padding: 0.1rem 0.3rem; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } table, svg { break-inside: avoid; }
               a { color: inherit; text-decoration: none; } }
"""


def _e(x) -> str:
    return html.escape("" if x is None else str(x))


def _table(df: pd.DataFrame, *, numeric: tuple[str, ...] = (), tr: Translator | None = None) -> str:
    tr = tr or Translator()
    if df is None or df.empty:
        return "<p class='muted'>" + _e(tr(N_("Nothing to show yet."))) + "</p>"
    head = "".join(f"<th scope='col'>{_e(_heading(c, tr))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, row):
            if isinstance(v, float) and math.isnan(v):
                v = "–"
            elif isinstance(v, str) and v in _CELL_WORDS:
                v = tr(v)
            cells.append(f"<td class='num'>{_e(v)}</td>" if c in numeric else f"<td>{_e(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# The report's table headings and the few words in its cells (the same words as the page's tables,
# pages/language.py), in the reader's language; people's text (questions, groups, sources) stays as typed.
_HEADINGS = {
    N_("Question"),
    N_("Group"),
    N_("Community"),
    N_("Fair share of seats"),
    N_("Fewest seats"),
    N_("Most seats"),
    N_("Source"),
    N_("Method"),
    N_("Lowest chance"),
    N_("Middle (median)"),
    N_("Highest chance"),
    N_("People under half the equal chance"),
    N_("Community (target)"),
    N_("Signed up"),
    N_("Ready for the draw"),
    N_("Selected"),
    N_("Confirmed"),
    N_("Completed"),
}
_CELL_WORDS = {
    N_("fewer than 5"),
    N_("not shown"),
    N_("Fair lottery (this draw)"),
    N_("Old-style draw (for comparison)"),
}


def _heading(c, tr: Translator) -> str:
    text = str(c)
    if text.startswith("Attending ") and " " not in text[len("Attending ") :]:
        return tr(N_("Attending {date}")).format(date=text[len("Attending ") :])
    return tr(text)


def chance_svg(
    curve: pd.DataFrame,
    *,
    equal_share: float | None = None,
    width: int = 640,
    height: int = 260,
    tr: Translator | None = None,
) -> str:
    """The chance curve as a small inline SVG (Okabe–Ito blue solid, vermillion dashed)."""
    from lib.reporting.charts import OKABE_ITO
    from lib.reporting.representativeness import FAIR_LABEL, LEGACY_LABEL

    tr = tr or Translator()
    if curve is None or curve.empty:
        return "<p class='muted'>" + _e(tr(N_("No draw has been computed yet."))) + "</p>"
    left, right, top, bottom = 56, 12, 12, 40
    w, h = width - left - right, height - top - bottom
    top_p = max(float(curve["probability"].max()), equal_share or 0.0) or 1.0
    ymax = top_p * 1.1

    def xy(pos, p):
        return left + w * pos / 100.0, top + h * (1 - p / ymax)

    label = _e(tr(N_("Each sign-up's chance of being picked, sorted from lowest to highest")))
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' aria-label='{label}'>",
        f"<rect x='{left}' y='{top}' width='{w}' height='{h}' fill='none' stroke='#999'/>",
    ]
    for tick in (0.0, top_p / 2, top_p):
        _x, y = xy(0, tick)
        parts.append(f"<text x='{left - 6}' y='{y + 4:.1f}' font-size='11' text-anchor='end'>{tick * 100:.1f}%</text>")
    styles = {FAIR_LABEL: (OKABE_ITO["blue"], ""), LEGACY_LABEL: (OKABE_ITO["vermillion"], "6 4")}
    legend_y = height - 8
    lx = left
    for method, grp in curve.groupby("method", sort=False):
        colour, dash = styles.get(method, ("#000", ""))
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(a, b) for a, b in zip(grp["position"], grp["probability"])))
        dash_attr = f" stroke-dasharray='{dash}'" if dash else ""
        name = tr(method) if method in _CELL_WORDS else str(method)
        parts.append(f"<polyline fill='none' stroke='{colour}' stroke-width='2.5'{dash_attr} points='{pts}'/>")
        parts.append(
            f"<line x1='{lx}' y1='{legend_y - 4}' x2='{lx + 24}' y2='{legend_y - 4}' stroke='{colour}' "
            f"stroke-width='2.5'{dash_attr}/><text x='{lx + 30}' y='{legend_y}' font-size='12'>"
            f"{_e(name)}</text>"
        )
        lx += 40 + 7 * len(name)
    if equal_share:
        _x, y = xy(0, equal_share)
        equal = tr(N_("everyone equal: {share}")).format(share=f"{equal_share * 100:.2f}%")
        parts.append(
            f"<line x1='{left}' y1='{y:.1f}' x2='{left + w}' y2='{y:.1f}' stroke='#000' "
            f"stroke-dasharray='2 2'/><text x='{left + w - 4}' y='{y - 4:.1f}' font-size='11' "
            f"text-anchor='end'>{_e(equal)}</text>"
        )
    parts.append(
        f"<text x='{left + w / 2}' y='{top + h + 16}' font-size='11' text-anchor='middle'>"
        "" + _e(tr(N_("sign-ups, from lowest to highest chance"))) + "</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _labels(data: ReportData):
    """How the organisers named the questions and answers (the engine's module is loaded only when a table
    needs it: the public Transparency page opens without it)."""
    from lib.sortition.feasibility import Labels

    return Labels.of_fields(data.fields)


def _quota_table(data: ReportData) -> pd.DataFrame:
    labels = _labels(data)
    return pd.DataFrame(
        [
            {
                "Question": labels.field_name(q.field),
                "Group": labels.value_name(q.field, q.value),
                "Community": f"{q.share * 100:.1f}%",
                "Fair share of seats": f"{q.ideal:.1f}",
                "Fewest seats": q.min,
                "Most seats": q.max,
            }
            for q in data.quotas
        ]
    )


def _targets_table(data: ReportData) -> pd.DataFrame:
    labels = _labels(data)
    return pd.DataFrame(
        [
            {
                "Question": labels.field_name(t.field),
                "Group": labels.value_name(t.field, t.value),
                "Community": f"{t.share * 100:.1f}%",
                "Source": t.source or "–",
            }
            for t in data.targets
        ]
    )


def report_html(data: ReportData, *, organiser: bool = False, tr: Translator | None = None) -> str:
    """The printable page. ``organiser=False`` hides groups smaller than 5. ``tr`` (lib.i18n.Translator): the
    report's own words in the reader's language (people's text, such as questions and groups, stays as typed)."""
    tr = tr or Translator()
    when = "%d %B %Y at %H:%M" if tr.lang == "en" else "%Y-%m-%d %H:%M"  # month names are English
    out = [
        f"<!doctype html><html lang='{_e(tr.lang)}'><head><meta charset='utf-8'>",
        "<title>" + _e(tr(N_("Transparency report – {name}")).format(name=data.assembly)) + "</title>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>" + _e(tr(N_("Transparency report: {name}")).format(name=data.assembly)) + "</h1>",
        "<p class='muted'>"
        + _e(
            tr(
                N_(
                    "Made on {date} UTC by Kleroterion. It shows how the assembly was chosen "
                    "and how closely it matches the community. It holds no names or contact "
                    "details."
                )
            ).format(date=f"{data.generated_at:{when}}")
        )
        + ("" if organiser else " " + _e(tr(N_("Groups of fewer than 5 people are not shown."))))
        + "</p>",
    ]
    out += _targets_section(data, tr, when)
    out += _quotas_section(data, tr)
    out += _draw_section(data, tr)
    out += _chances_section(data, tr)
    out += _representativeness_section(data, tr, organiser)
    out.append("</body></html>")
    return "".join(out)


def _targets_section(data: ReportData, tr: Translator, when: str) -> list[str]:
    """1. Targets: the version in force, who set it, and whether it is frozen."""
    out: list[str] = []
    v = data.version
    out.append("<h2>" + _e(tr(N_("1. What the community looks like (the targets)"))) + "</h2>")
    if v is None:
        out.append("<p>" + _e(tr(N_("No targets have been set yet."))) + "</p>")
    else:
        frozen = (
            tr(N_("Frozen for the draw on {date} by {who}.")).format(
                date=f"{v.frozen_at:{when}}", who=actor_name(v.frozen_by) or tr(N_("an organiser"))
            )
            if v.frozen
            else tr(N_("Not frozen yet: the targets may still change before the draw."))
        )
        out.append(
            "<p>"
            + _e(
                tr(N_("Target version {version}, set by {who} ({note}).")).format(
                    version=v.version, who=v.created_by or tr(N_("an organiser")), note=v.note or tr(N_("no note"))
                )
            )
            + f" {_e(frozen)}</p>"
        )
        out.append(_table(_targets_table(data), tr=tr))
    return out


def _quotas_section(data: ReportData, tr: Translator) -> list[str]:
    """2. Quotas: the panel size, how the seats were worked out, the seats of each group."""
    out: list[str] = []
    d, v = data.draw, data.version
    out.append("<h2>" + _e(tr(N_("2. Seats for each group (the quotas)"))) + "</h2>")
    if data.quotas:
        k = getattr(d, "panel_size", None) or (v.panel_size if v else None)
        text = tr(
            N_(
                "Panel of {k} people. Each group gets between the whole numbers just below and just above its "
                "fair share of seats (share × {k})."
            )
        ).format(k=k)
        if v and v.slack:
            text += " " + tr.ngettext(
                "The range is widened by {n} seat each way.", "The range is widened by {n} seats each way.", v.slack
            ).format(n=v.slack)
        if v:
            text += " " + tr(N_("A group whose fair share is at least {seats} seat is guaranteed one.")).format(
                seats=f"{v.small_group_threshold:g}"
            )
        out.append(f"<p>{_e(text)}</p>")
        out.append(_table(_quota_table(data), numeric=("Fewest seats", "Most seats", "Fair share of seats"), tr=tr))
    else:
        out.append("<p>" + _e(tr(N_("No quotas yet."))) + "</p>")
    return out


def _draw_section(data: ReportData, tr: Translator) -> list[str]:
    """3. The draw: its commitment and public number, how to check it, and the public record."""
    out: list[str] = []
    d = data.draw
    out.append("<h2>" + _e(tr(N_("3. The draw"))) + "</h2>")
    if d is None:
        out.append("<p>" + _e(tr(N_("The draw has not taken place yet."))) + "</p>")
    else:
        out.append(
            "<p>"
            + _e(tr(N_("Draw number {draw}, {status}.")).format(draw=d.draw_id, status=_status_text(d.status, tr)))
            + "</p>"
        )
        if d.commitment:
            out.append(
                "<h3>" + _e(tr(N_("The commitment (published before the random number existed)"))) + "</h3>"
                f"<div class='hash'>{_e(_grouped(d.commitment))}</div>"
            )
        if d.public_number:
            out.append(
                "<h3>" + _e(tr(N_("The public random number"))) + f"</h3><div class='hash'>{_e(d.public_number)}</div>"
            )
        rerun_of = getattr(d, "rerun_of", None)
        if rerun_of:
            out.append(
                "<p>"
                + _e(
                    tr(N_("Note: this draw repeats draw {draw} on the same frozen inputs; both are recorded.")).format(
                        draw=rerun_of
                    )
                )
                + "</p>"
            )
        head = data.record[-1]["hash"] if data.record else None
        out.append(
            "<p>"
            + _e(
                tr(
                    N_(
                        "Anyone can check the draw: download the audit bundle and the public record "
                        "(record.json) from the public transparency page and run:"
                    )
                )
            )
            + " "
            f"<code>{_e(verify_command(d, head))}</code></p>"
        )
    if data.record:
        out.append("<h3>" + _e(tr(N_("Every public step of the draw (the public record)"))) + "</h3>")
        notice = record_notice(data.record, tr)
        if notice:
            out.append(f"<p><b>{_e(notice)}</b></p>")
        out.append(_table(record_table(data.record, tr), tr=tr))
        out.append(
            "<p class='muted'>"
            + _e(tr(N_("The record's head (the fingerprint of its last step):")))
            + f" <code>{_e(data.record[-1]['hash'])}</code>. "
            + _e(tr(N_("A record that ends anywhere else is not this one.")))
            + "</p>"
        )
    return out


def _chances_section(data: ReportData, tr: Translator) -> list[str]:
    """4. Chances: each sign-up's chance, lowest to highest, once the fair lottery is computed."""
    out: list[str] = []
    out.append("<h2>" + _e(tr(N_("4. Who gets a chance"))) + "</h2>")
    if data.curve.empty:
        out.append("<p class='muted'>" + _e(tr(N_("Shown once the fair lottery has been computed."))) + "</p>")
    else:
        out.append(
            "<p>"
            + _e(
                tr(
                    N_(
                        "Each sign-up's chance of being picked, sorted from lowest to highest. The fair "
                        "lottery keeps the lowest chance as high as the quotas allow."
                    )
                )
            )
            + "</p>"
        )
        out.append(chance_svg(data.curve, equal_share=data.equal_share, tr=tr))
        out.append(_table(data.chances, tr=tr))
    return out


def _representativeness_section(data: ReportData, tr: Translator, organiser: bool) -> list[str]:
    """5. Representativeness: each question's distance from the community, then its table by stage."""
    out: list[str] = []
    out.append("<h2>" + _e(tr(N_("5. How representative: the community compared with each stage"))) + "</h2>")
    if not data.tvd.empty:
        tv = data.tvd.drop(columns=["field"]).copy()
        for c in tv.columns[1:]:
            tv[c] = tv[c].map(lambda x: "–" if pd.isna(x) else f"{x * 100:.1f}%")
        out.append(
            "<p>"
            + _e(
                tr(
                    N_(
                        "Distance from the community for each question (0% = exactly like the "
                        "community; it is the share of people who would have to be swapped to match "
                        "it)."
                    )
                )
            )
            + "</p>"
        )
        out.append(_table(tv, tr=tr))
    for f in data.fields:
        sub = data.comp[data.comp["field"] == f.key]
        if sub.empty:
            continue
        out.append(f"<h3>{_e(f.label)}</h3>")
        out.append(_table(public_table(sub, organiser=organiser), tr=tr))
    return out


_STATUS = {
    "computed": N_("computed but not yet published"),
    "committed": N_("commitment published, waiting for the public random number"),
    "revealed": N_("completed: the panel has been revealed"),
}


def _status_text(status: str, tr: Translator | None = None) -> str:
    tr = tr or Translator()
    return tr(_STATUS[status]) if status in _STATUS else status


def _grouped(hexstr: str) -> str:
    """'ab12cd…' in groups of 4, easier to read aloud."""
    return " ".join(hexstr[i : i + 4] for i in range(0, len(hexstr), 4))


def build_report(db, *, organiser: bool = False) -> str:
    return report_html(gather(db), organiser=organiser)


def public_view(data: ReportData) -> ReportData:
    """What the public may see: a draw only once its commitment is published (a computed draw that
    was never committed is the organisers' working state, not a public fact)."""
    from dataclasses import replace

    d = data.draw
    if d is not None and d.status in ("committed", "revealed") and d.commitment:
        return data
    empty_curve = data.curve.iloc[0:0]
    return replace(data, draw=None, curve=empty_curve, chances=data.chances.iloc[0:0], equal_share=None)
