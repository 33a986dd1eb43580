"""Validate: types, allowed values, time order, nothing in the future, coordinates in the area.

Every failing rule is written into the row's `reason`; rows with any reason go to quarantine,
the rest to `validated` with typed columns and the division spelled canonically.
"""

from __future__ import annotations

import logging
from datetime import datetime

import duckdb

from etl.divisions import OUTSIDE, SPELLINGS
from etl.schema import (ALLOWED_VALUES, BOOLEAN_COLUMNS, CANONICAL_COLUMNS, MAX_TEXT_LENGTH,
                        REQUIRED_BY_ROLE, TIME_COLUMNS)

log = logging.getLogger(__name__)

# A box around Los Angeles County: points inside it but outside the city are real calls
# answered outside city limits (kept, no district); points beyond it are data errors.
AREA_BOUNDS = {"lat_min": 33.30, "lat_max": 34.85, "lon_min": -118.95, "lon_max": -117.60}

TEXT_COLUMNS = tuple(c for c in CANONICAL_COLUMNS
                     if c not in TIME_COLUMNS + BOOLEAN_COLUMNS + ("latitude", "longitude"))

# Pairs that must be in order when both are present: received <= dispatched <= en route
# <= on scene <= cleared.
TIME_ORDER = [("received_at", "dispatched_at"), ("dispatched_at", "enroute_at"),
              ("enroute_at", "on_scene_at"), ("on_scene_at", "cleared_at"),
              ("dispatched_at", "on_scene_at"), ("received_at", "on_scene_at")]


def _rules() -> list[tuple[str, str]]:
    """(SQL condition that is true when the row breaks the rule, reason text)."""
    rules: list[tuple[str, str]] = []
    required = sorted({c for cols in REQUIRED_BY_ROLE.values() for c in cols})
    for col in required:
        raw = f"{col}__raw" if col in TIME_COLUMNS else col
        roles = [r for r, cols in REQUIRED_BY_ROLE.items() if col in cols]
        only = "" if len(roles) == len(REQUIRED_BY_ROLE) else \
            " and _role in (" + ", ".join(f"'{r}'" for r in roles) + ")"
        rules.append((f"{raw} is null{only}", f"missing {col}"))
    for col in TIME_COLUMNS:
        rules.append((f"{col}__raw is not null and {col} is null",
                      f"unreadable time in {col}"))
        rules.append((f"{col} > $now", f"{col} is in the future"))
    for col in BOOLEAN_COLUMNS:
        rules.append((f"{col}__raw is not null and {col} is null",
                      f"not a true/false value in {col}"))
    for col, allowed in ALLOWED_VALUES.items():
        values = ", ".join("'" + v + "'" for v in allowed)
        rules.append((f"{col} is not null and lower({col}) not in ({values})",
                      f"unknown {col} code"))
    for a, b in TIME_ORDER:
        rules.append((f"{a} is not null and {b} is not null and {b} < {a}",
                      f"{b} before {a}"))
    for col in TEXT_COLUMNS:
        rules.append((f"length({col}) > {MAX_TEXT_LENGTH}",
                      f"{col} longer than {MAX_TEXT_LENGTH} characters"))
        # Text that a spreadsheet would run as a formula never belongs in a code field.
        rules.append((f"(left({col}, 1) in ('=', '+', '@', chr(9), chr(13)) or "
                      f"(left({col}, 1) = '-' and not regexp_full_match(substr({col}, 2, 1), '[0-9]')))",
                      f"formula-like text in {col}"))
    rules += [
        ("(latitude is not null and try_cast(latitude as double) is null) or "
         "(longitude is not null and try_cast(longitude as double) is null)",
         "unreadable coordinates"),
        ("(latitude is null) <> (longitude is null)", "only one of latitude/longitude"),
        ("try_cast(latitude as double) is not null and try_cast(longitude as double) is not null "
         "and not (try_cast(latitude as double) between $lat_min and $lat_max "
         "and try_cast(longitude as double) between $lon_min and $lon_max)",
         "coordinates outside the Los Angeles area"),
        ("lapd_division is not null and division_name is null", "unknown lapd_division"),
    ]
    return rules


def validate(con: duckdb.DuckDBPyConnection, now: datetime, source: str = "extracted") -> tuple[int, int]:
    """Split `source` into `validated` and `quarantined`; returns (kept, quarantined)."""
    con.execute("create or replace temp table division_spellings (spelling varchar, name varchar)")
    # 'outside' is an explicit "in no LAPD division" (LAPD's own exports say "Outside")
    con.executemany("insert into division_spellings values (?, ?)",
                    list(SPELLINGS.items()) + [(OUTSIDE, OUTSIDE)])
    rules = _rules()
    reason = "concat_ws('; ', " + ", ".join(
        f"case when coalesce({cond}, false) then '{text}' end" for cond, text in rules) + ")"
    params = {"now": now, **AREA_BOUNDS}
    typed = ", ".join(
        f"lower({c}) as {c}" if c in ALLOWED_VALUES else
        "division_name as lapd_division" if c == "lapd_division" else
        f"try_cast({c} as double) as {c}" if c in ("latitude", "longitude") else c
        for c in CANONICAL_COLUMNS)
    # One pass: the raw text beside each parsed column is read only to tell "empty" from
    # "unreadable", so it is not kept.
    con.execute(f"""
        create or replace temp table checked as
        with spelled as (
            select e.*, d.name as division_name
            from {source} e
            left join division_spellings d
              on d.spelling = lower(regexp_replace(trim(e.lapd_division), '\\s+', ' ', 'g'))
        )
        select {typed}, nullif({reason}, '') as reason, _source, _role, _file, _row from spelled
    """, params)
    con.execute("create or replace temp view validated as "
                "select * exclude (reason) from checked where reason is null")
    con.execute("create or replace temp view quarantined as "
                "select * from checked where reason is not null")
    kept = con.execute("select count(*) from validated").fetchall()[0][0]
    bad = con.execute("select count(*) from quarantined").fetchall()[0][0]
    if bad:
        top = con.execute("""
            select split_part(reason, '; ', 1) as r, count(*) n from quarantined
            group by r order by n desc, r limit 1""").fetchone()
        log.info("quarantined %d of %d rows (most often: %s, %d rows)", bad, kept + bad, top[0], top[1])
    return kept, bad
