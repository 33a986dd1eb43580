"""Why the program exists, from real records: people shot by on-duty officers in Los
Angeles County, 2010-2014, as KPCC coded them from the District Attorney's letters (the
file and its provenance: ../shared/data/use_of_force/, PROVENANCE.md).

Published only as counts by year of incident and for the five years together: people shot,
killed, armed, showing signs of mental illness. No row, name, letter number or letter link
reaches the public file. Counts from 1 to the minimum cell minus one are hidden, and with
them as many other years as it takes that no hidden year can be narrowed to fewer than 5
values from the five-year total (a hidden count is at least 1).

The file covers every agency in the county (LAPD, the Sheriff and others) and has no agency
column: it cannot say which shootings were LAPD's, nor anything after 2014.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from etl.publish.protect import MIN_RANGE
from etl.publish.simple import hide_under_one_total
from outcomes import settings

log = logging.getLogger(__name__)

FILE = "use_of_force/kpcc_la_county_officer_involved_shootings_2010_2014.csv"
# the columns read (every other column, names and links among them, is never read)
COLUMNS = {"id": "varchar", "date_of_incident": "varchar", "person_killed": "varchar",
           "person_armed": "varchar", "person_signs_of_mental_illness": "varchar"}
MEASURES = {"people_shot": None, "killed": "person_killed", "armed": "person_armed",
            "signs_of_mental_illness": "person_signs_of_mental_illness"}
ALL_YEARS = "2010-2014"
COLUMNS_OUT = ["period", "measure", "people", "people_flag"]


class ShootingsFileError(ValueError):
    pass


def default_path() -> Path | None:
    raw = settings.SETTINGS["OUTCOMES_SHOOTINGS"].raw()
    path = Path(raw) if raw else settings.shared_data() / FILE
    return path if path.is_file() else None


def read(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows with a year and true/false flags, and the rows set aside with a reason."""
    con = duckdb.connect()
    try:
        try:
            df = con.execute("select * from read_csv($p, header = true, all_varchar = true)",
                             {"p": str(path)}).df()
        except duckdb.Error as exc:
            raise ShootingsFileError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    finally:
        con.close()
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ShootingsFileError(f"{path}: columns {missing} missing; expected KPCC's "
                                 "officer-involved shootings file (see PROVENANCE.md)")
    df = df[list(COLUMNS)].copy()
    year = df["date_of_incident"].str.extract(r"^(\d{4})-\d{2}-\d{2}")[0]
    reasons = pd.Series("", index=df.index)
    reasons[year.isna()] = "date_of_incident is not a date"
    for col in ("person_killed", "person_armed", "person_signs_of_mental_illness"):
        v = df[col].str.strip().str.lower()
        bad = ~v.isin(["true", "false"])
        reasons[bad & (reasons == "")] = f"{col} is not true or false"
        df[col] = v == "true"
    df["year"] = year
    kept = df[reasons == ""]
    held = pd.DataFrame({"row_number": np.flatnonzero((reasons != "").to_numpy()) + 2,
                         "reason": reasons[reasons != ""].to_numpy()})
    return kept, held


def _protect(counts: dict[str, int], total: int, min_cell: int) -> set[str]:
    """The years of one measure to hide: the five years add up to the shown total, the one
    equation calls by hour also have (etl.publish.simple.hide_under_one_total); where even
    all of them hidden is not enough, the total too."""
    if 1 <= total < min_cell:
        return set(counts) | {ALL_YEARS}
    years = list(counts)
    hide, _, enough = hide_under_one_total(np.array([counts[y] for y in years], np.int64),
                                           min_cell, MIN_RANGE)
    hidden = {y for y, h in zip(years, hide) if h}
    return hidden | ({ALL_YEARS} if hidden and not enough else set())


def table(kept: pd.DataFrame) -> pd.DataFrame:
    """People by year of incident and for the five years, per measure, protected."""
    min_cell = settings.min_cell()
    years = [str(y) for y in range(2010, 2015)]
    rows = []
    for measure, col in MEASURES.items():
        sel = kept if col is None else kept[kept[col]]
        counts = {y: int((sel["year"] == y).sum()) for y in years}
        total = int(sum(counts.values()))
        hide = _protect(counts, total, min_cell) if min_cell > 1 else set()
        for period, n in [*counts.items(), (ALL_YEARS, total)]:
            rows.append((period, measure, None if period in hide else n,
                         "hidden" if period in hide else ""))
    df = pd.DataFrame(rows, columns=COLUMNS_OUT)
    df["people"] = df["people"].astype("Int64")
    return df


def empty() -> pd.DataFrame:
    return pd.DataFrame({"period": pd.Series(dtype="string"), "measure": pd.Series(dtype="string"),
                         "people": pd.Series(dtype="Int64"), "people_flag": pd.Series(dtype="string")})


def published() -> pd.DataFrame:
    """The table from the configured file, or an empty one where there is none."""
    path = default_path()
    if path is None:
        log.info("officer-involved shootings: no file (OUTCOMES_SHOOTINGS); the table is empty")
        return empty()
    kept, held = read(path)
    if len(held):
        log.warning("officer-involved shootings: %d rows set aside (%s)", len(held),
                    "; ".join(f"row {r.row_number}: {r.reason}" for r in held.head(5).itertuples()))
    return table(kept)
