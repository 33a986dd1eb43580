-- Use of force and injuries on matched calls (SPEC 4, metric 7). A stratum is a call type
-- group x district x 6-hour band in a period; a responder type is compared with the civilian
-- team only inside strata where both answered calls. Never per arrest. Reads the strata by
-- month (`force_strata`, etl/monthly.py) and sums them into periods.
with long as (
    select month, call_type_group, district, hour_band, responder_type, n, 'use_of_force' as event,
           use_of_force_recorded as recorded, use_of_force_events as events from force_strata
    union all
    select month, call_type_group, district, hour_band, responder_type, n, 'injury_person',
           injury_person_recorded, injury_person_events from force_strata
    union all
    select month, call_type_group, district, hour_band, responder_type, n, 'injury_responder',
           injury_responder_recorded, injury_responder_events from force_strata
),
strata as (
    select p.period_type, p.period, l.call_type_group, l.district, l.hour_band,
           l.responder_type, l.event,
           sum(l.n)::bigint as n, sum(l.recorded)::bigint as recorded,
           sum(l.events)::bigint as events
    from long l
    join period_bridge p on p.month = l.month
    where p.period_type in ('year', 'fiscal_year', 'pilot_to_date')
    group by all
),
comparisons as (
    select unnest(['police', 'co_response']) as comparison
),
matched as (
    select c.comparison, s.*
    from strata s
    cross join comparisons c
    join strata civ
      on civ.responder_type = 'civilian_team'
     and (civ.period_type, civ.period, civ.call_type_group, civ.district, civ.hour_band, civ.event)
       = (s.period_type, s.period, s.call_type_group, s.district, s.hour_band, s.event)
    join strata cmp
      on cmp.responder_type = c.comparison
     and (cmp.period_type, cmp.period, cmp.call_type_group, cmp.district, cmp.hour_band, cmp.event)
       = (s.period_type, s.period, s.call_type_group, s.district, s.hour_band, s.event)
    where s.responder_type in ('civilian_team', c.comparison)
),
weights as (
    -- direct standardisation to the civilian team's mix of strata
    select comparison, period_type, period, event, call_type_group, district, hour_band,
           n::double / sum(n) over (partition by comparison, period_type, period, event) as w
    from matched
    where responder_type = 'civilian_team'
)
select m.comparison, m.period_type, m.period, 'all' as district, m.responder_type, m.event,
       sum(m.n)::bigint as matched_calls,
       sum(m.recorded)::bigint as recorded,
       sum(m.events)::bigint as events,
       -- ordered sums: floating-point addition in a fixed order gives the same digits every run
       1000 * sum(w.w * m.events / nullif(m.recorded, 0)
                  order by m.call_type_group, m.district, m.hour_band)
           / nullif(sum(case when m.recorded > 0 then w.w end
                        order by m.call_type_group, m.district, m.hour_band), 0)
           as standardized_per_1000
from matched m
join weights w using (comparison, period_type, period, event, call_type_group, district, hour_band)
group by all
order by all
