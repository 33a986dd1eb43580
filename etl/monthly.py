"""Month-by-month tables the publish step reads, kept in the warehouse between runs.

The universe (one row per published call) and the counts summed from it by month are
written once by a full rebuild. A nightly run then rewrites only the months its new records
touch: the months of the new records and of the versions they replace. So a day's file
costs a day's worth of reading, not every call's, and the release is the same as a full
rebuild would give (tests/test_pipeline.py checks this table by table).

They stay private: the universe is record level, like `calls`. Each table's SQL, and the
settings the universe depends on (pilot call types, coverage spans, the call-type code
table), go into a fingerprint; when it changes, every table is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging

import duckdb
import pandas as pd

from etl import warehouse as wh

log = logging.getLogger(__name__)

MONTH = "strftime(received_hour, '%Y-%m')"


def _calls_count(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute("select count(*) from calls").fetchall()[0][0])


def months_touched(con: duckdb.DuckDBPyConnection, staged: str = "staged") -> list[str] | None:
    """Before the merge: the months of the staged calls and of the versions in `calls` they
    may replace (a correction can move an incident to another month). None (rebuild all)
    where `calls` no longer holds what the month tables were built from: changed outside a
    run, e.g. records erased by hand."""
    if not wh.has_calls(con):
        return []
    if wh.get_meta(con, "monthly_calls") != _calls_count(con):
        return None
    return [r[0] for r in con.execute(f"""
        select distinct {MONTH} from {staged} where _role = 'calls'
        union
        select distinct {MONTH} from calls
        where incident_key in (select incident_key from {staged} where _role = 'calls')
        order by 1""").fetchall()]


def fingerprint(tables: dict[str, str], **settings) -> str:
    blob = json.dumps({"tables": tables, **settings}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def refresh(con: duckdb.DuckDBPyConnection, tables: dict[str, str], print_: str,
            months: list[str] | None) -> str:
    """Bring each table up to date, in order. `tables` maps a name to its SQL, which reads
    the warehouse's calls only through the view `calls_to_publish` and keeps to the months
    in `months_to_refresh` (on its own `month` column). `months` None, a changed
    fingerprint `print_`, or a missing table rebuilds all. Returns what was done, for the
    log."""
    full = (months is None or wh.get_meta(con, "monthly_fingerprint") != print_
            or not all(wh.has_table(con, t) for t in tables))
    if full:
        months = [r[0] for r in con.execute(f"select distinct {MONTH} from calls").fetchall()]
    con.register("months_given", pd.DataFrame({"month": months}, dtype=str))
    con.execute("create or replace temp table months_to_refresh as "
                "select month::varchar as month from months_given")
    con.unregister("months_given")
    con.execute(f"""create or replace temp view calls_to_publish as select * from calls
                    where {MONTH} in (select month from months_to_refresh)""")
    for name, query in tables.items():
        if full:
            con.execute(f"create or replace table {name} as {query}")
        else:
            con.execute(f"delete from {name} where month in (select month from months_to_refresh)")
            con.execute(f"insert into {name} {query}")
    done = "rebuilt" if full else f"{len(months)} month(s) refreshed"
    con.execute("drop view calls_to_publish")
    con.execute("drop table months_to_refresh")
    wh.set_meta(con, "monthly_fingerprint", print_)
    wh.set_meta(con, "monthly_calls", _calls_count(con))
    log.info("publish: month tables %s", done)
    return done
