"""Chart colours: every mark reaches 3:1 contrast with the white page (WCAG 2.1, 1.4.11 non-text contrast),
and the colours shown together stay apart for people with colour blindness.

The charts are built from the demo assembly a few weeks after the draw ("Skip ahead"), the way the pages
build them, and checked through their Vega-Lite specs (what the browser draws): every colour of every mark
and of every colour scale. Colour blindness is simulated with Machado, Oliveira and Fernandes (2009), full
severity, for protanopia, deuteranopia and tritanopia; two colours count as apart when their CIELAB
distance is at least 15 in normal vision and in each simulation (Okabe and Ito's palette, the usual
colour-blind-safe choice, is 16 at its closest).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lib.reporting import charts
from lib.evaluation import report as evaluation_report

WHITE = "#FFFFFF"
MIN_CONTRAST = 3.0
MIN_DISTANCE = 15.0

# Machado et al. (2009), severity 1.0, applied to linear RGB.
CVD = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
NAMED = {"black": "#000000", "white": "#FFFFFF"}


def _rgb(colour: str) -> np.ndarray:
    c = NAMED.get(colour.lower(), colour).lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    assert len(c) == 6, f"not a colour this test understands: {colour!r}"
    return np.array([int(c[i:i + 2], 16) / 255 for i in (0, 2, 4)])


def _linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _srgb(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0, 1)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)


def luminance(rgb: np.ndarray) -> float:
    return float(np.dot([0.2126, 0.7152, 0.0722], _linear(rgb)))


def contrast(a: np.ndarray, b: np.ndarray) -> float:
    """WCAG 2.1 contrast ratio."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def on_white(colour: str, opacity: float = 1.0) -> np.ndarray:
    """The colour as seen over the white page at this opacity."""
    return opacity * _rgb(colour) + (1 - opacity) * 1.0


def lab(rgb: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ _linear(rgb)
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def closest_pair(colours: list[np.ndarray]) -> tuple[float, str]:
    """The smallest CIELAB distance between two of the colours, in normal vision and each simulation."""
    worst = (float("inf"), "")
    views = {"normal vision": None, **CVD}
    for (i, a), (j, b) in itertools.combinations(enumerate(colours), 2):
        for view, m in views.items():
            sa, sb = (a, b) if m is None else (_srgb(m @ _linear(a)), _srgb(m @ _linear(b)))
            d = float(np.linalg.norm(lab(sa) - lab(sb)))
            if d < worst[0]:
                worst = (d, f"colours {i} and {j} in {view}")
    return worst


def test_the_contrast_and_simulation_helpers_match_published_values():
    assert contrast(_rgb("#000000"), _rgb(WHITE)) == pytest.approx(21.0)
    assert contrast(_rgb("#767676"), _rgb(WHITE)) == pytest.approx(4.54, abs=0.01)   # the classic AA grey
    # the figures for Okabe-Ito's orange, sky blue and yellow
    assert [round(contrast(_rgb(c), _rgb(WHITE)), 2) for c in ("#E69F00", "#56B4E9", "#F0E442")] == [2.25, 2.31, 1.32]
    # red and green, told apart in normal vision, nearly merge for a deuteranope
    red, green = _rgb("#D00000"), _rgb("#808000")
    assert np.linalg.norm(lab(red) - lab(green)) > 40
    assert closest_pair([red, green])[0] < 15


# ---- the charts, as the pages build them from the demo ----

@pytest.fixture(scope="module")
def demo_after_draw(tmp_path_factory):
    from lib.store.db import open_database
    from lib.demo.load import load_demo
    from lib.demo.story import fast_forward

    db = open_database(tmp_path_factory.mktemp("charts") / "demo.duckdb")
    load_demo(db)
    fast_forward(db, time_limit=5)
    yield db
    db.close()


def demo_charts(db) -> dict[str, dict]:
    """Every chart the app draws, from the demo after the draw, as Vega-Lite specs."""
    from lib import evaluation as ev
    from lib.reporting.transparency import gather

    data = gather(db)
    specs = {}
    for field in data.fields:
        comp = data.comp[data.comp["field"] == field.key]
        if not comp.empty:
            specs[f"field chart: {field.label}"] = charts.field_chart(comp, field.label).to_dict()
    specs["distance from the community"] = charts.tvd_chart(data.tvd).to_dict()
    specs["chance chart"] = charts.chance_chart(data.curve, equal_share=data.equal_share).to_dict()
    for wave in ev.waves(db):
        div = ev.diverging_frame(ev.results_in(db, wave.wave_id, "en"))
        if not div.empty:
            specs[f"survey results: {wave.label}"] = evaluation_report.likert_chart(div, title=wave.label).to_dict()
    return specs


def _marks(spec: dict):
    """(mark properties, colour scale ranges) for every mark in a (layered) spec."""
    for layer in spec.get("layer", [spec]):
        if "layer" in layer:
            yield from _marks(layer)
            continue
        mark = layer.get("mark", {})
        mark = {"type": mark} if isinstance(mark, str) else mark
        ranges = []
        for channel in ("color", "fill", "stroke"):
            scale = layer.get("encoding", {}).get(channel, {}).get("scale", {})
            if isinstance(scale.get("range"), list):
                ranges.append(scale["range"])
        yield mark, ranges


def test_the_demo_draws_every_kind_of_chart(demo_after_draw):
    names = " | ".join(demo_charts(demo_after_draw))
    for kind in ("field chart", "distance from the community", "chance chart", "survey results"):
        assert kind in names


def test_every_chart_mark_reaches_3_to_1_on_white(demo_after_draw):
    failures = []
    for name, spec in demo_charts(demo_after_draw).items():
        for mark, ranges in _marks(spec):
            opacity = mark.get("opacity", 1.0)
            fill_op = opacity * mark.get("fillOpacity", 1.0)
            stroke_op = opacity * mark.get("strokeOpacity", 1.0)
            lines = mark["type"] in ("line", "rule")          # drawn by their stroke only
            main_op = stroke_op if lines else fill_op
            if ranges:
                for colour in itertools.chain(*ranges):
                    ratio = contrast(on_white(colour, main_op), _rgb(WHITE))
                    if ratio < MIN_CONTRAST:
                        failures.append(f"{name}: {mark['type']} in {colour} reaches {ratio:.2f}:1")
                continue
            # a mark drawn in one colour is seen by its fill or by its outline, whichever stands out more
            seen = {}
            if mark.get("color") or mark.get("fill"):
                colour = mark.get("fill", mark.get("color"))
                seen[f"{colour} at opacity {main_op:g}"] = contrast(on_white(colour, main_op), _rgb(WHITE))
            if mark.get("stroke"):
                seen[f"outline {mark['stroke']}"] = contrast(on_white(mark["stroke"], stroke_op), _rgb(WHITE))
            if seen and max(seen.values()) < MIN_CONTRAST:
                failures.append(f"{name}: {mark['type']}: " + ", ".join(f"{k} reaches {v:.2f}:1"
                                                                          for k, v in seen.items()))
    assert not failures, "chart colours below 3:1 on white:\n" + "\n".join(failures)


def test_the_colours_shown_together_stay_apart_for_colour_blind_readers(demo_after_draw):
    failures = []
    for name, spec in demo_charts(demo_after_draw).items():
        for mark, ranges in _marks(spec):
            for rng in ranges:
                d, where = closest_pair([_rgb(c) for c in rng])
                if d < MIN_DISTANCE:
                    failures.append(f"{name}: {rng}: {where} are only {d:.1f} apart")
    assert not failures, "\n".join(failures)


def test_every_chart_takes_its_colours_from_the_palettes(demo_after_draw):
    allowed = {c.upper() for c in [*charts.CHART_PALETTE.values(), *evaluation_report.LIKERT_COLOURS.values()]}
    for name, spec in demo_charts(demo_after_draw).items():
        for _mark, ranges in _marks(spec):
            for colour in itertools.chain(*ranges):
                assert colour.upper() in allowed, f"{name} uses {colour}, which is in no palette"


def test_the_palettes_themselves():
    """Every colour a chart can take, including stages the demo does not reach (a third session) and the
    survey scale's answers nobody gave, reaches 3:1; all of a palette's colours stay apart."""
    stage_keys = ["population", "signups", "eligible", "selected", "confirmed"] + [f"attending:S{i}" for i in range(6)]
    _domain, stage = charts.stage_colours(stage_keys)
    assert set(stage) <= set(charts.CHART_PALETTE.values())
    likert = list(evaluation_report.LIKERT_COLOURS.values())
    for palette in (stage, likert):
        low = {c: round(contrast(_rgb(c), _rgb(WHITE)), 2) for c in palette if contrast(_rgb(c), _rgb(WHITE)) < 3}
        assert not low, f"below 3:1 on white: {low}"
    assert closest_pair([_rgb(c) for c in dict.fromkeys(stage)])[0] >= MIN_DISTANCE
    assert closest_pair([_rgb(c) for c in likert])[0] >= MIN_DISTANCE
