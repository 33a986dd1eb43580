"""Outcomes & use of force: how calls ended per 1,000 responses by responder type, and force
and injuries compared on matched calls, with the caveats in plain words."""

import pandas as pd
import streamlit as st

from outcomes import charts, ui
from outcomes import history as history_ui
from outcomes.i18n import label
from outcomes.metrics import EVENT_ORDER, OUTCOME_ORDER, RESPONDER_TYPES
from outcomes.queries import status

COMPARED = ["civilian_team", "co_response", "police"]
v = ui.view()
st.title(ui.tr("oc.title"))
st.markdown(ui.tr("oc.intro", place=ui.slice_label(v)))


def rates_by_responder(rows: pd.DataFrame, kind: str, order: tuple[str, ...], count: str,
                       denominator: str, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Published per-1,000 rows as bars: one category (`kind`) per group, one bar per
    responder, in a fixed order; `status` says why a bar is missing."""
    d = pd.DataFrame({
        "label": [label(kind, x, v.lang) for x in rows[kind]], kind: rows[kind],
        "series": rows["responder_type"],
        "series_label": [label("responder", r, v.lang) for r in rows["responder_type"]],
        "value": rows["per_1000"], "ci_low": rows["per_1000_ci_low"], "ci_high": rows["per_1000_ci_high"],
        count: rows[count], denominator: rows[denominator], **{c: rows[c] for c in extra},
        "status": [status(*x, has_numerator=True)
                   for x in zip(rows["per_1000"], rows[count], rows[denominator])],
    })
    d = d.assign(o=d[kind].map({x: i for i, x in enumerate(order)}),
                 r=d["series"].map({r: i for i, r in enumerate(RESPONDER_TYPES)}))
    return d.sort_values(["o", "r"]).drop(columns=["o", "r"])


def draw(d: pd.DataFrame, kind: str, title: str, caveat: str, value_title: str, stem: str,
         key: str, count: str, denominator: str, extra: tuple[str, ...] = ()) -> None:
    text = ui.chart_text(title, ui.slice_label(v), extra=[caveat])
    chart = ui.chart("grouped_bars", d, text, "per_1000", None, value_title, ui.tr("rt.responder"))
    frame = d[[kind, "series", count, denominator, "value", "ci_low", "ci_high", *extra, "status"]]
    ui.chart_block(chart, frame.rename(columns={"series": "responder_type", "value": "per_1000"}),
                   text, stem,
                   ui.describe(title, [(f"{r.label}, {r.series_label}",
                                        charts.hidden_label(r.status, ui.tr("oc.value_per_1000", value=f"{r.value:.1f}"), v.lang))
                                       for r in d.itertuples()]), key=key,
                   drawn={"per_1000": "per_1000", "standardized_per_1000": "per_1000"})


oc = ui.query("outcomes_by_responder", v)
oc = oc[oc["outcome"].isin(OUTCOME_ORDER[:5]) & oc["responder_type"].isin(COMPARED)]
if len(oc):
    draw(rates_by_responder(oc, "outcome", OUTCOME_ORDER, "calls", "responses"), "outcome",
         ui.tr("oc.outcomes_title"), ui.tr("oc.outcomes_caveat"), ui.tr("oc.per_1000"),
         f"outcomes_{v.period}", "oc_outcomes", "calls", "responses")
st.caption(ui.tr("oc.outcomes_caveat"))

ev = ui.query("events_by_responder", v)
ev = ev[ev["event"].isin(["citation", "use_of_force", "injury_person", "injury_responder",
                          "referral_accepted"]) & ev["responder_type"].isin(COMPARED)]
if len(ev):
    draw(rates_by_responder(ev, "event", EVENT_ORDER, "events", "recorded"), "event",
         ui.tr("oc.events_title"), ui.tr("oc.events_caveat"), ui.tr("oc.per_1000_recorded"),
         f"events_{v.period}", "oc_events", "events", "recorded")

st.subheader(ui.tr("oc.matched_title"))
st.markdown(ui.tr("oc.matched_explainer"))
fm = ui.query("force_matched", v)
if not len(fm):
    st.info(ui.tr("oc.matched_none"))
for comparison in ("police", "co_response"):
    part = fm[fm["comparison"] == comparison]
    if len(part):
        draw(rates_by_responder(part, "event", EVENT_ORDER, "events", "matched_calls",
                                extra=("standardized_per_1000",)), "event",
             ui.tr("oc.matched_chart", other=label("responder", comparison, v.lang)),
             ui.tr("oc.matched_caveat"), ui.tr("oc.per_1000_matched"),
             f"force_matched_{comparison}_{v.period}", f"oc_matched_{comparison}", "events",
             "matched_calls", extra=("standardized_per_1000",))
st.caption(ui.tr("oc.matched_caveat"))

history_ui.section(v)
