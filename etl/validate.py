"""Validate: types, allowed values, time order, nothing in the future, coordinates in the area.

Every failing rule is written into the row's `reason`; rows with any reason go to quarantine,
the rest to `validated` with typed columns and the division spelled canonically.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timezone

import duckdb

from etl.divisions import OUTSIDE, SPELLINGS
from etl.schema import (ALLOWED_VALUES, BAD_OFFSET, BOOLEAN_COLUMNS, CANONICAL_COLUMNS,
                        MAX_TEXT_LENGTH, REQUIRED_BY_ROLE, TIME_COLUMNS)

log = logging.getLogger(__name__)

# A box around Los Angeles County: points inside it but outside the city are real calls
# answered outside city limits (kept, no district); points beyond it are data errors.
AREA_BOUNDS = {"lat_min": 33.30, "lat_max": 34.85, "lon_min": -118.95, "lon_max": -117.60}

# Times before this are data errors (a year 1900 or 0001 in an export), not history: the
# default still loads years of baseline before the pilot began. sources.toml [run]
# earliest_date moves it.
EARLIEST_DATE = date(2000, 1, 1)

TEXT_COLUMNS = tuple(c for c in CANONICAL_COLUMNS
                     if c not in TIME_COLUMNS + BOOLEAN_COLUMNS + ("latitude", "longitude"))

# Pairs that must be in order when both are present: received <= dispatched <= en route
# <= on scene <= cleared.
TIME_ORDER = [("received_at", "dispatched_at"), ("dispatched_at", "enroute_at"),
              ("enroute_at", "on_scene_at"), ("on_scene_at", "cleared_at"),
              ("dispatched_at", "on_scene_at"), ("received_at", "on_scene_at")]


# Values a quarantine report never shows (the file and line find the row).
WITHHELD = ("incident_id", "person_key", "latitude", "longitude")
VALUE_CHARS = 40



def _rules() -> list[tuple[str, str, str | None]]:
    """(SQL condition that is true when the row breaks the rule, reason text, the column
    whose value the quarantine report shows, or None)."""
    rules: list[tuple[str, str, str | None]] = []
    required = sorted({c for cols in REQUIRED_BY_ROLE.values() for c in cols})
    for col in required:
        raw = f"{col}__raw" if col in TIME_COLUMNS else col
        roles = [r for r, cols in REQUIRED_BY_ROLE.items() if col in cols]
        only = "" if len(roles) == len(REQUIRED_BY_ROLE) else \
            " and _role in (" + ", ".join(f"'{r}'" for r in roles) + ")"
        rules.append((f"{raw} is null{only}", f"missing {col}", None))
    for col in TIME_COLUMNS:
        raw = f"{col}__raw"
        # a time with an impossible offset is not read (extract): one reason, not two
        rules.append((f"{raw} is not null and {col} is null and "
                      f"not regexp_matches({raw}, '{BAD_OFFSET}')", f"unreadable time in {col}", raw))
        rules.append((f"regexp_matches({raw}, '{BAD_OFFSET}')",
                      f"UTC offset beyond ±14:00 in {col}", raw))
        rules.append((f"{col} > $now", f"{col} is in the future", raw))
        rules.append((f"{col} < $earliest", f"{col} before the earliest date accepted", raw))
    for col in BOOLEAN_COLUMNS:
        rules.append((f"{col}__raw is not null and {col} is null",
                      f"not a true/false value in {col}", f"{col}__raw"))
    for col, allowed in ALLOWED_VALUES.items():
        values = ", ".join("'" + v + "'" for v in allowed)
        rules.append((f"{col} is not null and lower({col}) not in ({values})",
                      f"unknown {col} code", col))
    for a, b in TIME_ORDER:
        rules.append((f"{a} is not null and {b} is not null and {b} < {a}",
                      f"{b} before {a}", f"{b}__raw"))
    for col in TEXT_COLUMNS:
        rules.append((f"length({col}) > {MAX_TEXT_LENGTH}",
                      f"{col} longer than {MAX_TEXT_LENGTH} characters", col))
        # Text that a spreadsheet would run as a formula never belongs in a code field.
        rules.append((f"(left({col}, 1) in ('=', '+', '@', chr(9), chr(13)) or "
                      f"(left({col}, 1) = '-' and not regexp_full_match(substr({col}, 2, 1), '[0-9]')))",
                      f"formula-like text in {col}", col))
    rules += [
        ("(latitude is not null and try_cast(latitude as double) is null) or "
         "(longitude is not null and try_cast(longitude as double) is null)",
         "unreadable coordinates", "latitude"),
        ("(latitude is null) <> (longitude is null)", "only one of latitude/longitude", None),
        ("try_cast(latitude as double) is not null and try_cast(longitude as double) is not null "
         "and not (try_cast(latitude as double) between $lat_min and $lat_max "
         "and try_cast(longitude as double) between $lon_min and $lon_max)",
         "coordinates outside the Los Angeles area", "latitude"),
        ("lapd_division is not null and division_name is null", "unknown lapd_division",
         "lapd_division"),
    ]
    return rules


def _shown(column: str | None) -> str:
    """The offending value as the report shows it: cut short; ids and coordinates withheld."""
    if column is None:
        return "cast(null as varchar)"
    base = column.removesuffix("__raw")
    if base in WITHHELD:
        return "cast(null as varchar)"  # the file and line find the row
    v = f"cast({column} as varchar)"
    return (f"case when length({v}) > {VALUE_CHARS} then left({v}, {VALUE_CHARS}) || '…' "
            f"else {v} end")


def validate(con: duckdb.DuckDBPyConnection, now: datetime, source: str = "extracted",
             earliest: date = EARLIEST_DATE) -> tuple[int, int]:
    """Split `source` into `validated` and `quarantined` (with the CSV lines the reader
    rejected, `rejected_lines`, when it exists); returns (kept, quarantined)."""
    con.execute("create or replace temp table division_spellings (spelling varchar, name varchar)")
    # 'outside' is an explicit "in no LAPD division" (LAPD's own exports say "Outside")
    con.executemany("insert into division_spellings values (?, ?)",
                    list(SPELLINGS.items()) + [(OUTSIDE, OUTSIDE)])
    rules = _rules()
    reason = "concat_ws('; ', " + ", ".join(
        f"case when coalesce({cond}, false) then '{text}' end" for cond, text, _ in rules) + ")"
    # every broken rule of a row with its value; built only for rows with a reason
    problems = "list_filter([" + ", ".join(
        f"case when coalesce({cond}, false) then {{'reason': '{text}', 'value': {_shown(col)}}} end"
        for cond, text, col in rules) + "], lambda x: x is not null)"
    params = {"now": now, "earliest": datetime.combine(earliest, time(0), tzinfo=timezone.utc),
              **AREA_BOUNDS}
    typed = ", ".join(
        f"lower({c}) as {c}" if c in ALLOWED_VALUES else
        "division_name as lapd_division" if c == "lapd_division" else
        f"try_cast({c} as double) as {c}" if c in ("latitude", "longitude") else c
        for c in CANONICAL_COLUMNS)
    # One pass: the raw text beside each parsed column is read only to tell "empty" from
    # "unreadable" (and to show it for the rows set aside), so it is not kept.
    con.execute(f"""
        create or replace temp table checked as
        with spelled as (
            select e.*, d.name as division_name
            from {source} e
            left join division_spellings d
              on d.spelling = lower(regexp_replace(trim(e.lapd_division), '\\s+', ' ', 'g'))
        ), reasoned as (
            select *, nullif({reason}, '') as reason from spelled
        )
        select {typed}, reason,
               case when reason is not null then {problems} end as problems,
               _source, _role, _file, _row
        from reasoned
    """, params)
    con.execute("create or replace temp view validated as "
                "select * exclude (reason, problems) from checked where reason is null")
    rejected = ("union all by name select _source, _role, _file, _row, reason, "
                "[{'reason': reason, 'value': cast(null as varchar)}] as problems "
                "from rejected_lines" if has_view(con, "rejected_lines") else "")
    con.execute("create or replace temp view quarantined as "
                f"select * from checked where reason is not null {rejected}")
    kept = con.execute("select count(*) from validated").fetchall()[0][0]
    bad = con.execute("select count(*) from quarantined").fetchall()[0][0]
    if bad:
        top = con.execute("""
            select p.reason as r, count(*) n from (select unnest(problems) as p from quarantined)
            group by r order by n desc, r limit 1""").fetchone()
        log.info("quarantined %d of %d rows (most often: %s, %d rows)", bad, kept + bad, top[0], top[1])
    return kept, bad


def has_view(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("select count(*) from duckdb_views() where view_name = $n",
                            {"n": name}).fetchone()[0])
