"""District brief: one council district against the city, month by month, with a one-page
PDF a council office can attach to a motion."""

import pandas as pd
import streamlit as st

from outcomes import charts, export, ui
from outcomes.metrics import HEADLINE, METRICS
from outcomes.view import DISTRICTS

v = ui.view()
st.title(ui.tr("brief.title"))
if v.district == "all":
    st.info(ui.tr("brief.choose"))
    st.selectbox(ui.tr("filters.district"), DISTRICTS, index=None, key="brief_pick",
                 format_func=lambda d: ui.district_label(d, v.lang),
                 on_change=lambda: st.session_state.update(f_district=st.session_state["brief_pick"]))
    st.stop()

name = ui.district_label(v.district, v.lang)
st.header(f"{name} · {ui.period_label(v.period, v.lang)}")
city = v.citywide()
rows = []
for metric in HEADLINE:
    d_row, c_row = ui.one_row(metric, v), ui.one_row(metric, city)
    rows.append({"metric": metric, "label": ui.metric_label(metric, v),
                 "district_text": ui.value_text(metric, d_row), "city_text": ui.value_text(metric, c_row),
                 "detail_text": ui.detail_text(metric, d_row),
                 "district_value": None if d_row is None or d_row["status"] != "ok" else d_row["value"],
                 "city_value": None if c_row is None or c_row["status"] != "ok" else c_row["value"]})
table = pd.DataFrame(rows)
st.dataframe(table[["label", "district_text", "city_text", "detail_text"]].rename(columns={
    "label": ui.tr("brief.measure"), "district_text": name, "city_text": ui.tr("place.city"),
    "detail_text": ui.tr("brief.district_detail")}), hide_index=True)

metric = "coverage_rate"
trend = pd.concat([ui.query("metric_rows", metric, p, by="month").assign(series_label=ui.place_label(p))
                   for p in (v, city)], ignore_index=True)
text = ui.chart_text(ui.tr("brief.pdf_title", name=name),
                     ui.tr("brief.pdf_subtitle", period=ui.period_label(v.period, v.lang)),
                     extra=[ui.tr("brief.definitions_note"), ui.tr("trends.milestones_note"),
                            *charts.milestone_lines(ui.query("milestones"))])
chart = ui.chart("brief", table, trend, text,
                          (ui.tr("brief.measure"), ui.tr("brief.district_col", n=v.district), ui.tr("place.city"),
                           ui.tr("brief.district_detail")),
                          ui.metric_label(metric, v), ui.tr(f"metric.{metric}.short"), METRICS[metric].kind,
                          ui.query("milestones"), ui.tr("months").split(","))
st.vega_lite_chart(spec=chart, theme=None, alt=ui.describe(text.title, [(r.label, f"{r.district_text} vs {r.city_text}")
                                                     for r in table.itertuples()]))
st.download_button(ui.tr("brief.download_pdf"), data=lambda: export.to_pdf(chart),
                   file_name=f"district_{v.district}_brief_{v.period}_{v.lang}.pdf", mime="application/pdf",
                   on_click="ignore", type="primary", icon=":material/picture_as_pdf:", key="brief_pdf")
st.download_button(ui.tr("brief.download_csv"),
                   data=lambda: export.to_csv(table[["metric", "district_value", "city_value", "district_text",
                                                     "city_text", "detail_text"]], text),
                   file_name=f"district_{v.district}_brief_{v.period}.csv", mime="text/csv",
                   on_click="ignore", key="brief_csv")
st.caption(ui.tr("brief.definitions_note"))
