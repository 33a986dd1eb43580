-- every run the public file knows of, newest first (failures carry a category, never error text)
select run_id, started_at, finished_at, status, mode, files_read, rows_in, rows_out,
       rows_quarantined, data_through, failure
from runs
order by started_at desc
