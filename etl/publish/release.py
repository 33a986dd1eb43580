"""The whole release: every public table, from the warehouse's month tables.

Order of work (SPEC 5): the month tables are brought up to date (etl/monthly.py), the
headline families are protected first (coverage, the police workload, responses by
responder type), then the detail under them (unserved reasons, the co-response / police
split, dispositions, each event, each interval's state), which never moves a headline
figure; then the count tables (other contacts, calls by hour, the police baseline). Each
table's protection is reported in the public table `protection`.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from etl import monthly, shootings
from etl.call_types import load_code_table
from etl.crosswalk import Divisions, division_crosswalk, load_divisions
from etl.districts import Boundaries, display_features
from etl.publish import families as F
from etl.publish import puf as P
from etl.publish import simple, tables as T
from etl.publish.baseline import baseline_tables
from etl.publish.baseline import leaf_counts as baseline_leaf_counts
from etl.publish.grid import split_labels
from etl.publish.periods import month_range, period_bridge, period_dim
from etl.publish.protect import UNBOUNDED
from etl.publish.quantiles import (HOUR_BAND_GROUPINGS, INTERVAL_STATES, INTERVALS,
                                   RESPONSE_TIME_GROUPINGS, interval_quantiles)
from etl.sources import Config
from outcomes import catalog as cat
from outcomes import settings

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
ALL = "all"
RESPONDERS = F.RESPONDERS
DETAIL_RESPONDERS = F.DETAIL_RESPONDERS
WORKLOAD = ("civilian_team", "co_response", "police")
DISPOSITIONS = ("resolved_on_scene", "transported_community", "transported_hospital",
                "involuntary_hold", "arrest", "gone_on_arrival", "refused", "cancelled", "other",
                "not_recorded")
OUTCOME_EVENTS = ("arrest", "citation", "use_of_force", "injury_person", "injury_responder",
                  "referral_offered", "referral_accepted")
INVOLVEMENT = ("police_co_dispatched", "police_backup_requested", "redirected_to_police")
# statuses of calls in the pilot's area and hours (etl/sql/universe.sql)
IN_AREA_HOURS = ("screened_out", "screen_not_recorded")


def sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def month_tables() -> dict[str, str]:
    """The warehouse tables etl/monthly.py keeps by month, in the order they are built."""
    return {name: sql(name) for name in ("universe", "leaf_counts", "hour_slots", "force_strata")}


@dataclass
class Release:
    tables: dict[str, pd.DataFrame]
    data_through: date | None
    families: dict[str, F.Family]


def coverage_spans(config: Config) -> pd.DataFrame:
    rows = []
    for i, span in enumerate(config.coverage):
        end = config.coverage[i + 1].start if i + 1 < len(config.coverage) else date(9999, 12, 31)
        for d in span.divisions:
            rows.append((d, span.start, end, span.start_hour, span.end_hour))
    return pd.DataFrame(rows, columns=["division", "span_start", "span_end", "start_hour", "end_hour"])


# ---------------------------------------------------------------- leaves of each family


def _leaves(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    df = con.execute("""select month, district as place, call_type_group as "group",
                               responder_type as responder, item, n from leaf_counts""").df()
    if df.empty:
        return df.assign(kind=pd.Series(dtype=str), value=pd.Series(dtype=str)).astype(
            {"month": str, "place": str, "group": str, "responder": str, "item": str})
    df["kind"], df["value"] = split_labels(df["item"], ":")
    return df


def _sum(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return df.groupby(by, as_index=False)["n"].sum()


def _families(leaves: pd.DataFrame, months: list[str], pilot_start: str,
              groups: list[str], only: list[str] | None = None) -> dict[str, F.Family]:
    """Every protected family of the pilot's tables, headline first."""
    period, kind = period_dim(months, pilot_start)
    pilot_months = [m for m in months if m >= pilot_start]
    # eligibility is zero before the pilot began: those months are no part of its families
    pperiod, pkind = period_dim(pilot_months, pilot_start) if pilot_months else (period, kind)
    status = leaves[(leaves["kind"] == "status") & (leaves["month"] >= pilot_start)]
    eligible = status[status["value"].str.startswith("eligible_")]
    cov = eligible.assign(item=np.where(eligible["value"] == "eligible_served", "served", "unserved"))
    reasons = eligible[eligible["value"] != "eligible_served"]
    reasons = reasons.assign(item=reasons["value"].str.removeprefix("eligible_unserved_"))
    # the funnel's leaves: each call where it dropped out, or eligible; screened-out calls
    # by the screen's reason
    dropped = status[~status["value"].str.startswith("eligible_") & (status["value"] != "screened_out")]
    screen = leaves[(leaves["kind"] == "screen_out") & (leaves["value"] != "none")
                    & (leaves["month"] >= pilot_start)]
    funnel = pd.concat([
        dropped.assign(item=dropped["value"]),
        eligible.assign(item="eligible"),
        screen.assign(item="screened_out_" + screen["value"]),
    ], ignore_index=True)
    handled = status[(status["value"].str.startswith("eligible_") | status["value"].isin(IN_AREA_HOURS))
                     & status["responder"].isin(WORKLOAD)]
    key = ["month", "place", "group", "item"]
    rkey = ["month", "place", "group", "responder", "item"]
    split = handled[handled["responder"] != "civilian_team"]
    responses = leaves[leaves["kind"] == "status"]
    min_den = float(settings.min_denominator())
    # a median is printed wherever at least the minimum of valid times lie behind it: an
    # outsider knows each valid count is >= the minimum there and under it elsewhere
    valid_known = (lambda c: np.where(c["n"] >= min_den, min_den, 0.0),
                   lambda c: np.where(c["n"] >= min_den, UNBOUNDED, min_den - 1))

    def kind_leaves(name: str) -> pd.DataFrame:
        part = leaves[leaves["kind"] == name]
        return _sum(part.assign(item=part["value"]), rkey)

    # The headline families stand alone, and every detail family depends only on its
    # headline parent: each stage runs in two threads (the cube search releases the GIL).
    headline = {
        "coverage": lambda: F.rate_family(F.COVERAGE, _sum(cov, key), pperiod, pkind, groups),
        "workload": lambda: F.rate_family(F.WORKLOAD, _sum(handled.assign(item=np.where(
            handled["responder"] == "civilian_team", "civilian_team", "other_responders")), key),
            pperiod, pkind, groups),
        "responses": lambda: F.responses_family(
            _sum(responses.assign(item=responses["responder"]), key), period, kind, groups),
    }
    fam = _run(headline)
    detail = {
        "unserved_reasons": lambda: F.detail_family(F.REASONS, _sum(reasons, key), pperiod, pkind,
                                                    groups, fam["coverage"], grain=F.reason_grain),
        "funnel": lambda: F.detail_family(F.FUNNEL, _sum(funnel, key), pperiod, pkind, groups,
                                          fam["coverage"]),
        "workload_split": lambda: F.detail_family(
            F.SPLIT, _sum(split.assign(item=split["responder"]), key), pperiod, pkind, groups,
            fam["workload"]),
        "dispositions": lambda: F.detail_family(
            F.DetailSpec("dispositions", "responses", {"responses": list(DISPOSITIONS)},
                         responders=DETAIL_RESPONDERS),
            kind_leaves("disposition"), period, kind, groups, fam["responses"],
            grain=F.responder_detail_grain),
    }
    for event in OUTCOME_EVENTS + INVOLVEMENT:
        spec = F.DetailSpec(event, "responses", {"responses": ["recorded", "unknown"],
                                                 "recorded": ["true", "false"]}, den="recorded",
                            rare="true",
                            responders=("civilian_team",) if event in INVOLVEMENT else DETAIL_RESPONDERS)
        detail[event] = (lambda spec=spec, event=event: F.detail_family(
            spec, kind_leaves(event), period, kind, groups, fam["responses"],
            grain=F.responder_detail_grain))
    for interval in INTERVALS:
        spec = F.DetailSpec(interval, "responses", {"responses": list(INTERVAL_STATES)},
                            responders=DETAIL_RESPONDERS)
        detail[interval] = (lambda spec=spec, interval=interval: F.detail_family(
            spec, kind_leaves(interval), period, kind, groups, fam["responses"],
            known={"valid": valid_known}, grain=F.responder_detail_grain))
    if only:
        detail = {k: v for k, v in detail.items() if k in only}
    fam.update(_run(detail))
    if "funnel" in fam and (not only or "call_origin" in only):
        # under the funnel's calls: how they arrived (the crisis line's part)
        origin = leaves[(leaves["kind"] == "origin") & (leaves["month"] >= pilot_start)]
        fam["call_origin"] = F.detail_family(F.CALL_ORIGIN, _sum(origin.assign(
            item="origin_" + origin["value"]), key), pperiod, pkind, groups, fam["funnel"])
    return fam


def _run(jobs: dict) -> dict:
    """Run independent protection jobs in two threads; results in the jobs' order."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


# ---------------------------------------------------------------- tables off the families


def matched_force_table(df: pd.DataFrame, fam: dict[str, F.Family]) -> pd.DataFrame:
    """Use of force and injuries per 1,000 on matched calls (SPEC 4, metric 7).

    Where every stratum matched, these counts equal citywide cells of the responses and
    event families; a row is withheld whole when a cell it could equal is not shown, and
    a count from 1 to the minimum cell minus one is hidden."""
    min_cell = settings.min_cell()
    shown = set()
    resp = fam["responses"].cells
    resp = resp[(resp["place"] == ALL) & (resp["group"] == ALL)]
    shown_resp = set(zip(resp["period"], resp["responder"], resp["status"] == F.SHOWN))
    for event in ("use_of_force", "injury_person", "injury_responder"):
        c = fam[event].cells
        c = c[(c["place"] == ALL) & (c["group"] == ALL)]
        ok = c.groupby(["period", "responder"])["status"].agg(lambda s: bool((s == F.SHOWN).all()))
        shown |= {(p, r, event) for (p, r), v in ok.items() if v}
    withheld = np.array([not ((p, r, e) in shown and (p, r, True) in shown_resp)
                         for p, r, e in zip(df["period"], df["responder_type"], df["event"])], bool)
    for c in ("matched_calls", "recorded", "events"):
        small = ((df[c] > 0) & (df[c] < min_cell)).to_numpy() | withheld
        df[f"{c}_flag"] = np.where(small, "hidden", "")
        df[c] = df[c].astype("Int64").mask(small)
    df = T.rate(df, "events", "recorded", "per_1000", scale=1000.0)
    hidden = df["events"].isna() | df["matched_calls"].isna() | df["per_1000"].isna()
    df["standardized_per_1000"] = np.where(hidden, np.nan, df["standardized_per_1000"])
    return df


def repeat_contact_table(con: duckdb.DuckDBPyConnection, periods: pd.DataFrame,
                         data_through: date) -> pd.DataFrame:
    """Share of people with another contact within 30 / 90 days; rates only (SPEC 4.8)."""
    con.register("period_bridge", periods)
    df = con.execute(sql("repeat_contact"), {"through": data_through}).df()
    con.unregister("period_bridge")
    min_cell = settings.min_cell()
    # Rates only: the count of people is never published, and a rate whose numerator is
    # 1 to the minimum cell minus one would give that count away, so it is withheld too.
    small = ((df["people_repeat"] > 0) & (df["people_repeat"] < min_cell)).to_numpy()
    df["repeat"] = df["people_repeat"].astype(float).mask(small)
    df["repeat_flag"] = np.where(small, "hidden", "")
    df["people_flag"] = ""
    df = T.rate(df, "repeat", "people", "repeat_rate")
    # People are counted once per period, so periods do not add up exactly, but nearly: a
    # withheld fiscal year could be estimated from pilot to date and the others, so all
    # fiscal years of that window are withheld with it.
    fy = (df["period_type"] == "fiscal_year").to_numpy()
    withheld = df[fy & (df["rate_flag"] != "")]["window_days"].unique()
    hide = fy & df["window_days"].isin(withheld).to_numpy() & (df["rate_flag"] == "").to_numpy()
    for c in ("repeat_rate", "repeat_rate_ci_low", "repeat_rate_ci_high"):
        df.loc[hide, c] = np.nan
    df.loc[hide, "rate_flag"] = "hidden"
    df.loc[hide, "unstable"] = False
    return df[["period_type", "period", "window_days", "repeat_rate", "repeat_rate_ci_low",
               "repeat_rate_ci_high", "unstable", "rate_flag"]]


def _other_leaves(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("""
        select strftime(received_hour, '%Y-%m') as month,
               coalesce(district, location_status) as place, call_origin as origin,
               responder_type as responder, count(*)::bigint as n
        from calls where call_origin in ('officer_initiated', 'self_initiated')
        group by all""").df()


def _hour_leaves(con: duckdb.DuckDBPyConnection, pilot_start: str) -> pd.DataFrame:
    """Calls by responder type and hour x weekday slot, pilot to date."""
    return con.execute("""select responder_type as responder,
                                 hour_of_day || '|' || weekday as slot, sum(calls)::bigint as n
                          from hour_slots where month >= $pilot group by all""",
                       {"pilot": pilot_start}).df()


def divisions_table(d: Divisions) -> pd.DataFrame:
    """The 21 LAPD divisions with display geometry, for drawing pilot coverage."""
    features = display_features(d.frame, key="division")
    return pd.DataFrame({
        "division": d.frame["division"].values,
        "geometry_geojson": [json.dumps(f["geometry"]) for f in features],
        "divisions_sha256": d.sha256,
    })


def districts_table(b: Boundaries) -> pd.DataFrame:
    features = display_features(b)
    area = b.frame.to_crs(3310).area / 2_589_988.11  # California Albers, square miles
    return pd.DataFrame({
        "district": b.frame["district"].values,
        "name": ("Council District " + b.frame["district"]).values,
        "area_sq_mi": area.round(2).values,
        "geometry_geojson": [json.dumps(f["geometry"]) for f in features],
        "boundary_plan": b.plan,
        "boundary_sha256": b.sha256,
    })


# ---------------------------------------------------------------- protection report

# the families behind each protected table
TABLE_FAMILIES = {
    "coverage": ("coverage",),
    "unserved": ("coverage", "unserved_reasons"),
    "eligibility_funnel": ("funnel",),
    "crisis_line": ("call_origin",),
    "workload_share": ("workload", "workload_split"),
    "responses": ("responses",),
    "outcomes": ("dispositions",),
    "outcome_events": OUTCOME_EVENTS,
    "police_involvement": INVOLVEMENT,
    "response_times": INTERVALS,
    "other_contacts": ("other_contacts",),
    "calls_by_hour": ("calls_by_hour",),
    "police_baseline": ("police_baseline",),
}


def protection_rows(table: str, families: list[F.Family]) -> dict:
    """What a table's protection did, in counts of its printed cells: hidden because the
    count is under the minimum cell, hidden to protect those, and (for tables with rates)
    the share of the rows primary rules alone would allow that the table shows."""
    min_cell = settings.min_cell()
    cells = small = protect = not_pub = under = allowed = shown_rows = 0
    for fam in families:
        c = fam.cells
        st = c["status"].to_numpy()
        n = c["n"].to_numpy()
        printed = st != F.NOT_PUBLISHED
        hidden = st == F.HIDDEN
        cells += int(printed.sum())
        small += int((hidden & (n >= 1) & (n < min_cell)).sum())
        protect += int((hidden & ~((n >= 1) & (n < min_cell))).sum())
        under += int((st == F.UNDER_MIN).sum())
        not_pub += int((~printed).sum())
        if "allowed" in c:
            keys = [k for k in ("period", "place", "group", "responder") if k in c]
            rows = c.assign(ok=st == F.SHOWN).groupby(keys).agg(
                allowed=("allowed", "first"), ok=("ok", "all"))
            allowed += int(rows["allowed"].sum())
            shown_rows += int((rows["allowed"] & rows["ok"]).sum())
    return {"table": table, "method": "alternative tables (complementary suppression)",
            "cells": cells, "hidden_small": small, "hidden_to_protect": protect,
            "under_minimum": under, "not_published": not_pub,
            "rows_allowed": allowed, "rows_shown": shown_rows,
            "utility_share": round(shown_rows / allowed, 4) if allowed else None}


PROTECTION_COLUMNS = ["table", "method", "cells", "hidden_small", "hidden_to_protect",
                      "under_minimum", "not_published", "rows_allowed", "rows_shown",
                      "utility_share"]


def protection_table(fams: dict[str, F.Family]) -> pd.DataFrame:
    rows = [protection_rows(t, [fams[f] for f in names if f in fams])
            for t, names in TABLE_FAMILIES.items() if any(f in fams for f in names)]
    return pd.DataFrame(rows, columns=PROTECTION_COLUMNS).astype({"utility_share": "Float64"})


# ---------------------------------------------------------------- the whole release


def _pilot_tables(con: duckdb.DuckDBPyConnection, months: list[str], pilot_start: str,
                  groups: list[str], data_through) -> tuple[dict, dict[str, pd.DataFrame]]:
    """The pilot's families and the tables printed from them."""
    # with no pilot calls at all (only the police baseline loaded) the pilot's tables are
    # built over the pilot's first month and then emptied, so they keep their columns
    built = months or [pilot_start]
    periods = period_bridge(built, pilot_start)
    fams = _families(_leaves(con), built, pilot_start, groups)
    tables: dict[str, pd.DataFrame] = {}
    quantiles = interval_quantiles(
        con, periods, {"response_times": RESPONSE_TIME_GROUPINGS,
                       "by_hour_band": HOUR_BAND_GROUPINGS},
        where="responder_type <> 'phone'")
    period, kind = period_dim(built, pilot_start)
    fams["other_contacts"], other = simple.other_contacts(_other_leaves(con), period, kind)
    fams["calls_by_hour"], hourly = simple.calls_by_hour(_hour_leaves(con, pilot_start), kind,
                                                         fams["responses"])
    con.register("period_bridge", periods)
    force = con.execute(sql("matched_force")).df()
    con.unregister("period_bridge")
    tables.update({
        "coverage": T.coverage_table(fams["coverage"]),
        "unserved": T.unserved_table(fams["coverage"], fams["unserved_reasons"]),
        "eligibility_funnel": T.funnel_table(fams["coverage"], fams["unserved_reasons"],
                                             fams["funnel"]),
        "crisis_line": T.crisis_line_table(
            fams["funnel"], fams["call_origin"], fams["responses"],
            before_pilot=set(periods.loc[periods["month"] < pilot_start, "period"])),
        "workload_share": T.workload_table(fams["workload"], fams["workload_split"]),
        "responses": T.responses_frame(fams["responses"]),
        "police_involvement": T.events_table(fams["responses"], {e: fams[e] for e in INVOLVEMENT},
                                             "involvement"),
        "outcomes": T.outcomes_table(fams["responses"], fams["dispositions"], DISPOSITIONS),
        "outcome_events": T.events_table(fams["responses"], {e: fams[e] for e in OUTCOME_EVENTS},
                                         "event"),
        "response_times": T.response_times_table({i: fams[i] for i in INTERVALS},
                                                 quantiles["response_times"]),
        "response_times_by_hour_band": T.hour_band_times_table(quantiles["by_hour_band"]),
        "use_of_force_matched": matched_force_table(force, fams),
        "calls_by_hour": hourly,
        "other_contacts": other,
        "repeat_contact": repeat_contact_table(con, periods, data_through or date(1970, 1, 1)),
    })
    if not months:
        tables = {name: df.iloc[:0].copy() for name, df in tables.items()}
        fams = {}
    return fams, tables


def build_release(con: duckdb.DuckDBPyConnection, config: Config, boundaries: Boundaries,
                  divisions: Divisions | None = None,
                  months_changed: list[str] | None = None) -> Release:
    """Every public table as a DataFrame. Reads the warehouse's `calls` through `con`, and
    first brings its month tables up to date: only `months_changed` where given (a nightly
    run's), else all."""
    divisions = divisions or load_divisions()
    table = load_code_table()
    codes = [r[0] for r in con.execute(
        "select distinct initial_call_type from calls where initial_call_type is not null").fetchall()]
    con.register("call_groups", pd.DataFrame(
        {"code": codes, "call_type_group": [table.group_of(c) for c in codes]},
        columns=["code", "call_type_group"]).astype(str))
    con.register("pilot_groups", pd.DataFrame({"call_type_group": list(config.pilot_groups)}))
    spans = coverage_spans(config)
    con.register("coverage_spans", spans)
    month_sql = month_tables()
    monthly.refresh(con, month_sql, monthly.fingerprint(
        month_sql, pilot_groups=sorted(config.pilot_groups), spans=spans.to_dict("records"),
        code_table=[table.version, table.rows()]), months_changed)

    bounds = con.execute("select min(received_hour), max(received_hour) from calls").fetchall()[0]
    data_through = bounds[1].date() if bounds[1] is not None else None
    pilot_start = config.coverage[0].start.strftime("%Y-%m")
    months = month_range(bounds[0].strftime("%Y-%m"), bounds[1].strftime("%Y-%m")) if bounds[0] else []
    groups = sorted(set(config.pilot_groups))

    log.info("publish: protecting the families")
    # the police baseline shares nothing with the pilot's families: it is protected beside
    # them, in a thread of its own (its cube search releases the GIL; its counts are read
    # here, in the run's transaction)
    crosswalk = division_crosswalk(divisions, boundaries)
    side = ThreadPoolExecutor(max_workers=1)
    baseline_job = side.submit(baseline_tables, baseline_leaf_counts(con),
                               list(config.pilot_groups), pilot_start, crosswalk)
    try:
        fams, tables = _pilot_tables(con, months, pilot_start, groups, data_through)
        baseline, baseline_fams = baseline_job.result()
    finally:
        side.shutdown(wait=True)
    for f in baseline_fams:
        fams[f.name] = f
    tables.update({
        **baseline,
        "districts": districts_table(boundaries),
        "division_crosswalk": crosswalk,
        "divisions": divisions_table(divisions),
        "pilot_coverage": spans.assign(
            span_start=lambda d: d.span_start.astype(str),
            span_end=lambda d: d.span_end.astype(str).replace("9999-12-31", "")),
        "milestones": pd.DataFrame([(d.isoformat(), label, label_es or None)
                                    for d, label, label_es in config.milestones],
                                   columns=["date", "label", "label_es"]).astype("string"),
        "call_types": pd.DataFrame(table.rows()).assign(code_table_version=table.version),
        "officer_involved_shootings": shootings.published(),
    })
    tables["protection"] = protection_table(fams)
    # the public-use record file, on the tables' own decisions (etl/publish/puf.py)
    use_file = P.build(con, fams, settings.puf_k(), settings.puf_l()) if "responses" in fams \
        else P.empty(settings.puf_k(), settings.puf_l())
    tables["public_use_file"] = use_file.rows
    tables["public_use_file_summary"] = use_file.summary

    # Periods to choose from: the pilot's and the police baseline's (which may reach back
    # before the pilot began, or be all a run has).
    baseline_months = sorted(set(tables["police_baseline"].loc[
        tables["police_baseline"]["period_type"] == "month", "period"]))
    every = period_bridge(sorted(set(months) | set(baseline_months)), pilot_start)
    tables["periods"] = (every.drop(columns=["month"]).drop_duplicates().reset_index(drop=True)
                         .merge(every.groupby(["period_type", "period"], as_index=False)
                                .agg(first_month=("month", "min"), last_month=("month", "max")),
                                on=["period_type", "period"]))
    if data_through is None and len(tables["police_baseline"]):
        # only the police baseline is loaded: its last day is the data's
        last = con.execute("select max(received_hour) from baseline_calls").fetchall()[0][0]
        data_through = last.date() if last is not None else None
    for df in tables.values():
        for col in df.columns:
            if col in cat.TEXT_DIMENSIONS:
                df[col] = df[col].astype(str)
    for v in ("call_groups", "pilot_groups", "coverage_spans"):
        con.unregister(v)
    return Release(tables, data_through, fams)
