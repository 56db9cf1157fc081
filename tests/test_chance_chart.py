"""The draw page's chance chart (issue 15): its point, the smallest chance of the fair lottery
against the greedy draw's zero, must be visible although a few people in scarce groups have
chances over 50%; the legend is not cut; the page says why some chances are high."""

from __future__ import annotations

import math

from lib.reporting import charts
from lib.reporting.representativeness import chance_curve


def _pool():
    """600 sign-ups: most near the equal share 5%, 30 at 3%, 9 in scarce groups at 60-90%;
    the greedy draw leaves 40 with no chance at all."""
    fair = {f"p{i}": 0.05 for i in range(561)}
    fair.update({f"s{i}": 0.03 for i in range(30)})
    fair.update({f"r{i}": 0.6 + i / 30 for i in range(9)})
    greedy = dict(fair)
    greedy.update({f"s{i}": 0.0 for i in range(30)})
    greedy.update({f"p{i}": 0.0 for i in range(10)})
    return fair, greedy


def _y_position(scale: dict, p: float, top: float) -> float:
    """Where p sits on the y axis (0 = bottom, 1 = top) for the chart's scale."""
    if scale.get("type") == "symlog":
        c = scale["constant"]
        return math.log1p(p / c) / math.log1p(top / c)
    lo, hi = scale.get("domain", [0, top])
    return (p - lo) / (hi - lo)


def test_the_smallest_chances_are_visible_next_to_zero():
    fair, greedy = _pool()
    spec = charts.chance_chart(chance_curve(fair, greedy), equal_share=30 / 600).to_dict()
    y = spec["layer"][0]["encoding"]["y"]
    scale = y["scale"]
    assert scale["domain"][0] == 0 and scale["domain"][1] >= max(fair.values())   # nobody is cut off
    top = scale["domain"][1]
    # 3% against 0%: at least a fifth of the chart's height apart (on a 0-100% line it was 3%)
    assert _y_position(scale, 0.03, top) - _y_position(scale, 0.0, top) >= 0.2
    # the equal share and the scarce groups are still told apart
    assert _y_position(scale, 0.6, top) - _y_position(scale, 0.05, top) >= 0.2
    assert y["axis"]["format"] == ".0%" and (0.03 in y["axis"]["values"] or 0.02 in y["axis"]["values"])


def test_the_legend_is_above_the_chart_and_never_shortened():
    fair, greedy = _pool()
    spec = charts.chance_chart(chance_curve(fair, greedy), equal_share=0.05).to_dict()
    legend = spec["layer"][0]["encoding"]["color"]["legend"]
    assert legend["orient"] == "top" and legend["direction"] == "vertical"
    assert legend["labelLimit"] == 0          # full labels, however narrow the phone


def test_the_page_explains_why_a_few_chances_are_high():
    fair, _greedy = _pool()
    text = charts.chance_explanation(fair, panel_size=30, pool_size=600)
    assert "9 people have more than a 1 in 2 chance" in text
    assert "few volunteers" in text and "quota" in text
    assert "5.0%" in text                     # the equal share, in plain figures
    calm = charts.chance_explanation({"a": 0.2, "b": 0.3}, panel_size=1, pool_size=4)
    assert "more than a 1 in 2" not in calm
