"""Real-browser tests: the dashboard served by `streamlit run`, driven in system Chromium.

They prove what the unit tests cannot: every page runs and draws its charts in a browser,
the download buttons hand over real files, a copied link reopens the same view, and the
Spanish catalog reaches the screen. Fixtures (server, browser, pages) are in conftest.py.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import duckdb
import pandas as pd
import pypdf
import pytest
from playwright.sync_api import Locator, Page

from outcomes.i18n import t
from tests.e2e.conftest import SCREENSHOTS, Pages, Server, running_server

RUN_TIMEOUT_S = 60  # the first load also warms the query cache
QUIET_S = 1.0  # how long the app must stay idle to count as finished

# (name, url path, query string) of every page of st.navigation. Every page's url path is its
# file's name (dashboard.py), the overview's too: "/" opens it at /overview. The brief needs a
# district to draw anything.
PAGES = [
    ("overview", "overview", ""),
    ("map", "map", ""),
    ("response_times", "response_times", ""),
    ("outcomes", "outcomes", ""),
    ("trends", "trends", ""),
    ("police_baseline", "police_baseline", "period_type=year&period=2025"),
    ("district_brief", "district_brief", "district=1"),
    ("data_methods", "data_methods", ""),
]
FORMULA_START = ("=", "+", "-", "@")


# --- helpers ---------------------------------------------------------------------------

def settle(page: Page, timeout_s: float = RUN_TIMEOUT_S) -> None:
    """Wait for the page title and for the script run to end: no status widget ("Running…")
    for QUIET_S in a row, since a run (or the deep-link rerun) may start a moment later."""
    page.wait_for_selector("[data-testid=stMain] h1", timeout=timeout_s * 1000)
    status = page.locator("[data-testid=stStatusWidget]")
    deadline = time.monotonic() + timeout_s
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < QUIET_S:
        if status.count():
            quiet_since = time.monotonic()
        if time.monotonic() > deadline:
            pytest.fail(f"{page.url} still running after {timeout_s}s: {status.first.inner_text()!r}")
        page.wait_for_timeout(100)


def open_page(page: Page, server: Server, path: str, query: str = "") -> None:
    """Open a page by its URL as a visitor's link would, and check it ran: that very page
    (no "Page not found" fallback to the overview) and no exception."""
    page.goto(f"{server.url}/{path}" + (f"?{query}" if query else ""))
    settle(page)
    assert urlsplit(page.url).path == f"/{path}", f"opened /{path}, landed on {page.url}"
    assert_no_page_not_found(page)
    assert_no_exception(page)


def assert_no_page_not_found(page: Page) -> None:
    assert page.get_by_text("Page not found", exact=True).count() == 0, \
        f"{page.url}: Streamlit did not find the page and ran the default page instead"
    # the app closes that dialog and says so itself, in the visitor's language
    for lang in ("en", "es"):
        notice = t("nav.not_found", lang).split("{path}")[0]
        assert page.get_by_text(notice).count() == 0, f"{page.url}: the app found no such page"


def assert_no_exception(page: Page) -> None:
    exceptions = page.locator("[data-testid=stException]")
    assert exceptions.count() == 0, f"{page.url} shows an exception:\n{exceptions.first.inner_text()}"


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def full_page_screenshot(page: Page, name: str) -> Path:
    """Streamlit scrolls inside <main>, so a full-page shot needs a viewport as tall as it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    size = page.viewport_size or {"width": 1400, "height": 1000}
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height), 16_000))})
    page.wait_for_timeout(300)  # let the resized layout paint
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


CHART_REPORT_JS = """
() => [...document.querySelectorAll('[data-testid=stMain] .vega-embed')].map(embed => {
  const canvas = embed.querySelector('canvas');
  const svg = embed.querySelector('svg.marks') || embed.querySelector('svg');
  const el = canvas || svg;
  if (!el) return {renderer: 'none', width: 0, height: 0, shapes: 0, inked: 0, orange: 0};
  const box = el.getBoundingClientRect();
  let inked = 0;  // canvas only: pixels that are neither transparent nor near-white
  let orange = 0;  // canvas only: pixels of the pilot-coverage outline (#e07b00)
  if (canvas && canvas.width && canvas.height) {
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 0 && (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235)) inked++;
      if (d[i + 3] > 0 && Math.abs(d[i] - 224) < 25 && Math.abs(d[i + 1] - 123) < 25 && d[i + 2] < 60) orange++;
    }
  }
  const shapes = svg ? [...svg.querySelectorAll('g.mark-shape path')]
                         .filter(p => (p.getAttribute('d') || '').length > 10).length : 0;
  const outlines = svg ? svg.querySelectorAll('path[stroke="#e07b00"]').length : 0;
  return {renderer: canvas ? 'canvas' : 'svg', width: box.width, height: box.height, shapes, inked,
          orange: canvas ? orange : outlines, area: canvas ? canvas.width * canvas.height : 0};
})
"""


def chart_report(page: Page, want: int = 1, timeout_s: float = 15) -> list[dict]:
    """Every Vega chart in the main area; waits until `want` of them have a drawn size."""
    deadline = time.monotonic() + timeout_s
    while True:
        report = page.evaluate(CHART_REPORT_JS)
        drawn = [c for c in report if c["width"] > 0 and c["height"] > 0]
        if len(drawn) >= want or time.monotonic() > deadline:
            return report
        page.wait_for_timeout(200)


def sidebar_select(page: Page, label: str) -> Locator:
    """The sidebar selectbox with this label (its input holds the shown value)."""
    return (page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]")
            .filter(has=page.get_by_text(label, exact=True)).locator("input"))


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option in a sidebar selectbox the way a visitor does, then wait for the rerun."""
    sidebar_select(page, label).click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def sidebar_values(page: Page) -> list[str]:
    return [i.input_value() for i in page.locator("[data-testid=stSidebar] [data-testid=stSelectbox] input").all()]


def shown_view(page: Page) -> dict[str, object]:
    """What a visitor reads: page path and query, title, filters, and every st.metric."""
    parts = urlsplit(page.url)
    return {
        "path": parts.path,
        "query": query_of(page.url),
        "title": page.locator("[data-testid=stMain] h1").first.inner_text(),
        "filters": sidebar_values(page),
        "metrics": [m.inner_text() for m in page.locator("[data-testid=stMain] [data-testid=stMetric]").all()],
        "subheaders": [h.inner_text() for h in page.locator("[data-testid=stMain] h2, [data-testid=stMain] h3").all()],
    }


def view_when(page: Page, ready: Callable[[dict[str, object]], bool],
              timeout_s: float = RUN_TIMEOUT_S) -> dict[str, object]:
    """The view once `ready` holds for it, or as it stands after timeout_s: on a busy
    machine a fresh browser may draw the title and headings a while before the sidebar and
    cards, after the status widget has gone."""
    deadline = time.monotonic() + timeout_s
    view = shown_view(page)
    while not ready(view) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        view = shown_view(page)
    return view


def eventually_view(page: Page, expected: dict[str, object],
                    timeout_s: float = RUN_TIMEOUT_S) -> dict[str, object]:
    """The view once it equals `expected`, or as it stands after timeout_s."""
    return view_when(page, lambda view: view == expected, timeout_s)


def download(page: Page, button: Locator) -> tuple[str, bytes]:
    with page.expect_download(timeout=60_000) as info:
        button.click()
    dl = info.value
    assert dl.failure() is None, f"download of {dl.suggested_filename} failed: {dl.failure()}"
    return dl.suggested_filename, Path(dl.path()).read_bytes()


def check_exported_csv(data: bytes, columns: set[str]) -> pd.DataFrame:
    """Comment lines (title … "Data through" …) then a header with `columns`, and no cell a
    spreadsheet would run as a formula (a negative number is allowed: it is not text)."""
    text = data.decode("utf-8")
    lines = text.splitlines()
    comments = [ln for ln in lines if ln.startswith("# ")]
    assert lines[: len(comments)] == comments, "comment lines must all come before the table"
    assert len(comments) >= 4, comments
    assert any(ln.startswith("# Data through ") for ln in comments), comments
    frame = pd.read_csv(io.StringIO(text), comment="#")
    assert columns <= set(frame.columns), (columns, list(frame.columns))
    assert len(frame) > 0
    rows = list(csv.reader(io.StringIO("\n".join(lines[len(comments):]))))
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_START):
                try:
                    float(cell)
                except ValueError:
                    pytest.fail(f"CSV cell {cell!r} would run as a spreadsheet formula")
    return frame


# --- tests -----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "path", "query"), PAGES, ids=[name for name, _, _ in PAGES])
def test_page_runs_and_draws(pages: Pages, app_server: Server, name: str, path: str, query: str) -> None:
    """Each page, opened by its URL, finishes running with no exception and no uncaught
    JavaScript error, and its charts are really drawn (nonzero size; on the map, the 15
    district shapes); a full-page screenshot is kept in test-artifacts/screenshots/."""
    page = pages.new()
    open_page(page, app_server, path, query)
    charts = chart_report(page, want=0 if name in ("data_methods", "overview") else 1)
    full_page_screenshot(page, name)
    assert not pages.errors(page), f"uncaught JavaScript errors on {name}: {pages.errors(page)}"

    if name == "overview":  # 13 headline cards, each trend an inline SVG line with points
        assert page.locator("[data-testid=stMetric]").count() >= 13
        lines = page.locator("[data-testid=stMain] svg[role=img] polyline")
        assert lines.count() >= 5, f"only {lines.count()} trend lines drew on the overview"
        widths = [(lines.nth(i).bounding_box() or {}).get("width", 0) for i in range(lines.count())]
        assert max(widths) > 50, widths  # a trend drawn across, not a dot
        return

    drawn = [c for c in charts if c["width"] > 0 and c["height"] > 0]
    if name == "data_methods":  # tables and downloads, no charts
        assert page.get_by_role("button", name="CSV", exact=True).count() > 0
        assert page.get_by_role("button", name="Parquet", exact=True).count() > 0
        return
    assert drawn, f"no chart drew on {name}: {charts}"
    if name == "map":
        (chart,) = drawn
        if chart["renderer"] == "svg":
            assert chart["shapes"] >= 15, f"map drew {chart['shapes']} district shapes: {chart}"
        else:
            assert chart["inked"] > 0.05 * chart["area"], f"map canvas is (nearly) blank: {chart}"
        # the divisions the pilot serves, outlined in orange over the districts
        assert chart["orange"] > (0 if chart["renderer"] == "svg" else 500), chart
    if name == "police_baseline":  # by district beside the teams, and by division
        assert len(drawn) == 2, charts
        for chart in drawn:
            assert chart["renderer"] == "svg" or chart["inked"] > 0.03 * chart["area"], chart


def test_chart_downloads(pages: Pages, app_server: Server) -> None:
    """On Trends, the first chart's PNG, SVG and CSV buttons hand over real files: PNG bytes,
    an SVG with the title and "Data through" footer, a CSV with its comment header and a
    table free of spreadsheet formulas."""
    page = pages.new()
    open_page(page, app_server, "trends")
    title = t("metric.coverage_rate.label")

    name, png = download(page, page.locator(".st-key-trend_chart_png button"))
    assert name.endswith(".png") and png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000, (name, len(png))

    name, svg = download(page, page.locator(".st-key-trend_chart_svg button"))
    svg_text = svg.decode("utf-8")
    assert name.endswith(".svg") and svg_text.lstrip().startswith("<svg"), name
    assert "Data through" in svg_text and title in svg_text

    name, data = download(page, page.locator(".st-key-trend_chart_csv button"))
    assert name.endswith(".csv"), name
    frame = check_exported_csv(data, {"place", "period", "value", "numerator", "denominator", "status",
                                      # the slice as columns, labels beside the codes
                                      "period_type", "district", "district_label", "call_type_group",
                                      "call_type_group_label"})
    assert set(frame["district_label"]) == {t("place.city")}, set(frame["district_label"])
    assert data.decode().startswith(f"# {title}\n")
    assert set(frame["status"]) <= {"ok", "hidden", "few", "longer", "none"}
    # beside each exact rate, the rate as the chart writes it
    ok = frame[frame["status"] == "ok"]
    assert len(ok) and list(ok["value_as_drawn"]) == [f"{x * 100:.1f}%" for x in ok["value"]]
    assert set(frame.loc[frame["status"] != "ok", "value_as_drawn"]) <= {"hidden", "n<20", "longer periods", "–"}


def test_the_funnel_draws_and_exports(pages: Pages, app_server: Server) -> None:
    """On the Overview, the eligibility funnel draws its steps, names the biggest drop-off,
    lists the drop-offs by reason, and its CSV carries every step and drop-off with words
    beside the codes and the shares as drawn."""
    page = pages.new()
    open_page(page, app_server, "overview")
    main = page.locator("[data-testid=stMain]")
    heading = main.get_by_role("heading", name=t("funnel.title"))
    heading.scroll_into_view_if_needed()
    assert heading.is_visible()
    lead = t("funnel.biggest_drop").split(":")[0]
    assert main.get_by_text(lead).first.is_visible()  # (and again in the text alternative)
    # the funnel is the page's last chart: it draws
    assert main.locator(".vega-embed").last.locator("svg, canvas").count()
    name, data = download(page, page.locator(".st-key-funnel_csv button"))
    assert name.startswith("eligibility_funnel_") and name.endswith(".csv"), name
    frame = check_exported_csv(data, {"node", "node_label", "parent_node", "node_kind", "calls",
                                      "share_of_parent", "share_of_parent_as_drawn", "status",
                                      "period_type", "district", "call_type_group"})
    assert {"calls", "eligible", "served", "outside_pilot_area", "unserved_not_recorded"} <= set(frame["node"])
    assert t("funnel.node.in_area") in set(frame["node_label"])
    ok = frame[frame["share_of_parent"].notna()]
    assert len(ok) and list(ok["share_of_parent_as_drawn"]) == [f"{x * 100:.1f}%" for x in ok["share_of_parent"]]
    hidden = frame[frame["status"] == "hidden"]
    assert hidden["calls"].isna().all()


def test_the_release_archive_lists_and_downloads(pages: Pages, app_server: Server) -> None:
    """Data & methods lists the public file's releases and hands over the chosen one's
    files as a zip whose every file matches the checksum its MANIFEST.json gives."""
    import hashlib
    import json
    import zipfile
    page = pages.new()
    open_page(page, app_server, "data_methods")
    main = page.locator("[data-testid=stMain]")
    heading = main.get_by_role("heading", name=t("dm.releases"))
    heading.scroll_into_view_if_needed()
    with duckdb.connect(str(app_server.db), read_only=True) as con:
        release = con.execute("select release from releases order by released_at desc").fetchone()[0]
    assert main.get_by_text(release).count() >= 1
    name, data = download(page, page.locator(".st-key-release_zip button"))
    assert name == f"{release}.zip", name
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        manifest = json.loads(z.read(f"{release}/MANIFEST.json"))
        assert manifest["release"] == release and len(manifest["files"]) > 20
        for rel, digest in manifest["files"].items():
            assert hashlib.sha256(z.read(f"{release}/{rel}")).hexdigest() == digest, rel


def test_the_public_use_file_downloads(pages: Pages, app_server: Server) -> None:
    """Data & methods hands over the public-use record file as CSV and Parquet, the same
    rows as the public file's table, k-anonymous and l-diverse as recomputed from the
    download, with its data dictionary; in Spanish too."""
    import pyarrow.parquet as pq
    from etl.publish import puf
    page = pages.new()
    open_page(page, app_server, "data_methods")
    main = page.locator("[data-testid=stMain]")
    main.get_by_role("heading", name=t("dm.puf.title")).scroll_into_view_if_needed()
    with duckdb.connect(str(app_server.db), read_only=True) as con:
        table = con.execute("select * from public_use_file").df()
        summary = con.execute("select * from public_use_file_summary").df().iloc[0]
    assert main.get_by_text(f"{int(summary['records_kept']):,}").count() >= 1
    name, data = download(page, page.locator(".st-key-puf_csv button"))
    assert name == "public_use_file.csv", name
    lines = data.decode("utf-8").splitlines()
    body = [ln for ln in lines if not ln.startswith("#")]
    assert any(ln.startswith("# ") and "k = " in ln for ln in lines), lines[:6]
    rows = pd.read_csv(io.StringIO("\n".join(body)), dtype=str, keep_default_na=False)
    assert rows.equals(table.astype(str)), "the CSV holds other rows than the public file"
    k, l = puf.k_and_l(rows)
    assert k >= 11 and (l is None or l >= 2), (k, l)
    name, data = download(page, page.locator(".st-key-puf_parquet button"))
    assert name == "public_use_file.parquet"
    assert pq.read_table(io.BytesIO(data)).num_rows == len(table)
    name, data = download(page, page.locator(".st-key-puf_dictionary button"))
    assert name == "public_use_file_dictionary.csv"
    dictionary = data.decode("utf-8")
    assert all(c in dictionary for c in table.columns), dictionary[:500]

    es = pages.new()
    open_page(es, app_server, "data_methods", "lang=es")
    assert es.locator("[data-testid=stMain]").get_by_role("heading", name=t("dm.puf.title", "es")).count() == 1
    assert es.locator(".st-key-puf_csv button").inner_text().strip() == t("dm.puf.csv", "es")


def test_district_brief_downloads(pages: Pages, app_server: Server) -> None:
    """The district brief's one-page PDF is a real PDF of some size, and its CSV carries the
    same comment header as the chart exports."""
    page = pages.new()
    open_page(page, app_server, "district_brief", "district=1")
    assert "Council District 1" in page.locator("[data-testid=stMain] h2").first.inner_text()

    for button, size in ((t("brief.download_pdf"), (612, 792)), (t("brief.download_pdf_a4"), (595, 842))):
        name, pdf = download(page, page.get_by_role("button", name=button))
        assert name.startswith("district_1_brief") and name.endswith(".pdf"), name
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        # one page of the paper asked for, with margins, titled, in English, tagged
        assert len(reader.pages) == 1, (button, len(reader.pages))
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == size, (button, box)
        assert reader.metadata.title == t("brief.pdf_title", name="Council District 1")
        assert reader.trailer["/Root"]["/Lang"] == "en"
        assert reader.trailer["/Root"]["/MarkInfo"]["/Marked"]
        text = reader.pages[0].extract_text()
        assert "Issued " in text and "data through" in text, text[:300]
        assert "/district_brief?district=1" in text, text[:300]  # the link that reproduces it
        assert "…" not in text  # no label cut short

    name, data = download(page, page.get_by_role("button", name=t("brief.download_csv")))
    assert name.endswith(".csv"), name
    check_exported_csv(data, {"metric", "district_value", "city_value"})


def _a_year(db: Path) -> str:
    """2025 if the public file publishes it, else its first calendar year."""
    with duckdb.connect(str(db), read_only=True) as con:
        years = [r[0] for r in con.execute(
            "select period from periods where period_type = 'year' order by period").fetchall()]
    assert years, "the public file publishes no calendar year"
    return "2025" if "2025" in years else years[0]


def test_links_reproduce_the_view(pages: Pages, app_server: Server) -> None:
    """A deep link sets the sidebar filters; changing a filter and switching page rewrite
    the URL; and each URL, opened in a fresh browser context, shows the same view."""
    year = _a_year(app_server.db)
    page = pages.new()
    open_page(page, app_server, "map", f"period_type=year&period={year}&district=7")
    assert query_of(page.url) == {"period_type": ["year"], "period": [year], "district": ["7"]}, page.url
    assert sidebar_select(page, t("filters.period_type")).input_value() == t("period_type.year")
    assert sidebar_select(page, t("filters.period")).input_value() == year
    assert sidebar_select(page, t("filters.district")).input_value() == "Council District 7"
    assert "Council District 7" in shown_view(page)["subheaders"]

    choose(page, t("filters.district"), "Council District 5")
    page.wait_for_url(lambda url: query_of(url).get("district") == ["5"])
    assert query_of(page.url) == {"period_type": ["year"], "period": [year], "district": ["5"]}, page.url
    on_map, map_url = shown_view(page), page.url
    assert on_map["metrics"] and on_map["metrics"][0].startswith("Council District 5"), on_map

    page.locator("[data-testid=stSidebar]").get_by_role("link", name=t("nav.response_times")).click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/response_times")
    settle(page)
    assert_no_page_not_found(page)
    assert_no_exception(page)
    on_rt = shown_view(page)
    assert on_rt["query"] == on_map["query"], (on_rt["query"], on_map["query"])
    assert on_rt["title"] == t("rt.title")

    for before, url in ((on_map, map_url), (on_rt, page.url)):
        fresh = pages.new()
        fresh.goto(url)
        settle(fresh)
        assert_no_page_not_found(fresh)
        assert_no_exception(fresh)
        after = eventually_view(fresh, before)
        assert after == before, f"{url} reopened differently:\n{after}\nvs\n{before}"


def test_deep_link_on_a_fresh_server(pages: Pages, app_public_file: Path, tmp_path: Path) -> None:
    """A server's very first request may be a deep link (a shared link opened after a
    restart), which Streamlit routes by page file before st.navigation has run: it must still
    show that page with the link's filters, and later deep links must work too."""
    year = _a_year(app_public_file)
    with running_server(app_public_file, tmp_path / "fresh.log") as server:
        try:
            page = pages.new()
            open_page(page, server, "map", f"period_type=year&period={year}&district=3")
            assert query_of(page.url) == {"period_type": ["year"], "period": [year], "district": ["3"]}
            assert shown_view(page)["title"] == t("map.title")
            assert sidebar_select(page, t("filters.district")).input_value() == "Council District 3"
            assert chart_report(page)[0]["shapes"] >= 15

            second = pages.new()
            open_page(second, server, "data_methods", "lang=es")
            assert shown_view(second)["title"] == t("dm.title", "es")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- fresh server output ---\n{server.log_tail()}") from exc


def _release_variant(source: Path, out: Path, through: str, rate: float) -> None:
    """A copy of a public file as a later release would differ: its last run's data-through
    date and every coverage rate."""
    shutil.copyfile(source, out)
    with duckdb.connect(str(out)) as con:
        con.execute("""update runs set data_through = $d where finished_at =
                       (select max(finished_at) from runs where status = 'ok')""", {"d": through})
        con.execute("update coverage set coverage_rate = $r where coverage_rate is not null",
                    {"r": rate})


def test_a_running_app_shows_each_new_release(pages: Pages, app_public_file: Path,
                                              tmp_path: Path) -> None:
    """The nightly run swaps a new public file in with os.replace while visitors have the
    page open: on their next rerun they see it, with no restart and no error, three times."""
    live = tmp_path / "live" / "public.duckdb"
    live.parent.mkdir()
    shutil.copyfile(app_public_file, live)
    with running_server(live, tmp_path / "swap.log") as server:
        try:
            kept = pages.new()
            open_page(kept, server, "overview", "period_type=pilot_to_date")
            for i, district in enumerate(("2", "3", "4"), start=1):
                through = f"2031-0{i}-15"
                new = tmp_path / f"release-{i}.duckdb"
                _release_variant(app_public_file, new, through, i / 10)
                os.replace(new, live)
                choose(kept, t("filters.district"), f"Council District {district}")
                assert_no_exception(kept)
                banner = kept.locator("[data-testid=stMain]").inner_text()
                assert f"Data through {through}" in banner, f"swap {i}: the open page still shows the old release"
                fresh = pages.new()
                fresh.goto(kept.url)
                settle(fresh)
                assert eventually_view(fresh, shown_view(kept)) == shown_view(kept), f"swap {i}"
                coverage = shown_view(kept)["metrics"][0]
                assert coverage.startswith(t("metric.coverage_rate.label")) and \
                    coverage.endswith(f"{i * 10}.0%"), (i, coverage)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- server output ---\n{server.log_tail()}") from exc


def test_no_request_leaves_the_server(pages: Pages, app_server: Server) -> None:
    """A visitor's browser contacts this server only: no font host, CDN or tracker learns
    who reads the dashboard, and the page works with no other host reachable."""
    page = pages.new()
    asked: list[str] = []
    page.on("request", lambda req: asked.append(req.url))
    for path in ("overview", "map", "outcomes"):
        open_page(page, app_server, path)
    own = urlsplit(app_server.url).netloc
    elsewhere = sorted({u for u in asked if urlsplit(u).scheme in ("http", "https", "ws", "wss")
                        and urlsplit(u).netloc != own})
    assert asked and not elsewhere, elsewhere
    icon = page.locator("link[rel*=icon]").first.get_attribute("href")
    assert icon and not icon.startswith("http") or urlsplit(icon).netloc == own, icon


def test_spanish(pages: Pages, app_server: Server) -> None:
    """?lang=es puts the Spanish catalog on screen: page title, navigation and filters."""
    page = pages.new()
    open_page(page, app_server, "overview", "lang=es")
    assert query_of(page.url).get("lang") == ["es"], page.url
    title = page.locator("[data-testid=stMain] h1").first.inner_text()
    assert title == t("overview.title", "es") != t("overview.title", "en"), title
    nav = page.locator("[data-testid=stSidebar]").inner_text()
    assert t("nav.trends", "es") in nav, nav
    assert sidebar_select(page, t("filters.district", "es")).input_value() == t("place.city", "es")


def test_sidebar_navigation_keeps_the_address_bar_in_step(pages: Pages, app_server: Server) -> None:
    """After each click in the page list, the address bar names the page shown and keeps
    the filters, so copying it at any moment gives a working link."""
    page = pages.new()
    open_page(page, app_server, "outcomes", "district=4")
    for path, key in (("response_times", "nav.response_times"), ("data_methods", "nav.data_methods"),
                      ("overview", "nav.overview"), ("map", "nav.map")):
        page.locator("[data-testid=stSidebar]").get_by_role("link", name=t(key)).click()
        page.wait_for_function(
            "want => location.pathname === want && new URLSearchParams(location.search).get('district') === '4'",
            arg=f"/{path}", timeout=15_000)
        settle(page)
        assert_no_exception(page)
        href = page.evaluate("location.href")
        assert urlsplit(href).path == f"/{path}" and query_of(href) == {"district": ["4"]}, href


def test_clicking_a_district_on_the_map_opens_it(pages: Pages, app_server: Server) -> None:
    """A click on a district's shape chooses that district: the sidebar, the address bar and
    the panel under the map follow."""
    page = pages.new()
    open_page(page, app_server, "map")
    box = page.locator(".vega-embed").first.bounding_box()
    assert box, "the map did not draw"
    # the chart is the map (520 px tall, centred in its column), its legend in the south-west corner
    for fx, fy in ((0.45, 0.30), (0.50, 0.45), (0.40, 0.25)):  # the valley, the middle
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + 520 * fy)
        try:
            page.wait_for_function("() => new URLSearchParams(location.search).has('district')",
                                   timeout=8_000)
            break
        except Exception:
            continue
    href = page.evaluate("location.href")
    district = query_of(href).get("district", [None])[0]
    assert district and district.isdigit() and 1 <= int(district) <= 15, href
    settle(page)
    assert sidebar_select(page, t("filters.district")).input_value() == f"Council District {district}"
    assert f"Council District {district}" in shown_view(page)["subheaders"]
