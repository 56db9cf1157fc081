"""Altair chart builders for the representativeness page and the transparency page.

Colours come from CHART_PALETTE: Okabe and Ito's colour-blind-safe palette where its colours
reach 3:1 contrast on white (WCAG's minimum for graphics), other colours where they do not;
lines also differ in dash pattern, so the charts read in black and white too. Titles say in
plain words what the chart shows. Every chart has a table beside it on the page (the same
numbers), for screen readers and for people who prefer numbers.
"""

from __future__ import annotations

from typing import Callable

import altair as alt
import pandas as pd

from lib.i18n import N_

from lib.reporting.representativeness import FAIR_LABEL, LEGACY_LABEL, STAGE_LABELS, stage_label

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
# What the charts draw with. Okabe-Ito's orange, sky blue and yellow reach only 2.25, 2.31 and 1.32:1
# on white, and darkening them makes them look alike to colour-blind readers (orange and yellow turn
# the same olive), so they are replaced by a brown, a violet and a greyish mauve, chosen so that every
# colour reaches 3:1 on white and every two stay as far apart for protanopes, deuteranopes and
# tritanopes as Okabe-Ito's own closest pair (tests/test_chart_colours.py simulates it).
CHART_PALETTE = {
    "black": "#000000",
    "brown": "#873C1E",
    "violet": "#691ED2",
    "blue": OKABE_ITO["blue"],
    "bluish_green": OKABE_ITO["bluish_green"],
    "reddish_purple": OKABE_ITO["reddish_purple"],
    "vermillion": OKABE_ITO["vermillion"],
    "mauve": "#694B5A",
}
_STAGE_COLOURS = [
    CHART_PALETTE[c]
    for c in ("black", "brown", "violet", "blue", "bluish_green", "reddish_purple", "vermillion", "mauve")
]
PERCENT_AXIS = ".0%"  # whole percentages: a bare "%" shows "0.000000%" when every value is 0 (nobody signed up yet)
BAND_COLOUR = "#999999"  # the quota band's light fill, behind the bars ...
BAND_EDGE = "#6B6B6B"  # ... and its outline, which keeps 5.3:1 on white


def stage_colours(stages: list[str]) -> tuple[list[str], list[str]]:
    """(domain, range) for the stage colour scale: the same stage always gets the same colour."""
    fixed = ["population", "signups", "eligible", "selected", "confirmed"]
    domain, colours = [], []
    extra = 0
    for s in stages:
        if s in fixed:
            c = _STAGE_COLOURS[fixed.index(s)]
        else:
            c = _STAGE_COLOURS[(5 + extra) % len(_STAGE_COLOURS)]
            extra += 1
        domain.append(stage_label(s))
        colours.append(c)
    return domain, colours


def field_chart(comp: pd.DataFrame, field_label: str) -> alt.LayerChart | alt.FacetChart:
    """Bars: each value's share at each stage, side by side, with the quota band drawn behind.

    ``comp`` is ``lib.reporting.representativeness.comparison`` filtered to one field.
    """
    df = comp.copy()
    stages = list(dict.fromkeys(df["stage"]))
    domain, colours = stage_colours(stages)
    order = list(df.sort_values("position")["value_label"].drop_duplicates())
    df["Share"] = df["share"]
    df["Stage"] = df["stage_label"]
    df["Group"] = df["value_label"]
    df["People"] = df["count"]
    df = df[["Group", "Stage", "Share", "People", "target", "band_min", "band_max", "deviation_pp"]]
    x = alt.X(
        "Group:N",
        sort=order,
        title=None,
        axis=alt.Axis(labelAngle=-25 if len(order) > 3 else 0, labelLimit=150, labelOverlap=False),
    )
    bars = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=x,
            xOffset=alt.XOffset("Stage:N", sort=domain),
            y=alt.Y("Share:Q", title="Share of people", axis=alt.Axis(format=PERCENT_AXIS)),
            color=alt.Color(
                "Stage:N",
                scale=alt.Scale(domain=domain, range=colours),
                sort=domain,
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("Group:N"),
                alt.Tooltip("Stage:N"),
                alt.Tooltip("Share:Q", format=".1%"),
                alt.Tooltip("People:Q", format="d"),
                alt.Tooltip("deviation_pp:Q", title="Points off target", format="+.1f"),
            ],
        )
    )
    layers = []
    band = df.dropna(subset=["band_min"]).drop_duplicates("Group")
    if len(band):
        layers.append(
            alt.Chart(band)
            .mark_bar(color=BAND_COLOUR, fillOpacity=0.35, stroke=BAND_EDGE, strokeWidth=1)
            .encode(
                x=x,
                y=alt.Y("band_min:Q", title="Share of people", axis=alt.Axis(format=PERCENT_AXIS)),
                y2=alt.Y2("band_max:Q"),
                tooltip=[
                    alt.Tooltip("Group:N"),
                    alt.Tooltip("band_min:Q", title="Fewest seats (share)", format=".0%"),
                    alt.Tooltip("band_max:Q", title="Most seats (share)", format=".0%"),
                ],
            )
        )
    layers.append(bars)
    return alt.layer(*layers).properties(
        title=alt.Title(
            f"{field_label}: the community compared with each stage",
            subtitle="Grey band: the share of seats the quotas allow on the panel." if len(band) else "",
        ),
        height=260,
    )


def chance_chart(
    curve: pd.DataFrame, *, equal_share: float | None = None, tr: Callable[[str], str] | None = None
) -> alt.LayerChart | alt.FacetChart:
    """The "who gets a chance" curve: every sign-up's chance of being picked, lowest to highest.

    The y axis is stretched near zero (a symmetric-log scale) so that the point of the chart, the
    smallest chances (a few percent in the fair lottery, none at all for some in the greedy draw), is
    visible although people in scarce groups can have chances near 100%; the top of the axis is the
    highest chance, so nobody is cut off. The legend sits above the chart, one full label a line.
    ``tr`` puts its words in the reader's language (public pages); English without it.
    """
    t: Callable[[str], str] = tr or (lambda s: s)
    fair, legacy = t(FAIR_LABEL), t(LEGACY_LABEL)
    methods = [t(m) for m in (FAIR_LABEL, LEGACY_LABEL) if m in set(curve["method"])]
    colours = {fair: OKABE_ITO["blue"], legacy: OKABE_ITO["vermillion"]}
    dashes = {fair: [1, 0], legacy: [6, 4]}
    df = curve.rename(columns={"method": "Method", "position": "Position", "probability": "Chance"})
    df["Method"] = df["Method"].map(t)
    top = float(max([*df["Chance"].tolist(), equal_share or 0.0, 0.01]))
    top = min(1.0, top)
    # symlog: linear below the constant, logarithmic above; the constant near the smallest chances
    small = [float(p) for p in df["Chance"] if p > 0]
    constant = min(0.02, max(0.001, (min(small) if small else 0.01) / 2, (equal_share or 0.0) / 10))
    ticks = [t for t in (0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0) if t <= top + 1e-9]
    y_scale = alt.Scale(type="symlog", constant=constant, domain=[0, top], nice=False)
    lines = (
        alt.Chart(df)
        .mark_line(strokeWidth=2.5)
        .encode(
            x=alt.X(
                "Position:Q",
                title=t(N_("Sign-ups (in %), from lowest to highest chance")),
                scale=alt.Scale(domain=[0, 100]),
            ),
            y=alt.Y(
                "Chance:Q",
                title=t(N_("Chance of being picked")),
                scale=y_scale,
                axis=alt.Axis(format=PERCENT_AXIS, values=ticks, labelOverlap=False),
            ),
            color=alt.Color(
                "Method:N",
                scale=alt.Scale(domain=methods, range=[colours[m] for m in methods]),
                legend=alt.Legend(title=None, orient="top", direction="vertical", labelLimit=0),
            ),
            strokeDash=alt.StrokeDash(
                "Method:N", scale=alt.Scale(domain=methods, range=[dashes[m] for m in methods]), legend=None
            ),
            tooltip=[
                alt.Tooltip("Method:N", title=t(N_("Way of drawing"))),
                alt.Tooltip("Position:Q", format=".0f", title=t(N_("Sign-ups below (in %)"))),
                alt.Tooltip("Chance:Q", format=".2%", title=t(N_("Chance of being picked"))),
            ],
        )
    )
    layers = [lines]
    if equal_share:
        rule = pd.DataFrame({"Chance": [equal_share], "label": [t(N_("Everyone equal"))]})
        layers.append(
            alt.Chart(rule)
            .mark_rule(color=OKABE_ITO["black"], strokeDash=[2, 2])
            .encode(
                y=alt.Y("Chance:Q", scale=y_scale),
                tooltip=[
                    alt.Tooltip("label:N", title=" "),
                    alt.Tooltip("Chance:Q", format=".2%", title=t(N_("Chance of being picked"))),
                ],
            )
        )
    return alt.layer(*layers).properties(
        title=alt.Title(
            t(N_("Who gets a chance: each sign-up's chance of being picked")),
            subtitle=[
                t(N_("Look at the left end: the people with the smallest chance.")),
                t(N_("Dotted line: everyone's chance if all were equal.")),
                t(N_("The scale is stretched near zero so that small chances show.")),
            ],
        ),
        height=380,
    )


def chance_explanation(probabilities, *, panel_size: int, pool_size: int) -> str:
    """Plain words under the chance chart: the equal share, and why a few people have high chances."""
    probs = [float(p) for p in (probabilities or {}).values()]
    equal = panel_size / max(1, pool_size)
    text = (
        f"If everybody had the same chance, it would be {equal:.1%} ({panel_size} seats for {pool_size} "
        "sign-ups): the dotted line. What makes a lottery fair is its left end: nobody should be left with "
        "almost no chance. The axis is stretched near zero so that small chances can be told apart."
    )
    over = sum(1 for p in probs if p > 0.5)
    if over:
        text += (
            f" {over} {'people have' if over != 1 else 'person has'} more than a 1 in 2 chance. That is "
            "not a mistake: they belong to groups with few volunteers against their quota. For example, "
            "when the quotas keep 3 seats for young people and only 5 young people signed up, each of them "
            "has a 3 in 5 chance. The quotas need them on the panel so that it looks like the community."
        )
    return text


def tvd_chart(table: pd.DataFrame) -> alt.Chart:
    """Dots: for each field, how far each stage is from the community (total variation distance)."""
    long = table.drop(columns=["field"]).melt(id_vars="Field", var_name="Stage", value_name="Distance").dropna()
    stage_names = list(dict.fromkeys(long["Stage"]))
    inverse = {label: key for key, label in STAGE_LABELS.items()}
    keys = [inverse.get(n, "attending:" + n.removeprefix("Attending ")) for n in stage_names]
    _domain, palette = stage_colours(["population"] + keys)
    palette = palette[1:]
    return (
        alt.Chart(long)
        .mark_point(filled=True, size=90)
        .encode(
            y=alt.Y("Field:N", title=None, sort=list(table["Field"])),
            x=alt.X(
                "Distance:Q",
                title="Distance from the community (0 = the same)",
                axis=alt.Axis(format=PERCENT_AXIS),
                scale=alt.Scale(domainMin=0),
            ),
            color=alt.Color(
                "Stage:N",
                scale=alt.Scale(domain=stage_names, range=palette[: len(stage_names)]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            shape=alt.Shape("Stage:N", legend=None),
            tooltip=["Field:N", "Stage:N", alt.Tooltip("Distance:Q", format=".1%")],
        )
        .properties(title=alt.Title("How far each stage is from the community, per question"), height=alt.Step(30))
    )
