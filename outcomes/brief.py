"""The district brief: one council district against the city, as a page a council office can
attach to a motion or a newspaper can print as is.

The PDF is an HTML page laid out by WeasyPrint: a US Letter (or A4) page with margins, the
date it was issued and the link that reproduces it, title and language in its metadata, and
tagged (PDF/UA-1) so a screen reader can read its table. Its trend chart is the same
Vega-Lite chart the page draws, embedded as vector SVG (vl-convert).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import altair as alt
import pandas as pd

from outcomes import charts
from outcomes.charts import FONT, WIDTH, ChartText

PAPER = {"letter": "Letter", "a4": "A4"}


def trend_chart(trend: pd.DataFrame, title: str, kind: str, value_title: str, lang: str,
                milestones: pd.DataFrame | None, month_names: list[str] | None = None) -> alt.TopLevelMixin:
    """The district's line against the city's, month by month (its notes are the page's)."""
    line = charts.trend(trend, ChartText(title, "", "", "", "", lang=lang), kind, value_title,
                        milestones, month_names, height=170)
    inner = line.vconcat[0]
    inner.title = alt.TitleParams(title, anchor="start", fontSize=12, font=FONT)
    inner.width = WIDTH
    return inner


@dataclass(frozen=True)
class BriefPage:
    """What the brief's page says, in the reader's language."""
    lang: str
    title: str
    subtitle: str
    headers: tuple[str, str, str, str]
    issued: str        # "Issued 2026-12-02 · data through 2026-10-31"
    link_label: str    # "This brief online:"
    link: str          # the address that reproduces the view
    notes: list[str]   # source, definitions (with their address), disclosure, milestones
    keywords: str


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


def _css_string(text: str) -> str:
    """Text inside a CSS string (the page footer): entities are not decoded there."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def brief_html(page: BriefPage, rows: pd.DataFrame, chart_svg: str, paper: str = "letter") -> str:
    """rows: label, district_text, city_text, detail_text."""
    body_rows = "".join(
        f"<tr><th scope='row'>{_e(r.label)}</th><td class='num'>{_e(r.district_text)}</td>"
        f"<td class='num'>{_e(r.city_text)}</td><td>{_e(r.detail_text)}</td></tr>"
        for r in rows.itertuples())
    head = "".join(f"<th scope='col'>{_e(h)}</th>" for h in page.headers)
    notes = "".join(f"<p>{_e(n)}</p>" for n in page.notes)
    return f"""<!doctype html>
<html lang="{_e(page.lang)}">
<head>
<meta charset="utf-8">
<title>{_e(page.title)}</title>
<meta name="author" content="Crisis Response Outcomes">
<meta name="description" content="{_e(page.subtitle)}">
<meta name="keywords" content="{_e(page.keywords)}">
<style>
@page {{
  size: {PAPER[paper]};
  margin: 0.7in 0.75in 0.8in 0.75in;
  @bottom-left {{ content: {_css_string(page.link_label + " " + page.link)}; font: 7pt {FONT};
                  color: #4d4d4d; }}
}}
body {{ font: 8.5pt/1.25 {FONT}; color: #1a1a1a; margin: 0; }}
h1 {{ font-size: 16pt; margin: 0 0 2pt 0; }}
.sub {{ font-size: 10.5pt; color: #333; margin: 0 0 2pt 0; }}
.issued {{ font-size: 8.5pt; color: #4d4d4d; margin: 0 0 10pt 0; }}
.issued a {{ color: #146b66; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 10pt; }}
th, td {{ text-align: left; vertical-align: top; padding: 2pt 4pt; border-bottom: 0.5pt solid #ccc; }}
thead th {{ border-bottom: 1pt solid #333; font-size: 8.5pt; }}
tbody th {{ font-weight: normal; width: 36%; }}
td.num {{ text-align: right; white-space: nowrap; font-weight: bold; }}
td {{ font-size: 8pt; }}
tbody th {{ font-size: 8.5pt; }}
figure {{ margin: 0 0 6pt 0; break-inside: avoid; }}
figure img {{ width: 100%; }}
.notes {{ columns: 2; column-gap: 14pt; }}
.notes p {{ font-size: 7pt; color: #333; margin: 0 0 2pt 0; }}
</style>
</head>
<body>
<h1>{_e(page.title)}</h1>
<p class="sub">{_e(page.subtitle)}</p>
<p class="issued">{_e(page.issued)} · {_e(page.link_label)} <a href="{_e(page.link)}">{_e(page.link)}</a></p>
<table>
<thead><tr>{head}</tr></thead>
<tbody>{body_rows}</tbody>
</table>
<figure>{chart_svg}</figure>
<div class="notes">{notes}</div>
</body>
</html>"""


def pdf_unavailable() -> str | None:
    """Why this machine cannot make the PDF (WeasyPrint needs the Pango library), or None."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    return None


def brief_pdf(page: BriefPage, rows: pd.DataFrame, chart: dict, paper: str = "letter") -> bytes:
    """The brief as a one-page tagged PDF."""
    import weasyprint  # only when a brief is downloaded: it loads Pango

    from outcomes import export
    svg = export.to_svg(chart).decode("utf-8")
    # the SVG inline, sized by its viewBox to the text width
    svg = svg.replace("<svg ", "<svg style='width:100%;height:auto' ", 1)
    doc = weasyprint.HTML(string=brief_html(page, rows, svg, paper))
    return doc.write_pdf(pdf_variant="pdf/ua-1")
