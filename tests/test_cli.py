"""The command line is a contract: every command works, and the README shows each one."""

import json
import re
import subprocess
import sys
from pathlib import Path

from etl.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(action.choices)


def test_readme_shows_every_etl_command():
    readme = (ROOT / "README.md").read_text()
    for cmd in subcommands():
        assert re.search(rf"uv run etl {cmd}\b", readme), f"README does not show 'uv run etl {cmd}'"
    assert "uv run streamlit run dashboard.py" in readme
    assert "uv run pytest" in readme
    assert "pip install uv" in readme


def test_readme_lists_every_setting():
    from outcomes.settings import SETTINGS
    readme = (ROOT / "README.md").read_text()
    for name in SETTINGS:
        assert name in readme, f"README does not describe {name}"


def test_help_lists_commands_and_settings():
    out = subprocess.run([sys.executable, "-m", "etl.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for cmd in subcommands():
        assert cmd in out
    assert "OUTCOMES_HMAC_KEY" in out


def test_status_without_anything_says_what_to_do(tmp_path, capsys):
    code = main(["status", "--db", str(tmp_path / "p.duckdb"), "--warehouse", str(tmp_path / "w.duckdb")])
    assert code == 1
    assert "etl run --config" in capsys.readouterr().err


def test_boundaries_from_file_installs_with_checksum(tmp_path, monkeypatch, capsys):
    from tests.conftest import real_boundaries
    import outcomes.settings as s
    target = tmp_path / "installed" / "council_districts.geojson"
    monkeypatch.setattr(s, "installed_boundaries", lambda: target)
    assert main(["boundaries", "--from", str(real_boundaries())]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["plan"] == "2021" and info["districts"] == 15 and len(info["sha256"]) == 64
    assert json.loads(target.with_suffix(".json").read_text())["sha256"] == info["sha256"]


def test_boundaries_download_offline_is_a_clear_error(tmp_path, monkeypatch, capsys):
    import outcomes.settings as s
    monkeypatch.setattr(s, "installed_boundaries", lambda: tmp_path / "cd.geojson")
    monkeypatch.setenv("OUTCOMES_BOUNDARIES_URL", "http://127.0.0.1:9/nothing-listens-here")
    assert main(["boundaries", "--download"]) == 2
    assert "etl boundaries --from FILE" in capsys.readouterr().err
    assert not (tmp_path / "cd.geojson").exists()


def test_the_catalog_records_the_installed_boundary_plan(tmp_path, monkeypatch, capsys):
    """A district file installed with its plan: every district table in the next release
    names that plan, the division tables name the division file, citywide ones neither."""
    import duckdb

    import outcomes.settings as s
    from etl.pipeline import run
    from tests.conftest import canonical_row, real_boundaries, write_config, write_csv
    target = tmp_path / "installed" / "council_districts.geojson"
    monkeypatch.setattr(s, "installed_boundaries", lambda: target)
    assert main(["boundaries", "--from", str(real_boundaries()), "--plan", "2021-test"]) == 0
    capsys.readouterr()
    write_csv(tmp_path / "landing/a/a_1.csv", [canonical_row()])
    report = run(write_config(tmp_path), progress=False)
    with duckdb.connect(report.public_db, read_only=True) as con:
        plans = dict(con.execute("select table_name, boundary_plan from catalog").fetchall())
        sha = con.execute("select distinct boundary_sha256 from districts").fetchall()
    assert plans["coverage"] == "council districts, 2021-test plan"
    assert "2021-test plan" in plans["police_baseline_district"]
    assert plans["police_baseline"].startswith("LAPD divisions")
    assert plans["calls_by_hour"] == "" and plans["runs"] == ""
    assert sha == [(json.loads(target.with_suffix(".json").read_text())["sha256"],)]
