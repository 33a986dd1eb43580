-- how calls ended, per 1,000 responses, for each responder type
select responder_type, outcome, responses, calls, per_1000, per_1000_ci_low, per_1000_ci_high,
       coalesce(unstable, false) as unstable
from outcomes
where period_type = $period_type
  and period = $period
  and district = $district
  and call_type_group = $call_type_group
order by responder_type, outcome
