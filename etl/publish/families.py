"""The published counts, family by family, each protected on its own grid.

A family is the counts one set of tables prints, over period x place x call type group x
item. Headline families come first and stand alone:

- coverage: eligible calls (e) = served by a civilian team (c) + not served (u), and u by
  the reason recorded;
- workload: calls handled in the pilot's area and hours (h) = civilian team + co-response
  + police;
- responses: responses by responder type, the denominator of every outcome rate.

Detail families break a response count down (how calls ended, each event, each interval's
state). They are printed only under a shown response count, and are protected with that
count fixed: a detail cube swaps calls between two of its items, so the response count,
and every other family, is untouched; and where a headline cube moves a response count,
the detail rows it moves are not printed at all. Headline figures never give way to
detail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from etl.publish import grid as g
from etl.publish.protect import Dim, Grid, Protection, protect, tree_dim
from etl.schema import SCREEN_OUT_REASONS
from outcomes import settings

log = logging.getLogger(__name__)

ALL = g.ALL
SHOWN, HIDDEN, UNDER_MIN, NOT_PUBLISHED = "shown", "hidden", "under_minimum", "not_published"
RESPONDERS = ("civilian_team", "co_response", "police", "fire_ems", "phone")
# the responder types outcomes are compared between (pages/outcomes.py)
DETAIL_RESPONDERS = ("civilian_team", "co_response", "police")
DETAIL_PAIRS = 12
# detail is chosen greedily (its cells cost little each): a few cubes per count to choose from
DETAIL_CANDIDATES = 12
# what hiding a citywide detail cell costs against a district's or a call type's, and a
# longer period's against a month's: readers open the city's pilot to date first
CITY_DETAIL_WEIGHT = 50.0
PERIOD_DETAIL_WEIGHT = {"month": 1.0, "quarter": 2.0, "year": 4.0, "fiscal_year": 4.0,
                        "pilot_to_date": 20.0}
UNSERVED = ("no_unit_available", "outside_hours", "outside_area", "cancelled",
            "redirected_to_police", "other", "not_recorded")


@dataclass
class Family:
    """One family's cells: labels, true count `n`, and `status` (shown, hidden,
    under_minimum: its row is printed as under the minimum denominator, not_published: its
    grain is not printed), with `complement` for cells hidden to protect others."""
    name: str
    cells: pd.DataFrame
    stats: dict = field(default_factory=dict)

    def cell(self, **where) -> pd.DataFrame:
        sel = np.ones(len(self.cells), bool)
        for k, v in where.items():
            sel &= (self.cells[k] == v).to_numpy()
        return self.cells[sel]


def _frame(dims: list[Dim], leaves: pd.DataFrame, columns: list[str], keep) -> pd.DataFrame:
    """Cells (node ids d0..d3 and their labels) with true counts, zeros included."""
    cells = g.full_grid(dims, keep)
    counts = g.aggregate(leaves, dims, columns) if len(leaves) else cells.assign(n=0).iloc[:0]
    cells = cells.merge(counts, on=["d0", "d1", "d2", "d3"], how="left")
    cells["n"] = cells["n"].fillna(0).astype(np.int64)
    return cells.reset_index(drop=True)


def _place_group_keep(dims):
    """District rows for all call types together, call types citywide (not both)."""
    place_all = dims[1].index[ALL]
    group_all = dims[2].index[ALL]
    return lambda p, d, gr, i: (d == place_all) | (gr == group_all)


def _label(cells: pd.DataFrame, dims: list[Dim], names: list[str]) -> pd.DataFrame:
    for k, (dim, name) in enumerate(zip(dims, names)):
        cells[name] = np.asarray(dim.nodes, dtype=object)[cells[f"d{k}"].to_numpy()]
    return cells


def _statuses(cells: pd.DataFrame, prot: Protection, published: np.ndarray,
              present: np.ndarray) -> pd.DataFrame:
    if prot.withdrawn is not None:
        published = published & ~prot.withdrawn
    cells["status"] = np.where(~published, NOT_PUBLISHED,
                               np.where(~present, UNDER_MIN,
                                        np.where(prot.hidden, HIDDEN, SHOWN)))
    cells["complement"] = prot.complement
    return cells


def _rows(cells: pd.DataFrame, keys: list[str]) -> np.ndarray:
    return pd.MultiIndex.from_frame(cells[keys]).factorize()[0]


# ---------------------------------------------------------------- headline rates


@dataclass(frozen=True)
class RateSpec:
    """A rate family: `den` splits into the rate's numerator `num` and the rest `rest`."""
    name: str
    den: str
    num: str
    rest: str


COVERAGE = RateSpec("coverage", "eligible", "served", "unserved")
WORKLOAD = RateSpec("workload", "handled", "civilian_team", "other_responders")


def detail_grain(scope: str, period_type: str) -> bool:
    """Where detail (unserved reasons, the police and co-response split, outcomes by
    responder) is printed: citywide and by call type for every period, by district for
    quarters and longer."""
    return scope != "district" or period_type != "month"


def rate_family(spec: RateSpec, leaves: pd.DataFrame, period: Dim, period_type: dict[str, str],
                groups: list[str]) -> Family:
    """Protect a headline rate family. leaves: month, place, group, item (spec.num or
    spec.rest), n."""
    item = tree_dim("item", {spec.den: [spec.num, spec.rest]})
    dims = [period, g.place_dim(), g.group_dim(groups), item]
    cells = _frame(dims, leaves, ["month", "place", "group", "item"], _place_group_keep(dims))
    cells = _label(cells, dims, ["period", "place", "group", "item"])
    cells["period_type"] = cells["period"].map(period_type)
    wide = cells.pivot_table(index=["period", "place", "group"], columns="item", values="n",
                             aggfunc="sum").reset_index()
    n_periods = cells.drop_duplicates("period")["period_type"].value_counts().to_dict()
    wide["published"] = g.published_rows(wide, period_type, spec.den, [spec.num, spec.rest],
                                         n_periods, len(groups))
    wide["present"] = wide["published"] & (wide[spec.den] >= settings.min_denominator())
    wide["allowed"] = ((wide[spec.den] >= settings.min_denominator())
                       & g.primary_ok(wide[spec.num]) & g.primary_ok(wide[spec.rest]))
    cells = cells.merge(wide[["period", "place", "group", "published", "present", "allowed"]],
                        on=["period", "place", "group"], how="left")
    scope = g.scope_of(cells["place"], cells["group"])
    published = cells["published"].to_numpy(bool)
    present = cells["present"].to_numpy(bool)
    lower, upper = g.knowledge(published, present, (cells["item"] == spec.den).to_numpy())
    # hiding any of a row's counts loses its rate
    row = _rows(cells, ["period", "place", "group"])
    row_table = pd.DataFrame({"row": row, "allowed": cells["allowed"].to_numpy(bool),
                              "grain": list(zip(scope, cells["period_type"]))}
                             ).drop_duplicates("row").sort_values("row")
    grid = Grid(dims, cells[["d0", "d1", "d2", "d3"]].to_numpy(), cells["n"].to_numpy(),
                published & present, lower, upper, row, printed=published)
    prot = protect(grid, g.costs_for(row_table), settings.min_cell())
    cells = _statuses(cells, prot, published, present)
    log.info("publish: %s, %d cells, %d hidden (%d to protect others) in %.2f s", spec.name,
             len(cells), int(prot.hidden.sum()), int(prot.complement.sum()),
             prot.stats.get("seconds", 0))
    return Family(spec.name, cells, prot.stats)


# ---------------------------------------------------------------- responses and detail


TOTAL = "all_responders"


def responders_with_total() -> Dim:
    """Responder types, each its own leaf and node, and their sum. Responses of different
    responder types are never added up in a published table, but their sum is the
    eligibility funnel's first step (every call of the universe has one responder type), so
    an outsider knows it: the responses grid holds it as known."""
    n = len(RESPONDERS)
    return Dim("item", (*RESPONDERS, TOTAL), RESPONDERS, tuple((i, n) for i in range(n)),
               tuple(() for _ in RESPONDERS) + ((tuple(range(n)),),))


def responses_family(leaves: pd.DataFrame, period: Dim, period_type: dict[str, str],
                     groups: list[str]) -> Family:
    """Responses by responder type: the denominator of every outcome rate. leaves: month,
    place, group, item (the responder type), n. Protected with their sum over responder
    types known (the funnel prints it); the sum's cells are left out of the family."""
    dims = [period, g.place_dim(), g.group_dim(groups), responders_with_total()]
    cells = _frame(dims, leaves, ["month", "place", "group", "item"], _place_group_keep(dims))
    cells = _label(cells, dims, ["period", "place", "group", "responder"])
    is_total = (cells["responder"] == TOTAL).to_numpy()
    cells["period_type"] = cells["period"].map(period_type)
    n_periods = cells.drop_duplicates("period")["period_type"].value_counts().to_dict()
    rows = cells.rename(columns={"n": "responses"})
    published = g.published_rows(rows, period_type, "responses", [], n_periods, len(groups))
    present = published & (cells["n"].to_numpy() >= settings.min_denominator())
    lower, upper = g.knowledge(published, present, np.ones(len(cells), bool))
    scope = g.scope_of(cells["place"], cells["group"])
    allowed = (cells["n"].to_numpy() >= settings.min_denominator()) & ~is_total
    row = np.arange(len(cells))
    row_table = pd.DataFrame({"row": row, "allowed": allowed,
                              "grain": list(zip(scope, cells["period_type"]))})
    costs = g.costs_for(row_table)
    costs.row_weight *= 0.5  # behind the headline rates, ahead of detail
    grid = Grid(dims, cells[["d0", "d1", "d2", "d3"]].to_numpy(), cells["n"].to_numpy(),
                published & present & ~is_total, lower, upper, row,
                fixed=is_total, printed=published & ~is_total)
    prot = protect(grid, costs, settings.min_cell())
    cells = _statuses(cells, prot, published, present)
    cells["allowed"] = allowed
    keep = ~is_total
    cells = cells[keep].reset_index(drop=True)
    log.info("publish: responses, %d cells, %d hidden in %.2f s", len(cells),
             int(prot.hidden[keep].sum()), prot.stats.get("seconds", 0))
    return Family("responses", cells, prot.stats)


@dataclass(frozen=True)
class DetailSpec:
    """A breakdown of a parent family's count (`root`: the parent's item it splits, e.g.
    each responder's responses, or the eligible calls not served): `children` maps each
    inner item to its parts; `den` is the item rates are taken over (the root, or e.g. the
    responses where an event was recorded). With `responders`, one tree per responder type,
    under that responder's root."""
    name: str
    root: str
    children: dict[str, list[str]]
    den: str = ""
    responders: tuple[str, ...] = ()
    # a rare item (an event): where a responder's citywide pilot-to-date count of it is
    # under the minimum cell for every quarter on average, that responder's breakdown is
    # printed citywide for pilot to date only
    rare: str = ""
    # the item of this tree whose counts the parent family decided (default: the root); a
    # tree may grow above the parent's count (the eligibility funnel's calls hold the
    # coverage family's eligible calls), and then that item is the parent's denominator
    parent_item: str = ""
    # items read as a headline row (the funnel's stages and drop-offs): hiding one of a
    # row's costs the row, weighted by its grain as a headline rate's row is; other items
    # cost as detail
    headline: tuple[str, ...] = ()

    @property
    def denominator(self) -> str:
        return self.den or self.root

    @property
    def given(self) -> str:
        return self.parent_item or self.root


REASONS = DetailSpec("unserved_reasons", "unserved", {"unserved": list(UNSERVED)})
# why a call in the pilot's area and hours did not pass the screen (etl/sql/universe.sql);
# a reason outside this list counts as "other", a missing one as "not_recorded"
SCREEN_OUT = (*SCREEN_OUT_REASONS, "not_recorded")
# The eligibility funnel, from every public-initiated call of a pilot call type to the
# eligible ones (SPEC 4, metric 1): each stage splits into the next and the calls that
# dropped out there. The eligible calls are the coverage family's, fixed as it decided them.
FUNNEL = DetailSpec("funnel", "calls", {
    "calls": ["outside_pilot_area", "in_area"],
    "in_area": ["outside_pilot_hours", "in_hours"],
    "in_hours": ["screen_not_recorded", "screened"],
    "screened": ["screened_out", "eligible"],
    "screened_out": [f"screened_out_{r}" for r in SCREEN_OUT],
}, parent_item="eligible", headline=("calls", "outside_pilot_area", "in_area",
                                     "outside_pilot_hours", "in_hours", "screen_not_recorded",
                                     "screened", "screened_out"))
SPLIT = DetailSpec("workload_split", "other_responders",
                   {"other_responders": ["co_response", "police"]})


def responder_detail_grain(scope: str, period_type: str) -> bool:
    """Where a breakdown of responses by responder type (dispositions, events, interval
    states) is printed: citywide for quarters and longer, by district and by call type for
    fiscal years and pilot to date. Such detail by month and district is mostly small counts
    and would be mostly hidden; printed only at these grains, it costs the headline nothing."""
    if scope == "city":
        return period_type != "month"
    return period_type in ("fiscal_year", "pilot_to_date")


# How the funnel's calls arrived (SPEC 3: 911, 988, the non-emergency line): the crisis
# line's part. A breakdown of the funnel's calls, fixed as the funnel decided them.
ORIGINS = ("911", "988", "non_emergency")
CALL_ORIGIN = DetailSpec("call_origin", "calls", {"calls": [f"origin_{o}" for o in ORIGINS]},
                         parent_item="calls", headline=tuple(f"origin_{o}" for o in ORIGINS))


def reason_grain(scope: str, period_type: str) -> bool:
    """Where a breakdown of calls by the reason recorded (why eligible calls were not
    answered; why calls were screened out) is printed: citywide for years, fiscal years and
    pilot to date; by district and by call type for pilot to date. Finer, reasons are
    mostly small counts, and their complements ran up the periods into the city's and the
    districts' pilot-to-date figures, the ones readers open. Measured on the 130,000-call
    demo (unserved reasons; printed for every period citywide and for quarters and longer
    by district before): citywide pilot to date 4 of 4 non-zero reasons shown (1 before),
    district pilot to date 42 of 60 (5 before); the screen's reasons citywide pilot to date
    4 of 4 (1 with quarters and district fiscal years printed too)."""
    if scope == "city":
        return period_type in LONG_PERIODS
    return period_type == "pilot_to_date"


def detail_family(spec: DetailSpec, leaves: pd.DataFrame, period: Dim, period_type: dict[str, str],
                  groups: list[str], parent: Family,
                  known: dict[str, tuple] | None = None, grain=detail_grain) -> Family:
    """Protect a breakdown of a parent family's counts with those counts as the parent
    decided them: printed only under a shown parent count, which stays fixed. leaves:
    month, place, group, (responder,) item (a leaf of spec.children), n. `known`: for an
    item, extra (lower, upper) an outsider has from elsewhere, as arrays over the cells or
    functions of the cells frame (see families.interval_knowledge)."""
    by = spec.responders
    if by:
        tree = {f"{r}|{p}": [f"{r}|{c}" for c in cs] for r in by for p, cs in spec.children.items()}
        leaves = leaves[leaves["responder"].isin(by)]
        leaves = leaves.assign(item=leaves["responder"] + "|" + leaves["item"])
    else:
        tree = spec.children
    dims = [period, g.place_dim(), g.group_dim(groups), tree_dim("item", tree)]
    cells = _frame(dims, leaves, ["month", "place", "group", "item"], _place_group_keep(dims))
    cells = _label(cells, dims, ["period", "place", "group", "item"])
    keys = ["period", "place", "group"]
    if by:
        cells["responder"], cells["item"] = g.split_labels(cells["item"], "|")
        keys.append("responder")
    cells["period_type"] = cells["period"].map(period_type)
    top = parent.cells
    if "item" in top and not by:
        top = top[top["item"] == spec.given]
    status = top.set_index(keys)["status"].rename("parent")
    cells = cells.join(status, on=keys)
    cells["parent"] = cells["parent"].fillna(NOT_PUBLISHED)
    # the parent's count (the root, or spec.parent_item): decided there, fixed here
    is_root = (cells["item"] == spec.given).to_numpy()
    root_shown = (cells["parent"] == SHOWN).to_numpy()
    scope = g.scope_of(cells["place"], cells["group"])
    pair = pd.MultiIndex.from_arrays([scope, cells["period_type"].to_numpy()])
    codes, uniq = pd.factorize(pair)
    grain_ok = np.array([grain(s, p) for s, p in uniq], bool)[codes]
    if spec.headline:
        # the breakdown below a headline row (the screen's reasons) at the grains a
        # responder's breakdown is printed: by month it is mostly small counts, whose
        # complements would run up the periods into the city's pilot to date
        fine = np.array([reason_grain(s, p) for s, p in uniq], bool)[codes]
        grain_ok &= fine | np.isin(cells["item"].to_numpy(), [*spec.headline, spec.given])
    if spec.rare and by:
        grain_ok &= ~_rare_rows(cells, spec.rare, scope)
        grain_ok &= ~_sparse_rows(cells, spec.rare, scope)
    # the rate's denominator decides whether the row is printed as under the minimum
    den = cells[cells["item"] == spec.denominator].set_index(keys)["n"]
    row_den = den.reindex(pd.MultiIndex.from_frame(cells[keys])).fillna(0).to_numpy()
    present = row_den >= settings.min_denominator()
    published = root_shown & grain_ok
    in_den = np.isin(cells["item"].to_numpy(), [spec.denominator, *_below(spec.children, spec.denominator)])
    lower, upper = g.knowledge(published, present, (cells["item"] == spec.denominator).to_numpy(), in_den)
    if known:
        for name, (lo, hi) in known.items():
            sel = (cells["item"] == name).to_numpy()
            lo = lo(cells) if callable(lo) else lo
            hi = hi(cells) if callable(hi) else hi
            lower = np.where(sel, np.maximum(lower, lo), lower)
            upper = np.where(sel, np.minimum(upper, hi), upper)
    # the parent's counts: fixed where shown, unknown (protected there) where not
    fixed = is_root & root_shown
    given = is_root & ~root_shown
    parent_status = cells["parent"].to_numpy()
    min_den = float(settings.min_denominator())
    # a hidden parent count is at least 1, or the minimum denominator where it is the
    # denominator of the parent's printed rate (responses; the funnel's eligible calls)
    parent_lower = np.select([parent_status == UNDER_MIN, parent_status == HIDDEN],
                             [0.0, min_den if by or spec.parent_item else 1.0], 0.0)
    parent_upper = np.where(parent_status == UNDER_MIN, min_den - 1.0, g.UNBOUNDED)
    lower = np.where(given, parent_lower, lower)
    upper = np.where(given, parent_upper, upper)
    publish = published & present & ~is_root
    row, row_table = _detail_rows(cells, keys, spec.headline, published & present, scope)
    grid = Grid(dims, cells[["d0", "d1", "d2", "d3"]].to_numpy(), cells["n"].to_numpy(),
                publish, lower, upper, row, fixed=fixed, given_unknown=given,
                unit=_rows(cells, keys), printed=published & ~is_root)
    # detail searches fewer alternatives per dimension (its cubes are mostly local: a swap
    # between two items of a row, and two periods or places): the same protection, checked
    # the same way, at a fraction of the search
    # (the outsider's LP frees almost none of a responder breakdown's counts: skipped there)
    costs = g.costs_for(row_table)
    # citywide detail is what most readers see: a cube that hides a district's or a call
    # type's cells is preferred to one that hides the city's (ties otherwise fall to the
    # first found, often through the city total)
    costs.row_weight = (costs.row_weight
                        * np.where(row_table["scope"].to_numpy() == "city", CITY_DETAIL_WEIGHT, 1.0)
                        * row_table["period_type"].map(PERIOD_DETAIL_WEIGHT).fillna(1.0).to_numpy())
    prot = protect(grid, costs, settings.min_cell(), pairs=DETAIL_PAIRS,
                   candidates=DETAIL_CANDIDATES,
                   outsider_lp=not by)
    cells = _statuses(cells, prot, published & ~is_root, present)
    cells.loc[is_root, "status"] = cells.loc[is_root, "parent"]
    # a breakdown is no rate readers come for (the funnel has its own measure: bench/disclosure.py)
    cells["allowed"] = (present & ~is_root) if not spec.headline else False
    cells = cells.drop(columns=["parent"])
    log.info("publish: %s, %d cells, %d hidden in %.2f s", spec.name, len(cells),
             int(prot.hidden.sum()), prot.stats.get("seconds", 0))
    return Family(spec.name, cells, prot.stats)


def _detail_rows(cells: pd.DataFrame, keys: list[str], headline: tuple[str, ...],
                 printed: np.ndarray, scope: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Each cell's cost row: a row of its own (detail), or, for `headline` items, the row
    of its period, place and call type, which costs what a headline row of its grain costs
    where it is printed."""
    n = len(cells)
    main = np.isin(cells["item"].to_numpy(), headline) if headline else np.zeros(n, bool)
    row = np.empty(n, np.int64)
    codes, uniq = pd.factorize(pd.MultiIndex.from_frame(cells.loc[main, keys])) if main.any() \
        else (np.zeros(0, np.int64), [])
    row[main] = codes
    row[~main] = len(uniq) + np.arange(int((~main).sum()))
    ptype = cells["period_type"].to_numpy()
    table = pd.DataFrame({"row": row, "scope": scope, "period_type": ptype,
                          "grain": [(s, p) if m else None for s, p, m in zip(scope, ptype, main)]})
    table = table.drop_duplicates("row").sort_values("row").reset_index(drop=True)
    # a headline row is allowed (costs its grain's weight) when any of its cells is printed
    allowed = pd.Series(main & printed).groupby(row).any()
    table["allowed"] = allowed.reindex(table["row"]).to_numpy()
    return row, table


def _rare_rows(cells: pd.DataFrame, item: str, scope: np.ndarray) -> np.ndarray:
    """Rows not printed for responders for whom `item` is rare: its citywide pilot-to-date
    count spread over the quarters is under the minimum cell. Such an event is a handful in
    most periods and places, every one of them hidden, and their protection would reach
    into the citywide pilot-to-date figure readers come for; printed there alone, that
    figure needs none. The decision rests on the pilot-to-date count alone."""
    n_quarters = cells.loc[(cells["period_type"] == "quarter").to_numpy(), "period"].nunique()
    city_ptd = (cells["period"] == "pilot_to_date").to_numpy() & (scope == "city")
    ptd = cells[city_ptd & (cells["item"] == item).to_numpy()].set_index("responder")["n"]
    rare = set(ptd.index[ptd < settings.min_cell() * max(n_quarters, 1)])
    return cells["responder"].isin(rare).to_numpy() & ~city_ptd


SPARSE_FACTOR = 2.0
LONG_PERIODS = ("year", "fiscal_year", "pilot_to_date")


def _sparse_rows(cells: pd.DataFrame, item: str, scope: np.ndarray) -> np.ndarray:
    """Fiscal-year rows by district and by call type not printed for a responder's event
    that is sparse there: its citywide pilot-to-date count, spread evenly over the places
    (or call types) and fiscal years, is under SPARSE_FACTOR times the minimum cell. Spread
    unevenly, as calls are, most of those cells would then be small and hidden, and each
    would need a complement in the place's pilot-to-date row (pilot to date = the sum of
    the fiscal years), the figure a resident opens first. Measured on the 130,000-call demo
    (bench/disclosure.py): police co-dispatched per 1,000 civilian responses by district,
    pilot to date, shown for 11 of the 13 rows the primary rules allow instead of 2, at the
    price of the 22 district fiscal years (21 shown before). Like the rare rule, it rests
    on citywide pilot-to-date counts alone."""
    period_type = cells["period_type"].to_numpy()
    ptd = cells["period"].to_numpy() == "pilot_to_date"
    is_item = (cells["item"] == item).to_numpy()
    n_fy = max(cells.loc[period_type == "fiscal_year", "period"].nunique(), 1)
    city = cells[ptd & (scope == "city") & is_item].set_index("responder")["n"]
    out = np.zeros(len(cells), bool)
    for s, column in (("district", "place"), ("group", "group")):
        n_parts = max(cells.loc[ptd & (scope == s) & is_item, column].nunique(), 1)
        sparse = set(city.index[city < SPARSE_FACTOR * settings.min_cell() * n_fy * n_parts])
        out |= (scope == s) & (period_type == "fiscal_year") & cells["responder"].isin(sparse).to_numpy()
    return out


def _below(children: dict[str, list[str]], node: str) -> list[str]:
    out = []
    for c in children.get(node, []):
        out += [c, *_below(children, c)]
    return out
