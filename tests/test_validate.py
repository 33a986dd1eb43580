"""Hostile and broken rows are quarantined with a reason; good rows pass."""

from datetime import datetime, timezone

import duckdb
import pytest

from etl.extract import extract, list_files
from etl.sources import load_config
from etl.validate import validate
from tests.conftest import canonical_row, write_config, write_csv

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)

HOSTILE = [
    ({"received_at": "yesterday at noon"}, "unreadable time in received_at"),
    ({"on_scene_at": "2025-03-04T09:00:00"}, "on_scene_at before dispatched_at"),
    ({"received_at": "2031-01-01T00:00:00", "dispatched_at": "", "enroute_at": "",
      "on_scene_at": "", "cleared_at": ""}, "received_at is in the future"),
    ({"responder_type": "swat"}, "unknown responder_type code"),
    ({"disposition": "???"}, "unknown disposition code"),
    ({"call_origin": ""}, "missing call_origin"),
    ({"arrest": "maybe"}, "not a true/false value in arrest"),
    ({"force_type": "x" * 5000}, "force_type longer than 200 characters"),
    ({"initial_call_type": '=HYPERLINK("http://x","y")'}, "formula-like text in initial_call_type"),
    ({"screen_out_reason": "@SUM(A1)"}, "formula-like text in screen_out_reason"),
    ({"latitude": "40.7128", "longitude": "-74.0060"}, "coordinates outside the Los Angeles area"),
    ({"latitude": "0", "longitude": "0"}, "coordinates outside the Los Angeles area"),
    ({"latitude": "north"}, "unreadable coordinates"),
    ({"longitude": ""}, "only one of latitude/longitude"),
    ({"lapd_division": "Gotham"}, "unknown lapd_division"),
    ({"incident_id": ""}, "missing incident_id"),
]


def _run(tmp_path, rows):
    write_csv(tmp_path / "landing/a/a_1.csv", rows)
    cfg = load_config(write_config(tmp_path))
    con = duckdb.connect()
    con.execute("set TimeZone = 'America/Los_Angeles'")
    extract(con, list_files(cfg))
    kept, bad = validate(con, NOW)
    return con, kept, bad


@pytest.mark.parametrize("overrides,reason", HOSTILE, ids=[r for _, r in HOSTILE])
def test_hostile_row_is_quarantined_with_reason(tmp_path, overrides, reason):
    good = canonical_row(incident_id="GOOD")
    bad = canonical_row(**{"incident_id": "BAD", **overrides})
    con, kept, quarantined = _run(tmp_path, [good, bad])
    assert (kept, quarantined) == (1, 1)
    reasons = con.execute("select reason from quarantined").fetchone()[0]
    assert reason in reasons.split("; ")
    # its line in the file: the header is line 1, the good row line 2
    assert con.execute("select _row from quarantined").fetchone()[0] == 3


def test_good_row_is_typed(tmp_path):
    con, kept, bad = _run(tmp_path, [canonical_row(arrest="N", eligible="yes",
                                                   lapd_division="CENTRAL")])
    assert (kept, bad) == (1, 0)
    row = con.execute("select arrest, eligible, lapd_division, latitude, "
                      "timezone('America/Los_Angeles', received_at) from validated").fetchone()
    assert row[0] is False and row[1] is True and row[2] == "Central"
    assert row[3] == pytest.approx(34.0537)
    assert str(row[4]) == "2025-03-04 10:00:00"


def test_empty_boolean_is_unknown_not_false(tmp_path):
    con, kept, _ = _run(tmp_path, [canonical_row(use_of_force="")])
    assert con.execute("select use_of_force from validated").fetchone()[0] is None


def test_offset_times_are_converted_to_local(tmp_path):
    row = canonical_row(received_at="2025-07-04T17:00:00Z", dispatched_at="", enroute_at="",
                        on_scene_at="", cleared_at="")
    con, kept, _ = _run(tmp_path, [row])
    local = con.execute("select timezone('America/Los_Angeles', received_at) from validated").fetchone()[0]
    assert str(local) == "2025-07-04 10:00:00"  # PDT is UTC-7


def test_point_outside_city_but_in_county_is_kept(tmp_path):
    # Santa Monica Pier: Los Angeles County, not the City
    con, kept, bad = _run(tmp_path, [canonical_row(latitude="34.0094", longitude="-118.4973")])
    assert (kept, bad) == (1, 0)
