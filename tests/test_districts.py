import json

import numpy as np
import pytest

from etl.districts import BoundaryError, assign, display_features, load_boundaries
from tests.conftest import real_boundaries


@pytest.fixture(scope="module")
def real():
    return load_boundaries(real_boundaries())


def test_city_hall_is_in_district_14(real):
    assert assign(real, np.array([-118.2428]), np.array([34.0537]))[0] == "14"


def test_ocean_point_is_in_no_district(real):
    # Santa Monica Bay, well offshore
    assert assign(real, np.array([-118.60]), np.array([33.90]))[0] is None


def test_real_file_has_15_districts_in_wgs84(real):
    assert list(real.frame["district"]) == [str(i) for i in range(1, 16)]
    assert real.frame.crs.to_epsg() == 4326
    assert real.plan == "2021"


def test_squares_and_border_rule(tmp_path):
    from tests.conftest import squares_geojson
    b = load_boundaries(squares_geojson(tmp_path / "sq.geojson"), expected=2)
    lon = np.array([0.5, 1.5, 1.0, 3.0, 1.0])
    lat = np.array([0.5, 0.5, 0.5, 0.5, 1.0])
    # on the shared edge x=1 the lower-numbered district wins; outside both -> None
    assert list(assign(b, lon, lat)) == ["1", "2", "1", None, "1"]


def test_projected_crs_is_reprojected(tmp_path, real):
    projected = tmp_path / "cd_3857.geojson"
    real.frame.to_crs(3857).to_file(projected, driver="GeoJSON")
    b = load_boundaries(projected)
    got = assign(b, np.array([-118.2428, -118.60]), np.array([34.0537, 33.90]))
    assert list(got) == ["14", None]


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(BoundaryError, match="etl boundaries --download"):
        load_boundaries(tmp_path / "nope.geojson")


def test_wrong_districts_rejected(tmp_path):
    p = tmp_path / "bad.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"District": 1},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [0, 0]]]}}]}))
    with pytest.raises(BoundaryError, match="expected districts 1..15"):
        load_boundaries(p)


def test_display_features_are_clockwise_geojson(real):
    import shapely
    feats = display_features(real)
    assert len(feats) == 15
    for f in feats:
        geom = shapely.geometry.shape(f["geometry"])
        polys = getattr(geom, "geoms", [geom])
        for poly in polys:
            assert not poly.exterior.is_ccw  # Vega-Lite wants clockwise exteriors
