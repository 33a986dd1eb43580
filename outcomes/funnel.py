"""The eligibility funnel on a page: from every public-initiated call of a pilot call type to
a civilian team's answer, each step as a count and a share of the step before, and each
drop-off by its recorded reason (SPEC 4, metric 1; table eligibility_funnel)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from outcomes import charts, ui
from outcomes.view import View


def _share_text(r) -> str:
    return f"{r.share_of_parent * 100:.1f}%" if pd.notna(r.share_of_parent) else ""


def _count_text(r, lang: str) -> str:
    return charts.hidden_label(r.status, f"{int(r.calls):,}" if r.status == "ok" else "", lang)


def stage_frame(funnel: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The stages as bars: label, value (calls), status, and the text drawn at each bar's
    end (the count and its share of the step before)."""
    s = funnel[funnel["node_kind"] == "stage"]
    texts = []
    for r in s.itertuples():
        count = _count_text(r, lang)
        share = _share_text(r)
        texts.append(ui.tr("funnel.bar_text", count=count, share=share) if share else count)
    return pd.DataFrame({"node": s["node"].to_numpy(),
                         "label": [ui.tr(f"funnel.node.{n}") for n in s["node"]],
                         "value": s["calls"].astype(float).to_numpy(),
                         "status": s["status"].to_numpy(),
                         "value_text": texts})


def biggest_drop(funnel: pd.DataFrame) -> str:
    """The largest drop-off in words, from shown shares only ('' when none is shown)."""
    drops = funnel[(funnel["node_kind"] == "drop_off") & funnel["share_of_parent"].notna()]
    drops = drops[drops["share_of_parent"] > 0]
    if not len(drops):
        return ""
    r = drops.loc[drops["share_of_parent"].idxmax()]
    return ui.tr("funnel.biggest_drop", share=f"{r['share_of_parent'] * 100:.1f}%",
                 parent=ui.tr(f"funnel.of.{r['parent_node']}"),
                 what=ui.tr(f"funnel.drop.{r['node']}"))


def drop_table(funnel: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Every drop-off and its reasons, in the funnel's order; 'not recorded' as its own
    reason."""
    d = funnel[funnel["node_kind"] != "stage"]
    rows = []
    for r in d.itertuples():
        name = ui.tr(f"funnel.node.{r.node}")
        # a share is missing where the count or the step before is hidden
        share = _share_text(r) or charts.hidden_label(r.status if r.status != "ok" else "hidden",
                                                      "", lang)
        rows.append({ui.tr("funnel.col.dropped"): name if r.node_kind == "drop_off" else f"– {name}",
                     ui.tr("funnel.col.calls"): _count_text(r, lang),
                     ui.tr("funnel.col.share"): share})
    return pd.DataFrame(rows)


def section(funnel: pd.DataFrame, v: View) -> None:
    """The funnel chart with its exports, the sentence naming the biggest drop-off, and the
    drop-offs by reason."""
    stages = stage_frame(funnel, v.lang)
    title = ui.tr("funnel.chart_title")
    biggest = biggest_drop(funnel)
    text = ui.chart_text(title, ui.slice_label(v), extra=[ui.tr("funnel.chart_note")])
    chart = ui.chart("funnel", stages[["label", "value", "status", "value_text"]], text,
                     ui.tr("funnel.col.calls"))
    frame = funnel[["step", "node", "parent_node", "node_kind", "calls", "share_of_parent",
                    "share_of_parent_ci_low", "share_of_parent_ci_high", "status"]]
    description = ui.describe(title, [(r.label, r.value_text) for r in stages.itertuples()])
    if biggest:
        st.markdown(f"**{biggest}**")
        description += " " + biggest
    ui.chart_block(chart, frame, text, f"eligibility_funnel_{v.period}", description,
                   key="funnel", drawn={"share_of_parent": "share", "share_of_parent_ci_low": "share",
                                        "share_of_parent_ci_high": "share"})
    st.markdown(f"**{ui.tr('funnel.drops_title')}**")
    st.dataframe(drop_table(funnel, v.lang), hide_index=True)
    st.caption(ui.tr("funnel.drops_note"))
