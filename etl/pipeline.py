"""run(config) -> RunReport: extract, validate, de-identify, place, warehouse, publish, swap.

The warehouse is changed inside one transaction that commits only after the new public file
has been written and checked; any failure rolls it back and leaves the live public file as
it was. The run is logged in the warehouse either way.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd
from tqdm import tqdm

from etl import monthly
from etl import warehouse as wh
from etl.crosswalk import load_divisions
from etl.deidentify import (INCIDENT_ID, deidentify, hmac_params, hmac_sql, key_fingerprint,
                            resolve_key)
from etl.districts import Boundaries, assign, assign_division, load_boundaries
from etl.divisions import OUTSIDE
from etl.extract import extract, list_files
from etl.guards import LoadedFile, check_files, check_sources, check_universe
from etl import archive
from etl.publish import build_release
from etl.publish.simple import quarantine_counts, run_counts
from etl.sources import load_config
from etl.runlock import RunLock, checkpoint, remove_litter
from etl.swap import (build_parquet_release, check_public, release_folder, swap_into_place,
                      swap_release, write_public)
from etl.validate import validate
from outcomes import catalog as cat
from outcomes import settings

log = logging.getLogger(__name__)

STEPS = ("extract+validate", "de-identify+districts", "warehouse", "publish", "check+swap")


class RunFailed(RuntimeError):
    """The run stopped; the previous public file is still the live one."""

    def __init__(self, message: str, category: str = "run failed"):
        super().__init__(message)
        self.category = category


def failure_category(exc: BaseException) -> str:
    """What the public run log may say about a failure: never the text, which can quote data."""
    from etl.districts import BoundaryError
    from etl.extract import FileProblem, SchemaDriftError
    from etl.guards import Refused
    if isinstance(exc, RunFailed):
        return exc.category
    if isinstance(exc, SchemaDriftError):
        return "input columns did not match their mapping"
    if isinstance(exc, FileProblem):
        return "a landing file could not be read"
    if isinstance(exc, Refused):
        return "input shrank; refused"
    if isinstance(exc, BoundaryError):
        return "council district boundaries missing or invalid"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return "internal error"


@dataclass
class RunReport:
    run_id: str
    status: str = "running"
    mode: str = "incremental"
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    finished_at: datetime | None = None
    files_read: int = 0
    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    incidents: int = 0
    data_through: date | None = None
    message: str = ""  # private: may quote input; kept in the warehouse and shown by status
    failure: str = ""  # public: a category only
    seconds: dict[str, float] = field(default_factory=dict)
    public_db: str = ""

    def as_dict(self) -> dict:
        d = asdict(self)
        for k in ("started_at", "finished_at", "data_through"):
            d[k] = d[k].isoformat() if d[k] else None
        return d


def connect_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'America/Los_Angeles'")
    con.execute("set memory_limit = '3GB'")
    con.execute(f"set temp_directory = '{path.parent / 'duckdb_tmp'}'")
    con.execute("set preserve_insertion_order = true")
    con.execute("set enable_progress_bar = false")
    return con


@contextmanager
def _step(report: RunReport, name: str, bar: tqdm | None):
    t0 = time.perf_counter()
    if bar is not None:
        bar.set_description(name)
    yield
    report.seconds[name] = round(time.perf_counter() - t0, 3)
    log.info("%s: %.2f s", name, report.seconds[name])
    if bar is not None:
        bar.update(1)


def place(con: duckdb.DuckDBPyConnection, b: Boundaries, divisions=None) -> None:
    """Council district by point in polygon, and the LAPD division of a record that gives
    a point but no division (pilot coverage is by division); then the coordinates are
    dropped. A record whose division and point disagree keeps the division it gives, and is
    counted in the log."""
    pts = con.execute("""select distinct longitude, latitude from deidentified
                         where longitude is not null order by 1, 2""").df()
    lon, lat = pts["longitude"].to_numpy(), pts["latitude"].to_numpy()
    pts["district"] = assign(b, lon, lat)
    pts["point_division"] = pd.Series(
        assign_division(divisions, lon, lat) if divisions is not None else None,
        index=pts.index, dtype=object)
    con.register("point_districts", pts)
    counts = con.execute(f"""
        select d._source,
               count(*) filter (where d.lapd_division is null and p.point_division is not null),
               count(*) filter (where d.lapd_division is not null and d.lapd_division <> '{OUTSIDE}'
                                and p.point_division is not null
                                and p.point_division <> d.lapd_division)
        from deidentified d join point_districts p
          on p.longitude = d.longitude and p.latitude = d.latitude
        group by 1 order by 1""").fetchall()
    placed = sum(c[1] for c in counts)
    disagree = [(src, n) for src, _, n in counts if n]
    if placed:
        log.info("%d records with a point but no division were placed in the division "
                 "their point lies in", placed)
    if disagree:
        log.warning("%d records give an LAPD division their point lies outside of (by source: "
                    "%s); the division given is kept", sum(n for _, n in disagree),
                    ", ".join(f"{s} {n}" for s, n in disagree))
    con.execute("""
        create or replace temp table staged as
        select d.* exclude (latitude, longitude, lapd_division),
               coalesce(d.lapd_division, p.point_division) as lapd_division,
               p.district,
               case when d.longitude is null then 'unknown'
                    when p.district is null then 'outside_city'
                    else 'in_city' end as location_status
        from deidentified d
        left join point_districts p
          on p.longitude = d.longitude and p.latitude = d.latitude
    """)
    con.unregister("point_districts")
    con.execute("drop view deidentified")


QUARANTINE_SQL = """
    select $run_id as run_id, _source as source, _file as file, _row as line,
           reason, split_part(reason, '; ', 1) as first_reason, problems,
           -- ids are hashed here too; the landing file and row locate the raw record
           {incident_hmac} as incident_key
    from quarantined
"""


def run(config_path: Path, db: Path | None = None, warehouse_path: Path | None = None,
        rebuild: bool = False, now: datetime | None = None, progress: bool | None = None,
        accept_shrink: bool = False) -> RunReport:
    db = Path(db) if db else settings.public_db()
    warehouse_path = Path(warehouse_path) if warehouse_path else settings.warehouse_db()
    report = RunReport(run_id=uuid.uuid4().hex[:12], public_db=str(db))
    now = now or datetime.now(timezone.utc)
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=len(STEPS), disable=not show, leave=False, file=sys.stderr)

    config = load_config(config_path)  # configuration errors need no run log
    key = resolve_key(config.hmac_key_file)
    # one writer: a second run stops here, having changed nothing (RunLocked)
    with RunLock([warehouse_path, db], report.run_id) as lock:
        removed = remove_litter(db)
        if removed:
            log.info("removed %d temporary file(s) left by runs that did not finish, e.g. %s",
                     len(removed), removed[0].name)
        con = connect_warehouse(warehouse_path)
        wh.ensure_schema(con)
        _record_unfinished(con, lock, report.run_id)
        return _run_locked(con, config, key, db, report, rebuild, now, bar, accept_shrink)


def _record_unfinished(con: duckdb.DuckDBPyConnection, lock: RunLock, run_id: str) -> None:
    """Runs the log does not show as ended: killed before their warehouse commit (nothing
    of theirs was kept), or after it, before their release was swapped in (this run
    publishes their data: every run publishes the whole warehouse)."""
    logged = dict(con.execute("select run_id, status from runs").fetchall())
    for h in lock.unfinished:
        if h.run_id not in logged:
            con.execute("""insert into runs by name select $id as run_id, $s::timestamptz as started_at,
                           'killed' as status, $m as message, $f as failure""",
                        {"id": h.run_id, "s": h.started_at, "f": "stopped before it finished",
                         "m": f"stopped before it finished (PID {h.pid}); nothing of it was "
                              f"kept, the public file stayed as it was"})
            log.warning("run %s (PID %d, started %s) stopped before it finished; recorded",
                        h.run_id, h.pid, h.started_at)
    for (rid,) in con.execute("select run_id from runs where status = 'committed'").fetchall():
        con.execute("""update runs set status = 'interrupted', failure = $f, message = $m
                       where run_id = $id""",
                    {"id": rid, "f": "stopped after its warehouse commit",
                     "m": f"stopped after its warehouse commit, before its release was swapped "
                          f"in; run {run_id} publishes its data"})
        log.warning("run %s stopped after its warehouse commit; this run publishes its data", rid)


def config_fingerprint(config) -> str:
    """What decides how a landing file's rows are read: each source's mapping and path, the
    earliest date accepted, and the code table. A change reloads every file."""
    import hashlib

    from etl.call_types import CODE_TABLE
    blob = repr([(s.name, s.pattern, s.mapping) for s in config.sources]) + \
        repr(config.earliest_date) + CODE_TABLE.read_text()
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _run_locked(con, config, key, db: Path, report: RunReport, rebuild: bool, now: datetime,
                bar, accept_shrink: bool = False) -> RunReport:
    accepted: list[str] = []  # guards passed on purpose (--accept-shrink), for the run log
    try:
        boundaries = load_boundaries()
        divisions = load_divisions()  # fails closed, like missing council districts
        fp = key_fingerprint(key)
        known_fp = wh.get_meta(con, "key_fingerprint")
        if known_fp and known_fp != fp and wh.has_calls(con) and not rebuild:
            raise RunFailed("OUTCOMES_HMAC_KEY differs from the key this warehouse was built "
                            "with, so ids would not match: restore the key, or rebuild "
                            "everything with 'uv run etl run --rebuild'", category="key changed")
        files = list_files(config)
        before = [LoadedFile(*r) for r in con.execute(
            "select source, path, bytes, mtime_ns, rows from loaded_files").fetchall()]
        by_source: dict[str, list[str]] = {}
        for s, lf in files:
            by_source.setdefault(s.name, []).append(lf.path)
        check_sources(config, by_source, before, accept_shrink, accepted)
        if not files:
            raise RunFailed("no landing files match any source's path in "
                            f"{config.path}; check the [[source]] path patterns",
                            category="no landing files")
        loaded = {lf.path: (lf.bytes, lf.mtime_ns) for lf in before}
        current = {lf.path: (lf.bytes, lf.mtime_ns) for _, lf in files}
        changed = [p for p, fp_ in loaded.items() if current.get(p) != fp_]
        cfp = config_fingerprint(config)
        known_cfp = wh.get_meta(con, "config_fingerprint")
        config_changed = bool(known_cfp) and known_cfp != cfp
        if rebuild or not wh.has_calls(con) or changed or config_changed:
            report.mode = "full"
            if config_changed and not rebuild:
                log.info("a mapping, the code table or [run] earliest_date changed since the "
                         "last run: reloading every landing file")
            elif changed and not rebuild:
                log.info("%d loaded file(s) changed or vanished (e.g. %s): rebuilding",
                         len(changed), changed[0])
            new_files = files
        else:
            new_files = [(s, lf) for s, lf in files if lf.path not in loaded]
        report.files_read = len(new_files)

        con.execute("begin transaction")
        with _step(report, "extract+validate", bar):
            reads = extract(con, new_files)
            checkpoint("extract")
            check_files(reads, before, config.min_reexport_share, accept_shrink, accepted)
            kept, bad = validate(con, now, earliest=config.earliest_date)
            checkpoint("validate")
            report.rows_in, report.rows_out, report.rows_quarantined = kept + bad, kept, bad
            con.execute("""insert into run_sources select $r, _source, count(*),
                           count(*) filter (where bad)
                           from (select _source, false as bad from validated
                                 union all select _source, true from quarantined)
                           group by _source order by _source""",
                        {"r": report.run_id})
        share_limit = config.quarantine_limit()
        if report.rows_in and bad / report.rows_in > share_limit:
            top = con.execute("""select p.reason, count(*) from (
                select unnest(problems) as p from quarantined)
                group by 1 order by 2 desc, 1 limit 3""").fetchall()
            raise RunFailed(
                f"{bad} of {report.rows_in} rows ({bad / report.rows_in:.1%}) failed validation, "
                f"more than the {share_limit:.0%} allowed. "
                f"Most common reasons: " + "; ".join(f"{r} ({n})" for r, n in top)
                + ". Fix the export or its mapping and run again ('uv run etl quarantine "
                  "--failed' lists the rows, with file and line).",
                category="too many rows failed validation")
        with _step(report, "de-identify+districts", bar):
            deidentify(con, key)  # a view: hashed while the district step writes the rows
            place(con, boundaries, divisions)
        with _step(report, "warehouse", bar):
            # what the publish step must re-read: every month, or those this run touches
            months_changed = None if report.mode == "full" else monthly.months_touched(con)
            if report.mode == "full":
                wh.clear(con)
            wh.add_quarantine(con, QUARANTINE_SQL.format(incident_hmac=hmac_sql(INCIDENT_ID)),
                              {"run_id": report.run_id, **hmac_params(key)})
            report.incidents = wh.merge_staged(con)
            # the rows set aside stay readable (a later failure keeps them) without the
            # typed copy of every row
            con.execute("create or replace temp table quarantined_rows as select * from quarantined")
            con.execute("create or replace temp view quarantined as select * from quarantined_rows")
            con.execute("drop table if exists checked")
            con.execute("drop table staged")
            counts = pd.DataFrame(
                [(s.name, lf.path, lf.bytes, lf.mtime_ns, fr.rows, report.run_id)
                 for (s, lf), fr in zip(new_files, reads)],
                columns=["source", "path", "bytes", "mtime_ns", "rows", "run_id"])
            con.register("new_files", counts)
            con.execute("insert into loaded_files select source, path, bytes, mtime_ns, "
                        "rows, run_id from new_files")
            con.unregister("new_files")
            wh.set_meta(con, "key_fingerprint", fp)
            wh.set_meta(con, "config_fingerprint", cfp)
            checkpoint("warehouse")
        with _step(report, "publish", bar):
            release = build_release(con, config, boundaries, divisions, months_changed)
            universe = con.execute("select count(*) from universe").fetchone()[0]
            previous = wh.get_meta(con, "universe_calls")
            check_universe(int(previous) if previous else None, universe,
                           con.execute("select count(*) from calls").fetchone()[0],
                           config.max_universe_drop, accept_shrink, accepted)
            wh.set_meta(con, "universe_calls", str(universe))
            report.data_through = release.data_through
            report.message = ("accepted with --accept-shrink: " + " | ".join(accepted)
                              if accepted else "")
            report.status = "ok"
            report.finished_at = datetime.now(timezone.utc)
            tables = release.tables
            tables["runs"] = runs_table(con, report)
            tables["quarantine_summary"] = quarantine_summary(con)
            tables["catalog"] = pd.DataFrame(cat.rows(boundaries.plan))
            # the archive: this release's row beside the earlier ones, and what it revised
            release_name = release_folder(db, report.run_id, report.started_at).name
            codes = tables["call_types"]
            release_row = {
                "release": release_name, "run_id": report.run_id,
                "released_at": report.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "data_through": str(report.data_through or ""),
                "code_table_version": str(codes["code_table_version"].iloc[0]) if len(codes) else "",
                "method_version": archive.METHOD_VERSION,
                "content_sha256": archive.content_checksum(tables)}
            tables["releases"] = archive.releases_table(db, release_row, settings.releases_kept())
            tables["revisions"] = archive.revisions_table(db, tables, release_name)
            # the release before this one is never pruned: this one's revisions refer to it
            previous_release = (tables["releases"]["release"].iloc[-2]
                                if len(tables["releases"]) > 1 else None)
        with _step(report, "check+swap", bar):
            checkpoint("publish")
            tmp = db.with_name(db.name + f".tmp-{report.run_id}")
            db.parent.mkdir(parents=True, exist_ok=True)
            release_dir = release_folder(db, report.run_id, report.started_at)
            release_tmp = release_dir.with_name(f"{release_dir.name}.tmp-{report.run_id}")
            release_tmp.parent.mkdir(parents=True, exist_ok=True)
            swapped = False
            try:
                # the Parquet copy is written beside the DuckDB file, at the same time
                with ThreadPoolExecutor(max_workers=1) as worker:
                    parquet = worker.submit(build_parquet_release, tables, release_tmp)
                    write_public(tables, tmp)
                    check_public(tmp)
                    parquet.result()
                archive.write_manifest(release_tmp, release_row)
                checkpoint("checked")
                os.replace(release_tmp, release_dir)  # complete; not yet the live release
                # the run's log row commits with its data: a kill from here on leaves a
                # 'committed' run, which the next run finds and publishes
                _log_run(con, replace(report, status="committed"))
                con.execute("commit")
                checkpoint("committed")
                swap_into_place(tmp, db)
                swapped = True
                checkpoint("public swapped")
                swap_release(release_dir, db.parent / "release", keep=settings.releases_kept(),
                             spare={previous_release} if previous_release else set())
            finally:
                if tmp.exists():
                    tmp.unlink()
                if release_tmp.exists():
                    shutil.rmtree(release_tmp)
                if not swapped and release_dir.exists():
                    shutil.rmtree(release_dir)  # never live: not one of the releases
    except BaseException as exc:
        held = _failed_quarantine(con, report.run_id, key)
        try:
            con.execute("rollback")
        except duckdb.Error:
            pass
        if held is not None and held.num_rows:
            _keep_failed_quarantine(con, held)
        report.status = "failed"
        report.finished_at = datetime.now(timezone.utc)
        report.message = _scrubbed(exc)
        report.failure = failure_category(exc)
        if con.execute("select count(*) from runs where run_id = $id",
                       {"id": report.run_id}).fetchone()[0]:
            # failed after its warehouse commit: the row stays 'committed', and the next
            # run publishes its data
            con.execute("update runs set message = $m where run_id = $id",
                        {"m": report.message[:2000], "id": report.run_id})
        else:
            _log_run(con, report)
        con.close()
        bar.close()
        if isinstance(exc, (RunFailed, KeyboardInterrupt)):
            raise
        raise RunFailed(report.message, category=report.failure) from exc
    report.finished_at = report.finished_at or datetime.now(timezone.utc)
    con.execute("update runs set status = $s, finished_at = $f where run_id = $id",
                {"s": report.status, "f": report.finished_at, "id": report.run_id})
    con.close()
    bar.close()
    log.info("run %s ok: %d rows in, %d kept, %d quarantined, data through %s",
             report.run_id, report.rows_in, report.rows_out, report.rows_quarantined,
             report.data_through)
    return report


def _scrubbed(exc: BaseException) -> str:
    """A failure's text for the run log and the console. The project's own errors name
    files, lines and counts only; any other (a library's) can quote an input value, so its
    quoted parts and every line after the first are left out."""
    import re

    from etl.districts import BoundaryError
    from etl.extract import FileProblem, SchemaDriftError
    from etl.guards import Refused
    text = str(exc) or type(exc).__name__
    if isinstance(exc, (RunFailed, FileProblem, SchemaDriftError, Refused, BoundaryError,
                        KeyboardInterrupt)):
        return text
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    first = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", first)
    return f"{type(exc).__name__}: {first[:300]} (quoted values left out)"


FAILED_RUNS_KEPT = 5


FAILED_QUARANTINE = """
create table if not exists failed_quarantine (
    failed_at timestamptz, run_id varchar, source varchar, file varchar, line bigint,
    reason varchar, first_reason varchar, problems struct(reason varchar, value varchar)[],
    incident_key varchar)
"""


def _failed_quarantine(con: duckdb.DuckDBPyConnection, run_id: str, key):
    """The rows a failing run set aside, read (as Arrow, types kept) before its transaction
    is rolled back, so that a provider can still see which rows to fix."""
    try:
        if not con.execute("select count(*) from duckdb_views() "
                           "where view_name = 'quarantined'").fetchone()[0]:
            return None
        import warnings
        with warnings.catch_warnings():  # "an extra copy of the rows": a few rows here
            warnings.simplefilter("ignore", UserWarning)
            return con.execute(QUARANTINE_SQL.format(incident_hmac=hmac_sql(INCIDENT_ID)),
                               {"run_id": run_id, **hmac_params(key)}).to_arrow_table()
    except duckdb.Error as exc:
        log.warning("the failed run's set-aside rows could not be read (%s)", type(exc).__name__)
        return None


def _keep_failed_quarantine(con: duckdb.DuckDBPyConnection, rows) -> None:
    """Kept apart from `quarantine` (the rows behind the release), for the last few failed
    runs only. Never raises: the run's own failure is what must be reported."""
    try:
        con.execute(FAILED_QUARANTINE)
        con.register("failed_rows", rows)
        con.execute("insert into failed_quarantine by name "
                    "select now() as failed_at, * from failed_rows")
        con.unregister("failed_rows")
        con.execute(f"""delete from failed_quarantine where run_id not in (
                        select run_id from failed_quarantine group by run_id
                        order by max(failed_at) desc limit {FAILED_RUNS_KEPT})""")
    except duckdb.Error as exc:
        log.warning("the failed run's set-aside rows could not be kept (%s)", type(exc).__name__)


def _log_run(con: duckdb.DuckDBPyConnection, r: RunReport) -> None:
    con.execute("""insert into runs by name select $id as run_id, $s as started_at,
                   $f as finished_at, $st as status, $m as mode, $fr as files_read,
                   $ri as rows_in, $ro as rows_out, $rq as rows_quarantined,
                   $dt as data_through, $msg as message, $fail as failure""",
                {"id": r.run_id, "s": r.started_at, "f": r.finished_at, "st": r.status,
                 "m": r.mode, "fr": r.files_read, "ri": r.rows_in, "ro": r.rows_out,
                 "rq": r.rows_quarantined, "dt": r.data_through, "msg": r.message[:2000],
                 "fail": r.failure})


def runs_table(con: duckdb.DuckDBPyConnection, current: RunReport) -> pd.DataFrame:
    """Past runs from the warehouse plus this one; failures by category only, never their
    text (which can quote input rows); row counts protected like every other count."""
    past = con.execute("""select run_id, started_at, finished_at, status, mode, files_read,
                          rows_in, rows_out, rows_quarantined, data_through, failure
                          from runs order by started_at""").df()
    this = pd.DataFrame([{k: getattr(current, k) for k in past.columns}])
    df = pd.concat([past, this], ignore_index=True) if len(past) else this
    for c in ("started_at", "finished_at"):
        df[c] = pd.to_datetime(df[c], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    df["data_through"] = pd.to_datetime(df["data_through"]).dt.strftime("%Y-%m-%d")
    df["failure"] = df["failure"].fillna("")
    # rows_in = rows_out + rows_quarantined: protected together, so none is worked out
    return run_counts(df)


def quarantine_summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Rows set aside from the files the release is built from (not only the last run's),
    by source and the first rule each broke, so the cells add up to the rows set aside.
    Their total is published nowhere (the run log's counts are per run), so it is protected
    as unknown."""
    df = con.execute("""select source, first_reason as reason, count(*)::bigint as n
                        from quarantine group by all order by all""").df()
    return quarantine_counts(df, total_shown=False)

