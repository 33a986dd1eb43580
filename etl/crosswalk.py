"""LAPD divisions to council districts: area-weighted shares, for records that carry only a
division (LAPD's open data has division and reporting district, never a council district).

Method, published with the shares (table `division_crosswalk`):
- both boundary files are projected to California Albers (EPSG:3310, equal area) and
  intersected;
- a division's share in a district = area of (division ∩ district) / area of the division
  inside the city, so each division's shares sum to 1;
- slivers under 0.5% of a division are dropped before the shares are normalised: they are
  where two independently drawn boundaries disagree by a few metres, not real overlap;
- `in_city_share` says how much of the division's area lies in any council district (the
  rest is water or another city), for readers to judge the estimate.

Universe of what it is used for: counts estimated into districts from divisions are
estimates, marked so in the catalog.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from etl.districts import Boundaries, BoundaryError, read_boundary_file
from etl.divisions import canonical_division
from outcomes import settings

EQUAL_AREA = 3310
SLIVER = 0.005
SQ_M_PER_SQ_MI = 2_589_988.11


@dataclass(frozen=True)
class Divisions:
    frame: gpd.GeoDataFrame  # division (canonical name), geometry
    path: Path
    sha256: str


def missing_message() -> str:
    return ("no LAPD division boundaries found: set OUTCOMES_DIVISIONS=path/to/lapd_divisions.geojson "
            "(the City's 'LAPD Divisions' layer) or place it at "
            "../shared/data/boundaries/lapd_divisions.geojson")


def load_divisions(path: Path | None = None) -> Divisions:
    """The 21 LAPD divisions, named canonically; a clear error when the file is missing,
    unreadable or names a division this project does not know."""
    path, gdf = read_boundary_file(path or settings.divisions_path(), missing_message(),
                                   "LAPD divisions")
    name_col = next((c for c in ("APREC", "AREA_NAME", "division", "Division") if c in gdf.columns), None)
    if name_col is None:
        raise BoundaryError(f"{path} has no division name column (APREC, AREA_NAME or division)")
    names = [canonical_division(str(n)) for n in gdf[name_col]]
    unknown = sorted({str(n) for n, c in zip(gdf[name_col], names) if c is None})
    if unknown:
        raise BoundaryError(f"{path} names divisions this project does not know: {', '.join(unknown)}; "
                            "add their spellings to etl/divisions.py")
    frame = gpd.GeoDataFrame({"division": names}, geometry=gdf.geometry.values, crs=gdf.crs)
    frame = frame.dissolve(by="division", as_index=False)
    return Divisions(frame, path, hashlib.sha256(path.read_bytes()).hexdigest())


def division_crosswalk(divisions: Divisions, districts: Boundaries) -> pd.DataFrame:
    """One row per (division, district) with the division's area share there; each
    division's shares sum to 1 (see the module docstring for the method)."""
    div = divisions.frame.to_crs(EQUAL_AREA)
    cd = districts.frame[["district", "geometry"]].to_crs(EQUAL_AREA)
    pieces = gpd.overlay(div, cd, how="intersection", keep_geom_type=True)
    pieces["area"] = pieces.geometry.area
    division_area = div.set_index("division").geometry.area
    pieces["raw_share"] = pieces["area"] / pieces["division"].map(division_area)
    kept = pieces[pieces["raw_share"] >= SLIVER].copy()
    in_city = pieces.groupby("division")["area"].sum() / division_area
    kept["share"] = kept["area"] / kept.groupby("division")["area"].transform("sum")
    out = pd.DataFrame({
        "division": kept["division"].astype(str),
        "district": kept["district"].astype(str),
        "area_sq_mi": (kept["area"] / SQ_M_PER_SQ_MI).round(3),
        "share": kept["share"].round(6),
        "in_city_share": kept["division"].map(in_city).round(4),
    })
    out["method"] = "area-weighted, EPSG:3310, slivers under 0.5% dropped"
    out["boundary_plan"] = districts.plan
    out["divisions_sha256"] = divisions.sha256
    out = out.sort_values(["division", "district"], key=lambda s: s.map(district_order)).reset_index(drop=True)
    # rounding to 6 places can leave a sum of 0.999999; put the remainder on the largest share
    remainder = 1.0 - out.groupby("division")["share"].sum()
    largest = out.groupby("division")["share"].idxmax()
    out.loc[largest.values, "share"] = (out.loc[largest.values, "share"]
                                        + remainder.loc[largest.index].values).round(6)
    return out


def district_order(value):
    """Sort key: districts by number, anything else (division names) as text."""
    return int(value) if str(value).isdigit() else value
