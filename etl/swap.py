"""Write the public release beside the live one, check it, then swap it into place.

The app keeps serving the old file until os.replace() puts the new one there in a single
step; a run killed at any point before that leaves the old file untouched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from etl.publish import puf
from etl.runlock import checkpoint
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
                    # checksums of the boundary files and of each release are public on purpose
                    if n and col not in ("boundary_sha256", "divisions_sha256", "content_sha256"):
                        problems.append(f"{name}.{col} holds values shaped like hashed ids")
        if "public_use_file" in names:
            # k and l as anyone can recompute them from the file alone
            rows = con.execute("select * from public_use_file").df()
            k, l = puf.k_and_l(rows)
            if len(rows) and (k < settings.puf_k() or (l is not None and l < settings.puf_l())):
                problems.append(f"public_use_file is {k}-anonymous and {l}-diverse, below "
                                f"OUTCOMES_PUF_K={settings.puf_k()} / OUTCOMES_PUF_L={settings.puf_l()}")
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
    JSON, written to `tmp` (renamed to its release folder once complete; `swap_release`
    then points data/release at it)."""
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


RELEASES_KEPT = 5


def release_folder(public_db: Path, run_id: str, when: datetime) -> Path:
    """Where a run's Parquet release is written: its own dated folder under releases/."""
    return public_db.parent / "releases" / f"{when:%Y%m%dT%H%M%SZ}-{run_id}"


def swap_release(built: Path, live: Path, keep: int = RELEASES_KEPT,
                 spare: set[str] | None = None) -> None:
    """Point `live` (data/release) at the finished release folder `built` in one step: a
    symbolic link made beside it and renamed over it, so a reader finds the old release or
    the new one, never none. The newest `keep` releases stay; older ones are removed, never
    one named in `spare` (the release the newest one's revisions compare against)."""
    live.parent.mkdir(parents=True, exist_ok=True)
    if live.exists() and not live.is_symlink():
        # a folder from before releases were kept apart: it becomes one of them (the one
        # moment with no release/, once)
        os.replace(live, built.parent / f"00000000T000000Z-{int(live.stat().st_mtime)}")
    link = live.with_name(f"{live.name}.next-{built.name}")
    link.unlink(missing_ok=True)
    link.symlink_to(os.path.relpath(built, live.parent))
    checkpoint("release linked")
    os.replace(link, live)
    current = live.resolve()
    folders = sorted(p for p in built.parent.iterdir() if p.is_dir() and ".tmp-" not in p.name)
    for old in folders[:-keep] if keep else []:
        if old.resolve() != current and old.name not in (spare or set()):
            shutil.rmtree(old, ignore_errors=True)
