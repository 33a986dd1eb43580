"""Publish: the metrics of SPEC section 4 at the grains of section 5, disclosure-controlled.

Being rebuilt as a package (periods, grid, protect, families, ...); the release is still
assembled by the previous single module while the new protection is wired in.
"""

from etl.publish._old import *  # noqa: F401,F403
from etl.publish._old import ALL, build_release, month_range, period_bridge  # noqa: F401
