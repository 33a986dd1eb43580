-- one published metric over a slice of the filters. Identifiers in braces come from
-- outcomes.metrics (an allowlist); every value is a bound parameter.
select
    period_type,
    period,
    district,
    {value} as value,
    {ci_low} as ci_low,
    {ci_high} as ci_high,
    {numerator} as numerator,
    {denominator} as denominator,
    coalesce(unstable, false) as unstable,
    {flag} as flag
from {table}
where call_type_group = $call_type_group
{conditions}
order by period_type, period, district
