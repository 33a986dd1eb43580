"""Input that shrank or changed fails closed with a message naming the file and the numbers
(the live public file stays byte-identical), unless accepted on purpose; changed mappings
reach the next release; set-aside rows can be found and fixed."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime, timezone

import duckdb
import pytest

from etl import cli
from etl.pipeline import RunFailed, run
from outcomes import settings
from tests.conftest import canonical_row, write_config, write_csv

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _rows(n: int, prefix: str = "I", **kw) -> list[dict]:
    return [canonical_row(incident_id=f"{prefix}{i}", **kw) for i in range(n)]


def _digest() -> str:
    return hashlib.sha256(settings.public_db().read_bytes()).hexdigest()


def _published(tmp_path, rows=None):
    write_csv(tmp_path / "landing/a/a_1.csv", rows or _rows(40))
    cfg = write_config(tmp_path)
    run(cfg, now=NOW)
    return cfg, _digest()


def test_header_only_reexport_is_refused_then_accepted_on_purpose(tmp_path):
    cfg, before = _published(tmp_path)
    write_csv(tmp_path / "landing/a/a_1.csv", [])
    with pytest.raises(RunFailed, match=r"a_1.csv was re-exported and now holds only its "
                                        r"header; the version in the last release had 40"):
        run(cfg, now=NOW)
    assert _digest() == before
    report = run(cfg, now=NOW, accept_shrink=True)
    assert report.status == "ok" and "accepted with --accept-shrink" in report.message


def test_reexport_with_far_fewer_rows_is_refused(tmp_path):
    cfg, before = _published(tmp_path)
    write_csv(tmp_path / "landing/a/a_1.csv", _rows(10))
    with pytest.raises(RunFailed, match=r"now has 10 rows; .* had 40, so 30 calls would leave"):
        run(cfg, now=NOW)
    assert _digest() == before
    write_csv(tmp_path / "landing/a/a_1.csv", _rows(39))  # a correction, not a loss
    assert run(cfg, now=NOW).status == "ok"


def test_empty_newest_export_is_refused(tmp_path):
    cfg, before = _published(tmp_path)
    write_csv(tmp_path / "landing/a/a_2.csv", [])
    with pytest.raises(RunFailed, match=r"newest export of source a, a_2.csv, holds no rows"):
        run(cfg, now=NOW)
    assert _digest() == before


@pytest.mark.parametrize("how", ["emptied", "removed"])
def test_emptied_or_missing_source_folder_is_refused(tmp_path, how):
    cfg, before = _published(tmp_path)
    folder = tmp_path / "landing/a"
    if how == "emptied":
        (folder / "a_1.csv").unlink()
        expected = "nothing in .* matches \\*.csv"
    else:
        shutil.rmtree(folder)
        expected = "folder .* does not exist"
    with pytest.raises(RunFailed, match=f"source a: ({expected}), but the last release was "
                                        "built from 1 file"):
        run(cfg, now=NOW)
    assert _digest() == before


def test_empty_universe_is_refused(tmp_path):
    # text where a code of the code table belongs: every call lands in "other"
    write_csv(tmp_path / "landing/a/a_1.csv", _rows(30, initial_call_type="Person in Crisis"))
    cfg = write_config(tmp_path)
    with pytest.raises(RunFailed, match=r"30 rows were kept but none reached the published "
                                        r"universe.*initial_call_type holds codes"):
        run(cfg, now=NOW)
    assert not settings.public_db().exists()


def test_universe_that_falls_by_half_is_refused(tmp_path):
    cfg, before = _published(tmp_path, _rows(40))
    # a correction re-labels most calls with a code outside the pilot's groups
    rows = _rows(40)
    for r in rows[:30]:
        r["initial_call_type"] = "Person in Crisis"
    write_csv(tmp_path / "landing/a/a_1.csv", rows)
    with pytest.raises(RunFailed, match=r"universe would fall from 40 calls to 10"):
        run(cfg, now=NOW)
    assert _digest() == before


MAPPING = """
name = "px"
[rename]
"Case" = "incident_id"
"Received" = "received_at"
"Type" = "initial_call_type"
"Outcome" = "disposition"
"Area" = "lapd_division"
[constant]
responder_type = "civilian_team"
call_origin = "911"
[values.disposition]
"DONE" = "{meaning}"
"""


def test_an_edited_mapping_reaches_the_next_release(tmp_path):
    (tmp_path / "px.toml").write_text(MAPPING.format(meaning="resolved_on_scene"))
    write_csv(tmp_path / "landing/x/x_1.csv",
              [{"Case": f"C{i}", "Received": "2025-03-04T10:00:00", "Type": "918M",
                "Outcome": "DONE", "Area": "Central"} for i in range(30)],
              columns=["Case", "Received", "Type", "Outcome", "Area"])
    cfg = write_config(tmp_path, [("x", "px.toml", "landing/x/*.csv")])
    assert run(cfg, now=NOW).mode == "full"
    (tmp_path / "px.toml").write_text(MAPPING.format(meaning="transported_community"))
    report = run(cfg, now=NOW)
    assert report.mode == "full" and report.rows_in == 30  # not "0 rows in"
    con = duckdb.connect(str(settings.warehouse_db()), read_only=True)
    assert con.execute("select distinct disposition from calls").fetchall() == [
        ("transported_community",)]


def test_hostile_times_are_set_aside_with_file_line_and_value(tmp_path, capsys):
    rows = _rows(100)
    rows += [canonical_row(incident_id="Y1", received_at="0001-01-01T00:00:00"),
             canonical_row(incident_id="Y2", received_at="1900-01-01T00:00:00"),
             canonical_row(incident_id="Y3", received_at="2025-03-04T10:00:00+25:00")]
    write_csv(tmp_path / "landing/a/a_1.csv", rows)
    report = run(write_config(tmp_path), now=NOW)
    assert report.status == "ok" and report.rows_quarantined == 3
    assert cli.main(["quarantine"]) == 0
    out = capsys.readouterr().out
    assert "a_1.csv line 102: received_at before the earliest date accepted ('0001-01-01T00:00:00')" in out
    assert "a_1.csv line 103: received_at before the earliest date accepted" in out
    assert "a_1.csv line 104: UTC offset beyond ±14:00 in received_at ('2025-03-04T10:00:00+25:00')\n" in out
    # no month of 1900 is published
    pub = duckdb.connect(str(settings.public_db()), read_only=True)
    first = pub.execute("select min(period) from coverage where period_type = 'month'").fetchone()[0]
    assert first >= "2025-01"


def test_short_rows_and_line_breaks_in_quotes_in_a_real_run(tmp_path, capsys):
    path = write_csv(tmp_path / "landing/a/a_1.csv", _rows(30, force_type="restraint"))
    text = path.read_text().splitlines()
    # a quoted line break in row 1, and row 3 cut short after its received time
    text[1] = text[1].replace(",restraint,", ',"two\nlines",', 1)
    fields = text[3].split(",")
    text[3] = ",".join(fields[:4])
    path.write_text("\n".join(text) + "\n")
    report = run(write_config(tmp_path), now=NOW)
    # the line break inside quotes is read as part of its field; the short row is set aside
    assert (report.rows_in, report.rows_quarantined) == (30, 1)
    assert cli.main(["quarantine", "--csv", str(tmp_path / "q.csv")]) == 0
    q = (tmp_path / "q.csv").read_text()
    assert "a_1.csv,4,short row: fewer fields than the header" in q


def test_a_failed_run_keeps_its_set_aside_rows(tmp_path, capsys):
    cfg, before = _published(tmp_path)
    write_csv(tmp_path / "landing/a/a_2.csv",
              _rows(10, prefix="N", received_at="not a time"))  # 10 of 50 rows: over 5%
    with pytest.raises(RunFailed, match="failed validation"):
        run(cfg, now=NOW)
    assert _digest() == before
    assert cli.main(["quarantine", "--failed"]) == 0
    out = capsys.readouterr().out
    assert "rows set aside by failed run" in out
    assert "a_2.csv line 2: unreadable time in received_at ('not a time')" in out
    assert "10 rows set aside" in out


def test_status_json_gives_numbers_and_the_right_warehouse(tmp_path, capsys, monkeypatch):
    _published(tmp_path)
    db = settings.public_db()
    # the public file is named, the warehouse is not: it is found beside the file or by default
    assert cli.main(["status", "--db", str(db), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["warehouse"] == str(settings.warehouse_db())
    assert isinstance(st["runs"][0]["rows_in"], int) and st["runs"][0]["rows_in"] == 40
    # a public file no known warehouse produced: said so, runs from the file itself
    other = tmp_path / "elsewhere" / "public.duckdb"
    other.parent.mkdir()
    shutil.copy(db, other)
    monkeypatch.setenv("OUTCOMES_WAREHOUSE", str(tmp_path / "none" / "warehouse.duckdb"))
    assert cli.main(["status", "--db", str(other), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["warehouse"] is None and "pass --warehouse" in st["warehouse_note"]
    assert st["runs"][0]["status"] == "ok"


def test_a_point_without_a_division_is_placed_by_the_real_division_boundaries(tmp_path, caplog):
    # City Hall (Central division) and a point in Harbor (San Pedro), no division given
    rows = _rows(30)
    rows += _rows(5, prefix="P", lapd_division="")
    rows += _rows(3, prefix="S", lapd_division="", latitude="33.7361", longitude="-118.2923")
    rows += _rows(2, prefix="D", lapd_division="Harbor")  # a point in Central
    write_csv(tmp_path / "landing/a/a_1.csv", rows)
    with caplog.at_level("INFO"):
        assert run(write_config(tmp_path), now=NOW).status == "ok"
    con = duckdb.connect(str(settings.warehouse_db()), read_only=True)
    got = dict(con.execute("select lapd_division, count(*) from calls group by 1").fetchall())
    assert got == {"Central": 35, "Harbor": 5}
    assert "8 records with a point but no division were placed" in caplog.text
    assert "2 records give an LAPD division their point lies outside of" in caplog.text


def test_a_library_error_never_carries_input_into_the_run_log():
    from etl.pipeline import _scrubbed
    exc = duckdb.ConversionException(
        "Conversion Error: Could not convert string 'INC-77 Jane Roe 34.05,-118.24' to INT32\n"
        "LINE 1: select ...")
    text = _scrubbed(exc)
    assert "Jane" not in text and "34.05" not in text and "LINE 1" not in text
    assert text.startswith("ConversionException: Conversion Error: Could not convert string")


def test_quarantine_csv_never_runs_a_formula(tmp_path):
    rows = _rows(100) + [canonical_row(incident_id="F1", disposition='=HYPERLINK("http://x")')]
    write_csv(tmp_path / "landing/a/a_1.csv", rows)
    assert run(write_config(tmp_path), now=NOW).rows_quarantined == 1
    assert cli.main(["quarantine", "--csv", str(tmp_path / "q.csv")]) == 0
    q = (tmp_path / "q.csv").read_text()
    assert "formula-like text in disposition" in q
    assert "'=HYPERLINK" in q and ',=HYPERLINK' not in q


def test_failed_runs_keep_their_rows_whatever_the_first_one_held(tmp_path, capsys):
    cfg, before = _published(tmp_path)
    # first failure: every reason without a value; second: with one
    write_csv(tmp_path / "landing/a/a_2.csv", _rows(10, prefix="M", received_at=""))
    with pytest.raises(RunFailed, match="failed validation"):
        run(cfg, now=NOW)
    write_csv(tmp_path / "landing/a/a_2.csv", _rows(10, prefix="N", received_at="soon"))
    with pytest.raises(RunFailed, match="failed validation"):
        run(cfg, now=NOW)
    assert _digest() == before
    assert cli.main(["quarantine", "--failed"]) == 0
    assert "unreadable time in received_at ('soon')" in capsys.readouterr().out


def test_a_universe_refusal_keeps_the_rows_set_aside(tmp_path, capsys):
    rows = _rows(100, initial_call_type="Person in Crisis")
    rows.append(canonical_row(incident_id="B1", received_at="later"))
    write_csv(tmp_path / "landing/a/a_1.csv", rows)
    with pytest.raises(RunFailed, match="none reached the published universe"):
        run(write_config(tmp_path), now=NOW)
    assert cli.main(["quarantine", "--failed"]) == 0
    assert "a_1.csv line 102: unreadable time in received_at ('later')" in capsys.readouterr().out


def test_an_export_with_its_own_rowid_column_reads(tmp_path):
    (tmp_path / "m.toml").write_text('name = "m"\n[rename]\n"ROWID" = "incident_id"\n'
                                     '"Received" = "received_at"\n"_fid" = "initial_call_type"\n'
                                     '[constant]\ncall_origin = "911"\n'
                                     'responder_type = "civilian_team"\n')
    write_csv(tmp_path / "landing/m/m_1.csv",
              [{"ROWID": f"R{i}", "Received": "2025-03-04T10:00:00", "_fid": "918M"}
               for i in range(30)], columns=["ROWID", "Received", "_fid"])
    report = run(write_config(tmp_path, [("m", "m.toml", "landing/m/*.csv")]), now=NOW)
    assert report.status == "ok" and report.rows_out == 30


def test_a_file_without_its_header_is_named_without_quoting_it(tmp_path):
    path = write_csv(tmp_path / "landing/a/a_1.csv", _rows(30))
    path.write_text("\n".join(path.read_text().splitlines()[1:]) + "\n")
    with pytest.raises(RunFailed, match="the header is missing") as err:
        run(write_config(tmp_path), now=NOW)
    assert "INC" not in str(err.value) and "34.05" not in str(err.value)
