-- pilot milestones drawn on trend charts
select date, label
from milestones
order by date
