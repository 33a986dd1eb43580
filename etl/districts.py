"""Council districts: load and check the boundary file, assign points, build display shapes."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from outcomes import settings

log = logging.getLogger(__name__)

DISTRICT_FIELDS = ("District", "district", "DISTRICT", "DISTRICT_NUMBER", "district_id")
EXPECTED_DISTRICTS = 15


class BoundaryError(ValueError):
    """Boundaries missing or malformed; the run fails closed."""


@dataclass(frozen=True)
class Boundaries:
    frame: gpd.GeoDataFrame  # columns district (text '1'..'15'), name, geometry (EPSG:4326)
    path: Path
    sha256: str
    plan: str


def missing_message() -> str:
    return ("no council district boundaries found: run 'uv run etl boundaries --download' "
            "or 'uv run etl boundaries --from FILE', or set OUTCOMES_BOUNDARIES="
            "path/to/council_districts.geojson")


def read_boundary_file(path: Path | None, missing: str, what: str) -> tuple[Path, gpd.GeoDataFrame]:
    """A polygon file in EPSG:4326, or a BoundaryError saying what to do: `missing` when
    there is no file, and which file could not be read or has no CRS."""
    if path is None or not Path(path).exists():
        raise BoundaryError(missing + (f" (looked for {path})" if path else ""))
    path = Path(path)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise BoundaryError(f"cannot read {what} {path}: {exc}") from exc
    if gdf.crs is None:
        raise BoundaryError(f"{path} declares no coordinate reference system; re-export it "
                            "with one (EPSG:4326 or the City's EPSG:2229)")
    if gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    return path, gdf


def load_boundaries(path: Path | None = None, expected: int | None = EXPECTED_DISTRICTS) -> Boundaries:
    path, gdf = read_boundary_file(path or settings.boundaries_path(), missing_message(), "boundaries")
    field = next((f for f in DISTRICT_FIELDS if f in gdf.columns), None)
    if field is None:
        raise BoundaryError(f"{path} has no district number column (tried {DISTRICT_FIELDS})")
    districts = pd.to_numeric(gdf[field], errors="coerce")
    n = expected or len(gdf)
    if districts.isna().any() or sorted(districts.astype(int)) != list(range(1, n + 1)):
        raise BoundaryError(f"{path}: expected districts 1..{n} once each, "
                            f"found {sorted(districts.dropna().astype(int).tolist())}")
    geom = shapely.make_valid(gdf.geometry.values)
    name_col = "NAME" if "NAME" in gdf.columns else None
    frame = gpd.GeoDataFrame(
        {"district": districts.astype(int).astype(str).values,
         "name": gdf[name_col].astype(str).values if name_col else [""] * len(gdf)},
        geometry=geom, crs=4326,
    ).sort_values("district", key=lambda s: s.astype(int)).reset_index(drop=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    sidecar = path.with_suffix(".json")  # written by 'etl boundaries' with source and plan
    if sidecar.exists():
        plan = str(json.loads(sidecar.read_text()).get("plan", "unknown"))
    else:
        plan = "2021" if "2021" in path.name or "2021" in path.read_text(errors="ignore")[:4000] \
            else "unknown"
    return Boundaries(frame, path, digest, plan)


def assign(b: Boundaries, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """District ('1'..'15') of each point, None outside every district.

    A point on a shared border touches two districts; it goes to the lower-numbered one
    (districts are tried in number order and a point keeps its first hit), so the answer
    never depends on the order of the file.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    hit_district = np.zeros(len(lon), dtype=np.int16)
    polys = b.frame.geometry.values
    shapely.prepare(polys)
    for number, poly in zip(b.frame["district"].astype(int), polys):
        x0, y0, x1, y1 = poly.bounds
        idx = np.nonzero((hit_district == 0) & (lon >= x0) & (lon <= x1)
                         & (lat >= y0) & (lat <= y1))[0]
        if len(idx):
            # intersects (not contains) so points exactly on the outer border count as inside.
            inside = shapely.intersects_xy(poly, lon[idx], lat[idx])
            hit_district[idx[inside]] = number
    out = hit_district.astype(str).astype(object)
    out[hit_district == 0] = None
    return out


def assign_division(divisions, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """LAPD division (canonical name) of each point, None outside every division. A point on
    a border between two divisions goes to the first by name, so the answer is stable."""
    frame = divisions.frame.to_crs(4326).sort_values("division")
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    out = np.full(len(lon), None, dtype=object)
    free = np.ones(len(lon), dtype=bool)
    polys = frame.geometry.values
    shapely.prepare(polys)
    for name, poly in zip(frame["division"], polys):
        x0, y0, x1, y1 = poly.bounds
        idx = np.nonzero(free & (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))[0]
        if len(idx):
            inside = shapely.intersects_xy(poly, lon[idx], lat[idx])
            out[idx[inside]] = name
            free[idx[inside]] = False
    return out


def display_features(b: Boundaries | gpd.GeoDataFrame, key: str = "district",
                     tolerance: float = 0.0002) -> list[dict]:
    """GeoJSON features for drawing (simplified; never used for assignment), in WGS 84, with
    the `key` column as their one property."""
    frame = (b.frame if isinstance(b, Boundaries) else b).to_crs(4326)
    simplified = shapely.simplify(frame.geometry.values, tolerance, preserve_topology=True)
    # Vega-Lite draws spherical polygons: exterior rings must run clockwise.
    oriented = shapely.orient_polygons(simplified, exterior_cw=True) \
        if hasattr(shapely, "orient_polygons") else [shapely.geometry.polygon.orient(g, -1) for g in simplified]
    features = []
    for (_, row), geom in zip(frame.iterrows(), oriented):
        features.append({"type": "Feature", "properties": {key: row[key]},
                         "geometry": json.loads(shapely.to_geojson(shapely.set_precision(geom, 1e-6)))})
    return features
