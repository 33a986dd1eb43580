"""Trends: monthly series of any metric with the pilot's milestones, the district against
the city when one is chosen, and when calls come in (citywide)."""

import pandas as pd
import streamlit as st

from outcomes import charts, ui
from outcomes.i18n import label
from outcomes.metrics import METRICS

v = ui.view()
st.title(ui.tr("trends.title"))
metric = ui.metric_picker()
v = ui.view()
m = METRICS[metric]

series = []
places = [v] if v.district == "all" else [v, v.citywide()]
for place in places:
    rows = ui.query("metric_rows", metric, place, by="month")
    rows = rows.assign(series_label=ui.place_label(place), place=place.district)
    series.append(rows)
d = pd.concat(series, ignore_index=True)
st.caption(ui.tr("trends.every_month"))
if v.district != "all" and not (d[d["place"] == v.district]["status"] == "ok").any():
    st.info(ui.tr("value.hidden_months", place=ui.place_label(v)))
title = ui.metric_label(metric, v)
milestones = ui.query("milestones", v.lang)
text = ui.chart_text(title, ui.tr("trends.subtitle", place=ui.place_label(v)),
                     extra=[ui.tr("trends.milestones_note"), *charts.milestone_lines(milestones)])
if len(d):
    chart = ui.chart("trend", d, text, m.kind, ui.tr(f"metric.{metric}.short"), milestones,
                         ui.tr("months").split(","))
    frame = d[["place", "period", "value", "ci_low", "ci_high", "numerator", "denominator", "status"]]
    ui.chart_block(chart, frame, text, f"trend_{metric}_{v.district}",
                   ui.describe(title, [(f"{r.series_label} {r.period}",
                                        ui.value_text(metric, pd.Series(r._asdict())))
                                       for r in d.itertuples()]), key="trend_chart",
                   drawn={"value": m.kind})
else:
    st.info(ui.tr("value.not_published"))
st.caption(ui.tr(f"metric.{metric}.definition"))

st.subheader(ui.tr("trends.milestones"))
st.dataframe(ui.query("milestones", v.lang).rename(columns={"date": ui.tr("trends.date"),
                                                   "label": ui.tr("trends.milestone")}), hide_index=True)

st.subheader(ui.tr("trends.hours_title"))
st.caption(ui.tr("trends.hours_note"))
hours = ui.query("calls_by_hour", v)
hours = hours[(hours["hour_of_day"] != "all") & (hours["weekday"] != "all")]
if len(hours):
    weekdays = {w: ui.tr(f"weekday.{w}") for w in charts.WEEKDAYS}
    title_h = ui.tr("trends.hours_chart", responder=label("responder", v.responder_type, v.lang).lower())
    text_h = ui.chart_text(title_h, f"{ui.tr('place.city')} · {ui.period_label('pilot_to_date', v.lang)}",
                           extra=[ui.tr("trends.hours_hidden")])
    chart_h = ui.chart("heatmap", hours, text_h, weekdays, ui.tr("trends.hour"), ui.tr("overview.calls"))
    ui.chart_block(chart_h, hours, text_h, f"calls_by_hour_{v.responder_type}_{v.period}",
                   ui.describe(title_h, [(f"{weekdays.get(r.weekday, r.weekday)} {r.hour_of_day}:00",
                                          ui.count_text(r.calls) if not pd.isna(r.calls)
                                          else ui.tr("value.mark_hidden"))
                                         for r in hours.itertuples()]),
                   key="hours_chart")
else:
    st.info(ui.tr("value.not_published"))
