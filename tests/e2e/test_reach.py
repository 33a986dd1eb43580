"""Every resident can reach it: every page on a phone and to a screen reader, in English and
Spanish, at its own address.

- On a 390 px wide screen nothing runs off the page sideways (a table may scroll inside its
  own frame), and a full-page screenshot of each page in each language is kept in
  test-artifacts/screenshots/phone-*.png for a person to look at.
- axe-core (vendored in tests/e2e/vendor, MPL-2.0) finds no serious or critical violation on
  any page, at 1400 px and at 390 px, in either language.
- The document's language and the tab's title follow the visitor's language.
- /overview is an address like every other page's; the page links carry the view.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from outcomes.i18n import t
from tests.e2e.conftest import SCREENSHOTS, Pages, Server
from tests.e2e.test_browser import PAGES, open_page, query_of, settle

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
PHONE = {"width": 390, "height": 844}
NAV_KEYS = {"overview": "nav.overview", "map": "nav.map", "response_times": "nav.response_times",
            "outcomes": "nav.outcomes", "trends": "nav.trends", "police_baseline": "nav.police_baseline",
            "district_brief": "nav.district_brief", "data_methods": "nav.data_methods"}

# Elements wider than the screen that are not inside a frame of their own that scrolls (or
# clips) within the screen: what a reader would have to scroll the whole page sideways for.
OVERFLOW_JS = """() => {
  const W = document.documentElement.clientWidth;
  const main = document.querySelector('[data-testid=stMain]');
  const framed = el => {
    for (let p = el.parentElement; p && p !== main; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (['auto', 'scroll', 'hidden', 'clip'].includes(ox) && p.getBoundingClientRect().right <= W + 1)
        return true;
    }
    return false;
  };
  const out = [];
  for (const el of main.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.right > W + 1 && !framed(el))
      out.push(`${el.getAttribute('data-testid') || el.tagName.toLowerCase()} reaches ${Math.round(r.right)} px: `
               + (el.innerText || el.getAttribute('aria-label') || '').slice(0, 60).replace(/\\s+/g, ' '));
  }
  return {page: document.documentElement.scrollWidth, width: W, wide: out.slice(0, 8)};
}"""

AXE_JS = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => ['serious', 'critical'].includes(v.impact)).map(v =>
    `${v.id} (${v.impact}, ${v.nodes.length}): ` + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
}"""


def wait_for_charts(page: Page) -> None:
    """Charts draw after the script run ends: wait until each has its canvas or SVG."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]"
        ".every(c => c.querySelector('canvas, svg'))", timeout=20_000)
    page.wait_for_timeout(500)


def axe_violations(page: Page) -> list[str]:
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_JS)


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(("name", "path", "query"), PAGES, ids=[name for name, _, _ in PAGES])
def test_every_page_on_a_phone_and_to_a_screen_reader(pages: Pages, app_server: Server, name: str,
                                                      path: str, query: str, lang: str) -> None:
    # a phone first, as a visitor on one opens a link
    page = pages.new(PHONE)
    open_page(page, app_server, path, "&".join(q for q in (query, f"lang={lang}") if q))
    wait_for_charts(page)
    assert page.evaluate("document.documentElement.lang") == lang
    title = page.title()
    assert title.startswith(t(NAV_KEYS[name], lang)) and t("app.name", lang) in title, title
    overflow = page.evaluate(OVERFLOW_JS)
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": PHONE["width"], "height": min(max(height, PHONE["height"]), 12_000)})
    page.wait_for_timeout(500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"phone-{name}-{lang}.png"))
    assert overflow["page"] <= overflow["width"] and not overflow["wide"], \
        f"{name} ({lang}) at 390 px runs off the screen: {overflow}"
    narrow = axe_violations(page)
    assert not narrow, f"{name} ({lang}) at 390 px: axe finds {narrow}"

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.wait_for_timeout(1_000)  # charts take the new width
    wait_for_charts(page)
    wide = axe_violations(page)
    assert not wide, f"{name} ({lang}) at 1400 px: axe finds {wide}"


def test_the_overview_has_its_own_address(pages: Pages, app_server: Server) -> None:
    """/overview?lang=es opens the overview in Spanish with no "page not found" notice; "/"
    opens the overview at that address, keeping the query string."""
    page = pages.new()
    open_page(page, app_server, "overview", "lang=es&district=9")
    assert page.locator("[role=dialog]").count() == 0, page.locator("[role=dialog]").all_inner_texts()
    assert page.locator("[data-testid=stMain] h1").first.inner_text() == t("overview.title", "es")
    assert query_of(page.url) == {"lang": ["es"], "district": ["9"]}, page.url

    page.goto(f"{app_server.url}/?lang=es")
    page.wait_for_url(lambda url: urlsplit(url).path == "/overview")
    settle(page)
    assert query_of(page.url) == {"lang": ["es"]}, page.url
    assert page.locator("[role=dialog]").count() == 0


def test_an_address_that_is_no_page(pages: Pages, app_server: Server) -> None:
    """A mistyped address opens the overview with a notice in the visitor's language, and
    no dialog in English over it."""
    page = pages.new()
    page.goto(f"{app_server.url}/no-such-page?lang=es")
    page.wait_for_url(lambda url: urlsplit(url).path == "/overview")
    settle(page)
    page.get_by_text(t("nav.not_found", "es", path="/no-such-page")).wait_for()
    page.wait_for_timeout(1000)  # the dialog opens after the first run
    assert page.locator("[role=dialog]").count() == 0, page.locator("[role=dialog]").all_inner_texts()
    assert page.locator("[data-testid=stMain] h1").first.inner_text() == t("overview.title", "es")
    assert query_of(page.url) == {"lang": ["es"]}, page.url


def test_page_links_carry_the_view(pages: Pages, app_server: Server) -> None:
    """Each page link's address holds the view, so a page opened in a new tab shows the same
    district and language; opening one in a fresh browser does."""
    page = pages.new()
    open_page(page, app_server, "map", "district=9&lang=es")
    links = page.locator("[data-testid=stSidebar] a")
    # on a loaded machine the sidebar may be drawn a moment after the page's heading
    expect(links).to_have_count(len(PAGES), timeout=30_000)
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    paths = [urlsplit(h).path.strip("/") for h in hrefs]
    assert paths == [p for _, p, _ in PAGES], hrefs
    assert all(query_of(h) == {"district": ["9"], "lang": ["es"]} for h in hrefs), hrefs
    names = [links.nth(i).inner_text().strip() for i in range(links.count())]
    assert names == [t(NAV_KEYS[p], "es") for p in paths], names  # no icon words in the names

    fresh = pages.new()
    fresh.goto(f"{app_server.url}/{hrefs[2].lstrip('/')}")
    settle(fresh)
    assert fresh.locator("[data-testid=stMain] h1").first.inner_text() == t("rt.title", "es")
    from tests.e2e.test_browser import sidebar_select
    district = sidebar_select(fresh, t("filters.district", "es")).input_value()
    assert district == t("place.district", "es", n="9"), district


def test_back_restores_the_previous_view(pages: Pages, app_server: Server) -> None:
    """A filter change is a step in the browser's history: Back shows the view before it."""
    from tests.e2e.test_browser import choose, sidebar_select
    page = pages.new()
    open_page(page, app_server, "map", "district=7")
    choose(page, t("filters.district"), "Council District 5")
    page.wait_for_url(lambda url: query_of(url).get("district") == ["5"])
    settle(page)
    page.go_back()
    page.wait_for_url(lambda url: query_of(url).get("district") == ["7"])
    settle(page)
    assert sidebar_select(page, t("filters.district")).input_value() == "Council District 7"
    assert query_of(page.url) == {"district": ["7"]}, page.url


def test_on_a_phone_the_sidebar_closes_after_a_choice(pages: Pages, app_server: Server) -> None:
    """The sidebar lies over a phone's page: after a district is picked it closes, and the
    page shows that district."""
    from tests.e2e.test_browser import choose
    page = pages.new(PHONE)
    open_page(page, app_server, "overview")
    page.locator("[data-testid=stExpandSidebarButton]").first.click()
    sidebar = page.locator("[data-testid=stSidebar]")
    page.wait_for_function("() => document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().right > 100")
    page.wait_for_timeout(800)  # the sidebar slides in; a click during the slide is lost
    choose(page, t("filters.district"), "Council District 5")
    page.wait_for_url(lambda url: query_of(url).get("district") == ["5"])
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().right <= 0",
        timeout=10_000)
    settle(page)
    box = sidebar.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0, box
    assert page.locator("[data-testid=stMain] h1").first.is_visible()


def _located(pages: Pages, server: Server, lon: float, lat: float) -> tuple[Page, list[bytes]]:
    """The map page with the browser's location set to (lon, lat) and allowed, the button
    pressed; what the browser sent the server over its websocket is kept."""
    page = pages.new()
    page.context.grant_permissions(["geolocation"], origin=server.url)
    page.context.set_geolocation({"latitude": lat, "longitude": lon})
    sent: list[bytes] = []
    page.on("websocket", lambda ws: ws.on(
        "framesent", lambda payload: sent.append(payload if isinstance(payload, bytes) else payload.encode())))
    open_page(page, server, "map")
    page.get_by_role("button", name=t("locate.button")).click()
    return page, sent


def _district_shapes(db: Path) -> dict:
    import json

    import duckdb
    from shapely.geometry import shape
    with duckdb.connect(str(db), read_only=True) as con:
        return {d: shape(json.loads(g)) for d, g in
                con.execute("select district, geometry_geojson from districts").fetchall()}


def test_find_my_district_from_the_browsers_location(pages: Pages, app_server: Server) -> None:
    """A resident who does not know their district: the browser's location, placed in the
    districts in the browser; the page opens that district, and the location itself is
    never sent to the server (only the district's number)."""
    shapes = _district_shapes(app_server.db)
    inside = shapes["9"].representative_point()
    page, sent = _located(pages, app_server, inside.x, inside.y)
    page.wait_for_url(lambda url: query_of(url).get("district") == ["9"])
    settle(page)
    assert page.get_by_text(t("locate.found", n="9")).is_visible()
    assert page.get_by_role("heading", name="Council District 9").first.is_visible()
    for coordinate in (f"{inside.y:.4f}", f"{inside.x:.4f}"):
        assert not any(coordinate.encode() in frame for frame in sent), "the location reached the server"

    # on a boundary between two districts: the page says so and points to the map
    edge = shapes["4"].boundary.intersection(shapes["5"].boundary)
    on_edge = edge.interpolate(0.5, normalized=True)
    page, _ = _located(pages, app_server, on_edge.x, on_edge.y)
    page.wait_for_url(lambda url: query_of(url).get("district", [""])[0] in ("4", "5"))
    settle(page)
    found = query_of(page.url)["district"][0]
    other = "5" if found == "4" else "4"
    assert page.get_by_text(t("locate.found_near", n=found, near=other)).is_visible()

    # out at sea: no district, and the view is left as it was
    page, _ = _located(pages, app_server, -118.75, 33.60)
    page.get_by_text(t("locate.outside")).wait_for()
    assert "district" not in query_of(page.url)
