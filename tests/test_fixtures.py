"""The gallery of exports in other systems' shapes (tests/fixtures/): each loads through its
mapping file alone, with the counts its expected.toml states."""

from __future__ import annotations

import shutil
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from etl.extract import FileProblem, extract, list_files
from etl.sources import load_config
from etl.validate import validate

FIXTURES = Path(__file__).parent / "fixtures"
GALLERY = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.toml").exists())
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _config(tmp_path: Path, folder: Path, mapping: Path | None = None) -> Path:
    mapping = mapping or folder / "mapping.toml"
    cfg = tmp_path / "sources.toml"
    cfg.write_text(f"""
[pilot]
[[pilot.coverage]]
from = 2025-01-01
divisions = ["Central"]
hours = [0, 24]

[[source]]
name = "{folder.name}"
format = "{mapping}"
path = "{folder}/*.csv"
""")
    return cfg


def _load(tmp_path: Path, folder: Path, mapping: Path | None = None):
    con = duckdb.connect()
    con.execute("set TimeZone = 'America/Los_Angeles'")
    reads = extract(con, list_files(load_config(_config(tmp_path, folder, mapping))))
    kept, bad = validate(con, NOW)
    return con, reads, kept, bad


def test_the_gallery_has_every_shape():
    assert {"other_city_cad", "crisis_line", "latin1", "bom_crlf", "header_only", "truncated",
            "quoted_newline", "short_rows"} <= set(GALLERY)


@pytest.mark.parametrize("name", GALLERY)
def test_export_loads_by_its_mapping_alone(tmp_path, name):
    folder = FIXTURES / name
    expected = tomllib.loads((folder / "expected.toml").read_text())
    con, reads, kept, bad = _load(tmp_path, folder)
    assert (kept, bad) == (expected["kept"], expected["quarantined"])
    assert sum(r.rows for r in reads) == kept + bad
    reasons = sorted({p["reason"] for (ps,) in con.execute(
        "select problems from quarantined").fetchall() for p in ps})
    assert reasons == sorted(expected["reasons"])
    if "lines" in expected:
        assert [r for (r,) in con.execute(
            "select _row from quarantined order by _row").fetchall()] == expected["lines"]
    first = expected.get("first")
    if first:
        row = con.execute("select * from validated order by _row limit 1").df().iloc[0]
        assert row["incident_id"] == first["incident_id"]
        assert row["disposition"] == first["disposition"]
        if "on_scene_minutes" in first:
            minutes = (row["on_scene_at"] - row["received_at"]).total_seconds() / 60
            assert minutes == first["on_scene_minutes"]
    # dropped columns (names, addresses, narratives) never reach a canonical row
    text = " ".join(str(v) for r in con.execute("select * from extracted").fetchall() for v in r)
    assert "CANARY" not in text


def test_bom_does_not_rename_the_first_column(tmp_path):
    con, _, kept, _ = _load(tmp_path, FIXTURES / "bom_crlf")
    ids = [r for (r,) in con.execute("select incident_id from validated order by 1").fetchall()]
    assert ids == ["1", "2", "3"]  # read from "Case", the first column, BOM and all
    # CRLF: no carriage return is left on the last field
    assert not con.execute("select count(*) from validated "
                           "where contains(lapd_division, chr(13))").fetchone()[0]


def test_latin1_without_its_encoding_names_the_line_and_byte(tmp_path):
    folder = FIXTURES / "latin1"
    plain = tmp_path / "utf8.toml"
    plain.write_text((folder / "mapping.toml").read_text().replace('encoding = "latin-1"\n', ""))
    with pytest.raises(FileProblem) as err:
        _load(tmp_path, folder, plain)
    msg = str(err.value)
    assert "line 2 (as a text editor counts lines): byte 0xED is not utf-8" in msg
    assert 'encoding = "latin-1"' in msg
    assert "\n" not in msg and "tía" not in msg and "Error" not in msg


def test_latin1_text_reads_as_written(tmp_path):
    folder = FIXTURES / "latin1"
    con = duckdb.connect()
    # the narrative is dropped by the mapping; read the file through a mapping that keeps it
    keep = tmp_path / "keep.toml"
    keep.write_text((folder / "mapping.toml").read_text()
                    .replace('drop = ["Narrative"]\n', "")
                    .replace('"Area" = "lapd_division"', '"Area" = "lapd_division"\n'
                             '"Narrative" = "force_type"'))
    con.execute("set TimeZone = 'America/Los_Angeles'")
    extract(con, list_files(load_config(_config(tmp_path, folder, keep))))
    texts = [r for (r,) in con.execute("select force_type from extracted order by _row").fetchall()]
    assert texts[:2] == ["Se fue a casa de su tía", "Pidió café"]


def test_empty_file_says_so(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "x_2025-03-04.csv").write_bytes(b"")
    (folder / "mapping.toml").write_text((FIXTURES / "header_only" / "mapping.toml").read_text())
    with pytest.raises(FileProblem, match=r"x_2025-03-04.csv is empty \(0 bytes\)"):
        _load(tmp_path, folder)


def test_etl_check_reports_without_writing(tmp_path, capsys):
    from etl import cli
    from outcomes import settings
    cfg = _config(tmp_path, FIXTURES / "other_city_cad")
    # 1 row of 5 set aside is more than a run allows: check says so, and exits 1
    assert cli.main(["check", "--config", str(cfg)]) == 1
    out = capsys.readouterr().out
    assert "5 rows: 4 would be kept, 1 set aside" in out
    assert "PROBLEM: 20.0% of rows would be set aside" in out
    assert "cad_2025-03.csv line 6: unreadable time in received_at ('13/05/2025 09:00 AM')" in out
    assert "4 rows reach the published universe" in out
    assert not settings.warehouse_db().exists() and not settings.public_db().exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources.toml"]


def test_etl_check_names_unmapped_values_and_codes(tmp_path, capsys):
    from etl import cli
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "mapping.toml").write_text(
        (FIXTURES / "other_city_cad" / "mapping.toml").read_text())
    text = (FIXTURES / "other_city_cad" / "cad_2025-03.csv").read_text()
    (folder / "cad_2025-04.csv").write_text(
        text.replace("--GOA", "--UNFOUNDED").replace(",WELF,", ",Person in Crisis,"))
    assert cli.main(["check", "--config", str(_config(tmp_path, folder))]) == 1
    out = capsys.readouterr().out
    assert "disposition = '--UNFOUNDED'" in out
    assert "'Person in Crisis'" in out


def test_mapping_new_drafts_a_mapping_that_loads(tmp_path, capsys):
    from etl import cli
    from etl.sources import parse_mapping
    src = FIXTURES / "other_city_cad" / "cad_2025-03.csv"
    out = tmp_path / "draft.toml"
    assert cli.main(["mapping", "new", str(src), "--out", str(out)]) == 0
    m = parse_mapping(tomllib.loads(out.read_text()), str(out))
    assert m.name == "cad"
    assert m.rename["Incident #"] == "incident_id" and m.rename["Rcvd"] == "received_at"
    assert m.rename["Source"] == "call_origin" and m.rename["Area"] == "lapd_division"
    assert m.time_format["on_scene_at"] == ("%m/%d/%Y %I:%M %p",)
    assert set(m.drop) == {"Caller", "Address", "Narrative"}  # free text is never read
    assert m.null_words == ("NA",)
    text = out.read_text()
    assert '# "9-1-1" = ""' in text and '# "ADVISED" = ""' in text
    assert m.clean["disposition"] == (("strip_prefix", "--"),)
    # the draft already reads the file: rows come through, codes still to be mapped
    folder = tmp_path / "landing"
    folder.mkdir()
    shutil.copy(src, folder)
    con, reads, kept, bad = _load(tmp_path, folder, out)
    assert reads[0].rows == 5
    assert cli.main(["mapping", "new", str(src), "--out", str(out)]) == 2  # never overwrites


FEATURES = """
name = "features"
drop = ["Caller", "Address", "Narrative", "Arrest", "Disp", "OnScn", "Clrd"]
null = ["NA"]
[rename]
"Incident #" = "incident_id"
"Source" = "call_origin"
"Rcvd" = "received_at"
"Type" = "initial_call_type"
"Unit Type" = "responder_type"
"Clearance" = "disposition"
"Area" = "lapd_division"
[copy]
arrest = "Clearance"
[clean.disposition]
strip_prefix = "--"
case = "lower"
[time_format]
received_at = "%m/%d/%Y %I:%M %p"
[values.call_origin]
"9-1-1" = "911"
"*" = "non_emergency"
[values.responder_type]
"CRISIS TEAM" = "civilian_team"
"PATROL" = ""
[values.disposition]
"advised" = "resolved_on_scene"
"transport" = "transported_community"
"goa" = "gone_on_arrival"
[values.arrest]
"--GOA" = ""
"*" = "false"
[values.initial_call_type]
"WELF" = "welfare_check"
"""


def test_mapping_language_copy_clean_default_unknown_and_group_names(tmp_path):
    from etl.call_types import load_code_table
    (tmp_path / "features.toml").write_text(FEATURES)
    con, _, kept, bad = _load(tmp_path, FIXTURES / "other_city_cad", tmp_path / "features.toml")
    rows = con.execute("""select incident_id, call_origin, responder_type, disposition, arrest,
                          initial_call_type from extracted order by _row""").fetchall()
    by_id = {r[0]: r[1:] for r in rows}
    # "--ADVISED" -> strip "--", lower case, then the value map; one column feeds two
    assert by_id["OC-1001"] == ("911", "civilian_team", "resolved_on_scene", False, "918M")
    # a value the origin map does not name takes its "*" meaning
    assert by_id["OC-1002"][0] == "non_emergency"
    assert by_id["OC-1002"][4] == "welfare_check"
    assert load_code_table().group_of("welfare_check") == "welfare_check"
    # "PATROL" maps to unknown, "--GOA" leaves arrest unknown; NA stays unknown
    assert by_id["OC-1003"][1] is None and by_id["OC-1003"][3] is None
    assert by_id["OC-1004"][2] is None and by_id["OC-1004"][3] is None


def test_a_bom_file_reads_as_utf8_in_a_latin1_source(tmp_path):
    # one source, two exporters: the system writes Latin-1, a spreadsheet writes UTF-8 + BOM
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(FIXTURES / "latin1" / "latin1_2025-03-04.csv", folder / "m_2025-03-04.csv")
    shutil.copy(FIXTURES / "bom_crlf" / "bom_crlf_2025-03-04.csv", folder / "m_2025-03-05.csv")
    (folder / "mapping.toml").write_text((FIXTURES / "latin1" / "mapping.toml").read_text())
    con, reads, kept, bad = _load(tmp_path, folder)
    assert (kept, bad) == (6, 0)


def test_etl_check_shows_values_a_default_took(tmp_path, capsys):
    from etl import cli
    (tmp_path / "features.toml").write_text(FEATURES)
    cfg = _config(tmp_path, FIXTURES / "other_city_cad", tmp_path / "features.toml")
    cli.main(["check", "--config", str(cfg)])
    out = capsys.readouterr().out
    assert "call_origin = '7 DIGIT' -> non_emergency" in out
    assert "arrest = '--ADVISED' -> false" in out


def test_etl_check_fails_a_delivery_a_run_would_refuse(tmp_path, capsys):
    from etl import cli
    cfg = _config(tmp_path, FIXTURES / "short_rows")  # 2 of 4 rows set aside: over 5%
    assert cli.main(["check", "--config", str(cfg)]) == 1
    assert "more than the 5% a run allows" in capsys.readouterr().out
    cfg = _config(tmp_path, FIXTURES / "header_only")
    assert cli.main(["check", "--config", str(cfg)]) == 1
    assert "the newest export holds no rows" in capsys.readouterr().out


def test_mapping_new_combines_a_date_and_a_time_and_strips_a_prefix(tmp_path):
    from etl.mapping_new import draft
    from etl.sources import parse_mapping
    src = tmp_path / "wcd_2024-08.csv"
    src.write_text("Call #,Intake,Call Date,Call Time,Team,Clearance,Type,Area\n"
                   "W-1,9-1-1,08/02/2024,9:05 AM,MCT,--ADVISED,918M,CENTRAL\n"
                   "W-2,988,08/02/2024,10:15 PM,MCT,--ARREST,Person in Crisis,Hollywood\n")
    text = draft(src, "wcd")
    m = parse_mapping(tomllib.loads(text), "draft")
    assert m.combine["received_at"] == ("Call Date", "Call Time")
    assert m.time_format["received_at"] == ("%m/%d/%Y %I:%M %p",)
    assert m.clean["disposition"] == (("strip_prefix", "--"),)
    assert m.rename["Call #"] == "incident_id" and m.rename["Team"] == "responder_type"
    assert '# "Person in Crisis" = ""' in text and '# "ADVISED" = ""' in text
