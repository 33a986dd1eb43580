-- LAPD calls by division: the chosen call types and all dispatched calls (officer-initiated
-- records left out), for one period
select division,
       max(calls) filter (where call_type_group = $baseline_group) as calls,
       max(calls_flag) filter (where call_type_group = $baseline_group) as calls_flag,
       max(calls) filter (where call_type_group = 'dispatched') as dispatched,
       max(calls_flag) filter (where call_type_group = 'dispatched') as dispatched_flag
from police_baseline
where period_type = $period_type
  and period = $period
  and call_type_group in ($baseline_group, 'dispatched')
group by division
order by division = 'all', division
