"""Response-time quartiles and 90th percentiles, exactly, for every period and breakdown.

Medians are not counts: one is published wherever at least OUTCOMES_MIN_DENOMINATOR valid
times lie behind it, whatever is hidden among the counts beside it (an outsider learns
only that there were that many; families.interval_knowledge gives the protection that
knowledge). Quantiles are linear interpolations at (n - 1) * q between the two nearest
times, computed in integers and rounded half up to 0.1 minute (etl.stats).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from etl.stats import grouped_quantiles, rounded_tenths
from outcomes.catalog import PERIOD_TYPES

ALL = "all"
INTERVALS = ("dispatch_to_scene", "received_to_scene")
INTERVAL_STATES = ("valid", "missing", "negative", "over_24h")
# quantiles as fractions, so that they are computed exactly (etl.stats.grouped_quantiles)
QUANTILES = {"p25_minutes": (1, 4), "median_minutes": (1, 2), "p75_minutes": (3, 4),
             "p90_minutes": (9, 10)}
HOUR_BANDS = ("00-06", "06-12", "12-18", "18-24")
Grouping = tuple[tuple[str, ...], tuple[str, ...]]  # (period types, dimensions)

RESPONSE_TIME_GROUPINGS: list[Grouping] = [
    # districts for all call type groups, groups citywide: as every table by place
    (PERIOD_TYPES, ("call_type_group", "responder_type")),
    (PERIOD_TYPES, ("district", "responder_type")),
    (PERIOD_TYPES, ("responder_type",)),
]
# by time of day only citywide and for long periods: a month split four ways is mostly
# too small
HOUR_BAND_GROUPINGS: list[Grouping] = [
    (("year", "fiscal_year", "pilot_to_date"), ("responder_type", "hour_band"))]


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
