"""The police baseline: how many calls of each call type group LAPD takes, from the City's
"LAPD Calls for Service" export (sources with role "police_baseline", warehouse table
`baseline_calls`). It is published apart from the pilot's figures and never mixed into them.

Two tables:

- `police_baseline`: calls by period, LAPD division and call type group, counted exactly
  and protected like every other count (etl/publish/protect.py: 1-10 hidden, and more where
  a division, group or period total would let one be worked out). Division leaves are the
  21 divisions plus `outside_lapd_areas` (LAPD's "Outside") and `unknown`; `all` is their
  sum. Call type groups are the code table's groups plus `other` (codes the table does not
  know); `pilot_types` sums the pilot's groups, `dispatched` every group but
  `officer_initiated` (pilot_types + the other dispatched groups), and `all` is
  `dispatched` + `officer_initiated`. Officer-initiated records are counted but are in no
  denominator.
- `police_baseline_district`: the same counts estimated into council districts through the
  area-weighted division crosswalk (estimate = sum over divisions of share x count). An
  estimate is published only where every division it draws on is shown, so it is worked
  out from published numbers alone and reveals nothing the division table hides; it is
  rounded to whole calls and, like any count, hidden when it rounds to 1-10.
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd

# the record-level names are the warehouse side's (etl/baseline.py, light to import)
from etl.baseline import DIVISION_LEAF_SQL, OFFICER, OUTSIDE_AREAS, UNKNOWN  # noqa: F401
from etl.call_types import OTHER, load_code_table
from etl.crosswalk import district_order
from etl.divisions import DIVISIONS
from etl.publish.periods import month_range, period_dim
from etl.publish.protect import single_dim, tree_dim
from etl.publish.simple import count_family
from etl.publish.tables import FLAG
from etl.publish.families import SHOWN
from etl.warehouse import has_table
from outcomes import settings

log = logging.getLogger(__name__)

ALL = "all"
DIVISION_LEAVES = tuple(DIVISIONS.values()) + (OUTSIDE_AREAS, UNKNOWN)
PILOT_TYPES = "pilot_types"
DISPATCHED = "dispatched"
ESTIMATE_BASIS = "estimated from LAPD divisions by area share (division_crosswalk)"

BASELINE_COLUMNS = ["period_type", "period", "division", "call_type_group", "calls", "calls_flag"]
DISTRICT_COLUMNS = ["period_type", "period", "district", "call_type_group", "calls_estimate",
                    "calls_estimate_flag", "divisions_used", "basis"]


def group_leaves() -> list[str]:
    return list(load_code_table().groups) + [OTHER]


def group_tree(pilot_groups: list[str]) -> dict[str, list[str]]:
    groups = group_leaves()
    pilot = [g for g in groups if g in pilot_groups]
    others = [g for g in groups if g != OFFICER and g not in pilot_groups]
    tree = {ALL: [DISPATCHED, OFFICER], DISPATCHED: [PILOT_TYPES, *others], PILOT_TYPES: pilot}
    if OFFICER not in groups:
        tree[ALL] = [DISPATCHED]
    return tree


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


def baseline_family(leaves: pd.DataFrame, pilot_groups: list[str], pilot_start: str):
    months = month_range(leaves["month"].min(), leaves["month"].max())
    period, kind = period_dim(months, pilot_start)
    dims = [period, tree_dim("division", {ALL: list(DIVISION_LEAVES)}),
            tree_dim("call_type_group", group_tree(pilot_groups)), single_dim("x")]
    leaves = leaves.assign(x=ALL)
    # totals and the crisis-type rows readers come for are hidden last
    def weight(c):
        total = (c["division"] == ALL).to_numpy()
        group = c["call_type_group"].isin([ALL, DISPATCHED, PILOT_TYPES]).to_numpy()
        return 1 + 30 * total + 30 * group + 1000 * (total & group)
    fam = count_family("police_baseline", dims, leaves, ["month", "division", "call_type_group", "x"],
                       ["period", "division", "call_type_group", "x"], weight=weight)
    fam.cells["period_type"] = fam.cells["period"].map(kind)
    return fam


def district_estimates(table: pd.DataFrame, crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Division counts spread over districts by area share; see the module docstring."""
    div = table[table.division.isin(DIVISIONS.values())][
        ["period_type", "period", "division", "call_type_group", "calls"]]
    if div.empty:
        return pd.DataFrame(columns=DISTRICT_COLUMNS)
    cw = crosswalk[["division", "district", "share"]]
    joined = div.merge(cw, on="division")
    calls = joined["calls"].astype("Float64")
    joined["part"] = (joined["share"] * calls).fillna(0.0).astype(np.float64)
    joined["hidden"] = calls.isna().astype(np.int64)
    keys = ["period_type", "period", "district", "call_type_group"]
    est = joined.groupby(keys, as_index=False)[["part", "hidden"]].sum()
    # an estimate drawing on a hidden division is unknown
    est["estimate"] = est["part"].astype("Float64").mask(est["hidden"] > 0)
    # every period and group draws on the same divisions of a district
    used = (joined[["district", "division"]].drop_duplicates().sort_values("division")
            .groupby("district")["division"].agg(", ".join))
    est["divisions_used"] = est["district"].map(used)
    rounded = est["estimate"].round().astype("Int64")
    small = rounded.between(1, settings.min_cell() - 1).fillna(False)
    hide = (est["hidden"] > 0).to_numpy() | small.to_numpy()
    est["calls_estimate"] = rounded.mask(hide)
    est["calls_estimate_flag"] = np.where(hide, "hidden", "")
    est["basis"] = ESTIMATE_BASIS
    est = est.sort_values(keys, key=lambda s: s.map(district_order) if s.name == "district" else s)
    return est[DISTRICT_COLUMNS].reset_index(drop=True)


def baseline_tables(leaves: pd.DataFrame, pilot_groups: list[str], pilot_start: str,
                    crosswalk: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], list]:
    """Both tables from the baseline's leaf counts (leaf_counts)."""
    if leaves.empty:
        log.info("publish: no police baseline source loaded; baseline tables are empty")
        return {"police_baseline": pd.DataFrame(columns=BASELINE_COLUMNS),
                "police_baseline_district": pd.DataFrame(columns=DISTRICT_COLUMNS)}, []
    fam = baseline_family(leaves, pilot_groups, pilot_start)
    c = fam.cells
    table = c.assign(calls=c["n"].astype("Int64").mask(c["status"] != SHOWN),
                     calls_flag=c["status"].map(FLAG))[BASELINE_COLUMNS].reset_index(drop=True)
    log.info("publish: police baseline of %d cells, %d hidden", len(c), int((c["status"] != SHOWN).sum()))
    return {"police_baseline": table,
            "police_baseline_district": district_estimates(table, crosswalk)}, [fam]
