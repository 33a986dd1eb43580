"""Response times: medians and 90th percentiles by responder type and by district, with the
intervals left out (missing, negative, over 24 hours) counted, not hidden."""

import pandas as pd
import streamlit as st

from outcomes import charts, ui
from outcomes.i18n import label
from outcomes.metrics import RESPONDER_TYPES
from outcomes.view import DISTRICTS

QUARTILES = ["p25_minutes", "median_minutes", "p75_minutes", "p90_minutes"]


def _spread(r) -> str:
    if r.status != "ok":
        return charts.hidden_label(r.status, "", v.lang)
    return ui.tr("rt.spread", p25=f"{r.p25_minutes:.1f}", median=f"{r.median_minutes:.1f}",
                 p75=f"{r.p75_minutes:.1f}", p90=f"{r.p90_minutes:.1f}")

v = ui.view()
st.title(ui.tr("rt.title"))
st.markdown(ui.tr("rt.intro", place=ui.slice_label(v)))
interval = st.segmented_control(ui.tr("rt.interval"), ["dispatch_to_scene", "received_to_scene"],
                                key="rt_interval", required=True, default="dispatch_to_scene",
                                format_func=lambda i: label("interval", i, v.lang))
interval = interval or "dispatch_to_scene"
st.caption(ui.tr(f"rt.{interval}_definition"))

rt = ui.query("response_times", v)
rt = rt[rt["interval"] == interval]
rows = []
for responder in RESPONDER_TYPES:
    r = rt[rt["responder_type"] == responder]
    if not len(r):
        continue
    r = r.iloc[0]
    # a median is printed wherever enough valid times lie behind it, whatever is hidden
    # among the counts beside it: a missing one means too few
    status = "ok" if pd.notna(r["median_minutes"]) else "few"
    rows.append({"label": label("responder", responder, v.lang), "responder_type": responder,
                 **{c: r[c] for c in QUARTILES}, "status": status,
                 "valid_intervals": r["valid_intervals"]})
by_responder = pd.DataFrame(rows)
title = ui.tr("rt.by_responder_title", interval=label("interval", interval, v.lang))
text = ui.chart_text(title, ui.slice_label(v), extra=[ui.tr("rt.box_legend")])
if len(by_responder):
    chart = ui.chart("distribution", by_responder, text, ui.tr("rt.responder"), ui.tr("rt.minutes"),
                                ui.tr("rt.box_label"))
    frame = by_responder[["responder_type", *QUARTILES, "valid_intervals", "status"]]
    ui.chart_block(chart, frame, text, f"response_times_{interval}_{v.period}",
                   ui.describe(title, [(r.label, _spread(r)) for r in by_responder.itertuples()]),
                   key="rt_responder", drawn={q: "minutes" for q in QUARTILES})
else:
    st.info(ui.tr("value.not_published"))

st.subheader(ui.tr("rt.invalid_title"))
st.caption(ui.tr("rt.invalid_note"))
invalid = rt[["responder_type", "valid_intervals", "missing_intervals", "negative_intervals",
              "over_24h_intervals"]].copy()
invalid["responder_type"] = [label("responder", r, v.lang) for r in invalid["responder_type"]]
for col in ("valid_intervals", "missing_intervals", "negative_intervals", "over_24h_intervals"):
    invalid[col] = [ui.count_text(n) for n in invalid[col]]
st.dataframe(invalid.rename(columns={c: ui.tr(f"rt.col.{c}") for c in invalid.columns}), hide_index=True)

st.subheader(ui.tr("rt.by_district_title", responder=label("responder", v.responder_type, v.lang)))
every = ui.query("response_times", v.citywide(), every_district=True)
every = every[(every["interval"] == interval) & (every["responder_type"] == v.responder_type)]
# a district with no published row had no such responses: shown as "–", not left out
every = pd.DataFrame({"district": DISTRICTS}).merge(every, on="district", how="left")
city = rt[rt["responder_type"] == v.responder_type]
city_text = (f"{city.iloc[0]['median_minutes']:.1f} min"
             if len(city) and pd.notna(city.iloc[0]["median_minutes"]) else "n/a")
d = pd.DataFrame({
    "district": every["district"],
    "label": [ui.district_label(x, v.lang) for x in every["district"]],
    "value": every["median_minutes"],
    "status": ["ok" if pd.notna(m) else ("none" if pd.isna(rt_) or n == 0 else "few")
               for m, n, rt_ in zip(every["median_minutes"], every["valid_intervals"], every["interval"])],
    "valid_intervals": every["valid_intervals"],
})
d = d.assign(order=d["district"].astype(int)).sort_values("order").drop(columns="order")
if len(d):
    title_d = ui.tr("rt.by_district_chart", responder=label("responder", v.responder_type, v.lang),
                    interval=label("interval", interval, v.lang))
    text_d = ui.chart_text(title_d, ui.tr("rt.city_median", period=ui.period_label(v.period, v.lang),
                                          value=city_text))
    chart_d = ui.chart("bars", d, text_d, "minutes", ui.tr("filters.district"), ui.tr("rt.median_minutes"),
                       highlight=ui.district_label(v.district, v.lang) if v.district != "all" else None)
    ui.chart_block(chart_d, d[["district", "value", "status", "valid_intervals"]].rename(
        columns={"value": "median_minutes"}), text_d, f"response_times_by_district_{interval}_{v.period}",
        ui.describe(title_d, [(r.label, charts.hidden_label(r.status, f"{r.value:.1f} min", v.lang))
                              for r in d.itertuples()]), key="rt_district",
        drawn={"median_minutes": "minutes"})
else:
    st.info(ui.tr("value.not_published"))
st.subheader(ui.tr("rt.hour_band_title"))
st.caption(ui.tr("rt.hour_band_note"))
bands = ui.query("hour_band_times", v, interval)
if v.period_type in ("year", "fiscal_year", "pilot_to_date"):
    want = [r for r in RESPONDER_TYPES if r != "phone"]
    grid = pd.MultiIndex.from_product([["00-06", "06-12", "12-18", "18-24"], want],
                                      names=["hour_band", "responder_type"]).to_frame(index=False)
    b = grid.merge(bands, on=["hour_band", "responder_type"], how="left")
    b = b[b["responder_type"].isin(bands["responder_type"]) | b["median_minutes"].notna()]
    hb = pd.DataFrame({
        "label": b["hour_band"].str.replace("-", "–") + " h", "hour_band": b["hour_band"],
        "series": b["responder_type"],
        "series_label": [label("responder", r, v.lang) for r in b["responder_type"]],
        "value": b["median_minutes"], "p90_minutes": b["p90_minutes"],
        "status": ["ok" if pd.notna(m) else "few" for m in b["median_minutes"]],
    })
    if len(hb):
        title_h = ui.tr("rt.hour_band_chart", interval=label("interval", interval, v.lang))
        text_h = ui.chart_text(title_h, f"{ui.tr('place.city')} · {ui.period_label(v.period, v.lang)}",
                               extra=[ui.tr("rt.hour_band_hidden")])
        chart_h = ui.chart("grouped_bars", hb, text_h, "minutes", ui.tr("rt.hour_band_axis"),
                                      ui.tr("rt.median_minutes"), ui.tr("rt.responder"))
        ui.chart_block(chart_h, hb[["hour_band", "series", "value", "p90_minutes", "status"]].rename(
            columns={"series": "responder_type", "value": "median_minutes"}), text_h,
            f"response_times_by_hour_band_{interval}_{v.period}",
            ui.describe(title_h, [(f"{r.label}, {r.series_label}",
                                   charts.hidden_label(r.status, f"{r.value:.1f} min", v.lang))
                                  for r in hb.itertuples()]), key="rt_hour_band",
            drawn={"median_minutes": "minutes", "p90_minutes": "minutes"})
    else:
        st.info(ui.tr("value.not_published"))
else:
    st.info(ui.tr("rt.hour_band_periods"))
