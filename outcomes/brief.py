"""The one-page district brief: a district against the city, as a chart composition that
renders to a single PDF page (vl-convert), so a council office can attach it to a motion."""

from __future__ import annotations

import altair as alt
import pandas as pd

from outcomes import charts
from outcomes.charts import FONT, WIDTH, ChartText


def _table(rows: pd.DataFrame, headers: tuple[str, str, str, str]) -> alt.LayerChart:
    """rows: label, district_text, city_text, detail_text."""
    d = rows.reset_index(drop=True).assign(i=lambda x: x.index + 1)
    head = pd.DataFrame([{"i": 0, "label": headers[0], "district_text": headers[1],
                          "city_text": headers[2], "detail_text": headers[3]}])
    d = pd.concat([head, d], ignore_index=True)
    base = alt.Chart()
    y = alt.Y("i:O", axis=None)
    # (column, x, alignment, widest text in px): values right-aligned in their own columns
    cols = [("label", 0, "left", 320), ("district_text", 400, "right", 75),
            ("city_text", 480, "right", 75), ("detail_text", 495, "left", 265)]
    layers = [base.transform_filter(f"datum.i {op} 0").mark_text(
        align=align, baseline="middle", fontSize=9.5, font=FONT, fontWeight=weight,
        limit=limit).encode(x=alt.value(x), y=y, text=alt.Text(f"{col}:N"))
        for col, x, align, limit in cols for op, weight in (("==", "bold"), (">", "normal"))]
    return alt.layer(*layers, data=d, width=WIDTH + 120, height=17 * len(d))


def brief_chart(rows: pd.DataFrame, trend: pd.DataFrame, text: ChartText, headers: tuple[str, str, str, str],
                trend_title: str, value_title: str, kind: str,
                milestones: pd.DataFrame | None,
                month_names: list[str] | None = None) -> alt.VConcatChart:
    table = _table(rows, headers)
    line = charts.trend(trend, ChartText(trend_title, "", "", "", "", lang=text.lang), kind, value_title, milestones,
                        month_names)
    inner = line.vconcat[0]
    inner.title = alt.TitleParams(trend_title, anchor="start", fontSize=12, font=FONT)
    return charts.finish(alt.VConcatChart(vconcat=[table, inner], spacing=18), text, width=WIDTH + 120)
