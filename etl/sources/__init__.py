"""Input formats: the sources.toml configuration and the mappings to the canonical record.

A mapping is a TOML file (built-in ones live beside this module) of this form::

    name = "provider_a"
    description = "What system writes these exports"
    file_format = "csv"          # csv | parquet
    delimiter = ","              # csv only
    encoding = "utf-8"           # csv only: utf-8 (default; a byte order mark is fine),
                                 # latin-1 (Windows "ANSI" exports) or utf-16
    null = ["NA", "N/A", "-"]    # texts that mean "not recorded" in every column (after trim)
    coordinates = false          # the source never has points (e.g. a crisis line): its calls
                                 # count citywide and by division, in no council district
    drop = ["Client Name", "DOB"]  # source columns read by no one: names, addresses, narratives

    [rename]                     # source column -> canonical column
    "Case Number" = "incident_id"

    [constant]                   # canonical column -> the same value on every row
    responder_type = "civilian_team"

    [combine]                    # canonical column -> source columns joined by one space
    received_at = ["Dispatch_Date", "Dispatch_Time"]

    [time_format]                # canonical time column -> strptime format(s); default ISO 8601
    received_at = "%m/%d/%Y %I:%M %p"

    [values.disposition]         # canonical column -> {source value -> canonical value}
    "Resolved" = "resolved_on_scene"

    [booleans]                   # spellings beyond true/false/1/0/yes/no (case-insensitive)
    true = ["Y"]
    false = ["N"]

    [copy]                       # canonical column -> a source column read a second time
    arrest = "Clearance"         # (one clearance text gives a disposition and an arrest flag)

    [clean.disposition]          # before [values]: after trim, drop a prefix, change case
    strip_prefix = "--"
    case = "upper"

    [clean.arrest]               # clean steps are per canonical column: a copy needs its own
    strip_prefix = "--"

    [values.arrest]              # "" means unknown; "*" is every value the map does not name
    "ARREST" = "true"
    "NOT RECORDED" = ""
    "*" = "false"

Call types: initial_call_type and final_call_type hold codes of the code table
(etl/call_types.toml), e.g. "918M"; a provider's own text can be mapped to a code in
[values.initial_call_type], or to a call type group's name ("Person in Crisis" =
"mental_health"). Text that is neither counts as "other" (`uv run etl check` lists it).

`role` says where the rows go: "calls" (the default) for the pilot's and the city's call
records, "police_baseline" for LAPD calls-for-service exports, which carry no outcomes and are
published only as the police baseline (etl/baseline.py), never mixed into the pilot metrics.

Every column of an input file must be renamed, combined, dropped or (for the canonical format) be a
canonical column; any other column fails the run, naming the column and the file. Canonical
columns a mapping does not produce are empty (unknown), never guessed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from etl.schema import CANONICAL_COLUMNS, TIME_COLUMNS

BUILTIN_DIR = Path(__file__).resolve().parent


class ConfigError(ValueError):
    """The configuration or a mapping is wrong; the message says how to fix it."""


@dataclass(frozen=True)
class Mapping:
    name: str
    description: str = ""
    file_format: str = "csv"
    delimiter: str = ","
    rename: dict[str, str] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    constant: dict[str, str] = field(default_factory=dict)
    time_format: dict[str, tuple[str, ...]] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    true_words: tuple[str, ...] = ()
    false_words: tuple[str, ...] = ()
    strict_canonical: bool = False  # the canonical format: header must be canonical names
    role: str = "calls"
    combine: dict[str, tuple[str, ...]] = field(default_factory=dict)
    encoding: str = "utf-8"
    null_words: tuple[str, ...] = ()
    copy: dict[str, str] = field(default_factory=dict)
    coordinates: bool = True  # False: the source never has points (a crisis line)
    clean: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def allowed_input_columns(self) -> set[str]:
        allowed = set(self.rename) | set(self.drop) | set(self.copy.values())
        allowed |= {c for cols in self.combine.values() for c in cols}
        if self.strict_canonical:
            allowed |= set(CANONICAL_COLUMNS)
        return allowed


ROLES = ("calls", "police_baseline")

CANONICAL = Mapping(
    name="canonical",
    description="The canonical call record of SPEC section 3, header names exactly as listed.",
    strict_canonical=True,
)


def parse_mapping(data: dict, origin: str) -> Mapping:
    def fail(msg: str) -> ConfigError:
        return ConfigError(f"mapping {origin}: {msg}")

    known = {"name", "description", "file_format", "delimiter", "rename", "drop", "constant",
             "time_format", "values", "booleans", "role", "combine", "encoding", "null", "copy",
             "clean", "coordinates"}
    unknown = set(data) - known
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)}; allowed: {sorted(known)}")
    rename = {str(k): str(v) for k, v in data.get("rename", {}).items()}
    for src, dst in rename.items():
        if dst not in CANONICAL_COLUMNS:
            raise fail(f"renames {src!r} to {dst!r}, which is not a canonical column")
    constant = {str(k): str(v) for k, v in data.get("constant", {}).items()}
    for col in constant:
        if col not in CANONICAL_COLUMNS:
            raise fail(f"[constant] names {col!r}, which is not a canonical column")
    time_format: dict[str, tuple[str, ...]] = {}
    for col, fmt in data.get("time_format", {}).items():
        if col not in TIME_COLUMNS:
            raise fail(f"[time_format] names {col!r}; time columns are {list(TIME_COLUMNS)}")
        time_format[col] = (fmt,) if isinstance(fmt, str) else tuple(fmt)
    values = {c: {str(k): str(v) for k, v in m.items()} for c, m in data.get("values", {}).items()}
    for col in values:
        if col not in CANONICAL_COLUMNS:
            raise fail(f"[values.{col}] is not a canonical column")
    combine: dict[str, tuple[str, ...]] = {}
    for col, parts in data.get("combine", {}).items():
        if col not in CANONICAL_COLUMNS:
            raise fail(f"[combine] names {col!r}, which is not a canonical column")
        if isinstance(parts, str) or len(parts) < 2:
            raise fail(f"[combine] {col} needs a list of two or more source columns")
        if col in rename.values() or col in constant:
            raise fail(f"{col!r} is both combined and renamed or constant; keep one")
        combine[col] = tuple(str(p) for p in parts)
    copy = {str(k): str(v) for k, v in data.get("copy", {}).items()}
    for col, src in copy.items():
        if col not in CANONICAL_COLUMNS:
            raise fail(f"[copy] names {col!r}, which is not a canonical column")
        if col in rename.values() or col in constant or col in combine:
            raise fail(f"{col!r} is both copied and renamed, constant or combined; keep one")
    clean: dict[str, tuple[tuple[str, str], ...]] = {}
    for col, steps in data.get("clean", {}).items():
        if col not in CANONICAL_COLUMNS or not isinstance(steps, dict):
            raise fail(f"[clean.{col}]: name a canonical column, with strip_prefix and/or case")
        out = []
        for k, v in steps.items():
            if k == "strip_prefix" and isinstance(v, str) and v:
                out.append(("strip_prefix", v))
            elif k == "case" and v in ("upper", "lower"):
                out.append(("case", v))
            else:
                raise fail(f"[clean.{col}] {k} = {v!r}: use strip_prefix = \"TEXT\" or "
                           "case = \"upper\" / \"lower\"")
        clean[col] = tuple(out)
    coordinates = data.get("coordinates", True)
    if not isinstance(coordinates, bool):
        raise fail("coordinates must be true or false")
    if not coordinates and {"latitude", "longitude"} & (set(rename.values()) | set(copy)):
        raise fail("says coordinates = false but maps a column to latitude or longitude")
    role = str(data.get("role", "calls"))
    if role not in ROLES:
        raise fail(f"role {role!r}: use one of {', '.join(ROLES)}")
    fmt = data.get("file_format", "csv")
    if fmt not in ("csv", "parquet"):
        raise fail(f"file_format {fmt!r}: use 'csv' or 'parquet'")
    booleans = data.get("booleans", {})
    encoding = str(data.get("encoding", "utf-8")).lower().replace("_", "-")
    encoding = {"utf8": "utf-8", "latin1": "latin-1", "iso-8859-1": "latin-1",
                "utf16": "utf-16"}.get(encoding, encoding)
    if encoding not in ("utf-8", "latin-1", "utf-16"):
        raise fail(f"encoding {data['encoding']!r}: use 'utf-8' (the default; a byte order "
                   "mark is fine), 'latin-1' or 'utf-16'")
    nulls = data.get("null", [])
    if isinstance(nulls, str) or not all(isinstance(w, str) for w in nulls):
        raise fail('null must be a list of texts, e.g. null = ["NA", "N/A", "-"]')
    return Mapping(
        name=str(data.get("name", origin)),
        description=str(data.get("description", "")),
        file_format=fmt,
        delimiter=str(data.get("delimiter", ",")),
        rename=rename,
        drop=tuple(str(c) for c in data.get("drop", [])),
        constant=constant,
        time_format=time_format,
        values=values,
        true_words=tuple(str(w).lower() for w in booleans.get("true", [])),
        false_words=tuple(str(w).lower() for w in booleans.get("false", [])),
        role=role,
        combine=combine,
        encoding=encoding,
        null_words=tuple(nulls),
        copy=copy,
        clean=clean,
        coordinates=coordinates,
    )


def builtin_formats() -> list[str]:
    return ["canonical"] + sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def load_mapping(fmt: str, base_dir: Path) -> Mapping:
    """A mapping by built-in name, or from a TOML file (relative to the config's folder)."""
    if fmt == "canonical":
        return CANONICAL
    builtin = BUILTIN_DIR / f"{fmt}.toml"
    path = builtin if builtin.exists() and "/" not in fmt else (base_dir / fmt)
    if not path.exists():
        raise ConfigError(
            f"format {fmt!r} is neither a built-in mapping ({', '.join(builtin_formats())}) "
            f"nor a mapping file at {path}"
        )
    with open(path, "rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"mapping {path} is not valid TOML: {exc}") from exc
    return parse_mapping(data, str(path))


@dataclass(frozen=True)
class Source:
    name: str
    mapping: Mapping
    pattern: str  # glob, absolute


@dataclass(frozen=True)
class CoverageSpan:
    """From `start`, the pilot serves these divisions during [start_hour, end_hour) local."""
    start: date
    divisions: tuple[str, ...]
    start_hour: int
    end_hour: int


@dataclass(frozen=True)
class Config:
    path: Path
    sources: tuple[Source, ...]
    pilot_groups: tuple[str, ...]
    coverage: tuple[CoverageSpan, ...]
    # (date, label, Spanish label or "")
    milestones: tuple[tuple[date, str, str], ...] = ()
    hmac_key_file: Path | None = None
    max_quarantine_share: float | None = None
    earliest_date: date = date(2000, 1, 1)
    # a release whose published universe falls by more than this share from the last
    # release fails closed (unless the run is told --accept-shrink)
    max_universe_drop: float = 0.5
    # a re-exported file with fewer than this share of the rows it had fails closed
    min_reexport_share: float = 0.5

    def quarantine_limit(self) -> float:
        """The share of rows set aside above which a run fails closed: [run] in
        sources.toml, else OUTCOMES_MAX_QUARANTINE_SHARE."""
        from outcomes import settings
        return (self.max_quarantine_share if self.max_quarantine_share is not None
                else settings.max_quarantine_share())


def load_config(path: Path) -> Config:
    """Read sources.toml; every problem is reported with what to change."""
    from etl.call_types import load_code_table
    from etl.divisions import canonical_division

    path = Path(path).resolve()
    if not path.exists():
        raise ConfigError(f"no configuration at {path}: write a sources.toml "
                          "(see README, 'Input contract') or run 'uv run etl demo --out DIR'")
    with open(path, "rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    base = path.parent
    sources = []
    seen = set()
    for i, s in enumerate(data.get("source", [])):
        for key in ("name", "format", "path"):
            if key not in s:
                raise ConfigError(f"{path}: [[source]] number {i + 1} has no {key!r}")
        if s["name"] in seen:
            raise ConfigError(f"{path}: two sources are named {s['name']!r}; names must differ")
        seen.add(s["name"])
        pattern = s["path"] if Path(s["path"]).is_absolute() else str(base / s["path"])
        sources.append(Source(s["name"], load_mapping(s["format"], base), pattern))
    if not sources:
        raise ConfigError(f"{path} names no [[source]]; add one per landing folder")

    table = load_code_table()
    pilot = data.get("pilot", {})
    groups = tuple(pilot.get("call_type_groups", table.pilot_groups()))
    for g in groups:
        if g not in table.groups:
            raise ConfigError(f"{path}: pilot call type group {g!r} is not in the code table "
                              f"({', '.join(table.groups)})")
    spans = []
    for c in pilot.get("coverage", []):
        divisions = []
        for d in c.get("divisions", []):
            name = canonical_division(d)
            if name is None:
                raise ConfigError(f"{path}: pilot coverage names {d!r}, not an LAPD division")
            divisions.append(name)
        hours = c.get("hours", [0, 24])
        if len(hours) != 2 or not (0 <= hours[0] < hours[1] <= 24):
            raise ConfigError(f"{path}: pilot coverage hours {hours!r}: give [start, end) "
                              "as whole hours, e.g. [7, 23]")
        start = c.get("from")
        if not isinstance(start, date):
            raise ConfigError(f"{path}: pilot coverage needs from = YYYY-MM-DD (a TOML date)")
        spans.append(CoverageSpan(start, tuple(divisions), int(hours[0]), int(hours[1])))
    if not spans:
        raise ConfigError(f"{path}: [pilot] needs at least one [[pilot.coverage]] "
                          "with from, divisions and hours")
    spans.sort(key=lambda s: s.start)
    milestones = tuple(sorted((m["date"], str(m["label"]), str(m.get("label_es", "")))
                              for m in pilot.get("milestone", [])))
    run = data.get("run", {})
    key_file = run.get("hmac_key_file")
    return Config(
        path=path,
        sources=tuple(sources),
        pilot_groups=groups,
        coverage=tuple(spans),
        milestones=milestones,
        hmac_key_file=(base / key_file) if key_file else None,
        max_quarantine_share=run.get("max_quarantine_share"),
        earliest_date=_run_date(run, "earliest_date", date(2000, 1, 1), path),
        max_universe_drop=_share(run, "max_universe_drop", 0.5, path),
        min_reexport_share=_share(run, "min_reexport_share", 0.5, path),
    )


def _run_date(run: dict, key: str, default: date, path: Path) -> date:
    value = run.get(key, default)
    if not isinstance(value, date):
        raise ConfigError(f"{path}: [run] {key} must be a TOML date, e.g. {key} = 2000-01-01")
    return value


def _share(run: dict, key: str, default: float, path: Path) -> float:
    value = run.get(key, default)
    if not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(f"{path}: [run] {key} must be a share between 0 and 1, e.g. 0.5")
    return float(value)
