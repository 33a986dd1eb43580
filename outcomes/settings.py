"""Every path and threshold, declared once: default, environment override, help text.

Relative paths resolve against the project folder, so the app and the ETL agree on where
the public file is whatever directory they are started from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    help: str

    def raw(self) -> str:
        return os.environ.get(self.env, self.default)


SETTINGS: dict[str, Setting] = {
    s.env: s
    for s in [
        Setting("OUTCOMES_DB", "data/public.duckdb",
                "The public file: disclosure-controlled aggregates only. The app opens it read-only."),
        Setting("OUTCOMES_WAREHOUSE", "data/warehouse.duckdb",
                "The private record-level warehouse (de-identified). Never served."),
        Setting("OUTCOMES_BOUNDARIES", "",
                "Council district boundaries (GeoJSON). Empty: the file installed by "
                "'etl boundaries' in data/boundaries/, else ../shared/data/boundaries/."),
        Setting("OUTCOMES_BOUNDARIES_URL",
                "https://services5.arcgis.com/7nsPwEMP38bSkCjy/arcgis/rest/services/"
                "LA_City_Council_Districts_(Adopted_2021)/FeatureServer/0/query"
                "?where=1%3D1&outFields=*&outSR=4326&f=geojson",
                "Where 'etl boundaries --download' fetches the 2021 council districts (City GeoHub)."),
        Setting("OUTCOMES_DIVISIONS", "",
                "LAPD division boundaries (GeoJSON), for the division-to-district crosswalk. Empty: "
                "../shared/data/boundaries/lapd_divisions.geojson."),
        Setting("OUTCOMES_SHARED_DATA", "../shared/data",
                "Folder of real public reference files used for development and tests."),
        Setting("OUTCOMES_HMAC_KEY", "",
                "Secret key for the keyed HMAC-SHA256 of incident and person ids. Required for real runs."),
        Setting("OUTCOMES_MIN_CELL", "11",
                "Smallest count published; counts from 1 to this minus one are hidden, with more "
                "where needed so none can be worked out. 1 turns cell protection off (the "
                "rates' denominator rule stays): for quality checks only, never publish it."),
        Setting("OUTCOMES_MIN_DENOMINATOR", "20",
                "Smallest denominator for which a rate, median or percentile is published."),
        Setting("OUTCOMES_UNSTABLE_DENOMINATOR", "50",
                "Rates over denominators below this are flagged 'unstable'."),
        Setting("OUTCOMES_MAX_QUARANTINE_SHARE", "0.05",
                "A run fails (old public file kept) when more than this share of rows is quarantined."),
        Setting("OUTCOMES_STALE_HOURS", "36",
                "The app warns that data are stale when the last good run is older than this."),
        Setting("OUTCOMES_SHOOTINGS", "",
                "KPCC's coding of the LA County District Attorney's letters on officer-involved "
                "shootings, 2010-2014 (CSV), published as counts by year on the Outcomes page. "
                "Empty: use_of_force/kpcc_la_county_officer_involved_shootings_2010_2014.csv in "
                "OUTCOMES_SHARED_DATA, when it is there."),
        Setting("OUTCOMES_RELEASES_KEPT", "12",
                "How many dated releases (releases/<time>-<run>/, the Parquet tables, catalog and "
                "MANIFEST.json) are kept; older ones are pruned, never the one the newest "
                "release's revisions table compares against. At least 2."),
        Setting("OUTCOMES_PUF_K", "11",
                "The public-use record file is k-anonymous: every combination of its "
                "quasi-identifiers (fiscal year, council district, responder type) holds at "
                "least this many records. At least 11, the smallest published count."),
        Setting("OUTCOMES_PUF_L", "2",
                "The public-use record file is l-diverse: within each such group, each outcome "
                "column released holds at least this many different values (else it is "
                "withheld for the group). At least 2."),
        Setting("OUTCOMES_VALIDATE_CHARTS", "0",
                "1: check every chart the app builds against the Vega-Lite schema (the tests "
                "do). Off when serving: it doubled the time to build a chart."),
    ]
}


def _path(env: str) -> Path:
    p = Path(SETTINGS[env].raw())
    return p if p.is_absolute() else PROJECT_ROOT / p


def public_db() -> Path:
    return _path("OUTCOMES_DB")


def warehouse_db() -> Path:
    return _path("OUTCOMES_WAREHOUSE")


def shared_data() -> Path:
    return _path("OUTCOMES_SHARED_DATA")


def installed_boundaries() -> Path:
    """Where 'etl boundaries' installs the council district file."""
    return PROJECT_ROOT / "data" / "boundaries" / "council_districts.geojson"


def boundaries_path() -> Path | None:
    """The council district file to use, or None when there is none anywhere."""
    raw = SETTINGS["OUTCOMES_BOUNDARIES"].raw()
    if raw:
        p = Path(raw)
        return p if p.is_absolute() else PROJECT_ROOT / p
    for candidate in (
        installed_boundaries(),
        shared_data() / "boundaries" / "la_city_council_districts_2021.geojson",
    ):
        if candidate.exists():
            return candidate
    return None


def divisions_path() -> Path | None:
    """The LAPD division boundary file, or None when there is none."""
    raw = SETTINGS["OUTCOMES_DIVISIONS"].raw()
    if raw:
        p = Path(raw)
        return p if p.is_absolute() else PROJECT_ROOT / p
    candidate = shared_data() / "boundaries" / "lapd_divisions.geojson"
    return candidate if candidate.exists() else None


def boundaries_url() -> str:
    return SETTINGS["OUTCOMES_BOUNDARIES_URL"].raw()


def hmac_key() -> str:
    return SETTINGS["OUTCOMES_HMAC_KEY"].raw()


def min_cell() -> int:
    return int(SETTINGS["OUTCOMES_MIN_CELL"].raw())


def min_denominator() -> int:
    return int(SETTINGS["OUTCOMES_MIN_DENOMINATOR"].raw())


def unstable_denominator() -> int:
    return int(SETTINGS["OUTCOMES_UNSTABLE_DENOMINATOR"].raw())


def max_quarantine_share() -> float:
    return float(SETTINGS["OUTCOMES_MAX_QUARANTINE_SHARE"].raw())


def stale_hours() -> float:
    return float(SETTINGS["OUTCOMES_STALE_HOURS"].raw())


def releases_kept() -> int:
    return _at_least("OUTCOMES_RELEASES_KEPT", 2, "how many dated releases to keep: the newest "
                     "and the one its revisions compare against")


def _at_least(env: str, floor: int, what: str) -> int:
    raw = SETTINGS[env].raw()
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{env}={raw!r} is not a whole number: set it to at least {floor} "
                         f"({what})") from None
    if value < floor:
        raise ValueError(f"{env}={value}: set it to at least {floor} ({what})")
    return value


def puf_k() -> int:
    return _at_least("OUTCOMES_PUF_K", max(11, min_cell()),
                     "the fewest records a group of the public-use file may hold")


def puf_l() -> int:
    return _at_least("OUTCOMES_PUF_L", 2, "the fewest values an outcome column may show in a "
                     "group of the public-use file")


def validate_charts() -> bool:
    return SETTINGS["OUTCOMES_VALIDATE_CHARTS"].raw() == "1"


def describe() -> list[dict[str, str]]:
    """Each setting with its default, current value (secrets masked) and help."""
    out = []
    for s in SETTINGS.values():
        value = s.raw()
        if "KEY" in s.env and value:
            value = "(set)"
        out.append({"name": s.env, "default": s.default, "value": value, "help": s.help})
    return out
