"""Outcomes & use of force: how calls ended per 1,000 responses by responder type, and force
and injuries compared on matched calls, with the caveats in plain words."""

import pandas as pd
import streamlit as st

from outcomes import charts, ui
from outcomes.i18n import label
from outcomes.metrics import EVENT_ORDER, OUTCOME_ORDER, RESPONDER_TYPES
from outcomes.queries import status

v = ui.view()
st.title(ui.tr("oc.title"))
st.markdown(ui.tr("oc.intro", place=ui.slice_label(v)))


def _status(value, count, denominator) -> str:
    return status(value, count, denominator, has_numerator=True)


oc = ui.query("outcomes_by_responder", v)
shown = ["resolved_on_scene", "transported_community", "transported_hospital", "involuntary_hold", "arrest"]
oc = oc[oc["outcome"].isin(shown) & oc["responder_type"].isin(["civilian_team", "co_response", "police"])]
d = pd.DataFrame({
    "label": [label("outcome", o, v.lang) for o in oc["outcome"]],
    "outcome": oc["outcome"],
    "series": oc["responder_type"],
    "series_label": [label("responder", r, v.lang) for r in oc["responder_type"]],
    "value": oc["per_1000"], "ci_low": oc["per_1000_ci_low"], "ci_high": oc["per_1000_ci_high"],
    "calls": oc["calls"], "responses": oc["responses"],
    "status": [_status(*x) for x in zip(oc["per_1000"], oc["calls"], oc["responses"])],
})
d = d.assign(o=d["outcome"].map({o: i for i, o in enumerate(OUTCOME_ORDER)}),
             r=d["series"].map({r: i for i, r in enumerate(RESPONDER_TYPES)})).sort_values(["o", "r"])
title = ui.tr("oc.outcomes_title")
text = ui.chart_text(title, ui.slice_label(v), extra=[ui.tr("oc.outcomes_caveat")])
if len(d):
    chart = ui.chart("grouped_bars", d, text, "per_1000", None, ui.tr("oc.per_1000"), ui.tr("rt.responder"))
    ui.chart_block(chart, d[["outcome", "series", "calls", "responses", "value", "ci_low", "ci_high", "status"]]
                   .rename(columns={"series": "responder_type", "value": "per_1000"}),
                   text, f"outcomes_{v.period}",
                   ui.describe(title, [(f"{r.label}, {r.series_label}",
                                        charts.hidden_label(r.status, f"{r.value:.1f} per 1,000"))
                                       for r in d.itertuples()]), key="oc_outcomes")
st.caption(ui.tr("oc.outcomes_caveat"))

ev = ui.query("events_by_responder", v)
ev = ev[ev["event"].isin(["citation", "use_of_force", "injury_person", "injury_responder", "referral_accepted"])
        & ev["responder_type"].isin(["civilian_team", "co_response", "police"])]
e = pd.DataFrame({
    "label": [label("event", x, v.lang) for x in ev["event"]], "event": ev["event"],
    "series": ev["responder_type"],
    "series_label": [label("responder", r, v.lang) for r in ev["responder_type"]],
    "value": ev["per_1000"], "ci_low": ev["per_1000_ci_low"], "ci_high": ev["per_1000_ci_high"],
    "events": ev["events"], "recorded": ev["recorded"],
    "status": [_status(*x) for x in zip(ev["per_1000"], ev["events"], ev["recorded"])],
})
e = e.assign(o=e["event"].map({x: i for i, x in enumerate(EVENT_ORDER)}),
             r=e["series"].map({r: i for i, r in enumerate(RESPONDER_TYPES)})).sort_values(["o", "r"])
title_e = ui.tr("oc.events_title")
text_e = ui.chart_text(title_e, ui.slice_label(v), extra=[ui.tr("oc.events_caveat")])
if len(e):
    chart_e = ui.chart("grouped_bars", e, text_e, "per_1000", None, ui.tr("oc.per_1000_recorded"),
                                  ui.tr("rt.responder"))
    ui.chart_block(chart_e, e[["event", "series", "events", "recorded", "value", "ci_low", "ci_high", "status"]]
                   .rename(columns={"series": "responder_type", "value": "per_1000"}),
                   text_e, f"events_{v.period}",
                   ui.describe(title_e, [(f"{r.label}, {r.series_label}",
                                          charts.hidden_label(r.status, f"{r.value:.1f} per 1,000"))
                                         for r in e.itertuples()]), key="oc_events")

st.subheader(ui.tr("oc.matched_title"))
st.markdown(ui.tr("oc.matched_explainer"))
fm = ui.query("force_matched", v)
if not len(fm):
    st.info(ui.tr("oc.matched_none"))
for comparison in ("police", "co_response"):
    part = fm[fm["comparison"] == comparison]
    if not len(part):
        continue
    f = pd.DataFrame({
        "label": [label("event", x, v.lang) for x in part["event"]], "event": part["event"],
        "series": part["responder_type"],
        "series_label": [label("responder", r, v.lang) for r in part["responder_type"]],
        "value": part["per_1000"], "ci_low": part["per_1000_ci_low"], "ci_high": part["per_1000_ci_high"],
        "events": part["events"], "matched_calls": part["matched_calls"],
        "standardized_per_1000": part["standardized_per_1000"],
        "status": [_status(*x) for x in zip(part["per_1000"], part["events"], part["matched_calls"])],
    })
    title_f = ui.tr("oc.matched_chart", other=label("responder", comparison, v.lang))
    text_f = ui.chart_text(title_f, ui.slice_label(v), extra=[ui.tr("oc.matched_caveat")])
    chart_f = ui.chart("grouped_bars", f, text_f, "per_1000", None, ui.tr("oc.per_1000_matched"),
                                  ui.tr("rt.responder"))
    ui.chart_block(chart_f, f[["event", "series", "events", "matched_calls", "value", "ci_low", "ci_high",
                               "standardized_per_1000", "status"]]
                   .rename(columns={"series": "responder_type", "value": "per_1000"}),
                   text_f, f"force_matched_{comparison}_{v.period}",
                   ui.describe(title_f, [(f"{r.label}, {r.series_label}",
                                          charts.hidden_label(r.status, f"{r.value:.1f} per 1,000"))
                                         for r in f.itertuples()]), key=f"oc_matched_{comparison}")
st.caption(ui.tr("oc.matched_caveat"))
