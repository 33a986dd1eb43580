"""One typed function per query of the public file; the SQL is in sql/<same name>.sql.

Every function takes an open (read-only) connection and binds its values. The app gets
all its figures from here, so it shows only what the publish step produced and checked.
"""

from __future__ import annotations

import calendar
import json
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import shapely
from shapely.geometry import shape

from outcomes.metrics import METRICS, Metric
from outcomes.view import View

SQL = Path(__file__).with_name("sql")


class PublicFileError(RuntimeError):
    """The public file is missing, unreadable or not a public file of this project."""


@cache
def _sql(name: str) -> str:
    return (SQL / f"{name}.sql").read_text()


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the public file read-only; a clear error when there is none to open.

    The file is attached to a database of the connection's own, not opened by path: DuckDB
    hands back the database already open for a path while any connection to it lives, so
    a file swapped in under the same name would never be seen by a running app. Every
    published table is a view in that database (cursors, one per query, see them too).
    Nothing else can be reached: no other files, no Python objects by name
    (replacement scans), and the settings are locked."""
    if not Path(path).exists():
        raise PublicFileError(
            f"no public file at {path}: build one with 'uv run etl run --config sources.toml' "
            "(or 'uv run etl demo --out DIR' first), or set OUTCOMES_DB to an existing file")
    con = duckdb.connect(":memory:")
    try:
        con.execute("attach $p as pub (read_only)", {"p": str(path)})
        names = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'pub'").fetchall()]
        if "catalog" not in names:
            raise duckdb.CatalogException("no catalog table")
        for name in names:
            con.execute(f'create view "{name}" as select * from pub.main."{name}"')
        con.execute("set enable_external_access = false")
        con.execute("set python_enable_replacements = false")
        con.execute("set lock_configuration = true")
        con.execute("select count(*) from catalog").fetchall()
    except duckdb.Error as exc:
        con.close()
        raise PublicFileError(
            f"{path} cannot be read as a public file ({type(exc).__name__}); rebuild it with "
            "'uv run etl run --config sources.toml'") from exc
    return con


def _df(con: duckdb.DuckDBPyConnection, name: str, **params) -> pd.DataFrame:
    return con.execute(_sql(name), params).df()


def latest_run(con: duckdb.DuckDBPyConnection) -> dict | None:
    rows = con.execute(_sql("latest_run")).fetchall()
    if not rows:
        return None
    return {"data_through": rows[0][0], "finished_at": rows[0][1]}


def run_log(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _df(con, "run_log")


def periods(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _df(con, "periods")


def period_choices(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for period_type, period, _, _ in con.execute(_sql("periods")).fetchall():
        out.setdefault(period_type, []).append(period)
    return out


def metric_rows(con: duckdb.DuckDBPyConnection, metric: str, view: View,
                by: str = "one") -> pd.DataFrame:
    """One metric's published rows: `by` = "one" (the view's period and place),
    "district" (each district, the view's period), "month" or "quarter" (the view's place,
    every month or quarter).

    Universe: as the metric's table in the catalog.
    """
    m: Metric = METRICS[metric]
    params: dict[str, str] = {"call_type_group": view.group_for_query}
    conditions: list[str] = []
    fixed = dict(m.fixed)
    if m.responder == "view":
        fixed["responder_type"] = view.responder_type
    for column, value in fixed.items():
        conditions.append(f"and {column} = ${column}")
        params[column] = value
    if by in ("month", "quarter"):
        conditions.append("and period_type = $by")
        params["by"] = by
    else:
        conditions += ["and period_type = $period_type", "and period = $period"]
        params |= {"period_type": view.period_type, "period": view.period}
    if by == "district":
        # council districts only: not the city row, nor 'outside_city' / 'unknown'
        conditions.append("and district in (select district from districts)")
    else:
        conditions.append("and district = $district")
        params["district"] = view.district
    sql = _sql("metric_rows").format(
        table=m.table, value=m.value, ci_low=m.ci_low or "null::double",
        ci_high=m.ci_high or "null::double", numerator=m.numerator or "null::bigint",
        denominator=m.denominator, flag=m.flag, conditions="\n".join(conditions))
    df = con.execute(sql, params).df()
    df["status"] = [status(v, n, d, m.numerator is not None, f)
                    for v, n, d, f in zip(df["value"], df["numerator"], df["denominator"],
                                          df["flag"])]
    return df


FLAG_STATUS = {"hidden": "hidden", "under_minimum": "few", "not_published": "longer"}


def status(value, numerator, denominator, has_numerator: bool, flag=None) -> str:
    """Why a value is or is not shown: 'ok'; 'hidden' (a count behind it is hidden by
    disclosure control); 'few' (too few calls behind it for a rate); 'longer' (published
    for longer periods only); 'none' (no calls of this kind at all). From the table's
    flag where it has one."""
    if not pd.isna(value):
        return "ok"
    if not pd.isna(denominator) and denominator == 0:  # nothing to rate
        return "none"
    if isinstance(flag, str) and flag in FLAG_STATUS:
        return FLAG_STATUS[flag]
    if pd.isna(denominator) or (has_numerator and pd.isna(numerator)):
        return "hidden"
    return "few"


def unserved(con: duckdb.DuckDBPyConnection, view: View) -> pd.DataFrame:
    return _df(con, "unserved", period_type=view.period_type, period=view.period,
               district=view.district, call_type_group=view.group_for_query)


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("select count(*) from duckdb_tables() where table_name = $n",
                            {"n": name}).fetchone()[0])


def public_use_summary(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The public-use record file's k, l and share kept (None in a file from before it was
    published)."""
    if not _has_table(con, "public_use_file_summary"):
        return None
    rows = con.execute("select * from public_use_file_summary").df()
    return rows.iloc[0].to_dict() if len(rows) else None


def public_use_values(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each column of the public-use record file with the values it holds and how many rows
    hold each: for its data dictionary."""
    if not _has_table(con, "public_use_file"):
        return pd.DataFrame(columns=["column_name", "value", "rows"])
    # (the app's connection holds the table twice, attached and as a view: read its columns
    # off the table itself)
    cols = [d[0] for d in con.execute("select * from public_use_file limit 0").description]
    return con.execute(" union all ".join(
        f"""select {i} as position, '{c}' as column_name, "{c}" as value, count(*) as rows
            from public_use_file group by all""" for i, c in enumerate(cols))
        + " order by position, value").df().drop(columns="position")


def releases(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The release archive, oldest first (empty in a file from before it was kept)."""
    if not _has_table(con, "releases"):
        return pd.DataFrame(columns=["release", "run_id", "released_at", "data_through",
                                     "code_table_version", "method_version", "content_sha256",
                                     "files_kept"])
    return con.execute("select * from releases order by released_at").df()


def revisions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """What the newest release revised, city first, then by period."""
    if not _has_table(con, "revisions"):
        return pd.DataFrame(columns=["measure", "previous_release"])
    return con.execute("""select * from revisions
                          order by table_name, district <> 'all', district, call_type_group <> 'all',
                                   call_type_group, period_type, period""").df()


def crisis_line(con: duckdb.DuckDBPyConnection, view: View, every_district: bool = False) -> pd.DataFrame:
    """Calls through 988 and calls resolved by phone, for the view's slice (or every
    district); empty in a file from before the table was published."""
    if not _has_table(con, "crisis_line"):
        return pd.DataFrame(columns=["district", "calls", "calls_988", "share_988", "resolved_by_phone"])
    return _df(con, "crisis_line", period_type=view.period_type, period=view.period,
               district="*" if every_district else view.district,
               call_type_group=view.group_for_query)


def funnel(con: duckdb.DuckDBPyConnection, view: View) -> pd.DataFrame:
    """The eligibility funnel of the view's slice in reading order (empty in a public file
    from before the funnel was published). Universe: public-initiated calls of the pilot's
    call types; each node's status as for every published count."""
    if not _has_table(con, "eligibility_funnel"):
        return pd.DataFrame(columns=["step", "node", "parent_node", "node_kind", "calls",
                                     "calls_flag", "share_of_parent", "share_of_parent_ci_low",
                                     "share_of_parent_ci_high", "unstable", "rate_flag", "status"])
    df = _df(con, "funnel", period_type=view.period_type, period=view.period,
             district=view.district, call_type_group=view.group_for_query)
    df["status"] = [status(c, c, c, False, f) for c, f in zip(df["calls"], df["calls_flag"])]
    return df.reset_index(drop=True)


def response_times(con: duckdb.DuckDBPyConnection, view: View,
                   every_district: bool = False) -> pd.DataFrame:
    """Universe: calls answered by each responder type (dispatch to scene where dispatched)."""
    return _df(con, "response_times", period_type=view.period_type, period=view.period,
               call_type_group=view.group_for_query,
               district="*" if every_district else view.district)


def hour_band_times(con: duckdb.DuckDBPyConnection, view: View, interval: str) -> pd.DataFrame:
    """Universe: as response_times, citywide, by the 6-hour band the call came in."""
    return _df(con, "hour_band_times", period_type=view.period_type, period=view.period,
               interval=interval)


def outcomes_by_responder(con: duckdb.DuckDBPyConnection, view: View) -> pd.DataFrame:
    return _df(con, "outcomes_by_responder", period_type=view.period_type, period=view.period,
               district=view.district, call_type_group=view.group_for_query)


def events_by_responder(con: duckdb.DuckDBPyConnection, view: View) -> pd.DataFrame:
    return _df(con, "events_by_responder", period_type=view.period_type, period=view.period,
               district=view.district, call_type_group=view.group_for_query)


def force_matched(con: duckdb.DuckDBPyConnection, view: View) -> pd.DataFrame:
    return _df(con, "force_matched", period_type=view.period_type, period=view.period,
               district=view.district)


def calls_by_hour(con: duckdb.DuckDBPyConnection, view: View) -> pd.DataFrame:
    """Published for the pilot to date only (etl/publish/simple.py), whatever the period."""
    return _df(con, "calls_by_hour", period_type="pilot_to_date", period="pilot_to_date",
               responder_type=view.responder_type)


def districts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Districts with display geometry and a point inside each for its label."""
    df = _df(con, "districts")
    points = [shape(json.loads(g)).representative_point() for g in df["geometry_geojson"]]
    df["label_lon"] = [p.x for p in points]
    df["label_lat"] = [p.y for p in points]
    return df


def district_geometry(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """Each district's display geometry as a GeoJSON geometry object."""
    return {d: json.loads(g) for d, g in
            _df(con, "districts")[["district", "geometry_geojson"]].itertuples(index=False)}


def divisions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _df(con, "divisions")


def coverage_on(con: duckdb.DuckDBPyConnection, day: str) -> pd.DataFrame:
    """Divisions the pilot serves on `day` (YYYY-MM-DD)."""
    return _df(con, "coverage_on", day=day)


def district_coverage(con: duckdb.DuckDBPyConnection, day: str) -> pd.DataFrame:
    """Per council district on `day`: the share of its area the pilot serves, and the
    divisions (with hours) that serve it."""
    return _df(con, "district_coverage", day=day)


def period_last_day(con: duckdb.DuckDBPyConnection, view: View) -> str | None:
    """The last day of the view's period (YYYY-MM-DD), or the last day with data if that is
    earlier: pilot coverage is shown 'as of' it."""
    row = con.execute("select last_month from periods where period_type = $t and period = $p",
                      {"t": view.period_type, "p": view.period}).fetchone()
    if not row:
        return None
    y, m = int(row[0][:4]), int(row[0][5:7])
    last = f"{y:04d}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}"
    run = latest_run(con)
    through = str(run["data_through"]) if run and run["data_through"] else last
    return min(last, through)


def pilot_has_period(con: duckdb.DuckDBPyConnection, view: View) -> bool:
    return bool(con.execute(_sql("pilot_has_period"), {"period_type": view.period_type,
                                                       "period": view.period}).fetchone()[0])


def coverage_outline(con: duckdb.DuckDBPyConnection, divisions: tuple[str, ...]) -> dict | None:
    """The pilot's area as one outline: the union of the divisions it serves (coverage_on),
    for drawing (clockwise rings, as Vega-Lite wants). None when it serves none."""
    shapes = [shape(json.loads(g)) for d, g in
              con.execute(_sql("divisions")).fetchall() if d in set(divisions)]
    if not shapes:
        return None
    # display outlines are simplified one by one, so neighbours can leave hairline gaps:
    # close them before the union
    area = shapely.unary_union([s.buffer(0.0004) for s in shapes]).buffer(-0.0004)
    area = shapely.orient_polygons(area, exterior_cw=True)
    return json.loads(shapely.to_geojson(shapely.set_precision(area, 1e-6)))


def baseline_group(view: View) -> str:
    """The baseline's row for the view's call types: the pilot's groups together, or one."""
    return "pilot_types" if view.call_type_group == "all" else view.call_type_group


def baseline_months(con: duckdb.DuckDBPyConnection) -> dict | None:
    first, last, n = con.execute(_sql("baseline_months")).fetchone()
    return None if not n else {"first_month": first, "last_month": last, "months": n}


def baseline_by_district(con: duckdb.DuckDBPyConnection, view: View) -> pd.DataFrame:
    """Universe: LAPD Calls for Service records of the pilot's call types (estimated into
    districts), beside civilian-team responses to public-initiated calls of those types.
    All the pilot's call types together: the pilot's district figures are published for
    them together only."""
    return _df(con, "baseline_by_district", period_type=view.period_type, period=view.period,
               baseline_group="pilot_types")


def baseline_by_division(con: duckdb.DuckDBPyConnection, view: View) -> pd.DataFrame:
    """Universe: LAPD Calls for Service records, by LAPD division."""
    return _df(con, "baseline_by_division", period_type=view.period_type, period=view.period,
               baseline_group=baseline_group(view))


def milestones(con: duckdb.DuckDBPyConnection, lang: str = "en") -> pd.DataFrame:
    """date, label: in `lang` where the configuration gives it (label_es), else English."""
    df = _df(con, "milestones")
    other = f"label_{lang}"
    if lang != "en" and other in df:
        df = df.assign(label=df[other].where(df[other].notna() & (df[other] != ""), df["label"]))
    return df[["date", "label"]]


def protection(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _df(con, "protection")


def pilot_coverage(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _df(con, "pilot_coverage")


def catalog(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _df(con, "catalog")


def quarantine_summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _df(con, "quarantine_summary")


def call_types(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _df(con, "call_types")


def published_table(con: duckdb.DuckDBPyConnection, table_name: str) -> pd.DataFrame:
    """A whole published table, for download. The name must be in the file's catalog."""
    names = {r[0] for r in con.execute(_sql("catalog")).fetchall()}
    if table_name not in names:
        raise KeyError(f"{table_name!r} is not a published table (see the catalog)")
    return con.execute(f'select * from "{table_name}"').df()
