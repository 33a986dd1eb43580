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

# Loaded on first use (PEP 562): a command that reads one light module of this package
# (`etl status` reads the police baseline's names) need not import the protection, numba
# and HiGHS with it.
_LAZY = {"month_range": "periods", "period_bridge": "periods", "ALL": "release",
         "Release": "release", "build_release": "release"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f"etl.publish.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'etl.publish' has no attribute {name!r}")
