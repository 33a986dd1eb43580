-- Repeat contact (SPEC 4, metric 8). Universe: people (keyed HMAC per source, warehouse only)
-- with a contact in the period early enough that its whole follow-up window lies in the data.
with contacts as (
    select person_key, received_hour,
           strftime(received_hour, '%Y-%m') as month,
           lead(received_hour) over (partition by person_key
                                     order by received_hour, incident_key) as next_contact
    from calls
    where person_key is not null
),
windows as (
    select unnest([30, 90]) as window_days
),
flagged as (
    select c.person_key, c.month, w.window_days,
           coalesce(date_diff('second', c.received_hour, c.next_contact)
                    <= w.window_days * 86400, false) as repeated
    from contacts c cross join windows w
    -- a contact in the last window_days of the data has not had its chance to repeat yet
    where cast(c.received_hour as date) <= cast($through as date) - w.window_days
)
select p.period_type, p.period, f.window_days,
       count(distinct f.person_key) as people,
       count(distinct case when f.repeated then f.person_key end) as people_repeat
from flagged f
join period_bridge p on p.month = f.month
-- fiscal years and pilot to date only: shorter periods would leave too few people
where p.period_type in ('fiscal_year', 'pilot_to_date')
group by all
order by all
