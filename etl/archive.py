"""The release archive: every successful run keeps its release (the Parquet tables,
catalog.json and a MANIFEST.json of checksums) under a dated, immutable folder name,
releases/<time>-<run>/. The public file lists them in `releases`, and `revisions` says which
headline figures moved since the release before (late records, corrections, re-classified
call types), so a figure quoted "as published on DATE" can be found again and its later
value seen beside it.

A revision is a change in a figure as the dashboard writes it (a rate to 0.1 percentage
point, a median to 0.1 minute), or a figure that became hidden or shown. Its denominator's
change is a difference of two published counts; one from 1 to the minimum cell minus one
is marked hidden, like any small count.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from outcomes import settings

# Changes when what a published figure means, or how it is protected, changes.
METHOD_VERSION = "2026-12-03"
# tables that describe the run, not the data: left out of the content checksum
RUN_TABLES = ("runs", "quarantine_summary", "releases", "revisions")
KEYS = ["period_type", "period", "district", "call_type_group"]


@dataclass(frozen=True)
class Headline:
    table: str
    measure: str
    denominator: str
    decimals: int          # as the dashboard writes it: in percent for a share
    scale: float = 1.0
    where: tuple[tuple[str, str], ...] = ()


HEADLINES = (
    Headline("coverage", "coverage_rate", "eligible_calls", 1, 100.0),
    Headline("workload_share", "workload_share", "handled_calls", 1, 100.0),
    Headline("response_times", "median_minutes", "valid_intervals", 1, 1.0,
             (("responder_type", "civilian_team"), ("interval", "dispatch_to_scene"))),
)

RELEASE_COLUMNS = ["release", "run_id", "released_at", "data_through", "code_table_version",
                   "method_version", "content_sha256", "files_kept"]
REVISION_COLUMNS = ["release", "previous_release", "table_name", "measure", *KEYS,
                    "previous_value", "value", "previous_denominator", "denominator",
                    "denominator_change", "denominator_change_flag", "revision"]


def content_checksum(tables: dict[str, pd.DataFrame]) -> str:
    """One SHA-256 over every data table's rows (sorted, as CSV), run tables left out: two
    releases of the same data have the same checksum."""
    h = hashlib.sha256()
    for name in sorted(t for t in tables if t not in RUN_TABLES):
        df = tables[name]
        body = df.sort_values(list(df.columns)).to_csv(index=False) if len(df.columns) else ""
        h.update(f"{name}\n".encode())
        h.update(hashlib.sha256(body.encode()).hexdigest().encode())
    return h.hexdigest()


def write_manifest(folder: Path, row: dict) -> None:
    """MANIFEST.json in a finished release folder: the release's row and the SHA-256 of
    every file in it."""
    files = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != "MANIFEST.json":
            files[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
    (folder / "MANIFEST.json").write_text(json.dumps({**row, "files": files}, indent=2, default=str))


def _read_live(public_db: Path, sql: str) -> pd.DataFrame | None:
    if not public_db.exists():
        return None
    try:
        con = duckdb.connect(str(public_db), read_only=True)
    except duckdb.Error:
        return None  # an unreadable live file: no history to compare against
    try:
        return con.execute(sql).df()
    except duckdb.Error:
        return None  # a file from before this table was published
    finally:
        con.close()


def releases_table(public_db: Path, row: dict, keep: int) -> pd.DataFrame:
    """The releases before this one (from the live public file) and this one, each saying
    whether its files are kept once this run has pruned the archive: the newest `keep`, and
    always the one before this (its revisions compare against it; see etl.swap)."""
    past = _read_live(public_db, "select * from releases")
    this = pd.DataFrame([{**row, "files_kept": True}])
    if past is None or not len(past):
        return this[RELEASE_COLUMNS]
    folder = public_db.parent / "releases"
    past = past[past["release"] != row["release"]].sort_values("release")
    on_disk = sorted(p.name for p in folder.iterdir() if p.is_dir() and ".tmp-" not in p.name) \
        if folder.is_dir() else []
    stays = set((on_disk + [row["release"]])[-keep:]) | set(past["release"].iloc[-1:])
    past["files_kept"] = [r in stays and (folder / r).is_dir() for r in past["release"]]
    # an older public file may lack a column added since: it reads empty there
    return pd.concat([past.reindex(columns=RELEASE_COLUMNS), this[RELEASE_COLUMNS]],
                     ignore_index=True)


def _figures(frame: pd.DataFrame, h: Headline) -> pd.DataFrame:
    df = frame
    for col, value in h.where:
        df = df[df[col] == value]
    return df[KEYS + [h.measure, h.denominator]].rename(
        columns={h.measure: "value", h.denominator: "denominator"})


def _complete_periods(periods: pd.DataFrame | None, data_through: str) -> set[tuple[str, str]]:
    """(period type, period) whose months had all ended by `data_through` (YYYY-MM-DD)."""
    if periods is None or not len(periods) or len(data_through) < 10:
        return set()
    through = pd.Timestamp(data_through)
    if (through + pd.Timedelta(days=1)).day == 1:  # the data ended on a month's last day
        last_full = through.strftime("%Y-%m")
    else:  # a month not over: the one before it is the last whole one
        last_full = (through.replace(day=1) - pd.Timedelta(days=1)).strftime("%Y-%m")
    done = set()
    for ptype, period in zip(periods["period_type"], periods["period"]):
        end = _calendar_end(ptype, period)
        if end is not None and end <= last_full:
            done.add((ptype, period))
    return done


def _calendar_end(period_type: str, period: str) -> str | None:
    """The last month of a period by the calendar (not by the data it holds so far); None
    for pilot to date, which never ends."""
    if period_type == "month":
        return period
    if period_type == "quarter":  # 2026-Q2
        return f"{period[:4]}-{int(period[-1]) * 3:02d}"
    if period_type == "year":
        return f"{period}-12"
    if period_type == "fiscal_year":  # FY2025-26: July 2025 to June 2026
        return f"{int(period[2:6]) + 1}-06"
    return None


def _empty() -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(dtype="string") for c in REVISION_COLUMNS})
    for c in ("previous_value", "value"):
        df[c] = df[c].astype(float)
    for c in ("previous_denominator", "denominator", "denominator_change"):
        df[c] = df[c].astype("Int64")
    return df


def revisions_table(public_db: Path, tables: dict[str, pd.DataFrame], release: str) -> pd.DataFrame:
    """The headline figures that changed since the live release, for the periods and places
    both releases publish whose months were all over when the older release's data ended:
    a month it did not have is new data, and a quarter, year or pilot to date still running
    then grows with each month (the README's example: March's coverage revised by late
    records)."""
    previous = _read_live(public_db, "select release, data_through from releases "
                                     "order by released_at desc limit 1")
    prev_id = previous["release"].iloc[0] if previous is not None and len(previous) else None
    if prev_id is None:
        return _empty()
    done = _complete_periods(tables.get("periods"), str(previous["data_through"].iloc[0]))
    min_cell = settings.min_cell()
    frames = []
    for h in HEADLINES:
        old = _read_live(public_db, f'select * from "{h.table}"')
        need = set(KEYS) | {h.measure, h.denominator} | {c for c, _ in h.where}
        if old is None or h.table not in tables or not need <= set(old.columns):
            continue  # the live file has no such figure (one from before it was published)
        both = _figures(old, h).merge(_figures(tables[h.table], h), on=KEYS,
                                      suffixes=("_previous", ""))
        # an array, not a list: an empty list would select no columns rather than no rows
        both = both.loc[np.array([(t, p) in done for t, p in zip(both["period_type"],
                                                                   both["period"])], dtype=bool)]
        was = both["value_previous"].notna().to_numpy()
        now = both["value"].notna().to_numpy()
        drawn = lambda x: np.round(pd.to_numeric(x, errors="coerce").to_numpy(float) * h.scale,  # noqa: E731
                                   h.decimals)
        moved = was & now & (drawn(both["value_previous"]) != drawn(both["value"]))
        kind = np.select([moved, was & ~now, ~was & now], ["revised", "now_hidden", "now_shown"], "")
        out = both[kind != ""].copy()
        out["revision"] = kind[kind != ""]
        d_old = pd.to_numeric(out["denominator_previous"], errors="coerce")
        d_new = pd.to_numeric(out["denominator"], errors="coerce")
        change = d_new - d_old
        small = change.abs().between(1, min_cell - 1)
        out["denominator_change"] = change.mask(small).astype("Int64")
        # a hidden change is not to be had from the two denominators beside it either
        out.loc[small.to_numpy(), ["denominator_previous", "denominator"]] = np.nan
        out["denominator_change_flag"] = np.where(small, "hidden",
                                                  np.where(change.isna(), "not_published", ""))
        frames.append(out.assign(release=release, previous_release=prev_id, table_name=h.table,
                                 measure=h.measure, previous_value=out["value_previous"],
                                 previous_denominator=out["denominator_previous"]))
    if not frames:
        return _empty()
    df = pd.concat(frames, ignore_index=True)[REVISION_COLUMNS]
    for c in ("previous_denominator", "denominator"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int64")
    for c in ("previous_value", "value"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df.reset_index(drop=True)
