"""Police baseline: how many crisis-type calls LAPD still takes in each district, beside the
calls the civilian teams answer, and where the pilot does not reach yet."""

import pandas as pd
import streamlit as st

from outcomes import charts, ui
from outcomes.i18n import label


def count(value) -> str:
    return "" if pd.isna(value) else f"{value:,.0f}"


v = ui.view()
st.title(ui.tr("bl.title"))
st.markdown(ui.tr("bl.intro"))

span = ui.query("baseline_months")
if span is None:
    st.info(ui.tr("bl.none_loaded"))
    st.stop()
period = ui.period_label(v.period, v.lang)
first, last = (ui.period_label(span[k], v.lang) for k in ("first_month", "last_month"))

# --- by council district, beside the civilian teams ----------------------------------------
by_district = ui.query("baseline_by_district", v)
pilot_here = ui.query("pilot_has_period", v)
if not by_district["has_estimate"].any():
    st.info(ui.tr("bl.no_period", period=period, first=first, last=last))
else:
    rows = []
    for r in by_district.itertuples():
        place = ui.district_label(r.district, v.lang)
        est_hidden = pd.isna(r.calls_estimate) and bool(r.has_estimate)
        rows.append({"label": place, "district": r.district, "series": "lapd_estimate",
                     "series_label": ui.tr("bl.series_lapd"),
                     "value": None if est_hidden else (r.calls_estimate if r.has_estimate else 0),
                     "status": "hidden" if est_hidden else "ok",
                     "estimate": True})
        # no published row for the civilian teams there: they answered no calls (if the
        # pilot's records reach this period at all)
        civ_hidden = pd.isna(r.civilian_calls) and bool(r.civilian_flag)
        rows.append({"label": place, "district": r.district, "series": "civilian_team",
                     "series_label": ui.tr("bl.series_civilian"),
                     "value": None if civ_hidden or not pilot_here else
                     (0 if pd.isna(r.civilian_calls) else r.civilian_calls),
                     "status": ("none" if not pilot_here else
                                "hidden" if civ_hidden else "ok"), "estimate": False})
    d = pd.DataFrame(rows)
    d["value"] = pd.to_numeric(d["value"])
    title = ui.tr("bl.district_title")
    text = ui.chart_text(title, ui.tr("bl.district_subtitle", period=period),
                         extra=[ui.tr("bl.estimate_note"), ui.tr("bl.compare_note")],
                         source=ui.tr("bl.source_both"))
    chart = ui.chart("grouped_bars", d, text, "count", None, ui.tr("bl.calls"), ui.tr("bl.series"),
                     highlight=ui.district_label(v.district, v.lang) if v.district != "all" else None)
    frame = d[["district", "series", "value", "estimate", "status"]].rename(
        columns={"value": "calls"})
    ui.chart_block(chart, frame, text, f"police_baseline_districts_{v.period}",
                   ui.describe(title, [(f"{r.label}, {r.series_label}",
                                        charts.hidden_label(r.status, count(r.value), v.lang))
                                       for r in d.itertuples()]), key="bl_districts",
                   drawn={"calls": "count"})
    st.caption(ui.tr("bl.estimate_note"))
    if not pilot_here:
        st.caption(ui.tr("bl.no_pilot_period", period=period))
    if v.call_type_group != "all":
        st.caption(ui.tr("bl.group_note", group=label("group", v.call_type_group, v.lang)))

# --- by LAPD division, with where the pilot serves -------------------------------------------
by_division = ui.query("baseline_by_division", v)
day = ui.query("period_last_day", v)
served = set(ui.query("coverage_on", day)["division"]) if day else set()
divisions = by_division[~by_division["division"].isin(["all", "unknown", "outside_lapd_areas"])]
if len(divisions):  # none: the baseline has no data for this period (said above)
    group = (label("group", v.call_type_group, v.lang) if v.call_type_group != "all"
             else ui.tr("bl.pilot_types"))
    d = pd.DataFrame({
        "division": divisions["division"],
        "label": [f"{x} · " + (ui.tr("bl.served") if x in served else ui.tr("bl.not_served"))
                  for x in divisions["division"]],
        "value": divisions["calls"],
        "status": ["hidden" if f else "ok" for f in divisions["calls_flag"]],
        "coverage": ["served" if x in served else "not_served" for x in divisions["division"]],
    })
    d = d.assign(o=d["coverage"].eq("served")).sort_values(["o", "division"]).drop(columns="o")
    title = ui.tr("bl.division_title", group=group)
    text = ui.chart_text(title, ui.tr("bl.division_subtitle", period=period, day=day or "–"),
                         extra=[ui.tr("bl.division_note")], source=ui.tr("bl.source_lapd"))
    chart = ui.chart("bars", d, text, "count", None, ui.tr("bl.calls"), color_by="coverage")
    ui.chart_block(chart, d.drop(columns=["label"]).rename(columns={"value": "calls"}), text,
                   f"police_baseline_divisions_{v.period}",
                   ui.describe(title, [(r.label, charts.hidden_label(r.status, count(r.value), v.lang))
                                       for r in d.itertuples()]), key="bl_divisions",
                   drawn={"calls": "count"})
    not_served = [x for x in d["division"] if x not in served]
    st.markdown(ui.tr("bl.not_reached", day=day or "–", n=len(not_served),
                      names=", ".join(not_served) if not_served else "–"))
