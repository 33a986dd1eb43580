"""The private warehouse: de-identified call records, newest version of each incident.

Version order: a later landing file (by name; exports are date-stamped) supersedes an
earlier one, and within a file a later row supersedes an earlier one. Ties cannot happen.
"""

from __future__ import annotations

import duckdb

SCHEMA = """
create table if not exists loaded_files (
    source varchar, path varchar, bytes bigint, mtime_ns bigint, rows bigint, run_id varchar
);
create table if not exists runs (
    run_id varchar, started_at timestamptz, finished_at timestamptz, status varchar,
    mode varchar, files_read integer, rows_in bigint, rows_out bigint,
    rows_quarantined bigint, data_through date, message varchar
);
create table if not exists meta (key varchar primary key, value varchar);
alter table runs add column if not exists failure varchar;
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA)


def has_calls(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_name = 'calls' "
        "and table_catalog = current_database()").fetchone()[0])


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("select value from meta where key = $k", {"k": key}).fetchone()
    return row[0] if row else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("insert or replace into meta values ($k, $v)", {"k": key, "v": value})


def loaded_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    return {p: (b, m) for p, b, m in con.execute(
        "select path, bytes, mtime_ns from loaded_files").fetchall()}


def clear(con: duckdb.DuckDBPyConnection) -> None:
    """For a full rebuild: forget every record and file (inside the run's transaction)."""
    con.execute("drop table if exists calls")
    con.execute("drop table if exists quarantine")
    con.execute("delete from loaded_files")


NEWEST_FIRST = "order by _file desc, _row desc, _source desc"


def merge(con: duckdb.DuckDBPyConnection, staged: str = "staged") -> int:
    """Merge staged records: per incident the newest version wins. Returns incidents touched."""
    if not has_calls(con):
        # A fresh warehouse: the newest version of each staged incident is the whole table.
        # Only the few incidents seen more than once need ordering.
        con.execute(f"""
            create or replace temp table repeated as
            select incident_key from {staged} group by incident_key having count(*) > 1
        """)
        con.execute(f"""
            create table calls as
            select * from {staged} s
            where not exists (select 1 from repeated r where r.incident_key = s.incident_key)
            union all
            select * from (
                select s.* from {staged} s semi join repeated r using (incident_key)
                qualify row_number() over (partition by incident_key {NEWEST_FIRST}) = 1
            )
        """)
        con.execute("drop table repeated")
        return con.execute("select count(*) from calls").fetchone()[0]
    con.execute(f"""
        create or replace temp table winners as
        select * exclude (version_rank) from (
            select *, row_number() over (
                partition by incident_key {NEWEST_FIRST}) as version_rank
            from (
                select * from calls
                where incident_key in (select incident_key from {staged})
                union all by name
                select * from {staged}
            )
        ) where version_rank = 1
    """)
    touched = con.execute("select count(*) from winners").fetchone()[0]
    con.execute("delete from calls where incident_key in (select incident_key from winners)")
    con.execute("insert into calls by name select * from winners")
    con.execute("drop table winners")
    return touched


def add_quarantine(con: duckdb.DuckDBPyConnection, rows_sql: str, params: dict) -> None:
    con.execute(f"""
        create table if not exists quarantine as
        select * from ({rows_sql}) where false
    """, params)
    con.execute(f"insert into quarantine by name {rows_sql}", params)
