-- force and injuries on matched calls: each comparison pairs civilian teams with one other
-- responder type on calls of the same call type group, district and hour band
select comparison, responder_type, event, matched_calls, recorded, events, per_1000,
       per_1000_ci_low, per_1000_ci_high, standardized_per_1000, coalesce(unstable, false) as unstable
from use_of_force_matched
where period_type = $period_type
  and period = $period
  and district = $district
order by comparison, event, responder_type
