"""Publish: the metrics of SPEC section 4 at the grains of section 5, disclosure-controlled.

- periods.py: months, quarters, years, fiscal years and pilot to date, and how they nest;
- grid.py: the grid of a family (period x place x call type group x item), which rows are
  published at all, and what an outsider knows of a cell not shown;
- protect.py: the protection (alternative tables, for every small count not shown);
- families.py: the headline and detail families, each protected on its own grid;
- simple.py: count tables (other contacts, calls by hour, the run log, the quarantine);
- baseline.py: the police baseline and its district estimates;
- quantiles.py: response-time quantiles;
- tables.py: the published tables, read off the protected families;
- release.py: the whole release, from the warehouse's month tables.
"""

from etl.publish.periods import month_range, period_bridge  # noqa: F401
from etl.publish.release import ALL, Release, build_release  # noqa: F401
