-- per council district on a day (ISO date text): the share of its area in LAPD divisions the
-- pilot serves that day, and those divisions with their hours (inputs: division_crosswalk,
-- pilot_coverage)
with served as (
    select division, start_hour, end_hour
    from pilot_coverage
    where span_start <= $day and (span_end = '' or span_end > $day)
)
select
    x.district,
    coalesce(sum(x.area_sq_mi) filter (where s.division is not null), 0)
        / sum(x.area_sq_mi) as served_area_share,
    list(x.division order by x.division) filter (where s.division is not null) as divisions,
    list(s.start_hour order by x.division) filter (where s.division is not null) as start_hours,
    list(s.end_hour order by x.division) filter (where s.division is not null) as end_hours,
    min(s.start_hour) as first_hour,
    max(s.end_hour) as last_hour
from division_crosswalk x
left join served s using (division)
group by x.district
order by try_cast(x.district as integer)
