-- eligible calls no civilian team answered, by the reason dispatch recorded
select unserved_reason, calls, calls_flag
from unserved
where period_type = $period_type
  and period = $period
  and district = $district
  and call_type_group = $call_type_group
order by calls desc nulls last, unserved_reason
