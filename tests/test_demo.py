"""The demo generator: deterministic, loadable, every column mapped, points where they belong."""

from __future__ import annotations

import csv
import glob
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest

from etl.call_types import load_code_table
from etl.demo import CFS, CODES, GROUPS, PROVIDERS, SOURCES, write_demo
from etl.sources import ConfigError, load_config
from outcomes.settings import boundaries_path

CALLS = 3000

pytestmark = pytest.mark.skipif(
    boundaries_path() is None,
    reason="no council district boundaries: run 'uv run etl boundaries --download'",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("demo")
    return out, write_demo(out, calls=CALLS, seed=7)


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*")) if p.is_file()}


def _read(path: Path, delimiter: str) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pandas()
    return pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False)


def _all_rows(out: Path) -> pd.DataFrame:
    """Every data row, with the mapped canonical names of the columns this test needs."""
    frames = []
    config = load_config(out / "sources.toml")
    for source in config.sources:
        if source.mapping.role != "calls":  # the police baseline has no points or people
            continue
        inverse = {v: k for k, v in source.mapping.rename.items()}
        for path in map(Path, sorted(glob.glob(source.pattern))):
            df = _read(path, source.mapping.delimiter)
            frames.append(pd.DataFrame({
                "source": source.name,
                "incident_id": df[inverse["incident_id"]].astype(str),
                "person_key": df[inverse["person_key"]].astype(str)
                if "person_key" in inverse else "",
                "lapd_division": df[inverse["lapd_division"]].fillna("").astype(str),
                "latitude": pd.to_numeric(df[inverse["latitude"]]),
                "longitude": pd.to_numeric(df[inverse["longitude"]]),
            }))
    return pd.concat(frames, ignore_index=True)


def test_same_seed_gives_identical_bytes(demo, tmp_path: Path) -> None:
    out, _ = demo
    again = tmp_path / "again"
    write_demo(again, calls=CALLS, seed=7)
    assert _files(out) == _files(again)


def test_different_seed_differs(demo, tmp_path: Path) -> None:
    out, _ = demo
    other = tmp_path / "other"
    write_demo(other, calls=CALLS, seed=8)
    first, second = _files(out), _files(other)
    landing = [k for k in first if k.startswith("landing/") and k in second]
    assert landing and any(first[k] != second[k] for k in landing)


def test_config_loads_with_sources_coverage_and_key(demo) -> None:
    out, _ = demo
    config = load_config(out / "sources.toml")
    assert [s.name for s in config.sources] == list(SOURCES) + [CFS]
    assert len(config.coverage) >= 2
    # Coverage only grows: each span keeps the divisions of the one before.
    for before, after in zip(config.coverage, config.coverage[1:]):
        assert set(before.divisions) <= set(after.divisions)
    assert config.milestones
    assert config.max_quarantine_share == 0.05
    assert re.fullmatch(r"[0-9a-f]{64}", config.hmac_key_file.read_text())
    for name in PROVIDERS:
        assert (out / "mappings" / f"{name}.toml").exists()


def test_every_column_is_mapped_and_every_mapped_column_exists(demo) -> None:
    out, _ = demo
    config = load_config(out / "sources.toml")
    for source in config.sources:
        mapping = source.mapping
        paths = [Path(p) for p in sorted(glob.glob(source.pattern))]
        assert paths, f"no files for {source.name}"
        for path in paths:
            if mapping.file_format == "parquet":
                columns = pq.read_schema(path).names
            else:
                with open(path, newline="", encoding="utf-8") as fh:
                    columns = next(csv.reader(fh, delimiter=mapping.delimiter))
            assert set(columns) <= mapping.allowed_input_columns(), (path.name, columns)
            assert set(mapping.rename) | set(mapping.drop) <= set(columns), path.name


def test_files_are_monthly_and_sort_chronologically(demo) -> None:
    out, summary = demo
    for name in SOURCES:
        names = [p.name for p in sorted((out / "landing" / name).iterdir())]
        assert names and all(re.fullmatch(rf"{name}_\d{{4}}-\d{{2}}\.(csv|parquet)", n)
                             for n in names)
        months = [n.split("_")[-1][:7] for n in names]
        assert months == sorted(months) and months[-1] <= "2026-10"
    assert summary["rows_total"] == sum(summary["rows"].values())


def test_points_in_city_fall_in_council_districts(demo) -> None:
    out, _ = demo
    rows = _all_rows(out)
    # Impossible coordinates (0,0, other states, swapped) are there on purpose, for quarantine.
    in_county = rows.latitude.between(33.6, 34.5) & rows.longitude.between(-118.9, -117.9)
    rows = rows[in_county]
    districts = gpd.read_file(boundaries_path()).to_crs(4326)[["District", "geometry"]]
    points = gpd.GeoDataFrame(
        rows, geometry=gpd.points_from_xy(rows.longitude, rows.latitude), crs=4326)
    joined = gpd.sjoin(points, districts, predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    in_city = joined.lapd_division != ""
    assert in_city.sum() > 0.95 * len(joined)
    assert joined.loc[in_city, "District"].notna().all()
    # The few out-of-city records (Santa Monica, Burbank ...) carry no division and no district.
    assert joined.loc[~in_city, "District"].isna().all()
    # Districts differ in volume.
    counts = joined.District.value_counts()
    assert len(counts) == 15 and counts.max() > 2 * counts.min()


def test_civilian_rows_from_every_provider_with_repeat_clients(demo) -> None:
    out, summary = demo
    rows = _all_rows(out)
    for name in PROVIDERS:
        mine = rows[rows.source == name]
        assert summary["rows"][name] == len(mine) > 0
        assert mine.person_key.str.fullmatch(r"[ABC]-\d{6}").all()
        assert mine.person_key.duplicated().any(), f"{name}: no client has a second contact"
    # Incident ids never collide across sources.
    per_id = rows.groupby("incident_id").source.nunique()
    assert (per_id == 1).all()


def _canonical(source, df: pd.DataFrame, column: str) -> pd.Series:
    """One canonical column of a provider file: renamed, value-mapped, times parsed to local."""
    inverse = {v: k for k, v in source.mapping.rename.items()}
    values = df[inverse[column]].fillna("").astype(str)
    mapped = source.mapping.values.get(column)
    if mapped:
        values = values.map(lambda v: mapped.get(v, v))
    if column.endswith("_at"):
        formats = source.mapping.time_format.get(column)
        if formats:
            return pd.to_datetime(values, format=formats[0])
        parsed = pd.to_datetime(values, format="ISO8601", utc=True)
        return parsed.dt.tz_convert("America/Los_Angeles").dt.tz_localize(None)
    return values


def test_civilian_responses_are_eligible_calls_or_outreach(demo) -> None:
    from etl.divisions import canonical_division

    out, _ = demo
    config = load_config(out / "sources.toml")
    table = load_code_table()
    for source in config.sources:
        if source.name not in PROVIDERS:
            continue
        df = pd.concat([_read(Path(p), source.mapping.delimiter)
                        for p in sorted(glob.glob(source.pattern))], ignore_index=True)
        origin = _canonical(source, df, "call_origin")
        received = _canonical(source, df, "received_at")
        division = _canonical(source, df, "lapd_division").map(canonical_division)
        group = _canonical(source, df, "initial_call_type").map(table.group_of)
        flag = _canonical(source, df, "eligible").str.lower()
        true_words = {"true", "1", "yes", "t", "y", *source.mapping.true_words}
        called = origin != "self_initiated"
        assert called.mean() > 0.8
        for when, div, grp, ok in zip(received[called], division[called], group[called],
                                      flag[called]):
            spans = [s for s in config.coverage if s.start <= when.date()]
            span = spans[-1]
            assert div in span.divisions and span.start_hour <= when.hour < span.end_hour
            assert grp in config.pilot_groups and ok in true_words


def test_messy_parts_are_present_but_small(demo) -> None:
    _, summary = demo
    messy = summary["messy"]
    quarantine_kinds = ("time_order_errors", "bad_coordinates", "unknown_codes")
    assert sum(messy[k] for k in quarantine_kinds) < 0.02 * CALLS
    for kind in ("duplicate_rows", "corrections", "late_records", "missing_on_scene"):
        assert 0 < messy[kind] < 0.05 * CALLS, kind


def test_demo_codes_belong_to_their_groups() -> None:
    table = load_code_table()
    for group, codes in zip(GROUPS, CODES):
        for code, _ in codes:
            assert table.group_of(code) == group, code


def test_missing_boundaries_say_what_to_do(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OUTCOMES_BOUNDARIES", str(tmp_path / "nowhere.geojson"))
    with pytest.raises(ConfigError, match="etl boundaries --download"):
        write_demo(tmp_path / "out", calls=10)
