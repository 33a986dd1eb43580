-- pilot milestones drawn on trend charts (label_es: the label in Spanish, where given;
-- public files from before it have label only)
select *
from milestones
order by date
