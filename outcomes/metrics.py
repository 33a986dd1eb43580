"""The headline metrics of SPEC section 4, as the app reads them from the public file.

Each metric names the published table and columns it comes from; the app never computes a
figure itself, it only picks published ones. Table and column names here are the allowlist
for the one query that is built from identifiers (`queries.metric_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

RESPONDER_TYPES = ("civilian_team", "co_response", "police", "fire_ems", "phone")


@dataclass(frozen=True)
class Metric:
    key: str
    table: str
    value: str
    kind: str  # "share" (0-1), "per_1000" or "minutes"
    denominator: str
    numerator: str | None = None
    fixed: dict[str, str] = field(default_factory=dict)
    # None: the table has no responder dimension; "fixed": fixed["responder_type"];
    # "view": the responder type chosen in the filters
    responder: str | None = None
    ci: bool = True
    higher_is: str = ""  # "better", "worse" or "" (neither: context decides)
    flag: str = "rate_flag"  # the column saying why a value is missing

    @property
    def ci_low(self) -> str | None:
        return f"{self.value}_ci_low" if self.ci else None

    @property
    def ci_high(self) -> str | None:
        return f"{self.value}_ci_high" if self.ci else None


def _outcome(key: str, outcome: str, higher_is: str = "") -> Metric:
    return Metric(key, "outcomes", "per_1000", "per_1000", "responses", "calls",
                  {"outcome": outcome}, responder="view", higher_is=higher_is)


def _event(key: str, event: str, higher_is: str = "") -> Metric:
    return Metric(key, "outcome_events", "per_1000", "per_1000", "recorded", "events",
                  {"event": event}, responder="view", higher_is=higher_is)


def _involvement(key: str, involvement: str) -> Metric:
    return Metric(key, "police_involvement", "per_1000", "per_1000", "recorded", "events",
                  {"involvement": involvement, "responder_type": "civilian_team"},
                  responder="fixed", higher_is="worse")


def _minutes(key: str, interval: str, value: str) -> Metric:
    return Metric(key, "response_times", value, "minutes", "valid_intervals", None,
                  {"interval": interval}, responder="view", ci=False, higher_is="worse",
                  flag="times_flag")


METRICS: dict[str, Metric] = {m.key: m for m in [
    Metric("coverage_rate", "coverage", "coverage_rate", "share", "eligible_calls",
           "civilian_calls", higher_is="better"),
    Metric("workload_share", "workload_share", "workload_share", "share", "handled_calls",
           "civilian_team_calls"),
    _involvement("co_dispatched_per_1000", "police_co_dispatched"),
    _involvement("backup_per_1000", "police_backup_requested"),
    _involvement("redirected_per_1000", "redirected_to_police"),
    _minutes("dispatch_to_scene_median", "dispatch_to_scene", "median_minutes"),
    _minutes("dispatch_to_scene_p90", "dispatch_to_scene", "p90_minutes"),
    _minutes("received_to_scene_median", "received_to_scene", "median_minutes"),
    _minutes("received_to_scene_p90", "received_to_scene", "p90_minutes"),
    _outcome("resolved_on_scene_per_1000", "resolved_on_scene"),
    _outcome("transported_community_per_1000", "transported_community"),
    _outcome("transported_hospital_per_1000", "transported_hospital"),
    _outcome("involuntary_hold_per_1000", "involuntary_hold"),
    _event("arrest_per_1000", "arrest", "worse"),
    _event("citation_per_1000", "citation", "worse"),
    _event("use_of_force_per_1000", "use_of_force", "worse"),
    _event("injury_person_per_1000", "injury_person", "worse"),
    _event("referral_accepted_per_1000", "referral_accepted"),
]}

HEADLINE = (
    "coverage_rate", "workload_share", "co_dispatched_per_1000", "backup_per_1000",
    "redirected_per_1000", "dispatch_to_scene_median", "dispatch_to_scene_p90",
    "received_to_scene_median", "resolved_on_scene_per_1000", "transported_community_per_1000",
    "transported_hospital_per_1000", "involuntary_hold_per_1000", "arrest_per_1000",
)

OUTCOME_ORDER = ("resolved_on_scene", "transported_community", "transported_hospital",
                 "involuntary_hold", "arrest", "gone_on_arrival", "refused", "cancelled",
                 "other", "not_recorded")
EVENT_ORDER = ("arrest", "citation", "use_of_force", "injury_person", "injury_responder",
               "referral_offered", "referral_accepted")


def format_value(metric: Metric, value: float | None) -> str:
    """A published value as the app shows it (the unit in words, no false precision)."""
    if value is None:
        return ""
    if metric.kind == "share":
        return f"{value * 100:.1f}%"
    if metric.kind == "minutes":
        return f"{value:.1f} min"
    return f"{value:.1f}"
