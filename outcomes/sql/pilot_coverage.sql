-- where and when the pilot answered calls: LAPD divisions with their hours, by span
select division, span_start, span_end, start_hour, end_hour
from pilot_coverage
order by span_start, division
