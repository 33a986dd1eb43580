"""Command line: `uv run etl demo | run | status | check | quarantine | boundaries`. The only place logging is set up."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import logging
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

from outcomes import settings

log = logging.getLogger("etl")


def _settings_epilog() -> str:
    lines = ["settings (environment variables):"]
    for s in settings.describe():
        lines.append(f"  {s['name']} (default {s['default'] or 'none'}): {s['help']}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="etl", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Crisis Response Outcomes ETL: landing exports -> private warehouse -> "
                    "disclosure-controlled public DuckDB file.",
        epilog=_settings_epilog())
    p.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="write realistic demo exports + DIR/sources.toml")
    d.add_argument("--out", required=True, type=Path, help="folder to write into")
    d.add_argument("--calls", type=int, default=20_000, help="number of calls (default 20000)")
    d.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    d.add_argument("--no-lapd", action="store_true",
                   help="leave out the LAPD Calls for Service export (the police baseline)")

    r = sub.add_parser("run", help="full pipeline; exit 0 ok, 1 failed (old file kept), "
                                   "2 bad configuration, 3 another run in progress")
    r.add_argument("--config", required=True, type=Path, help="sources.toml")
    r.add_argument("--db", type=Path, help="public file (default OUTCOMES_DB)")
    r.add_argument("--warehouse", type=Path, help="warehouse file (default OUTCOMES_WAREHOUSE)")
    r.add_argument("--rebuild", action="store_true",
                   help="reload every landing file instead of only new ones")
    r.add_argument("--accept-shrink", action="store_true",
                   help="publish on purpose input that shrank: a re-export with far fewer rows, "
                        "an empty newest export, a source with no files left, a published "
                        "universe that is empty or much smaller (each is refused otherwise)")

    c = sub.add_parser("check", help="read, map and validate every source without writing "
                                     "anything: what a provider runs before delivering")
    c.add_argument("--config", required=True, type=Path, help="sources.toml")
    c.add_argument("--json", action="store_true", help="print JSON")

    m = sub.add_parser("mapping", help="write a starting mapping from an export's header")
    msub = m.add_subparsers(dest="mapping_command", required=True)
    mn = msub.add_parser("new", help="guess a mapping from FILE.csv (a draft to check)")
    mn.add_argument("file", type=Path, help="an export (CSV)")
    mn.add_argument("--name", help="source name (default: the file's name before any date)")
    mn.add_argument("--delimiter", default=",", help="field delimiter (default ',')")
    mn.add_argument("--encoding", default="utf-8", help="utf-8 (default), latin-1 or utf-16")
    mn.add_argument("--out", type=Path, help="write here instead of printing")

    q = sub.add_parser("quarantine", help="rows set aside, with file, line, every reason and "
                                          "the offending value")
    q.add_argument("--warehouse", type=Path, help="warehouse (default OUTCOMES_WAREHOUSE)")
    q.add_argument("--source", help="only this source")
    q.add_argument("--failed", action="store_true",
                   help="the rows of the last failed run (kept although the run changed nothing)")
    q.add_argument("--csv", type=Path, help="write every row to this CSV file")
    q.add_argument("--limit", type=int, default=50, help="rows to print (default 50)")

    s = sub.add_parser("status", help="last runs, data through, quarantine counts")
    s.add_argument("--db", type=Path, help="public file (default OUTCOMES_DB)")
    s.add_argument("--warehouse", type=Path, help="warehouse (default OUTCOMES_WAREHOUSE)")
    s.add_argument("--json", action="store_true", help="print JSON")

    b = sub.add_parser("boundaries", help="install council district boundaries")
    g = b.add_mutually_exclusive_group()
    g.add_argument("--from", dest="from_file", type=Path, help="a local GeoJSON file")
    g.add_argument("--download", action="store_true",
                   help="download from the City's GeoHub (OUTCOMES_BOUNDARIES_URL)")
    b.add_argument("--plan", default="2021",
                   help="the redistricting plan the file draws (default 2021); recorded in "
                        "the catalog of every table built with it")
    return p


def cmd_demo(args: argparse.Namespace) -> int:
    from etl.demo import write_demo
    summary = write_demo(args.out, calls=args.calls, seed=args.seed, lapd=not args.no_lapd)
    print(json.dumps(summary, default=str))
    print(f"next: uv run etl run --config {args.out / 'sources.toml'}", file=sys.stderr)
    return 0


@contextlib.contextmanager
def _stdout_to_stderr():
    """While a run works, whatever writes to standard output (the MILP solver's C library
    prints a licence banner there) goes to standard error: stdout carries the JSON only."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def cmd_run(args: argparse.Namespace) -> int:
    from etl.pipeline import run
    with _stdout_to_stderr():
        report = run(args.config, db=args.db, warehouse_path=args.warehouse,
                     rebuild=args.rebuild, accept_shrink=args.accept_shrink)
    print(json.dumps(report.as_dict(), default=str))
    return 0


# exit codes an operator (or a timer) watches; the last log line says which
EXIT_OK = 0
EXIT_FAILED = 1      # the run failed closed: the previous public file is still served
EXIT_CONFIG = 2      # bad configuration (sources.toml, mapping, key): fix it, nothing ran
EXIT_LOCKED = 3      # another run holds the lock: nothing was changed
RUN_COLUMNS = ["run_id", "started_at", "finished_at", "status", "mode", "files_read",
               "rows_in", "rows_out", "rows_quarantined", "data_through", "message"]


def _plain(value):
    """A value for JSON: numbers stay numbers, times become ISO 8601 text."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _run_dicts(cols: list[str], rows) -> list[dict]:
    return [{c: _plain(v) for c, v in zip(cols, r)} for r in rows]


def _producing_warehouse(db: Path, candidates: list[Path]) -> Path | None:
    """The warehouse whose run log holds the public file's last published run."""
    import duckdb
    try:
        con = duckdb.connect(str(db), read_only=True)
        try:
            run = con.execute("select run_id from runs where status = 'ok' "
                              "order by started_at desc limit 1").fetchone()
        finally:
            con.close()
    except duckdb.Error:
        return None
    for wh in candidates:
        if not wh.exists():
            continue
        try:
            con = duckdb.connect(str(wh), read_only=True)
        except duckdb.Error:
            continue  # held by a running run: its public file is read instead
        try:
            if run and con.execute("select count(*) from runs where run_id = $r",
                                   {"r": run[0]}).fetchone()[0]:
                return wh
        except duckdb.Error:
            pass
        finally:
            con.close()
    return None


def status(db: Path, warehouse: Path, warehouse_given: bool = True) -> dict:
    """What was published and the last runs. Takes no lock: while a run holds the
    warehouse, the runs come from the public file's own run log (without messages).
    Without an explicit warehouse, the one that produced `db` is used (the default, or the
    one beside it); if neither did, the runs come from the public file alone."""
    import duckdb

    from etl.runlock import holder_if_running
    out: dict = {"public_db": str(db), "warehouse": str(warehouse)}
    if not warehouse_given and db.exists():
        found = _producing_warehouse(db, [warehouse, db.parent / "warehouse.duckdb"])
        if found is None and not holder_if_running(warehouse):
            out["warehouse"] = None
            out["warehouse_note"] = ("no warehouse found whose run log produced this public "
                                     "file; pass --warehouse to read its runs and quarantine")
            warehouse = db.parent / ".no-warehouse"
        elif found is not None:
            warehouse = found
            out["warehouse"] = str(found)
    running = holder_if_running(warehouse)
    if running:
        out["running"] = {"run_id": running.run_id, "pid": running.pid,
                          "started_at": running.started_at}
    if db.exists():
        con = duckdb.connect(str(db), read_only=True)
        try:
            last = con.execute("""select run_id, finished_at, data_through from runs
                                  where status = 'ok' order by started_at desc limit 1""").fetchone()
            out["published"] = ({"run_id": last[0], "updated": _plain(last[1]),
                                 "data_through": _plain(last[2])} if last else None)
            out["tables"] = [r[0] for r in con.execute("select table_name from catalog").fetchall()]
            if running or not warehouse.exists():
                # the public file's own run log: no messages (they can quote input)
                cols = [c for c in RUN_COLUMNS if c != "message"]
                rows = con.execute(f"select {', '.join(cols)} from runs "
                                   "order by started_at desc limit 10").fetchall()
                out["runs"] = [dict(d, message=None) for d in _run_dicts(cols, rows)]
        finally:
            con.close()
    else:
        out["published"] = None
    if warehouse.exists() and not running:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            cols = RUN_COLUMNS
            rows = con.execute(f"select {', '.join(cols)} from runs order by started_at desc limit 10").fetchall()
            out["runs"] = _run_dicts(cols, rows)
            has_q = con.execute("select count(*) from information_schema.tables "
                                "where table_name = 'quarantine'").fetchall()[0][0]
            if has_q and rows:
                # every reason of a row is counted (a row can break several rules)
                out["quarantine"] = [
                    {"source": s, "reason": r, "rows": n} for s, r, n in con.execute(
                        """select source, p.reason, count(*) from (
                               select source, unnest(problems) as p from quarantine)
                           group by all order by 3 desc, 1, 2""").fetchall()]
                out["calls"] = con.execute("select count(*) from calls").fetchall()[0][0]
            from etl.baseline import baseline_status
            out["police_baseline"] = baseline_status(con)
        finally:
            con.close()
    return out


def cmd_status(args: argparse.Namespace) -> int:
    db = args.db or settings.public_db()
    wh = args.warehouse or settings.warehouse_db()
    if not db.exists() and not wh.exists():
        print(f"nothing published yet: no {db}. Run 'uv run etl run --config sources.toml' "
              "(or 'uv run etl demo --out DIR' first for demo data).", file=sys.stderr)
        return 1
    st = status(db, wh, warehouse_given=args.warehouse is not None)
    if args.json:
        print(json.dumps(st, default=str, indent=2))
        return 0
    if st.get("running"):
        r = st["running"]
        print(f"a run is in progress: {r['run_id']} (PID {r['pid']}, started {r['started_at']}); "
              "the runs below are those the public file records")
    pub = st.get("published")
    if pub:
        print(f"public file {db}: data through {pub['data_through']}, updated {pub['updated']}")
    else:
        print(f"public file {db}: none yet")
    if st.get("warehouse_note"):
        print(st["warehouse_note"])
    for r in st.get("runs", []):
        print(f"  {(r['started_at'] or '')[:19]}  {r['status']:<7} {r['mode'] or '':<11} in={r['rows_in']} "
              f"kept={r['rows_out']} quarantined={r['rows_quarantined']} "
              f"through={r['data_through']}  {(r['message'] or '')[:120]}")
    if st.get("quarantine"):
        print("rows set aside from the release's files, by reason ('uv run etl quarantine' "
              "lists each with its file and line):")
        for q in st["quarantine"][:20]:
            print(f"  {q['rows']:>8}  {q['source']}: {q['reason']}")
    for b in st.get("police_baseline", []):
        last = ("the last run read no new file of it" if b["last_run_rows_read"] is None else
                f"the last run read {b['last_run_rows_read']} rows, set aside "
                f"{b['last_run_rows_quarantined']} (reasons under quarantine)")
        print(f"police baseline source {b['source']}: {last}; {b['records_held']} records held:")
        print(f"  {b['counted_by_division']:>8}  counted by LAPD division (and estimated into "
              "council districts)")
        print(f"  {b['outside_lapd_areas']:>8}  LAPD area 'Outside': counted citywide, in no "
              "division or district")
        print(f"  {b['no_division_given']:>8}  no division given: counted citywide only")
        print(f"  {b['officer_initiated']:>8}  of all these, officer-initiated (CODE 6, traffic "
              "stops): counted, in no denominator")
        codes = ", ".join(f"{c} ({n})" for c, n in b["top_unknown_codes"])
        print(f"  {b['other_or_unknown_code']:>8}  of all these, codes the code table does not "
              f"group, counted as 'other'{': ' + codes if codes else ''}")
    return 0


def cmd_boundaries(args: argparse.Namespace) -> int:
    from etl.districts import load_boundaries
    target = settings.installed_boundaries()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    if args.from_file:
        if not args.from_file.exists():
            print(f"no file at {args.from_file}", file=sys.stderr)
            return 2
        shutil.copyfile(args.from_file, tmp)
        source = str(args.from_file.resolve())
    elif args.download:
        url = settings.boundaries_url()
        try:
            with urllib.request.urlopen(url, timeout=60) as resp, open(tmp, "wb") as fh:
                shutil.copyfileobj(resp, fh)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            print(f"could not download council districts from {url}: {exc}. If this machine is "
                  "offline, fetch the 2021 'Council Districts (Adopted 2021)' GeoJSON elsewhere "
                  "and run 'uv run etl boundaries --from FILE'.", file=sys.stderr)
            if tmp.exists():
                tmp.unlink()
            return 2
        source = url
    else:
        current = settings.boundaries_path()
        print(f"boundaries in use: {current or 'none'}")
        return 0 if current else 1
    try:
        b = load_boundaries(tmp)
    except ValueError as exc:
        tmp.unlink()
        print(f"not installed: {exc}", file=sys.stderr)
        return 2
    tmp.replace(target)
    meta = {"source": source, "sha256": b.sha256, "plan": args.plan, "districts": len(b.frame)}
    target.with_suffix(".json").write_text(json.dumps(meta, indent=2))
    print(json.dumps({"installed": str(target), **meta}))
    return 0


def _cell(value: str | None) -> str:
    """A value as a spreadsheet shows it, never runs it."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value or ""


def quarantine_rows(warehouse: Path, source: str | None = None, failed: bool = False):
    """(rows, note): each set-aside row with its file, line, reasons and values."""
    import duckdb
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        table = "failed_quarantine" if failed else "quarantine"
        have = {r[0] for r in con.execute("select table_name from information_schema.tables "
                                          "where table_catalog = current_database()").fetchall()}
        if table not in have:
            return [], ("no failed run has set rows aside" if failed else "no row is set aside")
        where, params = "", {}
        if failed:
            where = ("where run_id = (select run_id from failed_quarantine "
                     "order by failed_at desc limit 1)")
        if source:
            where += (" and " if where else "where ") + "source = $s"
            params["s"] = source
        rows = con.execute(f"""select run_id, source, file, line, problems from {table} {where}
                               order by source, file, line""", params).fetchall()
        note = ""
        if failed and rows:
            note = f"rows set aside by failed run {rows[0][0]} (it changed nothing)"
        return rows, note
    finally:
        con.close()


def cmd_check(args: argparse.Namespace) -> int:
    from etl.check import check, print_check
    result = check(args.config)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    return print_check(result)


def cmd_mapping(args: argparse.Namespace) -> int:
    import re

    from etl.mapping_new import draft
    if not args.file.exists():
        print(f"no file at {args.file}", file=sys.stderr)
        return 2
    name = args.name or re.sub(r"[_-]?\d{4}.*$", "", args.file.stem) or args.file.stem
    text = draft(args.file, name, args.delimiter, args.encoding)
    if args.out:
        if args.out.exists():
            print(f"{args.out} exists; not overwritten (choose another --out)", file=sys.stderr)
            return 2
        args.out.write_text(text)
        print(f"draft mapping written to {args.out}; check it, then add a [[source]] with "
              f"format = \"{args.out.name}\" to sources.toml and run 'uv run etl check'",
              file=sys.stderr)
    else:
        print(text, end="")
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    import csv as csv_

    from etl.check import where
    wh = args.warehouse or settings.warehouse_db()
    if not wh.exists():
        print(f"no warehouse at {wh}: nothing has run yet (pass --warehouse)", file=sys.stderr)
        return 1
    rows, note = quarantine_rows(wh, args.source, args.failed)
    if note:
        print(note)
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as fh:
            w = csv_.writer(fh)
            w.writerow(["source", "file", "line", "reason", "value"])
            for _, src, file, line, problems in rows:
                for p in problems or [{"reason": "", "value": None}]:
                    w.writerow([src, file, line, p["reason"], _cell(p["value"])])
        print(f"{len(rows)} rows written to {args.csv}")
    by_reason: dict[str, int] = {}
    for *_, problems in rows:
        for p in problems or []:
            by_reason[p["reason"]] = by_reason.get(p["reason"], 0) + 1
    if not args.csv:
        for _, src, file, line, problems in rows[:args.limit]:
            what = "; ".join(p["reason"] + (f" ({_cell(p['value'])!r})" if p["value"] else "")
                             for p in problems or [])
            print(f"{src}  {file} {where(file)} {line}: {what}")
        if len(rows) > args.limit:
            print(f"... {len(rows) - args.limit} more (--limit, or --csv FILE for all)")
    print(f"{len(rows)} rows set aside; every reason counted (a row can break several rules):")
    for r, n in sorted(by_reason.items(), key=lambda x: (-x[1], x[0])):
        print(f"  {n:>8}  {r}")
    return 0


def _kept(args: argparse.Namespace) -> str:
    db = getattr(args, "db", None) or settings.public_db()
    return ("the previous public file is kept" if Path(db).exists() else
            "no public file was written")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    handlers = {"demo": cmd_demo, "run": cmd_run, "status": cmd_status,
                "boundaries": cmd_boundaries, "quarantine": cmd_quarantine,
                "check": cmd_check, "mapping": cmd_mapping}
    try:
        return handlers[args.command](args)
    except Exception as exc:
        return _failure(args, exc)


def _raised(exc: BaseException, *names: str) -> bool:
    """Whether `exc` is one of these classes ("module.Class"). A module never imported
    raised nothing: looking classes up in sys.modules keeps each command's imports its own
    (`etl status` loads neither the pipeline nor geopandas)."""
    for name in names:
        module, cls = name.rsplit(".", 1)
        m = sys.modules.get(module)
        if m is not None and isinstance(exc, getattr(m, cls)):
            return True
    return False


def _failure(args: argparse.Namespace, exc: Exception) -> int:
    if _raised(exc, "etl.runlock.RunLocked"):
        print(f"etl {args.command}: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    if _raised(exc, "etl.sources.ConfigError", "etl.deidentify.HmacKeyError"):
        print(f"etl {args.command}: bad configuration, nothing ran: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if _raised(exc, "etl.extract.FileProblem", "etl.extract.SchemaDriftError"):
        if args.command != "run":
            print(f"etl {args.command}: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"etl run failed, {_kept(args)}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if _raised(exc, "etl.pipeline.RunFailed", "etl.districts.BoundaryError", "etl.guards.Refused"):
        print(f"etl {args.command} failed, {_kept(args)}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    raise exc


if __name__ == "__main__":
    sys.exit(main())
