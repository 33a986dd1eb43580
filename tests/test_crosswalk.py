"""The division-to-district crosswalk on the real 2021 council districts and LAPD divisions."""

import json

import pytest

from etl.crosswalk import SLIVER, division_crosswalk, load_divisions
from etl.districts import BoundaryError, load_boundaries
from etl.divisions import DIVISIONS
from outcomes import settings
from tests.conftest import real_boundaries


@pytest.fixture(scope="module")
def crosswalk():
    path = settings.shared_data() / "boundaries" / "lapd_divisions.geojson"
    if not path.exists():
        pytest.fail(f"real LAPD divisions missing at {path}: ../shared/data must sit beside the checkout")
    return division_crosswalk(load_divisions(path), load_boundaries(real_boundaries()))


def test_every_division_shares_sum_to_one(crosswalk):
    sums = crosswalk.groupby("division")["share"].sum()
    assert set(sums.index) == set(DIVISIONS.values())  # all 21 divisions
    assert (sums.round(6) == 1.0).all(), sums[sums.round(6) != 1.0]
    assert (crosswalk["share"] >= SLIVER * 0.9).all()  # slivers dropped (then renormalised)
    assert set(crosswalk["district"]) == {str(i) for i in range(1, 16)}


def test_known_geography(crosswalk):
    # Central division (downtown) lies mostly in council district 14, where City Hall is
    central = crosswalk[crosswalk.division == "Central"].set_index("district")["share"]
    assert central.idxmax() == "14" and central.max() > 0.5
    # Harbor division is the port: council district 15
    harbor = crosswalk[crosswalk.division == "Harbor"].set_index("district")["share"]
    assert harbor.idxmax() == "15"
    assert (crosswalk["in_city_share"] > 0.8).all()


def test_unknown_division_name_is_a_clear_error(tmp_path):
    ring = [[-118.3, 34.0], [-118.3, 34.1], [-118.2, 34.1], [-118.2, 34.0], [-118.3, 34.0]]
    path = tmp_path / "divisions.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"APREC": "ATLANTIS"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    with pytest.raises(BoundaryError, match="ATLANTIS"):
        load_divisions(path)
    with pytest.raises(BoundaryError, match="OUTCOMES_DIVISIONS"):
        load_divisions(tmp_path / "missing.geojson")


def test_missing_divisions_fail_closed(tmp_path, monkeypatch):
    from etl.pipeline import RunFailed, run
    from tests.conftest import canonical_row, write_config, write_csv

    write_csv(tmp_path / "landing/a/a_1.csv", [canonical_row()])
    cfg = write_config(tmp_path)
    monkeypatch.setenv("OUTCOMES_DIVISIONS", str(tmp_path / "gone.geojson"))
    with pytest.raises(RunFailed, match="OUTCOMES_DIVISIONS"):
        run(cfg)
    assert not settings.public_db().exists()


def test_crosswalk_is_published(tmp_path):
    import duckdb

    from etl.pipeline import run
    from tests.conftest import canonical_row, write_config, write_csv

    write_csv(tmp_path / "landing/a/a_1.csv", [canonical_row()])
    report = run(write_config(tmp_path))
    with duckdb.connect(report.public_db, read_only=True) as con:
        sums = con.execute("select division, sum(share) from division_crosswalk group by 1").fetchall()
        listed = con.execute("select count(*) from catalog where table_name = 'division_crosswalk'").fetchone()[0]
    assert len(sums) == 21 and all(round(s, 6) == 1.0 for _, s in sums)
    assert listed == 1
