"""De-identify: keyed HMAC-SHA256 for ids, time coarsened to the hour, intervals kept in seconds.

The key comes from OUTCOMES_HMAC_KEY (or, for demo data, the key file named in sources.toml).
A plain hash of a short id can be reversed by trying every id; a keyed one cannot without
the key, which never leaves the machine that runs the ETL.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import duckdb

from outcomes import settings

MIN_KEY_LENGTH = 32


class HmacKeyError(ValueError):
    """No usable HMAC key."""


def resolve_key(key_file: Path | None) -> bytes:
    key = settings.hmac_key()
    if not key and key_file is not None:
        if not key_file.exists():
            raise HmacKeyError(f"the configuration names hmac_key_file {key_file}, which does not "
                            "exist; set OUTCOMES_HMAC_KEY or recreate the file")
        key = key_file.read_text().strip()
    if not key:
        raise HmacKeyError(
            "OUTCOMES_HMAC_KEY is not set. Ids are replaced by a keyed HMAC-SHA256 and the run "
            "will not guess a key: set OUTCOMES_HMAC_KEY to a secret of at least "
            f"{MIN_KEY_LENGTH} characters (e.g. python -c 'import secrets; "
            "print(secrets.token_hex(32))') and keep it the same from run to run.")
    if len(key) < MIN_KEY_LENGTH:
        raise HmacKeyError(f"OUTCOMES_HMAC_KEY is {len(key)} characters; use at least {MIN_KEY_LENGTH}")
    return key.encode()


def key_fingerprint(key: bytes) -> str:
    """Identifies the key (to notice a changed key) without revealing it."""
    return hmac.new(key, b"crisis-response-outcomes key fingerprint", hashlib.sha256).hexdigest()[:16]


def hmac_params(key: bytes) -> dict[str, str]:
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    return {"hmac_ipad": bytes(b ^ 0x36 for b in block).hex(),
            "hmac_opad": bytes(b ^ 0x5C for b in block).hex()}


def hmac_sql(expr: str, pads: dict[str, str] | None = None) -> str:
    """HMAC-SHA256 (RFC 2104) of a text expression, as lowercase hex, computed inside DuckDB.

    Without `pads` the key pads are bound parameters ($hmac_ipad, $hmac_opad); with them they
    are written in as hex literals, for views (which take no parameters). The view lives in
    the run's connection only and is never stored.
    """
    if pads is None:
        ipad, opad = "$hmac_ipad", "$hmac_opad"
    else:
        ipad, opad = (f"'{bytes.fromhex(pads[k]).hex()}'" for k in ("hmac_ipad", "hmac_opad"))
    return (f"case when {expr} is null then null else lower(sha256(unhex({opad}) || "
            f"unhex(sha256(unhex({ipad}) || encode({expr}))))) end")


# Incident ids are unique within a source; two sources may reuse the same number.
INCIDENT_ID = "source || ':' || incident_id"


def deidentify(con: duckdb.DuckDBPyConnection, key: bytes, source: str = "validated",
               target: str = "deidentified") -> None:
    """Replace ids by keyed hashes; coarsen times; keep coordinates only for the district step.

    A view: the district step materialises it once, with the district beside each row.
    """
    pads = hmac_params(key)
    con.execute(f"""
        create or replace temp view {target} as
        select
            {hmac_sql(INCIDENT_ID, pads)} as incident_key,
            {hmac_sql("source || ':' || person_key", pads)} as person_key,
            source, call_origin,
            upper(initial_call_type) as initial_call_type,
            upper(final_call_type) as final_call_type,
            eligible, screen_out_reason, responder_type, unserved_reason,
            police_co_dispatched, police_backup_requested, redirected_to_police,
            disposition, arrest, citation, use_of_force, injury_person, injury_responder,
            referral_offered, referral_accepted, lapd_division,
            -- Local wall-clock hour is the finest time kept: enough for month, hour band and
            -- weekday, too coarse to pick out one call.
            date_trunc('hour', timezone('America/Los_Angeles', received_at)) as received_hour,
            date_diff('second', dispatched_at, on_scene_at) as dispatch_to_scene_seconds,
            date_diff('second', received_at, on_scene_at) as received_to_scene_seconds,
            on_scene_at is not null as has_on_scene,
            latitude, longitude,
            _source, _role, _file, _row
        from {source}
    """)
