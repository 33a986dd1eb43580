-- council districts with their display geometry (GeoJSON, clockwise rings)
select district, name, area_sq_mi, geometry_geojson, boundary_plan
from districts
order by district::int
