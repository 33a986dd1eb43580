"""The police baseline: how many calls of each call type group LAPD takes, from the City's
"LAPD Calls for Service" export (sources with role "police_baseline", warehouse table
`baseline_calls`). It is published apart from the pilot's figures and never mixed into them.

Two tables:

- `police_baseline`: calls by period, LAPD division and call type group, counted exactly and
  disclosure-controlled like every other count (1-10 hidden, complements so no hidden cell
  can be worked out from the division, group or period totals). Division leaves are the 21
  divisions plus `outside_lapd_areas` (LAPD's "Outside") and `unknown`; `all` is their sum.
  Call type groups are the code table's groups plus `other` (codes the table does not know);
  `pilot_types` sums the pilot's groups, `dispatched` every group but `officer_initiated`,
  and `all` is `dispatched` + `officer_initiated`. Officer-initiated records are counted but
  are in no denominator.
- `police_baseline_district`: the same counts estimated into council districts through the
  area-weighted division crosswalk (estimate = sum over divisions of share x count). An
  estimate is published only where every division it draws on is shown, so it is worked out
  from published numbers alone and reveals nothing the division table hides; it is rounded
  to whole calls and, like any count, shown as hidden when it rounds to 1-10.
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd

from etl.call_types import OTHER, load_code_table
from etl.crosswalk import district_order
from etl.divisions import DIVISIONS, OUTSIDE
from etl.publish._old_suppress import SUPPRESSED, Equation, suppress
from etl.warehouse import has_table
from outcomes import settings

log = logging.getLogger(__name__)

ALL = "all"
OUTSIDE_AREAS = "outside_lapd_areas"
UNKNOWN = "unknown"
DIVISION_LEAVES = tuple(DIVISIONS.values()) + (OUTSIDE_AREAS, UNKNOWN)
OFFICER = "officer_initiated"
PILOT_TYPES = "pilot_types"
DISPATCHED = "dispatched"
ESTIMATE_BASIS = "estimated from LAPD divisions by area share (division_crosswalk)"

# A record's division leaf: LAPD's "Outside" and a missing division are leaves of their own.
DIVISION_LEAF_SQL = (f"case when lapd_division is null then '{UNKNOWN}' "
                     f"when lapd_division = '{OUTSIDE}' then '{OUTSIDE_AREAS}' "
                     "else lapd_division end")

BASELINE_COLUMNS = ["period_type", "period", "division", "call_type_group", "calls", "calls_flag"]
DISTRICT_COLUMNS = ["period_type", "period", "district", "call_type_group", "calls_estimate",
                    "calls_estimate_flag", "divisions_used", "basis"]


def group_leaves() -> list[str]:
    return list(load_code_table().groups) + [OTHER]


def leaf_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Calls per month, division leaf and call type group: every baseline record once."""
    table = load_code_table()
    if not has_table(con, "baseline_calls"):
        return pd.DataFrame(columns=["month", "division", "call_type_group", "n"])
    df = con.execute(f"""
        select strftime(received_hour, '%Y-%m') as month,
               {DIVISION_LEAF_SQL} as division,
               coalesce(initial_call_type, '') as code,
               count(*)::bigint as n
        from baseline_calls group by all
    """).df()
    groups = {c: table.group_of(c or None) for c in df["code"].unique()}
    df["call_type_group"] = df["code"].map(groups)
    return df.groupby(["month", "division", "call_type_group"], as_index=False)["n"].sum()


def baseline_cube(leaves: pd.DataFrame, periods: pd.DataFrame,
                  pilot_groups: list[str]) -> pd.DataFrame:
    """Every (period, division node, group node) cell, zeros included, so that a district
    estimate can tell a division with no calls from a hidden one."""
    groups = group_leaves()
    group_nodes = [(g, g) for g in groups] + [(g, ALL) for g in groups]
    group_nodes += [(g, DISPATCHED) for g in groups if g != OFFICER]
    group_nodes += [(g, PILOT_TYPES) for g in groups if g in pilot_groups]
    gbridge = pd.DataFrame(group_nodes, columns=["call_type_group", "group_node"])
    dbridge = pd.DataFrame([(d, d) for d in DIVISION_LEAVES] + [(d, ALL) for d in DIVISION_LEAVES],
                           columns=["division", "division_node"])
    cells = (leaves.merge(periods, on="month").merge(gbridge, on="call_type_group")
             .merge(dbridge, on="division"))
    cube = cells.groupby(["period_type", "period", "division_node", "group_node"],
                         as_index=False)["n"].sum()
    frame = periods[["period_type", "period"]].drop_duplicates()
    full = (frame.merge(pd.DataFrame({"division_node": list(DIVISION_LEAVES) + [ALL]}), how="cross")
            .merge(pd.DataFrame({"group_node": sorted(set(gbridge.group_node))}), how="cross"))
    full = full.merge(cube, on=["period_type", "period", "division_node", "group_node"], how="left")
    full["n"] = full["n"].fillna(0).astype(np.int64)
    return full.rename(columns={"division_node": "division", "group_node": "call_type_group"})


def baseline_equations(pilot_groups: list[str]) -> list[Equation]:
    groups = group_leaves()
    return [
        Equation("division", ALL, DIVISION_LEAVES),
        Equation("call_type_group", ALL, (DISPATCHED, OFFICER)),
        Equation("call_type_group", DISPATCHED, tuple(g for g in groups if g != OFFICER)),
        Equation("call_type_group", PILOT_TYPES, tuple(g for g in groups if g in pilot_groups)),
        # the two together: dispatched = crisis types + the other dispatched groups, so
        # that suppression sees the difference of the two sums as a sum of its own
        Equation("call_type_group", DISPATCHED, (PILOT_TYPES,) + tuple(
            g for g in groups if g != OFFICER and g not in pilot_groups)),
    ]


def coarseness(cube: pd.DataFrame) -> np.ndarray:
    """Totals and the crisis-type rows readers come for are hidden last."""
    from etl.publish._old import PERIOD_RANK
    rank = cube["period_type"].map(PERIOD_RANK).to_numpy(np.int64) * 10
    rank += (cube["division"] == ALL).to_numpy(np.int64) * 10
    rank += cube["call_type_group"].isin([ALL, DISPATCHED, PILOT_TYPES]).to_numpy(np.int64) * 10
    return rank


def district_estimates(table: pd.DataFrame, crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Division counts spread over districts by area share; see the module docstring."""
    div = table[table.division.isin(DIVISIONS.values())][
        ["period_type", "period", "division", "call_type_group", "calls"]]
    if div.empty:
        return pd.DataFrame(columns=DISTRICT_COLUMNS)
    cw = crosswalk[["division", "district", "share"]]
    joined = div.merge(cw, on="division")
    joined["part"] = joined["share"] * joined["calls"].astype("Float64")
    keys = ["period_type", "period", "district", "call_type_group"]
    est = joined.groupby(keys, as_index=False).agg(
        estimate=("part", lambda s: s.sum(skipna=False)),
        hidden=("calls", lambda s: int(s.isna().sum())),
        divisions_used=("division", lambda s: ", ".join(sorted(s))))
    rounded = est["estimate"].round().astype("Int64")
    small = rounded.between(1, settings.min_cell() - 1).fillna(False)
    hide = (est["hidden"] > 0).to_numpy() | small.to_numpy()
    est["calls_estimate"] = rounded.mask(hide)
    est["calls_estimate_flag"] = np.where(hide, SUPPRESSED, "")
    est["basis"] = ESTIMATE_BASIS
    est = est.sort_values(keys, key=lambda s: s.map(district_order) if s.name == "district" else s)
    return est[DISTRICT_COLUMNS].reset_index(drop=True)


def baseline_tables(con: duckdb.DuckDBPyConnection, pilot_groups: list[str], pilot_start: str,
                    crosswalk: pd.DataFrame) -> dict[str, pd.DataFrame]:
    from etl.publish._old import month_range, period_bridge, period_equations
    leaves = leaf_counts(con)
    if leaves.empty:
        log.info("publish: no police baseline source loaded; baseline tables are empty")
        return {"police_baseline": pd.DataFrame(columns=BASELINE_COLUMNS),
                "police_baseline_district": pd.DataFrame(columns=DISTRICT_COLUMNS)}
    months = month_range(leaves["month"].min(), leaves["month"].max())
    periods = period_bridge(months, pilot_start)
    cube = baseline_cube(leaves, periods, pilot_groups)
    equations = period_equations(months, pilot_start) + baseline_equations(pilot_groups)
    flags = suppress(cube, ["period", "division", "call_type_group"], equations,
                     min_cell=settings.min_cell(), coarseness=coarseness(cube))
    cube["calls_flag"] = flags.to_numpy()
    cube["calls"] = cube["n"].astype("Int64").mask(cube["calls_flag"] != "")
    log.info("publish: police baseline of %d cells, %d hidden", len(cube), int((flags != "").sum()))
    table = cube[BASELINE_COLUMNS].reset_index(drop=True)
    return {"police_baseline": table,
            "police_baseline_district": district_estimates(table, crosswalk)}


def baseline_status(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """For `etl status` (reads the private warehouse): per police-baseline source, what the
    latest run read and set aside, and how the records it holds are counted."""
    if not has_table(con, "baseline_calls"):
        return []
    table = load_code_table()
    last = con.execute("select run_id from runs where status = 'ok' "
                       "order by started_at desc limit 1").fetchone()
    read = {s: (r, q) for s, r, q in con.execute(
        "select source, rows_read, rows_quarantined from run_sources where run_id = $r",
        {"r": last[0] if last else ""}).fetchall()}
    out = []
    for source, in con.execute("select distinct _source from baseline_calls order by 1").fetchall():
        rows = con.execute(f"""
            select coalesce(initial_call_type, '') as code, {DIVISION_LEAF_SQL} as division,
                   count(*) from baseline_calls where _source = $s group by all""",
                           {"s": source}).fetchall()
        group = {code: table.group_of(code or None) for code, _, _ in rows}
        area_of = {OUTSIDE_AREAS: "outside", UNKNOWN: "unknown"}
        by_area = {"division": 0, "outside": 0, "unknown": 0}
        officer = other = 0
        unknown_codes: dict[str, int] = {}
        for code, division, n in rows:
            by_area[area_of.get(division, "division")] += n
            officer += n if group[code] == OFFICER else 0
            if group[code] == OTHER:
                other += n
                unknown_codes[code or "(empty)"] = unknown_codes.get(code or "(empty)", 0) + n
        rows_read, quarantined = read.get(source, (None, None))
        out.append({
            "source": source,
            "last_run_rows_read": rows_read,
            "last_run_rows_quarantined": quarantined,
            "records_held": sum(by_area.values()),
            "counted_by_division": by_area["division"],
            "outside_lapd_areas": by_area["outside"],
            "no_division_given": by_area["unknown"],
            "officer_initiated": officer,
            "other_or_unknown_code": other,
            "top_unknown_codes": sorted(unknown_codes.items(), key=lambda kv: (-kv[1], kv[0]))[:10],
        })
    return out
