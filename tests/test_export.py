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
