"""The release archive: each run's release kept under its dated name with checksums, listed
in `releases`; `revisions` shows exactly the headline figures the newer release changed."""

from __future__ import annotations

import hashlib
import json

import duckdb
import pandas as pd

from etl.pipeline import run
from tests.conftest import canonical_row, write_config, write_csv


def _month_rows(month: str, civilian: int, police: int, start: int) -> list[dict]:
    rows = []
    for i in range(civilian + police):
        day = 1 + i % 27
        stamp = f"{month}-{day:02d}T10:00:00"
        rows.append(canonical_row(
            incident_id=f"I{start + i}", person_key=f"P{start + i}", received_at=stamp,
            dispatched_at=f"{month}-{day:02d}T10:05:00", enroute_at=f"{month}-{day:02d}T10:06:00",
            on_scene_at=f"{month}-{day:02d}T10:{20 + i % 30:02d}:00",
            cleared_at=f"{month}-{day:02d}T11:30:00",
            responder_type="civilian_team" if i < civilian else "police"))
    return rows


def _table(db, name: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f'select * from "{name}"').df()


def test_two_runs_archive_two_releases_and_revise_only_what_changed(tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOMES_RELEASES_KEPT", "2")
    rows = (_month_rows("2025-02", 60, 40, 0) + _month_rows("2025-03", 60, 40, 1000)
            + _month_rows("2025-04", 60, 40, 2000))
    write_csv(tmp_path / "landing/a/a_2025-04-30.csv", rows)
    cfg = write_config(tmp_path)
    db, wh = tmp_path / "data/public.duckdb", tmp_path / "data/warehouse.duckdb"
    first = run(cfg, db=db, warehouse_path=wh)
    assert first.status == "ok"
    releases = _table(db, "releases")
    assert len(releases) == 1 and releases["files_kept"].all()
    assert not len(_table(db, "revisions"))  # nothing to compare against yet
    march_before = _table(db, "coverage").query(
        "period == '2025-03' and district == 'all' and call_type_group == 'all'")["coverage_rate"].iloc[0]

    # late records for March: 30 more eligible calls police answered
    write_csv(tmp_path / "landing/a/a_2025-05-02-late.csv", _month_rows("2025-03", 0, 30, 5000))
    second = run(cfg, db=db, warehouse_path=wh)
    assert second.status == "ok"
    releases = _table(db, "releases")
    assert list(releases["run_id"]) == [first.run_id, second.run_id]
    folder = db.parent / "releases"
    for name in releases["release"]:
        manifest = json.loads((folder / name / "MANIFEST.json").read_text())
        assert manifest["release"] == name and manifest["files"]
        for rel, digest in manifest["files"].items():  # every file as it was checksummed
            assert hashlib.sha256((folder / name / rel).read_bytes()).hexdigest() == digest
    assert releases["content_sha256"].nunique() == 2  # the data changed

    rev = _table(db, "revisions")
    assert len(rev) and set(rev["release"]) == {releases["release"].iloc[1]}
    assert set(rev["previous_release"]) == {releases["release"].iloc[0]}
    periods = _table(db, "periods")
    holds_march = set(periods[(periods["first_month"] <= "2025-03") & (periods["last_month"] >= "2025-03")]["period"])
    # only figures over March moved: February and April are untouched
    assert set(rev["period"]) <= holds_march, set(rev["period"]) - holds_march
    cov = rev[(rev["table_name"] == "coverage") & (rev["district"] == "all") & (rev["call_type_group"] == "all")]
    march = cov[cov["period"] == "2025-03"].iloc[0]
    assert march["revision"] == "revised"
    assert march["previous_value"] == march_before
    assert abs(march["value"] - 60 / 130) < 1e-12
    assert march["denominator_change"] == 30 and march["denominator_change_flag"] == ""
    assert "2025-Q1" in set(cov["period"])
    # periods still running when the first release's data ended grow with every month: they
    # are not revisions (2025, fiscal 2024-25, pilot to date)
    assert not set(rev["period"]) & {"2025", "FY2024-25", "pilot_to_date"}
    # the civilian teams' median did not move: only police calls came in late
    assert not len(rev[rev["table_name"] == "response_times"])

    # a third run with nothing new: a release like the second, and pruning keeps two
    third = run(cfg, db=db, warehouse_path=wh)
    assert third.status == "ok"
    releases = _table(db, "releases")
    assert len(releases) == 3
    assert list(releases["files_kept"]) == [False, True, True]
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == list(releases["release"].iloc[1:])
    assert releases["content_sha256"].iloc[2] == releases["content_sha256"].iloc[1]
    assert not len(_table(db, "revisions"))


def test_a_bad_retention_setting_says_what_to_do(tmp_path, monkeypatch):
    from outcomes import settings
    monkeypatch.setenv("OUTCOMES_RELEASES_KEPT", "1")
    try:
        settings.releases_kept()
    except ValueError as exc:
        assert "at least 2" in str(exc)
    else:
        raise AssertionError("OUTCOMES_RELEASES_KEPT=1 was accepted")


def test_a_live_file_of_an_older_schema_is_read_not_failed_on(tmp_path):
    """The first run of newer code over a public file written before a column existed: the
    releases table lists the older release with that column empty, and a headline the live
    file does not carry gives no revision instead of stopping the run."""
    import duckdb

    from etl import archive
    live = tmp_path / "public.duckdb"
    with duckdb.connect(str(live)) as con:
        con.execute("create table releases as select '20260101T000000Z-aaaa' as release, "
                    "'aaaa' as run_id, '2026-01-01T00:00:00Z' as released_at, "
                    "'2025-12-31' as data_through")
        con.execute("create table coverage as select 'month' as period_type, '2025-11' as period, "
                    "'all' as district, 'all' as call_type_group, 0.5 as coverage_rate")
    row = {"release": "20260201T000000Z-bbbb", "run_id": "bbbb",
           "released_at": "2026-02-01T00:00:00Z", "data_through": "2026-01-31",
           "code_table_version": "1", "method_version": archive.METHOD_VERSION,
           "content_sha256": "0" * 64}
    releases = archive.releases_table(live, row, keep=12)
    assert list(releases["release"]) == ["20260101T000000Z-aaaa", row["release"]]
    assert list(releases.columns) == archive.RELEASE_COLUMNS
    assert pd.isna(releases["method_version"].iloc[0])
    tables = {"coverage": pd.DataFrame({"period_type": ["month"], "period": ["2025-11"],
                                        "district": ["all"], "call_type_group": ["all"],
                                        "coverage_rate": [0.6], "eligible_calls": [100]}),
              "periods": pd.DataFrame({"period_type": ["month"], "period": ["2025-11"]})}
    revisions = archive.revisions_table(live, tables, row["release"])
    assert revisions.empty and list(revisions.columns) == archive.REVISION_COLUMNS
