"""District brief: one council district against the city, month by month, with a one-page
PDF (US Letter or A4) a council office can attach to a motion."""

from datetime import date
from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st

from outcomes import brief, charts, export, ui
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
period = ui.period_label(v.period, v.lang)
st.header(f"{name} · {period}")
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
headers = (ui.tr("brief.measure"), name, ui.tr("place.city"), ui.tr("brief.district_detail"))
# an HTML table: its text wraps on a phone (a data grid would scroll sideways)
st.table(table[["label", "district_text", "city_text", "detail_text"]].set_axis(list(headers), axis=1)
         .set_index(headers[0]))

metric = "coverage_rate"
trend = pd.concat([ui.query("metric_rows", metric, p, by="month").assign(series_label=ui.place_label(p))
                   for p in (v, city)], ignore_index=True)
milestones = ui.query("milestones", v.lang)
trend_title = ui.metric_label(metric, v)
text = ui.chart_text(ui.tr("brief.pdf_title", name=name), ui.tr("brief.pdf_subtitle", period=period),
                     extra=[ui.tr("trends.milestones_note"), *charts.milestone_lines(milestones)])
chart = ui.chart("brief_trend", trend, trend_title, METRICS[metric].kind,
                 ui.tr(f"metric.{metric}.short"), v.lang, milestones, ui.tr("months").split(","))
st.markdown(f"**{trend_title}**")
st.vega_lite_chart(spec={k: x for k, x in chart.items() if k not in ("title", "width")}, theme=None,
                   width="stretch",
                   alt=ui.describe(text.title, [(r.label, f"{r.district_text} vs {r.city_text}")
                                                for r in table.itertuples()]))
ui.chart_notes(text)


def page_link(path: str, params: dict[str, str]) -> str:
    """The public address of a page of this app, as the visitor's browser reaches it."""
    here = urlsplit(st.context.url or "")
    base = f"{here.scheme}://{here.netloc}" if here.netloc else ""
    root = here.path.rsplit("/", 1)[0] if here.path.count("/") > 1 else ""
    return f"{base}{root}/{path}" + (f"?{urlencode(params)}" if params else "")


run = ui.query("latest_run") or {"data_through": "?"}
page = brief.BriefPage(
    lang=v.lang, title=text.title, subtitle=text.subtitle,
    headers=headers,
    issued=ui.tr("brief.issued", today=date.today().isoformat(), through=run["data_through"]),
    link_label=ui.tr("brief.link_label"), link=page_link("district_brief", v.to_params()),
    notes=[text.notes()[0],
           ui.tr("brief.definitions_at", url=page_link("data_methods", {"lang": v.lang} if v.lang != "en" else {})),
           *text.notes()[1:]],
    keywords=ui.tr("brief.keywords", name=name))
stem = f"district_{v.district}_brief_{v.period}_{v.lang}"
row = st.container(horizontal=True)
no_pdf = brief.pdf_unavailable()
if no_pdf:  # the server lacks Pango: say so and how to fix it, keep the CSV
    st.warning(ui.tr("brief.pdf_unavailable", error=no_pdf))
else:
    row.download_button(ui.tr("brief.download_pdf"), data=lambda: brief.brief_pdf(page, table, chart, "letter"),
                        file_name=f"{stem}.pdf", mime="application/pdf", on_click="ignore", type="primary",
                        key="brief_pdf")
    row.download_button(ui.tr("brief.download_pdf_a4"), data=lambda: brief.brief_pdf(page, table, chart, "a4"),
                        file_name=f"{stem}_a4.pdf", mime="application/pdf", on_click="ignore",
                        key="brief_pdf_a4")
row.download_button(ui.tr("brief.download_csv"),
                    data=lambda: export.to_csv(table[["metric", "district_value", "city_value", "district_text",
                                                      "city_text", "detail_text"]], text),
                    file_name=f"district_{v.district}_brief_{v.period}.csv", mime="text/csv",
                    on_click="ignore", key="brief_csv")
st.caption(ui.tr("brief.definitions_note"))
