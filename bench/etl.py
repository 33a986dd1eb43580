"""ETL benchmark: full rebuild at 1M and 5M demo calls, and a nightly run on the 5M warehouse;
then 1M demo calls with the LAPD Calls for Service export beside them (the police baseline).

Targets (SPEC section 8): 5M full rebuild under 60 s on 2 cores with peak memory under 4 GB;
a day's new files on a 5M-record warehouse under 10 s. Each run happens in a fresh process so
its peak memory (ru_maxrss) is its own. Prints figures as it goes and one JSON object last.

    uv run python bench/etl.py [--sizes 1000000 5000000] [--out bench/out]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys, time
from pathlib import Path
from etl.pipeline import run
t = time.perf_counter()
r = run(Path(sys.argv[1]), db=Path(sys.argv[2]), warehouse_path=Path(sys.argv[3]),
        rebuild=sys.argv[4] == "rebuild", progress=False)
print(json.dumps({"seconds": round(time.perf_counter() - t, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "rows_in": r.rows_in, "mode": r.mode, "steps": r.seconds}))
"""


def ensure_demo(out: Path, calls: int, seed: int = 7, lapd: bool = True) -> Path:
    """Demo exports, written once per size; `lapd` adds the LAPD Calls for Service export
    (about 1.2 rows per demo call: every LAPD-answered call plus other call types)."""
    marker = out / f".complete-{calls}-{seed}-{'lapd' if lapd else 'nolapd'}-v2"
    if not marker.exists():
        for old in out.glob(".complete-*"):
            old.unlink()
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "etl.cli", "demo", "--out", str(out),
                        "--calls", str(calls), "--seed", str(seed)]
                       + ([] if lapd else ["--no-lapd"]), check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        marker.write_text("")
        print(f"demo {calls:,} calls written in {time.perf_counter() - t:.1f} s", flush=True)
    return out / "sources.toml"


def timed_run(config: Path, db: Path, wh: Path, rebuild: bool) -> dict:
    """`seconds`: the run itself, as `etl run` times it; `process_seconds`: the whole
    process, with Python's start and the imports (about 2 s) as a command-line run has."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(config), str(db), str(wh),
                           "rebuild" if rebuild else "incremental"],
                          check=True, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "process_seconds": round(wall, 2)}


def add_a_day(config: Path, rows: int = 5000) -> Path:
    """A new nightly dispatch file: one day's worth of calls, sorting after every other file."""
    import duckdb
    landing = config.parent / "landing" / "city_cad"
    last = sorted(landing.glob("city_cad_*.csv"))[-1]
    day = landing / "city_cad_9999-nightly.csv"
    con = duckdb.connect()
    con.execute(f"""copy (select * replace (INCIDENT_NO || 'N' as INCIDENT_NO)
                    from read_csv('{last}', all_varchar = true) limit {rows})
                    to '{day}' (header, delimiter ',')""")
    return day


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    ap.add_argument("--lapd-size", type=int, default=1_000_000,
                    help="demo calls for the run that adds the LAPD Calls for Service export")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args()
    figures: dict = {"cores": __import__("os").cpu_count()}
    # The SPEC's targets count the pilot's call records (providers and city dispatch); the
    # police baseline's LAPD export is measured on its own below.
    for n in args.sizes:
        folder = args.out / f"demo_{n}"
        config = ensure_demo(folder, n, lapd=False)
        for f in folder.glob("landing/city_cad/city_cad_9999-nightly.csv"):
            f.unlink()
        db, wh = folder / "public.duckdb", folder / "warehouse.duckdb"
        full = timed_run(config, db, wh, rebuild=True)
        print(f"full rebuild {n:,} calls: {full['seconds']} s ({full['process_seconds']} s with "
              f"start-up), peak {full['peak_rss_mb']} MB, steps {full['steps']}", flush=True)
        figures[f"full_{n}"] = full
        if n == max(args.sizes):
            day = add_a_day(config)
            nightly = timed_run(config, db, wh, rebuild=False)
            day.unlink()
            print(f"nightly run (+{nightly['rows_in']} rows) on {n:,}: {nightly['seconds']} s "
                  f"({nightly['process_seconds']} s with start-up), peak {nightly['peak_rss_mb']} MB, "
                  f"steps {nightly['steps']}", flush=True)
            figures[f"nightly_on_{n}"] = nightly
    if args.lapd_size:
        n = args.lapd_size
        folder = args.out / f"demo_{n}_lapd"
        config = ensure_demo(folder, n, lapd=True)
        db, wh = folder / "public.duckdb", folder / "warehouse.duckdb"
        full = timed_run(config, db, wh, rebuild=True)
        print(f"full rebuild {n:,} calls + LAPD export ({full['rows_in']:,} rows in all): "
              f"{full['seconds']} s, peak {full['peak_rss_mb']} MB, steps {full['steps']}",
              flush=True)
        figures[f"full_{n}_with_lapd"] = full
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
