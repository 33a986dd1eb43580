"""The read side against a real public file: every value comes back as published, every
value is bound (no text reaches SQL), and only catalog tables can be read whole."""

import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from outcomes import queries, settings
from outcomes.metrics import METRICS
from outcomes.view import View


@pytest.fixture(scope="module")
def con(app_public_file):
    c = queries.connect(app_public_file)
    yield c
    c.close()


def _published(app_public_file: Path, sql: str, params: list) -> list[tuple]:
    with duckdb.connect(str(app_public_file), read_only=True) as c:
        return c.execute(sql, params).fetchall()


@pytest.mark.parametrize("metric", list(METRICS))
def test_metric_rows_are_the_published_values(con, app_public_file, metric):
    m = METRICS[metric]
    view = View(period_type="fiscal_year", period="FY2025-26")
    got = queries.metric_rows(con, metric, view, by="district")
    assert len(got) == 15
    fixed = dict(m.fixed) | ({"responder_type": view.responder_type} if m.responder == "view" else {})
    where = "".join(f" and {k} = ?" for k in fixed)
    want = dict(_published(app_public_file,
                           f"select district, {m.value} from {m.table} where period_type = ? and period = ? "
                           f"and call_type_group = 'all' and district <> 'all'{where}",
                           ["fiscal_year", "FY2025-26", *fixed.values()]))
    for row in got.itertuples():
        expected = want[row.district]
        if expected is None:
            assert row.status in ("hidden", "few", "longer", "none") and row.value != row.value  # NaN
        else:
            assert row.status == "ok" and row.value == pytest.approx(expected)


def test_status_says_why_a_rate_is_missing(con, app_public_file):
    rows = queries.metric_rows(con, "coverage_rate", View(period_type="month", period="2024-08"),
                               by="district")
    assert set(rows["status"]) <= {"ok", "few", "hidden", "longer", "none"}
    flag = {"few": "under_minimum", "hidden": "hidden", "longer": "not_published"}
    for r in rows.itertuples():
        if r.status in flag:  # the status is the table's own reason
            assert r.flag == flag[r.status] and pd.isna(r.value)
        if r.status == "hidden":
            assert pd.isna(r.denominator) or pd.isna(r.numerator)
        if r.status == "ok":
            assert r.denominator >= settings.min_denominator()


def test_values_are_bound_not_formatted(con):
    hostile = View(district="1' or '1'='1", period="x'; drop table coverage; --")
    assert queries.metric_rows(con, "coverage_rate", hostile).empty
    assert queries.unserved(con, hostile).empty
    assert len(queries.catalog(con)) > 10  # nothing was dropped (and the file is read-only)


def test_only_catalog_tables_can_be_read_whole(con):
    assert len(queries.published_table(con, "coverage")) > 0
    with pytest.raises(KeyError, match="not a published table"):
        queries.published_table(con, "duckdb_settings()")


def test_missing_or_broken_file_gives_a_clear_error(tmp_path):
    with pytest.raises(queries.PublicFileError, match="uv run etl run"):
        queries.connect(tmp_path / "nope.duckdb")
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a database" * 100)
    with pytest.raises(queries.PublicFileError, match="cannot be read"):
        queries.connect(broken)


def test_connection_is_read_only(con, app_public_file, tmp_path):
    """The public file is attached read-only; nothing but it can be reached."""
    before = app_public_file.read_bytes()
    for sql in ('create table pub.x as select 1', 'drop table pub.main."catalog"',
                'delete from pub.main."catalog"'):
        with pytest.raises(duckdb.Error):
            con.execute(sql)
    cur = con.cursor()
    with pytest.raises(duckdb.Error):
        cur.execute("select * from read_csv('/etc/passwd')")
    with pytest.raises(duckdb.Error):
        cur.execute("attach $p as other", {"p": str(tmp_path / "other.duckdb")})
    with pytest.raises(duckdb.Error):
        cur.execute("set enable_external_access = true")
    frame = pd.DataFrame({"x": [1]})  # noqa: F841 - what a replacement scan would find
    with pytest.raises(duckdb.Error):
        cur.execute("select * from frame")
    assert app_public_file.read_bytes() == before
    assert not (tmp_path / "other.duckdb").exists()


def test_a_swapped_file_is_seen_by_a_new_connection(tmp_path):
    """DuckDB shares a database per path while a connection to it is open: a file swapped
    in under the same name must still be read by the next connection, the old one kept
    working on the file it opened."""
    live = tmp_path / "public.duckdb"

    def release(v):
        new = tmp_path / "new.duckdb"
        c = duckdb.connect(str(new))
        c.execute(f"create table catalog as select {v} as v")
        c.close()
        os.replace(new, live)

    release(1)
    old = queries.connect(live)
    old_cursor = old.cursor()
    for v in (2, 3, 4):
        release(v)
        new = queries.connect(live)
        assert new.cursor().execute("select v from catalog").fetchall() == [(v,)]
        assert old_cursor.execute("select v from catalog").fetchall() == [(1,)]
        new.close()


def test_district_labels_sit_inside_their_district(con):
    from shapely.geometry import Point, shape
    import json

    for d in queries.districts(con).itertuples():
        assert shape(json.loads(d.geometry_geojson)).contains(Point(d.label_lon, d.label_lat))
