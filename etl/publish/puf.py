"""The public-use record file: one row per response of the pilot's call types (civilian
team, co-response, police), de-identified and generalised (SPEC 5).

Its quasi-identifiers are the fiscal year, the council district and the responder type;
its outcome columns the disposition, three recorded events and the dispatch-to-scene time
in bands. No id, no date, no time of day, no place finer than a district.

Why this grain, and why nothing finer. A record file lets anyone count any combination of
its columns, and each such count is a sum of the cells the tables protect: a file by
quarter or by call type within a district would print, as a count of its rows, cells the
tables hide (or print them as the difference of two sums). So the file is built on the
tables' own decisions, at a grain they publish: responses by fiscal year, district and
responder type, broken down by disposition, by each event and by the interval's state.

- A group (fiscal year x district x responder type) is kept only where its responses cell
  is shown, which also makes it k-anonymous (a shown count is at least the minimum cell,
  and at least OUTCOMES_PUF_K here). Records of other groups are left out and counted.
- In a kept group, a column's value is printed only where the tables show that value's
  count for the group; every other value of the column reads "withheld". The count of a
  group's withheld values is then its responses less the counts shown beside them, which
  anyone can already work out. Every count of the file over one column is a count the
  tables print or the difference of printed ones; counts over two columns or more have no
  cell in the tables, and add up only to those. So the file adds no relation an outsider
  could use to narrow a hidden count (tests/attack.py adds the file's counts to its
  equations to check this).
- l-diversity: within a group, each column shows at least OUTCOMES_PUF_L different values
  other than "withheld", or is withheld for the whole group.

The file's rows are sorted by their values, so their order says nothing of the warehouse's.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from etl.publish.families import DETAIL_RESPONDERS as RESPONDERS
from etl.publish.families import Family
from etl.publish.grid import DISTRICTS
from etl.publish.periods import fiscal_year_of

GRAIN = ("fiscal_year", "district", "responder_type")
WITHHELD = "withheld"
# the recorded events carried: each is a family of its own (etl/publish/release.py)
EVENTS = ("arrest", "use_of_force", "referral_offered")
EVENT_VALUES = {"true": "yes", "false": "no", "unknown": "not_recorded"}
INTERVAL = "dispatch_to_scene"
BAND_COLUMN = "dispatch_to_scene_band"
# minutes from dispatch to arrival, [low, high)
BANDS = ((0, 10, "under_10_min"), (10, 20, "10_to_19_min"), (20, 30, "20_to_29_min"),
         (30, 60, "30_to_59_min"), (60, 24 * 60 + 1, "60_min_or_more"))
# an interval that is no valid time keeps its state (SPEC 4, metric 5)
STATE_VALUES = {"missing": "not_recorded", "negative": "invalid_negative",
                "over_24h": "invalid_over_24h"}
OUTCOME_COLUMNS = ("disposition", *EVENTS, BAND_COLUMN)


@dataclass
class PublicUseFile:
    rows: pd.DataFrame
    summary: pd.DataFrame


def _shown(fam: Family, item_col: bool = True) -> pd.DataFrame:
    """The family's cells at the file's grain, with whether each is shown."""
    c = fam.cells
    c = c[(c["period_type"] == "fiscal_year") & (c["group"] == "all")
          & c["place"].isin(DISTRICTS) & c["responder"].isin(RESPONDERS)]
    cols = ["period", "place", "responder"] + (["item"] if item_col else [])
    out = c[cols + ["n"]].assign(shown=(c["status"] == "shown").to_numpy())
    return out.rename(columns={"period": "fiscal_year", "place": "district",
                               "responder": "responder_type"})


def _records(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    df = con.execute(f"""
        select month, district, responder_type, disposition,
               {", ".join(EVENTS)}, dispatch_interval,
               dispatch_to_scene_seconds / 60.0 as minutes
        from universe
        where responder_type in ({", ".join(f"'{r}'" for r in RESPONDERS)})
          and district in ({", ".join(f"'{d}'" for d in DISTRICTS)})
    """).df()
    fy = {m: fiscal_year_of(m) for m in df["month"].unique()}
    # text even when there is no record (an empty map gives floats, which merge with nothing)
    df["fiscal_year"] = df["month"].map(fy).astype(object)
    for c in ("fiscal_year", "district", "responder_type"):
        df[c] = df[c].astype(str)
    return df.drop(columns="month")


def _band(rec: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each record's band (or interval state) and the interval family's item it counts in."""
    state = rec["dispatch_interval"].to_numpy(object)
    minutes = rec["minutes"].to_numpy(float)
    band = np.array([STATE_VALUES.get(s, "") for s in state], dtype=object)
    valid = state == "valid"
    for lo, hi, label in BANDS:
        band[valid & (minutes >= lo) & (minutes < hi)] = label
    return band, state


def build(con: duckdb.DuckDBPyConnection, fams: dict[str, Family], k: int, l: int) -> PublicUseFile:
    """The file from the warehouse's universe and the protected families."""
    rec = _records(con)
    key = list(GRAIN)
    # which groups are kept: their responses cell is shown (and at least k)
    groups = _shown(fams["responses"], item_col=False)
    sizes = rec.groupby(key).size().rename("records").reset_index()
    check = groups.merge(sizes, on=key, how="outer")
    off = check[check["n"].fillna(0).astype(int) != check["records"].fillna(0).astype(int)]
    if len(off):
        raise RuntimeError("public-use file: its groups' records disagree with the responses "
                           f"table in {len(off)} groups (first: {off.iloc[0].to_dict()})")
    kept_groups = groups[groups["shown"] & (groups["n"] >= k)][key]
    rec = rec.merge(kept_groups, on=key, how="inner")

    out = rec[key].copy()
    items = {"disposition": (fams["dispositions"], rec["disposition"].to_numpy(object),
                             rec["disposition"].to_numpy(object))}
    for e in EVENTS:
        raw = rec[e].map({True: "true", False: "false"}).fillna("unknown").to_numpy(object)
        items[e] = (fams[e], raw, np.array([EVENT_VALUES[v] for v in raw], dtype=object))
    band, state = _band(rec)
    items[BAND_COLUMN] = (fams[INTERVAL], state, band)
    for col, (fam, item, value) in items.items():
        shown = _shown(fam)
        cell = pd.DataFrame({**{c: rec[c].to_numpy() for c in key}, "item": item})
        ok = cell.merge(shown[key + ["item", "shown"]], on=key + ["item"], how="left")["shown"]
        out[col] = np.where(ok.fillna(False).to_numpy(bool), value, WITHHELD)
    # l-diversity: a column showing fewer than l values in a group is withheld there
    for col in OUTCOME_COLUMNS:
        released = out[col] != WITHHELD
        distinct = (out[released].groupby(key)[col].nunique().rename("distinct").reset_index())
        few = out[key].merge(distinct, on=key, how="left")["distinct"].fillna(0).to_numpy() < l
        out.loc[few, col] = WITHHELD
    out = out.sort_values(list(out.columns), kind="stable").reset_index(drop=True)
    for c in out.columns:
        out[c] = out[c].astype(str)
    return PublicUseFile(out, _summary(fams["responses"], out, k, l))


def _summary(responses: Family, out: pd.DataFrame, k: int, l: int) -> pd.DataFrame:
    """k, l, the grain, and the share of records kept. The records in scope are the
    citywide responses of the three types by fiscal year, where the tables show them (a
    sum of printed counts, so that the file adds no total of its own); the share kept is
    that of the file's records in those fiscal years and types."""
    c = responses.cells
    city = c[(c["period_type"] == "fiscal_year") & (c["place"] == "all") & (c["group"] == "all")
             & c["responder"].isin(RESPONDERS) & (c["status"] == "shown")]
    in_scope = int(city["n"].sum()) if len(city) else None
    pairs = set(zip(city["period"], city["responder"]))
    kept = int(sum((fy, r) in pairs for fy, r in zip(out["fiscal_year"], out["responder_type"])))
    return _summary_of(out, in_scope, kept, k, l)


def _summary_of(out: pd.DataFrame, in_scope: int | None, kept_in_scope: int, k: int,
                l: int) -> pd.DataFrame:
    kept = len(out)
    withheld = {f"{col}_withheld_share": float((out[col] == WITHHELD).mean()) if kept else None
                for col in OUTCOME_COLUMNS}
    return pd.DataFrame([{
        "k": k, "l": l, "grain": ",".join(GRAIN), "measures": ",".join(OUTCOME_COLUMNS),
        "records_in_scope": in_scope, "records_kept": kept,
        "share_kept": (kept_in_scope / in_scope) if in_scope else None,
        "groups_kept": int(out.groupby(list(GRAIN)).ngroups) if kept else 0,
        **withheld}]).astype({"records_in_scope": "Int64", "share_kept": "Float64",
                              **{f"{c}_withheld_share": "Float64" for c in OUTCOME_COLUMNS}})


def k_and_l(rows: pd.DataFrame) -> tuple[int, int | None]:
    """k and l as anyone can recompute them from the file alone: the smallest group, and
    the fewest values other than "withheld" any outcome column shows in a group where it is
    not withheld altogether (None where every column is withheld in every group: nothing
    to learn, so nothing to diversify)."""
    if rows.empty:
        return 0, None
    key = list(GRAIN)
    k = int(rows.groupby(key).size().min())
    ls = []
    for col in OUTCOME_COLUMNS:
        released = rows[rows[col] != WITHHELD]
        if len(released):
            ls.append(int(released.groupby(key)[col].nunique().min()))
    return k, min(ls) if ls else None


def empty(k: int, l: int) -> PublicUseFile:
    """The file of a release with no pilot data: its columns, no rows."""
    rows = pd.DataFrame({c: pd.Series(dtype=str) for c in (*GRAIN, *OUTCOME_COLUMNS)})
    return PublicUseFile(rows, _summary_of(rows, None, 0, k, l))
