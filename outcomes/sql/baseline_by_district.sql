-- LAPD calls of the chosen call types, estimated into council districts, beside the calls
-- the civilian teams answered there (the pilot's own records, all its call types together)
with estimate as (
    select district, calls_estimate, calls_estimate_flag, divisions_used
    from police_baseline_district
    where period_type = $period_type
      and period = $period
      and call_type_group = $baseline_group
),
civilian as (
    select district, responses as civilian_calls, responses_flag as civilian_flag
    from responses
    where period_type = $period_type
      and period = $period
      and call_type_group = 'all'
      and responder_type = 'civilian_team'
)
select d.district, e.calls_estimate, e.calls_estimate_flag, e.divisions_used,
       c.civilian_calls, c.civilian_flag, e.district is not null as has_estimate
from districts d
left join estimate e using (district)
left join civilian c using (district)
order by d.district::int
