"""Every page through Streamlit's AppTest against a real public file: no exception, the
numbers shown are the public file's, and a hidden value is never shown as a number."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from outcomes.i18n import label, messages
from outcomes import settings
from outcomes.metrics import HEADLINE, METRICS, format_value

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["pages/overview.py", "pages/map.py", "pages/response_times.py", "pages/outcomes.py",
         "pages/trends.py", "pages/police_baseline.py", "pages/district_brief.py",
         "pages/data_methods.py"]
EN = messages("en")


def _app(monkeypatch, db: Path, **filters) -> AppTest:
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    if filters:  # as a copied link would set them
        at.session_state["_seeded"] = True
        view = dict(period_type="pilot_to_date", period="pilot_to_date", district="all",
                    call_type_group="all", responder_type="civilian_team", metric="coverage_rate",
                    lang="en") | filters
        for k, v in view.items():
            at.session_state[f"f_{k}"] = v
    return at


def _published(db: Path, metric: str, district: str, period_type: str, period: str,
               responder: str = "civilian_team") -> tuple[str, tuple | None]:
    """The value as the public file holds it, formatted as the app must show it."""
    m = METRICS[metric]
    fixed = dict(m.fixed) | ({"responder_type": responder} if m.responder == "view" else {})
    where = "".join(f" and {k} = ?" for k in fixed)
    num = m.numerator or "null"
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            f"select {m.value}, {num}, {m.denominator}, {m.flag} from {m.table} where period_type = ? "
            f"and period = ? and district = ? and call_type_group = 'all'{where}",
            [period_type, period, district, *fixed.values()]).fetchone()
    if row is None:
        return "–", None
    value, numerator, denominator, flag = row
    if value is not None:
        return format_value(m, value), row
    if denominator == 0:
        return "–", row
    return {"hidden": EN["value.mark_hidden"], "not_published": EN["value.mark_longer"],
            "under_minimum": f"n<{settings.min_denominator()}"}[flag], row


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_exception(monkeypatch, app_public_file, page):
    at = _app(monkeypatch, app_public_file, district="1" if "brief" in page else "all")
    at.run()
    if page != PAGES[0]:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "every page has a title"
    if page not in ("pages/data_methods.py", "pages/overview.py"):
        charts = at.get("vega_lite_chart")
        assert charts, f"{page} drew no chart"
        for chart in charts:
            spec = json.loads(chart.proto.spec)
            # drawn at the page's width; title, source and notes are the page's text beside
            # it (they wrap on a phone), while the PNG, SVG and PDF keep them drawn in
            assert "vconcat" not in spec and "width" not in spec, page
        captions = " ".join(c.value for c in at.caption)
        through = EN["chart.data_through"].split("{")[0]
        assert captions.count(through) >= len(charts), "every chart says its source and date"


def test_overview_numbers_are_the_public_files(monkeypatch, app_public_file):
    at = _app(monkeypatch, app_public_file, period_type="fiscal_year", period="FY2025-26")
    at.run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    for metric in HEADLINE:
        label = EN[f"metric.{metric}.label"]
        if METRICS[metric].responder == "view":
            label += " (civilian crisis team)"
        want, _ = _published(app_public_file, metric, "all", "fiscal_year", "FY2025-26")
        assert shown[label] == want, metric


def _hidden_district(db: Path) -> tuple[str, str, str]:
    """A district and period whose coverage rate is hidden by disclosure control."""
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            "select district, period_type, period from coverage where rate_flag = 'hidden' "
            "and call_type_group = 'all' and district in (select district from districts) "
            "order by period_type = 'month', period, district::int limit 1").fetchone()
    assert row, "the demo public file has at least one hidden district rate"
    return row


def test_hidden_rate_says_hidden_never_less_than_11(monkeypatch, app_public_file):
    district, period_type, period = _hidden_district(app_public_file)
    at = _app(monkeypatch, app_public_file, district=district, period_type=period_type, period=period)
    at.run()
    assert not at.exception
    coverage = next(m for m in at.metric if m.label == EN["metric.coverage_rate.label"])
    assert coverage.value == EN["value.mark_hidden"]
    captions = " ".join(c.value for c in at.caption)
    assert EN["value.hidden"] in captions
    # the map labels and the data table behind it say the same
    at.switch_page("pages/map.py").run()
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    features = next(d["values"] for d in _datasets(spec) if d["values"] and "geometry" in d["values"][0])
    props = {f["properties"]["district"]: f["properties"] for f in features}
    assert props[district]["value"] is None and props[district]["value_text"] == EN["value.mark_hidden"]
    assert len(features) == 15
    for d, p in props.items():
        want, _ = _published(app_public_file, "coverage_rate", d, period_type, period)
        assert p["value_text"] == want, d


def test_no_page_says_less_than_11(monkeypatch, app_public_file):
    """With the minimum cell at 6, nothing anywhere says "<11" (thresholds come from the
    settings everywhere)."""
    monkeypatch.setenv("OUTCOMES_MIN_CELL", "6")
    for page in PAGES:
        at = _app(monkeypatch, app_public_file, district="1" if "brief" in page else "all")
        at.run()
        if page != PAGES[0]:
            at.switch_page(page).run()
        assert not at.exception
        texts = [e.value for kind in ("markdown", "caption", "metric", "info", "warning")
                 for e in at.get(kind) if isinstance(getattr(e, "value", None), str)]
        texts += [c.proto.spec for c in at.get("vega_lite_chart")]
        assert not any("<11" in t or "&lt;11" in t for t in texts), page


def _datasets(spec: dict):
    """Inline data anywhere in a Vega-Lite spec (Streamlit may move it to datasets)."""
    for values in (spec.get("datasets") or {}).values():
        yield {"values": values}
    stack = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("data"), dict) and "values" in node["data"]:
                yield node["data"]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def test_district_brief_offers_the_pdf(monkeypatch, app_public_file):
    at = _app(monkeypatch, app_public_file, district="1")
    at.run()
    at.switch_page("pages/district_brief.py").run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert EN["brief.download_pdf"] in labels


def test_data_methods_offers_every_table_as_csv_and_parquet(monkeypatch, app_public_file):
    at = _app(monkeypatch, app_public_file)
    at.run()
    at.switch_page("pages/data_methods.py").run()
    with duckdb.connect(str(app_public_file), read_only=True) as con:
        tables = [r[0] for r in con.execute("select table_name from catalog").fetchall()]
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("CSV") == len(tables) and labels.count("Parquet") == len(tables)


def test_spanish(monkeypatch, app_public_file):
    at = _app(monkeypatch, app_public_file, lang="es")
    at.run()
    assert not at.exception
    assert at.title[0].value == messages("es")["overview.title"]


def test_missing_public_file_is_a_clear_page(monkeypatch, tmp_path):
    at = _app(monkeypatch, tmp_path / "missing.duckdb")
    at.run()
    assert not at.exception
    assert "uv run etl run" in at.error[0].value


def test_unreadable_public_file_is_a_clear_page(monkeypatch, tmp_path):
    bad = tmp_path / "public.duckdb"
    bad.write_bytes(b"\x00garbage" * 500)
    at = _app(monkeypatch, bad)
    at.run()
    assert not at.exception
    assert "cannot be read" in at.error[0].value


def test_banner_dates_and_stale_warning(monkeypatch, app_public_file):
    with duckdb.connect(str(app_public_file), read_only=True) as con:
        through = con.execute("select max(data_through) from runs where status = 'ok'").fetchone()[0]
    at = _app(monkeypatch, app_public_file)
    at.run()
    assert any(f"Data through {through}" in c.value for c in at.caption)
    assert not at.warning
    monkeypatch.setenv("OUTCOMES_STALE_HOURS", "0")
    at = _app(monkeypatch, app_public_file)
    at.run()
    assert at.warning and f"Data through {through}" in at.warning[0].value


def _public_rows(db: Path, sql: str, params: list):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params).df()


def test_response_time_and_outcome_tables_are_the_public_files(monkeypatch, app_public_file):
    at = _app(monkeypatch, app_public_file, period_type="year", period="2025")
    at.run()
    at.switch_page("pages/response_times.py").run()
    assert not at.exception
    drawn = at.dataframe[0].value  # the data table behind the first chart
    want = _public_rows(app_public_file,
                        "select responder_type, p25_minutes, median_minutes, p75_minutes, p90_minutes "
                        "from response_times where period_type = 'year' and period = '2025' and "
                        "district = 'all' and call_type_group = 'all' and interval = 'dispatch_to_scene'",
                        [])
    # the data table writes codes in words
    want["responder_type"] = [label("responder", r) for r in want["responder_type"]]
    merged = drawn.merge(want, on="responder_type", suffixes=("", "_public"))
    assert len(merged) == len(want) > 0
    for c in ("p25_minutes", "median_minutes", "p75_minutes", "p90_minutes"):
        assert (merged[c].fillna(-1) == merged[f"{c}_public"].fillna(-1)).all(), c

    at.switch_page("pages/outcomes.py").run()
    assert not at.exception
    drawn = at.dataframe[0].value
    want = _public_rows(app_public_file,
                        "select responder_type, outcome, per_1000 from outcomes where period_type = 'year' "
                        "and period = '2025' and district = 'all' and call_type_group = 'all'", [])
    want["responder_type"] = [label("responder", r) for r in want["responder_type"]]
    want["outcome"] = [label("outcome", o) for o in want["outcome"]]
    merged = drawn.merge(want, on=["responder_type", "outcome"], suffixes=("", "_public"))
    assert len(merged) == len(drawn) > 0
    assert (merged["per_1000"].fillna(-1) == merged["per_1000_public"].fillna(-1)).all()
    hidden = merged[merged["per_1000_public"].isna()]
    assert (hidden["status"] != messages("en")["column.status_ok"]).all()  # "hidden" / "n<20", never a bar


@pytest.mark.parametrize("responder", ["co_response", "police", "fire_ems", "phone"])
def test_pages_for_every_responder_type(monkeypatch, app_public_file, responder):
    """Tables carry 'outside_city' and 'unknown' rows for some responders; pages draw only
    the 15 council districts."""
    at = _app(monkeypatch, app_public_file, responder_type=responder, period_type="year", period="2025")
    at.run()
    for page in PAGES[1:5]:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])


def test_police_baseline_page_shows_the_public_files_figures(monkeypatch, app_public_file):
    at = _app(monkeypatch, app_public_file, period_type="year", period="2025")
    at.run()
    at.switch_page("pages/police_baseline.py").run()
    assert not at.exception
    by_district, by_division = at.dataframe[0].value, at.dataframe[1].value
    est = _public_rows(app_public_file,
                       "select district, calls_estimate from police_baseline_district where "
                       "period_type = 'year' and period = '2025' and call_type_group = 'pilot_types'", [])
    # the table behind the chart writes codes in words
    from outcomes.i18n import t
    words = {"district": lambda d: t("place.district", n=d), "lapd": t("bl.series_lapd"),
             "civilian_team": label("responder", "civilian_team"), "ok": t("column.status_ok")}
    est["district"] = est["district"].map(words["district"])
    lapd = by_district[by_district.series == words["lapd"]].merge(est, on="district")
    assert len(lapd) == 15
    assert (lapd["calls"].fillna(-1) == lapd["calls_estimate"].fillna(-1)).all()
    assert (lapd["estimate"] == t("column.yes")).all()  # marked as estimates
    civ = _public_rows(app_public_file,
                       "select district, responses as calls from responses where period_type = 'year' and "
                       "period = '2025' and call_type_group = 'all' and "
                       "responder_type = 'civilian_team' and district in "
                       "(select district from districts)", [])
    civ["district"] = civ["district"].map(words["district"])
    teams = by_district[by_district.series == words["civilian_team"]].merge(
        civ, on="district", how="left", suffixes=("", "_public"))
    assert len(teams) == 15
    assert (teams["calls"].fillna(-1) == teams["calls_public"].fillna(0).where(
        teams["status"] == words["ok"], -1)).all()
    div = _public_rows(app_public_file,
                       "select division, calls from police_baseline where period_type = 'year' "
                       "and period = '2025' and call_type_group = 'pilot_types' and division not in "
                       "('all', 'unknown', 'outside_lapd_areas')", [])
    merged = by_division.merge(div, on="division", suffixes=("", "_public"))
    assert len(merged) == 21
    assert (merged["calls"].fillna(-1) == merged["calls_public"].fillna(-1)).all()
    # divisions the pilot serves at the end of 2025, and the ones it does not reach yet
    served = set(by_division.loc[by_division.coverage == t("bl.served"), "division"])
    cov = _public_rows(app_public_file,
                       "select distinct division from pilot_coverage where span_start <= '2025-12-31' "
                       "and (span_end = '' or span_end > '2025-12-31')", [])
    assert served == set(cov.division) and 0 < len(served) < 21
    text = " ".join(m.value for m in at.markdown)
    assert all(d in text for d in set(by_division.division) - served)


def test_police_baseline_page_without_lapd_data_says_what_to_do(monkeypatch, tmp_path):
    from etl.pipeline import run
    from tests.conftest import canonical_row, write_config, write_csv

    write_csv(tmp_path / "landing/a/a_1.csv", [canonical_row()])
    report = run(write_config(tmp_path), progress=False)
    at = _app(monkeypatch, Path(report.public_db))
    at.run()
    at.switch_page("pages/police_baseline.py").run()
    assert not at.exception
    assert any("lapd_calls_for_service" in i.value for i in at.info)


def test_map_outlines_the_area_the_pilot_serves(monkeypatch, app_public_file):
    at = _app(monkeypatch, app_public_file, period_type="year", period="2025")
    at.run()
    at.switch_page("pages/map.py").run()
    assert not at.exception
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)

    def features(node):  # wherever the spec keeps its data (inline or in datasets)
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict) and "served_text" in props:
                yield from props["served_text"].split(", ")
            for v in node.values():
                yield from features(v)
        elif isinstance(node, list):
            for v in node:
                yield from features(v)

    outlined = list(features(spec))
    cov = _public_rows(app_public_file,
                       "select distinct division from pilot_coverage where span_start <= '2025-12-31' "
                       "and (span_end = '' or span_end > '2025-12-31')", [])
    assert sorted(outlined) == sorted(cov.division) and outlined


def _english_only_phrases() -> set[str]:
    """Phrases of the English catalog that its Spanish catalog does not share: the literal
    parts (between placeholders) of every message that differs in Spanish, 12 characters or
    longer so that names and codes common to both (Council, SMART, LAPD) do not count."""
    es = messages("es")
    phrases = set()
    for key, text in EN.items():
        if es.get(key, text) == text:
            continue
        for part in re.split(r"\{\w+\}|\*\*|\n", text):
            part = part.strip(" .,:;·()-")
            if len(part) >= 12 and part not in es.get(key, ""):
                phrases.add(part)
    return phrases


def _shown_text(at: AppTest) -> str:
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "text"):
        texts += [str(e.value) for e in getattr(at, kind)]
    texts += [f"{m.label} {m.value}" for m in at.metric]
    for widget in ("selectbox", "segmented_control", "button", "expander"):
        try:
            elements = at.get(widget)
        except Exception:
            continue
        for e in elements:
            texts.append(str(getattr(e.proto, "label", "")))
            texts += [str(o) for o in getattr(e.proto, "options", [])]
    for table in at.table:
        texts.append(table.value.to_csv())
    for chart in at.get("vega_lite_chart"):
        texts.append(chart.proto.spec)
    return "\n".join(texts)


@pytest.mark.parametrize("page", PAGES)
def test_a_spanish_page_shows_no_english_catalog_text(monkeypatch, app_public_file, page):
    """Every string a Spanish page shows comes from the Spanish catalog (or the published
    data's own names): none of the English catalog's own phrases reaches it."""
    at = _app(monkeypatch, app_public_file, lang="es", district="1" if "brief" in page else "all")
    at.run()
    if page != PAGES[0]:
        at.switch_page(page).run()
    assert not at.exception
    shown = _shown_text(at)
    leaked = sorted(p for p in _english_only_phrases() if p in shown)
    assert not leaked, f"{page} in Spanish shows English: {leaked[:8]}"


@pytest.mark.parametrize("page", [p for p in PAGES if p not in ("pages/overview.py", "pages/data_methods.py",
                                                      "pages/district_brief.py")])
def test_chart_data_tables_read_in_words(monkeypatch, app_public_file, page):
    """Each chart's "Data table" in Spanish: every header from the catalog, codes in words
    (no `civilian_team`, no `ok`), counts and values with a number format."""
    at = _app(monkeypatch, app_public_file, lang="es", district="1")
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    headers = {v for k, v in messages("es").items() if k.startswith("column.")}
    tables = [df for df in at.dataframe if '"label"' in df.proto.columns]
    assert tables, f"{page}: no chart data table"
    for df in tables:
        config = json.loads(df.proto.columns)
        for col in df.value.columns:
            assert config.get(col, {}).get("label") in headers, (page, col, config.get(col))
        for col in ("responder_type", "series", "status", "outcome", "event", "district"):
            if col in df.value:
                raw = {x for x in df.value[col].dropna() if "_" in str(x) or x in ("ok", "all", "few")}
                assert not raw, (page, col, raw)
        for col in ("value", "numerator", "denominator", "calls", "per_1000", "median_minutes"):
            if col in config:
                assert config[col].get("type_config", {}).get("format"), (page, col)


def test_overview_funnel_is_the_public_files(monkeypatch, app_public_file):
    """The overview's funnel: every step's count as the public file holds it, in words, a
    hidden one never drawn as a number; the biggest drop-off named from shown shares; each
    drop-off's reasons listed, "not recorded" as its own reason."""
    at = _app(monkeypatch, app_public_file)
    at.run()
    assert not at.exception
    want = _public_rows(app_public_file,
                        "select node, calls, share_of_parent from eligibility_funnel where "
                        "period_type = 'pilot_to_date' and district = 'all' and call_type_group = 'all'",
                        [])
    assert len(want) >= 20
    table = next(d.value for d in at.dataframe if "share_of_parent" in d.value.columns)
    by_word = {EN[f"funnel.node.{n}"]: n for n in want["node"]}
    assert set(table["node"]) == set(by_word)  # every node, in words
    merged = table.assign(code=table["node"].map(by_word)).merge(want, left_on="code",
                                                                  right_on="node", suffixes=("", "_public"))
    assert (merged["calls"].fillna(-1) == merged["calls_public"].fillna(-1)).all()
    # the share as drawn (percent), the exact value in the CSV
    shown = merged[merged["share_of_parent_public"].notna()]
    assert len(shown) and ((shown["share_of_parent"] - shown["share_of_parent_public"] * 100).abs() < 1e-9).all()
    drops = next(d.value for d in at.dataframe if EN["funnel.col.dropped"] in d.value.columns)
    reasons = set(drops[EN["funnel.col.dropped"]])
    assert EN["funnel.node.outside_pilot_area"] in reasons
    assert "– " + EN["funnel.node.unserved_not_recorded"] in reasons
    for cell in drops[EN["funnel.col.calls"]]:
        assert cell == EN["value.mark_hidden"] or cell == "–" or cell.replace(",", "").isdigit()
    drop = want[want["node"].isin(["outside_pilot_area", "outside_pilot_hours", "screen_not_recorded",
                                   "screened_out", "unserved"]) & want["share_of_parent"].notna()]
    top = drop.loc[drop["share_of_parent"].idxmax()]
    sentence = EN["funnel.biggest_drop"].split(":")[0]
    said = [m.value for m in at.markdown if sentence in m.value]
    assert said and f"{top['share_of_parent'] * 100:.1f}%" in said[0]


def test_overview_crisis_line_is_the_public_files(monkeypatch, app_public_file):
    """The crisis line's part: the 988 calls and the calls resolved by phone as the public
    file holds them, and its by-district chart's table equal to the file's shares."""
    at = _app(monkeypatch, app_public_file)
    at.run()
    assert not at.exception
    want = _public_rows(app_public_file,
                        "select district, calls_988, share_988, resolved_by_phone from crisis_line "
                        "where period_type = 'pilot_to_date' and call_type_group = 'all'", [])
    city = want[want["district"] == "all"].iloc[0]
    shown = {m.label: m.value for m in at.metric}
    assert shown[EN["crisis.calls_988"]] == f"{int(city['calls_988']):,}"
    assert shown[EN["crisis.by_phone"]] == f"{int(city['resolved_by_phone']):,}"
    table = next(d.value for d in at.dataframe if "share_988" in d.value.columns)
    merged = table.merge(want, left_on=table["district"].str.extract(r"(\d+)$")[0], right_on="district",
                         suffixes=("", "_public"))
    assert len(merged) == 15
    ok = merged["share_988_public"].notna()
    assert ((merged.loc[ok, "share_988"] - merged.loc[ok, "share_988_public"] * 100).abs() < 1e-9).all()
