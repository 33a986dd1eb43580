"""Data & methods: the public-use record file (etl/publish/puf.py), its k, l and share kept,
its data dictionary, and its downloads (CSV, Parquet, the dictionary as CSV)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from outcomes import export, ui

TABLE = "public_use_file"


def dictionary(values: pd.DataFrame, quasi_identifiers: list[str]) -> pd.DataFrame:
    """One row per column: its role (a quasi-identifier of the file's grain, or an
    outcome), what it holds in the visitor's language, and its values with how many rows
    hold each."""
    rows = []
    for col, part in values.groupby("column_name", sort=False):
        # districts in their numbers' order (1, 2, ... 15), not as text
        part = part.sort_values("value", key=lambda s: s.map(lambda v: (0, int(v), "") if v.isdigit()
                                                              else (1, 0, v)))
        listed = ", ".join(f"{v} ({int(n):,})" for v, n in zip(part["value"], part["rows"]))
        rows.append({
            ui.tr("dm.puf.column"): col,
            ui.tr("dm.puf.role"): ui.tr("dm.puf.role_qi" if col in quasi_identifiers else "dm.puf.role_outcome"),
            ui.tr("dm.puf.meaning"): ui.tr(f"dm.puf.col.{col}"),
            ui.tr("dm.puf.values"): listed,
        })
    return pd.DataFrame(rows)


def section() -> None:
    st.header(ui.tr("dm.puf.title"))
    summary = ui.query("public_use_summary")
    if summary is None:
        st.info(ui.tr("dm.puf.none"))
        return
    st.markdown(ui.tr("dm.puf.intro"))
    share = summary.get("share_kept")
    st.markdown(ui.tr(
        "dm.puf.figures", k=int(summary["k"]), l=int(summary["l"]),
        kept=f"{int(summary['records_kept']):,}", groups=f"{int(summary['groups_kept']):,}",
        share=f"{share:.1%}" if share is not None and pd.notna(share) else "–",
        scope=(f"{int(summary['records_in_scope']):,}" if pd.notna(summary.get("records_in_scope"))
               else "–")))
    withheld = [f"{c}: {summary[f'{c}_withheld_share']:.0%}" for c in summary["measures"].split(",")
                if pd.notna(summary.get(f"{c}_withheld_share"))]
    if withheld:
        st.caption(ui.tr("dm.puf.withheld", shares="; ".join(withheld)))
    st.markdown(ui.tr("dm.puf.why"))
    table = dictionary(ui.query("public_use_values"), summary["grain"].split(","))
    st.subheader(ui.tr("dm.puf.dictionary"))
    # as a list, not a grid: the meanings and values are sentences, cut off in a grid's cells
    # on a phone
    st.markdown("\n".join(
        f"- **`{r[0]}`**, {r[1].lower()}: {r[2]} {ui.tr('dm.puf.values')}: {r[3]}."
        for r in table.itertuples(index=False)))
    title = ui.tr("dm.puf.title")
    text = ui.chart_text(title, ui.tr("dm.puf.file_note", k=int(summary["k"]), l=int(summary["l"])))
    row = st.container(horizontal=True)
    row.download_button(ui.tr("dm.puf.csv"), key="puf_csv", on_click="ignore", mime="text/csv",
                        file_name=f"{TABLE}.csv",
                        data=lambda: export.to_csv(ui.query("published_table", TABLE), text))
    row.download_button(ui.tr("dm.puf.parquet"), key="puf_parquet", on_click="ignore",
                        mime="application/vnd.apache.parquet", file_name=f"{TABLE}.parquet",
                        data=lambda: export.to_parquet(ui.query("published_table", TABLE)))
    row.download_button(ui.tr("dm.puf.dictionary_csv"), key="puf_dictionary", on_click="ignore",
                        mime="text/csv", file_name=f"{TABLE}_dictionary.csv",
                        data=lambda: export.to_csv(table, text))
