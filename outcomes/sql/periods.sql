-- published periods, newest first within each type
select period_type, period, first_month, last_month
from periods
order by period_type, first_month desc, last_month desc
