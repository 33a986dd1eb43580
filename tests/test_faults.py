"""A run killed at any step: real `etl run` processes SIGKILLed at each named point (the
OUTCOMES_TEST_KILL_AT hook in etl.runlock), one after another on the same folder, then one
run left to finish. The live file never changes before the swap and is never missing or
broken after it, a killed run's litter is gone after the next run starts, every run is in
the log, and the finished run's tables equal those of the first release (nothing double
counted). Also: one writer at a time, and `etl status` during a run.

Cell protection is off here (OUTCOMES_MIN_CELL=1): these tests are about what a kill leaves
behind, and each of the nine runs then takes seconds instead of half a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from etl.demo import write_demo
from etl.runlock import KILL_AT, RunLock, read_holder
from etl.swap import check_public

REPO = Path(__file__).resolve().parents[1]
# in the order a run reaches them
POINTS = ["extract", "validate", "warehouse", "publish", "checked", "committed",
          "public swapped", "release linked"]
AFTER_SWAP = {"public swapped", "release linked"}
LITTER = ("*.tmp-*", "release.next-*", "release.old", "releases/*.tmp-*", "duckdb_tmp/*")


def etl(folder: Path, *args: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, OUTCOMES_MIN_CELL="1")
    env.pop(KILL_AT, None)
    if kill_at:
        env[KILL_AT] = kill_at
    return subprocess.run([sys.executable, "-m", "etl.cli", *args,
                           "--db", str(folder / "data" / "public.duckdb"),
                           "--warehouse", str(folder / "data" / "warehouse.duckdb")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def run_args(folder: Path, *extra: str) -> list[str]:
    return ["run", "--config", str(folder / "demo" / "sources.toml"), *extra]


def tables(db: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from catalog").fetchall()]
        return {t: con.execute(f'select * from "{t}" order by all').df() for t in names
                if t not in ("runs", "quarantine_summary", "catalog", "releases", "revisions")}


def litter(data: Path) -> list[str]:
    return sorted(str(p.relative_to(data)) for pattern in LITTER for p in data.glob(pattern))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("faults")
    write_demo(folder / "demo", calls=3_000, seed=3)
    first = etl(folder, *run_args(folder))
    assert first.returncode == 0, first.stderr[-2000:]
    return folder


def test_a_run_killed_at_each_step_leaves_the_service_whole(site: Path, monkeypatch) -> None:
    monkeypatch.setenv("OUTCOMES_MIN_CELL", "1")
    data = site / "data"
    live, release = data / "public.duckdb", data / "release"
    first_tables = tables(live)
    killed = []
    for point in POINTS:
        before = live.read_bytes()
        done = etl(site, *run_args(site, "--rebuild"), kill_at=point)
        assert done.returncode == -9, f"{point}: the run was not killed ({done.returncode}): {done.stderr[-1500:]}"
        holder = read_holder(data / "warehouse.duckdb.lock")
        assert holder is not None, f"{point}: the lock file does not name the killed run"
        killed.append((point, holder.run_id))
        if point in AFTER_SWAP:
            check_public(live)  # the new file, whole
        else:
            assert live.read_bytes() == before, f"killed at {point}: the live public file changed"
        assert release.is_dir() and (release / "catalog.json").exists(), \
            f"killed at {point}: no Parquet release in place"
        # what is left is this run's alone: the run before cleared its predecessor's
        stray = [p for p in litter(data) if holder.run_id not in p and not p.startswith("duckdb_tmp")]
        assert not stray, f"killed at {point}: litter of earlier runs {stray}"

    done = etl(site, *run_args(site))
    assert done.returncode == 0, done.stderr[-2000:]
    assert litter(data) == [], "the run after the kills left temporary files behind"
    assert os.readlink(release).startswith("releases/")
    assert len(list((data / "releases").iterdir())) <= 5
    assert json.loads((release / "catalog.json").read_text())
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        status = dict(con.execute("select run_id, status from runs").fetchall())
    for point, run_id in killed:
        want = "interrupted" if point in {"committed"} | AFTER_SWAP else "killed"
        assert status.get(run_id) == want, (point, run_id, status.get(run_id))
    assert list(status.values()).count("ok") == 2
    assert not any(s in ("running", "committed") for s in status.values()), status
    for name, frame in tables(live).items():
        pd.testing.assert_frame_equal(frame, first_tables[name], obj=name)
    with duckdb.connect(str(live), read_only=True) as con:
        public = dict(con.execute("select run_id, status from runs").fetchall())
    assert {public[r] for _, r in killed} <= {"killed", "interrupted"}


def test_one_writer_at_a_time_and_status_during_a_run(site: Path) -> None:
    data = site / "data"
    live = data / "public.duckdb"
    before = live.read_bytes()
    # a run in progress: its lock, and the warehouse open for writing as a run holds it
    with RunLock([data / "warehouse.duckdb", live], "abcdef123456"):
        con = duckdb.connect(str(data / "warehouse.duckdb"))
        try:
            second = etl(site, *run_args(site))
            assert second.returncode == 3, second.stderr[-1500:]
            line = second.stderr.strip().splitlines()[-1]
            assert f"another run (PID {os.getpid()}, started " in line and "nothing was changed" in line, line
            assert "Traceback" not in second.stderr
            st = etl(site, "status")
            assert st.returncode == 0, st.stderr[-1500:]
            assert f"a run is in progress: abcdef123456 (PID {os.getpid()}" in st.stdout, st.stdout
            assert "data through" in st.stdout
            assert "Traceback" not in st.stderr
        finally:
            con.close()
    assert live.read_bytes() == before
    assert read_holder(data / "warehouse.duckdb.lock") is None  # a finished holder clears it
