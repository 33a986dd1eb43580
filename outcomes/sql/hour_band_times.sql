-- response-time quartiles by 6-hour band of the call, citywide; a band is only published
-- with 20 or more valid times, so a missing band means fewer (no counts are published)
select responder_type, hour_band, interval, p25_minutes, median_minutes, p75_minutes,
       p90_minutes, coalesce(unstable, false) as unstable
from response_times_by_hour_band
where period_type = $period_type
  and period = $period
  and interval = $interval
order by responder_type, hour_band
