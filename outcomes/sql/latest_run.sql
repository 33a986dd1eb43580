-- the last successful run: what the banner's "data through" and "updated" dates come from
select data_through, finished_at
from runs
where status = 'ok'
order by finished_at desc
limit 1
