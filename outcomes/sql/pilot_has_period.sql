-- whether the pilot's records reach into a period at all (the police baseline may reach
-- further back or further on)
select count(*) > 0
from responses
where period_type = $period_type
  and period = $period
