"""Chart builders, checked through their Vega-Lite specs (what the browser will draw)."""

from __future__ import annotations


from lib.reporting import charts
from lib.recruitment.categories import Field
from lib.recruitment.quotas import QuotaRow
from lib.reporting.representativeness import (FAIR_LABEL, LEGACY_LABEL, chance_curve, comparison, population_stage,
                                    stage_from_counts, tvd_table)
from lib.recruitment.targets import Target

AGE = Field("age", "Age band", values=["16-24", "25-64", "65+"],
            value_labels={"16-24": "16 to 24", "25-64": "25 to 64", "65+": "65 and over"})
PALETTE = set(charts.CHART_PALETTE.values())


def _comp(with_quotas=True):
    pop = population_stage([Target("age", "16-24", 0.2), Target("age", "25-64", 0.5), Target("age", "65+", 0.3)],
                           [AGE])
    signups = stage_from_counts({("age", "16-24"): 5, ("age", "25-64"): 50, ("age", "65+"): 45}, [AGE])
    selected = stage_from_counts({("age", "16-24"): 2, ("age", "25-64"): 5, ("age", "65+"): 3}, [AGE])
    quotas = [QuotaRow("age", "16-24", 0.2, 2.0, 2, 2), QuotaRow("age", "25-64", 0.5, 5.0, 5, 5),
              QuotaRow("age", "65+", 0.3, 3.0, 3, 4)]
    return comparison({"population": pop, "signups": signups, "selected": selected}, [AGE],
                      quotas=quotas if with_quotas else (), panel_size=10)


def _dataset(spec, layer):
    return spec["datasets"][layer["data"]["name"]]


def test_field_chart_bars_per_stage_with_the_quota_band_behind():
    spec = charts.field_chart(_comp(), "Age band").to_dict()
    assert spec["title"]["text"] == "Age band: the community compared with each stage"
    assert "Grey band" in spec["title"]["subtitle"]
    band, bars = spec["layer"]
    # The band: one grey, see-through bar per group from the fewest to the most seats (as shares of 10).
    assert band["mark"]["color"] == charts.BAND_COLOUR and band["mark"]["fillOpacity"] < 0.5
    assert band["mark"]["stroke"] == charts.BAND_EDGE
    assert (band["encoding"]["y"]["field"], band["encoding"]["y2"]["field"]) == ("band_min", "band_max")
    rows = {r["Group"]: (r["band_min"], r["band_max"]) for r in _dataset(spec, band)}
    assert rows == {"16 to 24": (0.2, 0.2), "25 to 64": (0.5, 0.5), "65 and over": (0.3, 0.4)}
    # The bars: groups in the fields' order, stages side by side, one colour-blind-safe colour per stage.
    enc = bars["encoding"]
    assert enc["x"]["sort"] == ["16 to 24", "25 to 64", "65 and over"]
    assert enc["xOffset"]["field"] == "Stage"
    assert enc["y"]["field"] == "Share" and enc["y"]["axis"]["format"] == ".0%"
    assert enc["color"]["scale"]["domain"] == ["Community (target)", "Signed up", "Selected"]
    colours = enc["color"]["scale"]["range"]
    assert set(colours) <= PALETTE and len(set(colours)) == 3
    values = {(r["Group"], r["Stage"]): r["Share"] for r in _dataset(spec, bars)}
    assert values[("16 to 24", "Signed up")] == 0.05 and values[("65 and over", "Selected")] == 0.3


def test_the_same_stage_keeps_its_colour_and_no_band_without_quotas():
    with_all = charts.field_chart(_comp(), "Age").to_dict()["layer"][1]["encoding"]["color"]["scale"]
    sub = _comp(with_quotas=False)
    only = charts.field_chart(sub[sub.stage != "signups"], "Age").to_dict()
    assert len(only["layer"]) == 1 and only["title"]["subtitle"] == ""
    scale = only["layer"][0]["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"]))["Selected"] == \
        dict(zip(with_all["domain"], with_all["range"]))["Selected"]


def test_chance_chart_fair_against_legacy():
    curve = chance_curve({f"p{i}": 0.1 + i / 1000 for i in range(50)}, {f"p{i}": i / 500 for i in range(50)})
    spec = charts.chance_chart(curve, equal_share=0.12).to_dict()
    assert spec["title"]["text"] == "Who gets a chance: each sign-up's chance of being picked"
    lines, rule = spec["layer"]
    enc = lines["encoding"]
    assert enc["color"]["scale"]["domain"] == [FAIR_LABEL, LEGACY_LABEL]
    assert enc["color"]["scale"]["range"] == [charts.OKABE_ITO["blue"], charts.OKABE_ITO["vermillion"]]
    # Told apart by dash pattern too, so it reads in black and white.
    assert enc["strokeDash"]["scale"]["range"] == [[1, 0], [6, 4]]
    assert enc["x"]["scale"]["domain"] == [0, 100] and "lowest to highest" in enc["x"]["title"]
    assert enc["y"]["axis"]["format"] == ".0%"
    assert _dataset(spec, rule) == [{"Chance": 0.12, "label": "Everyone equal"}]
    fair_only = charts.chance_chart(chance_curve({"a": 0.2, "b": 0.3}, None)).to_dict()
    assert "layer" in fair_only and len(fair_only["layer"]) == 1
    assert fair_only["layer"][0]["encoding"]["color"]["scale"]["domain"] == [FAIR_LABEL]


def test_tvd_chart_one_dot_per_field_and_stage():
    comp = _comp()
    stages = {s: g[["field", "value", "count", "share"]] for s, g in comp.groupby("stage", sort=False)}
    table = tvd_table(stages, [AGE])
    spec = charts.tvd_chart(table).to_dict()
    data = spec["datasets"][spec["data"]["name"]]
    got = {(r["Field"], r["Stage"]): round(r["Distance"], 6) for r in data}
    # Sign-ups: ½(|0.05−0.2| + |0.5−0.5| + |0.45−0.3|) = 0.15; selected equals the targets: 0.
    assert got == {("Age band", "Signed up"): 0.15, ("Age band", "Selected"): 0.0}
    assert spec["encoding"]["x"]["axis"]["format"] == ".0%"
    assert set(spec["encoding"]["color"]["scale"]["range"]) <= PALETTE


def test_with_nobody_signed_up_yet_the_share_axes_read_in_whole_percentages():
    """A new group's first look at "How representative?": every sign-up count is 0. A bare "%" axis format then
    labels the flat axis "0.000000%" (seen in the browser); whole percentages read "0%"."""
    pop = population_stage([Target("age", "16-24", 0.2), Target("age", "25-64", 0.5), Target("age", "65+", 0.3)],
                           [AGE])
    nobody = stage_from_counts({("age", "16-24"): 0, ("age", "25-64"): 0, ("age", "65+"): 0}, [AGE])
    comp = comparison({"population": pop, "signups": nobody}, [AGE], quotas=(), panel_size=10)
    stages = {s: g[["field", "value", "count", "share"]] for s, g in comp.groupby("stage", sort=False)}
    specs = [charts.field_chart(comp, "Age band").to_dict(), charts.tvd_chart(tvd_table(stages, [AGE])).to_dict()]

    def axis_formats(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "axis" and isinstance(value, dict) and "format" in value:
                    yield value["format"]
                else:
                    yield from axis_formats(value)
        elif isinstance(node, list):
            for item in node:
                yield from axis_formats(item)

    formats = [f for spec in specs for f in axis_formats(spec)]
    assert formats and all(f == ".0%" for f in formats), formats
