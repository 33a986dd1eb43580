-- rows the last run set aside, by source and reason (small counts hidden)
select source, reason, rows, rows_flag
from quarantine_summary
order by rows desc nulls last, source, reason
