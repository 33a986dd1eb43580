-- the 21 LAPD divisions with their display geometry (GeoJSON, clockwise rings)
select division, geometry_geojson
from divisions
order by division
