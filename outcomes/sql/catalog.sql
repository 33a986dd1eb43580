-- every published table with its grain, measures, universe, definition, whether its figures
-- are estimates, and the boundaries its geography follows
select table_name, title, grain, measures, universe, description,
       coalesce(estimate, 'false') as estimate, coalesce(boundary_plan, '') as boundary_plan
from catalog
order by table_name
