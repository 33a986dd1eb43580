"""Month tables kept between runs: only the months a run touches are rewritten."""

from __future__ import annotations

import duckdb
import pandas as pd

from etl import monthly
from etl import warehouse as wh

TABLES = {"by_month": """select month, count(*)::bigint as calls from (
                            select strftime(received_hour, '%Y-%m') as month from calls_to_publish)
                         where month in (select month from months_to_refresh) group by all"""}


def _calls(con, rows):
    con.register("rows", pd.DataFrame(rows, columns=["incident_key", "received_hour", "_role"]))
    con.execute("insert into staged select incident_key, received_hour::timestamp, _role from rows")
    con.unregister("rows")


def _table(con):
    return dict(con.execute("select month, calls from by_month order by 1").fetchall())


def test_only_touched_months_are_rewritten_and_a_new_fingerprint_rebuilds(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    wh.ensure_schema(con)
    con.execute("create table calls (incident_key varchar, received_hour timestamp)")
    con.execute("create temp table staged (incident_key varchar, received_hour timestamp, _role varchar)")
    con.execute("""insert into calls values ('a', '2025-01-05 10:00'), ('b', '2025-01-06 10:00'),
                   ('c', '2025-02-01 10:00')""")
    assert monthly.refresh(con, TABLES, "v1", None) == "rebuilt"
    assert _table(con) == {"2025-01": 2, "2025-02": 1}

    # a correction moves 'a' from January to March; a new call 'd' in February
    _calls(con, [("a", "2025-03-01 09:00", "calls"), ("d", "2025-02-03 09:00", "calls"),
                 ("x", "2020-01-01 00:00", "police_baseline")])
    touched = monthly.months_touched(con)
    assert touched == ["2025-01", "2025-02", "2025-03"]
    con.execute("delete from calls where incident_key = 'a'")
    con.execute("insert into calls values ('a', '2025-03-01 09:00'), ('d', '2025-02-03 09:00')")
    # a month table nobody touched is left as it was: plant a marker to see it kept
    con.execute("insert into by_month values ('2019-12', 99)")
    assert monthly.refresh(con, TABLES, "v1", touched) == "3 month(s) refreshed"
    assert _table(con) == {"2019-12": 99, "2025-01": 1, "2025-02": 2, "2025-03": 1}

    # the same months with another fingerprint (settings or SQL changed): all rebuilt
    assert monthly.refresh(con, TABLES, "v2", []) == "rebuilt"
    assert _table(con) == {"2025-01": 1, "2025-02": 2, "2025-03": 1}

    # calls changed outside a run (a record erased by hand): the next run rebuilds all
    assert monthly.months_touched(con) == ["2025-02", "2025-03"]
    con.execute("delete from calls where incident_key = 'b'")
    assert monthly.months_touched(con) is None
