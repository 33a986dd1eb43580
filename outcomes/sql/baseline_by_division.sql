-- LAPD calls of the chosen call types by division, for one period
select division, calls, calls_flag
from police_baseline
where period_type = $period_type
  and period = $period
  and call_type_group = $baseline_group
order by division = 'all', division
