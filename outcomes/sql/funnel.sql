-- the eligibility funnel of one slice: each step, each drop-off and its reasons, in order
select step, node, parent_node, node_kind, calls, calls_flag, share_of_parent,
       share_of_parent_ci_low, share_of_parent_ci_high, unstable, rate_flag
from eligibility_funnel
where period_type = $period_type
  and period = $period
  and district = $district
  and call_type_group = $call_type_group
-- each step's drop-off, then its reasons (largest first, "not recorded" last), then the
-- stage the other calls reached
order by step, case node_kind when 'drop_off' then 0 when 'reason' then 1 else 2 end,
         node like '%not_recorded', calls desc nulls last, node
