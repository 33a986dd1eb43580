"""DataFrame -> Altair chart, with title, subtitle, source line, data-through date and the
suppression note drawn into the chart itself, so an exported PNG or SVG carries them.

Charts draw only published values. A hidden value is never drawn as a number: its bar or
district is grey and labelled "hidden" (a hidden count) or "n<20" (counts shown, but too few
calls for a rate), as the footer explains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import altair as alt
import pandas as pd

from outcomes import settings
from outcomes.i18n import t

WIDTH = 640
FONT = "Liberation Sans, Arial, sans-serif"
# Responder colours told apart with red-green and blue-yellow colour blindness as well
# (tests/test_export.py simulates them, Machado et al. 2009): the co-response purple of
# before looked like the police blue to a protanope (colour difference 7 against 30 or
# more now); each bar colour has at least 3:1 contrast on white.
COLORS = {
    "civilian_team": "#1b7f79", "co_response": "#b35c00", "police": "#3b5b92",
    "fire_ems": "#a8325e", "phone": "#8a8a8a", "median": "#1b7f79", "p90": "#8cc7c2",
    "lapd_estimate": "#3b5b92", "served": "#1b7f79", "not_served": "#9a9a9a",
}
COVERAGE_STROKE = "#e07b00"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HIDDEN_FILL = "#d9d9d9"
NONE_FILL = "#ffffff"
SCALE = {"share": (".0%", "%"), "per_1000": (",.0f", ""), "minutes": (".0f", ""),
         "count": (",.0f", "")}


@dataclass(frozen=True)
class ChartText:
    """What every chart carries into its image and its CSV."""
    title: str
    subtitle: str
    source: str
    data_through: str
    note: str
    extra: list[str] = field(default_factory=list)
    lang: str = "en"  # the language marks inside the chart are written in

    def notes(self) -> list[str]:
        """What goes under the chart, one line each: source and date, extras, the note."""
        return [self.source + " · " + self.data_through, *self.extra, self.note]

    def footer(self) -> list[str]:
        """The notes as drawn into an exported chart, wrapped to its width."""
        first, *rest = self.notes()
        return [first, *(line for note in rest for line in _wrap(note, 110))]


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])


def hidden_label(status: str, value_text: str, lang: str) -> str:
    """"hidden": a count behind it is hidden (disclosure control); "n<20" (the minimum in
    force): too few calls for a rate; "longer periods only": published for quarters or
    longer; "–": no calls at all (e.g. a district outside the pilot area that period)."""
    if status == "few":
        return f"n<{settings.min_denominator()}"
    if status in ("hidden", "longer"):
        return t(f"value.mark_{status}", lang)
    if status == "none":
        return "–"
    return value_text


def _footer(text: ChartText, width: int = WIDTH) -> alt.Chart:
    lines = [{"i": i, "line": line} for i, line in enumerate(text.footer())]
    return (alt.Chart(alt.Data(values=lines), width=width, height=14 * len(lines))
            .mark_text(align="left", baseline="top", fontSize=10, color="#4d4d4d", font=FONT)
            .encode(x=alt.value(0), y=alt.Y("i:O", axis=None), text=alt.Text("line:N")))


def finish(chart: alt.TopLevelMixin, text: ChartText, width: int = WIDTH) -> alt.VConcatChart:
    """The chart with its title and subtitle above and source, date and notes below."""
    subtitle = _wrap(text.subtitle, 100) if text.subtitle else []
    # built in one constructor: Altair's chained methods deep-copy the whole chart, data
    # included, each time (hundreds of ms for a map)
    return alt.VConcatChart(
        vconcat=[chart, _footer(text, width)], spacing=12,
        title=alt.TitleParams(text.title, subtitle=subtitle, anchor="start", fontSize=16,
                              subtitleFontSize=12, subtitleColor="#4d4d4d", font=FONT,
                              subtitleFont=FONT),
        config=alt.Config(view=alt.ViewConfig(stroke=None),
                          axis=alt.AxisConfig(labelFont=FONT, titleFont=FONT, labelFontSize=11,
                                              titleFontSize=11, labelLimit=230),
                          legend=alt.LegendConfig(labelFont=FONT, titleFont=FONT)))


def _value_text(df: pd.DataFrame, kind: str, lang: str, column: str = "value") -> pd.Series:
    """Each row's value as the chart writes it (rounded as drawn), or why it is not drawn."""
    fmt = {"share": lambda v: f"{v * 100:.1f}%", "per_1000": lambda v: f"{v:.1f}",
           "minutes": lambda v: f"{v:.1f}", "count": lambda v: f"{v:,.0f}"}[kind]
    return pd.Series([hidden_label(s, fmt(v) if s == "ok" and v == v else "", lang)
                      for v, s in zip(df[column], df["status"])], index=df.index)


value_text = _value_text


def _category_axis(highlight: str | None) -> dict:
    """The chosen place stands out in a by-district chart: its name bold, with an arrow
    (not by colour alone)."""
    if not highlight:
        return {}
    h = json.dumps(highlight)
    return dict(labelExpr=f"datum.value == {h} ? '▶ ' + datum.value : datum.value",
                labelFontWeight={"expr": f"datum.value == {h} ? 'bold' : 'normal'"},
                labelColor={"expr": f"datum.value == {h} ? '#000' : '#333'"})


def bars(df: pd.DataFrame, text: ChartText, kind: str, category_title: str,
         value_title: str, color_by: str | None = None,
         highlight: str | None = None) -> alt.VConcatChart:
    """Horizontal bars of one value per category (column `label`), with 95% intervals.

    df: label, value, status, and optionally ci_low, ci_high, and `color_by` (responder).
    """
    d = df.copy()
    d["value_text"] = _value_text(d, kind, text.lang)
    d["drawn"] = d["value"].where(d["status"] == "ok")
    fmt, _ = SCALE[kind]
    order = list(d["label"])
    y = alt.Y("label:N", sort=order, title=category_title, axis=alt.Axis(**_category_axis(highlight)))
    base = alt.Chart()  # data once, on the layer: see finish()
    size = dict(width=WIDTH - 170, height=max(60, 26 * len(d)))
    color = (alt.Color(f"{color_by}:N", legend=None,
                       scale=alt.Scale(domain=list(COLORS), range=list(COLORS.values())))
             if color_by else alt.value("#1b7f79"))
    tooltip = [alt.Tooltip("label:N", title=category_title),
               alt.Tooltip("value_text:N", title=value_title)]
    layers = [
        base.mark_bar().encode(y=y, x=alt.X("drawn:Q", title=value_title,
                                             axis=alt.Axis(format=fmt, labelOverlap="greedy", labelSeparation=6)),
                               color=color, tooltip=tooltip),
    ]
    if "ci_low" in d and d["ci_low"].notna().any():
        layers.append(base.mark_rule(color="#222").encode(y=y, x=alt.X("ci_low:Q"), x2=alt.X2("ci_high:Q")))
    layers.append(base.mark_text(align="left", dx=4, font=FONT, fontSize=11).encode(
        y=y, x=alt.X("label_x:Q"), text=alt.Text("value_text:N"),
        color=alt.condition("datum.status == 'ok'", alt.value("#222"), alt.value("#777"))
    ).transform_calculate(
        label_x="datum.status == 'ok' ? (isValid(datum.ci_high) ? datum.ci_high : datum.drawn) : 0"
    ))
    return finish(alt.layer(*layers, data=d, **size), text)


def _two_line_rows(d: pd.DataFrame, order: list[str], **axis) -> alt.Y:
    """Rows named on two lines: the `label`, and under it the row's `value_text`."""
    lines = {lab: [lab, txt] for lab, txt in zip(d["label"], d["value_text"])}
    return alt.Y("label:N", sort=order, title=None,
                 axis=alt.Axis(labelExpr=f"{json.dumps(lines)}[datum.value] || datum.value",
                               labelLineHeight=14, labelPadding=6, **axis))


def distribution(df: pd.DataFrame, text: ChartText, category_title: str,
                 value_title: str, label_format: str = "median {median} · 90th {p90}") -> alt.VConcatChart:
    """Minutes per category (`label`): a box from the 25th to the 75th percentile, a line to
    the 90th, the median marked and written; hidden rows say why instead.

    df: label, p25_minutes, median_minutes, p75_minutes, p90_minutes, status.
    """
    d = df.copy()
    ok = d["status"] == "ok"
    d["value_text"] = [hidden_label(s, label_format.format(median=f"{m:.1f}", p90=f"{p:.1f}")
                                    if s == "ok" else "", text.lang)
                       for m, p, s in zip(d["median_minutes"], d["p90_minutes"], d["status"])]
    for c in ("p25_minutes", "median_minutes", "p75_minutes", "p90_minutes"):
        d[c] = d[c].where(ok)
    order = list(d["label"])
    # each row's figures under its name, not beside the box: the box keeps the chart's
    # whole width, on a phone too
    y = _two_line_rows(d, order)
    base = alt.Chart()
    # two lines of label per row, with room between rows (the page fits the whole chart,
    # axis included, into this height)
    size = dict(width=WIDTH - 230, height=40 + 52 * len(d))
    tooltip = [alt.Tooltip("label:N", title=category_title),
               alt.Tooltip("p25_minutes:Q", title=t("chart.p25", text.lang), format=".1f"),
               alt.Tooltip("median_minutes:Q", title=t("chart.median", text.lang), format=".1f"),
               alt.Tooltip("p75_minutes:Q", title=t("chart.p75", text.lang), format=".1f"),
               alt.Tooltip("p90_minutes:Q", title=t("chart.p90", text.lang), format=".1f")]
    color = alt.Color("responder_type:N", legend=None,
                      scale=alt.Scale(domain=list(COLORS), range=list(COLORS.values())))
    layers = [
        base.mark_rule(strokeWidth=1.5, color="#555").encode(y=y, x=alt.X("p75_minutes:Q"), x2=alt.X2("p90_minutes:Q")),
        base.mark_bar(size=18, opacity=0.85).encode(
            y=y, x=alt.X("p25_minutes:Q", title=value_title, scale=alt.Scale(zero=True)),
            x2=alt.X2("p75_minutes:Q"), color=color, tooltip=tooltip),
        base.mark_tick(color="white", thickness=3, size=18).encode(y=y, x=alt.X("median_minutes:Q")),
        base.mark_tick(color="#555", thickness=1.5, size=10).encode(y=y, x=alt.X("p90_minutes:Q")),
    ]
    return finish(alt.layer(*layers, data=d, **size), text)


def funnel(df: pd.DataFrame, text: ChartText, value_title: str) -> alt.VConcatChart:
    """The eligibility funnel: one bar per step (column `label`, its calls `value`), its
    figures (`value_text`: the count and its share of the step before, or why it is not
    shown) on a second line under the step's name, so the bars keep the whole width on a
    phone. df: label, value, status, value_text."""
    d = df.copy()
    d["drawn"] = d["value"].where(d["status"] == "ok")
    order = list(d["label"])
    y = _two_line_rows(d, order, labelLimit=260)
    tooltip = [alt.Tooltip("label:N", title=value_title), alt.Tooltip("value_text:N", title="")]
    bars_ = alt.Chart().mark_bar(size=22, color="#1b7f79").encode(
        y=y, x=alt.X("drawn:Q", title=value_title,
                     axis=alt.Axis(format=",.0f", labelOverlap="greedy", labelSeparation=8,
                                   tickCount=4)),
        tooltip=tooltip)
    return finish(alt.layer(bars_, data=d, width=WIDTH - 230, height=40 + 44 * len(d)), text)


# series that are not responder types: told apart with colour blindness too (a blue, an
# orange, a dark grey, a purple; tests/test_export.py simulates each deficiency)
OTHER_SERIES = {"people_shot": "#1f4e79", "killed": "#222222", "armed": "#b35c00",
                "signs_of_mental_illness": "#7b3fa0"}


def grouped_bars(df: pd.DataFrame, text: ChartText, kind: str, category_title: str,
                 value_title: str, series_title: str, highlight: str | None = None) -> alt.VConcatChart:
    """Bars of a value per category (column `label`) for each series (`series`, `series_label`)."""
    d = df.copy()
    d["value_text"] = _value_text(d, kind, text.lang)
    d["drawn"] = d["value"].where(d["status"] == "ok")
    fmt, _ = SCALE[kind]
    order = list(dict.fromkeys(d["label"]))
    series = list(dict.fromkeys(d["series"]))
    # responder types in their colours; other series (the shootings' measures) in an order
    # and colours of their own
    domain = [s for s in COLORS if s in series] + [s for s in series if s not in COLORS]
    labels = dict(zip(d["series"], d["series_label"]))
    y = alt.Y("label:N", sort=order, title=category_title, axis=alt.Axis(**_category_axis(highlight)))
    yoff = alt.YOffset("series:N", sort=domain)
    base = alt.Chart()
    # the page fits the whole chart, legend and axis included, into this height: room for
    # the legend's title and lines above the bars and the axis below (without it a chart of
    # 3 rows x 2 series drew its bars in about 10 px)
    size = dict(width=WIDTH - 190, height=max(80, 16 * len(d)) + 16 * (len(series) + 1) + 40)
    color = alt.Color("series:N", title=series_title,
                      scale=alt.Scale(domain=domain,
                                      range=[COLORS.get(s, OTHER_SERIES.get(s, "#999")) for s in domain]),
                      # one column of whole names: a phone has room for them above the bars
                      legend=alt.Legend(orient="top", columns=1, labelExpr=_label_expr(labels),
                                        labelLimit=320))
    tooltip = [alt.Tooltip("label:N", title=category_title),
               alt.Tooltip("series_label:N", title=series_title),
               alt.Tooltip("value_text:N", title=value_title)]
    bars_ = base.mark_bar().encode(y=y, yOffset=yoff, color=color, tooltip=tooltip,
                                   x=alt.X("drawn:Q", title=value_title, axis=alt.Axis(format=fmt, labelOverlap="greedy", labelSeparation=6)))
    labels_ = base.mark_text(align="left", dx=3, fontSize=9, font=FONT).encode(
        y=y, yOffset=yoff, x=alt.X("lx:Q"), text=alt.Text("value_text:N"),
        color=alt.condition("datum.status == 'ok'", alt.value("#222"), alt.value("#777")),
    ).transform_calculate(lx="datum.status == 'ok' ? datum.drawn : 0")
    return finish(alt.layer(bars_, labels_, data=d, **size), text)


def _label_expr(labels: dict[str, str]) -> str:
    return json.dumps(labels) + "[datum.label] || datum.label"


END_LABEL_PX = 13  # a name's height on the chart, with a little room


def _end_label_offsets(d: pd.DataFrame, height: int) -> dict[str, float]:
    """Vertical offsets in pixels for each line's end name, so that no two overlap: names
    whose last points lie closer than a name's height (on a scale from zero, as drawn) are
    spread evenly around where they would be."""
    ok = d[d["status"] == "ok"].sort_values("month")
    last = ok.groupby("series_label", sort=False).tail(1)
    if last.empty:
        return {}
    top = max(float(ok["drawn"].max()), 0.0) or 1.0
    bottom = min(float(ok["drawn"].min()), 0.0)
    px = {r.series_label: (top - r.drawn) / (top - bottom) * height for r in last.itertuples()}
    names = sorted(px, key=px.get)  # top of the chart first
    placed: dict[str, float] = {}
    for name in names:  # pushed down below the one above it when they would touch
        y = px[name]
        above = [placed[n] for n in placed]
        if above and y < max(above) + END_LABEL_PX:
            y = max(above) + END_LABEL_PX
        placed[name] = y
    shift = (sum(px.values()) - sum(placed.values())) / len(placed)  # keep them centred
    return {name: round(placed[name] - px[name] + shift, 1) for name in names}


def trend(df: pd.DataFrame, text: ChartText, kind: str, value_title: str,
          milestones: pd.DataFrame | None = None,
          month_names: list[str] | None = None, height: int = 260) -> alt.VConcatChart:
    """Monthly series (column `period` as YYYY-MM, `series_label` per line) with 95% bands;
    hidden months are ticks on the axis, never points; milestones are labelled rules."""
    d = df.copy()
    d["month"] = d["period"] + "-01"
    d["value_text"] = _value_text(d, kind, text.lang)
    d["drawn"] = d["value"].where(d["status"] == "ok")
    fmt, _ = SCALE[kind]
    base = alt.Chart()
    size = dict(width=WIDTH - 160, height=height)
    # month names from the message catalog (the chart's own locale is English)
    names = json.dumps(month_names or t("months", "en").split(","))
    x = alt.X("month:T", title=None, axis=alt.Axis(
        labelExpr=f"{names}[month(datum.value)] + ' ' + year(datum.value)", labelAngle=0,
        tickCount=8))
    series = list(dict.fromkeys(d["series_label"]))
    # lines are named at their last shown point, not in a legend: a legend inside a
    # composed chart (the district brief) lands away from its lines
    color = alt.Color("series_label:N", title=None, sort=series, legend=None,
                      scale=alt.Scale(domain=series, range=["#1b7f79", "#3b5b92", "#b35c00"][:len(series)]))
    tooltip = [alt.Tooltip("month:T", format="%Y-%m", title=t("chart.month", text.lang)),
               alt.Tooltip("series_label:N", title=""),
               alt.Tooltip("value_text:N", title=value_title)]
    layers = []
    if d["ci_low"].notna().any():
        layers.append(base.mark_area(opacity=0.15).encode(
            x=x, y=alt.Y("ci_low:Q"), y2=alt.Y2("ci_high:Q"), color=color))
    layers += [
        base.mark_line(strokeWidth=2).encode(
            x=x, y=alt.Y("drawn:Q", title=value_title, axis=alt.Axis(format=fmt, labelOverlap="greedy", labelSeparation=6)), color=color),
        base.mark_point(filled=True, size=30).encode(x=x, y=alt.Y("drawn:Q"), color=color, tooltip=tooltip),
    ]
    # each line's name at its last shown point; names that would sit on one another are
    # moved apart (one text layer per line, each with its own offset)
    for name, dy in _end_label_offsets(d, height).items():
        layers.append(base.transform_filter(
            f"datum.status == 'ok' && datum.series_label == {json.dumps(name)}").transform_window(
            rank="rank()", sort=[alt.SortField("month", order="descending")], groupby=["series_label"]
        ).transform_filter("datum.rank == 1").mark_text(
            align="left", dx=6, dy=dy, fontSize=10, font=FONT, fontWeight="bold"
        ).encode(x=x, y=alt.Y("drawn:Q"), text=alt.Text("series_label:N"), color=color))
    if (d["status"] != "ok").any():  # an empty layer is an unlabelled image to a screen reader
        layers.append(base.transform_filter("datum.status != 'ok'").mark_tick(
            orient="vertical", color="#555", thickness=3, size=14).encode(x=x, y=alt.datum(0), tooltip=tooltip))  # on the axis
    if milestones is not None and len(milestones):
        # numbered markers; the numbers are explained in the footer (see milestone_lines)
        m = milestones.assign(date=milestones["date"].astype(str),
                              short=[str(i + 1) for i in range(len(milestones))])
        mb = alt.Chart(m)
        layers += [
            mb.mark_rule(color="#999", strokeDash=[4, 3]).encode(
                x=alt.X("date:T"), tooltip=[alt.Tooltip("label:N", title="")]),
            mb.mark_text(align="left", baseline="top", dx=3, dy=2, fontSize=9, color="#555",
                         font=FONT, angle=0).encode(x=alt.X("date:T"), y=alt.value(0), text=alt.Text("short:N")),
        ]
    return finish(alt.layer(*layers, data=d, **size), text)


def sparkline_svg(values: list[float | None], label: str, width: int = 240, height: int = 44,
                  color: str = "#1b7f79") -> str:
    """A small inline SVG trend: a line through shown periods, broken where a period is
    hidden (a grey mark on the baseline), each shown period a dot (larger when alone). Plain SVG (no chart library) so a page of thirteen
    draws at once; `label` is its text alternative."""
    shown = [v for v in values if v is not None]
    if len(shown) < 2:
        return ""
    lo, hi = min(shown), max(shown)
    span = (hi - lo) or 1.0
    n = len(values)
    step = (width - 8) / max(n - 1, 1)
    pts = [(4 + i * step, 4 + (height - 8) * (1 - (v - lo) / span)) if v is not None else None
           for i, v in enumerate(values)]
    runs, run = [], []
    for p in pts:
        if p is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(p)
    if run:
        runs.append(run)
    lines = "".join(
        f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in r) + '"/>' for r in runs if len(r) > 1)
    # a shown period between hidden ones is a larger dot, so it reads as a value, not a
    # speck; each hidden period is a short grey mark on the baseline, so a gap reads as one
    lone = {i for i, p in enumerate(pts) if p and (i == 0 or not pts[i - 1]) and (i == n - 1 or not pts[i + 1])}
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{2.8 if i in lone else 1.8}" fill="{color}"/>'
                   for i, p in enumerate(pts) if p for x, y in [p])
    gaps = "".join(f'<line x1="{4 + i * step:.1f}" x2="{4 + i * step:.1f}" y1="{height - 5}" '
                   f'y2="{height - 1}" stroke="#8a8a8a" stroke-width="1.5"/>'
                   for i, p in enumerate(pts) if p is None)
    safe = label.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    return (f'<svg role="img" aria-label="{safe}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{safe}</title>{gaps}{lines}{dots}</svg>")


def milestone_lines(milestones: pd.DataFrame) -> list[str]:
    return [f"{i + 1}: {d} {label}" for i, (d, label) in
            enumerate(zip(milestones["date"].astype(str), milestones["label"]))]


class WithDatasets:
    """A chart whose large inline data joins its Vega-Lite spec after Altair's to_dict, as
    top-level named datasets. Altair walks and deep-copies every nested list of inline
    data while building a spec: for the districts' polygons that was about 300 ms of a
    map page's CPU (validated or not), against about 30 ms for the chart without them."""

    def __init__(self, chart: alt.TopLevelMixin, datasets: dict[str, list]):
        self.chart = chart
        self.datasets = datasets

    def to_dict(self, validate: bool = True) -> dict:
        spec = self.chart.to_dict(validate=validate)
        spec.setdefault("datasets", {}).update(self.datasets)
        return spec


LABEL_FONT_PX = 11


def place_labels(features: list[dict], height: int) -> list[dict]:
    """Each district's label where it overlaps no other: at its point inside the district
    when there is room, else moved the least distance to free space (text_lon, text_lat;
    `moved` draws a line back to the point). Sizes are in pixels of a map `height` tall,
    which is how the map is drawn at any width down to a phone's (it fits its height first).
    Deterministic: districts in number order, candidate spots in a fixed order."""
    import math

    props = [f["properties"] for f in features]
    if not props:
        return features
    lats = [p["label_lat"] for p in props]
    lat0 = math.radians(sum(lats) / len(lats))
    # the map's span: the districts' label points widened by LA's own extent (about 0.65
    # degrees of latitude north to south); the drawn map spans its geometry, a little more
    span = max(max(lats) - min(lats), 0.3) * 1.12
    ky = height / span           # pixels per degree of latitude
    kx = ky * math.cos(lat0)     # and of longitude
    w_char, h = LABEL_FONT_PX * 0.6, LABEL_FONT_PX + 3
    steps = [(0, 0)] + [(dx * r, dy * r) for r in (1, 2, 3, 4)
                        for dx, dy in ((0, -1), (0, 1), (1, 0), (-1, 0), (1, -1), (-1, -1), (1, 1), (-1, 1))]
    placed: list[tuple[float, float, float, float]] = []
    out: list[dict | None] = [None] * len(features)
    number = [int(p["district"]) if str(p["district"]).isdigit() else 99 for p in props]
    for i in sorted(range(len(features)), key=lambda i: number[i]):
        f, p = features[i], props[i]
        label = f"{p['district']}: {p['value_text']}"
        w = w_char * len(label) + 4
        x0, y0 = p["label_lon"] * kx, -p["label_lat"] * ky
        for dx, dy in steps:
            x, y = x0 + dx * (w / 2 + 4), y0 + dy * (h + 2)
            box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                break
        placed.append(box)
        moved = (dx, dy) != (0, 0)
        out[i] = {**f, "properties": {**p, "text_lon": x / kx, "text_lat": -y / ky, "moved": moved}}
    return out


HATCH_STEP_DEG = 0.009  # about 7 px on the 520 px map: fine enough to read as a texture


def hatch_lines(features: list[dict], step: float = HATCH_STEP_DEG) -> list[dict]:
    """Diagonal lines over each district whose value is hidden (any status but ok and
    none), as GeoJSON line features: hidden districts are marked by a pattern, not by
    their grey alone (a reader who cannot tell the greys apart still sees which are
    hidden). Vega-Lite has no pattern fill, so the pattern is geometry."""
    import shapely
    from shapely.geometry import shape

    out = []
    for f in features:
        p = f["properties"]
        if p.get("status") in ("ok", "none") or not f.get("geometry"):
            continue
        geom = shape(f["geometry"])
        x0, y0, x1, y1 = geom.bounds
        # lines x - y = c, rising to the right, every `step` degrees, over the bounds
        k0, k1 = int((x0 - y1) // step), int((x1 - y0) // step) + 1
        lines = shapely.MultiLineString([[(k * step + y0 - 0.01, y0 - 0.01), (k * step + y1 + 0.01, y1 + 0.01)]
                                         for k in range(k0, k1 + 1)])
        clipped = shapely.set_precision(lines.intersection(geom), 1e-6)
        if not clipped.is_empty:
            out.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(clipped)),
                        "properties": {"district": p["district"]}})
    return out


LEGEND_PX = 160  # the map legend's height: title and a 130 px ramp


def choropleth(features: list[dict], text: ChartText, kind: str, value_title: str,
               selected: str | None = None, selectable: bool = False,
               coverage: list[dict] | None = None,
               coverage_title: str = "Pilot area") -> WithDatasets:
    """Council districts filled by value; hidden districts grey and labelled with why
    (hidden_label).

    features: GeoJSON features whose properties hold district, name, value, status,
    value_text, label_lon, label_lat (see outcomes.ui.map_features).
    coverage: LAPD divisions the pilot serves (properties: division, served_text), drawn as
    an orange dashed outline over the districts.
    """
    fmt, _ = SCALE[kind]
    data = alt.Data(name="districts")
    width, height = WIDTH - 40, 520
    calc = dict(district="datum.properties.district", name="datum.properties.name",
                value="datum.properties.value", status="datum.properties.status",
                value_text="datum.properties.value_text")
    tooltip = [alt.Tooltip("name:N", title=t("chart.district", text.lang)), alt.Tooltip("value_text:N", title=value_title)]
    pick = alt.selection_point(name="pick", fields=["district"], on="click", empty=False)
    shown = (alt.Chart().mark_geoshape(stroke="white", strokeWidth=1.2)
             .transform_calculate(**calc).transform_filter("datum.status == 'ok'")
             # the palest quarter of the scheme is left out, so no value looks like the
             # white of a district with no calls
             # the scale starts at zero (a share runs to 100%): a spread of 22 to 23 minutes
             # is not stretched over the whole ramp
             .encode(color=alt.Color("value:Q", title=value_title,
                                     scale=alt.Scale(scheme={"name": "tealblues", "extent": [0.3, 1]},
                                                     zero=True,
                                                     **({"domain": [0, 1]} if kind == "share" else {})),
                                     # the legend sits beside the districts, in the map's
                                     # south-west corner (the ocean off Venice and San Pedro,
                                     # empty at any width the map is fitted to)
                                     # (placed by coordinates: "bottom-left" puts it at
                                     # the top in the export, where the map is one view of
                                     # a vconcat)
                                     legend=alt.Legend(format=fmt, orient="none", legendX=2,
                                                       legendY=height - LEGEND_PX,
                                                       direction="vertical", gradientLength=130,
                                                       titleLimit=160, tickCount=5,
                                                       labelOverlap="greedy")),
                     tooltip=tooltip)
             .project(type="mercator"))
    hidden = (alt.Chart().mark_geoshape(stroke="#999999", strokeWidth=1, strokeDash=[3, 2],
                                        description=t("value.mark_hidden", text.lang))
              .transform_calculate(**calc).transform_filter("datum.status != 'ok'")
              .encode(tooltip=tooltip,
                      fill=alt.condition("datum.status == 'none'", alt.value(NONE_FILL),
                                         alt.value(HIDDEN_FILL)))
              .project(type="mercator"))
    outline = (alt.Chart().mark_geoshape(fill=None, strokeWidth=3)
               .transform_calculate(**calc)
               .encode(stroke=alt.condition(f"datum.district == {json.dumps(selected or '')}",
                                            alt.value("#111"), alt.value("transparent")),
                       tooltip=tooltip).project(type="mercator"))
    if selectable:
        outline = outline.add_params(pick)
    # a layer is drawn only when it has districts: an empty one is an unlabelled image to a
    # screen reader (axe: svg-img-alt)
    statuses = {f["properties"].get("status") for f in features}
    layers = ([shown] if "ok" in statuses else []) + ([hidden] if statuses - {"ok"} else [])
    hatch = hatch_lines(features)
    if hatch:  # decorative: the district's label says "hidden" to a screen reader
        layers.append(alt.Chart(alt.Data(name="hatch"))
                      .mark_geoshape(filled=False, stroke="#6b6b6b", strokeWidth=0.8, aria=False)
                      .project(type="mercator"))
    if coverage:
        layers.append(
            alt.Chart(alt.Data(name="pilot_area"))
            .mark_geoshape(fill=None, stroke=COVERAGE_STROKE, strokeWidth=2.5, strokeDash=[7, 3])
            .transform_calculate(division="datum.properties.division",
                                 served="datum.properties.served_text")
            .encode(tooltip=[alt.Tooltip("division:N", title=coverage_title),
                             alt.Tooltip("served:N", title="")])
            .project(type="mercator"))

    features = place_labels(features, height)

    def labels(**style) -> alt.Chart:
        return (alt.Chart().mark_text(fontSize=11, font=FONT, fontWeight="bold", **style)
                .transform_calculate(lon="datum.properties.text_lon", lat="datum.properties.text_lat",
                                     label="datum.properties.district + ': ' + datum.properties.value_text")
                .encode(longitude=alt.Longitude("lon:Q"), latitude=alt.Latitude("lat:Q"),
                        text=alt.Text("label:N")).project(type="mercator"))

    # a label moved off its district is tied to it by a thin line
    leaders = (alt.Chart().mark_rule(color="#333", strokeWidth=0.8)
               .transform_filter("datum.properties.moved")
               .transform_calculate(lon="datum.properties.label_lon", lat="datum.properties.label_lat",
                                    lon2="datum.properties.text_lon", lat2="datum.properties.text_lat")
               .encode(longitude=alt.Longitude("lon:Q"), latitude=alt.Latitude("lat:Q"),
                       longitude2=alt.Longitude2("lon2:Q"), latitude2=alt.Latitude2("lat2:Q"))
               .project(type="mercator"))
    # a white halo under each label keeps it readable on dark districts
    halo = labels(color="white", stroke="white", strokeWidth=3, strokeJoin="round")
    marks = [*layers, outline] + ([leaders] if any(f["properties"]["moved"] for f in features) else [])
    chart = finish(alt.layer(*marks, halo, labels(color="#111"), data=data,
                             width=width, height=height), text)
    datasets = {"districts": features}
    if hatch:
        datasets["hatch"] = hatch
    if coverage:
        datasets["pilot_area"] = coverage
    return WithDatasets(chart, datasets)


def heatmap(df: pd.DataFrame, text: ChartText, weekday_labels: dict[str, str],
            hour_title: str, count_title: str) -> alt.VConcatChart:
    """Calls by hour of day x weekday; hidden cells grey and marked "×" (hidden)."""
    d = df.copy()
    d["hour"] = d["hour_of_day"].astype(int)
    d["day"] = d["weekday"].map(weekday_labels).fillna(d["weekday"])
    d["cell_text"] = [("×" if pd.isna(c) else "") for c in d["calls"]]
    days = [weekday_labels.get(w, w) for w in WEEKDAYS]
    base = alt.Chart()
    x = alt.X("hour:O", title=hour_title)
    y = alt.Y("day:N", sort=days, title=None)
    tooltip = [alt.Tooltip("day:N", title=""), alt.Tooltip("hour:O", title=hour_title),
               alt.Tooltip("calls:Q", title=count_title), alt.Tooltip("cell_text:N", title="")]
    cells = base.mark_rect().encode(
        x=x, y=y, tooltip=tooltip,
        color=alt.condition("isValid(datum.calls)",
                            alt.Color("calls:Q", title=count_title, scale=alt.Scale(scheme="tealblues")),
                            alt.value(HIDDEN_FILL)))
    marks = base.mark_text(fontSize=8, color="#555", font=FONT).encode(x=x, y=y, text=alt.Text("cell_text:N"))
    return finish(alt.layer(cells, marks, data=d, width=WIDTH - 90, height=220), text)
