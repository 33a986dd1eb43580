-- the crisis line's part of one slice, or of every district (district = '*')
select district, calls, calls_flag, calls_988, calls_988_flag, share_988, share_988_ci_low,
       share_988_ci_high, unstable, rate_flag, resolved_by_phone, resolved_by_phone_flag
from crisis_line
where period_type = $period_type
  and period = $period
  and ($district = '*' or district = $district)
  and call_type_group = $call_type_group
