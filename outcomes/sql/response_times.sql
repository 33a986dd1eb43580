-- quartiles and 90th percentiles for one interval, with the intervals left out counted
select period_type, period, district, responder_type, interval,
       p25_minutes, median_minutes, p75_minutes, p90_minutes, coalesce(unstable, false) as unstable,
       valid_intervals, missing_intervals, negative_intervals, over_24h_intervals
from response_times
where period_type = $period_type
  and period = $period
  and call_type_group = $call_type_group
  -- $district = '*' asks for every council district (not the city row, nor
  -- 'outside_city' / 'unknown'), else one district
  and (district = $district or ($district = '*' and district in (select district from districts)))
order by interval, responder_type, district
