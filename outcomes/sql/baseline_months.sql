-- the first and last month of the police baseline (LAPD calls for service), if any
select min(period) as first_month, max(period) as last_month, count(*) as months
from (select distinct period from police_baseline where period_type = 'month')
