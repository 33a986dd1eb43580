-- the LAPD divisions the pilot serves on a day (ISO date text)
select division
from pilot_coverage
where span_start <= $day and (span_end = '' or span_end > $day)
order by division
