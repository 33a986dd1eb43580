-- arrests, citations, force, injuries and referrals per 1,000 responses where recorded
select responder_type, event, responses, recorded, events, not_recorded,
       per_1000, per_1000_ci_low, per_1000_ci_high, coalesce(unstable, false) as unstable
from outcome_events
where period_type = $period_type
  and period = $period
  and district = $district
  and call_type_group = $call_type_group
order by responder_type, event
