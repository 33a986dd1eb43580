"""From counts by leaf to a protected grid: the cells a table family publishes, what an
outsider knows of each, which rows are published at which grain, and what hiding costs.

Which rows are published is part of the protection (SPEC section 5), decided from published
figures only, so the decision tells an outsider nothing new:

- A row of a rate (coverage, workload share, responses) is printed only where its
  denominator is at least OUTCOMES_MIN_DENOMINATOR: under it no rate could be shown, and
  its counts are left out too ("fewer than 20"), so an outsider learns only that they lie
  between 0 and 19, not which of them are zero.
- District and call-type rows of a month or quarter are published only when the city's
  count for that period reaches the minimum for every place on average (a young pilot's
  first months are published citywide only).
- A district's (or call type's) rows of a period type are published only when its pilot-
  to-date counts, spread evenly over that type's periods, would pass the primary rules: a
  district with a handful of calls a month is published by year and pilot to date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.publish.protect import UNBOUNDED, Costs, Dim, tree_dim
from outcomes import settings

ALL = "all"
DISTRICTS = tuple(str(i) for i in range(1, 16))
# places with calls but no district of their own: counted in 'all', never published alone
PLACE_LEAVES = DISTRICTS + ("outside_city", "unknown")
LONG = ("year", "fiscal_year", "pilot_to_date")


def place_dim() -> Dim:
    return tree_dim("place", {ALL: list(PLACE_LEAVES)})


def group_dim(groups: list[str]) -> Dim:
    return tree_dim("group", {ALL: list(groups)})


def aggregate(leaves: pd.DataFrame, dims: list[Dim], columns: list[str]) -> pd.DataFrame:
    """Every node combination with its count: each leaf row (one label per dimension in
    `columns`, and its count n) adds to every combination of the nodes holding it.
    Returns a frame of node ids per dimension (d0..d3) and n."""
    ids = []
    for dim, col in zip(dims, columns):
        index = {leaf: i for i, leaf in enumerate(dim.leaves)}
        codes = leaves[col].map(index)
        if codes.isna().any():
            missing = sorted(set(leaves.loc[codes.isna(), col].astype(str)))[:5]
            raise ValueError(f"{dim.name}: values not in the grid: {missing}")
        ids.append(codes.to_numpy(np.int64))
    n = leaves["n"].to_numpy(np.int64)
    frame = np.stack(ids, axis=1)
    # node ids packed into one integer per cell (mixed radix), so summing equal cells is a
    # sort of one column rather than of rows (np.unique(axis=0) sorts rows, ten times slower)
    radix = np.array([len(d.nodes) for d in dims], np.int64)
    weights = np.r_[np.cumprod(radix[::-1])[::-1][1:], 1].astype(np.int64)
    # one dimension at a time: each row repeated once per node holding its leaf
    for k, dim in enumerate(dims):
        lengths = np.array([len(a) for a in dim.ancestors])[frame[:, k]]
        nodes = np.concatenate([np.asarray(a, np.int64) for a in dim.ancestors])
        starts = np.r_[0, np.cumsum([len(a) for a in dim.ancestors])[:-1]]
        rep = np.repeat(np.arange(len(frame)), lengths)
        offs = np.arange(len(rep)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        frame = frame[rep]
        frame[:, k] = nodes[starts[frame[:, k]] + offs]
        n = n[rep]
        key, inverse = np.unique(frame @ weights, return_inverse=True)
        n = np.bincount(inverse.ravel(), weights=n).astype(np.int64)
        frame = (key[:, None] // weights[None, :]) % radix[None, :]
    out = pd.DataFrame(frame, columns=["d0", "d1", "d2", "d3"])
    out["n"] = n
    return out


def split_labels(labels: pd.Series, sep: str) -> tuple[np.ndarray, np.ndarray]:
    """'a<sep>b' labels as two object arrays (a, b; b None where there is no sep), each
    distinct label split once (a few dozen labels over many thousand cells)."""
    codes, uniq = pd.factorize(labels)
    parts = [str(x).split(sep, 1) for x in uniq]
    first = np.array([p[0] for p in parts], dtype=object)
    rest = np.array([p[1] if len(p) > 1 else None for p in parts], dtype=object)
    return first[codes], rest[codes]


def full_grid(dims: list[Dim], keep) -> pd.DataFrame:
    """Every node combination `keep(d0, d1, d2, d3)` admits (vectorised on arrays)."""
    axes = np.meshgrid(*[np.arange(len(d.nodes)) for d in dims], indexing="ij")
    flat = [a.ravel() for a in axes]
    mask = keep(*flat)
    return pd.DataFrame({f"d{k}": flat[k][mask] for k in range(4)})


def primary_ok(x) -> np.ndarray:
    """A count the primary rules allow a rate to rest on: 0, or at least OUTCOMES_MIN_CELL."""
    x = np.asarray(x, np.float64)
    return (x == 0) | (x >= settings.min_cell())


@dataclass(frozen=True)
class Grain:
    """What readers rely on, by kind of row: rows of a grain cost `weight` each to lose,
    shared among its rows; keeping `keep` of them is the aim, and each row lost beyond
    that costs `penalty` times more."""
    weight: float
    keep: float
    penalty: float = 20.0


# City figures above all; a district's long periods and quarters before its months; call
# type groups (citywide) after districts (the utility aims of SPEC section 5).
GRAINS: dict[tuple[str, str], Grain] = {
    **{("city", p): Grain(1e4, 0.95) for p in ("month", "quarter", "year", "fiscal_year", "pilot_to_date")},
    **{("district", p): Grain(100, 0.90) for p in LONG},
    ("district", "quarter"): Grain(60, 0.90),
    ("district", "month"): Grain(20, 0.75),
    **{("group", p): Grain(5, 0.5) for p in ("month", "quarter", "year", "fiscal_year", "pilot_to_date")},
}
DETAIL = Grain(0.5, 0.0, 0.0)


def scope_of(place: pd.Series, group: pd.Series) -> np.ndarray:
    return np.where((place == ALL) & (group == ALL), "city",
                    np.where(place != ALL, "district", "group"))


def costs_for(rows: pd.DataFrame) -> Costs:
    """Costs of losing each row: rows has `grain` (a GRAINS key, or None for detail cells)
    and `allowed` (the primary rules alone would show its rate)."""
    grains = list(GRAINS) + [None]
    gi = {g: i for i, g in enumerate(grains)}
    row_grain = np.array([gi.get(g, len(grains) - 1) for g in rows["grain"]], np.int64)
    allowed = rows["allowed"].to_numpy(bool)
    n_allowed = np.bincount(row_grain[allowed], minlength=len(grains)).astype(float)
    spec = [GRAINS[g] if g is not None else DETAIL for g in grains]
    per_row = np.array([s.weight for s in spec]) / np.maximum(n_allowed, 1.0)
    weight = np.where(allowed, per_row[row_grain], 1e-3)
    budget = n_allowed - np.ceil(np.array([s.keep for s in spec]) * n_allowed - 1e-9)
    penalty = per_row * np.array([s.penalty for s in spec])
    return Costs(weight, row_grain, allowed, budget, penalty)


def published_rows(rows: pd.DataFrame, period_type: dict[str, str], den: str,
                   parts: list[str], n_periods: dict[str, int], n_groups: int) -> np.ndarray:
    """Which rows of a rate family are published at all, by the sparse-grain rules of the
    module docstring. rows: period, place, group (and responder, for families by
    responder), the row's denominator `den` and the rate's `parts` (its numerator and the
    rest of the denominator)."""
    min_den = settings.min_denominator()
    by = ["responder"] if "responder" in rows else []
    ptype = rows["period"].map(period_type).to_numpy()
    city = ((rows["place"] == ALL) & (rows["group"] == ALL)).to_numpy()
    # A: months and quarters by place only when the city count reaches the minimum per place
    city_den = rows[city].groupby(["period", *by])[den].sum()
    key_a = pd.MultiIndex.from_frame(rows[["period", *by]])
    per_place = np.where(rows["place"] != ALL, len(DISTRICTS), max(n_groups, 1))
    rule_a = ~np.isin(ptype, ["month", "quarter"]) | (
        city_den.reindex(key_a).fillna(0).to_numpy() >= min_den * per_place)
    # B: a place's rows of a period type only when its pilot-to-date counts, spread over
    # that type's periods, would pass the primary rules
    keys = ["place", "group", *by]
    ptd = rows[rows["period"] == "pilot_to_date"].set_index(keys)
    key_b = pd.MultiIndex.from_frame(rows[keys])
    spread = np.array([n_periods.get(p, 1) for p in ptype], np.float64)

    def avg(col: str) -> np.ndarray:
        return ptd[col].reindex(key_b).fillna(0).to_numpy(np.float64) / spread

    rule_b = avg(den) >= min_den
    for p in parts:
        rule_b &= primary_ok(np.floor(avg(p)))
    rule_b |= ptype == "pilot_to_date"
    return city | (rule_a & rule_b)


def knowledge(published: np.ndarray, present: np.ndarray, is_denominator: np.ndarray,
              in_denominator: np.ndarray | None = None):
    """(lower, upper): what an outsider knows of a cell they are not shown. A hidden count
    of a printed row is at least 1 (zeros are shown), and a printed row's denominator at
    least the minimum; a row printed as under the minimum holds 0 to minimum - 1 in every
    count that is part of its denominator (`in_denominator`, default every count); a cell
    of a grain not published is only known to be >= 0."""
    min_den = settings.min_denominator()
    inside = np.ones(len(published), bool) if in_denominator is None else in_denominator
    lower = np.where(published & present, np.where(is_denominator, float(min_den), 1.0), 0.0)
    upper = np.where(published & ~present & inside, float(min_den - 1), UNBOUNDED)
    return lower, upper
