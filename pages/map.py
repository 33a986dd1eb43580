"""Map: a council-district choropleth of any published metric; pick a district to open it."""

import numpy as np
import pandas as pd
import streamlit as st

from outcomes import charts, ui
from outcomes.locate import find_my_district
from outcomes.metrics import METRICS, format_value

v = ui.view()
st.title(ui.tr("map.title"))

metric = ui.metric_picker()
v = ui.view()
m = METRICS[metric]
by_district = ui.query("metric_rows", metric, v, by="district")
city = ui.one_row(metric, v.citywide())
geo = ui.query("districts")

rows = {r["district"]: r for _, r in by_district.iterrows()}
places, frame_rows = [], []
for _, d in geo.iterrows():
    r = rows.get(d["district"])
    status = r["status"] if r is not None else "none"  # no published row: no calls at all
    value = None if r is None or status != "ok" else float(r["value"])
    shown = charts.hidden_label(status, format_value(m, value) if value is not None else "", v.lang)
    places.append({"district": d["district"], "name": ui.district_label(d["district"], v.lang), "value": value,
                   "status": status, "value_text": shown,
                   "label_lon": d["label_lon"], "label_lat": d["label_lat"]})
    frame_rows.append({"district": d["district"], "value": value,
                       "numerator": None if r is None else r["numerator"],
                       "denominator": None if r is None else r["denominator"],
                       "ci_low": None if r is None else r["ci_low"],
                       "ci_high": None if r is None else r["ci_high"], "status": status})

frame = pd.DataFrame(frame_rows)

# Where the pilot serves at the end of the period: its LAPD divisions, outlined.
day = ui.query("period_last_day", v)
serving = ui.query("coverage_on", day) if day else pd.DataFrame(columns=["division"])
served = tuple(serving["division"])
n_divisions = len(ui.query("divisions"))
coverage_properties = {"division": ui.tr("map.pilot_area_n", n=len(served), total=n_divisions),
                       "served_text": ", ".join(served)}

title = ui.metric_label(metric, v)
subtitle = ui.tr("map.subtitle", period=ui.period_label(v.period, v.lang),
                 city=ui.value_text(metric, city))
legend = [ui.tr("map.legend_hidden")]
legend.append(ui.tr("map.coverage_legend", day=day, n=len(served), total=n_divisions,
                    names=", ".join(served))
              if served else ui.tr("map.coverage_none", day=day or "–"))
text = ui.chart_text(title, subtitle, extra=legend)


def _picked() -> None:
    event = st.session_state.get("map_chart")
    picked = (event or {}).get("selection", {}).get("pick") or []
    if picked:
        st.session_state["f_district"] = str(picked[0]["district"])


chart = ui.chart("choropleth", places, text, m.kind, ui.tr(f"metric.{metric}.short"),
                 selected=v.district if v.district != "all" else None, selectable=True,
                 served=served, coverage_properties=coverage_properties,
                 coverage_title=ui.tr("map.pilot_area"))
description = ui.describe(title + " · " + subtitle,
                          [(ui.district_label(p["district"], v.lang), p["value_text"])
                           for p in places])
# the map and the chosen district side by side on a wide screen, one after the other on a phone
left, right = st.columns([3, 2], gap="large")
with left:
    ui.chart_block(chart, frame, text, f"map_{metric}_{v.period}", description, key="map_chart",
                   on_select=_picked, drawn={"value": m.kind})
with right:
    st.caption(ui.tr("map.pick_hint"))
    find_my_district(ui.shared_query("district_geometry"), v.lang)
    if v.district != "all":
        row = ui.one_row(metric, v)
        st.subheader(ui.district_label(v.district, v.lang))
        c1, c2 = st.columns(2)
        c1.metric(ui.district_label(v.district, v.lang), ui.value_text(metric, row))
        c1.caption(ui.detail_text(metric, row))
        c2.metric(ui.tr("place.city"), ui.value_text(metric, city))
        c2.caption(ui.detail_text(metric, city))
        st.page_link("pages/district_brief.py", label=ui.tr("map.open_brief", n=v.district),
                     query_params=v.to_params())

st.subheader(ui.tr("map.pilot_coverage"))
st.caption(ui.tr("map.pilot_coverage_note"))


def hours(start: int, end: int) -> str:
    return ui.tr("map.all_day") if (start, end) == (0, 24) else f"{start:02d}:00–{end:02d}:00"


if day:
    st.markdown(ui.tr("map.by_district_coverage", day=day))
    dc = ui.query("district_coverage", day)
    st.table(pd.DataFrame({
        ui.tr("filters.district"): [ui.district_label(d, v.lang) for d in dc["district"]],
        ui.tr("map.area_served"): [f"{s * 100:.0f}%" for s in dc["served_area_share"]],
        ui.tr("map.served_by"): [
            ", ".join(f"{div} ({hours(a, b)})" for div, a, b in zip(ds, s_, e_))
            if isinstance(ds, (list, tuple, np.ndarray)) and len(ds) else ui.tr("map.not_served")
            for ds, s_, e_ in zip(dc["divisions"], dc["start_hours"], dc["end_hours"])],
    }).set_index(ui.tr("filters.district")))
    st.caption(ui.tr("map.by_district_coverage_note"))
st.markdown(ui.tr("map.coverage_history"))
cov = ui.query("pilot_coverage")
st.dataframe(cov.rename(columns={"division": ui.tr("map.division"), "span_start": ui.tr("map.from"),
                                 "span_end": ui.tr("map.until"), "start_hour": ui.tr("map.start_hour"),
                                 "end_hour": ui.tr("map.end_hour")}), hide_index=True)
