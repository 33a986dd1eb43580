"""The Streamlit side shared by every page: the connection, cached queries, the filters kept
in the URL, the data-as-of banner, and a chart block with its downloads, data table and text.

Pages call these and draw; they hold no SQL and open no files.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import altair as alt
import pandas as pd
import streamlit as st

from outcomes import brief as brief_mod
from outcomes import charts as charts_mod
from outcomes import export, queries, settings
from outcomes.charts import ChartText
from outcomes.i18n import label, messages, t
from outcomes.metrics import METRICS, RESPONDER_TYPES, format_value
from outcomes.view import CALL_TYPE_GROUPS, DISTRICTS, LANGUAGES, View, from_params

FILTER_KEYS = ("period_type", "period", "district", "call_type_group", "responder_type", "lang")


Token = tuple[str, int, int, int]
_last = {"token": None}
_last_lock = threading.Lock()


def db_token() -> Token:
    """Identifies the public file's current version (path, inode, mtime, size): a file
    swapped in gets a new token, so connections and cached answers never outlive the file
    they came from. The first run to see a new token drops what the old file gave (other
    sessions' queries in flight keep their cursor, and the old file, until they finish)."""
    path = settings.public_db()
    st_ = path.stat()
    token = (str(path), st_.st_ino, st_.st_mtime_ns, st_.st_size)
    with _last_lock:
        if _last["token"] != token:
            if _last["token"] is not None:
                _cached.clear()
                _spec.clear()
                _shared.clear()
                _connection.clear()
            _last["token"] = token
    return token


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(token: Token):
    return queries.connect(Path(token[0]))


@st.cache_data(max_entries=4000, show_spinner=False)
def _cached(token: Token, name: str, args: tuple, kwargs: tuple):
    cursor = _connection(token).cursor()  # one cursor per query: sessions run in threads
    try:
        return getattr(queries, name)(cursor, *args, **dict(kwargs))
    finally:
        cursor.close()


def query(name: str, *args, **kwargs):
    """Run outcomes.queries.<name> against the current public file, cached per file version."""
    return _cached(db_token(), name, args, tuple(sorted(kwargs.items())))


@st.cache_resource(max_entries=64, show_spinner=False)
def _shared(token: Token, name: str, args: tuple):
    return _cached(token, name, args, ())


def shared_query(name: str, *args):
    """Like query, but every caller gets the same object, never a copy: for the map's
    geometry, which each cached map spec holds. As copies (cache_data unpickles one per
    call) every map view kept its own 30,000 coordinate lists, and the server's memory grew
    with the views visitors asked for (bench/load.py --probe). Callers must not change it."""
    return _shared(db_token(), name, args)


def use_navigation_mode() -> None:
    """Until its first st.navigation call a server runs scripts in Streamlit's pages-folder
    mode (this project has a pages/ folder): switch to navigation mode and rerun, before
    anything is drawn under the other mode's widget ids."""
    from streamlit.runtime.pages_manager import PagesManager
    if PagesManager.uses_pages_directory is not False:
        PagesManager.uses_pages_directory = False
        st.rerun()


def view() -> View:
    if "view" not in st.session_state:
        # The first request to a fresh server, on a deep link (/map), runs that page file
        # straight from pages/ (Streamlit's folder mode) before any st.navigation call has
        # switched the server to dashboard.py's navigation. Switch now and rerun, so the
        # entry script (filters, banner) runs and then routes to the same page.
        use_navigation_mode()
        st.rerun()
    return st.session_state["view"]


def lang() -> str:
    return view().lang


def tr(key: str, **values) -> str:
    return t(key, lang(), **values)


def catalog_text(table_name: str, field: str, fallback: str) -> str:
    """A published table's title, universe or description in the page's language: the
    Spanish text from es.toml when there is one, else the public file's (English) text."""
    if lang() == "es":
        return messages("es").get(f"catalog.{table_name}.{field}", fallback)
    return fallback


# --- filters --------------------------------------------------------------------------

def _seed_from_url(choices: dict[str, list[str]]) -> None:
    """Filters not held by this session come from the URL: all of them on a first visit;
    later, any whose widget Streamlit dropped because a run did not draw it (the metric
    picker lives on two pages only)."""
    missing = [k for k in FILTER_KEYS + ("metric",) if f"f_{k}" not in st.session_state]
    written = st.session_state.get("_url_written")
    if written is not None and st.query_params.to_dict() != written:
        # the address changed under this session (Back, Forward, an edited address): it
        # holds the view to show, not the widgets' last values
        missing = list(FILTER_KEYS + ("metric",))
    if not missing:
        return
    v = from_params(st.query_params.to_dict(), choices)
    for key in missing:
        st.session_state[f"f_{key}"] = getattr(v, key)


def _reset_period() -> None:
    choices = query("period_choices")
    st.session_state["f_period"] = choices[st.session_state["f_period_type"]][0]


def filters() -> View:
    """The sidebar filters; their values go into the URL so a copied link reproduces the view."""
    choices: dict[str, list[str]] = query("period_choices")
    _seed_from_url(choices)
    ss = st.session_state
    lang_ = ss["f_lang"]
    with st.sidebar:
        st.segmented_control(t("filters.language", lang_), LANGUAGES, key="f_lang",
                             format_func=lambda c: {"en": "English", "es": "Español"}[c],
                             required=True)
        lang_ = ss["f_lang"] or "en"
        types = [p for p in ("pilot_to_date", "fiscal_year", "year", "quarter", "month") if p in choices]
        if ss["f_period_type"] not in types:
            ss["f_period_type"] = types[0]
        st.selectbox(t("filters.period_type", lang_), types, key="f_period_type",
                     format_func=lambda p: label("period_type", p, lang_), on_change=_reset_period)
        periods = choices[ss["f_period_type"]]
        if ss["f_period"] not in periods:
            ss["f_period"] = periods[0]
        st.selectbox(t("filters.period", lang_), periods, key="f_period",
                     format_func=lambda p: period_label(p, lang_),
                     disabled=len(periods) == 1)
        st.selectbox(t("filters.district", lang_), ("all", *DISTRICTS), key="f_district",
                     format_func=lambda d: district_label(d, lang_))
        district_chosen = ss["f_district"] != "all"
        if district_chosen:  # published for all call types together only: say so in the box
            ss["f_call_type_group"] = "all"
        st.selectbox(t("filters.call_type_group", lang_), ("all", *CALL_TYPE_GROUPS),
                     key="f_call_type_group", disabled=district_chosen,
                     format_func=lambda g: label("group", g, lang_),
                     help=t("filters.group_by_district_help", lang_))
        st.selectbox(t("filters.responder_type", lang_), RESPONDER_TYPES, key="f_responder_type",
                     format_func=lambda r: label("responder", r, lang_),
                     help=t("filters.responder_help", lang_))
    v = View(period_type=ss["f_period_type"], period=ss["f_period"], district=ss["f_district"],
             call_type_group=ss["f_call_type_group"], responder_type=ss["f_responder_type"],
             metric=ss.get("f_metric", "coverage_rate"), lang=lang_)
    # the URL is written after st.navigation has picked the page (dashboard.py): written
    # earlier, it would carry the previous page's path
    st.session_state["view"] = v
    return v


def sync_url(v: View) -> None:
    wanted = v.to_params()
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
    st.session_state["_url_written"] = wanted


def metric_picker() -> str:
    """The measure to draw (map, trends); kept in the view and the URL."""
    lang_ = lang()
    metric = st.selectbox(t("map.metric", lang_), list(METRICS), key="f_metric",
                          format_func=lambda m: t(f"metric.{m}.label", lang_))
    st.session_state["view"] = replace(view(), metric=metric)
    sync_url(view())
    return metric


def period_label(period: str, lang_: str) -> str:
    if period == "pilot_to_date":
        return t("period_type.pilot_to_date", lang_)
    if len(period) == 7 and period[4] == "-" and period[5:].isdigit():
        months = t("months", lang_).split(",")
        return f"{months[int(period[5:]) - 1]} {period[:4]}"
    return period


def district_label(d: str, lang_: str) -> str:
    return t("place.city", lang_) if d == "all" else t("place.district", lang_, n=d)


def place_label(v: View) -> str:
    place = district_label(v.district, v.lang)
    if v.district == "all" and v.call_type_group != "all":
        place += " · " + label("group", v.call_type_group, v.lang)
    return place


def slice_label(v: View) -> str:
    return f"{place_label(v)} · {period_label(v.period, v.lang)}"


def summary_sentence(v: View) -> str:
    """One plain sentence for the chosen place and period, from published figures only: the
    coverage rate, the civilian teams' median time from dispatch to scene and how often
    police were sent alongside them. A figure that is not shown is left out, never guessed;
    with none shown, there is no sentence."""
    parts = []
    row = one_row("coverage_rate", v)
    if row is not None and row["status"] == "ok":
        k = round(float(row["value"]) * 10)
        rate = format_value(METRICS["coverage_rate"], row["value"])
        parts.append(tr("overview.summary_coverage", rate=rate, k=k) if 0 < k < 10
                     else tr("overview.summary_coverage_plain", rate=rate))
    civilian = replace(v, responder_type="civilian_team")
    row = one_row("dispatch_to_scene_median", civilian)
    if row is not None and row["status"] == "ok":
        parts.append(tr("overview.summary_minutes", minutes=f"{float(row['value']):.0f}"))
    row = one_row("co_dispatched_per_1000", civilian)
    if row is not None and row["status"] == "ok":
        per_100 = float(row["value"]) / 10
        parts.append(tr("overview.summary_police", n=f"{per_100:.0f}") if per_100 >= 0.5
                     else tr("overview.summary_police_rare"))
    if not parts:
        return ""
    where = (tr("overview.summary_in_place", place=district_label(v.district, v.lang))
             if v.district != "all" else tr("overview.summary_city"))
    if v.district == "all" and v.call_type_group != "all":
        where += f" ({label('group', v.call_type_group, v.lang).lower()})"
    when = (tr("overview.summary_since_start") if v.period == "pilot_to_date"
            else tr("overview.summary_in", period=period_label(v.period, v.lang)))
    lead = tr("overview.summary_lead", place=where, when=when)
    return lead[0].upper() + lead[1:] + " " + "; ".join(parts) + "."


# --- page --------------------------------------------------------------------------------

_CSS = (settings.PROJECT_ROOT / "outcomes" / "static" / "app.css").read_text(encoding="utf-8")


def page_style() -> None:
    """The project's few style rules (outcomes/static/app.css): contrast, wrapping, focus."""
    st.html(f"<style>{_CSS}</style>")


def page_language(title: str) -> None:
    """The document's language and the tab's title follow the visitor's language (a screen
    reader picks its voice from `lang`)."""
    lang_ = lang()
    st.set_page_config(page_title=f"{title} · {t('app.name', lang_)}")
    st.html(f"<script>document.documentElement.lang = {json.dumps(lang_)};{_PHONE_SIDEBAR}"
            f"{_CLOSE_NOT_FOUND}</script>", unsafe_allow_javascript=True)


# An address that is no page opens Streamlit's own "Page not found" dialog, in English and
# over the page, before the overview. The overview says the same in the visitor's language
# (dashboard.home), so that dialog is closed as it opens (its own Close button, so the page
# behind it is not left hidden from screen readers). It is the only dialog the app has.
_CLOSE_NOT_FOUND = """
if (!window.__closeNotFound) {
  window.__closeNotFound = true;
  const close = () => document.querySelectorAll('.stDialog [role=dialog]').forEach((d) => {
    if (/page not found/i.test(d.querySelector('h2')?.textContent || '')) d.querySelector('button[aria-label=Close]')?.click();
  });
  close();
  new MutationObserver(close).observe(document.body, {childList: true, subtree: true});
}"""


# On a phone the sidebar lies over the page: once a filter's option is picked, close it, so
# the visitor sees what changed (installed once per page load; a wide screen is left as is)
_PHONE_SIDEBAR = """
if (!window.__phoneSidebar) {
  window.__phoneSidebar = true;
  document.addEventListener('click', (e) => {
    if (window.innerWidth >= 768 || !e.target.closest('[role=option], [data-testid=stSidebar] button[kind^=segmented]')) return;
    setTimeout(() => {
      const b = document.querySelector('[data-testid=stSidebarCollapseButton] button');
      if (b) b.click();
    }, 400);
  }, true);
}"""


# --- banner -----------------------------------------------------------------------------

def banner() -> dict | None:
    run = query("latest_run")
    if run is None:
        st.warning(tr("banner.no_run"))
        return None
    finished = datetime.fromisoformat(run["finished_at"].replace("Z", "+00:00"))
    age_h = (datetime.now(timezone.utc) - finished).total_seconds() / 3600
    text = tr("banner.as_of", through=run["data_through"], updated=finished.strftime("%Y-%m-%d"))
    if age_h > settings.stale_hours():
        st.warning(tr("banner.stale", hours=int(age_h), limit=int(settings.stale_hours())) + " " + text)
    else:
        st.caption(text)
    return run


def chart_text(title: str, subtitle: str, extra: list[str] | None = None,
               source: str | None = None, data_through: str | None = None) -> ChartText:
    """`data_through`: the last date of a chart's own source, where it is not the pilot's
    records (the county's shootings end in 2014)."""
    run = query("latest_run") or {"data_through": "?"}
    return ChartText(title=title, subtitle=subtitle, source=source or tr("chart.source"),
                     data_through=tr("chart.data_through", date=data_through or run["data_through"]),
                     note=tr("note.suppression"), extra=extra or [], lang=lang())


# --- values -----------------------------------------------------------------------------

def value_text(metric: str, row: pd.Series | None) -> str:
    if row is None:  # no published row: no calls of this kind here and then
        return "–"
    return charts_mod.hidden_label(row["status"], format_value(METRICS[metric], row["value"])
                                   if row["status"] == "ok" else "", lang())


def count_text(n) -> str:
    """A published count; one neutral mark where it is not shown (the reason is given
    beside the value, never as "<11")."""
    return "–" if pd.isna(n) else f"{int(n):,}"


def detail_text(metric: str, row: pd.Series | None) -> str:
    """Numerator of denominator, the 95% interval, and unstable when so."""
    if row is None:
        return tr("value.none")
    m = METRICS[metric]
    parts = []
    if row["status"] == "hidden":
        return tr("value.hidden")
    if row["status"] == "longer":
        return tr("value.longer")
    if m.numerator and not pd.isna(row["numerator"]):
        parts.append(tr("value.of", num=count_text(row["numerator"]), den=count_text(row["denominator"])))
    elif not pd.isna(row["denominator"]):
        parts.append(tr("value.based_on", den=count_text(row["denominator"])))
    if row["status"] == "ok" and not pd.isna(row["ci_low"]):
        parts.append(tr("value.interval", low=format_value(m, row["ci_low"]),
                        high=format_value(m, row["ci_high"])))
    if row["status"] == "ok" and bool(row["unstable"]):
        parts.append(tr("value.unstable"))
    if row["status"] == "few":
        parts.append(tr("value.few"))
    if row["status"] == "none":
        parts.append(tr("value.none"))
    return " · ".join(parts)


def metric_label(metric: str, v: View | None = None) -> str:
    v = v or view()
    text = tr(f"metric.{metric}.label")
    if METRICS[metric].responder == "view":
        text += f" ({label('responder', v.responder_type, v.lang).lower()})"
    return text


def one_row(metric: str, v: View | None = None) -> pd.Series | None:
    df = query("metric_rows", metric, v or view())
    return df.iloc[0] if len(df) else None


# --- charts -----------------------------------------------------------------------------

def _choropleth(places: list[dict], text: ChartText, kind: str, value_title: str,
                served: tuple[str, ...] = (), coverage_properties: dict | None = None,
                **kwargs) -> charts_mod.WithDatasets:
    """The district map from each district's properties (outcomes.charts.choropleth): the
    polygons come from the public file here, so the chart's cache key is the properties,
    not some 200 kB of coordinates hashed on every run."""
    shapes = shared_query("district_geometry")
    features = [{"type": "Feature", "geometry": shapes[p["district"]], "properties": p}
                for p in places]
    outline = shared_query("coverage_outline", tuple(served)) if served else None
    coverage = [] if outline is None else [
        {"type": "Feature", "geometry": outline, "properties": coverage_properties or {}}]
    return charts_mod.choropleth(features, text, kind, value_title, coverage=coverage, **kwargs)


BUILDERS: dict[str, Callable[..., alt.TopLevelMixin | charts_mod.WithDatasets]] = {
    "bars": charts_mod.bars, "grouped_bars": charts_mod.grouped_bars,
    "distribution": charts_mod.distribution, "trend": charts_mod.trend,
    "choropleth": _choropleth, "heatmap": charts_mod.heatmap, "funnel": charts_mod.funnel,
    "brief_trend": brief_mod.trend_chart,
}


# cache_resource, not cache_data: every session gets the same spec object, not its own
# unpickled copy. A session holds its page's specs (its download buttons build exports from
# them later) until it is dropped; sharing them cut the live memory of the ~90 sessions a
# 50-visitor load leaves held from 65 to 45 MB above the baseline (bench/load.py --probe).
# Specs are read-only here: st.vega_lite_chart copies a spec before changing it, and
# exports only read it.
@st.cache_resource(max_entries=1000, show_spinner=False)
def _spec(token: Token, builder: str, args: tuple, kwargs: tuple) -> dict:
    return BUILDERS[builder](*args, **dict(kwargs)).to_dict(validate=settings.validate_charts())


def chart(builder: str, *args, **kwargs) -> dict:
    """A Vega-Lite spec from outcomes.charts (or the brief), built once per public file
    version and arguments: building and validating a chart costs more than its queries."""
    return _spec(db_token(), builder, args, tuple(sorted(kwargs.items())))


# --- chart block ------------------------------------------------------------------------

def screen_spec(spec: dict) -> dict:
    """The chart as the page draws it: the export's chart without its title and footer, at
    the width of the page. The page writes title, source and notes as text beside it, where
    they wrap on a phone; the PNG, SVG and PDF keep them drawn in (outcomes.charts.finish)."""
    if "vconcat" not in spec or len(spec["vconcat"]) != 2 or "vconcat" in spec["vconcat"][0]:
        return spec
    core = spec["vconcat"][0]
    out = {k: v for k, v in spec.items() if k not in ("vconcat", "title", "spacing")}
    out.update({k: v for k, v in core.items() if k != "width"})
    return out


def series_label(series: str, lang_: str) -> str:
    """A chart series in words: a responder type, or the police baseline's LAPD estimate."""
    if series in RESPONDER_TYPES:
        return label("responder", series, lang_)
    return t("bl.series_lapd", lang_) if series == "lapd_estimate" else series


# codes named by one catalog key each, in the CSVs' *_label columns and the data tables
CATALOG_WORDS = {"node": "funnel.node.{}", "parent_node": "funnel.node.{}",
                 "node_kind": "funnel.kind.{}", "measure": "hist.measure.{}"}


def csv_frame(frame: pd.DataFrame, v: View, drawn: dict[str, str] | None = None) -> pd.DataFrame:
    """A chart's numbers as a CSV a reader can use alone: the slice as columns (period type,
    period, district, call types; a column of the chart's own wins), beside each code its
    label in the visitor's language, and beside each exact value in `drawn` (column: kind)
    the value rounded as the chart writes it (`<column>_as_drawn`; "hidden" or "n<20" where
    the chart draws none)."""
    out = frame.copy()
    for col, kind in (drawn or {}).items():
        if col in out and "status" in out:
            out.insert(out.columns.get_loc(col) + 1, f"{col}_as_drawn",
                       charts_mod.value_text(out, kind, v.lang, column=col))
    context = {"period_type": v.period_type, "period": v.period, "district": v.district,
               "call_type_group": v.group_for_query}
    for i, (col, value) in enumerate(context.items()):
        if col not in out:
            out.insert(i, col, value)
    labellers = {
        "period_type": lambda x: label("period_type", x, v.lang),
        "period": lambda x: period_label(x, v.lang),
        "district": lambda x: district_label(x, v.lang) if x in DISTRICTS or x == "all" else x,
        "call_type_group": lambda x: label("group", x, v.lang),
        "responder_type": lambda x: label("responder", x, v.lang),
        "series": lambda x: series_label(x, v.lang),
        **{col: (lambda x, key=key: t(key.format(x), v.lang) if x else "")
           for col, key in CATALOG_WORDS.items()},
    }
    for col, name in labellers.items():
        if col in out and f"{col}_label" not in out:
            out.insert(out.columns.get_loc(col) + 1, f"{col}_label",
                       [name(x) if isinstance(x, str) else x for x in out[col]])
    return out


COUNT_COLUMNS = ("calls", "calls_988", "people", "numerator", "denominator", "events", "recorded", "responses",
                 "matched_calls", "valid_intervals")


def _status_text(status, lang_: str) -> str:
    if not isinstance(status, str):
        return ""
    status = {"under_minimum": "few"}.get(status, status)
    return t("column.status_ok", lang_) if status == "ok" else charts_mod.hidden_label(status, status, lang_)


def table_frame(frame: pd.DataFrame, v: View, drawn: dict[str, str] | None = None
                ) -> tuple[pd.DataFrame, dict]:
    """A chart's numbers as a table a reader can read: codes in words, headers from the
    catalog in the visitor's language, counts with separators and values rounded as the
    chart draws them (the CSV keeps the exact values). Returns the frame and its
    st.dataframe column_config."""
    out = frame.copy()
    lang_ = v.lang
    words: dict[str, Callable] = {
        "district": lambda x: district_label(x, lang_) if x in DISTRICTS or x == "all" else x,
        "responder_type": lambda x: label("responder", x, lang_),
        "series": lambda x: series_label(x, lang_),
        "outcome": lambda x: label("outcome", x, lang_),
        "event": lambda x: label("event", x, lang_),
        "period": lambda x: period_label(x, lang_),
        "weekday": lambda x: label("weekday", x, lang_),
        "coverage": lambda x: t(f"bl.{x}", lang_),
        "status": lambda x: _status_text(x, lang_),
        "calls_flag": lambda x: _status_text(x, lang_),
        **{col: (lambda x, key=key: t(key.format(x), lang_) if x else "")
           for col, key in CATALOG_WORDS.items()},
    }
    for col, word in words.items():
        if col in out:
            out[col] = [word(x) if isinstance(x, str) else ("" if col.endswith(("status", "flag")) else x)
                        for x in out[col]]
    if "estimate" in out:
        out["estimate"] = [t("column.yes" if x else "column.no", lang_) for x in out["estimate"]]
    kinds = {c: "count" for c in COUNT_COLUMNS} | dict(drawn or {})
    for main in ("value", "per_1000"):  # an interval is drawn as its value is
        if main in (drawn or {}):
            kinds.update({"ci_low": drawn[main], "ci_high": drawn[main]})
    formats = {"count": "localized", "share": "%.1f%%", "per_1000": "%.1f", "minutes": "%.1f"}
    config: dict = {}
    for col in out.columns:
        name = t(f"column.{col}", lang_)
        kind = kinds.get(col)
        if kind is None or col not in out or not pd.api.types.is_numeric_dtype(out[col]):
            config[col] = st.column_config.Column(name if name != f"column.{col}" else col)
            continue
        if kind == "share":
            out[col] = out[col] * 100
        elif kind == "count":
            out[col] = out[col].round().astype("Int64")
        config[col] = st.column_config.NumberColumn(name, format=formats[kind])
    return out, config


def _escape_md(text: str) -> str:
    """Text from the catalog or a label, shown literally (no Markdown, no HTML)."""
    for ch in "\\`*_[]<>#|$~":
        text = text.replace(ch, "\\" + ch)
    return text


def chart_notes(text: ChartText) -> None:
    """Source, date and notes under a chart, as page text (they wrap on a phone)."""
    st.caption("  \n".join(_escape_md(line) for line in text.notes()))


def chart_block(chart: dict, frame: pd.DataFrame, text: ChartText, stem: str,
                description: str, key: str, on_select: Callable | None = None,
                drawn: dict[str, str] | None = None):
    """Draw a chart with PNG, SVG and CSV downloads, its data table and a text alternative.
    `drawn` names the frame's value columns and their kind (share, per_1000, minutes,
    count): the CSV and the data table give each as drawn beside its exact value."""
    kwargs = {}
    if on_select is not None:
        kwargs = dict(on_select=on_select, selection_mode="pick")
    st.markdown(f"**{_escape_md(text.title)}**")
    if text.subtitle:
        st.caption(text.subtitle)
    # theme=None: the marks, colours and labels are those the PNG and SVG exports draw
    event = st.vega_lite_chart(spec=screen_spec(chart), key=key, alt=description, theme=None,
                               width="stretch", **kwargs)
    chart_notes(text)
    # one row on any screen (columns would stack into three rows on a phone)
    row = st.container(horizontal=True)
    row.download_button("PNG", data=lambda: export.to_png(chart), file_name=f"{stem}.png",
                        mime="image/png", key=f"{key}_png", on_click="ignore")
    row.download_button("SVG", data=lambda: export.to_svg(chart), file_name=f"{stem}.svg",
                        mime="image/svg+xml", key=f"{key}_svg", on_click="ignore")
    shown = view()  # the download runs outside the script run, where no session state is
    row.download_button("CSV", data=lambda: export.to_csv(csv_frame(frame, shown, drawn), text),
                        file_name=f"{stem}.csv",
                        mime="text/csv", key=f"{key}_csv", on_click="ignore")
    with st.expander(tr("chart.data_table")):
        table, config = table_frame(frame, shown, drawn)
        st.dataframe(table, hide_index=True, column_config=config)
    with st.expander(tr("chart.text_alternative")):
        st.write(description)
    return event


def describe(title: str, rows: list[tuple[str, str]]) -> str:
    """A text alternative: the title, then each drawn label with its shown value."""
    return title + ". " + "; ".join(f"{k}: {v}" for k, v in rows) + "."
