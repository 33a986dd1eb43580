"""Chart -> PNG / SVG / PDF, table -> CSV / Parquet, all offline (vl-convert renders).

CSV cells that begin with = + - @ (or a tab or carriage return) are prefixed with a single
quote so spreadsheet programs show them as text instead of running them as formulas. Each
CSV starts with comment lines (#) giving title, source, data-through date and the
disclosure note; read it with `pandas.read_csv(path, comment="#")`.
"""

from __future__ import annotations

import io

import altair as alt
import pandas as pd
import vl_convert as vlc

from outcomes.charts import ChartText

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _spec(chart: alt.TopLevelMixin | dict) -> dict:
    return chart if isinstance(chart, dict) else chart.to_dict()


def to_png(chart: alt.TopLevelMixin | dict, scale: float = 2.0) -> bytes:
    return vlc.vegalite_to_png(_spec(chart), scale=scale)


def to_svg(chart: alt.TopLevelMixin | dict) -> bytes:
    return vlc.vegalite_to_svg(_spec(chart)).encode("utf-8")


def to_pdf(chart: alt.TopLevelMixin | dict) -> bytes:
    return vlc.vegalite_to_pdf(_spec(chart))


def escape_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def escape_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(escape_cell)
    out.columns = [escape_cell(str(c)) for c in out.columns]
    return out


def to_csv(df: pd.DataFrame, text: ChartText | None = None) -> bytes:
    """The numbers exactly as published: hidden values are empty cells with their flag."""
    buf = io.StringIO()
    if text is not None:
        for line in [text.title, text.subtitle, text.source, text.data_through, *text.extra, text.note]:
            if line:
                buf.write("# " + line.replace("\n", " ") + "\n")
    escape_frame(df).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def to_parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()
