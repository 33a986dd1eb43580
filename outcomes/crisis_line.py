"""The crisis line's part on the Overview: calls of the pilot's types that came through the
988 crisis line, and calls resolved by phone with no unit sent, beside the teams' figures
(table crisis_line)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from outcomes import charts, ui
from outcomes.queries import status
from outcomes.view import DISTRICTS, View


def _count(n, flag: str, lang: str) -> str:
    if pd.notna(n):
        return f"{int(n):,}"
    return charts.hidden_label(status(None, None, None, False, flag), "", lang)


def section(v: View) -> None:
    st.subheader(ui.tr("crisis.title"))
    st.caption(ui.tr("crisis.intro"))
    rows = ui.query("crisis_line", v)
    if not len(rows):
        st.info(ui.tr("crisis.not_published"))
        return
    r = rows.iloc[0]
    c1, c2 = st.columns(2)
    with c1.container(border=True):
        st.metric(ui.tr("crisis.calls_988"), _count(r["calls_988"], r["calls_988_flag"], v.lang))
        if pd.notna(r["share_988"]):
            st.caption(ui.tr("crisis.share", share=f"{r['share_988'] * 100:.1f}%",
                             calls=f"{int(r['calls']):,}", low=f"{r['share_988_ci_low'] * 100:.1f}%",
                             high=f"{r['share_988_ci_high'] * 100:.1f}%"))
        st.caption(ui.tr("crisis.calls_988_definition"))
    with c2.container(border=True):
        st.metric(ui.tr("crisis.by_phone"), _count(r["resolved_by_phone"], r["resolved_by_phone_flag"], v.lang))
        st.caption(ui.tr("crisis.by_phone_definition"))

    every = ui.query("crisis_line", v.citywide(), every_district=True)
    every = pd.DataFrame({"district": DISTRICTS}).merge(every, on="district", how="left")
    d = pd.DataFrame({
        "district": every["district"],
        "label": [ui.district_label(x, v.lang) for x in every["district"]],
        "value": every["share_988"],
        "ci_low": every["share_988_ci_low"], "ci_high": every["share_988_ci_high"],
        "status": [status(val, num, den, True, flag) for val, num, den, flag in
                   zip(every["share_988"], every["calls_988"], every["calls"], every["rate_flag"])],
        "calls_988": every["calls_988"], "calls": every["calls"],
    })
    title = ui.tr("crisis.chart_title")
    city = rows if v.district == "all" else ui.query("crisis_line", v.citywide())
    city_text = (f"{city.iloc[0]['share_988'] * 100:.1f}%"
                 if len(city) and pd.notna(city.iloc[0]["share_988"]) else "–")
    text = ui.chart_text(title, ui.tr("crisis.chart_subtitle", period=ui.period_label(v.period, v.lang),
                                      city=city_text))
    chart = ui.chart("bars", d[["label", "value", "ci_low", "ci_high", "status"]], text, "share",
                     ui.tr("filters.district"), ui.tr("crisis.share_axis"),
                     highlight=ui.district_label(v.district, v.lang) if v.district != "all" else None)
    ui.chart_block(chart, d[["district", "calls_988", "calls", "value", "ci_low", "ci_high", "status"]]
                   .rename(columns={"value": "share_988"}), text, f"crisis_line_988_{v.period}",
                   ui.describe(title, [(x.label, charts.hidden_label(x.status, f"{x.value * 100:.1f}%", v.lang))
                                       for x in d.itertuples()]),
                   key="crisis_988", drawn={"share_988": "share", "ci_low": "share", "ci_high": "share"})
