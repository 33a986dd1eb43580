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
create table if not exists run_sources (
    run_id varchar, source varchar, rows_read bigint, rows_quarantined bigint
);
alter table runs add column if not exists failure varchar;
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA)


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_name = $t "
        "and table_catalog = current_database()", {"t": name}).fetchall()[0][0])


def has_calls(con: duckdb.DuckDBPyConnection) -> bool:
    return has_table(con, "calls")


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    rows = con.execute("select value from meta where key = $k", {"k": key}).fetchall()
    return rows[0][0] if rows else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("insert or replace into meta values ($k, $v)", {"k": key, "v": value})


def clear(con: duckdb.DuckDBPyConnection) -> None:
    """For a full rebuild: forget every record and file (inside the run's transaction)."""
    con.execute("drop table if exists calls")
    con.execute("drop table if exists baseline_calls")
    con.execute("drop table if exists quarantine")
    con.execute("delete from loaded_files")


NEWEST_FIRST = "order by _file desc, _row desc, _source desc"


# Where each mapping role's records live: the pilot's and the city's call records in `calls`,
# LAPD calls-for-service (the police baseline) apart in `baseline_calls`, so that no pilot
# metric can count them.
ROLE_TABLES = {"calls": "calls", "police_baseline": "baseline_calls"}


def merge_staged(con: duckdb.DuckDBPyConnection, staged: str = "staged") -> int:
    """Merge each role's staged rows into its table; returns incidents touched."""
    touched = 0
    present = {r for r, in con.execute(f"select distinct _role from {staged}").fetchall()}
    for role, table in ROLE_TABLES.items():
        if role not in present:
            # nothing new of this kind: keep the table as it is (or start it empty)
            con.execute(f"create table if not exists {table} as "
                        f"select * exclude (_role) from {staged} where false")
            continue
        view = f"{staged}_{role}"
        con.execute(f"create or replace temp view {view} as "
                    f"select * exclude (_role) from {staged} where _role = '{role}'")
        touched += merge(con, view, table)
        con.execute(f"drop view {view}")
    return touched


def merge(con: duckdb.DuckDBPyConnection, staged: str = "staged", table: str = "calls") -> int:
    """Merge staged records: per incident the newest version wins. Returns incidents touched."""
    if not has_table(con, table):
        # A fresh warehouse: the newest version of each staged incident is the whole table.
        # Only the few incidents seen more than once need ordering.
        con.execute(f"""
            create or replace temp table repeated as
            select incident_key from {staged} group by incident_key having count(*) > 1
        """)
        con.execute(f"""
            create table {table} as
            select * from {staged} s
            where not exists (select 1 from repeated r where r.incident_key = s.incident_key)
            union all
            select * from (
                select s.* from {staged} s semi join repeated r using (incident_key)
                qualify row_number() over (partition by incident_key {NEWEST_FIRST}) = 1
            )
        """)
        con.execute("drop table repeated")
        return con.execute(f"select count(*) from {table}").fetchall()[0][0]
    con.execute(f"""
        create or replace temp table winners as
        select * exclude (version_rank) from (
            select *, row_number() over (
                partition by incident_key {NEWEST_FIRST}) as version_rank
            from (
                select * from {table}
                where incident_key in (select incident_key from {staged})
                union all by name
                select * from {staged}
            )
        ) where version_rank = 1
    """)
    touched = con.execute("select count(*) from winners").fetchall()[0][0]
    con.execute(f"delete from {table} where incident_key in (select incident_key from winners)")
    con.execute(f"insert into {table} by name select * from winners")
    con.execute("drop table winners")
    return touched


def add_quarantine(con: duckdb.DuckDBPyConnection, rows_sql: str, params: dict) -> None:
    if has_table(con, "quarantine"):
        # a warehouse from before rows kept their line and every reason with its value
        have = {r[0] for r in con.execute("describe quarantine").fetchall()}
        if "line" not in have:
            con.execute("alter table quarantine rename column row_number to line")
        if "problems" not in have:
            con.execute("alter table quarantine add column problems "
                        "struct(reason varchar, value varchar)[]")
            # every reason the row had, without the values the old table did not keep
            con.execute("""update quarantine set problems = list_transform(
                               string_split(reason, '; '),
                               lambda r: {'reason': r, 'value': cast(null as varchar)})""")
    con.execute(f"""
        create table if not exists quarantine as
        select * from ({rows_sql}) where false
    """, params)
    con.execute(f"insert into quarantine by name {rows_sql}", params)
