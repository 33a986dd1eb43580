"""Exports: charts render offline to PNG, SVG and PDF with their notes drawn in; CSV cells
that a spreadsheet would run as formulas are escaped."""

import io

import pandas as pd

from outcomes import charts, export
from outcomes.charts import ChartText

TEXT = ChartText(title="Coverage rate", subtitle="Citywide · 2025", source="Source: test",
                 data_through="Data through 2026-10-31", note="hidden = a count hidden by disclosure control.")


def _bars() -> pd.DataFrame:
    return pd.DataFrame({"label": ["District 1", "District 2"], "value": [0.5, None],
                         "ci_low": [0.4, None], "ci_high": [0.6, None],
                         "status": ["ok", "hidden"]})


def test_csv_escapes_formula_cells_and_carries_notes():
    df = pd.DataFrame({"name": ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "plain"],
                       "calls": [1, 2, 3, 4, 5]})
    text = export.to_csv(df, TEXT).decode()
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert any("Data through 2026-10-31" in c for c in comments)
    assert any("hidden = a count hidden" in c for c in comments)
    back = pd.read_csv(io.StringIO(text), comment="#")
    assert list(back["name"]) == ["'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "plain"]
    assert list(back["calls"]) == [1, 2, 3, 4, 5]  # numbers stay numbers


def test_hidden_value_is_an_empty_cell_with_its_flag():
    text = export.to_csv(_bars()[["label", "value", "status"]]).decode()
    assert text.splitlines()[2] == "District 2,,hidden"


def test_png_svg_pdf_render_with_title_source_and_note():
    chart = charts.bars(_bars(), TEXT, "share", "District", "Coverage rate")
    png, svg, pdf = export.to_png(chart), export.to_svg(chart).decode(), export.to_pdf(chart)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert pdf[:5] == b"%PDF-"
    for needle in ("Coverage rate", "Citywide · 2025", "Source: test", "Data through 2026-10-31",
                   "hidden"):
        assert needle in svg, needle
    assert "50.0%" in svg


def test_hidden_bar_is_labelled_not_drawn():
    svg = export.to_svg(charts.bars(_bars(), TEXT, "share", "District", "Coverage rate")).decode()
    assert ">hidden<" in svg  # District 2's label
    assert svg.count("<path") > 3


def _svg_text_positions(svg: str, text: str) -> list[tuple[float, float]]:
    import re
    return [(float(x), float(y)) for x, y in
            re.findall(r'<text[^>]*transform="translate\(([-\d.]+),([-\d.]+)\)"[^>]*>' + re.escape(text) + "</text>", svg)]


def test_trend_end_names_do_not_sit_on_one_another():
    """Two lines that end a fraction of a point apart: their names are moved apart."""
    months = [f"2026-{m:02d}" for m in range(1, 7)]
    df = pd.DataFrame({"period": months * 2,
                       "series_label": ["Citywide"] * 6 + ["Council District 9"] * 6,
                       "value": [0.70, 0.71, 0.70, 0.72, 0.71, 0.712] + [0.60, 0.65, 0.68, 0.70, 0.71, 0.709],
                       "status": ["ok"] * 12, "ci_low": [None] * 12, "ci_high": [None] * 12})
    svg = export.to_svg(charts.trend(df, TEXT, "share", "Coverage rate")).decode()
    (_, y_city), = _svg_text_positions(svg, "Citywide")
    (_, y_district), = _svg_text_positions(svg, "Council District 9")
    assert abs(y_city - y_district) >= 11, (y_city, y_district)


def test_hidden_districts_are_hatched_inside_their_outline():
    """A hidden district carries diagonal lines (a pattern, not grey alone), all inside it;
    a shown district and one with no calls carry none."""
    import shapely
    from shapely.geometry import shape

    def square(x0: float, status: str) -> dict:
        ring = [[x0, 34.0], [x0, 34.1], [x0 + 0.1, 34.1], [x0 + 0.1, 34.0], [x0, 34.0]]
        return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"district": str(int(x0 * 10) % 10), "status": status}}

    features = [square(-118.5, "hidden"), square(-118.3, "ok"), square(-118.1, "none"), square(-117.9, "few")]
    hatch = charts.hatch_lines(features)
    assert [h["properties"]["district"] for h in hatch] == [features[0]["properties"]["district"],
                                                              features[3]["properties"]["district"]]
    for h, f in zip(hatch, (features[0], features[3])):
        lines, area = shape(h["geometry"]), shape(f["geometry"])
        assert len(shapely.get_parts(lines)) >= 10  # a texture, not a stroke or two
        assert area.buffer(1e-6).contains(lines)


def test_chart_csv_gives_each_value_as_drawn_beside_the_exact_one():
    from outcomes.ui import csv_frame
    from outcomes.view import View
    v = View(period_type="year", period="2025", district="all", call_type_group="all",
             responder_type="civilian_team", metric="coverage_rate", lang="es")
    frame = pd.DataFrame({"district": ["1", "2", "3"], "value": [0.71234, None, None],
                          "status": ["ok", "hidden", "few"]})
    out = csv_frame(frame, v, {"value": "share"})
    assert list(out["value_as_drawn"]) == ["71.2%", "oculto", "n<20"]
    assert out.columns.get_loc("value_as_drawn") == out.columns.get_loc("value") + 1
    assert out["value"].iloc[0] == 0.71234  # the exact value stays


def test_sparkline_marks_hidden_periods_and_lone_values():
    """A gap is drawn as a gap (a grey mark per hidden period), a value alone between gaps as
    a larger dot; the SVG is labelled for a screen reader."""
    svg = charts.sparkline_svg([0.5, 0.6, None, 0.55, None, None, 0.7, 0.72], "Coverage: 50%, 60%, …")
    assert svg.count('stroke="#8a8a8a"') == 3
    assert svg.count('r="2.8"') == 1 and svg.count('r="1.8"') == 4
    assert svg.count("<polyline") == 2
    assert 'aria-label="Coverage: 50%, 60%, …"' in svg


def _seen_with(hex_colour: str, deficiency: str) -> tuple[float, float, float]:
    """CIELAB of a colour as seen with a colour vision deficiency (Machado, Oliveira and
    Fernandes 2009, severity 1.0, applied in linear RGB)."""
    matrices = {
        "none": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
        "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                       (-0.003882, -0.048116, 1.051998)),
        "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                         (-0.011820, 0.042940, 0.968881)),
        "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602),
                       (0.004733, 0.691367, 0.303900)),
    }

    def linear(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    rgb = [linear(int(hex_colour[i:i + 2], 16)) for i in (1, 3, 5)]
    r, g, b = [min(1.0, max(0.0, sum(m * v for m, v in zip(row, rgb)))) for row in matrices[deficiency]]
    x, y, z = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, \
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def test_responder_colours_are_told_apart_with_colour_blindness():
    import itertools
    import math
    drawn_together = ["civilian_team", "co_response", "police", "fire_ems"]
    for a, b in itertools.combinations(drawn_together, 2):
        for deficiency in ("none", "protanopia", "deuteranopia", "tritanopia"):
            difference = math.dist(_seen_with(charts.COLORS[a], deficiency), _seen_with(charts.COLORS[b], deficiency))
            assert difference >= 10, (a, b, deficiency, round(difference, 1))


def test_grouped_bars_leave_room_for_the_bars_under_the_legend():
    """The page fits a grouped bar chart, legend and axis included, into its height: the
    height leaves every bar its 16 px after the legend's lines (a chart of 3 rows x 2 series
    once drew its bars in about 10 px)."""
    import pandas as pd

    from outcomes.charts import ChartText, grouped_bars
    d = pd.DataFrame({"label": ["a", "a", "b", "b", "c", "c"],
                      "series": ["civilian_team", "police"] * 3,
                      "series_label": ["Civilian", "Police"] * 3,
                      "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "status": ["ok"] * 6})
    text = ChartText(title="t", subtitle="", source="s", data_through="d", note="n", extra=[], lang="en")
    spec = grouped_bars(d, text, "per_1000", None, "v", "Responder").to_dict()
    height = spec["vconcat"][0]["height"]
    legend_lines = 1 + 2  # its title and one line per series
    assert height - 16 * legend_lines - 40 >= 16 * len(d)
