"""Data & methods: every definition from the catalog, pilot coverage, the disclosure rules and what they did
in plain words, the run log, the release archive, the public-use record file, and every published
table as CSV and Parquet."""

import re

import streamlit as st

from outcomes import export, ui
from outcomes import public_use
from outcomes import releases as releases_ui
from outcomes.metrics import METRICS

v = ui.view()
st.title(ui.tr("dm.title"))
st.markdown(ui.tr("dm.intro"))

st.header(ui.tr("dm.definitions"))
for metric in METRICS:
    st.markdown(f"**{ui.tr(f'metric.{metric}.label')}**: {ui.tr(f'metric.{metric}.definition')}")
st.markdown(f"**{ui.tr('metric.repeat_contact.label')}**: {ui.tr('metric.repeat_contact.definition')}")

st.header(ui.tr("dm.suppression"))
st.markdown(ui.tr("dm.suppression_rules"))
st.subheader(ui.tr("dm.protection"))
st.markdown(ui.tr("dm.protection_method"))
protection = ui.query("protection")
if len(protection):
    total = protection[protection["rows_allowed"] > 0]
    shown, allowed = int(total["rows_shown"].sum()), int(total["rows_allowed"].sum())
    st.markdown(ui.tr("dm.protection_summary", shown=f"{shown:,}", allowed=f"{allowed:,}",
                      share=f"{shown / allowed:.1%}" if allowed else "–",
                      small=f"{int(protection['hidden_small'].sum()):,}",
                      protect=f"{int(protection['hidden_to_protect'].sum()):,}"))
    st.dataframe(protection.rename(columns={c: ui.tr(f"dm.protection_{c}") for c in protection.columns}),
                 hide_index=True)

st.header(ui.tr("dm.coverage"))
st.caption(ui.tr("map.pilot_coverage_note"))
st.dataframe(ui.query("pilot_coverage"), hide_index=True)
st.subheader(ui.tr("dm.call_types"))
st.dataframe(ui.query("call_types"), hide_index=True)

st.header(ui.tr("dm.run_log"))
st.dataframe(ui.query("run_log"), hide_index=True)
st.subheader(ui.tr("dm.quarantine"))
st.caption(ui.tr("dm.quarantine_note"))
quarantine = ui.query("quarantine_summary")
st.dataframe(quarantine.assign(rows=[ui.count_text(n) for n in quarantine["rows"]])
             .drop(columns=["rows_flag"])
             .rename(columns={"source": ui.tr("dm.source"), "reason": ui.tr("dm.reason"),
                              "rows": ui.tr("dm.rows")}), hide_index=True)

releases_ui.section()
public_use.section()

st.header(ui.tr("dm.downloads"))
st.markdown(ui.tr("dm.downloads_note"))
run = ui.query("latest_run") or {"data_through": "?"}
catalog = ui.query("catalog")
BASELINE_TABLES = {"police_baseline", "police_baseline_district"}
BOUNDARY_TABLES = {"districts", "divisions", "division_crosswalk"}


def boundaries_text(plan: str) -> str:
    """The catalog's boundary_plan in the visitor's language."""
    parts = []
    for part in plan.split("; "):
        m = re.fullmatch(r"council districts, (.+) plan", part)
        parts.append(ui.tr("dm.plan_districts", plan=m.group(1)) if m else
                     ui.tr("dm.plan_divisions") if part.startswith("LAPD divisions") else part)
    return "; ".join(parts)


for row in catalog.itertuples():
    title = ui.catalog_text(row.table_name, "title", row.title)
    description = ui.catalog_text(row.table_name, "description", row.description)
    with st.container(border=True):
        st.markdown(f"**{title}** · `{row.table_name}`")
        st.caption(f"{ui.tr('dm.grain')}: {row.grain} · {ui.tr('dm.measures')}: {row.measures}")
        st.caption(f"{ui.tr('dm.universe')}: {ui.catalog_text(row.table_name, 'universe', row.universe)}")
        boundaries = (f"{ui.tr('dm.boundaries')}: {boundaries_text(row.boundary_plan)}"
                      if row.boundary_plan else "")
        if boundaries:
            st.caption(boundaries)
        if row.estimate == "true":
            st.warning(ui.tr("dm.estimate"), icon=":material/info:")
        st.caption(description)
        c1, c2 = st.columns(2)
        source = (ui.tr("bl.source_lapd") if row.table_name in BASELINE_TABLES else
                  ui.tr("dm.source_boundaries") if row.table_name in BOUNDARY_TABLES else None)
        text = ui.chart_text(title, description, extra=[boundaries] if boundaries else [],
                             source=source)
        c1.download_button("CSV", key=f"dl_{row.table_name}_csv", on_click="ignore", mime="text/csv",
                           file_name=f"{row.table_name}.csv",
                           data=lambda n=row.table_name, tx=text: export.to_csv(ui.query("published_table", n), tx))
        c2.download_button("Parquet", key=f"dl_{row.table_name}_parquet", on_click="ignore",
                           mime="application/vnd.apache.parquet", file_name=f"{row.table_name}.parquet",
                           data=lambda n=row.table_name: export.to_parquet(ui.query("published_table", n)))
