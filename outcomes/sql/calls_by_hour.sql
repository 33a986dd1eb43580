-- calls by hour of day and weekday, citywide only (finer places would identify people)
select responder_type, hour_of_day, weekday, calls, calls_flag
from calls_by_hour
where period_type = $period_type
  and period = $period
  and responder_type = $responder_type
order by hour_of_day, weekday
