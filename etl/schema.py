"""The canonical call record of SPEC section 3: column names, kinds and allowed values."""

from __future__ import annotations

CANONICAL_COLUMNS: tuple[str, ...] = (
    "incident_id", "source", "call_origin", "received_at", "dispatched_at", "enroute_at",
    "on_scene_at", "cleared_at", "initial_call_type", "final_call_type", "eligible",
    "screen_out_reason", "responder_type", "unserved_reason", "police_co_dispatched",
    "police_backup_requested", "redirected_to_police", "disposition", "arrest", "citation",
    "use_of_force", "force_type", "injury_person", "injury_responder", "referral_offered",
    "referral_accepted", "lapd_division", "latitude", "longitude", "person_key",
)

TIME_COLUMNS = ("received_at", "dispatched_at", "enroute_at", "on_scene_at", "cleared_at")

BOOLEAN_COLUMNS = (
    "eligible", "police_co_dispatched", "police_backup_requested", "redirected_to_police",
    "arrest", "citation", "use_of_force", "injury_person", "injury_responder",
    "referral_offered", "referral_accepted",
)

NUMBER_COLUMNS = ("latitude", "longitude")

# Columns that identify a call or a person: hashed or dropped before anything is published.
IDENTIFIER_COLUMNS = ("incident_id", "person_key")

# A row without these cannot be counted anywhere, so it is quarantined.
REQUIRED_COLUMNS = ("incident_id", "source", "call_origin", "received_at", "responder_type")
# LAPD calls-for-service rows say nothing of who started a call: whether a record is
# officer-initiated comes from its radio code (etl/call_types.toml).
REQUIRED_BY_ROLE: dict[str, tuple[str, ...]] = {
    "calls": REQUIRED_COLUMNS,
    "police_baseline": ("incident_id", "source", "received_at", "responder_type"),
}

ALLOWED_VALUES: dict[str, tuple[str, ...]] = {
    "call_origin": ("911", "988", "non_emergency", "officer_initiated", "self_initiated"),
    "responder_type": ("civilian_team", "co_response", "police", "fire_ems", "phone"),
    "disposition": (
        "resolved_on_scene", "transported_community", "transported_hospital",
        "involuntary_hold", "arrest", "gone_on_arrival", "refused", "cancelled", "other",
    ),
    "unserved_reason": (
        "no_unit_available", "outside_hours", "outside_area", "cancelled",
        "redirected_to_police", "other",
    ),
}

# Why a call did not pass the dispatch screen, as published (the eligibility funnel). The
# field stays free text on input: a provider's other wording is published as "other", a
# missing reason as "not_recorded" (etl/sql/universe.sql spells this list out too).
SCREEN_OUT_REASONS = ("weapon_reported", "violence_in_progress", "medical_emergency", "other")

PUBLIC_ORIGINS = ("911", "988", "non_emergency")

TRUE_WORDS = ("true", "1", "yes", "t", "y")
FALSE_WORDS = ("false", "0", "no", "f", "n")

# Longest text accepted in a free-text canonical field; longer is quarantined, not truncated.
MAX_TEXT_LENGTH = 200

# A UTC offset after a clock time, outside the ±14:00 that exist on Earth (a regular
# expression): such a time is not read, and its row is set aside.
BAD_OFFSET = (r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*[+-]"
              r"(1[5-9]|[2-9][0-9]|14:?(0[1-9]|[1-5][0-9]))(:?[0-9]{2})?$")
