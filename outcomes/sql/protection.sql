-- what disclosure control did to each protected table of this release
select "table", cells, hidden_small, hidden_to_protect, under_minimum, not_published,
       rows_allowed, rows_shown, utility_share
from protection
order by "table"
