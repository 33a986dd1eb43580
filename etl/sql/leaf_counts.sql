-- Calls of the published universe by month, place, call type group, responder type and
-- leaf item: one item per classification of the call (its eligibility status, its
-- disposition, each event's answer, each interval's state), so each classification sums
-- to the responses. Every published count is a sum of these (etl/publish/families.py).
-- Reads: universe (this release's calls), months_to_refresh (the months to count).
with calls as (
    select month, district, call_type_group, responder_type, call_origin, status,
           case when status = 'screened_out' then screen_out_reason else 'none' end as screen_out,
           disposition,
           arrest, citation, use_of_force, injury_person, injury_responder,
           police_co_dispatched, police_backup_requested, redirected_to_police,
           referral_offered, referral_accepted, dispatch_interval, received_interval,
           count(*) as n
    from universe
    -- a nightly run recounts only the months its files touch
    where month in (select month from months_to_refresh)
    group by all
),
items as (
    select month, district, call_type_group, responder_type, n,
           unnest([
               'status:' || status,
               'screen_out:' || screen_out,
               'origin:' || call_origin,
               'disposition:' || coalesce(disposition, 'not_recorded'),
               'arrest:' || case when arrest then 'true' when not arrest then 'false' else 'unknown' end,
               'citation:' || case when citation then 'true' when not citation then 'false' else 'unknown' end,
               'use_of_force:' || case when use_of_force then 'true' when not use_of_force then 'false' else 'unknown' end,
               'injury_person:' || case when injury_person then 'true' when not injury_person then 'false' else 'unknown' end,
               'injury_responder:' || case when injury_responder then 'true' when not injury_responder then 'false' else 'unknown' end,
               'police_co_dispatched:' || case when police_co_dispatched then 'true' when not police_co_dispatched then 'false' else 'unknown' end,
               'police_backup_requested:' || case when police_backup_requested then 'true' when not police_backup_requested then 'false' else 'unknown' end,
               'redirected_to_police:' || case when redirected_to_police then 'true' when not redirected_to_police then 'false' else 'unknown' end,
               'referral_offered:' || case when referral_offered then 'true' when not referral_offered then 'false' else 'unknown' end,
               'referral_accepted:' || case when referral_accepted then 'true' when not referral_accepted then 'false' else 'unknown' end,
               'dispatch_to_scene:' || dispatch_interval,
               'received_to_scene:' || received_interval
           ]) as item
    from calls
)
select month, district, call_type_group, responder_type, item, sum(n)::bigint as n
from items
group by all
