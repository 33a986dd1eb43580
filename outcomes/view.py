"""What a visitor is looking at: the filters, and their form in the URL query string.

A copied link carries exactly these keys, so opening it reproduces the view. Values that
are not published (a period that does not exist, a district outside 1-15) fall back to the
default instead of failing, since links get truncated and edited.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from outcomes.catalog import PERIOD_TYPES
from outcomes.metrics import METRICS, RESPONDER_TYPES

LANGUAGES = ("en", "es")
DISTRICTS = tuple(str(i) for i in range(1, 16))
CALL_TYPE_GROUPS = ("mental_health", "suicide_risk", "substance_use", "welfare_check", "trespass")


@dataclass(frozen=True)
class View:
    period_type: str = "pilot_to_date"
    period: str = "pilot_to_date"
    district: str = "all"
    call_type_group: str = "all"
    responder_type: str = "civilian_team"
    metric: str = "coverage_rate"
    lang: str = "en"

    @property
    def group_for_query(self) -> str:
        """District figures are published for all call type groups together only."""
        return "all" if self.district != "all" else self.call_type_group

    def citywide(self) -> "View":
        """The city to compare a district with: the same call types (all, for a district)."""
        return replace(self, district="all", call_type_group=self.group_for_query)

    def to_params(self) -> dict[str, str]:
        """Only what differs from the default, so links stay short."""
        default = asdict(View())
        return {k: v for k, v in asdict(self).items() if v != default[k]}


def from_params(params: dict[str, str | list[str]], periods: dict[str, list[str]]) -> View:
    """A View from a query string; `periods` maps each period type to its published periods."""
    def one(key: str) -> str | None:
        v = params.get(key)
        if isinstance(v, list):
            v = v[-1] if v else None
        return v

    d = View()
    period_type = one("period_type") if one("period_type") in PERIOD_TYPES else d.period_type
    choices = periods.get(period_type) or []
    period = one("period") if one("period") in choices else (choices[0] if choices else d.period)
    if period_type not in periods:
        period_type, period = d.period_type, d.period
    district = one("district") if one("district") in DISTRICTS else d.district
    group = one("call_type_group") if one("call_type_group") in CALL_TYPE_GROUPS else d.call_type_group
    responder = one("responder_type") if one("responder_type") in RESPONDER_TYPES else d.responder_type
    metric = one("metric") if one("metric") in METRICS else d.metric
    lang = one("lang") if one("lang") in LANGUAGES else d.lang
    return View(period_type, period, district, group, responder, metric, lang)
