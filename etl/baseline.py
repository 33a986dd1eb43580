"""What `etl status` says of the police baseline (LAPD Calls for Service records in the
private warehouse); the published tables are built in etl/publish/baseline.py."""

from __future__ import annotations

import duckdb

from etl.call_types import OTHER, load_code_table
from etl.divisions import OUTSIDE
from etl.warehouse import has_table

OUTSIDE_AREAS = "outside_lapd_areas"
UNKNOWN = "unknown"
OFFICER = "officer_initiated"
# A record's division leaf: LAPD's "Outside" and a missing division are leaves of their own.
DIVISION_LEAF_SQL = (f"case when lapd_division is null then '{UNKNOWN}' "
                     f"when lapd_division = '{OUTSIDE}' then '{OUTSIDE_AREAS}' "
                     "else lapd_division end")


def baseline_status(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """For `etl status` (reads the private warehouse): per police-baseline source, what the
    latest run read and set aside, and how the records it holds are counted."""
    if not has_table(con, "baseline_calls"):
        return []
    table = load_code_table()
    last = con.execute("select run_id from runs where status = 'ok' "
                       "order by started_at desc limit 1").fetchone()
    read = {s: (r, q) for s, r, q in con.execute(
        "select source, rows_read, rows_quarantined from run_sources where run_id = $r",
        {"r": last[0] if last else ""}).fetchall()}
    out = []
    for source, in con.execute("select distinct _source from baseline_calls order by 1").fetchall():
        rows = con.execute(f"""
            select coalesce(initial_call_type, '') as code, {DIVISION_LEAF_SQL} as division,
                   count(*) from baseline_calls where _source = $s group by all""",
                           {"s": source}).fetchall()
        group = {code: table.group_of(code or None) for code, _, _ in rows}
        area_of = {OUTSIDE_AREAS: "outside", UNKNOWN: "unknown"}
        by_area = {"division": 0, "outside": 0, "unknown": 0}
        officer = other = 0
        unknown_codes: dict[str, int] = {}
        for code, division, n in rows:
            by_area[area_of.get(division, "division")] += n
            officer += n if group[code] == OFFICER else 0
            if group[code] == OTHER:
                other += n
                unknown_codes[code or "(empty)"] = unknown_codes.get(code or "(empty)", 0) + n
        rows_read, quarantined = read.get(source, (None, None))
        out.append({
            "source": source,
            "last_run_rows_read": rows_read,
            "last_run_rows_quarantined": quarantined,
            "records_held": sum(by_area.values()),
            "counted_by_division": by_area["division"],
            "outside_lapd_areas": by_area["outside"],
            "no_division_given": by_area["unknown"],
            "officer_initiated": officer,
            "other_or_unknown_code": other,
            "top_unknown_codes": sorted(unknown_codes.items(), key=lambda kv: (-kv[1], kv[0]))[:10],
        })
    return out
