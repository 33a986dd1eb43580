"""Count tables protected on their own grids: officer- and self-initiated records, calls by
hour of day and weekday (citywide), and the run log's and quarantine's row counts.

Every cell of these tables is printed (there is no rate, so no denominator rule): a count
from 1 to OUTCOMES_MIN_CELL - 1 is hidden, and more where needed so that none can be
narrowed (etl/publish/protect.py). Calls by hour add up to the citywide responses of the
responses family, which stay as that family decided them: the hours are printed only
under a shown total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.publish import grid as g
from etl.publish.families import (DETAIL_CANDIDATES, DETAIL_PAIRS, HIDDEN, NOT_PUBLISHED, RESPONDERS, SHOWN, Family, _frame,
                                  _label)
from etl.publish.protect import Dim, Grid, protect, single_dim, tree_dim
from etl.publish.tables import FLAG
from outcomes import settings

ALL = g.ALL
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def count_family(name: str, dims: list[Dim], leaves: pd.DataFrame, columns: list[str],
                 labels: list[str], weight=None, fixed=None, given=None, printed=None,
                 keep=None) -> Family:
    """Protect a table of counts, every cell printed: `weight(cells)` how much readers
    rely on each cell (default 1); `fixed`, `given`, `printed` optional functions of the
    cells frame (cells decided elsewhere, and which are printed)."""
    cells = _frame(dims, leaves, columns, keep or (lambda *a: np.ones_like(a[0], bool)))
    cells = _label(cells, dims, labels)
    n = len(cells)
    printed_ = np.ones(n, bool) if printed is None else printed(cells)
    fixed_ = np.zeros(n, bool) if fixed is None else fixed(cells)
    given_ = np.zeros(n, bool) if given is None else given(cells)
    publish = printed_ & ~fixed_ & ~given_
    lower = np.where(publish, 1.0, 0.0)
    upper = np.full(n, g.UNBOUNDED)
    w = np.ones(n) if weight is None else np.asarray(weight(cells), np.float64)
    row = np.arange(n)
    costs = g.costs_for(pd.DataFrame({"row": row, "allowed": np.zeros(n, bool), "grain": [None] * n}))
    costs.row_weight = 1e-3 * w
    grid = Grid(dims, cells[["d0", "d1", "d2", "d3"]].to_numpy(), cells["n"].to_numpy(), publish,
                lower, upper, row, fixed=fixed_, given_unknown=given_)
    prot = protect(grid, costs, settings.min_cell(), pairs=DETAIL_PAIRS, candidates=DETAIL_CANDIDATES,
                   outsider_lp=False)
    hidden = prot.hidden & publish
    withdrawn = prot.withdrawn if prot.withdrawn is not None else np.zeros(n, bool)
    cells["status"] = np.where(~publish | withdrawn, NOT_PUBLISHED, np.where(hidden, HIDDEN, SHOWN))
    cells["complement"] = prot.complement
    cells["allowed"] = False
    return Family(name, cells, prot.stats)


def _shown(cells: pd.DataFrame, name: str) -> pd.DataFrame:
    return cells.assign(**{name: cells["n"].astype("Int64").mask(cells["status"] != SHOWN),
                           f"{name}_flag": cells["status"].map(FLAG)})


def other_contacts(leaves: pd.DataFrame, period: Dim, period_type: dict[str, str]) -> tuple[Family, pd.DataFrame]:
    """Officer- and self-initiated records: counted apart, never in a denominator.
    leaves: month, place, origin, responder, n."""
    dims = [period, g.place_dim(), tree_dim("origin", {ALL: ["officer_initiated", "self_initiated"]}),
            tree_dim("responder", {ALL: list(RESPONDERS)})]
    fam = count_family("other_contacts", dims, leaves, ["month", "place", "origin", "responder"],
                       ["period", "district", "call_origin", "responder_type"],
                       weight=lambda c: 1 + 9 * (c["district"] == ALL))
    c = fam.cells
    c = c[~c["district"].isin(["outside_city", "unknown"]) | (c["n"] > 0)]
    c = _shown(c.assign(period_type=c["period"].map(period_type)), "records")
    table = c[["period_type", "period", "district", "call_origin", "responder_type", "records",
               "records_flag"]].reset_index(drop=True)
    return fam, table


def hide_under_one_total(n: np.ndarray, min_cell: int, min_range: int
                         ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Counts tied by nothing but one shown total: the small ones hidden, and with them the
    smallest shown ones until the hidden hold at least min_range - 1 more than their number,
    so each small one keeps at least min_range possible values (from 1 to that surplus + 1).
    Returns what to hide, which of those are complements, and whether that was reached
    (not: every non-zero count is hidden, and the total must go too)."""
    hide = (n >= 1) & (n < min_cell)
    complement = np.zeros(len(n), bool)
    if not hide.any():
        return hide, complement, True

    def enough() -> bool:
        return bool(hide.sum() >= 2 and n[hide].sum() - hide.sum() >= min_range - 1)

    for i in np.argsort(n, kind="stable"):
        if enough():
            break
        if not hide[i] and n[i] > 0:
            hide[i] = complement[i] = True
    return hide, complement, enough()


def calls_by_hour(leaves: pd.DataFrame, period_type: dict[str, str], responses: Family,
                  min_range: int = 5) -> tuple[Family, pd.DataFrame]:
    """Calls by hour of day and weekday, citywide, by responder type, for pilot to date.
    leaves: month, responder, slot ('hour|weekday'), n.

    Each responder's 168 slots add up to its citywide responses (the responses family's
    cell), and nothing else ties them: one equation per responder, so the general search
    is not needed. Small slots are hidden, and with them the smallest shown slots until
    the hidden ones hold at least min_range - 1 calls more than their number, so each small
    one keeps at least min_range possible values (from 1 to that surplus + 1). A responder
    whose total is not shown is not published. (By year or fiscal year the slots would be
    mostly small at the pilot's volume, and linked to pilot to date.)"""
    min_cell = settings.min_cell()
    slots = [f"{h}|{d}" for h in range(24) for d in WEEKDAYS]
    top = responses.cells
    top = top[(top["place"] == ALL) & (top["group"] == ALL) & (top["period"] == "pilot_to_date")]
    status = dict(zip(top["responder"], top["status"]))
    counts = leaves.groupby(["responder", "slot"])["n"].sum() if len(leaves) else pd.Series(dtype=float)
    rows = []
    for r in RESPONDERS:
        n = np.array([int(counts.get((r, sl), 0)) for sl in slots], np.int64)
        st = np.full(len(slots), SHOWN, dtype=object)
        complement = np.zeros(len(slots), bool)
        if status.get(r) != SHOWN:
            st[:] = NOT_PUBLISHED
        elif min_cell > 1:
            hide, complement, _ = hide_under_one_total(n, min_cell, min_range)
            st[hide] = HIDDEN
        for sl, v, s_, c in zip(slots, n, st, complement):
            rows.append(("pilot_to_date", r, sl, v, s_, c))
    cells = pd.DataFrame(rows, columns=["period", "responder_type", "slot", "n", "status", "complement"])
    cells["allowed"] = False
    fam = Family("calls_by_hour", cells, {"cells": len(cells)})
    c = cells.copy()
    split = c["slot"].str.split("|", expand=True)
    c["hour_of_day"], c["weekday"] = split[0], split[1]
    c = _shown(c.assign(period_type="pilot_to_date"), "calls")
    table = c[["period_type", "period", "responder_type", "hour_of_day", "weekday", "calls",
               "calls_flag"]].reset_index(drop=True)
    return fam, table


def run_counts(runs: pd.DataFrame) -> pd.DataFrame:
    """The run log's row counts: rows_in = rows_out + rows_quarantined, hidden together
    so that none is worked out."""
    ids = list(runs["run_id"])
    dims = [Dim("run", tuple(ids), tuple(ids), tuple((i,) for i in range(len(ids))),
                tuple(() for _ in ids)),
            tree_dim("measure", {"rows_in": ["rows_out", "rows_quarantined"]}),
            single_dim("a"), single_dim("b")]
    long = runs.melt(id_vars=["run_id"], value_vars=["rows_out", "rows_quarantined"],
                     var_name="measure", value_name="n")
    long["n"] = pd.to_numeric(long["n"]).fillna(0).astype(np.int64)
    fam = count_family("runs", dims, long.assign(a=ALL, b=ALL), ["run_id", "measure", "a", "b"],
                       ["run_id", "measure", "a", "b"])
    c = fam.cells
    out = runs.copy()
    for m in ("rows_in", "rows_out", "rows_quarantined"):
        part = c[c["measure"] == m].set_index("run_id")
        out[m] = out["run_id"].map(part["n"].astype("Int64").mask(part["status"] != SHOWN)).astype("Int64")
    return out


def quarantine_counts(rows: pd.DataFrame, total_shown: bool) -> pd.DataFrame:
    """Rows set aside this run by source and first reason; they add up to the run's
    rows_quarantined, fixed as the run log shows it (or unknown where it is hidden)."""
    if rows.empty:
        return pd.DataFrame(columns=["source", "reason", "rows", "rows_flag"])
    cells = [f"{s} | {r}" for s, r in zip(rows["source"], rows["reason"])]
    dims = [tree_dim("cell", {ALL: cells}), single_dim("a"), single_dim("b"), single_dim("c")]
    leaves = pd.DataFrame({"cell": cells, "a": ALL, "b": ALL, "c": ALL, "n": rows["n"].to_numpy()})
    fam = count_family("quarantine", dims, leaves, ["cell", "a", "b", "c"], ["cell", "a", "b", "c"],
                       fixed=lambda c: (c["cell"] == ALL).to_numpy() & total_shown,
                       given=lambda c: (c["cell"] == ALL).to_numpy() & (not total_shown))
    c = fam.cells[fam.cells["cell"] != ALL].set_index("cell")
    out = rows.copy()
    out["rows"] = [c.loc[k, "n"] if c.loc[k, "status"] == SHOWN else pd.NA for k in cells]
    out["rows"] = out["rows"].astype("Int64")
    out["rows_flag"] = [FLAG[c.loc[k, "status"]] for k in cells]
    return out[["source", "reason", "rows", "rows_flag"]].reset_index(drop=True)
