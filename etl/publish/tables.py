"""The published tables, read off the protected families.

Every count column has a `<column>_flag`: '' shown; 'hidden' (not shown, to protect a
small count: the count itself or another; one mark for both, so the mark tells no one
which are small); 'under_minimum' (the row's denominator is under OUTCOMES_MIN_DENOMINATOR,
so no rate and none of its counts are printed); 'not_published' (this grain is published
for longer periods, or citywide, only). A rate is printed only where its numerator and
denominator are shown, with a 95% Wilson interval, and flagged unstable under
OUTCOMES_UNSTABLE_DENOMINATOR; `rate_flag` says why one is missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.publish.families import (HIDDEN, NOT_PUBLISHED, SCREEN_OUT, SHOWN, UNDER_MIN, UNSERVED,
                                  Family)
from etl.publish.quantiles import INTERVAL_STATES, INTERVALS, QUANTILES
from etl.stats import wilson
from outcomes import settings

ALL = "all"
KEYS = ["period_type", "period", "district", "call_type_group"]
FLAG = {SHOWN: "", HIDDEN: "hidden", UNDER_MIN: "under_minimum", NOT_PUBLISHED: "not_published"}
# the reason a row's rate is missing: the first of its counts' flags in this order
WHY = ("not_published", "under_minimum", "hidden")


def _wide(family: Family, items: dict[str, str], keys: list[str]) -> pd.DataFrame:
    """One row per key, a column per item (NULL unless shown) with its flag."""
    c = family.cells
    c = c[c["item"].isin(items)].rename(columns={"place": "district", "group": "call_type_group"})
    frames = []
    for item, name in items.items():
        part = c[c["item"] == item]
        frames.append(part[keys].assign(**{
            name: part["n"].astype("Int64").mask(part["status"] != SHOWN).to_numpy(),
            f"{name}_flag": part["status"].map(FLAG).to_numpy()}))
    out = frames[0]
    for f in frames[1:]:
        out = out.merge(f, on=keys, how="outer")
    return out.reset_index(drop=True)


def rate(df: pd.DataFrame, num: str, den: str, prefix: str, scale: float = 1.0) -> pd.DataFrame:
    """Add prefix, prefix_ci_low, prefix_ci_high, unstable and rate_flag: a rate only over
    shown counts whose denominator reaches the minimum."""
    min_den, unstable_den = settings.min_denominator(), settings.unstable_denominator()
    x = pd.to_numeric(df[num], errors="coerce").astype(float).to_numpy()
    n = pd.to_numeric(df[den], errors="coerce").astype(float).to_numpy()
    ok = ~np.isnan(x) & ~np.isnan(n) & (n >= min_den)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(ok, x / n, np.nan)
    low, high = wilson(np.where(ok, x, np.nan), np.where(ok, n, np.nan))
    df[prefix] = value * scale
    df[f"{prefix}_ci_low"] = low * scale
    df[f"{prefix}_ci_high"] = high * scale
    df["unstable"] = np.where(ok, n < unstable_den, False)
    flags = [df[f"{c}_flag"].fillna("not_published").to_numpy() for c in (den, num)]
    why = np.full(len(df), "", dtype=object)
    for reason in reversed(WHY):
        for f in flags:
            why = np.where(f == reason, reason, why)
    # shown counts with a denominator under the minimum (possible only for detail rates)
    why = np.where(ok, "", np.where(why == "", "under_minimum", why))
    df["rate_flag"] = why
    return df


def coverage_table(coverage: Family) -> pd.DataFrame:
    df = _wide(coverage, {"eligible": "eligible_calls", "served": "civilian_calls"}, KEYS)
    return rate(df, "civilian_calls", "eligible_calls", "coverage_rate")


def unserved_table(coverage: Family, reasons: Family) -> pd.DataFrame:
    """Eligible calls no civilian team answered: all of them ('all') and by reason."""
    total = _wide(coverage, {"unserved": "calls"}, KEYS).assign(unserved_reason=ALL)
    c = reasons.cells
    c = c[c["item"] != "unserved"].rename(columns={"place": "district", "group": "call_type_group"})
    by_reason = c[KEYS].assign(unserved_reason=c["item"].to_numpy(),
                               calls=c["n"].astype("Int64").mask(c["status"] != SHOWN).to_numpy(),
                               calls_flag=c["status"].map(FLAG).to_numpy())
    out = pd.concat([total, by_reason], ignore_index=True)
    return out[KEYS + ["unserved_reason", "calls", "calls_flag"]]


def workload_table(workload: Family, split: Family) -> pd.DataFrame:
    df = _wide(workload, {"handled": "handled_calls", "civilian_team": "civilian_team_calls"}, KEYS)
    df = df.merge(_wide(split, {"co_response": "co_response_calls", "police": "police_calls"}, KEYS),
                  on=KEYS, how="left")
    for c in ("co_response_calls", "police_calls"):
        df[f"{c}_flag"] = df[f"{c}_flag"].fillna("not_published")
    return rate(df, "civilian_team_calls", "handled_calls", "workload_share")


def responses_frame(responses: Family) -> pd.DataFrame:
    c = responses.cells.rename(columns={"place": "district", "group": "call_type_group",
                                        "responder": "responder_type"})
    keys = KEYS + ["responder_type"]
    return c[keys].assign(responses=c["n"].astype("Int64").mask(c["status"] != SHOWN).to_numpy(),
                          responses_flag=c["status"].map(FLAG).to_numpy()).reset_index(drop=True)


def _detail(family: Family, items: list[str]) -> pd.DataFrame:
    c = family.cells
    c = c[c["item"].isin(items)].rename(columns={"place": "district", "group": "call_type_group",
                                                 "responder": "responder_type"})
    return c.assign(value=c["n"].astype("Int64").mask(c["status"] != SHOWN),
                    flag=c["status"].map(FLAG))


def outcomes_table(responses: Family, dispositions: Family, outcomes: tuple[str, ...]) -> pd.DataFrame:
    """How calls ended, per 1,000 responses of each responder type."""
    keys = KEYS + ["responder_type"]
    d = _detail(dispositions, list(outcomes))
    d = d[keys].assign(outcome=d["item"].to_numpy(), calls=d["value"].to_numpy(),
                       calls_flag=d["flag"].to_numpy())
    df = d.merge(responses_frame(responses), on=keys, how="left")
    df = rate(df, "calls", "responses", "per_1000", scale=1000.0)
    return df[keys + ["outcome", "responses", "responses_flag", "calls", "calls_flag", "per_1000",
                      "per_1000_ci_low", "per_1000_ci_high", "unstable", "rate_flag"]]


def events_table(responses: Family, events: dict[str, Family], measure: str) -> pd.DataFrame:
    """Per 1,000 responses with the item recorded: events (true) / recorded (true + false)."""
    keys = KEYS + ["responder_type"]
    frames = []
    for name, fam in events.items():
        d = _detail(fam, ["recorded", "true", "unknown"])
        wide = None
        for item, col in (("recorded", "recorded"), ("true", "events"), ("unknown", "not_recorded")):
            part = d[d["item"] == item]
            part = part[keys].assign(**{col: part["value"].to_numpy(), f"{col}_flag": part["flag"].to_numpy()})
            wide = part if wide is None else wide.merge(part, on=keys, how="outer")
        wide[measure] = name
        frames.append(wide)
    df = pd.concat(frames, ignore_index=True).merge(responses_frame(responses), on=keys, how="left")
    df = rate(df, "events", "recorded", "per_1000", scale=1000.0)
    return df[keys + [measure, "responses", "responses_flag", "recorded", "recorded_flag", "events",
                      "events_flag", "not_recorded", "not_recorded_flag", "per_1000",
                      "per_1000_ci_low", "per_1000_ci_high", "unstable", "rate_flag"]]


def response_times_table(intervals: dict[str, Family], quantiles: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Quartiles and 90th percentile where at least the minimum of valid times lie behind
    them (whether or not the count of valid times is itself shown), with the intervals
    left out counted."""
    keys = KEYS + ["responder_type"]
    frames = []
    min_den, unstable_den = settings.min_denominator(), settings.unstable_denominator()
    for interval in INTERVALS:
        d = _detail(intervals[interval], list(INTERVAL_STATES))
        wide = None
        for s in INTERVAL_STATES:
            part = d[d["item"] == s]
            part = part[keys].assign(**{f"{s}_intervals": part["value"].to_numpy(),
                                        f"{s}_intervals_flag": part["flag"].to_numpy()})
            wide = part if wide is None else wide.merge(part, on=keys, how="outer")
        q = quantiles[interval].rename(columns={"district": "district"})
        wide = wide.merge(q, on=keys, how="left")
        shown = wide["valid_n"].fillna(0).to_numpy() >= min_den
        for c in QUANTILES:
            wide[c] = np.where(shown, wide[c], np.nan)
        wide["unstable"] = shown & (wide["valid_n"].fillna(0).to_numpy() < unstable_den)
        # a missing median: fewer valid times than the minimum (no other reason)
        wide["times_flag"] = np.where(shown, "", "under_minimum")
        wide["interval"] = interval
        frames.append(wide.drop(columns=["valid_n"]))
    out = pd.concat(frames, ignore_index=True)
    cols = keys + ["interval", *QUANTILES, "unstable", "times_flag"]
    cols += [c for s in INTERVAL_STATES for c in (f"{s}_intervals", f"{s}_intervals_flag")]
    return out[cols]


def hour_band_times_table(by: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Response-time quartiles and 90th percentile by 6-hour band of the call, citywide.

    No counts: a band's quantiles are published only where it holds at least the minimum
    of valid intervals (flagged unstable under the unstable minimum), so the table says of
    any band only that it has that many, never a count."""
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


# the eligibility funnel's nodes in reading order: (node, the node it splits, kind, step);
# a stage's calls go on to the next step, a drop-off's stop there, a reason splits a drop-off
def funnel_nodes() -> list[tuple[str, str, str, int]]:
    return [
        ("calls", "", "stage", 1),
        ("outside_pilot_area", "calls", "drop_off", 2),
        ("in_area", "calls", "stage", 2),
        ("outside_pilot_hours", "in_area", "drop_off", 3),
        ("in_hours", "in_area", "stage", 3),
        ("screen_not_recorded", "in_hours", "drop_off", 4),
        ("screened", "in_hours", "stage", 4),
        ("screened_out", "screened", "drop_off", 5),
        *[(f"screened_out_{r}", "screened_out", "reason", 5) for r in SCREEN_OUT],
        ("eligible", "screened", "stage", 5),
        ("unserved", "eligible", "drop_off", 6),
        *[(f"unserved_{r}", "unserved", "reason", 6) for r in UNSERVED],
        ("served", "eligible", "stage", 6),
    ]


FUNNEL_COLUMNS = KEYS + ["step", "node", "parent_node", "node_kind", "calls", "calls_flag",
                         "share_of_parent", "share_of_parent_ci_low", "share_of_parent_ci_high",
                         "unstable", "rate_flag"]


def funnel_table(coverage: Family, reasons: Family, funnel: Family) -> pd.DataFrame:
    """Every public-initiated call of a pilot call type, step by step to a civilian team's
    answer: each stage and each drop-off as a count and a share of the stage before. The
    eligible, served and not-served calls and the reasons are the coverage and unserved
    tables' own counts (the same figure, the same mark), the rest the funnel family's."""
    def long(family: Family, rename: dict[str, str]) -> pd.DataFrame:
        c = family.cells
        c = c[c["item"].isin(rename)].rename(columns={"place": "district", "group": "call_type_group"})
        return c[KEYS].assign(node=c["item"].map(rename).to_numpy(),
                              calls=c["n"].astype("Int64").mask(c["status"] != SHOWN).to_numpy(),
                              calls_flag=c["status"].map(FLAG).to_numpy())

    nodes = funnel_nodes()
    mine = [n for n, *_ in nodes if n not in ("served", "unserved") and not n.startswith("unserved_")]
    df = pd.concat([
        long(funnel, {n: n for n in mine}),
        long(coverage, {"served": "served", "unserved": "unserved"}),
        long(reasons, {r: f"unserved_{r}" for r in reasons.cells["item"].unique() if r != "unserved"}),
    ], ignore_index=True)
    meta = pd.DataFrame(nodes, columns=["node", "parent_node", "node_kind", "step"])
    df = df.merge(meta, on="node", how="inner")
    parent = df[KEYS + ["node", "calls", "calls_flag"]].rename(
        columns={"node": "parent_node", "calls": "parent_calls", "calls_flag": "parent_calls_flag"})
    df = df.merge(parent, on=KEYS + ["parent_node"], how="left")
    df = rate(df, "calls", "parent_calls", "share_of_parent")
    df.loc[df["node"] == "calls", "rate_flag"] = ""  # the first step is no share of anything
    order = {n: i for i, (n, *_) in enumerate(nodes)}
    df = df.assign(_o=df["node"].map(order)).sort_values(KEYS + ["_o"]).drop(columns="_o")
    return df[FUNNEL_COLUMNS].reset_index(drop=True)


def crisis_line_table(funnel: Family, origin: Family, responses: Family,
                      before_pilot: set[str] = frozenset()) -> pd.DataFrame:
    """The crisis line's part: of the calls of the pilot's types (the funnel's first step),
    those that arrived through 988 (and by 911 and the non-emergency line), with 988's share;
    beside them, the calls resolved by phone with no unit sent (the responses table's
    'phone' responses, the same count)."""
    calls = _wide(funnel, {"calls": "calls"}, KEYS)
    by = _wide(origin, {"origin_988": "calls_988", "origin_911": "calls_911",
                        "origin_non_emergency": "calls_non_emergency"}, KEYS)
    df = calls.merge(by, on=KEYS, how="left")
    phone = responses_frame(responses)
    phone = phone[phone["responder_type"] == "phone"].drop(columns="responder_type").rename(
        columns={"responses": "resolved_by_phone", "responses_flag": "resolved_by_phone_flag"})
    df = df.merge(phone, on=KEYS, how="left")
    # the responses family counts every month, the funnel the pilot's: a period holding
    # months before the pilot began gives no phone count beside the funnel's calls
    mixed = df["period"].isin(before_pilot).to_numpy()
    df.loc[mixed, "resolved_by_phone"] = pd.NA
    df.loc[mixed, "resolved_by_phone_flag"] = "not_published"
    for c in ("calls_988", "calls_911", "calls_non_emergency", "resolved_by_phone"):
        df[f"{c}_flag"] = df[f"{c}_flag"].fillna("not_published")
    df = rate(df, "calls_988", "calls", "share_988")
    return df[KEYS + ["calls", "calls_flag", "calls_988", "calls_988_flag", "share_988",
                      "share_988_ci_low", "share_988_ci_high", "unstable", "rate_flag",
                      "calls_911", "calls_911_flag", "calls_non_emergency",
                      "calls_non_emergency_flag", "resolved_by_phone",
                      "resolved_by_phone_flag"]].reset_index(drop=True)
