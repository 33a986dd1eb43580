"""The whole pipeline on demo data, checked against an independent computation.

The independent side reads the private warehouse with pandas and recomputes each metric from
its definition in SPEC section 4; every shown published number must equal it, and every
hidden one must be hidden for a reason that the true value supports.
"""

from __future__ import annotations

import glob
import hashlib
import json
import math
from datetime import date
from fractions import Fraction
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl.call_types import load_code_table
from etl.demo import write_demo
from etl.pipeline import RunFailed, run
from etl.sources import load_config
from etl.stats import wilson
from outcomes import settings

CANARY = "CANARYZQX"
DEMO_CALLS = 20_000


def _plant_canaries(out: Path) -> int:
    """Prefix every identifier and free-text cell of every raw export with a canary."""
    cfg = load_config(out / "sources.toml")
    planted = 0
    for src in cfg.sources:
        m = src.mapping
        targets = set(m.drop) | {s for s, d in m.rename.items() if d in ("incident_id", "person_key")}
        for path in sorted(glob.glob(src.pattern)):
            if m.file_format == "parquet":
                t = pq.read_table(path)
                cols = {}
                for name in t.column_names:
                    col = t[name].to_pandas()
                    if name in targets:
                        col = col.where(col.isna() | (col.astype(str) == ""), CANARY + col.astype(str))
                        planted += int(col.notna().sum())
                    cols[name] = col
                pq.write_table(pa.Table.from_pandas(pd.DataFrame(cols), preserve_index=False), path)
            else:
                df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=m.delimiter)
                for name in targets & set(df.columns):
                    filled = df[name] != ""
                    df.loc[filled, name] = CANARY + df.loc[filled, name]
                    planted += int(filled.sum())
                df.to_csv(path, index=False, sep=m.delimiter)
    return planted


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    write_demo(out, calls=DEMO_CALLS, seed=11)
    planted = _plant_canaries(out)
    pub, wh = out / "public.duckdb", out / "warehouse.duckdb"
    report = run(out / "sources.toml", db=pub, warehouse_path=wh)
    return {"out": out, "public": pub, "warehouse": wh, "report": report, "planted": planted,
            "config": load_config(out / "sources.toml")}


def _public(demo_run, table: str) -> pd.DataFrame:
    con = duckdb.connect(str(demo_run["public"]), read_only=True)
    try:
        return con.execute(f'select * from "{table}"').df()
    finally:
        con.close()


@pytest.fixture(scope="session")
def truth(demo_run) -> pd.DataFrame:
    """Record-level calls from the warehouse with each definition applied, in pandas."""
    con = duckdb.connect(str(demo_run["warehouse"]), read_only=True)
    calls = con.execute("select * from calls").df()
    con.close()
    cfg = demo_run["config"]
    table = load_code_table()
    calls["group"] = [table.group_of(c) for c in calls["initial_call_type"]]
    calls["month"] = calls["received_hour"].dt.strftime("%Y-%m")
    calls["district_leaf"] = calls["district"].fillna(calls["location_status"])
    day = calls["received_hour"].dt.date
    hour = calls["received_hour"].dt.hour
    in_area = np.zeros(len(calls), bool)
    in_hours = np.zeros(len(calls), bool)
    spans = list(cfg.coverage)
    for i, span in enumerate(spans):
        end = spans[i + 1].start if i + 1 < len(spans) else date(9999, 1, 1)
        active = (day >= span.start) & (day < end)
        covered = active & calls["lapd_division"].isin(span.divisions) & (calls["location_status"] != "outside_city")
        in_area |= covered.to_numpy()
        in_hours |= (covered & (hour >= span.start_hour) & (hour < span.end_hour)).to_numpy()
    public = calls["call_origin"].isin(["911", "988", "non_emergency"])
    pilot = calls["group"].isin(cfg.pilot_groups)
    calls["universe"] = public & pilot
    calls["in_area_hours"] = in_area & in_hours
    calls["is_eligible"] = calls["universe"] & calls["in_area_hours"] & (calls["eligible"] == True)  # noqa: E712
    calls["pilot_month"] = calls["month"] >= spans[0].start.strftime("%Y-%m")
    return calls


def _check_count(published, flag, true_value):
    """A shown count equals the truth and is 0 or at least the minimum cell; one not shown
    says why: hidden (truly non-zero), under the minimum (a row of fewer than the minimum
    denominator) or not published at this grain."""
    if flag == "":
        assert published == true_value
        assert true_value == 0 or true_value >= settings.min_cell()
    else:
        assert pd.isna(published)
        assert flag in ("hidden", "under_minimum", "not_published")
        if flag == "hidden":
            assert true_value >= 1


def _minutes(seconds: np.ndarray, percent: int) -> float:
    """The published quantile, worked out with fractions: linear interpolation at position
    (n - 1) * q between the two nearest intervals, in minutes rounded half up to 0.1."""
    v = sorted(int(x) for x in seconds)
    pos = Fraction((len(v) - 1) * percent, 100)
    lo = math.floor(pos)
    hi = math.ceil(pos)
    exact = v[lo] + (v[hi] - v[lo]) * (pos - lo)
    return math.floor(exact / 6 + Fraction(1, 2)) / 10


def _months_of(truth, cfg) -> dict[str, set[str]]:
    """Each published period's months (pilot to date from the pilot's first month)."""
    from etl.publish import month_range, period_bridge
    months = month_range(truth["month"].min(), truth["month"].max())
    bridge = period_bridge(months, cfg.coverage[0].start.strftime("%Y-%m"))
    return {p: set(g["month"]) for p, g in bridge.groupby("period")}


LONG_PERIODS = ("year", "fiscal_year", "pilot_to_date")


def _in_cell(frame, months, period, district):
    """The records of one published cell: the period's months, one district or all."""
    sel = frame[frame["month"].isin(months[period])]
    return sel if district == "all" else sel[sel["district_leaf"] == district]


def test_run_reports_and_catalog(demo_run):
    r = demo_run["report"]
    assert r.status == "ok" and r.mode == "full"
    assert r.rows_in > DEMO_CALLS * 0.9
    assert 0 < r.rows_quarantined < r.rows_in * 0.05
    catalog = _public(demo_run, "catalog")
    for t in ("coverage", "workload_share", "police_involvement", "response_times", "outcomes",
              "use_of_force_matched", "repeat_contact", "unserved", "districts", "runs"):
        assert t in set(catalog["table_name"]), t
    cov = _public(demo_run, "coverage")
    assert set(cov["district"]) >= {str(i) for i in range(1, 16)} | {"all"}
    assert "district" in catalog.set_index("table_name").loc["coverage", "grain"].split(",")


def test_no_identifier_reaches_any_public_table(demo_run):
    assert demo_run["planted"] > 1000
    con = duckdb.connect(str(demo_run["public"]), read_only=True)
    for (t,) in con.execute("select table_name from information_schema.tables").fetchall():
        text = con.execute(f'select * from "{t}"').df().astype(str).to_csv()
        assert CANARY not in text.upper(), f"canary found in public table {t}"
    con.close()
    for p in Path(demo_run["public"]).parent.joinpath("release").rglob("*"):
        if p.is_file():
            assert CANARY.encode() not in p.read_bytes(), p
    # Even the private warehouse holds only keyed hashes, never the raw ids or text.
    con = duckdb.connect(str(demo_run["warehouse"]), read_only=True)
    for t in ("calls", "quarantine"):
        assert CANARY not in con.execute(f"select * from {t}").df().astype(str).to_csv()
    con.close()


def _check_civilian_share(row, sel, den: str, num: str, rate: str) -> bool:
    """A published share of calls the civilian team handled, against the calls `sel`: both
    counts, and the rate where shown. True when the rate was shown and checked."""
    civ = int((sel["responder_type"] == "civilian_team").sum())
    _check_count(getattr(row, den), getattr(row, f"{den}_flag"), len(sel))
    _check_count(getattr(row, num), getattr(row, f"{num}_flag"), civ)
    if pd.isna(getattr(row, rate)):
        return False
    assert getattr(row, rate) == pytest.approx(civ / len(sel))
    return True


def test_coverage_matches_independent_count(demo_run, truth):
    """Every district's coverage over years, fiscal years and pilot to date: shown counts
    equal the truth, hidden ones are truly non-zero, shown rates equal civilian / eligible."""
    cov = _public(demo_run, "coverage")
    months = _months_of(truth, demo_run["config"])
    u = truth[truth["is_eligible"]]
    checked = 0
    rows = cov[cov.period_type.isin(LONG_PERIODS) & (cov.call_type_group == "all")]
    for row in rows.itertuples():
        sel = _in_cell(u, months, row.period, row.district)
        if _check_civilian_share(row, sel, "eligible_calls", "civilian_calls", "coverage_rate"):
            civ = int((sel["responder_type"] == "civilian_team").sum())
            lo, hi = wilson(np.array([civ]), np.array([len(sel)]))
            assert (row.coverage_rate_ci_low, row.coverage_rate_ci_high) == pytest.approx((lo[0], hi[0]))
            checked += 1
    assert checked >= 5
    # monthly, citywide
    for month, g in u.groupby("month"):
        row = cov[(cov.period == month) & (cov.district == "all") & (cov.call_type_group == "all")].iloc[0]
        _check_count(row.eligible_calls, row.eligible_calls_flag, len(g))


def _cell_counts(frame: pd.DataFrame, months: dict[str, set[str]], masks: dict[str, np.ndarray]):
    """For each mask, the records of every published cell counted at once: a function of
    (mask name, period, district or 'all')."""
    counts = {}
    for name, mask in masks.items():
        by = frame[mask].groupby(["month", "district_leaf"]).size()
        by_month = by.groupby(level=0).sum()
        counts[name] = (by, by_month)

    def truth_of(name: str, period: str, district: str) -> int:
        by, by_month = counts[name]
        ms = months[period]
        if district == "all":
            return int(by_month[by_month.index.isin(ms)].sum())
        sel = by[by.index.get_level_values(0).isin(ms) & (by.index.get_level_values(1) == district)]
        return int(sel.sum())
    return truth_of


def test_funnel_matches_independent_count(demo_run, truth):
    """Every step of the eligibility funnel, counted here from the warehouse's records with
    the definitions written out again: shown counts equal the truth, hidden ones are truly
    non-zero, a share is calls over the stage before, and no stage is missing."""
    from etl.schema import SCREEN_OUT_REASONS
    fn = _public(demo_run, "eligibility_funnel")
    months = _months_of(truth, demo_run["config"])
    cov = _public(demo_run, "coverage")
    u = truth[truth["universe"] & truth["pilot_month"]].copy()
    in_area = np.zeros(len(u), bool)
    day = u["received_hour"].dt.date
    cfg = demo_run["config"]
    spans = list(cfg.coverage)
    for i, span in enumerate(spans):
        end = spans[i + 1].start if i + 1 < len(spans) else date(9999, 1, 1)
        active = (day >= span.start) & (day < end)
        in_area |= (active & u["lapd_division"].isin(span.divisions)
                    & (u["location_status"] != "outside_city")).to_numpy()
    in_hours = u["in_area_hours"].to_numpy()
    screened = in_hours & u["eligible"].notna().to_numpy()
    out = screened & (u["eligible"] == False).to_numpy()  # noqa: E712
    reason = u["screen_out_reason"].where(u["screen_out_reason"].isin(SCREEN_OUT_REASONS), "other")
    reason = reason.where(u["screen_out_reason"].notna(), "not_recorded")
    masks = {"calls": np.ones(len(u), bool), "in_area": in_area, "outside_pilot_area": ~in_area,
             "in_hours": in_hours, "outside_pilot_hours": in_area & ~in_hours,
             "screened": screened, "screen_not_recorded": in_hours & ~screened,
             "screened_out": out, "eligible": u["is_eligible"].to_numpy(),
             **{f"screened_out_{r}": out & (reason == r).to_numpy()
                for r in (*SCREEN_OUT_REASONS, "not_recorded")}}
    masks |= {f"origin_{o}": (u["call_origin"] == o).to_numpy() for o in ("911", "988", "non_emergency")}
    masks["phone"] = (u["responder_type"] == "phone").to_numpy()
    truth_of = _cell_counts(u, months, masks)
    rows = fn[(fn.call_type_group == "all") & fn.node.isin(masks)]
    checked = shown_share = 0
    for row in rows.itertuples():
        _check_count(row.calls, row.calls_flag, truth_of(row.node, row.period, row.district))
        checked += row.calls_flag == ""
        if row.node != "calls" and row.rate_flag == "":
            parent = rows[(rows.period == row.period) & (rows.district == row.district)
                          & (rows.node == row.parent_node)].iloc[0]
            assert row.share_of_parent == pytest.approx(row.calls / parent.calls)
            shown_share += 1
    assert checked >= 100 and shown_share >= 50
    # the same eligible calls as the coverage table, with the same mark
    both = fn[fn.node == "eligible"].merge(cov, on=["period_type", "period", "district",
                                                    "call_type_group"])
    assert len(both) and (both["calls_flag"] == both["eligible_calls_flag"]).all()
    assert (both["calls"].fillna(-1) == both["eligible_calls"].fillna(-1)).all()
    # the crisis line's part: the funnel's calls by how they arrived, and the phone responses
    crisis = _public(demo_run, "crisis_line")
    crisis = crisis[crisis.call_type_group == "all"]
    resp = _public(demo_run, "responses")
    checked_origin = 0
    for row in crisis.itertuples():
        for origin in ("911", "988", "non_emergency"):
            _check_count(getattr(row, f"calls_{origin}"), getattr(row, f"calls_{origin}_flag"),
                         truth_of(f"origin_{origin}", row.period, row.district))
        checked_origin += row.calls_988_flag == ""
        if row.rate_flag == "":
            assert row.share_988 == pytest.approx(row.calls_988 / row.calls)
        phone = resp[(resp.period == row.period) & (resp.district == row.district)
                     & (resp.call_type_group == "all") & (resp.responder_type == "phone")]
        if row.resolved_by_phone_flag == "not_published":
            continue  # a period holding months before the pilot began, or a grain not printed
        # the calls resolved by phone, counted again from the records of the pilot's months
        truth_phone = truth_of("phone", row.period, row.district)
        _check_count(row.resolved_by_phone, row.resolved_by_phone_flag, truth_phone)
        assert len(phone) and (pd.isna(row.resolved_by_phone) == pd.isna(phone.responses.iloc[0]))
    assert checked_origin >= 20
    # every step of the city's pilot to date is there, in order
    city = fn[(fn.period == "pilot_to_date") & (fn.district == "all") & (fn.call_type_group == "all")]
    assert list(city[city.node_kind == "stage"]["node"]) == [
        "calls", "in_area", "in_hours", "screened", "eligible", "served"]


def test_workload_share_matches(demo_run, truth):
    ws = _public(demo_run, "workload_share")
    months = _months_of(truth, demo_run["config"])
    u = truth[truth["universe"] & truth["in_area_hours"]]
    handled = u[u["responder_type"].isin(["civilian_team", "co_response", "police"])]
    checked = 0
    for row in ws[ws.period_type.isin(LONG_PERIODS) & (ws.call_type_group == "all")].itertuples():
        h = _in_cell(handled, months, row.period, row.district)
        checked += _check_civilian_share(row, h, "handled_calls", "civilian_team_calls",
                                         "workload_share")
    assert checked >= 1


def test_outcomes_and_events_match(demo_run, truth):
    oc = _public(demo_run, "outcomes")
    ev = _public(demo_run, "outcome_events")
    months = _months_of(truth, demo_run["config"])
    checked = 0
    for period in sorted(set(oc.loc[oc.period_type.isin(LONG_PERIODS), "period"])):
        u = truth[truth["universe"] & truth["month"].isin(months[period])]
        for resp in ("civilian_team", "police", "co_response"):
            r = u[u["responder_type"] == resp]
            if len(r) == 0:  # e.g. the civilian team before the pilot began
                continue
            for outcome in ("resolved_on_scene", "transported_hospital", "involuntary_hold"):
                row = oc[(oc.period == period) & (oc.district == "all")
                         & (oc.call_type_group == "all") & (oc.responder_type == resp)
                         & (oc.outcome == outcome)].iloc[0]
                n = int((r["disposition"] == outcome).sum())
                _check_count(row.calls, row.calls_flag, n)
                _check_count(row.responses, row.responses_flag, len(r))
                if pd.notna(row.per_1000):
                    assert row.per_1000 == pytest.approx(1000 * n / len(r))
                    checked += 1
            row = ev[(ev.period == period) & (ev.district == "all") & (ev.call_type_group == "all")
                     & (ev.responder_type == resp) & (ev.event == "use_of_force")].iloc[0]
            known = r["use_of_force"].notna()
            n = int((r["use_of_force"] == True).sum())  # noqa: E712
            _check_count(row.events, row.events_flag, n)
            if pd.notna(row.per_1000):
                assert row.recorded == int(known.sum())
                assert row.per_1000 == pytest.approx(1000 * n / known.sum())
                checked += 1
    assert checked >= 5


def test_response_times_match(demo_run, truth):
    rt = _public(demo_run, "response_times")
    months = _months_of(truth, demo_run["config"])
    checked = 0
    for period in sorted(set(rt.loc[rt.period_type.isin(LONG_PERIODS), "period"])):
        u = truth[truth["universe"] & truth["month"].isin(months[period])]
        for resp in ("civilian_team", "police"):
            s = u.loc[u["responder_type"] == resp, "dispatch_to_scene_seconds"]
            if len(s) == 0:
                continue
            valid = s[(s >= 0) & (s <= 86400)].to_numpy(dtype=float)
            row = rt[(rt.period == period) & (rt.district == "all") & (rt.call_type_group == "all")
                     & (rt.responder_type == resp) & (rt.interval == "dispatch_to_scene")].iloc[0]
            _check_count(row.valid_intervals, row.valid_intervals_flag, len(valid))
            _check_count(row.missing_intervals, row.missing_intervals_flag, int(s.isna().sum()))
            if pd.notna(row.median_minutes):
                assert row.median_minutes == _minutes(valid, 50)
                assert row.p90_minutes == _minutes(valid, 90)
                assert row.p25_minutes == _minutes(valid, 25)
                assert row.p75_minutes == _minutes(valid, 75)
                checked += 1
    assert checked >= 2


def test_response_times_by_hour_band_match(demo_run, truth):
    hb = _public(demo_run, "response_times_by_hour_band")
    assert set(hb.columns) & {"valid_intervals", "calls"} == set()  # no counts by time of day
    u = truth[truth["universe"] & truth["pilot_month"]]
    band = (u["received_hour"].dt.hour // 6 * 6).map(lambda h: f"{h:02d}-{h + 6:02d}")
    checked = 0
    for (resp, b), s in u.groupby([u["responder_type"], band])["received_to_scene_seconds"]:
        if resp == "phone":
            continue
        valid = s[(s >= 0) & (s <= 86400)].to_numpy(dtype=float)
        row = hb[(hb.period == "pilot_to_date") & (hb.responder_type == resp) & (hb.hour_band == b)
                 & (hb.interval == "received_to_scene")]
        if len(valid) < 20:
            assert row.empty
            continue
        assert row.iloc[0].median_minutes == _minutes(valid, 50)
        assert row.iloc[0].p90_minutes == _minutes(valid, 90)
        checked += 1
    assert checked >= 8


def test_repeat_contact_matches(demo_run, truth):
    rc = _public(demo_run, "repeat_contact")
    through = truth["received_hour"].max().date()
    c = truth[truth["person_key"].notna()].sort_values(["person_key", "received_hour", "incident_key"])
    c = c.assign(next_contact=c.groupby("person_key")["received_hour"].shift(-1))
    for window in (30, 90):
        w = c[c["received_hour"].dt.date <= pd.Timestamp(through - pd.Timedelta(days=window)).date()]
        w = w[w["pilot_month"]]
        rep = (w["next_contact"] - w["received_hour"]).dt.total_seconds() <= window * 86400
        people = w["person_key"].nunique()
        repeaters = w.loc[rep, "person_key"].nunique()
        row = rc[(rc.period == "pilot_to_date") & (rc.window_days == window)].iloc[0]
        assert row.repeat_rate == pytest.approx(repeaters / people)


def test_rates_never_reveal_hidden_counts(demo_run):
    """Where a rate is shown, its numerator and denominator are shown too."""
    for table, num, den, rate in [("coverage", "civilian_calls", "eligible_calls", "coverage_rate"),
                                  ("workload_share", "civilian_team_calls", "handled_calls", "workload_share"),
                                  ("outcomes", "calls", "responses", "per_1000"),
                                  ("outcome_events", "events", "recorded", "per_1000"),
                                  ("police_involvement", "events", "recorded", "per_1000")]:
        df = _public(demo_run, table)
        shown = df[df[rate].notna()]
        assert len(shown) > 0, table
        assert shown[num].notna().all() and shown[den].notna().all(), table
        assert (shown[den] >= settings.min_denominator()).all(), table
        counts = [c for c in df.columns if f"{c}_flag" in df.columns]
        for c in counts:
            v = df[c].dropna()
            assert not ((v >= 1) & (v < settings.min_cell())).any(), \
                f"{table}.{c} publishes a count under the minimum cell"


def test_rebuild_gives_identical_tables(demo_run, tmp_path):
    pub2, wh2 = tmp_path / "p.duckdb", tmp_path / "w.duckdb"
    run(demo_run["out"] / "sources.toml", db=pub2, warehouse_path=wh2)
    a = duckdb.connect(str(demo_run["public"]), read_only=True)
    b = duckdb.connect(str(pub2), read_only=True)
    for (t,) in a.execute("select table_name from catalog where table_name not in ('runs', 'quarantine_summary', 'releases', 'revisions')").fetchall():
        x = a.execute(f'select * from "{t}" order by all').df()
        y = b.execute(f'select * from "{t}" order by all').df()
        pd.testing.assert_frame_equal(x, y, obj=t)


def _shift_a_month(stamp: str) -> str:
    """'MM/DD/YYYY hh:mm:ss' one month later (days up to 28, months up to 11)."""
    return f"{int(stamp[:2]) + 1:02d}{stamp[2:]}" if isinstance(stamp, str) and stamp else stamp


def test_nightly_run_gives_the_same_release_as_a_rebuild(tmp_path):
    """A nightly run re-reads only the months its files touch; what it publishes must be
    exactly what a full rebuild of the same files publishes: new months, corrections that
    move incidents to another month, and repeated rows."""
    out = tmp_path / "demo"
    write_demo(out, calls=6_000, seed=5)
    cad = out / "landing" / "city_cad"
    held = tmp_path / "held"
    held.mkdir()
    later = [sorted(cad.glob("*.csv"))[-1], sorted((out / "landing" / "provider_a").glob("*.csv"))[-1]]
    for f in later:
        f.rename(held / f.name)
    config = out / "sources.toml"
    first = run(config, db=tmp_path / "p.duckdb", warehouse_path=tmp_path / "w.duckdb")
    assert first.status == "ok"

    for f in later:
        (held / f.name).rename(f)
    old = pd.read_csv(sorted(cad.glob("*.csv"))[3], dtype=str, keep_default_na=False)
    movable = old[(old["TIME_RECEIVED"].str[3:5] <= "28") & (old["TIME_RECEIVED"].str[:2] < "12")]
    moved = movable.head(150).copy()
    for c in [c for c in old.columns if c.startswith("TIME_")]:
        moved[c] = moved[c].map(_shift_a_month)
    fixes = pd.concat([moved, old.tail(20), old.tail(20)])  # the repeats change nothing
    fixes.to_csv(cad / "city_cad_9999-corrections.csv", index=False)
    nightly = run(config, db=tmp_path / "p.duckdb", warehouse_path=tmp_path / "w.duckdb")
    assert nightly.mode == "incremental" and nightly.files_read == 3

    rebuilt = run(config, db=tmp_path / "p2.duckdb", warehouse_path=tmp_path / "w2.duckdb")
    assert rebuilt.mode == "full"
    a = duckdb.connect(str(tmp_path / "p.duckdb"), read_only=True)
    b = duckdb.connect(str(tmp_path / "p2.duckdb"), read_only=True)
    tables = [t for (t,) in a.execute("select table_name from catalog where table_name not in "
                                      "('runs', 'quarantine_summary', 'releases', 'revisions')").fetchall()]
    assert {"responses", "response_times", "calls_by_hour", "use_of_force_matched"} <= set(tables)
    for t in tables:
        x = a.execute(f'select * from "{t}" order by all').df()
        y = b.execute(f'select * from "{t}" order by all').df()
        pd.testing.assert_frame_equal(x, y, obj=t)
    # and the corrections did change something: the moved incidents left their month
    months = {r[0] for r in a.execute("select distinct period from responses where period_type = 'month'").fetchall()}
    assert len(months) >= 12


def test_correction_replaces_and_duplicate_does_not_double(tmp_path):
    from tests.conftest import canonical_row, write_config, write_csv
    rows = [canonical_row(incident_id=f"I{i}", person_key=f"P{i}") for i in range(40)]
    write_csv(tmp_path / "landing/a/a_2025-03-01.csv", rows + [rows[0], rows[1]])  # duplicates
    cfg = write_config(tmp_path)
    run(cfg)
    from outcomes import settings
    def eligible_pilot():
        con = duckdb.connect(str(settings.public_db()), read_only=True)
        try:
            return con.execute("""select eligible_calls, civilian_calls from coverage
                where period = 'pilot_to_date' and district = 'all' and call_type_group = 'all'""").fetchone()
        finally:
            con.close()
    assert eligible_pilot() == (40, 40)
    # a later file corrects 15 incidents: police answered them, not the civilian team
    fixes = [canonical_row(incident_id=f"I{i}", person_key=f"P{i}", responder_type="police",
                           unserved_reason="no_unit_available") for i in range(15)]
    write_csv(tmp_path / "landing/a/a_2025-03-02.csv", fixes)
    report = run(cfg)
    assert report.mode == "incremental" and report.rows_in == 15
    assert eligible_pilot() == (40, 25)


def test_later_row_of_the_same_file_wins(tmp_path):
    """Within one export, a later row for the same incident is the newer version."""
    from outcomes import settings
    from tests.conftest import canonical_row, write_config, write_csv
    first = [canonical_row(incident_id=f"I{i}") for i in range(30)]
    later = [canonical_row(incident_id=f"I{i}", disposition="transported_hospital") for i in range(12)]
    write_csv(tmp_path / "landing/a/a_1.csv", first + later)
    run(write_config(tmp_path))
    con = duckdb.connect(str(settings.public_db()), read_only=True)
    rows = dict(con.execute("""select outcome, calls from outcomes where period = 'pilot_to_date'
        and district = 'all' and call_type_group = 'all' and responder_type = 'civilian_team'
        and outcome in ('resolved_on_scene', 'transported_hospital')""").fetchall())
    con.close()
    assert rows == {"resolved_on_scene": 18, "transported_hospital": 12}


def test_history_from_before_the_pilot_publishes(tmp_path):
    """Calls that all precede the pilot's first day (e.g. history loaded before launch): no
    pilot-to-date period yet, and the other periods are published."""
    from outcomes import settings
    from tests.conftest import canonical_row, write_config, write_csv
    times = dict(received_at="2024-12-04T10:00:00", dispatched_at="2024-12-04T10:05:00",
                 enroute_at="2024-12-04T10:06:00", on_scene_at="2024-12-04T10:30:00",
                 cleared_at="2024-12-04T11:10:00")
    write_csv(tmp_path / "landing/a/a_2024-12.csv",
              [canonical_row(incident_id=f"I{i}", person_key=f"P{i}", **times) for i in range(40)])
    assert run(write_config(tmp_path)).status == "ok"
    con = duckdb.connect(str(settings.public_db()), read_only=True)
    kinds = {r[0] for r in con.execute("select distinct period_type from responses").fetchall()}
    median = con.execute("""select median_minutes from response_times where period = '2024-12'
        and district = 'all' and call_type_group = 'all' and responder_type = 'civilian_team'
        and interval = 'dispatch_to_scene'""").fetchall()
    con.close()
    assert "pilot_to_date" not in kinds and "month" in kinds
    assert median == [(25.0,)]


def test_too_many_bad_rows_fails_closed(tmp_path):
    from outcomes import settings
    from tests.conftest import canonical_row, write_config, write_csv
    write_csv(tmp_path / "landing/a/a_1.csv", [canonical_row(incident_id=f"I{i}") for i in range(40)])
    cfg = write_config(tmp_path)
    run(cfg)
    before = hashlib.sha256(settings.public_db().read_bytes()).hexdigest()
    write_csv(tmp_path / "landing/a/a_2.csv",
              [canonical_row(incident_id=f"J{i}", disposition="???") for i in range(10)]
              + [canonical_row(incident_id=f"K{i}") for i in range(10)])
    with pytest.raises(RunFailed, match="unknown disposition code"):
        run(cfg)
    assert hashlib.sha256(settings.public_db().read_bytes()).hexdigest() == before
    con = duckdb.connect(str(settings.warehouse_db()), read_only=True)
    statuses = [r[0] for r in con.execute("select status from runs order by started_at").fetchall()]
    n_calls = con.execute("select count(*) from calls").fetchone()[0]
    con.close()
    assert statuses == ["ok", "failed"] and n_calls == 40  # the warehouse was rolled back too


def test_missing_boundaries_fail_closed(tmp_path, monkeypatch):
    from outcomes import settings
    from tests.conftest import canonical_row, write_config, write_csv
    write_csv(tmp_path / "landing/a/a_1.csv", [canonical_row()])
    cfg = write_config(tmp_path)
    monkeypatch.setenv("OUTCOMES_BOUNDARIES", str(tmp_path / "gone.geojson"))
    with pytest.raises(RunFailed, match="etl boundaries"):
        run(cfg)
    assert not settings.public_db().exists()


def test_parquet_release_and_catalog_json(demo_run):
    rel = Path(demo_run["public"]).parent / "release"
    cat = json.loads((rel / "catalog.json").read_text())
    assert {c["table_name"] for c in cat} >= {"coverage", "responses", "protection"}
    con = duckdb.connect()
    n = con.execute(f"select count(*) from read_parquet('{rel}/coverage/**/*.parquet', hive_partitioning = true)").fetchone()[0]
    assert n == len(_public(demo_run, "coverage"))


def test_a_second_engine_reads_the_release_without_the_project(demo_run):
    """The Parquet release and catalog.json, read with pyarrow.dataset alone (no DuckDB, no
    project code): every catalog table is there with the DuckDB file's row count, and the
    citywide pilot-to-date figures a reader checks first are the same numbers."""
    import pyarrow.dataset as ds
    rel = Path(demo_run["public"]).parent / "release"
    catalog = json.loads((rel / "catalog.json").read_text())
    con = duckdb.connect(str(demo_run["public"]), read_only=True)
    try:
        for entry in catalog:
            name = entry["table_name"]
            table = ds.dataset(rel / name, format="parquet", partitioning="hive").to_table()
            n = con.execute(f'select count(*) from "{name}"').fetchone()[0]
            assert table.num_rows == n, (name, table.num_rows, n)
        city = ("period_type = 'pilot_to_date' and district = 'all' and call_type_group = 'all'")
        for name, cols in (("coverage", ["eligible_calls", "civilian_calls", "coverage_rate"]),
                           ("responses", ["responder_type", "responses"])):
            frame = ds.dataset(rel / name, format="parquet", partitioning="hive").to_table(
                filter=(ds.field("period_type") == "pilot_to_date") & (ds.field("district") == "all")
                & (ds.field("call_type_group") == "all")).to_pandas()
            theirs = frame[cols].sort_values(cols[0]).reset_index(drop=True)
            ours = con.execute(f"select {', '.join(cols)} from {name} where {city} "
                               f"order by {cols[0]}").df()
            assert len(ours) >= 1
            pd.testing.assert_frame_equal(theirs.astype(str), ours.astype(str), obj=name)
    finally:
        con.close()


# ---------------------------------------------------------------- the public-use record file

PUF_GRAIN = ["fiscal_year", "district", "responder_type"]


def _fiscal_year(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    start = y if m >= 7 else y - 1
    return f"FY{start}-{(start + 1) % 100:02d}"


def test_public_use_file_is_k_anonymous_and_l_diverse_from_the_file_alone(demo_run):
    """k and l recomputed from the published file (DuckDB and Parquet), apart from the code
    that built it, meet the settings; its columns are its catalog row's grain and measures,
    nothing else."""
    rows = _public(demo_run, "public_use_file")
    rel = Path(demo_run["public"]).parent / "release" / "public_use_file" / "data.parquet"
    assert pq.read_table(rel).to_pandas().astype(str).equals(rows.astype(str))
    catalog = _public(demo_run, "catalog").set_index("table_name").loc["public_use_file"]
    measures = catalog["measures"].split(",")
    assert catalog["grain"].split(",") == PUF_GRAIN
    assert list(rows.columns) == PUF_GRAIN + measures
    assert len(rows) > 1_000
    sizes = rows.groupby(PUF_GRAIN).size()
    assert sizes.min() >= settings.puf_k() >= 11
    carrying = set()
    for col in measures:
        for _, g in rows.groupby(PUF_GRAIN):
            values = set(g[col]) - {"withheld"}
            assert len(values) >= settings.puf_l() or set(g[col]) == {"withheld"}, (col, values)
            if values:
                carrying.add(col)
    assert {"disposition", "dispatch_to_scene_band"} <= carrying, carrying
    # no row order from the warehouse: rows are sorted by their values
    assert rows.equals(rows.sort_values(list(rows.columns)).reset_index(drop=True))
    summary = _public(demo_run, "public_use_file_summary").iloc[0]
    assert summary["k"] == settings.puf_k() and summary["l"] == settings.puf_l()
    assert summary["records_kept"] == len(rows)
    assert 0 < summary["share_kept"] <= 1
    text = rows.to_csv(index=False)
    assert CANARY not in text.upper()
    assert not any(len(t) == 64 and all(c in "0123456789abcdef" for c in t)
                   for t in set(rows.to_numpy().ravel()))


def test_public_use_file_counts_are_the_records_and_never_a_hidden_cell(demo_run, truth):
    """Every group holds exactly its records; a value it prints is counted right and is a
    count the outcomes table shows for that fiscal year, district and responder; where the
    table hides the count, the file prints no such value."""
    rows = _public(demo_run, "public_use_file")
    oc = _public(demo_run, "outcomes")
    oc = oc[(oc.period_type == "fiscal_year") & (oc.call_type_group == "all")]
    u = truth[truth["universe"] & truth["responder_type"].isin(["civilian_team", "co_response", "police"])
              & truth["district_leaf"].astype(str).isin([str(i) for i in range(1, 16)])].copy()
    u["fiscal_year"] = u["month"].map(_fiscal_year)
    u["district"] = u["district_leaf"].astype(str)
    records = u.groupby(PUF_GRAIN)
    checked = hidden_seen = 0
    for key, g in rows.groupby(PUF_GRAIN):
        r = records.get_group(key)
        assert len(g) == len(r), key
        cells = oc[(oc.period == key[0]) & (oc.district == key[1]) & (oc.responder_type == key[2])]
        for c in cells.itertuples():
            printed = int((g["disposition"] == c.outcome).sum())
            if c.calls_flag == "":
                if printed:
                    assert printed == c.calls == int((r["disposition"].fillna("not_recorded") == c.outcome).sum())
                    checked += 1
            else:
                assert printed == 0, (key, c.outcome, c.calls_flag)
                hidden_seen += 1
        for band, lo, hi in (("under_10_min", 0, 10), ("30_to_59_min", 30, 60)):
            printed = int((g["dispatch_to_scene_band"] == band).sum())
            if printed:
                minutes = r["dispatch_to_scene_seconds"] / 60
                assert printed == int(((minutes >= lo) & (minutes < hi)).sum())
                checked += 1
    assert checked > 20 and hidden_seen > 0
