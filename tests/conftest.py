"""Shared fixtures: tiny hand-made canonical exports, two hand-drawn districts, a test key."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from etl.schema import CANONICAL_COLUMNS
from outcomes import settings

TEST_KEY = "test-key-0123456789abcdef0123456789abcdef"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory, monkeypatch):
    """Every test gets its own public file and warehouse, and a known HMAC key."""
    base = tmp_path_factory.mktemp("outcomes")
    monkeypatch.setenv("OUTCOMES_HMAC_KEY", TEST_KEY)
    # every chart a test builds is checked against the Vega-Lite schema (the server skips it)
    monkeypatch.setenv("OUTCOMES_VALIDATE_CHARTS", "1")
    monkeypatch.setenv("OUTCOMES_DB", str(base / "public.duckdb"))
    monkeypatch.setenv("OUTCOMES_WAREHOUSE", str(base / "warehouse.duckdb"))


def shared_data() -> Path:
    return settings.shared_data()


def shared_file(relative: str, what: str) -> Path:
    p = shared_data() / relative
    if not p.exists():
        pytest.fail(f"{what} missing at {p}: ../shared/data must sit beside the checkout "
                    "(or set OUTCOMES_SHARED_DATA)")
    return p


def real_boundaries() -> Path:
    return shared_file("boundaries/la_city_council_districts_2021.geojson", "real boundaries")


def canonical_row(**overrides) -> dict[str, str]:
    """A valid civilian-team call in Central division / council district 14 (City Hall)."""
    row = dict.fromkeys(CANONICAL_COLUMNS, "")
    row.update(
        incident_id="INC-1", source="provider_test", call_origin="911",
        received_at="2025-03-04T10:00:00", dispatched_at="2025-03-04T10:05:00",
        enroute_at="2025-03-04T10:06:00", on_scene_at="2025-03-04T10:30:00",
        cleared_at="2025-03-04T11:10:00", initial_call_type="918M", final_call_type="918M",
        eligible="true", responder_type="civilian_team", disposition="resolved_on_scene",
        police_co_dispatched="false", police_backup_requested="false",
        redirected_to_police="false", arrest="false", citation="false", use_of_force="false",
        injury_person="false", injury_responder="false", referral_offered="true",
        referral_accepted="true", lapd_division="Central", latitude="34.0537",
        longitude="-118.2428", person_key="P-1",
    )
    row.update({k: str(v) for k, v in overrides.items()})
    return row


def write_csv(path: Path, rows: list[dict[str, str]], columns=CANONICAL_COLUMNS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(columns))
        w.writeheader()
        w.writerows(rows)
    return path


PILOT = """
[pilot]
[[pilot.coverage]]
from = 2025-01-01
divisions = ["Central", "Hollywood"]
hours = [7, 23]
"""


def write_config(folder: Path, sources: list[tuple[str, str, str]] | None = None,
                 extra: str = "") -> Path:
    """sources.toml with a canonical source reading folder/landing/a/*.csv by default."""
    sources = sources or [("a", "canonical", "landing/a/*.csv")]
    text = extra + PILOT + "".join(
        f'\n[[source]]\nname = "{n}"\nformat = "{f}"\npath = "{p}"\n' for n, f, p in sources)
    cfg = folder / "sources.toml"
    cfg.write_text(text)
    return cfg


def squares_geojson(path: Path) -> Path:
    """Two hand-drawn unit squares side by side as districts 1 and 2 (lon 0..1 and 1..2)."""
    feats = []
    for d, x0 in ((1, 0.0), (2, 1.0)):
        ring = [[x0, 0.0], [x0, 1.0], [x0 + 1, 1.0], [x0 + 1, 0.0], [x0, 0.0]]
        feats.append({"type": "Feature", "properties": {"District": d},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def build_demo_public_file(folder: Path, calls: int, seed: int) -> Path:
    """Demo exports run through the real pipeline: a public file like the app's first start."""
    from etl.demo import write_demo
    from etl.pipeline import run

    write_demo(folder / "demo", calls=calls, seed=seed)
    db = folder / "public.duckdb"
    run(folder / "demo" / "sources.toml", db=db, warehouse_path=folder / "warehouse.duckdb",
        progress=False)
    return db


@pytest.fixture(scope="session")
def app_public_file(tmp_path_factory) -> Path:
    """One public file from 60,000 demo calls, shared by the app, export and browser tests."""
    return build_demo_public_file(tmp_path_factory.mktemp("app_public"), calls=60_000, seed=5)
