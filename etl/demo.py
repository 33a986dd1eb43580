"""Demo data: realistic landing exports for three nonprofit providers and the city's CAD.

`write_demo(out)` writes, under `out/`:

- `landing/<source>/<source>_YYYY-MM.<csv|parquet>`: one file per month and source, in each
  system's own format (see the mappings `etl/sources/<source>.toml`, copied to `out/mappings/`);
- `sources.toml` (pilot coverage, milestones, sources) and `hmac.key` (seed-derived, demo only).

Everything is drawn from `numpy.random.default_rng(seed)` in a fixed order and rendered with
vectorized numpy / pyarrow, so a seed gives byte-identical files, and 5 million calls take
about a minute. Months are those of the local received time (America/Los_Angeles) and run from
January 2024 through October 2026 whatever today's date is.

The data are invented. The rates are grounded in published figures, cited where they are set;
the others are assumptions, marked as such. The coverage schedule is modelled on the City's
Unarmed Model of Crisis Response (UMCR) pilot (three nonprofits, LAPD divisions Southeast,
Wilshire and Devonshire, then West LA, Olympic and West Valley; MyNewsLA 2024-09 and 2026-01),
with the dates moved and later expansions invented.

Messy parts (each small; see `MESSY_SHARES`): exact duplicate rows, corrections (the same
incident again in a later month's file with fields fixed), late records, missing on-scene
times, on-scene before dispatch, points outside the city but in LA County, impossible
coordinates, and unknown disposition codes.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from etl.divisions import DIVISIONS
from etl.schema import ALLOWED_VALUES, SCREEN_OUT_REASONS
from etl.sources import BUILTIN_DIR, ConfigError, Mapping, load_mapping

# --------------------------------------------------------------------------------------------
# Time span and calendar
# --------------------------------------------------------------------------------------------

FIRST_MONTH = np.datetime64("2024-01", "M")
LAST_MONTH = np.datetime64("2026-10", "M")  # inclusive; fixed so output never depends on today
N_MONTHS = int(LAST_MONTH - FIRST_MONTH) + 1
EPOCH_DAY0 = np.datetime64("1970-01-01", "D")

# Crisis calls by local hour: the shape of LAPD Calls for Service (real 2020 one-week sample in
# ../shared/data/samples, 998 calls, smoothed): a trough at 3-6 am, rising through the day,
# highest 4-8 pm.
HOUR_WEIGHTS = np.array([30, 24, 21, 19, 17, 16, 20, 30, 40, 44, 46, 48,
                         50, 50, 51, 55, 59, 61, 62, 62, 58, 53, 49, 40], dtype=float)
# Monday..Sunday. Assumption: a mild weekend rise (more intoxication-related calls Fri/Sat).
WEEKDAY_WEIGHTS = np.array([1.00, 0.97, 0.97, 0.99, 1.05, 1.08, 1.01])
SEASON_AMPLITUDE = 0.06   # assumption: ~6% more calls in July than in January
GROWTH_PER_YEAR = 0.04    # assumption: crisis-call volume grows slowly


# --------------------------------------------------------------------------------------------
# Vocabularies (indices into these tuples are what the simulation stores)
# --------------------------------------------------------------------------------------------

ORIGINS = ("911", "988", "non_emergency", "officer_initiated", "self_initiated")
O911, O988, ONONEM, OOFFICER, OSELF = range(5)
RESPONDERS = ("civilian_team", "co_response", "police", "fire_ems", "phone")
CIV, CORESP, POLICE, FIRE, PHONE = range(5)
DISPOSITIONS = ALLOWED_VALUES["disposition"]
(RESOLVED, T_COMM, T_HOSP, HOLD, ARREST, GOA, REFUSED, CANCELLED, OTHER) = range(9)
UNKNOWN_CODE = len(DISPOSITIONS)  # a value no mapping knows: the pipeline must quarantine it
UNSERVED = ALLOWED_VALUES["unserved_reason"]
(U_NO_UNIT, U_HOURS, U_AREA, U_CANCELLED, U_REDIRECTED, U_OTHER) = range(6)
SCREEN_REASONS = SCREEN_OUT_REASONS  # weapon, violence, medical, other
S_WEAPON, S_VIOLENCE, S_MEDICAL, S_OTHER = range(4)
FORCE_TYPES = ("bodily_force", "taser", "oc_spray", "less_lethal_projectile", "firearm",
               "physical_restraint")
F_RESTRAINT = 5

GROUPS = ("mental_health", "suicide_risk", "substance_use", "welfare_check", "trespass",
          "disturbance", "violence_weapon", "officer_initiated")
G_MH, G_SUICIDE, G_SUBST, G_WELFARE, G_TRESPASS, G_DISTURB, G_VIOLENCE, G_OFFICER = range(8)
PILOT_GROUP = np.array([True, True, True, True, True, False, False, False])
MEDICAL_GROUP = np.array([False, True, True, False, False, False, False, False])

# LAPD radio codes per group (etl/call_types.toml) with assumed within-group weights.
CODES: tuple[tuple[tuple[str, float], ...], ...] = (
    (("918", .15), ("918M", .30), ("918F", .20), ("918P", .15), ("918PM", .10),
     ("918PF", .05), ("918A", .05)),
    (("9073", .30), ("907A3", .35), ("907P3", .30), ("907PA3", .05)),
    (("907A2", .40), ("9072", .20), ("907P2", .15), ("390", .25)),
    (("WELF", 1.0),),
    (("9212", .45), ("9212N", .25), ("921", .15), ("921C", .15)),
    (("415", .35), ("415M", .20), ("415W", .10), ("415G", .10), ("415F", .15), ("4151", .10)),
    (("245", .25), ("415M6", .15), ("415W6", .05), ("415M3", .10), ("415M8W", .15), ("242", .30)),
    (("6", .90), ("902", .10)),
)
CODE_LIST = tuple(code for group in CODES for code, _ in group)
CODE_GROUP = np.array([g for g, group in enumerate(CODES) for _ in group], dtype=np.int8)
CODE_OFFSET = np.cumsum([0] + [len(group) for group in CODES])[:-1]

# --------------------------------------------------------------------------------------------
# Pilot coverage, providers, milestones
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    start: date
    divisions: tuple[str, ...]
    hours: tuple[int, int]  # [start, end) local hour


# Each span lists every division covered from its date (coverage only grows). The first two
# follow the real UMCR pilot's divisions (launched 2024 in Southeast, Wilshire, Devonshire;
# expanded Sept 2024 to West LA, Olympic, West Valley; MyNewsLA, September 2024); dates and the
# later spans are invented for the demo.
COVERAGE: tuple[Span, ...] = (
    Span(date(2024, 7, 1), ("Southeast", "Wilshire", "Devonshire"), (8, 20)),
    Span(date(2024, 10, 1), ("Southeast", "Wilshire", "Devonshire", "West LA", "Olympic",
                             "West Valley"), (7, 23)),
    Span(date(2025, 7, 1), ("Southeast", "Wilshire", "Devonshire", "West LA", "Olympic",
                            "West Valley", "77th Street", "Hollywood", "Van Nuys", "Central"),
         (7, 23)),
    Span(date(2026, 1, 1), ("Southeast", "Wilshire", "Devonshire", "West LA", "Olympic",
                            "West Valley", "77th Street", "Hollywood", "Van Nuys", "Central",
                            "Southwest", "Rampart", "Mission", "N Hollywood"), (0, 24)),
)
# (date, label, label in Spanish)
MILESTONES: tuple[tuple[date, str, str], ...] = (
    (date(2024, 7, 1), "Pilot launches in Southeast, Wilshire and Devonshire, 8am to 8pm",
     "Comienza el piloto en Southeast, Wilshire y Devonshire, de 8 a 20 h"),
    (date(2024, 10, 1), "Expands to West LA, Olympic and West Valley; hours 7am to 11pm",
     "Se amplía a West LA, Olympic y West Valley; horario de 7 a 23 h"),
    (date(2025, 7, 1), "Adds 77th Street, Hollywood, Van Nuys and Central",
     "Se suman 77th Street, Hollywood, Van Nuys y Central"),
    (date(2026, 1, 1), "Adds Southwest, Rampart, Mission and N Hollywood; teams run 24/7",
     "Se suman Southwest, Rampart, Mission y N Hollywood; equipos las 24 horas"),
)
# One provider per division, as in the real pilot where each nonprofit holds its own areas.
PROVIDERS = ("provider_a", "provider_b", "provider_c")
SOURCES = PROVIDERS + ("city_cad",)
CAD = 3
PROVIDER_DIVISIONS: dict[str, tuple[str, ...]] = {
    "provider_a": ("Southeast", "West LA", "77th Street", "Southwest"),
    "provider_b": ("Wilshire", "Olympic", "Hollywood", "Central", "Rampart"),
    "provider_c": ("Devonshire", "West Valley", "Van Nuys", "Mission", "N Hollywood"),
}

# --------------------------------------------------------------------------------------------
# Rates. Published figures first; everything else is an assumption chosen to be plausible.
# --------------------------------------------------------------------------------------------

# Share of calls by origin before outreach is added (assumption; CODE 6 is the officer-initiated
# share of crisis-type records, far below its ~49% of all CAD rows in the 2020 LAPD sample).
ORIGIN_P = np.array([0.60, 0.06, 0.22, 0.12])  # 911, 988, non_emergency, officer_initiated
OUTREACH_P = 0.04  # of calls in covered area and hours: teams' own outreach contacts

# Call type group by origin (assumption).
GROUP_P = {
    O911: (.26, .06, .10, .16, .10, .18, .14, 0),
    O988: (.60, .35, .05, 0, 0, 0, 0, 0),
    ONONEM: (.15, 0, .10, .35, .25, .15, 0, 0),
    OOFFICER: (0, 0, 0, 0, 0, 0, 0, 1),
    OSELF: (.40, 0, 0, .60, 0, 0, 0, 0),
}
FINAL_CHANGE_P = np.array([.10, .08, .10, .15, .10, .05, 0, .60])  # final code differs

# Dispatch screen: share of pilot-type calls screened out (weapon, violence, medical). NYC's
# B-HEARD screens out calls with weapons, imminent violence or immediate transport needs; about
# 30% of its mental-health 911 calls were eligible (Crain's New York, 2023, city data).
# The LA pilot screens similarly; these shares are assumptions.
SCREEN_FAIL_P = np.array([.15, .30, .22, .08, .10, 0, 0, 0])
SCREEN_REASON_P = {  # weapon, violence, medical, other
    False: (.45, .35, .12, .08),
    True: (.20, .10, .65, .05),   # suicide risk / substance use: mostly medical emergencies
}

# Civilian share of eligible calls: starts near 45% when a division joins and grows to ~88%
# (assumption; B-HEARD reached 53% of eligible calls in 2022-23, Crain's New York 2023),
# with fewer free units at the evening peak.
SHARE_START, SHARE_END, SHARE_MONTHS = 0.45, 0.88, 6.0
PEAK_HOURS_PENALTY = 0.10
UNSERVED_P = (.72, 0, 0, .10, .10, .08)  # of eligible calls no team answered (assumption)

# Who answers calls outside the pilot (assumption): police, co_response, fire_ems, phone.
# LAPD SMART reaches only 20-25% of mental-health calls (LAPD Chief Moore to the Police
# Commission, Fox LA 2022); 988 calls mostly end on the phone.
RESPONDER_OTHER = {
    "988": (.10, .10, .05, .75),
    "mh_911": (.55, .20, .20, .05),
    "subst": (.40, .05, .55, 0),
    "welfare": (.88, .03, .02, .07),
    "public_other": (.95, .03, .02, 0),
    "officer": (.93, .07, 0, 0),
    "unserved": (.78, .14, .05, .03),
}
RESPONDER_ORDER = (POLICE, CORESP, FIRE, PHONE)

# Civilian police involvement. LA's UMCR: fewer than 4% of calls redirected to LAPD (CAO report
# to the ad hoc committee, 2025-03-28; LAist 2025-11-08). CAHOOTS requested police backup on
# roughly 1% of about 24,000 calls a year (Eugene PD CAHOOTS program analysis, 2020; White Bird
# cites 150 of ~24,000 in 2019, Bend Bulletin 2020-10-30). Co-dispatch share: assumption.
CIV_REDIRECTED_P, CIV_BACKUP_P, CIV_CODISPATCH_P = 0.038, 0.010, 0.03
CIV_REFERRAL_P, CIV_REFERRAL_ACCEPT_P = 0.72, 0.62   # assumption

# Dispositions by responder (and medical call group), order as DISPOSITIONS:
# resolved, transported_community, transported_hospital, hold, arrest, gone, refused,
# cancelled, other.
DISPOSITION_P = {
    (CIV, False): (.56, .16, .07, .02, 0, .09, .06, .03, .01),
    # NYC B-HEARD (EMTs + clinician) took about half its clients to hospital (49-51%, Q3-Q4
    # 2022, Crain's New York); LA's teams have no EMTs, so fewer, on medical-type calls only.
    (CIV, True): (.37, .12, .33, .04, 0, .06, .05, .02, .01),
    (POLICE, False): (.42, .01, .05, .10, .08, .18, .03, .06, .07),
    (POLICE, True): (.30, .01, .18, .14, .05, .15, .05, .05, .07),
    # LAPD SMART: 86% of calls in 2023 ended in a 5150 hold (LA City Controller, "On the
    # Sideline" assessment of the Mental Evaluation Unit, 2025).
    (CORESP, False): (.06, .02, .03, .86, .01, .01, .005, .005, .01),
    (CORESP, True): (.06, .02, .03, .86, .01, .01, .005, .005, .01),
    (FIRE, False): (.10, 0, .72, 0, 0, .04, .10, .02, .02),
    (FIRE, True): (.10, 0, .72, 0, 0, .04, .10, .02, .02),
    (PHONE, False): (.80, 0, 0, 0, 0, 0, .06, .06, .08),
    (PHONE, True): (.80, 0, 0, 0, 0, 0, .06, .06, .08),
}
# Per responder: extra arrest, citation, use of force, injury to person, injury to responder.
# Assumptions: police use force and arrest far more often than civilian teams (none of
# CAHOOTS' calls ended in serious injury, per White Bird); civilian arrests only happen when
# police are involved.
EXTRA_ARREST_P = np.array([0, .005, .01, 0, 0])
CITATION_P = np.array([0, .005, .03, 0, 0])
FORCE_P = np.array([.0005, .010, .018, .002, 0])
INJURY_PERSON_P = np.array([.002, .008, .012, .005, 0])
INJURY_RESPONDER_P = np.array([.001, .003, .004, .002, 0])
POLICE_FORCE_TYPE_P = (.74, .12, .05, .075, .015, 0)

# Minutes: (median, sigma) of lognormal steps received->dispatched, ->en route, ->on scene,
# and time on scene. LA's UMCR averages about 28 minutes to arrive and about 25 minutes on
# scene (CAO report, 2025-03-28): here mean received->on scene is ~28 min for civilian teams.
# Police answer these low-priority calls later (assumption), SMART later still (few units).
TIMES = {
    CIV: ((3, .6), (2, .5), (20, .5), (25, .6)),
    POLICE: ((14, .9), (1, .5), (12, .7), (45, .6)),
    CORESP: ((30, .8), (2, .5), (18, .6), (120, .5)),
    FIRE: ((1.5, .4), (.8, .3), (7, .4), (35, .4)),
}
LONG_DISPOSITION_EXTRA_MIN = 90  # holds and arrests keep the unit on scene longer

# Council district volume weights (CD 1..15). Assumption: roughly follows the uneven spread of
# unsheltered people in LAHSA's Homeless Count by council district, highest in CD14 (Downtown,
# Skid Row) and CD13 (Hollywood).
DISTRICT_WEIGHTS = np.array([.09, .06, .04, .05, .05, .07, .04, .07, .08, .07, .06, .03, .10,
                             .15, .04])
# Hotspots (lat, lon, relative strength, radius in degrees): Skid Row, Hollywood Blvd,
# MacArthur Park, Venice boardwalk, Van Nuys civic center.
HOTSPOTS = ((34.0435, -118.2440, 12.0, 0.008), (34.1016, -118.3267, 5.0, 0.010),
            (34.0597, -118.2779, 5.0, 0.006), (33.9925, -118.4695, 4.0, 0.008),
            (34.1867, -118.4487, 3.0, 0.010))
# Cities in LA County outside the City of LA: records with a real but out-of-city point.
OUTSIDE_CITY = ((34.0195, -118.4912), (34.0211, -118.3965), (34.1808, -118.3090),
                (34.0736, -118.4004), (34.0900, -118.3617), (34.1425, -118.2551),
                (33.9617, -118.3531))  # Santa Monica, Culver City, Burbank, Beverly Hills,
#                                         West Hollywood, Glendale, Inglewood
BAD_POINTS = ((0.0, 0.0), (33.4484, -112.0740), (36.1699, -115.1398), (45.5152, -122.6784),
              (-118.2437, 34.0522))  # 0,0; Phoenix; Las Vegas; Portland; lat/lon swapped

# Messy parts: share of incidents (or rows) affected. Quarantine-worthy ones (time order, bad
# coordinates, unknown codes) add up to well under 2%.
MESSY_SHARES = {
    "duplicate_rows": 0.004,      # exact copies in the same file
    "corrections": 0.005,         # re-sent in a later month's file with fields fixed
    "late_records": 0.010,        # first sent in a later month's file
    "missing_on_scene": 0.015,    # on-scene time empty
    "time_order_errors": 0.0015,  # on scene before dispatched
    "outside_city": 0.004,        # LA County, outside the city: valid, no council district
    "bad_coordinates": 0.0006,    # 0,0, another state, swapped
    "unknown_codes": 0.001,       # disposition not in the mapping
}

MISSING = np.iinfo(np.int32).min
POOL_SIZE = 60_000

# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _draw(rng: np.random.Generator, probs, size: int) -> np.ndarray:
    """Indices drawn with the given (unnormalised) probabilities."""
    cdf = np.cumsum(np.asarray(probs, dtype=float))
    idx = np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right")
    return np.minimum(idx, len(cdf) - 1)


def _lognormal_minutes(rng: np.random.Generator, median: float, sigma: float,
                       size: int) -> np.ndarray:
    return rng.lognormal(np.log(median), sigma, size)


def _dst_transitions(years: range) -> np.ndarray:
    """UTC epoch seconds of Pacific DST starts and ends (2nd Sunday March 2:00 PST, 1st
    Sunday November 2:00 PDT), computed by rule so no time zone database is needed."""
    out = []
    for y in years:
        march = date(y, 3, 1)
        start = march + timedelta(days=(6 - march.weekday()) % 7 + 7)
        nov = date(y, 11, 1)
        end = nov + timedelta(days=(6 - nov.weekday()) % 7)
        for d, hour_utc in ((start, 10), (end, 9)):
            dt = datetime(d.year, d.month, d.day, hour_utc, tzinfo=timezone.utc)
            out.append(int(dt.timestamp()))
    return np.array(out, dtype=np.int64)


DST = _dst_transitions(range(2023, 2028))


def _utc_offset(utc: np.ndarray) -> np.ndarray:
    """Seconds to add to UTC for Los Angeles local time (-7 h in DST, -8 h otherwise)."""
    in_dst = (np.searchsorted(DST, utc, side="right") % 2) == 1
    return np.where(in_dst, -7 * 3600, -8 * 3600).astype(np.int64)


def _epoch_seconds(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp())


# --------------------------------------------------------------------------------------------
# Geography: a pool of in-city points with council district and LAPD division
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pool:
    lat: np.ndarray
    lon: np.ndarray
    district: np.ndarray   # 1..15
    division: np.ndarray   # 1..21 (etl.divisions.DIVISIONS)
    weight: np.ndarray
    out_lat: np.ndarray    # LA County points outside the city
    out_lon: np.ndarray


def _boundary_files() -> tuple[Path, Path]:
    from outcomes.settings import boundaries_path, shared_data

    fix = ("run 'uv run etl boundaries --download', or set OUTCOMES_BOUNDARIES=path/to/"
           "council_districts.geojson and OUTCOMES_SHARED_DATA=path/to/shared/data")
    districts = boundaries_path()
    if districts is None or not districts.exists():
        raise ConfigError(f"the demo needs council district boundaries and found none: {fix}")
    divisions = shared_data() / "boundaries" / "lapd_divisions.geojson"
    if not divisions.exists():
        raise ConfigError(f"the demo needs LAPD division boundaries at {divisions} "
                          f"(property PREC = division number): {fix}")
    return districts, divisions


def _contains(geoms, ids, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    import shapely

    out = np.zeros(len(x), dtype=np.int8)
    for gid, geom in zip(ids, geoms):
        shapely.prepare(geom)
        inside = shapely.contains_xy(geom, x, y)
        out[inside & (out == 0)] = gid
    return out


def _point_pool(rng: np.random.Generator, size: int = POOL_SIZE) -> Pool:
    """In-city points, uniform by area, weighted by district volume and hotspots."""
    import geopandas as gpd

    districts_path, divisions_path = _boundary_files()
    cd = gpd.read_file(districts_path).to_crs(4326)
    if "District" not in cd.columns:
        raise ConfigError(f"{districts_path} has no integer property 'District'; "
                          "use the 2021 council district layer")
    cd = cd.assign(District=cd["District"].astype(int)).sort_values("District")
    dv = gpd.read_file(divisions_path).to_crs(4326)
    dv = dv.assign(PREC=dv["PREC"].astype(int)).sort_values("PREC")
    minx, miny, maxx, maxy = cd.total_bounds
    lat_parts, lon_parts, dist_parts, div_parts = [], [], [], []
    have = 0
    while have < size:
        k = 3 * size
        # Six decimals, as written: containment is tested on the coordinates the files carry.
        x = np.round(rng.uniform(minx, maxx, k), 6)
        y = np.round(rng.uniform(miny, maxy, k), 6)
        dist = _contains(cd.geometry.values, cd["District"].to_numpy(), x, y)
        keep = dist > 0
        x, y, dist = x[keep], y[keep], dist[keep]
        div = _contains(dv.geometry.values, dv["PREC"].to_numpy(), x, y)
        keep = div > 0
        lat_parts.append(y[keep])
        lon_parts.append(x[keep])
        dist_parts.append(dist[keep])
        div_parts.append(div[keep])
        have += int(keep.sum())
    lat = np.concatenate(lat_parts)[:size]
    lon = np.concatenate(lon_parts)[:size]
    district = np.concatenate(dist_parts)[:size]
    division = np.concatenate(div_parts)[:size]

    boost = np.ones(size)
    for hlat, hlon, strength, radius in HOTSPOTS:
        d2 = (lat - hlat) ** 2 + (lon - hlon) ** 2
        boost += strength * np.exp(-d2 / (2 * radius ** 2))
    per_district = np.bincount(district, weights=boost, minlength=16)
    weight = boost / per_district[district] * DISTRICT_WEIGHTS[district - 1]

    # Out-of-city points: around other cities' centres, keeping only those in no district.
    ox = np.round(np.concatenate([c[1] + rng.uniform(-0.012, 0.012, 300) for c in OUTSIDE_CITY]), 6)
    oy = np.round(np.concatenate([c[0] + rng.uniform(-0.008, 0.008, 300) for c in OUTSIDE_CITY]), 6)
    outside = _contains(cd.geometry.values, cd["District"].to_numpy(), ox, oy) == 0
    return Pool(lat, lon, district, division, weight, oy[outside], ox[outside])


# --------------------------------------------------------------------------------------------
# Simulation: one record per incident, all arrays in received-time order
# --------------------------------------------------------------------------------------------


def _hour_cells() -> tuple[np.ndarray, np.ndarray]:
    """Every UTC hour of the span, weighted by its local hour, weekday and month."""
    start = _epoch_seconds(date(2024, 1, 1)) + 8 * 3600           # local midnight, PST
    end = _epoch_seconds(date(2026, 11, 1)) + 7 * 3600            # local midnight, PDT
    cells = np.arange(start, end, 3600, dtype=np.int64)
    local = cells + _utc_offset(cells)
    hour = (local // 3600) % 24
    weekday = (local // 86400 + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    month = _month_index(local)
    years = month / 12.0
    season = 1 + SEASON_AMPLITUDE * np.cos(2 * np.pi * ((month % 12) - 6) / 12)
    w = HOUR_WEIGHTS[hour] * WEEKDAY_WEIGHTS[weekday] * season * (1 + GROWTH_PER_YEAR * years)
    return cells, w


def _month_index(local: np.ndarray) -> np.ndarray:
    months = local.astype("datetime64[s]").astype("datetime64[M]")
    return (months - FIRST_MONTH).astype(np.int16)


def _coverage_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Span start days, covered[span, division], start/end hours, month each division joins."""
    starts = np.array([(np.datetime64(s.start, "D") - EPOCH_DAY0).astype(int) for s in COVERAGE])
    number = {name: n for n, name in DIVISIONS.items()}
    covered = np.zeros((len(COVERAGE), 22), dtype=bool)
    for i, span in enumerate(COVERAGE):
        for name in span.divisions:
            covered[i, number[name]] = True
    hours = np.array([s.hours for s in COVERAGE])
    join_month = np.full(22, 10_000, dtype=np.int32)
    for i in range(len(COVERAGE) - 1, -1, -1):
        m = int(np.datetime64(COVERAGE[i].start, "M") - FIRST_MONTH)
        join_month[covered[i]] = m
    return starts, covered, hours[:, 0], hours[:, 1], join_month


def _provider_of_division() -> np.ndarray:
    number = {name: n for n, name in DIVISIONS.items()}
    out = np.full(22, -1, dtype=np.int8)
    for p, name in enumerate(PROVIDERS):
        for division in PROVIDER_DIVISIONS[name]:
            out[number[division]] = p
    return out


def _simulate(rng: np.random.Generator, n: int, pool: Pool) -> dict[str, np.ndarray]:
    c: dict[str, np.ndarray] = {}

    # When: draw an hour cell by weight, then a second inside it; incidents in time order.
    cells, w = _hour_cells()
    cell = _draw(rng, w, n)
    recv = np.sort(cells[cell] + rng.integers(0, 3600, n))
    local = recv + _utc_offset(recv)
    day = local // 86400
    hour = ((local // 3600) % 24).astype(np.int8)
    month = _month_index(local)
    c["recv"], c["month"] = recv, month

    # Where.
    point = _draw(rng, pool.weight, n).astype(np.int32)
    division = pool.division[point]

    # Pilot coverage on the received date and local hour (the pipeline's eligibility rule).
    starts, cov, h0, h1, join_month = _coverage_tables()
    span = np.searchsorted(starts, day, side="right") - 1
    launched = span >= 0
    s = np.maximum(span, 0)
    covered = launched & cov[s, division]
    in_hours = launched & (hour >= h0[s]) & (hour < h1[s])

    # Origin, then the teams' own outreach in served areas and hours.
    origin = _draw(rng, ORIGIN_P, n).astype(np.int8)
    outreach = covered & in_hours & (origin != OOFFICER) & (rng.random(n) < OUTREACH_P)
    origin[outreach] = OSELF

    # Call type group and LAPD code.
    group = np.zeros(n, dtype=np.int8)
    for o, probs in GROUP_P.items():
        idx = np.flatnonzero(origin == o)
        group[idx] = _draw(rng, probs, len(idx))
    code = np.zeros(n, dtype=np.int16)
    for g, codes in enumerate(CODES):
        idx = np.flatnonzero(group == g)
        code[idx] = CODE_OFFSET[g] + _draw(rng, [wt for _, wt in codes], len(idx))
    final = code.copy()
    change = rng.random(n) < FINAL_CHANGE_P[group]
    # A changed final code: another crisis code (what the responder found on scene).
    target_group = _draw(rng, (.50, .10, .15, .25), n)
    idx = np.flatnonzero(change)
    for g in range(4):
        sub = idx[target_group[idx] == g]
        final[sub] = CODE_OFFSET[g] + _draw(rng, [wt for _, wt in CODES[g]], len(sub))

    # Dispatch screen on pilot-type public calls once the pilot runs.
    public = origin <= ONONEM
    screened = public & PILOT_GROUP[group] & launched
    fail = screened & (rng.random(n) < SCREEN_FAIL_P[group])
    eligible_flag = np.where(screened, np.where(fail, 0, 1), -1).astype(np.int8)
    screen = np.full(n, -1, dtype=np.int8)
    for medical in (False, True):
        idx = np.flatnonzero(fail & (MEDICAL_GROUP[group] == medical))
        screen[idx] = _draw(rng, SCREEN_REASON_P[medical], len(idx))
    eligible = screened & ~fail & covered & in_hours

    # Who answered.
    months_in = np.maximum(month - join_month[division], 0)
    share = SHARE_END - (SHARE_END - SHARE_START) * np.exp(-months_in / SHARE_MONTHS)
    share = share - PEAK_HOURS_PENALTY * ((hour >= 16) & (hour < 21))
    served = eligible & (rng.random(n) < share)
    responder = np.full(n, POLICE, dtype=np.int8)
    responder[served | (origin == OSELF)] = CIV
    unserved = np.full(n, -1, dtype=np.int8)
    idx = np.flatnonzero(eligible & ~served)
    unserved[idx] = _draw(rng, UNSERVED_P, len(idx))
    passed_outside = screened & ~fail & ~(covered & in_hours)
    unserved[passed_outside] = np.where(covered[passed_outside], U_HOURS, U_AREA)

    rest = responder != CIV
    kind = np.full(n, -1, dtype=np.int8)
    kinds = ("988", "mh_911", "subst", "welfare", "public_other", "officer", "unserved")
    kind[rest & public] = 4
    kind[rest & public & np.isin(group, (G_WELFARE, G_TRESPASS))] = 3
    kind[rest & public & (group == G_SUBST)] = 2
    kind[rest & public & np.isin(group, (G_MH, G_SUICIDE))] = 1
    kind[rest & (origin == O988)] = 0
    kind[rest & (origin == OOFFICER)] = 5
    kind[rest & (eligible & ~served)] = 6
    for k, name in enumerate(kinds):
        idx = np.flatnonzero(kind == k)
        responder[idx] = np.array(RESPONDER_ORDER, dtype=np.int8)[
            _draw(rng, RESPONDER_OTHER[name], len(idx))]
    # Screened-out calls go to those the screen names: armed or violent -> police (sometimes
    # SMART), medical -> LAFD.
    idx = np.flatnonzero(np.isin(screen, (S_WEAPON, S_VIOLENCE, S_OTHER)))
    responder[idx] = np.where(rng.random(len(idx)) < 0.12, CORESP, POLICE)
    idx = np.flatnonzero(screen == S_MEDICAL)
    responder[idx] = np.where(rng.random(len(idx)) < 0.90, FIRE, POLICE)
    phone_ok = (origin == O988) | (origin == ONONEM)
    responder[(responder == PHONE) & ~phone_ok] = POLICE

    provider = _provider_of_division()
    source = np.where(responder == CIV, provider[division], CAD).astype(np.int8)
    if (source < 0).any():  # a covered division without a provider: a coding error here
        raise AssertionError("civilian response in a division no provider serves")

    person = _persons(rng, recv, source, division, point, origin)

    # Outcomes.
    medical = MEDICAL_GROUP[group]
    disp = np.zeros(n, dtype=np.int8)
    for (r, med), probs in DISPOSITION_P.items():
        idx = np.flatnonzero((responder == r) & (medical == med))
        disp[idx] = _draw(rng, probs, len(idx))
    civ = responder == CIV
    u = rng.random((3, n))
    redirected = civ & (u[0] < CIV_REDIRECTED_P)
    backup = civ & (u[1] < CIV_BACKUP_P)
    codispatch = civ & (u[2] < CIV_CODISPATCH_P)
    police_involved = redirected | backup | codispatch
    disp[redirected & (disp != HOLD)] = OTHER  # handed to LAPD: the team's outcome is "other"
    u = rng.random((7, n))
    arrest = (disp == ARREST) | (u[0] < EXTRA_ARREST_P[responder])
    civ_arrest = civ & police_involved & (u[1] < 0.02)
    arrest |= civ_arrest
    disp[civ_arrest] = ARREST
    citation = (u[2] < CITATION_P[responder]) | (civ & police_involved & (u[3] < 0.01))
    force = u[4] < FORCE_P[responder]
    injury_person = (u[5] < INJURY_PERSON_P[responder]) | (force & (u[5] > 0.70))
    injury_resp = (u[6] < INJURY_RESPONDER_P[responder]) | (force & (u[6] > 0.90))
    force_type = np.full(n, -1, dtype=np.int8)
    idx = np.flatnonzero(force & ((responder == POLICE) | (responder == CORESP)))
    force_type[idx] = _draw(rng, POLICE_FORCE_TYPE_P, len(idx))
    force_type[force & ((responder == CIV) | (responder == FIRE))] = F_RESTRAINT
    referral = civ & (rng.random(n) < CIV_REFERRAL_P)
    accepted = referral & (rng.random(n) < CIV_REFERRAL_ACCEPT_P)

    def flag(x: np.ndarray, known: np.ndarray) -> np.ndarray:
        return np.where(known, x.astype(np.int8), np.int8(-1)).astype(np.int8)

    not_phone = responder != PHONE
    c.update(
        origin=origin, code=code, final=final, eligible=eligible_flag, screen=screen,
        responder=responder, unserved=unserved, source=source, person=person, disp=disp,
        force_type=force_type,
        codispatch=flag(codispatch, civ), backup=flag(backup, civ),
        redirected=flag(redirected, civ),
        arrest=flag(arrest, np.ones(n, bool)), citation=flag(citation, np.ones(n, bool)),
        force=flag(force, np.ones(n, bool)),
        injury_person=flag(injury_person, not_phone), injury_resp=flag(injury_resp, not_phone),
        referral=flag(referral, civ), accepted=flag(accepted, civ),
    )
    c.update(_times(rng, responder, origin, disp))

    # Coordinates: pool points; a few out-of-city CAD records with no division.
    lat, lon = pool.lat[point].copy(), pool.lon[point].copy()
    division = division.copy()
    candidates = np.flatnonzero((source == CAD) & (unserved < 0) & ~eligible)
    p_out = MESSY_SHARES["outside_city"] * n / max(len(candidates), 1)
    pick = candidates[rng.random(len(candidates)) < p_out]
    j = rng.integers(0, len(pool.out_lat), len(pick))
    lat[pick], lon[pick], division[pick] = pool.out_lat[j], pool.out_lon[j], 0
    c["outside_city"] = pick
    c["lat"], c["lon"], c["division"] = lat, lon, division

    # Per-source running numbers for incident ids; CAD numbers run per day with gaps (other
    # call types share the sequence), like LAPD's PDyymmdd######## incident numbers.
    seq = np.zeros(n, dtype=np.int64)
    for s in range(len(SOURCES)):
        idx = np.flatnonzero(source == s)
        seq[idx] = np.arange(1, len(idx) + 1)
    idx = np.flatnonzero(source == CAD)
    if len(idx):
        step = rng.integers(1, 60, len(idx))
        total = np.cumsum(step)
        cad_day = day[idx]
        first = np.r_[True, cad_day[1:] != cad_day[:-1]]
        base = np.maximum.accumulate(np.where(first, total - step, 0))
        seq[idx] = total - base
    c["seq"] = seq
    return c


def _persons(rng: np.random.Generator, recv: np.ndarray, source: np.ndarray,
             division: np.ndarray, point: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Client numbers for civilian contacts; about a third are repeat contacts.

    A repeat contact links to the same provider's earlier contact in the same division about
    `gap` days before (exponential, mean 25 days, so many repeats fall within 30 and 90 days),
    and usually happens at that person's usual place. Returns 1-based numbers per provider,
    0 for non-civilian rows; `point` is updated in place for repeat contacts.
    """
    n = len(recv)
    person = np.zeros(n, dtype=np.int32)
    civ = np.flatnonzero(source != CAD)
    if len(civ) == 0:
        return person
    g = source[civ].astype(np.int64) * 32 + division[civ]
    order = np.lexsort((civ, g))
    rows, gs, ts = civ[order], g[order], recv[civ][order]
    m = len(rows)
    repeat_p = np.where(origin[rows] == OSELF, 0.5, 0.33)
    repeat = rng.random(m) < repeat_p
    gap = rng.exponential(25 * 86400, m).astype(np.int64) + 3600
    key = (gs << 40) + ts
    j = np.searchsorted(key, (gs << 40) + ts - gap, side="right") - 1
    valid = repeat & (j >= 0)
    valid &= gs[np.maximum(j, 0)] == gs
    root = np.where(valid, j, np.arange(m))
    while True:  # pointer jumping: at most log2(chain length) rounds
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    same_place = valid & (rng.random(m) < 0.7)
    point[rows[same_place]] = point[rows[root[same_place]]]
    # Number new people in time order within each provider.
    is_new = root == np.arange(m)
    new_rows = np.sort(rows[is_new])
    number = np.zeros(n, dtype=np.int32)
    for p in range(len(PROVIDERS)):
        sel = new_rows[source[new_rows] == p]
        number[sel] = np.arange(1, len(sel) + 1)
    person[rows] = number[rows[root]]
    return person


def _times(rng: np.random.Generator, responder: np.ndarray, origin: np.ndarray,
           disp: np.ndarray) -> dict[str, np.ndarray]:
    """Seconds after received for dispatched, en route, on scene, cleared (MISSING if none)."""
    n = len(responder)
    d_disp = np.full(n, MISSING, dtype=np.int64)
    d_enr = np.full(n, MISSING, dtype=np.int64)
    d_scene = np.full(n, MISSING, dtype=np.int64)
    d_clear = np.full(n, MISSING, dtype=np.int64)
    steps = np.zeros((4, n))
    for r, params in TIMES.items():
        idx = np.flatnonzero(responder == r)
        for k, (median, sigma) in enumerate(params):
            steps[k, idx] = _lognormal_minutes(rng, median, sigma, len(idx))
    sec = (steps * 60).astype(np.int64)
    field = responder != PHONE
    d_disp[field] = sec[0, field]
    d_enr[field] = d_disp[field] + 30 + sec[1, field]
    d_scene[field] = d_enr[field] + sec[2, field]
    long_stay = np.isin(disp, (HOLD, ARREST, T_HOSP)) * LONG_DISPOSITION_EXTRA_MIN * 60
    short = (disp == GOA) | (disp == REFUSED)
    stay = np.where(short, sec[3] // 5, sec[3] + long_stay)
    d_clear[field] = d_scene[field] + stay[field]
    # Cancelled before arrival: no on-scene time.
    cancel = field & (disp == CANCELLED)
    d_scene[cancel] = MISSING
    d_clear[cancel] = d_enr[cancel] + 60 + sec[2, cancel] // 3
    # Officer-initiated (CODE 6): the officer is already there.
    officer = origin == OOFFICER
    d_disp[officer] = 0
    d_enr[officer] = MISSING
    d_scene[officer] = 0
    d_clear[officer] = (_lognormal_minutes(rng, 35, .7, int(officer.sum())) * 60).astype(np.int64)
    # Phone: resolved on the line, no unit.
    phone = responder == PHONE
    d_clear[phone] = (_lognormal_minutes(rng, 18, .6, int(phone.sum())) * 60).astype(np.int64)
    return {k: v.astype(np.int32) for k, v in
            (("d_disp", d_disp), ("d_enr", d_enr), ("d_scene", d_scene), ("d_clear", d_clear))}


# --------------------------------------------------------------------------------------------
# Messy parts: edits to the records, and the row table (which rows go to which file)
# --------------------------------------------------------------------------------------------


def _make_messy(rng: np.random.Generator,
                c: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    n = len(c["recv"])
    counts: dict[str, int] = {"outside_city": int(len(c["outside_city"]))}
    sh = MESSY_SHARES

    has_scene = c["d_scene"] != MISSING
    has_both = has_scene & (c["d_disp"] != MISSING) & (c["origin"] != OOFFICER)
    u = rng.random((4, n))
    order_error = has_both & (u[0] < sh["time_order_errors"] / max(has_both.mean(), 1e-9))
    c["d_scene"][order_error] = c["d_disp"][order_error] - rng.integers(60, 1200, int(order_error.sum()))
    missing = has_scene & ~order_error & (u[1] < sh["missing_on_scene"] / max(has_scene.mean(), 1e-9))
    c["d_scene"][missing] = MISSING
    counts["time_order_errors"] = int(order_error.sum())
    counts["missing_on_scene"] = int(missing.sum())

    bad = np.flatnonzero(u[2] < sh["bad_coordinates"])
    which = rng.integers(0, len(BAD_POINTS), len(bad))
    bad_pts = np.array(BAD_POINTS)
    c["lat"][bad], c["lon"][bad] = bad_pts[which, 0], bad_pts[which, 1]
    counts["bad_coordinates"] = int(len(bad))

    unknown = u[3] < sh["unknown_codes"]
    c["disp"][unknown] = UNKNOWN_CODE
    counts["unknown_codes"] = int(unknown.sum())

    # Which file each incident goes to: its month, or a later one (late), plus corrections.
    month = c["month"].astype(np.int16)
    can_move = month < N_MONTHS - 1
    u = rng.random((3, n))
    late = can_move & (u[0] < sh["late_records"])
    corrected = can_move & ~late & (u[1] < sh["corrections"])
    shift = np.where(u[2] < 0.8, 1, 2).astype(np.int16)
    later = np.minimum(month + shift, N_MONTHS - 1).astype(np.int16)
    file_month = np.where(late, later, month).astype(np.int16)
    counts["late_records"] = int(late.sum())
    counts["corrections"] = int(corrected.sum())

    base = np.arange(n, dtype=np.int64)
    variant = np.where(corrected, 1, 0).astype(np.int8)  # 1: first version, to be fixed
    corr = np.flatnonzero(corrected)
    dup = np.flatnonzero(rng.random(n) < sh["duplicate_rows"])
    counts["duplicate_rows"] = int(len(dup))
    rows = {
        "inc": np.concatenate([base, corr, dup]),
        "file_month": np.concatenate([file_month, later[corr], file_month[dup]]),
        "variant": np.concatenate([variant, np.full(len(corr), 2, np.int8), variant[dup]]),
    }
    rows["source"] = c["source"][rows["inc"]]
    order = np.lexsort((rows["variant"], rows["inc"], rows["file_month"], rows["source"]))
    rows = {k: v[order] for k, v in rows.items()}
    return rows, counts


# --------------------------------------------------------------------------------------------
# Rendering: numpy codes -> each system's strings, via pyarrow take/join (no Python row loops)
# --------------------------------------------------------------------------------------------

DAY_LO = (np.datetime64("2023-12-01", "D") - EPOCH_DAY0).astype(int)
DAY_HI = (np.datetime64("2027-03-01", "D") - EPOCH_DAY0).astype(int)
FIRST_NAMES = ("Maria", "Jose", "James", "Sofia", "David", "Angela", "Luis", "Keisha", "Min",
               "Robert", "Ana", "Michael", "Jasmine", "Carlos", "Linda", "Tuan", "Marcus",
               "Patricia", "Daniel", "Grace", "Andre", "Rosa", "Kevin", "Elena", "Tyrone",
               "Hye-jin", "Samuel", "Gloria", "Armen", "Destiny", "Miguel", "Laura")
LAST_NAMES = ("Garcia", "Hernandez", "Smith", "Johnson", "Lopez", "Kim", "Nguyen", "Martinez",
              "Williams", "Rodriguez", "Brown", "Gonzalez", "Lee", "Perez", "Jackson", "Sanchez",
              "Davis", "Ramirez", "Chen", "Torres", "Washington", "Flores", "Park", "Rivera",
              "Hakobyan", "Cruz", "Thomas", "Reyes", "Morales", "Tran", "Young", "Castillo")
STREETS = ("S Figueroa St", "W 6th St", "S San Pedro St", "Hollywood Blvd", "Wilshire Blvd",
           "S Vermont Ave", "Van Nuys Blvd", "Sherman Way", "S Central Ave", "W Pico Blvd",
           "Crenshaw Blvd", "S Western Ave", "Reseda Blvd", "Sepulveda Blvd", "E 7th St",
           "N Spring St", "W Olympic Blvd", "S Main St", "Lankershim Blvd", "Santa Monica Blvd",
           "W Manchester Ave", "Devonshire St", "Roscoe Blvd", "S Broadway")
# Free text by disposition (DISPOSITIONS order, then the unknown code): invented, no real cases.
NARRATIVES: tuple[tuple[str, ...], ...] = (
    ("Caller reported person talking to self, yelling at traffic. Team de-escalated.",
     "Safety plan completed with client; peer support linkage made.",
     "Business owner reported person sleeping in doorway; client moved on voluntarily."),
    ("Team provided water, snacks and a hygiene kit; client accepted shelter referral.",
     'Client said "I just need somewhere to rest", transported to community respite.'),
    ("Medical concern observed, team called for transport to ED.",
     "Family member requested help, client agreed to voluntary evaluation at ED."),
    ("Client a danger to self, clinician wrote 5150, transported to psychiatric ED.",),
    ("Police requested to scene, client taken into custody; team stayed to support.",),
    ("Unable to locate client at given location, area canvassed.",),
    ("Client intoxicated, alert, declined detox; harm reduction supplies given.",
     "Client declined services, information card left."),
    ("Call cancelled by dispatch before arrival.",),
    ("Handed over to LAPD at scene, see CAD.", "Client reports not sleeping for days, "
     "agreed to follow up with clinic."),
    ("Outcome pending supervisor review.",),
)
NARRATIVE_LUT = tuple(text for group in NARRATIVES for text in group)
NARRATIVE_OFFSET = np.cumsum([0] + [len(g) for g in NARRATIVES])[:-1]
NARRATIVE_COUNT = np.array([len(g) for g in NARRATIVES])
CAD_COMMENTS = (
    "RP STS MALE TALKING TO HIMSELF IN FRONT OF STORE",
    "RP REQ WELFARE CHECK ON NEIGHBOR NOT SEEN 2 DAYS",
    "FEMALE LYING ON SIDEWALK UNK IF BREATHING",
    "SUSP REFUSING TO LEAVE BUSINESS, NO WPNS SEEN",
    "RP STS SON MAKING SUICIDAL STATEMENTS",
    "MALE YELLING AT PASSERSBY, POSS 5150",
    "OFCR OUT AT LOCATION CODE 6",
    "RP STS POSS OD IN ALLEY",
    "TRANSIENT IN LOBBY, RP WANTS HIM REMOVED",
    "RP HEARD SCREAMING FROM APT",
)
AREA_CODES = ("213", "323", "310", "818", "747", "424")


def _lut(values) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def _take(lut: pa.Array, idx: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    idx = np.asarray(idx)
    if missing is None:
        missing = idx < 0
    return lut.take(pa.array(np.where(missing, 0, idx).astype(np.int64), mask=missing))


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _digits(x: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(np.asarray(x, dtype=np.int64)), pa.string()), width, "0")


class _TimeFormatter:
    """Formats UTC seconds as local wall-clock text: a date table and a time-of-day table,
    each formatted once, then gathered per row."""

    def __init__(self, date_fmt: str, tod_fmt: str, with_offset: bool = False,
                 minutes: bool = False):
        days = np.arange(DAY_LO, DAY_HI, dtype=np.int64) * 86400
        self.dates = pc.strftime(pa.array(days.astype("datetime64[s]")), format=date_fmt)
        step = 60 if minutes else 1
        tod = np.arange(0, 86400, step, dtype=np.int64)
        self.tods = pc.strftime(pa.array(tod.astype("datetime64[s]")), format=tod_fmt)
        self.step = step
        self.with_offset = with_offset
        self.offsets = _lut(["-08:00", "-07:00"])

    def __call__(self, recv: np.ndarray, delta: np.ndarray) -> pa.Array:
        missing = delta == MISSING
        utc = recv + np.where(missing, 0, delta).astype(np.int64)
        offset = _utc_offset(utc)
        local = utc + offset
        parts = [_take(self.dates, local // 86400 - DAY_LO, missing),
                 _take(self.tods, (local % 86400) // self.step, missing)]
        if self.with_offset:
            parts.append(_take(self.offsets, (offset == -7 * 3600).astype(np.int64), missing))
        return _join(*parts)


FORMATTERS = {
    "provider_a": _TimeFormatter("%m/%d/%Y ", "%I:%M:%S %p"),
    "provider_b": _TimeFormatter("%Y-%m-%dT", "%H:%M:%S", with_offset=True),
    "provider_c": _TimeFormatter("%Y-%m-%d ", "%H:%M", minutes=True),
    "city_cad": _TimeFormatter("%m/%d/%Y ", "%H:%M:%S"),
}


def _inverse(mapping: Mapping, column: str, canonical: tuple[str, ...],
             unknown: str | None = None) -> pa.Array:
    """The source's word for each canonical value, in canonical order (+ the unknown code)."""
    words = {v: k for k, v in mapping.values.get(column, {}).items()}
    out = [words.get(v, v) for v in canonical]
    if unknown is not None:
        out.append(unknown)
    return _lut(out)


@dataclass
class _Rows:
    """The rows of one file, with each incident's fields after its variant's edits."""
    inc: np.ndarray
    c: dict[str, np.ndarray]
    disp: np.ndarray
    final: np.ndarray
    d_clear: np.ndarray

    def get(self, name: str) -> np.ndarray:
        return self.c[name][self.inc]


def _rows(c: dict[str, np.ndarray], inc: np.ndarray, variant: np.ndarray) -> _Rows:
    disp = c["disp"][inc].copy()
    final = c["final"][inc].copy()
    d_clear = c["d_clear"][inc].copy()
    first = variant == 1  # first version of a corrected record: what was later fixed
    disp[first] = np.where(disp[first] == OTHER, RESOLVED, OTHER)
    final[first] = c["code"][inc][first]
    d_clear[first & (inc % 2 == 0)] = MISSING  # case still open when first sent
    return _Rows(inc, c, disp, final, d_clear)


def _bools(values: np.ndarray, true: str, false: str) -> pa.Array:
    return _take(_lut([false, true]), values.astype(np.int64))


def _person_text(person: np.ndarray) -> dict[str, pa.Array]:
    """Invented identifiers per client (deterministic from the client number)."""
    p = person.astype(np.int64)
    first = _take(_lut(FIRST_NAMES), (p * 7 + 3) % len(FIRST_NAMES))
    last = _take(_lut(LAST_NAMES), (p * 13 + 5) % len(LAST_NAMES))
    dob_day = (np.datetime64("1950-01-01", "D") - EPOCH_DAY0).astype(int) + (p * 7919) % 20_000
    unhoused = (p * 17) % 100 < 35
    address = _join(_digits(100 + (p * 37) % 9800, 1), _repeat(len(p), " "),
                    _take(_lut(STREETS), (p * 11) % len(STREETS)))
    address = pc.if_else(pa.array(unhoused), pa.scalar("No fixed address"), address)
    return {"first": first, "last": last, "dob_day": dob_day, "address": address}


def _repeat(n: int, text: str) -> pa.Array:
    return pa.repeat(pa.scalar(text, type=pa.string()), n)


def _provider_table(name: str, r: _Rows, mapping: Mapping) -> pa.Table:
    n = len(r.inc)
    fmt = FORMATTERS[name]
    recv = r.get("recv")
    times = [fmt(recv, np.zeros(n, np.int64)), fmt(recv, r.get("d_disp")),
             fmt(recv, r.get("d_enr")), fmt(recv, r.get("d_scene")), fmt(recv, r.d_clear)]
    origin = _take(_inverse(mapping, "call_origin", ORIGINS), r.get("origin"))
    disposition = _take(_inverse(mapping, "disposition", DISPOSITIONS,
                                 {"provider_a": "???", "provider_b": "X9",
                                  "provider_c": "tbd"}[name]), r.disp)
    force_type = _take(_inverse(mapping, "force_type", FORCE_TYPES), r.get("force_type"))
    code = _take(_lut(CODE_LIST), r.get("code"))
    final = _take(_lut(CODE_LIST), r.final)
    seq = r.get("seq")
    person = r.get("person")
    people = _person_text(person)
    narrative = _take(_lut(NARRATIVE_LUT), NARRATIVE_OFFSET[r.disp]
                      + (r.inc * 7) % NARRATIVE_COUNT[r.disp])
    division = r.get("division")
    lat, lon = pa.array(r.get("lat")), pa.array(r.get("lon"))
    words = {"provider_a": ("Y", "N"), "provider_b": ("1", "0"), "provider_c": ("yes", "no")}[name]

    def flag(col: str) -> pa.Array:
        return _bools(r.get(col), *words)

    flags = [flag(k) for k in ("eligible", "codispatch", "backup", "redirected", "arrest",
                               "citation", "force", "injury_person", "injury_resp", "referral",
                               "accepted")]
    if name == "provider_a":
        incident = _join(_repeat(n, "CRA-"), _digits(seq, 7))
        client = _join(_repeat(n, "A-"), _digits(person, 6))
        area = _take(_lut(["", *DIVISIONS.values()]), division, division == 0)
        dob = _dob_text(people["dob_day"], "%m/%d/%Y")
        cols = {
            "Case Number": incident, "Referral Source": origin,
            "Call Received": times[0], "Team Assigned": times[1], "En Route": times[2],
            "On Scene": times[3], "Cleared": times[4],
            "Dispatch Code": code, "Final Code": final, "Triage Eligible": flags[0],
            "LAPD Area": area, "Latitude": lat, "Longitude": lon, "Client ID": client,
            "Client Name": _join(people["first"], _repeat(n, " "), people["last"]),
            "Client DOB": dob, "Home Address": people["address"],
            "Police Co-Dispatched": flags[1], "Police Backup Requested": flags[2],
            "Redirected to Police": flags[3], "Outcome": disposition,
            "Arrest Made": flags[4], "Citation Issued": flags[5], "Force Used": flags[6],
            "Force Type": force_type, "Client Injured": flags[7], "Staff Injured": flags[8],
            "Referral Offered": flags[9], "Referral Accepted": flags[10],
            "Narrative": narrative,
        }
    elif name == "provider_b":
        month_txt = pc.utf8_slice_codeunits(times[0], 2, 7)  # "yy-mm" of 20yy-mm-dd
        incident = _join(_repeat(n, "B"), pc.replace_substring(month_txt, "-", ""),
                         _repeat(n, "-"), _digits(seq, 6))
        client = _join(_repeat(n, "B-"), _digits(person, 6))
        area = _take(_lut(["", *(f"{k:02d}" for k in DIVISIONS)]), division, division == 0)
        phone = _join(_repeat(n, "("), _take(_lut(AREA_CODES), (r.inc * 3) % len(AREA_CODES)),
                      _repeat(n, ") 555-01"), _digits((r.inc * 31) % 100, 2))
        cols = {
            "case_id": incident, "intake_channel": origin,
            "ts_call": times[0], "ts_assigned": times[1], "ts_enroute": times[2],
            "ts_arrival": times[3], "ts_closed": times[4],
            "cad_code_initial": code, "cad_code_final": final, "eligible_flag": flags[0],
            "lapd_area": area, "lat": lat, "lon": lon, "client_id": client,
            "client_first": people["first"], "client_last": people["last"],
            "caller_phone": phone,
            "pd_codispatch": flags[1], "pd_backup": flags[2], "pd_redirect": flags[3],
            "outcome_code": disposition, "arrest_flag": flags[4], "citation_flag": flags[5],
            "force_flag": flags[6], "force_kind": force_type, "client_injury": flags[7],
            "staff_injury": flags[8], "referral_offer": flags[9], "referral_accept": flags[10],
            "notes": narrative,
        }
    else:
        incident = _join(_repeat(n, "ENC"), _digits(seq, 9))
        client = _join(_repeat(n, "C-"), _digits(person, 6))
        long_names = ["", *(DIVISION_LONG_NAMES.get(v, v) for v in DIVISIONS.values())]
        area = _take(_lut(long_names), division, division == 0)
        cols = {
            "encounter_id": incident, "referral_type": origin,
            "call_time": times[0], "assigned_time": times[1], "enroute_time": times[2],
            "arrival_time": times[3], "closed_time": times[4],
            "call_type_code": code, "final_call_type_code": final, "meets_criteria": flags[0],
            "lapd_division": area, "latitude": lat, "longitude": lon, "participant_id": client,
            "participant_name": _join(people["first"], _repeat(n, " "), people["last"]),
            "date_of_birth": _dob_text(people["dob_day"], "%Y-%m-%d"),
            "address": people["address"],
            "police_on_scene": flags[1], "police_backup": flags[2],
            "handed_to_police": flags[3], "result": disposition, "arrested": flags[4],
            "cited": flags[5], "force": flags[6], "force_description": force_type,
            "participant_injured": flags[7], "team_injured": flags[8], "referred": flags[9],
            "referral_accepted": flags[10], "case_notes": narrative,
        }
    return pa.table(cols)


DIVISION_LONG_NAMES = {"West LA": "West Los Angeles", "N Hollywood": "North Hollywood"}


def _dob_text(day: np.ndarray, fmt: str) -> pa.Array:
    return pc.strftime(pa.array((day * 86400).astype("datetime64[s]")), format=fmt)


def _cad_table(r: _Rows, mapping: Mapping) -> pa.Table:
    n = len(r.inc)
    fmt = FORMATTERS["city_cad"]
    recv = r.get("recv")
    local_date = fmt(recv, np.zeros(n, np.int64))  # mm/dd/yyyy hh:mm:ss
    yymmdd = _join(pc.utf8_slice_codeunits(local_date, 8, 10),
                   pc.utf8_slice_codeunits(local_date, 0, 2),
                   pc.utf8_slice_codeunits(local_date, 3, 5))
    division = r.get("division")
    area_names = _inverse(mapping, "lapd_division", ("", *DIVISIONS.values()))
    inc = r.inc
    block = (100 + (inc * 37) % 98) * 100
    cols = {
        "INCIDENT_NO": _join(_repeat(n, "PD"), yymmdd, _digits(r.get("seq"), 8)),
        "CALL_SOURCE": _take(_inverse(mapping, "call_origin", ORIGINS), r.get("origin")),
        "TIME_RECEIVED": local_date,
        "TIME_DISPATCHED": fmt(recv, r.get("d_disp")),
        "TIME_ENROUTE": fmt(recv, r.get("d_enr")),
        "TIME_ONSCENE": fmt(recv, r.get("d_scene")),
        "TIME_CLEARED": fmt(recv, r.d_clear),
        "CALL_TYPE_INITIAL": _take(_lut(CODE_LIST), r.get("code")),
        "CALL_TYPE_FINAL": _take(_lut(CODE_LIST), r.final),
        "ACR_SCREEN_PASS": _bools(r.get("eligible"), "T", "F"),
        "SCREEN_OUT_CODE": _take(_inverse(mapping, "screen_out_reason", SCREEN_REASONS),
                                 r.get("screen")),
        "PRIMARY_UNIT_TYPE": _take(_inverse(mapping, "responder_type", RESPONDERS),
                                   r.get("responder")),
        "ACR_NOT_SENT": _take(_inverse(mapping, "unserved_reason", UNSERVED), r.get("unserved")),
        "DISPOSITION": _take(_inverse(mapping, "disposition", DISPOSITIONS, "???"), r.disp),
        "ARREST_FLAG": _bools(r.get("arrest"), "T", "F"),
        "CITATION_FLAG": _bools(r.get("citation"), "T", "F"),
        "FORCE_USED": _bools(r.get("force"), "T", "F"),
        "FORCE_TYPE": _take(_inverse(mapping, "force_type", FORCE_TYPES), r.get("force_type")),
        "SUBJ_INJURED": _bools(r.get("injury_person"), "T", "F"),
        "RESP_INJURED": _bools(r.get("injury_resp"), "T", "F"),
        "AREA_NAME": _take(area_names, division, division == 0),
        "LAT": pa.array(r.get("lat")),
        "LON": pa.array(r.get("lon")),
        "CALLER_NAME": _join(_take(_lut(FIRST_NAMES), (inc * 5 + 1) % len(FIRST_NAMES)),
                             _repeat(n, " "),
                             _take(_lut(LAST_NAMES), (inc * 11 + 2) % len(LAST_NAMES))),
        "CALLBACK_PHONE": _join(_take(_lut(AREA_CODES), (inc * 3) % len(AREA_CODES)),
                                _repeat(n, "-555-01"), _digits((inc * 31) % 100, 2)),
        "LOCATION_ADDRESS": _join(_digits(block, 1), _repeat(n, " BLOCK "),
                                  pc.utf8_upper(_take(_lut(STREETS), (inc * 11) % len(STREETS)))),
        "COMMENTS": _take(_lut(CAD_COMMENTS), (inc * 7) % len(CAD_COMMENTS)),
    }
    return pa.table(cols)


# --------------------------------------------------------------------------------------------
# LAPD Calls for Service (the police baseline)
# --------------------------------------------------------------------------------------------

# The City's open-data export lists every call LAPD dispatched or an officer logged. The demo
# writes the calls its CAD extract gives to LAPD (patrol and SMART, CODE 6 included) plus
# other call types in the proportion below, so the baseline's crisis-type counts agree with
# the CAD's police calls while most of the export is not crisis work, as in the real file.
CFS = "lapd_calls_for_service"
CFS_OTHER_PER_LAPD_CALL = 0.6  # assumption, kept low so 5M-call benchmarks stay 5M-ish
# Non-crisis codes with LAPD's own text; weights are their counts in the real 2020 sample
# (../shared/data/samples). 900 and 927I are in no group of the code table: they land in
# "other", as unknown codes must.
CFS_OTHER_CODES = (
    ("415M", "MAN", 50), ("415G", "GRP", 31), ("507R", "RADIO", 19), ("906B1", "CODE 30 RINGER", 18),
    ("507P", "PARTY", 14), ("620F", "FAMILY", 9), ("620N", "NEIGHBOR", 9), ("900", "UNKNOWN TROUBLE", 9),
    ("415F", "FIGHT", 7), ("246H", "HEARD ONLY", 7), ("245S", "SUSP", 6), ("242D", "DOM VIOL", 5),
    ("459SN", "SUSP NOW", 2), ("484S", "SUSP", 3), ("9041", "T/C", 1), ("927I", "INV", 1),
)
# LAPD's text for the codes the simulation uses.
CFS_TEXT = {
    "918": "PSYCH", "918M": "MALE", "918F": "FEM", "918P": "POSS", "918PM": "POSS MALE",
    "918PF": "POSS FEM", "918A": "AMB", "9073": "ATT SUICIDE", "907A3": "AMB ATT SUICIDE",
    "907P3": "POSS ATT SUICIDE", "907PA3": "POSS AMB ATT SUICIDE", "907A2": "AMB O/D",
    "9072": "O/D", "907P2": "POSS O/D", "390": "DRUNK", "WELF": "WELFARE CHECK",
    "9212": "TRESPASS SUSP", "9212N": "TRESPASS SUSP NOW", "921": "SUSP", "921C": "COMPLAINT",
    "415": "DISTURBANCE", "415M": "MAN", "415W": "WOMAN", "415G": "GRP", "415F": "FIGHT",
    "4151": "PARTY", "245": "ADW", "415M6": "MAN W/KNIVES", "415W6": "WMN W/KNIVES",
    "415M3": "MAN W/GUN", "415M8W": "MAN ASSLTG WMN", "242": "BATTERY", "6": "CODE 6",
    "902": "TRAFFIC STOP",
}
CFS_OUTSIDE_OFFICER_P = 0.45  # officer-initiated records LAPD files under "Outside" (real sample: 462 of 998 rows are Outside, nearly all CODE 6)


def _cfs_rows(rng: np.random.Generator, c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every LAPD-answered incident, then the other call types; sorted by time."""
    lapd = np.flatnonzero(np.isin(c["responder"], (POLICE, CORESP)))
    n_other = int(round(len(lapd) * CFS_OTHER_PER_LAPD_CALL))
    like = lapd[rng.integers(0, len(lapd), n_other)] if len(lapd) else np.zeros(0, np.int64)
    weights = np.array([w for *_, w in CFS_OTHER_CODES], float)
    code_text = [(code, CFS_TEXT[code]) for code in CODE_LIST]
    code_text += [(code, text) for code, text, _ in CFS_OTHER_CODES]
    other_code = len(CODE_LIST) + _draw(rng, weights / weights.sum(), n_other)
    # LAPD publishes the dispatch time; the demo uses the time received, which keeps every
    # call in the month the CAD extract has it in
    t_lapd = c["recv"][lapd]
    t_other = c["recv"][like]
    division = np.r_[c["division"][lapd], c["division"][like]].astype(np.int64)
    officer = np.r_[c["origin"][lapd] == ORIGINS.index("officer_initiated"), np.zeros(n_other, bool)]
    division[officer & (rng.random(len(division)) < CFS_OUTSIDE_OFFICER_P)] = 0
    rows = {
        "t": np.r_[t_lapd, t_other],
        "code": np.r_[c["code"][lapd], other_code],
        "division": division,
        "seq": np.r_[c["seq"][lapd], 60_000_000 + np.arange(n_other)],
        "rd": rng.integers(0, 100, len(division)),
    }
    order = np.argsort(rows["t"], kind="stable")
    rows = {k: v[order] for k, v in rows.items()}
    rows["code_text"] = code_text
    return rows


def _cfs_table(rows: dict[str, np.ndarray], lo: int, hi: int) -> pa.Table:
    n = hi - lo
    t = rows["t"][lo:hi]
    local = t + _utc_offset(t)
    stamp = pa.array(local.astype("datetime64[s]"))
    # LAPD writes months, days and hours without leading zeros: 3/24/2020 0:00, 9:34:26
    day = pc.replace_substring_regex(pc.strftime(stamp, format="%m/%d/%Y"), r"(^|/)0(\d)", r"\1\2")
    tod = pc.replace_substring_regex(pc.strftime(stamp, format="%H:%M:%S"), r"^0(\d)", r"\1")
    yymmdd = pc.strftime(stamp, format="%y%m%d")
    division = rows["division"][lo:hi]
    names = _lut(("Outside", *DIVISIONS.values()))
    rd = np.where(division == 0, -1, division * 100 + rows["rd"][lo:hi])
    codes, texts = zip(*rows["code_text"])
    code = rows["code"][lo:hi]
    return pa.table({
        "Incident_Number": _join(_repeat(n, "PD"), yymmdd, _digits(rows["seq"][lo:hi], 8)),
        "Area_Occ": _take(names, division),
        "Rpt_Dist": _take(_lut([str(i) for i in range(2200)]), np.maximum(rd, 0), rd < 0),
        "Dispatch_Date": _join(day, _repeat(n, " 0:00")),
        "Dispatch_Time": tod,
        "Call_Type_Code": _take(_lut(codes), code),
        "Call_Type_Text": _take(_lut(texts), code),
    })


def _write_cfs(rng: np.random.Generator, c: dict[str, np.ndarray],
               folder: Path) -> list[tuple[Path, int]]:
    """One CSV per month, like the portal's monthly downloads."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in sorted(folder.glob("lapd_calls_for_service_????-??.csv")):
        old.unlink()
    rows = _cfs_rows(rng, c)
    local = rows["t"] + _utc_offset(rows["t"])
    month = local.astype("datetime64[s]").astype("datetime64[M]")
    bounds = np.flatnonzero(np.r_[True, month[1:] != month[:-1], True])
    paths = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        path = folder / f"lapd_calls_for_service_{month[a]}.csv"
        pacsv.write_csv(_cfs_table(rows, int(a), int(b)), path)
        paths.append((path, int(b - a)))
    return paths


# --------------------------------------------------------------------------------------------
# Configuration files
# --------------------------------------------------------------------------------------------

SOURCE_GLOBS = {"provider_a": "*.csv", "provider_b": "*.csv", "provider_c": "*.parquet",
                "city_cad": "*.csv", "lapd_calls_for_service": "*.csv"}


def _sources_toml(lapd: bool = True) -> str:
    def strings(items) -> str:
        return "[" + ", ".join(f'"{x}"' for x in items) + "]"

    lines = [
        "# Demo configuration written by 'uv run etl demo'. Edit freely; see SPEC section 3.",
        "",
        "[run]",
        'hmac_key_file = "hmac.key"        # demo key derived from the seed: never use it for real data',
        "max_quarantine_share = 0.05",
        "",
        "[pilot]",
        "# call_type_groups omitted: the code table's pilot groups (etl/call_types.toml)",
        "",
    ]
    for span in COVERAGE:
        lines += ["[[pilot.coverage]]", f"from = {span.start.isoformat()}",
                  f"divisions = {strings(span.divisions)}",
                  f"hours = [{span.hours[0]}, {span.hours[1]}]       # [start, end) local hour",
                  ""]
    for day, label, label_es in MILESTONES:
        lines += ["[[pilot.milestone]]", f"date = {day.isoformat()}", f'label = "{label}"',
                  f'label_es = "{label_es}"', ""]
    for name in SOURCES + ((CFS,) if lapd else ()):
        fmt = name if name in ("city_cad", CFS) else f"mappings/{name}.toml"
        lines += ["[[source]]", f'name = "{name}"', f'format = "{fmt}"',
                  f'path = "landing/{name}/{SOURCE_GLOBS[name]}"', ""]
    return "\n".join(lines)


def _demo_key(seed: int) -> str:
    return hashlib.sha256(f"crisis-response-outcomes demo key, seed {seed}".encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def write_demo(out: Path, calls: int = 20_000, seed: int = 7, lapd: bool = True) -> dict:
    """Write realistic landing exports + mapping files + out/sources.toml; return a summary dict (rows per source, files written, seconds)."""
    if calls < 1:
        raise ValueError(f"calls must be at least 1, got {calls}")
    started = time.perf_counter()
    out = Path(out)
    rng = np.random.default_rng(seed)
    pool = _point_pool(rng)
    c = _simulate(rng, int(calls), pool)
    rows, messy = _make_messy(rng, c)

    mappings = {name: load_mapping(name, BUILTIN_DIR) for name in SOURCES}
    (out / "mappings").mkdir(parents=True, exist_ok=True)
    for name in SOURCES:
        shutil.copyfile(BUILTIN_DIR / f"{name}.toml", out / "mappings" / f"{name}.toml")

    files: list[str] = []
    rows_per_source = {name: 0 for name in SOURCES}
    for s, name in enumerate(SOURCES):
        folder = out / "landing" / name
        folder.mkdir(parents=True, exist_ok=True)
        ext = SOURCE_GLOBS[name][2:]
        for old in sorted(folder.glob(f"{name}_????-??.{ext}")):  # a previous demo's months
            old.unlink()
        lo, hi = np.searchsorted(rows["source"], [s, s + 1])
        fm = rows["file_month"][lo:hi]
        bounds = np.flatnonzero(np.r_[True, fm[1:] != fm[:-1], True])
        for a, b in zip(bounds[:-1], bounds[1:]):
            inc = rows["inc"][lo + a:lo + b]
            variant = rows["variant"][lo + a:lo + b]
            r = _rows(c, inc, variant)
            label = str(FIRST_MONTH + int(fm[a]))
            path = folder / f"{name}_{label}.{ext}"
            if name == "city_cad":
                table = _cad_table(r, mappings[name])
            else:
                table = _provider_table(name, r, mappings[name])
            if ext == "parquet":
                pq.write_table(table, path, compression="zstd")
            else:
                options = pacsv.WriteOptions(include_header=True,
                                             delimiter=mappings[name].delimiter)
                pacsv.write_csv(table, path, write_options=options)
            files.append(path.relative_to(out).as_posix())
            rows_per_source[name] += len(inc)

    if lapd:  # the police baseline: LAPD's calls-for-service export
        cfs = _write_cfs(rng, c, out / "landing" / CFS)
        files += [p.relative_to(out).as_posix() for p, _ in cfs]
        rows_per_source[CFS] = sum(n for _, n in cfs)
    else:
        shutil.rmtree(out / "landing" / CFS, ignore_errors=True)
    (out / "sources.toml").write_text(_sources_toml(lapd), encoding="utf-8")
    (out / "hmac.key").write_text(_demo_key(seed), encoding="utf-8")
    files += ["sources.toml", "hmac.key"] + [f"mappings/{name}.toml" for name in SOURCES]

    responders = {RESPONDERS[k]: int(v) for k, v in
                  enumerate(np.bincount(c["responder"], minlength=len(RESPONDERS)))}
    return {
        "out": str(out),
        "calls": int(calls),
        "seed": int(seed),
        "rows": rows_per_source,
        "rows_total": int(sum(rows_per_source.values())),
        "responders": responders,
        "messy": messy,
        "files": files,
        "seconds": round(time.perf_counter() - started, 2),
    }
