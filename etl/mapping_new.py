"""`uv run etl mapping new FILE.csv`: a starting mapping written from an export's header.

Guesses, from the column names, which canonical column each one is; from the values, the
time format of each time column; and lists the distinct values of short text columns with
the canonical codes they must map to. Columns it cannot place go to `drop` with a comment
(names, addresses and narratives are never loaded). The result is a draft for a person to
finish: every guess is marked, and `uv run etl check` then shows what it would load.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import duckdb

from etl.call_types import load_code_table
from etl.divisions import canonical_division
from etl.extract import _csv_reader, read_header
from etl.schema import ALLOWED_VALUES, BOOLEAN_COLUMNS, CANONICAL_COLUMNS, FALSE_WORDS, \
    TIME_COLUMNS, TRUE_WORDS
from etl.sources import Mapping

# Names real exports use for each canonical column (compared lower case, non-letters as _).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "incident_id": ("call", "call_no", "call_num", "incident", "incident_no", "incident_number", "incident_", "case", "case_id",
                    "case_no", "case_number", "call_id", "call_number", "event_id",
                    "event_number", "contact_id", "cad_number", "id"),
    "call_origin": ("source", "origin", "intake", "received_via", "call_source_type", "call_source", "source_of_call", "intake_channel", "channel",
                    "how_received"),
    "received_at": ("received", "rcvd", "time_received", "call_received", "call_time",
                    "received_time", "date_time_received", "created", "call_date_time"),
    "dispatched_at": ("dispatched", "disp", "time_dispatched", "assigned", "dispatch_time"),
    "enroute_at": ("enroute", "en_route", "time_enroute", "enroute_time"),
    "on_scene_at": ("on_scene", "onscn", "onscene", "arrived", "arrival", "time_onscene",
                    "arrival_time", "on_scene_time"),
    "cleared_at": ("cleared", "clrd", "closed", "time_cleared", "clear_time", "close_time"),
    "initial_call_type": ("type", "call_type", "initial_type", "nature", "call_type_code",
                          "problem", "initial_call_type_code"),
    "final_call_type": ("final_type", "final_call_type_code", "final_nature"),
    "eligible": ("eligible_y_n", "eligible_flag", "screen_pass", "passed_screen", "eligible"),
    "responder_type": ("team", "unit_type", "responder", "responding_unit", "response_type", "primary_unit_type", "team_type"),
    "disposition": ("outcome", "clearance", "result", "disposition_code", "dispo"),
    "arrest": ("arrest_flag", "arrest_made", "arrested"),
    "citation": ("citation_flag", "cited"),
    "use_of_force": ("force", "force_used", "force_flag", "uof"),
    "lapd_division": ("area", "area_name", "division", "lapd_area", "district_name"),
    "latitude": ("lat", "y", "latitude_"),
    "longitude": ("lon", "lng", "long", "x", "longitude_"),
    "police_co_dispatched": ("lapd_assist", "police_assist", "pd_codispatch", "police_sent"),
    "injury_person": ("subject_injured", "client_injured", "injury_subject"),
    "injury_responder": ("staff_injured", "responder_injured", "injury_staff"),
    "person_key": ("client_id", "person_id", "subject_id"),
    "referral_offered": ("referral_offer", "referred"),
    "referral_accepted": ("referral_accept",),
}
TIME_FORMATS = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S",
                "%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M",
                "%Y/%m/%d %H:%M:%S")
SAMPLE_ROWS = 2000
SHORT_TEXT = 25  # columns with at most this many distinct values get a [values] draft


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def guess_column(name: str) -> str | None:
    n = _norm(name)
    # "source" in an export is how the call came in; the canonical source (the provider)
    # is a constant of the mapping
    if n in CANONICAL_COLUMNS and n != "source":
        return n
    for col, names in SYNONYMS.items():
        if n in names:
            return col
    return None


def guess_time_format(values: list[str]) -> tuple[str | None, int]:
    """(format, values it does not read): None when ISO 8601 reads them (the default needs
    no format), "?" when no known format reads three in four."""
    def iso(v: str) -> bool:
        try:
            datetime.fromisoformat(v)
            return True
        except ValueError:
            return False
    def reads(fmt: str, v: str) -> bool:
        try:
            datetime.strptime(v, fmt)
            return True
        except ValueError:
            return False
    if not values:
        return None, 0
    best = max([(sum(iso(v) for v in values), None)] +
               [(sum(reads(f, v) for v in values), f) for f in TIME_FORMATS],
               key=lambda x: x[0])
    if best[0] < 0.75 * len(values):
        return "?", len(values)
    return best[1], len(values) - best[0]


def _common_prefix(vals) -> str | None:
    """A run of punctuation every value starts with ("--ADVISED", "--GOA"), if any."""
    if len(vals) < 2:
        return None
    m = re.match(r"^[^\w\s]+", vals.iloc[0])
    if not m:
        return None
    prefix = m.group(0)
    return prefix if vals.str.startswith(prefix).all() else None


def _toml(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def draft(path: Path, name: str, delimiter: str = ",", encoding: str = "utf-8") -> str:
    mapping = Mapping(name=name, delimiter=delimiter, encoding=encoding)
    header = read_header(mapping, str(path))
    con = duckdb.connect()
    sample = con.execute(f"select * from {_csv_reader(mapping, str(path), header, 'draft')} "
                         f"limit {SAMPLE_ROWS}").df()
    rename, drop, taken = {}, [], set()
    for col in header:
        c = guess_column(col)
        if c and c not in taken:
            rename[col], taken = c, taken | {c}
        else:
            drop.append(col)
    # a date and a time (or hour) in two columns: "Call Date" + "Call Time" -> [combine]
    combine: dict[str, list[str]] = {}
    for col, dst in list(rename.items()):
        n = _norm(col)
        if dst in TIME_COLUMNS and re.search(r"(time|hour)$", n):
            date_col = next((d for d in drop if _norm(d) == re.sub(r"(time|hour)$", "date", n)),
                            None)
            if date_col:
                combine[dst] = [date_col, col]
                del rename[col]
                drop.remove(date_col)
    lines = [f"# Draft mapping written by 'uv run etl mapping new' from {path.name}.",
             "# Check every line: guesses are marked '# guess'. Then run 'uv run etl check'.",
             f"name = {_toml(name)}", 'description = ""', 'file_format = "csv"',
             f"delimiter = {_toml(delimiter)}"]
    if encoding != "utf-8":
        lines.append(f"encoding = {_toml(encoding)}")
    nulls = sorted({v for v in ("NA", "N/A", "NULL", "null", "-", "None")
                    if (sample.astype(str) == v).any().any()})
    if nulls:
        lines.append(f"null = [{', '.join(_toml(v) for v in nulls)}]  # seen in the file")
    lines.append("# columns not placed: names, addresses and free text stay unread; if one "
                 "holds data, move it to [rename]")
    lines.append("drop = [" + ", ".join(_toml(c) for c in drop) + "]")
    lines += ["", "[rename]"]
    lines += [f"{_toml(src)} = {_toml(dst)}  # guess" for src, dst in rename.items()]
    if combine:
        lines += ["", "[combine]  # guess: a date and a time in two columns"]
        lines += [f"{dst} = [{', '.join(_toml(c) for c in cols)}]" for dst, cols in combine.items()]
    missing = [c for c in ("incident_id", "received_at", "call_origin", "responder_type")
               if c not in taken and c not in combine]
    lines += ["", "[constant]", f"source = {_toml(name)}"]
    for c in missing:
        lines.append(f"# {c} = \"...\"  # required and not found in the header: give a "
                     "constant or rename a column")
    def text(cols: list[str]):
        vals = sample[cols[0]].astype("string").str.strip()
        for c in cols[1:]:
            vals = vals + " " + sample[c].astype("string").str.strip()
        return vals.dropna()

    times = {}
    time_sources = [([src], dst) for src, dst in rename.items()] + \
        [(cols, dst) for dst, cols in combine.items()]
    for cols, dst in time_sources:
        if dst in TIME_COLUMNS:
            vals = [v for v in text(cols)[:200] if v and v not in nulls and
                    not any(part in nulls for part in v.split(" "))]
            fmt, unread = guess_time_format(vals)
            if fmt:
                times[dst] = (fmt, unread, len(vals))
    if times:
        lines += ["", "[time_format]"]
        for dst, (fmt, unread, n) in times.items():
            if fmt == "?":
                note = "  # no known format reads these values: write it (strptime codes)"
            else:
                note = "  # guess" + (f"; {unread} of {n} sample values do not read with it"
                                      if unread else "")
            lines.append(f"{dst} = {_toml(fmt)}{note}")
    trues, falses = set(), set()
    table = load_code_table()
    for src, dst in rename.items():
        vals = sample[src].dropna().astype(str).str.strip()
        vals = vals[(vals != "") & ~vals.isin(nulls)]
        prefix = _common_prefix(vals)
        if prefix and (dst in ALLOWED_VALUES or dst in BOOLEAN_COLUMNS):
            lines += ["", f"[clean.{dst}]  # guess: every value starts with {prefix!r}",
                      f"strip_prefix = {_toml(prefix)}"]
            vals = vals.str.removeprefix(prefix).str.strip()
        counts = vals.value_counts()
        if dst in ("initial_call_type", "final_call_type"):
            odd = [(v, n) for v, n in counts.items() if table.group_of(v) == "other"]
            if odd:
                lines += ["", f"[values.{dst}]  # codes of etl/call_types.toml, or a group: "
                          + ", ".join(table.groups)]
                lines += [f"# {_toml(v)} = \"\"  # {n} row{'s' if n != 1 else ''} in the "
                          "sample; the code table does not group it" for v, n in odd[:SHORT_TEXT]]
            continue
        if dst == "lapd_division":
            odd = [(v, n) for v, n in counts.items() if canonical_division(v) is None]
            if odd:
                lines += ["", "[values.lapd_division]  # LAPD division names, e.g. Central"]
                lines += [f"# {_toml(v)} = \"\"  # {n} row{'s' if n != 1 else ''} in the "
                          "sample; not a division name" for v, n in odd[:SHORT_TEXT]]
            continue
        if dst in ALLOWED_VALUES and 0 < len(counts) <= SHORT_TEXT:
            allowed = ALLOWED_VALUES[dst]
            lines += ["", f"[values.{dst}]  # allowed: {', '.join(allowed)}"]
            for v, n in counts.items():
                if v.lower() in allowed:
                    continue
                lines.append(f"# {_toml(v)} = \"\"  # {n} row{'s' if n != 1 else ''} "
                             "in the sample")
        elif dst in BOOLEAN_COLUMNS:
            for v in counts.index:
                low = v.lower()
                if low in TRUE_WORDS or low in FALSE_WORDS:
                    continue
                (trues if low.startswith(("y", "t")) else falses).add(v)
    if trues or falses:
        lines += ["", "[booleans]  # guess: check which words mean true"]
        lines.append("true = [" + ", ".join(_toml(v) for v in sorted(trues)) + "]")
        lines.append("false = [" + ", ".join(_toml(v) for v in sorted(falses)) + "]")
    return "\n".join(lines) + "\n"
