"""Overview: the headline numbers of SPEC section 4, each with its trend, numerator and
denominator, 95% interval and one-line definition."""

import streamlit as st

from outcomes import charts, ui
from outcomes import crisis_line as crisis_ui
from outcomes import funnel as funnel_ui
from outcomes.metrics import HEADLINE

v = ui.view()
st.title(ui.tr("overview.title"))
summary = ui.summary_sentence(v)
if summary:
    st.markdown(f"**{summary}**")
st.markdown(ui.tr("overview.intro", place=ui.slice_label(v)))
if v.district != "all" and v.call_type_group != "all":
    st.info(ui.tr("filters.group_ignored"))

# a row of three cards at a time: on a phone the columns stack, and the cards must then
# follow one another in the headline's order (a median before its 90th percentile)
for i, metric in enumerate(HEADLINE):
    if i % 3 == 0:
        columns = st.columns(3)
    row = ui.one_row(metric)
    months = ui.query("metric_rows", metric, v, by="month")
    trend_note = ui.tr("overview.trend_month")
    shown = (months["status"] == "ok").mean() if len(months) else 0
    if shown < 0.8:  # a line of mostly gaps says nothing: quarters, if they show more
        quarters = ui.query("metric_rows", metric, v, by="quarter")
        if len(quarters) and (quarters["status"] == "ok").mean() > shown:
            months, trend_note = quarters, ui.tr("overview.trend_quarter")
    complete = bool(len(months)) and bool((months["status"] == "ok").all())  # no gaps
    points = int((months["status"] == "ok").sum())
    with columns[i % 3].container(border=True):
        st.metric(ui.metric_label(metric), ui.value_text(metric, row),
                  help=ui.tr(f"metric.{metric}.definition"))
        values = [None if s != "ok" else float(x) for x, s in zip(months["value"], months["status"])]
        spark = charts.sparkline_svg(values, ui.tr("overview.trend_alt", measure=ui.metric_label(metric),
                                                   values=", ".join(ui.value_text(metric, r)
                                                                    for _, r in months.iterrows())))
        if spark:
            st.markdown(spark, unsafe_allow_html=True)
        if points >= 2:
            trend_note += "" if complete else " " + ui.tr("overview.trend_gaps")
        else:
            trend_note = ui.tr("overview.trend_none")
        st.caption(" · ".join(x for x in (ui.detail_text(metric, row), trend_note) if x))
        st.caption(ui.tr(f"metric.{metric}.definition"))

st.subheader(ui.tr("funnel.title"))
st.caption(ui.tr("funnel.intro"))
funnel = ui.query("funnel", v)
if len(funnel) and (funnel["node"] == "calls").any():
    funnel_ui.section(funnel, v)
else:
    st.info(ui.tr("funnel.not_published"))

crisis_ui.section(v)

st.subheader(ui.tr("overview.repeat_title"))
st.caption(ui.tr("metric.repeat_contact.definition"))
repeat = ui.query("published_table", "repeat_contact")
shown = repeat[(repeat["period_type"] == v.period_type) & (repeat["period"] == v.period)]
if v.district != "all":
    st.caption(ui.tr("overview.repeat_citywide"))
if len(shown):
    cols = st.columns(len(shown))
    for col, (_, r) in zip(cols, shown.iterrows()):
        missing = r["repeat_rate"] != r["repeat_rate"]
        why = {"hidden": "hidden", "under_minimum": "few"}.get(r["rate_flag"], "hidden")
        value = charts.hidden_label(why, "", v.lang) if missing else f"{r['repeat_rate'] * 100:.1f}%"
        col.metric(ui.tr("overview.repeat_window", days=int(r["window_days"])), value)
        if not missing:
            col.caption(ui.tr("value.interval", low=f"{r['repeat_rate_ci_low'] * 100:.1f}%",
                              high=f"{r['repeat_rate_ci_high'] * 100:.1f}%"))
else:
    st.caption(ui.tr("overview.repeat_periods"))
