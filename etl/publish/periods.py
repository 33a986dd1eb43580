"""Reporting periods: months, quarters, calendar years, the City's fiscal years (July to
June) and pilot to date, and the period dimension the protection works on (months are its
leaves; a period holds the months it spans)."""

from __future__ import annotations

import pandas as pd

from etl.publish.protect import Dim
from outcomes.catalog import PERIOD_TYPES

# finest first: a period of one type splits into periods of the types before it
ORDER = {"month": 0, "quarter": 1, "year": 2, "fiscal_year": 2, "pilot_to_date": 3}


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
    """month, period_type, period: every period each month belongs to (pilot to date from
    the pilot's first month)."""
    rows = []
    for mo in months:
        rows += [(mo, "month", mo), (mo, "quarter", quarter_of(mo)), (mo, "year", mo[:4]),
                 (mo, "fiscal_year", fiscal_year_of(mo))]
        if mo >= pilot_start:
            rows.append((mo, "pilot_to_date", "pilot_to_date"))
    return pd.DataFrame(rows, columns=["month", "period_type", "period"])


def period_dim(months: list[str], pilot_start: str,
               types: tuple[str, ...] = PERIOD_TYPES) -> tuple[Dim, dict[str, str]]:
    """The period dimension over `months` (its leaves) with the periods of `types` as nodes,
    and each node's period type. A period splits into the periods of each finer type that
    cover exactly its months (a quarter into months, a fiscal year into quarters, pilot to
    date into fiscal years when the pilot began on 1 July)."""
    bridge = period_bridge(months, pilot_start)
    bridge = bridge[bridge.period_type.isin(types)]
    nodes = list(dict.fromkeys(bridge.sort_values(
        "period_type", key=lambda s: s.map(ORDER), kind="stable")["period"]))
    kind = dict(zip(bridge.period, bridge.period_type))
    idx = {p: i for i, p in enumerate(nodes)}
    held = {p: frozenset(g.month) for p, g in bridge.groupby("period")}
    ancestors = tuple(tuple(idx[p] for p in bridge.loc[bridge.month == m, "period"]) for m in months)
    partitions = []
    for p in nodes:
        # the coarsest split only: finer ones follow from it (a year = its quarters, each
        # quarter = its months), and redundant rows make the outsider's LP degenerate
        parts = []
        for finer in types:
            if ORDER[finer] >= ORDER[kind[p]]:
                continue
            kids = [q for q in nodes if kind[q] == finer and held[q] <= held[p]]
            if kids and frozenset().union(*(held[q] for q in kids)) == held[p]:
                parts.append(tuple(idx[q] for q in kids))
        parts.sort(key=len)
        partitions.append(tuple(parts[:1]))
    return Dim("period", tuple(nodes), tuple(months), ancestors, tuple(partitions)), kind
