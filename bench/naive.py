"""The project's `etl run` against the pipeline an analyst writes first, on the same file of
canonical calls, whole processes side by side in one invocation (issue: the full ETL in
half the naive pipeline's time). Prints one JSON object.

    uv run python bench/naive.py [--calls 1000000] [--repeat 2] [--out bench/out]

- The file: the demo's provider and city dispatch exports (`etl demo --calls N --no-lapd`)
  read through their own mappings by the project's extract step and written once as one
  canonical CSV (SPEC 3), so both pipelines read the same bytes.
- naive: pandas `read_csv`, `to_datetime` of the times, a geopandas `sjoin` of the points to
  the council districts, one `groupby` for counts and median minutes from dispatch to scene
  by month, district and responder type; written to Parquet.
- floor: DuckDB reading the file and counting by month (what no pipeline can beat by much).
- project: `etl run --rebuild` on a sources.toml naming that file as a canonical source,
  with the demo's pilot coverage: validation, quarantine, de-identification, districts,
  warehouse, every disclosure-controlled table, the record file, checks and the swap.

Each is a fresh process (`python -c`), timed from outside with its peak resident memory
(wait4's ru_maxrss); the ratio is project / naive, medians over --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NAIVE = r"""
import sys
import geopandas as gpd
import pandas as pd
csv, districts, out = sys.argv[1:4]
df = pd.read_csv(csv, dtype=str, keep_default_na=False)
for c in ("received_at", "dispatched_at", "on_scene_at"):
    df[c] = pd.to_datetime(df[c], errors="coerce", format="ISO8601")
df["latitude"] = pd.to_numeric(df["latitude"], errors="coerce")
df["longitude"] = pd.to_numeric(df["longitude"], errors="coerce")
pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["longitude"], df["latitude"]), crs=4326)
zones = gpd.read_file(districts)[["District", "geometry"]].to_crs(4326)
joined = gpd.sjoin(pts, zones, how="left", predicate="within")
joined["month"] = joined["received_at"].dt.strftime("%Y-%m")
joined["minutes"] = (joined["on_scene_at"] - joined["dispatched_at"]).dt.total_seconds() / 60
out_df = (joined.groupby(["month", "District", "responder_type"], dropna=False)
          .agg(calls=("incident_id", "size"), median_minutes=("minutes", "median")).reset_index())
out_df.to_parquet(out)
print(len(out_df))
"""

FLOOR = r"""
import sys, duckdb
print(duckdb.sql(f"select strftime(cast(received_at as timestamp), '%Y-%m') m, count(*) "
                 f"from read_csv('{sys.argv[1]}', all_varchar = true) group by all").fetchall()[:1])
"""


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def canonical_file(folder: Path, calls: int) -> tuple[Path, Path]:
    """The canonical CSV and a sources.toml naming it, written once per size."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_etl", ROOT / "bench" / "etl.py")
    bench_etl = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_etl)
    demo = bench_etl.ensure_demo(folder / "demo", calls, lapd=False)
    target = folder / "canonical"
    csv = target / "landing" / "all" / "calls.csv"
    config = target / "sources.toml"
    if csv.exists() and config.exists():
        return csv, config
    import duckdb

    from etl.extract import extract, list_files
    from etl.schema import CANONICAL_COLUMNS, TIME_COLUMNS
    from etl.sources import load_config
    t = time.perf_counter()
    cfg = load_config(demo)
    files = [(s, lf) for s, lf in list_files(cfg) if s.name != "lapd_calls_for_service"]
    con = duckdb.connect()
    extract(con, files)
    cols = ", ".join(
        f"strftime({c}, '%Y-%m-%dT%H:%M:%S') as {c}" if c in TIME_COLUMNS else
        f"cast({c} as varchar) as {c}" for c in CANONICAL_COLUMNS)
    csv.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"copy (select {cols} from extracted) to '{csv}' (header, delimiter ',')")
    con.close()
    text = demo.read_text()
    head = text[:text.index("[[source]]")]
    shutil.copy(demo.parent / "hmac.key", target / "hmac.key")
    config.write_text(head + '[[source]]\nname = "all"\nformat = "canonical"\n'
                      'path = "landing/all/*.csv"\n')
    log(f"canonical file {csv} ({csv.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")
    return csv, config


def timed(cmd: list[str], env: dict | None = None) -> dict:
    """A whole process: wall seconds and peak resident memory."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode(errors="replace")
    proc.stdout.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd[:4]} failed: {err[-1500:]}")
    return {"seconds": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args()
    from outcomes import settings
    folder = args.out / f"naive_{args.calls}"
    csv, config = canonical_file(folder, args.calls)
    districts = settings.boundaries_path()
    py = sys.executable
    runs: dict[str, list[dict]] = {"naive": [], "floor": [], "project": []}
    for i in range(args.repeat):
        runs["floor"].append(timed([py, "-c", FLOOR, str(csv)]))
        runs["naive"].append(timed([py, "-c", NAIVE, str(csv), str(districts),
                                    str(folder / "naive.parquet")]))
        runs["project"].append(timed(
            [py, "-m", "etl.cli", "run", "--config", str(config), "--db", str(folder / "public.duckdb"),
             "--warehouse", str(folder / "warehouse.duckdb"), "--rebuild"]))
        log(f"run {i + 1}: " + ", ".join(f"{k} {v[-1]['seconds']} s" for k, v in runs.items()))
    med = {k: {"seconds": statistics.median(r["seconds"] for r in v),
               "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in v), "runs": v}
           for k, v in runs.items()}
    print(json.dumps({
        "calls": args.calls, "csv_mb": round(csv.stat().st_size / 1e6), "cores": os.cpu_count(),
        **med,
        "ratio_to_naive": round(med["project"]["seconds"] / med["naive"]["seconds"], 2),
        "ratio_to_floor": round(med["project"]["seconds"] / med["floor"]["seconds"], 2),
        "memory_ratio_to_naive": round(med["project"]["peak_rss_mb"] / med["naive"]["peak_rss_mb"], 2),
    }, indent=1))


if __name__ == "__main__":
    main()
