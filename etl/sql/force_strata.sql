-- Use of force and injuries by month and stratum (call type group x district x 6-hour
-- band) for the responder types compared; matched_force.sql sums them into periods.
-- Reads: universe, months_to_refresh.
select month, call_type_group, district, hour(received_hour) // 6 as hour_band,
       responder_type, count(*) as n,
       count(use_of_force) as use_of_force_recorded,
       count(*) filter (where use_of_force) as use_of_force_events,
       count(injury_person) as injury_person_recorded,
       count(*) filter (where injury_person) as injury_person_events,
       count(injury_responder) as injury_responder_recorded,
       count(*) filter (where injury_responder) as injury_responder_events
from universe
where month in (select month from months_to_refresh)
  -- the responder types use of force is compared between
  and responder_type in ('civilian_team', 'co_response', 'police')
group by all
