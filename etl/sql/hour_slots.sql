-- Calls of the published universe by month, responder type, hour of day and weekday (hour
-- and weekday are published citywide only: etl/publish/simple.py).
-- Reads: universe, months_to_refresh.
select month, responder_type, hour(received_hour)::varchar as hour_of_day,
       dayname(received_hour) as weekday, count(*)::bigint as calls
from universe
where month in (select month from months_to_refresh)
group by all
