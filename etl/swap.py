"""Write the public release beside the live one, check it, then swap it into place.

The app keeps serving the old file until os.replace() puts the new one there in a single
step; a run killed at any point before that leaves the old file untouched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd

from outcomes import catalog as cat
from outcomes import settings

FORBIDDEN_COLUMNS = {"incident_id", "incident_key", "person_key", "latitude", "longitude",
                     "received_at", "received_hour", "_file", "_row"}
HEX_ID = re.compile(r"^[0-9a-f]{64}$")


class ReleaseCheckError(RuntimeError):
    """The new public file failed a check; it was not published."""


def write_public(tables: dict[str, pd.DataFrame], path: Path) -> None:
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    try:
        for name, df in tables.items():
            con.register("frame", df)
            con.execute(f'create table "{name}" as select * from frame')
            con.unregister("frame")
        con.execute("checkpoint")
    finally:
        con.close()


def check_public(path: Path) -> None:
    """Checks a public file must pass before it replaces the live one."""
    min_cell = settings.min_cell()
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        listed = {r[0] for r in con.execute("select table_name from catalog").fetchall()}
        problems = []
        if names - listed:
            problems.append(f"tables missing from the catalog: {sorted(names - listed)}")
        if listed - names:
            problems.append(f"catalog lists absent tables: {sorted(listed - names)}")
        for name in sorted(names):
            cols = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_name = $t", {"t": name}).fetchall()
            bad = FORBIDDEN_COLUMNS & {c for c, _ in cols}
            if bad:
                problems.append(f"{name} has identifying columns {sorted(bad)}")
            for col, dtype in cols:
                if col in cat.TEXT_DIMENSIONS and dtype != "VARCHAR":
                    problems.append(f"{name}.{col} should be text, is {dtype}")
                if f"{col}_flag" in {c for c, _ in cols}:
                    n = con.execute(
                        f'select count(*) from "{name}" where "{col}" between 1 and $m',
                        {"m": min_cell - 1}).fetchall()[0][0]
                    if n:
                        problems.append(f"{name}.{col} publishes {n} counts between 1 and {min_cell - 1}")
                if dtype == "VARCHAR" and name not in ("districts",):
                    n = con.execute(
                        f'select count(*) from "{name}" where regexp_matches("{col}", \'^[0-9a-f]{{64}}$\')'
                    ).fetchall()[0][0]
                    # checksums of the boundary files are public on purpose
                    if n and col not in ("boundary_sha256", "divisions_sha256"):
                        problems.append(f"{name}.{col} holds values shaped like hashed ids")
        if problems:
            raise ReleaseCheckError("the new public file failed its checks, so the previous one "
                                    "stays in place: " + "; ".join(problems))
    finally:
        con.close()


def swap_into_place(tmp: Path, live: Path) -> None:
    live.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, live)


def build_parquet_release(tables: dict[str, pd.DataFrame], tmp: Path) -> None:
    """The same release as Parquet (partitioned by period_type where there is one) + catalog
    JSON, written to `tmp`; `swap_release` puts it in place."""
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    con = duckdb.connect()
    try:
        for name, df in tables.items():
            con.register("frame", df)
            target = tmp / name
            if "period_type" in df.columns and len(df):
                con.execute(f"copy frame to '{target}' (format parquet, partition_by (period_type))")
            else:
                target.mkdir()
                con.execute(f"copy frame to '{target / 'data.parquet'}' (format parquet)")
            con.unregister("frame")
    finally:
        con.close()
    (tmp / "catalog.json").write_text(json.dumps(
        tables["catalog"].to_dict(orient="records"), indent=2, default=str))


def swap_release(tmp: Path, live_dir: Path) -> None:
    """Replace the Parquet release folder: two renames, the old one removed after."""
    old = live_dir.with_name(live_dir.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if live_dir.exists():
        os.replace(live_dir, old)
    os.replace(tmp, live_dir)
    if old.exists():
        shutil.rmtree(old)
