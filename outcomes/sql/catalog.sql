-- every published table with its grain, measures, universe and definition
select table_name, title, grain, measures, universe, description
from catalog
order by table_name
