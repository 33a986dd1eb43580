"""The history behind the pilot on the Outcomes page: people shot by police in Los Angeles
County, 2010-2014, by year (table officer_involved_shootings; etl/shootings.py), with its
source, what it covers and what it cannot say."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from outcomes import charts, ui
from outcomes.view import View

MEASURES = ("people_shot", "killed", "armed", "signs_of_mental_illness")
ALL_YEARS = "2010-2014"


def _count(df: pd.DataFrame, measure: str, period: str = ALL_YEARS) -> str | None:
    r = df[(df["measure"] == measure) & (df["period"] == period)]
    if not len(r) or pd.isna(r["people"].iloc[0]):
        return None
    return f"{int(r['people'].iloc[0]):,}"


def summary(df: pd.DataFrame) -> str:
    """One sentence from the shown five-year figures (a hidden one is left out)."""
    shot = _count(df, "people_shot")
    if shot is None:
        return ""
    parts = [ui.tr(f"hist.summary_{m}", n=n) for m in MEASURES[1:]
             if (n := _count(df, m)) is not None]
    return ui.tr("hist.summary", n=shot, parts=", ".join(parts))


def section(v: View) -> None:
    st.subheader(ui.tr("hist.title"))
    df = ui.query("published_table", "officer_involved_shootings") \
        if "officer_involved_shootings" in set(ui.query("catalog")["table_name"]) else pd.DataFrame()
    if not len(df):
        st.info(ui.tr("hist.none"))
        return
    sentence = summary(df)
    if sentence:
        st.markdown(f"**{sentence}**")
    st.markdown(ui.tr("hist.why"))
    years = df[df["period"] != ALL_YEARS]
    d = pd.DataFrame({
        "label": years["period"].to_numpy(),
        "series": years["measure"].to_numpy(),
        "series_label": [ui.tr(f"hist.measure.{m}") for m in years["measure"]],
        "value": years["people"].astype(float).to_numpy(),
        "status": ["ok" if pd.notna(n) else "hidden" for n in years["people"]],
    })
    order = {m: i for i, m in enumerate(MEASURES)}
    d = d.assign(_o=d["series"].map(order)).sort_values(["label", "_o"]).drop(columns="_o")
    title = ui.tr("hist.chart_title")
    text = ui.chart_text(title, ui.tr("hist.subtitle"), extra=[ui.tr("hist.covers")],
                         source=ui.tr("hist.source"), data_through="2014-12-31")
    chart = ui.chart("grouped_bars", d, text, "count", ui.tr("hist.year"), ui.tr("hist.people"),
                     ui.tr("hist.measure_title"))
    ui.chart_block(chart, d[["label", "series", "value", "status"]].rename(
        columns={"label": "year", "series": "measure", "value": "people"}), text,
        "officer_involved_shootings_2010_2014",
        ui.describe(title, [(f"{r.label}, {r.series_label}",
                             charts.hidden_label(r.status, f"{r.value:,.0f}", v.lang))
                            for r in d.itertuples()]), key="history_shootings",
        drawn={"people": "count"})
    st.caption(ui.tr("hist.cannot_say"))
