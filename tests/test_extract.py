"""Mappings turn each export format into the canonical record; drift fails the run."""

import hashlib
from datetime import datetime, timezone

import duckdb
import pytest

from etl.extract import SchemaDriftError, extract, list_files
from etl.pipeline import RunFailed, run
from etl.sources import ConfigError, load_config
from etl.validate import validate
from outcomes import settings
from tests.conftest import canonical_row, write_config, write_csv

MAPPING = """
name = "provider_x"
drop = ["Client Name", "Narrative"]
[rename]
"Case" = "incident_id"
"Received" = "received_at"
"Arrived" = "on_scene_at"
"Type" = "initial_call_type"
"Outcome" = "disposition"
"Force" = "use_of_force"
"Origin" = "call_origin"
[constant]
responder_type = "civilian_team"
source = "provider_x"
[time_format]
received_at = "%m/%d/%Y %I:%M %p"
on_scene_at = ["%m/%d/%Y %I:%M %p", "%Y-%m-%d %H:%M"]
[values.disposition]
"Resolved" = "resolved_on_scene"
[booleans]
true = ["Y"]
false = ["N"]
"""


def test_mapping_renames_parses_and_maps(tmp_path):
    (tmp_path / "px.toml").write_text(MAPPING)
    cols = ["Case", "Received", "Arrived", "Type", "Outcome", "Force", "Origin", "Client Name",
            "Narrative"]
    write_csv(tmp_path / "landing/x/x_1.csv", [
        {"Case": "C1", "Received": "03/04/2025 10:00 AM", "Arrived": "2025-03-04 10:31",
         "Type": "918M", "Outcome": "Resolved", "Force": "N", "Origin": "911",
         "Client Name": "CANARY NAME", "Narrative": "CANARY TEXT"}], columns=cols)
    cfg = load_config(write_config(tmp_path, [("x", "px.toml", "landing/x/*.csv")]))
    con = duckdb.connect()
    con.execute("set TimeZone = 'America/Los_Angeles'")
    extract(con, list_files(cfg))
    kept, bad = validate(con, datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert (kept, bad) == (1, 0)
    row = con.execute("""select incident_id, disposition, use_of_force, responder_type,
        date_diff('minute', received_at, on_scene_at), source from validated""").fetchone()
    assert row == ("C1", "resolved_on_scene", False, "civilian_team", 31, "provider_x")
    text = " ".join(str(v) for v in con.execute("select * from extracted").fetchone())
    assert "CANARY" not in text  # dropped columns are never read past extraction


def test_unknown_column_names_column_and_file(tmp_path):
    cols = list(canonical_row()) + ["caller_ssn"]
    write_csv(tmp_path / "landing/a/a_1.csv", [dict(canonical_row(), caller_ssn="1")], columns=cols)
    cfg = load_config(write_config(tmp_path))
    with pytest.raises(SchemaDriftError, match=r"'caller_ssn'.*drop list") as err:
        extract(duckdb.connect(), list_files(cfg))
    assert "a_1.csv" in str(err.value)


def test_unknown_column_leaves_previous_public_file_byte_identical(tmp_path):
    write_csv(tmp_path / "landing/a/a_1.csv",
              [canonical_row(incident_id=f"I{i}") for i in range(30)])
    cfg = write_config(tmp_path)
    run(cfg)
    live = settings.public_db()
    before = hashlib.sha256(live.read_bytes()).hexdigest()
    cols = list(canonical_row()) + ["home_address"]
    write_csv(tmp_path / "landing/a/a_2.csv", [dict(canonical_row(incident_id="N"),
                                                    home_address="1 Main St")], columns=cols)
    with pytest.raises(RunFailed, match="home_address"):
        run(cfg)
    assert hashlib.sha256(live.read_bytes()).hexdigest() == before
    assert not list(live.parent.glob("*.tmp-*"))


def test_canonical_needs_every_column(tmp_path):
    row = canonical_row()
    del row["person_key"]
    write_csv(tmp_path / "landing/a/a_1.csv", [row], columns=list(row))
    with pytest.raises(SchemaDriftError, match="missing person_key"):
        extract(duckdb.connect(), list_files(load_config(write_config(tmp_path))))


def test_bad_configs_say_what_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="etl demo"):
        load_config(tmp_path / "missing.toml")
    cfg = write_config(tmp_path, [("a", "no_such_format", "x/*.csv")])
    with pytest.raises(ConfigError, match="neither a built-in mapping"):
        load_config(cfg)
    (tmp_path / "m.toml").write_text('[rename]\n"A" = "not_a_column"\n')
    with pytest.raises(ConfigError, match="not a canonical column"):
        load_config(write_config(tmp_path, [("a", "m.toml", "x/*.csv")]))


def test_public_run_log_names_failures_without_quoting_input(tmp_path):
    write_csv(tmp_path / "landing/a/a_1.csv", [canonical_row(incident_id=f"I{i}") for i in range(30)])
    cfg = write_config(tmp_path)
    bad = tmp_path / "landing/a/a_2.csv"
    cols = list(canonical_row()) + ["client_name"]
    write_csv(bad, [dict(canonical_row(incident_id="N"), client_name="CANARY PERSON")], columns=cols)
    with pytest.raises(RunFailed):
        run(cfg)
    bad.unlink()
    run(cfg)
    con = duckdb.connect(str(settings.public_db()), read_only=True)
    runs = con.execute("select * from runs order by started_at").df()
    con.close()
    assert list(runs["status"]) == ["failed", "ok"]
    assert runs["failure"].iloc[0] == "input columns did not match their mapping"
    assert "message" not in runs.columns
    assert "CANARY" not in runs.astype(str).to_csv() and "client_name" not in runs.astype(str).to_csv()
