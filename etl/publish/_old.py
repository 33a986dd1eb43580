"""Publish: the metrics of SPEC section 4 at the grains of section 5, disclosure-controlled.

Every published count comes from one cube (`counts`) so that one set of equations ties them
all together and complementary suppression sees every way a hidden cell could be recovered.
Rate tables are read off the suppressed cube: a rate is published only when its numerator
and denominator are both shown and the denominator reaches the minimum.
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

from etl import monthly
from etl.baseline import baseline_tables
from etl.call_types import load_code_table
from etl.crosswalk import Divisions, division_crosswalk, load_divisions
from etl.districts import Boundaries, display_features
from etl.sources import Config
from etl.stats import grouped_quantiles, rounded_tenths, wilson
from etl.publish._old_suppress import Equation, suppress
from outcomes import catalog as cat
from outcomes import settings

log = logging.getLogger(__name__)
SQL_DIR = Path(__file__).resolve().parent / "sql"

RESPONDERS = ("civilian_team", "co_response", "police", "fire_ems", "phone")
POLICE_WORKLOAD = ("civilian_team", "co_response", "police")
DISPOSITIONS = ("resolved_on_scene", "transported_community", "transported_hospital",
                "involuntary_hold", "arrest", "gone_on_arrival", "refused", "cancelled", "other",
                "not_recorded")
EVENTS = ("arrest", "citation", "use_of_force", "injury_person", "injury_responder",
          "police_co_dispatched", "police_backup_requested", "redirected_to_police",
          "referral_offered", "referral_accepted")
UNSERVED = ("no_unit_available", "outside_hours", "outside_area", "cancelled",
            "redirected_to_police", "other", "not_recorded")
INTERVAL_STATES = ("valid", "missing", "negative", "over_24h")
INTERVALS = ("dispatch_to_scene", "received_to_scene")
# quantiles as fractions, so that they are computed exactly (etl.stats.grouped_quantiles)
QUANTILES = {"p25_minutes": (1, 4), "median_minutes": (1, 2), "p75_minutes": (3, 4),
             "p90_minutes": (9, 10)}
DISTRICT_LEAVES = tuple(str(i) for i in range(1, 16)) + ("outside_city", "unknown")
ELIGIBLE_LEAVES = ("eligible_served",) + tuple(f"eligible_unserved_{r}" for r in UNSERVED)
ALL = "all"


def sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


# ---------------------------------------------------------------- periods

PERIOD_TYPES = ("month", "quarter", "year", "fiscal_year", "pilot_to_date")


def quarter_of(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y}-Q{(m - 1) // 3 + 1}"


def fiscal_year_of(month: str) -> str:
    """The City's fiscal year runs July to June: July 2024 is in FY2024-25."""
    y, m = int(month[:4]), int(month[5:7])
    start = y if m >= 7 else y - 1
    return f"FY{start}-{(start + 1) % 100:02d}"


def month_range(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y}-{m:02d}" <= last:
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def period_bridge(months: list[str], pilot_start: str) -> pd.DataFrame:
    rows = []
    for mo in months:
        rows += [(mo, "month", mo), (mo, "quarter", quarter_of(mo)), (mo, "year", mo[:4]),
                 (mo, "fiscal_year", fiscal_year_of(mo))]
        if mo >= pilot_start:
            rows.append((mo, "pilot_to_date", "pilot_to_date"))
    return pd.DataFrame(rows, columns=["month", "period_type", "period"])


def period_equations(months: list[str], pilot_start: str,
                     types: tuple[str, ...] = PERIOD_TYPES) -> list[Equation]:
    """Every way one published period is the sum of others: each period of the given types
    that is exactly covered by periods of a finer type (a quarter by its months, a fiscal year
    by its quarters, pilot to date by fiscal years when the pilot began on 1 July, ...)."""
    bridge = period_bridge(months, pilot_start)
    bridge = bridge[bridge.period_type.isin(types)]
    members = {p: frozenset(g.month) for p, g in bridge.groupby("period")}
    kind = dict(zip(bridge.period, bridge.period_type))
    order = {"month": 0, "quarter": 1, "year": 2, "fiscal_year": 2, "pilot_to_date": 3}
    eqs = []
    for parent, months_in in sorted(members.items()):
        for child_type in types:
            if order[child_type] >= order[kind[parent]]:
                continue
            kids = sorted(p for p, m in members.items()
                          if kind[p] == child_type and m <= months_in)
            if kids and frozenset().union(*(members[k] for k in kids)) == months_in:
                eqs.append(Equation("period", parent, tuple(kids)))
    return eqs


# ---------------------------------------------------------------- the cube

def item_bridge(leaves: list[str]) -> pd.DataFrame:
    rows = []
    for leaf in leaves:
        rows.append((leaf, leaf))
        if leaf in ELIGIBLE_LEAVES:
            rows += [(leaf, "eligible"), (leaf, "in_pilot_area_hours"), (leaf, ALL)]
        elif leaf in ("screened_out", "screen_not_recorded"):
            rows += [(leaf, "in_pilot_area_hours"), (leaf, ALL)]
        elif leaf in ("outside_pilot_hours", "outside_pilot_area"):
            rows.append((leaf, ALL))
    return pd.DataFrame(rows, columns=["leaf", "node"])


def item_equations() -> list[Equation]:
    outside = ("outside_pilot_hours", "outside_pilot_area")
    eqs = [
        Equation("item", ALL, ("eligible", "screened_out", "screen_not_recorded") + outside),
        Equation("item", ALL, ("in_pilot_area_hours",) + outside),
        Equation("item", "in_pilot_area_hours", ("eligible", "screened_out", "screen_not_recorded")),
        Equation("item", "eligible", ELIGIBLE_LEAVES),
        Equation("item", ALL, tuple(f"disposition:{d}" for d in DISPOSITIONS)),
    ]
    eqs += [Equation("item", ALL, tuple(f"{e}:{v}" for v in ("true", "false", "unknown")))
            for e in EVENTS]
    eqs += [Equation("item", ALL, tuple(f"{i}:{s}" for s in INTERVAL_STATES)) for i in INTERVALS]
    return eqs


def other_equations(groups: list[str]) -> list[Equation]:
    # Districts are published for all call type groups together, and groups citywide: the
    # district-by-group cross would be mostly hidden, and hiding it would spread to totals.
    return [
        Equation("district", ALL, DISTRICT_LEAVES, where=(("call_type_group", ALL),)),
        Equation("call_type_group", ALL, tuple(groups), where=(("district", ALL),)),
        Equation("responder_type", ALL, RESPONDERS),
        Equation("responder_type", ALL, ("police_workload", "fire_ems", "phone")),
        Equation("responder_type", "police_workload", POLICE_WORKLOAD),
    ]


CUBE_DIMS = ["period", "district", "call_type_group", "responder_type", "item"]

PERIOD_RANK = {"month": 0, "quarter": 1, "fiscal_year": 2, "year": 2, "pilot_to_date": 3}
# How much readers rely on a cell: complements are taken from the least relied-on first.
# 'eligible' is the coverage denominator, 'all' the denominator of every outcome rate.
ITEM_RANK = {"in_pilot_area_hours": 1, ALL: 2, "eligible": 3}
RESPONDER_RANK = {"civilian_team": 1, "police_workload": 1, ALL: 2}


def coarseness(cube: pd.DataFrame) -> np.ndarray:
    """0 for the finest, least-read cells; totals and headline cells rank highest."""
    def rank_of(col: str, ranks: dict[str, int]) -> np.ndarray:
        codes, values = pd.factorize(cube[col])
        return np.array([ranks.get(v, 0) for v in values], dtype=np.int64)[codes] * 10
    return (rank_of("period_type", PERIOD_RANK) + rank_of("district", {ALL: 1})
            + rank_of("call_type_group", {ALL: 1}) + rank_of("responder_type", RESPONDER_RANK)
            + rank_of("item", ITEM_RANK))


def _bool_item(col: str) -> str:
    return (f"'{col}:' || case when {col} then 'true' when not {col} then 'false' "
            f"else 'unknown' end")


def leaves_sql() -> str:
    """Counts by month, district, group, responder and leaf item (one item per dimension of
    the call: its status, its disposition, each event's answer, each interval's state)."""
    items = ", ".join(["status", "'disposition:' || disposition"]
                      + [_bool_item(e) for e in EVENTS]
                      + ["'dispatch_to_scene:' || dispatch_interval",
                         "'received_to_scene:' || received_interval"])
    return f"""
        with combos as (
            select month, district, call_type_group, responder_type, status, disposition,
                   {', '.join(EVENTS)}, dispatch_interval, received_interval, count(*) as n
            from universe where {{months}} group by all
        )
        select month, district, call_type_group, responder_type, item, sum(n)::bigint as n
        from (select month, district, call_type_group, responder_type,
                     unnest([{items}]) as item, n
              from combos)
        group by all
    """


def build_cube(con: duckdb.DuckDBPyConnection, periods: pd.DataFrame) -> pd.DataFrame:
    """All count cells: every node of every dimension, crossed where data exist, from the
    leaf counts by month (`cube_leaves`)."""
    leaves = [r[0] for r in con.execute("select distinct item from cube_leaves order by 1").fetchall()]
    con.register("period_bridge", periods)
    con.register("item_bridge", item_bridge(leaves))
    # expanded one dimension at a time, summing as it goes, so no step multiplies the leaves
    # by every dimension's nodes at once
    cube = con.execute(f"""
        with items as (
            select l.month, l.district, l.call_type_group, l.responder_type, i.node as item,
                   sum(l.n) as n
            from cube_leaves l join item_bridge i on i.leaf = l.item
            group by all
        ),
        resp as (
            select unnest(['{"','".join(RESPONDERS)}']) as leaf
        ),
        responder_bridge as (
            select leaf, leaf as node from resp
            union all select leaf, 'all' from resp
            union all select leaf, 'police_workload' from resp
             where leaf in ('{"','".join(POLICE_WORKLOAD)}')
        ),
        responders as (
            select l.month, l.district, l.call_type_group, r.node as responder_type, l.item,
                   sum(l.n) as n
            from items l join responder_bridge r on r.leaf = l.responder_type
            group by all
        ),
        -- a district breakdown for all groups, a group breakdown citywide; not both at once
        places as (
            select month, district, 'all' as call_type_group, responder_type, item, sum(n) as n
            from responders group by all
            union all
            select month, 'all', call_type_group, responder_type, item, sum(n)
            from responders group by all
            union all
            select month, 'all', 'all', responder_type, item, sum(n)
            from responders group by all
        )
        select p.period_type, p.period, l.district, l.call_type_group, l.responder_type, l.item,
               sum(l.n)::bigint as n
        from places l join period_bridge p on p.month = l.month
        group by all
        order by all
    """).df()
    con.unregister("period_bridge")
    con.unregister("item_bridge")
    return cube


# ---------------------------------------------------------------- derived tables

KEYS = ["period_type", "period", "district", "call_type_group"]


def _cell(cube: pd.DataFrame, responder: str, item: str, name: str,
          keys: list[str] = KEYS) -> pd.DataFrame:
    """One cell per key as a column `name` (NULL when hidden) and `name_flag`."""
    sel = cube[(cube.responder_type == responder) & (cube.item == item)]
    return sel[keys + ["n", "n_flag"]].rename(columns={"n": name, "n_flag": f"{name}_flag"})


def _rate(df: pd.DataFrame, num: str, den: str, prefix: str, scale: float = 1.0) -> pd.DataFrame:
    """Add prefix, prefix_ci_low, prefix_ci_high, unstable: only over shown cells, den >= min."""
    min_den, unstable_den = settings.min_denominator(), settings.unstable_denominator()
    x = pd.to_numeric(df[num], errors="coerce").astype(float).to_numpy()
    n = pd.to_numeric(df[den], errors="coerce").astype(float).to_numpy()
    ok = ~np.isnan(x) & ~np.isnan(n) & (n >= min_den)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(ok, x / n, np.nan)
    low, high = wilson(np.where(ok, x, np.nan), np.where(ok, n, np.nan))
    df[prefix] = rate * scale
    df[f"{prefix}_ci_low"] = low * scale
    df[f"{prefix}_ci_high"] = high * scale
    df["unstable"] = np.where(ok, n < unstable_den, False) | df.get("unstable", False)
    return df


def _merge_all(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    out = frames[0]
    for f in frames[1:]:
        out = out.merge(f, on=keys, how="outer")
    return out


def _fill_zero(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """A cell absent from the cube is a true zero (no calls), which is shown."""
    for c in cols:
        flag = f"{c}_flag"
        missing = df[flag].isna()
        df.loc[missing, c] = 0
        df.loc[missing, flag] = ""
        df[c] = df[c].astype("Int64")
    return df


def coverage_table(cube: pd.DataFrame) -> pd.DataFrame:
    df = _merge_all([_cell(cube, ALL, "eligible", "eligible_calls"),
                     _cell(cube, "civilian_team", "eligible", "civilian_calls")], KEYS)
    df = df[df["eligible_calls_flag"].notna()]
    df = _fill_zero(df, ["civilian_calls"])
    return _rate(df, "civilian_calls", "eligible_calls", "coverage_rate")


def unserved_table(cube: pd.DataFrame) -> pd.DataFrame:
    sel = cube[(cube.responder_type == ALL) & cube.item.str.startswith("eligible_unserved_")]
    out = sel[KEYS + ["item", "n", "n_flag"]].copy()
    out["unserved_reason"] = out.pop("item").str.removeprefix("eligible_unserved_")
    return out.rename(columns={"n": "calls", "n_flag": "calls_flag"})[
        KEYS + ["unserved_reason", "calls", "calls_flag"]]


def workload_table(cube: pd.DataFrame) -> pd.DataFrame:
    cells = [_cell(cube, "police_workload", "in_pilot_area_hours", "handled_calls")]
    cells += [_cell(cube, r, "in_pilot_area_hours", f"{r}_calls") for r in POLICE_WORKLOAD]
    df = _merge_all(cells, KEYS)
    df = df[df["handled_calls_flag"].notna()]
    df = _fill_zero(df, [f"{r}_calls" for r in POLICE_WORKLOAD])
    return _rate(df, "civilian_team_calls", "handled_calls", "workload_share")


def event_table(cube: pd.DataFrame, events: tuple[str, ...], responders: tuple[str, ...],
                measure: str) -> pd.DataFrame:
    """Per 1,000 responses with a recorded answer: events / (true + false)."""
    frames = []
    keys = KEYS + ["responder_type"]
    cube = cube[cube.responder_type.isin(responders)]
    wanted = [ALL] + [f"{e}:{v}" for e in events for v in ("true", "false", "unknown")]
    by_item = dict(tuple(cube[cube.item.isin(wanted)].groupby("item", sort=False)))
    resp = by_item.get(ALL, cube.iloc[:0])[keys + ["n", "n_flag"]].rename(
        columns={"n": "responses", "n_flag": "responses_flag"})
    for e in events:
        parts = []
        for v in ("true", "false", "unknown"):
            sel = by_item.get(f"{e}:{v}", cube.iloc[:0])
            parts.append(sel[keys + ["n", "n_flag"]].rename(
                columns={"n": f"n_{v}", "n_flag": f"n_{v}_flag"}))
        df = _merge_all([resp] + parts, keys)
        df = _fill_zero(df, ["n_true", "n_false", "n_unknown"])
        known = df["n_true"].astype("Float64") + df["n_false"].astype("Float64")
        # responses - not recorded is the same number (responses = true + false + unknown is
        # one of the cube's equations), so it may be shown whenever both of those are
        known = known.fillna(df["responses"].astype("Float64") - df["n_unknown"].astype("Float64"))
        df["recorded"] = known.round().astype("Int64")
        df[measure] = e
        df = _rate(df, "n_true", "recorded", "per_1000", scale=1000.0)
        frames.append(df.rename(columns={"n_true": "events", "n_true_flag": "events_flag",
                                         "n_unknown": "not_recorded",
                                         "n_unknown_flag": "not_recorded_flag"})
                      .drop(columns=["n_false", "n_false_flag"]))
    out = pd.concat(frames, ignore_index=True)
    return out[keys + [measure, "responses", "responses_flag", "recorded", "events", "events_flag",
                       "not_recorded", "not_recorded_flag", "per_1000", "per_1000_ci_low",
                       "per_1000_ci_high", "unstable"]]


def outcomes_table(cube: pd.DataFrame) -> pd.DataFrame:
    """Dispositions per 1,000 responses, by responder type."""
    keys = KEYS + ["responder_type"]
    resp = cube[(cube.item == ALL) & (cube.responder_type.isin(RESPONDERS))][keys + ["n", "n_flag"]]
    resp = resp.rename(columns={"n": "responses", "n_flag": "responses_flag"})
    frames = []
    for d in DISPOSITIONS:
        sel = cube[cube.item == f"disposition:{d}"][keys + ["n", "n_flag"]]
        df = resp.merge(sel.rename(columns={"n": "calls", "n_flag": "calls_flag"}), on=keys, how="left")
        df = _fill_zero(df, ["calls"])
        df["outcome"] = d
        frames.append(_rate(df, "calls", "responses", "per_1000", scale=1000.0))
    out = pd.concat(frames, ignore_index=True)
    return out[keys + ["outcome", "responses", "responses_flag", "calls", "calls_flag", "per_1000",
                       "per_1000_ci_low", "per_1000_ci_high", "unstable"]]


HOUR_BANDS = ("00-06", "06-12", "12-18", "18-24")
Grouping = tuple[tuple[str, ...], tuple[str, ...]]  # (period types, dimensions)


def interval_quantiles(con: duckdb.DuckDBPyConnection, periods: pd.DataFrame,
                       tables: dict[str, list[Grouping]],
                       where: str) -> dict[str, dict[str, pd.DataFrame]]:
    """Quantiles of each interval's valid values for several tables at once. A table is a
    list of groupings (period types, dimensions): each period of those types crossed with
    the dimensions, the others 'all', like SQL's GROUPING SETS over the universe joined to
    `periods`. One sort per interval serves them all (etl.stats.grouped_quantiles).

    A dimension is a column of the universe, or 'hour_band' (the 6-hour band of the
    call). Returns {table: {interval: frame of period_type, period, the table's dimensions,
    valid_n, the quantiles in minutes rounded half up to 0.1}}, a row for every group holding
    a valid interval.
    """
    months = sorted(set(periods["month"]))
    dims = list(dict.fromkeys(d for gs in tables.values() for _, ds in gs for d in ds))
    levels = {"month": tuple(months), "hour_band": HOUR_BANDS}
    for d in set(dims) - set(levels):
        levels[d] = tuple(r[0] for r in con.execute(
            f"select distinct {d} from universe where {where} order by 1").fetchall())
    axes = ["month", *dims]
    shape = tuple(len(levels[d]) for d in axes)
    # a row's kind is its month and dimensions, coded densely; groups are looked up per kind
    code = {d: f"list_position(${d}, {d}) - 1" for d in axes}
    code["hour_band"] = "hour(received_hour) // 6"
    kind_sql = code[axes[0]]
    for d, n in zip(axes[1:], shape[1:]):
        kind_sql = f"({kind_sql}) * {n} + {code[d]}"
    rows = con.execute(f"""
        select {kind_sql} as kind,
               {", ".join(f"case when {i.split('_')[0]}_interval = 'valid' "
                          f"then {i}_seconds end as {i}" for i in INTERVALS)}
        from universe where {where}""",
        {d: list(levels[d]) for d in axes if d != "hour_band"}).fetchnumpy()
    kind = rows["kind"]
    if np.ma.getmaskarray(kind).any():
        raise AssertionError("a value of the universe is missing from the quantile levels")
    kind = np.ma.getdata(kind)
    of_kind = dict(zip(axes, np.unravel_index(np.arange(int(np.prod(shape))), shape)))
    columns, labels, n_groups = [], [], 0
    for name, groupings in tables.items():
        for period_types, ds in groupings:
            for period_type in period_types:
                bridge = periods[periods.period_type == period_type]
                names = sorted(set(bridge["period"]))
                if not names:  # e.g. pilot to date, when no call is that recent
                    continue
                period_of = dict(zip(bridge["month"], bridge["period"].map(names.index)))
                pcode = np.array([period_of.get(m, -1) for m in months], np.int64)[of_kind["month"]]
                block = (len(names), *(len(levels[d]) for d in ds))
                ids = np.ravel_multi_index((np.maximum(pcode, 0), *(of_kind[d] for d in ds)), block)
                columns.append(np.where(pcode >= 0, ids + n_groups, -1))
                at = np.unravel_index(np.arange(int(np.prod(block))), block)
                labels.append(pd.DataFrame({"table": name, "period_type": period_type,
                                            "period": np.array(names, dtype=object)[at[0]],
                                            **{d: np.array(levels[d], dtype=object)[at[k + 1]]
                                               for k, d in enumerate(ds)}}))
                n_groups += int(np.prod(block))
    groups = np.stack(columns, axis=1) if columns else np.full((int(np.prod(shape)), 0), -1)
    label = (pd.concat(labels, ignore_index=True) if labels
             else pd.DataFrame(columns=["table", "period_type", "period", *dims]))
    out: dict[str, dict[str, pd.DataFrame]] = {name: {} for name in tables}
    for interval in INTERVALS:
        valid = ~np.ma.getmaskarray(rows[interval])
        counts, num, den = grouped_quantiles(np.ma.getdata(rows[interval])[valid], kind[valid],
                                             groups, n_groups, list(QUANTILES.values()))
        minutes = rounded_tenths(num, den[None, :], per=60)
        df = label.assign(valid_n=counts, **{c: minutes[:, k] for k, c in enumerate(QUANTILES)})
        for name in tables:
            ds = list(dict.fromkeys(d for _, g in tables[name] for d in g))
            part = df[(df["table"] == name) & (df["valid_n"] > 0)]
            part = part[["period_type", "period", *ds, "valid_n", *QUANTILES]].reset_index(drop=True)
            for d in ds:
                part[d] = part[d].fillna(ALL)
            out[name][interval] = part
    return out


RESPONSE_TIME_GROUPINGS: list[Grouping] = [
    # districts for all groups, groups citywide: the cells the cube publishes
    (PERIOD_TYPES, ("call_type_group", "responder_type")),
    (PERIOD_TYPES, ("district", "responder_type")),
    (PERIOD_TYPES, ("responder_type",)),
]
# the same periods as calls by hour: a month split four ways is mostly too small
HOUR_BAND_GROUPINGS: list[Grouping] = [
    (("year", "fiscal_year", "pilot_to_date"), ("responder_type", "hour_band"))]


def response_times_table(cube: pd.DataFrame, by: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Median and 90th percentile minutes, only where the valid count is shown and >= min.
    `by`: interval_quantiles over RESPONSE_TIME_GROUPINGS."""
    frames = []
    keys = KEYS + ["responder_type"]
    for interval in INTERVALS:
        q = by[interval]
        parts = []
        for s in INTERVAL_STATES:
            sel = cube[(cube.item == f"{interval}:{s}") & cube.responder_type.isin(RESPONDERS[:4])]
            parts.append(sel[keys + ["n", "n_flag"]].rename(
                columns={"n": f"{s}_intervals", "n_flag": f"{s}_intervals_flag"}))
        df = _merge_all(parts, keys)
        df = _fill_zero(df, [f"{s}_intervals" for s in INTERVAL_STATES])
        df = df.merge(q, on=keys, how="left")
        if not (df["valid_n"].isna() | (df["valid_n"] == df["valid_intervals"]) | df["valid_intervals"].isna()).all():
            raise AssertionError("response-time counts disagree with the cube")
        shown = df["valid_intervals"].notna() & (df["valid_intervals"].astype("Float64") >= settings.min_denominator())
        for c in QUANTILES:
            df[c] = np.where(shown.to_numpy(dtype=bool), df[c], np.nan)
        df["unstable"] = shown & (df["valid_intervals"].astype("Float64") < settings.unstable_denominator())
        df["unstable"] = df["unstable"].fillna(False).astype(bool)
        df["interval"] = interval
        frames.append(df.drop(columns=["valid_n"]))
    out = pd.concat(frames, ignore_index=True)
    cols = keys + ["interval", *QUANTILES, "unstable"]
    cols += [c for s in INTERVAL_STATES for c in (f"{s}_intervals", f"{s}_intervals_flag")]
    return out[cols]


def hour_band_times_table(by: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Response-time quartiles and 90th percentile by 6-hour band of the call, citywide.

    Universe: as response_times, citywide (hour of day is never published by place).
    No counts: a band's quantiles are published only where it holds at least the minimum
    denominator of valid intervals, and then flagged unstable under 50, so the table says
    of any band only that it has 20 or more calls, never a count. `by`: interval_quantiles
    over HOUR_BAND_GROUPINGS.
    """
    frames = []
    for interval in INTERVALS:
        df = by[interval]
        df = df[df["valid_n"] >= settings.min_denominator()].copy()
        df["unstable"] = df["valid_n"] < settings.unstable_denominator()
        df["interval"] = interval
        frames.append(df.drop(columns=["valid_n"]))
    out = pd.concat(frames, ignore_index=True)
    return out[["period_type", "period", "responder_type", "hour_band", "interval", *QUANTILES,
                "unstable"]].sort_values(["period_type", "period", "responder_type", "interval",
                                          "hour_band"]).reset_index(drop=True)


def hourly_table(con: duckdb.DuckDBPyConnection, periods: pd.DataFrame) -> pd.DataFrame:
    """Hour of day and weekday, citywide only (SPEC 5), by responder type."""
    con.register("period_bridge", periods)
    df = con.execute("""
        select p.period_type, p.period, s.responder_type, s.hour_of_day, s.weekday,
               sum(s.calls)::bigint as calls
        from hour_slots s join period_bridge p on p.month = s.month
        where p.period_type in ('year', 'fiscal_year', 'pilot_to_date')
        group by all order by all
    """).df()
    con.unregister("period_bridge")
    return df


def repeat_contact_table(con: duckdb.DuckDBPyConnection, periods: pd.DataFrame,
                         data_through: date) -> pd.DataFrame:
    """Share of people with another contact within 30 / 90 days; rates only (SPEC 4.8)."""
    con.register("period_bridge", periods)
    df = con.execute(sql("repeat_contact"), {"through": data_through}).df()
    con.unregister("period_bridge")
    min_cell = settings.min_cell()
    # Rates only: the count of people is never published, and a rate whose numerator is
    # 1..10 would give that count away, so it is withheld too.
    small = (df["people_repeat"] > 0) & (df["people_repeat"] < min_cell)
    df = _rate(df, "people_repeat", "people", "repeat_rate")
    for c in ("repeat_rate", "repeat_rate_ci_low", "repeat_rate_ci_high"):
        df.loc[small, c] = np.nan
    df["rate_flag"] = np.where(small, "suppressed", np.where(df["repeat_rate"].isna(), "denominator", ""))
    # People are counted once per period, so periods do not add up exactly, but nearly: a
    # withheld fiscal year could be estimated from pilot to date and the others, so all
    # fiscal years of that window are withheld with it.
    fy = df["period_type"] == "fiscal_year"
    withheld = df[fy & (df["rate_flag"] != "")]["window_days"].unique()
    hide = fy & df["window_days"].isin(withheld) & (df["rate_flag"] == "")
    for c in ("repeat_rate", "repeat_rate_ci_low", "repeat_rate_ci_high"):
        df.loc[hide, c] = np.nan
    df.loc[hide, "rate_flag"] = "suppressed"
    return df[["period_type", "period", "window_days", "repeat_rate", "repeat_rate_ci_low",
               "repeat_rate_ci_high", "unstable", "rate_flag"]]


def matched_force_counts(con: duckdb.DuckDBPyConnection, periods: pd.DataFrame) -> pd.DataFrame:
    """Use of force and injuries on matched calls (same group, district, hour band), before
    disclosure control (matched_force_table)."""
    con.register("period_bridge", periods)
    df = con.execute(sql("matched_force")).df()
    con.unregister("period_bridge")
    return df


def matched_force_table(df: pd.DataFrame, cube: pd.DataFrame) -> pd.DataFrame:
    """Use of force and injuries per 1,000 on matched calls, from matched_force_counts.

    Where every stratum matched, these counts equal cube cells; a row is withheld whole when
    a cube cell it could equal (responses, or the event's yes / no counts) is hidden.
    """
    min_cell = settings.min_cell()
    top = cube[(cube.district == ALL) & (cube.call_type_group == ALL)]
    hidden_cells = set(zip(top.period, top.responder_type, top.item, top.n_flag != ""))
    def cube_hidden(row) -> bool:
        items = (ALL, f"{row.event}:true", f"{row.event}:false")
        return any((row.period, row.responder_type, i, True) in hidden_cells for i in items)
    withheld = df.apply(cube_hidden, axis=1) if len(df) else pd.Series(dtype=bool)
    for c in ("matched_calls", "recorded", "events"):
        small = ((df[c] > 0) & (df[c] < min_cell)) | withheld
        df[f"{c}_flag"] = np.where(small, "suppressed", "")
        df[c] = df[c].astype("Int64").mask(small)
    df = _rate(df, "events", "recorded", "per_1000", scale=1000.0)
    hidden = df["events"].isna() | df["matched_calls"].isna() | df["per_1000"].isna()
    df["standardized_per_1000"] = np.where(hidden, np.nan, df["standardized_per_1000"])
    return df


# ---------------------------------------------------------------- other contacts

def other_contacts_table(con: duckdb.DuckDBPyConnection, periods: pd.DataFrame) -> pd.DataFrame:
    """Officer- and self-initiated records: counted apart, never in a denominator."""
    con.register("period_bridge", periods)
    cells = con.execute("""
        with leaf as (
            select strftime(received_hour, '%Y-%m') as month,
                   coalesce(district, location_status) as district, call_origin, responder_type,
                   count(*) as n
            from calls where call_origin in ('officer_initiated', 'self_initiated')
            group by all
        )
        select p.period_type, p.period, d.node as district, o.node as call_origin,
               r.node as responder_type, sum(n)::bigint as n
        from leaf l join period_bridge p on p.month = l.month
        join (select distinct district leaf, district node from leaf
              union all select distinct district, 'all' from leaf) d on d.leaf = l.district
        join (select distinct call_origin leaf, call_origin node from leaf
              union all select distinct call_origin, 'all' from leaf) o on o.leaf = l.call_origin
        join (select distinct responder_type leaf, responder_type node from leaf
              union all select distinct responder_type, 'all' from leaf) r on r.leaf = l.responder_type
        group by all order by all
    """).df()
    con.unregister("period_bridge")
    return cells


# ---------------------------------------------------------------- month tables

HOUR_SLOTS_SQL = """
    select month, responder_type, hour(received_hour)::varchar as hour_of_day,
           dayname(received_hour) as weekday, count(*)::bigint as calls
    from universe where {months} group by all
"""
# use of force strata by month; matched_force.sql sums them into periods
FORCE_STRATA_SQL = """
    select month, call_type_group, district, hour(received_hour) // 6 as hour_band,
           responder_type, count(*) as n,
           count(use_of_force) as use_of_force_recorded,
           count(*) filter (where use_of_force) as use_of_force_events,
           count(injury_person) as injury_person_recorded,
           count(*) filter (where injury_person) as injury_person_events,
           count(injury_responder) as injury_responder_recorded,
           count(*) filter (where injury_responder) as injury_responder_events
    from universe
    where {months} and responder_type in ('civilian_team', 'co_response', 'police')
    group by all
"""


def month_tables() -> dict[str, str]:
    """The warehouse tables etl/monthly.py keeps by month, in the order they are built."""
    return {"universe": sql("universe"), "cube_leaves": leaves_sql(),
            "hour_slots": HOUR_SLOTS_SQL, "force_strata": FORCE_STRATA_SQL}


# ---------------------------------------------------------------- the whole release

@dataclass
class Release:
    tables: dict[str, pd.DataFrame]
    data_through: date | None


def coverage_spans(config: Config) -> pd.DataFrame:
    rows = []
    for i, span in enumerate(config.coverage):
        end = config.coverage[i + 1].start if i + 1 < len(config.coverage) else date(9999, 12, 31)
        for d in span.divisions:
            rows.append((d, span.start, end, span.start_hour, span.end_hour))
    return pd.DataFrame(rows, columns=["division", "span_start", "span_end", "start_hour", "end_hour"])


def _hide(df: pd.DataFrame, flag: pd.Series, value: str = "n") -> pd.DataFrame:
    df = df.copy()
    df[f"{value}_flag"] = flag.values
    df[value] = df[value].astype("Int64").mask(df[f"{value}_flag"] != "")
    return df


def _tables_without_the_cube(con: duckdb.DuckDBPyConnection, config: Config,
                             periods: pd.DataFrame, months: list[str], pilot_start: str,
                             boundaries: Boundaries, divisions: Divisions,
                             data_through: date | None) -> dict[str, pd.DataFrame]:
    """The tables that need nothing of the cube's suppression, plus the response-time
    quantiles ('quantiles') and matched use-of-force counts ('matched_force') that are
    finished once it is done."""
    other = other_contacts_table(con, periods)
    other_eq = (period_equations(months, pilot_start)
                + [Equation("district", ALL, DISTRICT_LEAVES),
                   Equation("call_origin", ALL, ("officer_initiated", "self_initiated")),
                   Equation("responder_type", ALL, RESPONDERS)])
    other_dims = ["period", "district", "call_origin", "responder_type"]
    other = _hide(other, suppress(other, other_dims, other_eq, min_cell=settings.min_cell()))

    hourly = hourly_table(con, periods)
    # Years, fiscal years and pilot to date (pilot to date can be the sum of fiscal years),
    # and the slots of a period add up to its citywide total, which the cube publishes: that
    # total joins the table as slot 'all' for suppression and is then dropped.
    hourly_cells = hourly.rename(columns={"calls": "n"})
    hourly_cells["slot"] = hourly_cells["hour_of_day"] + "|" + hourly_cells["weekday"]
    totals = hourly_cells.groupby(["period_type", "period", "responder_type"], as_index=False)["n"].sum()
    totals["slot"] = ALL
    hourly_cells = pd.concat([hourly_cells, totals], ignore_index=True)
    hourly_eq = (period_equations(months, pilot_start, ("year", "fiscal_year", "pilot_to_date"))
                 + [Equation("slot", ALL, tuple(sorted(set(hourly_cells.slot) - {ALL})))])
    hflags = suppress(hourly_cells, ["period", "responder_type", "slot"], hourly_eq,
                      min_cell=settings.min_cell())
    hourly = _hide(hourly_cells, hflags)
    hourly = hourly[hourly.slot != ALL].drop(columns=["slot"]).rename(
        columns={"n": "calls", "n_flag": "calls_flag"})
    crosswalk = division_crosswalk(divisions, boundaries)
    return {
        "quantiles": interval_quantiles(
            con, periods, {"response_times": RESPONSE_TIME_GROUPINGS,
                           "by_hour_band": HOUR_BAND_GROUPINGS},
            where="responder_type <> 'phone'"),
        "matched_force": matched_force_counts(con, periods),
        "calls_by_hour": hourly,
        "other_contacts": other.rename(columns={"n": "records", "n_flag": "records_flag"}),
        "repeat_contact": repeat_contact_table(con, periods, data_through or date(1970, 1, 1)),
        "districts": districts_table(boundaries),
        "division_crosswalk": crosswalk,
        "divisions": divisions_table(divisions),
        **baseline_tables(con, list(config.pilot_groups), pilot_start, crosswalk),
    }


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
    periods = period_bridge(months, pilot_start)

    log.info("publish: building the count cube")
    cube = build_cube(con, periods)
    groups = sorted(set(config.pilot_groups))
    equations = (period_equations(months, pilot_start) + other_equations(groups) + item_equations())
    # The cube's suppression (compiled, releasing the GIL) runs in a second thread while
    # this one reads the warehouse for the tables that do not need the cube's flags.
    with ThreadPoolExecutor(max_workers=1) as worker:
        cube_flags = worker.submit(suppress, cube, CUBE_DIMS, equations,
                                   min_cell=settings.min_cell(), coarseness=coarseness(cube))
        independent = _tables_without_the_cube(con, config, periods, months, pilot_start,
                                               boundaries, divisions, data_through)
        flags = cube_flags.result()
    small = int(((cube["n"] >= 1) & (cube["n"] < settings.min_cell())).sum())
    log.info("publish: cube of %d cells, %d hidden (%d of 1-10, %d to protect them)", len(cube),
             int((flags != "").sum()), small, int((flags != "").sum()) - small)
    cube = _hide(cube, flags)
    quantiles = independent.pop("quantiles")
    tables: dict[str, pd.DataFrame] = {
        "counts": cube.rename(columns={"n": "calls", "n_flag": "calls_flag"}),
        "coverage": coverage_table(cube),
        "unserved": unserved_table(cube),
        "workload_share": workload_table(cube),
        "police_involvement": event_table(
            cube, ("police_co_dispatched", "police_backup_requested", "redirected_to_police"),
            ("civilian_team",), "involvement"),
        "outcomes": outcomes_table(cube),
        "outcome_events": event_table(
            cube, ("arrest", "citation", "use_of_force", "injury_person", "injury_responder",
                   "referral_offered", "referral_accepted"), RESPONDERS, "event"),
        "response_times": response_times_table(cube, quantiles["response_times"]),
        "response_times_by_hour_band": hour_band_times_table(quantiles["by_hour_band"]),
        "use_of_force_matched": matched_force_table(independent.pop("matched_force"), cube),
        **independent,
        "pilot_coverage": spans.assign(
            span_start=lambda d: d.span_start.astype(str),
            span_end=lambda d: d.span_end.astype(str).replace("9999-12-31", "")),
        "milestones": pd.DataFrame([(d.isoformat(), label) for d, label in config.milestones],
                                   columns=["date", "label"]),
        "call_types": pd.DataFrame(table.rows()).assign(code_table_version=table.version),
    }

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
    for name, df in tables.items():
        for col in df.columns:
            if col in cat.TEXT_DIMENSIONS:
                df[col] = df[col].astype(str)
    for v in ("call_groups", "pilot_groups", "coverage_spans"):
        con.unregister(v)
    return Release(tables, data_through)


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
