-- the LAPD divisions the pilot serves on a day (ISO date text), since when, and its hours
with serving as (
    select division, start_hour, end_hour
    from pilot_coverage
    where span_start <= $day and (span_end = '' or span_end > $day)
),
first_served as (
    select division, min(span_start) as since
    from pilot_coverage
    where span_start <= $day
    group by division
)
select s.division, f.since, s.start_hour, s.end_hour
from serving s
join first_served f using (division)
order by s.division
