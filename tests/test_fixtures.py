"""The gallery of exports in other systems' shapes (tests/fixtures/): each loads through its
mapping file alone, with the counts its expected.toml states."""

from __future__ import annotations

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
    assert "line 2: byte 0xED is not utf-8" in msg and 'encoding = "latin-1"' in msg
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
