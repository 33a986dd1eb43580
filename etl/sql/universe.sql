-- One row per call of the published universe, with the attributes the cube is built from.
-- Universe: public-initiated calls (911, 988, non-emergency) of pilot call type groups.
-- Reads `calls_to_publish`: the warehouse's calls, or those of the months being refreshed
-- (etl/monthly.py).
with typed as (
    select c.*, coalesce(g.call_type_group, 'other') as call_type_group
    from calls_to_publish c
    left join call_groups g on g.code = c.initial_call_type
),
public_pilot_type as (
    -- officer- and self-initiated contacts never enter a denominator (SPEC 4, metric 3)
    select * from typed
    where call_origin in ('911', '988', 'non_emergency')
      and call_type_group in (select call_type_group from pilot_groups)
),
placed as (
    -- the coverage span in force on the day of the call decides area and hours
    select p.*, s.start_hour, s.end_hour, s.division is not null as division_covered
    from public_pilot_type p
    left join coverage_spans s
      on s.division = p.lapd_division
     and cast(p.received_hour as date) >= s.span_start
     and cast(p.received_hour as date) < s.span_end
)
select
    strftime(received_hour, '%Y-%m') as month,
    coalesce(district, location_status) as district,
    call_type_group,
    responder_type,
    call_origin,
    case
        when location_status = 'outside_city' or not division_covered then 'outside_pilot_area'
        when hour(received_hour) < start_hour or hour(received_hour) >= end_hour
            then 'outside_pilot_hours'
        when eligible is null then 'screen_not_recorded'
        when not eligible then 'screened_out'
        when responder_type = 'civilian_team' then 'eligible_served'
        else 'eligible_unserved_' || coalesce(unserved_reason, 'not_recorded')
    end as status,
    -- why a call did not pass the screen, from a fixed list (etl/publish/families.py
    -- SCREEN_OUT): a provider's other wording is "other", a missing reason "not_recorded"
    case when screen_out_reason is null then 'not_recorded'
         when screen_out_reason in ('weapon_reported', 'violence_in_progress',
                                    'medical_emergency', 'other') then screen_out_reason
         else 'other' end as screen_out_reason,
    coalesce(disposition, 'not_recorded') as disposition,
    arrest, citation, use_of_force, injury_person, injury_responder,
    police_co_dispatched, police_backup_requested, redirected_to_police,
    referral_offered, referral_accepted,
    -- invalid intervals are excluded from medians and counted (SPEC 4, metric 5)
    case when dispatch_to_scene_seconds is null then 'missing'
         when dispatch_to_scene_seconds < 0 then 'negative'
         when dispatch_to_scene_seconds > 86400 then 'over_24h'
         else 'valid' end as dispatch_interval,
    case when received_to_scene_seconds is null then 'missing'
         when received_to_scene_seconds < 0 then 'negative'
         when received_to_scene_seconds > 86400 then 'over_24h'
         else 'valid' end as received_interval,
    dispatch_to_scene_seconds,
    received_to_scene_seconds,
    received_hour
from placed
