"""`uv run etl check --config FILE`: what a provider runs before its first delivery.

Reads every source's landing files through its mapping and validates them exactly as a run
would, in memory, writing nothing (no warehouse, no public file, no lock). Per source: the
files and rows, what would be set aside and why, values no map names, how many rows would
reach the published universe, and the first problems to fix with their file and line.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb

from etl.call_types import load_code_table
from etl.extract import FileProblem, SchemaDriftError, extract, list_files, no_match
from etl.schema import PUBLIC_ORIGINS
from etl.sources import load_config
from etl.validate import validate

FIRST_PROBLEMS = 5


def check(config_path: Path, now: datetime | None = None) -> dict:
    config = load_config(config_path)
    now = now or datetime.now(timezone.utc)
    table = load_code_table()
    pilot = set(config.pilot_groups)
    files = list_files(config)
    share_limit = config.quarantine_limit()
    out: dict = {"config": str(config.path), "sources": []}
    for source in config.sources:
        mine = [(s, lf) for s, lf in files if s.name == source.name]
        entry: dict = {"source": source.name, "mapping": source.mapping.name,
                       "role": source.mapping.role,
                       "pattern": source.pattern, "files": len(mine)}
        out["sources"].append(entry)
        if not mine:
            entry["problem"] = no_match(source.pattern)
            continue
        con = duckdb.connect()
        con.execute("set TimeZone = 'America/Los_Angeles'")
        try:
            reads = extract(con, mine)
        except (FileProblem, SchemaDriftError) as exc:
            entry["problem"] = str(exc)
            con.close()
            continue
        kept, bad = validate(con, now, earliest=config.earliest_date)
        entry.update(rows=kept + bad, kept=kept, set_aside=bad,
                     empty_files=[Path(r.path).name for r in reads if r.rows == 0],
                     newest_empty=bool(reads) and reads[-1].rows == 0,
                     max_set_aside_share=share_limit)
        entry["defaulted_values"] = _defaulted(con, source)
        entry["reasons"] = [{"reason": r, "rows": n} for r, n in con.execute(
            """select p.reason, count(*) from (select unnest(problems) as p from quarantined)
               group by 1 order by 2 desc, 1""").fetchall()]
        entry["unmapped_values"] = [
            {"column": r.removeprefix("unknown ").removesuffix(" code"), "value": v, "rows": n}
            for r, v, n in con.execute(
                """select p.reason, p.value, count(*) from (
                       select unnest(problems) as p from quarantined)
                   where p.reason like 'unknown % code' or p.reason = 'unknown lapd_division'
                   group by 1, 2 order by 3 desc, 1, 2 limit 50""").fetchall()]
        no_point = con.execute("select count(*) from validated where latitude is null"
                               ).fetchone()[0]
        entry["without_coordinates"] = no_point
        entry["declares_no_coordinates"] = not source.mapping.coordinates
        if source.mapping.role == "calls":
            codes = con.execute("""select initial_call_type, count(*) from validated
                                   where call_origin in $origins group by 1""",
                                {"origins": list(PUBLIC_ORIGINS)}).fetchall()
            entry["universe"] = sum(n for c, n in codes if table.group_of(c) in pilot)
            entry["not_in_code_table"] = [
                {"value": c, "rows": n} for c, n in sorted(codes, key=lambda x: -x[1])
                if table.group_of(c) == "other"][:20]
            entry["not_public_origin"] = con.execute(
                "select count(*) from validated where call_origin not in $origins",
                {"origins": list(PUBLIC_ORIGINS)}).fetchone()[0]
        entry["first_problems"] = [
            {"file": f, "line": line, "reasons": [
                p["reason"] + (f" ({p['value']!r})" if p["value"] else "") for p in ps]}
            for f, line, ps in con.execute(
                f"""select _file, _row, problems from quarantined
                    order by _file, _row limit {FIRST_PROBLEMS}""").fetchall()]
        con.close()
    return out


def _defaulted(con: duckdb.DuckDBPyConnection, source) -> list[dict]:
    """Values that took a map's "*" meaning, with their counts: a default can hide a value
    the map should have named (a prefix not stripped, a new code)."""
    from dataclasses import replace

    from etl.extract import _text_expr
    m = source.mapping
    from etl.extract import RAW_PREFIX, source_columns
    cols = [r[0].removeprefix(RAW_PREFIX) for r in con.execute("describe raw_0").fetchall()]
    present = source_columns(m, cols)
    out = []
    for col, table in m.values.items():
        if "*" not in table:
            continue
        before = _text_expr(replace(m, values={}), col, present)
        named = [k for k in table if k != "*"]
        rows = con.execute(f"""select v, count(*) from (select {before} as v from raw_0)
                               where v is not null and v not in $named
                               group by 1 order by 2 desc, 1 limit 20""",
                           {"named": named or [""]}).fetchall()
        out += [{"column": col, "value": v, "meaning": table["*"] or "unknown", "rows": n}
                for v, n in rows]
    return out


def where(file: str) -> str:
    """A CSV row is found by its line (the header is line 1); a Parquet row by its number."""
    return "row" if file.endswith(".parquet") else "line"


def print_check(result: dict) -> int:
    """Human-readable report; returns the exit code: 1 when a run would fail or refuse it (a
    source that cannot be read, too many rows set aside, an empty newest export) or a
    source reaches nothing of the universe."""
    failing = 0
    print(f"checked {result['config']} (nothing was written)")
    for e in result["sources"]:
        print(f"\nsource {e['source']} (mapping {e['mapping']}): {e['files']} file(s)")
        if "problem" in e:
            failing += 1
            print(f"  PROBLEM: {e['problem']}")
            continue
        print(f"  {e['rows']:,} rows: {e['kept']:,} would be kept, {e['set_aside']:,} set aside")
        for f in e["empty_files"]:
            print(f"  {f} holds no rows (only its header)")
        for r in e["reasons"]:
            print(f"  {r['rows']:>8,}  {r['reason']}")
        if e["defaulted_values"]:
            print('  values that took a map\'s "*" meaning (name them if they mean something '
                  "else):")
            for d in e["defaulted_values"]:
                print(f"  {d['rows']:>8,}  {d['column']} = {d['value']!r} -> {d['meaning']}")
        if e["rows"] and e["set_aside"] / e["rows"] > e["max_set_aside_share"]:
            failing += 1
            print(f"  PROBLEM: {e['set_aside'] / e['rows']:.1%} of rows would be set aside, more "
                  f"than the {e['max_set_aside_share']:.0%} a run allows: the run would fail")
        if e["newest_empty"]:
            failing += 1
            print("  PROBLEM: the newest export holds no rows: a run refuses it (unless "
                  "--accept-shrink)")
        if e["unmapped_values"]:
            print("  values no map names (add them to [values.<column>] in the mapping):")
            for u in e["unmapped_values"]:
                print(f"  {u['rows']:>8,}  {u['column']} = {u['value']!r}")
        if e["declares_no_coordinates"] and e["role"] == "police_baseline":
            print("  the mapping says the source has no coordinates: counted by LAPD division, "
                  "estimated into council districts through the division crosswalk")
        elif e["declares_no_coordinates"]:
            print("  the mapping says the source has no coordinates: its calls count citywide "
                  "and by LAPD division, in no council district")
        elif e["without_coordinates"]:
            print(f"  {e['without_coordinates']:,} kept rows have no coordinates: in no council "
                  "district (if the source never has them, say coordinates = false)")
        if "universe" in e:
            print(f"  {e['universe']:,} rows reach the published universe (public calls of "
                  "the pilot's call type groups)")
            if e["not_public_origin"]:
                print(f"  {e['not_public_origin']:,} kept rows are officer- or self-initiated: "
                      "counted, in no denominator")
            if e["not_in_code_table"]:
                print("  initial_call_type values the code table does not group (counted as "
                      "'other'; map them to codes in [values.initial_call_type]):")
                for c in e["not_in_code_table"][:10]:
                    print(f"  {c['rows']:>8,}  {c['value']!r}")
            if e["kept"] and not e["universe"]:
                failing += 1
                print("  PROBLEM: no row reaches the published universe")
        if e["first_problems"]:
            print("  first rows to fix:")
            for p in e["first_problems"]:
                print(f"    {p['file']} {where(p['file'])} {p['line']}: {'; '.join(p['reasons'])}")
    return 1 if failing else 0
