"""Extract: read each source's landing files through its mapping into the canonical record.

Output table `extracted`: the canonical columns (times parsed to TIMESTAMPTZ, booleans parsed,
values mapped, everything else text), `<col>__raw` beside each time and boolean column so
validation can tell "empty" from "unreadable", and lineage `_source, _file, _row`.
"""

from __future__ import annotations

import glob
import logging
import os
from dataclasses import dataclass

import duckdb

from etl.schema import BOOLEAN_COLUMNS, CANONICAL_COLUMNS, FALSE_WORDS, TIME_COLUMNS, TRUE_WORDS
from etl.sources import Config, Mapping, Source

log = logging.getLogger(__name__)


class SchemaDriftError(ValueError):
    """An input file's columns do not match its mapping; the run fails closed."""


@dataclass(frozen=True)
class LandingFile:
    source: str
    path: str
    bytes: int
    mtime_ns: int

    @property
    def fingerprint(self) -> tuple[str, int, int]:
        return (self.path, self.bytes, self.mtime_ns)


def list_files(config: Config) -> list[tuple[Source, LandingFile]]:
    """Every landing file, sources in config order, files in name order (the version order)."""
    out = []
    for source in config.sources:
        paths = sorted(glob.glob(source.pattern))
        if not paths:
            log.warning("source %s: no files match %s", source.name, source.pattern)
        for p in paths:
            st = os.stat(p)
            out.append((source, LandingFile(source.name, p, st.st_size, st.st_mtime_ns)))
    return out


def _lit(value: str) -> str:
    """A SQL string literal for mapping-file constants (configuration, not user input)."""
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _reader(mapping: Mapping, path: str | list[str], lineage: bool = False) -> str:
    paths = _lit(path) if isinstance(path, str) else "[" + ", ".join(_lit(p) for p in path) + "]"
    extra = ", filename = true, union_by_name = true" if lineage else ""
    if mapping.file_format == "parquet":
        return f"read_parquet({paths}{extra})"
    return (f"read_csv({paths}, all_varchar = true, header = true, "
            f"delim = {_lit(mapping.delimiter)}, quote = '\"', escape = '\"', "
            f"strict_mode = false, null_padding = true, max_line_size = 10000000{extra})")


def file_columns(con: duckdb.DuckDBPyConnection, mapping: Mapping, path: str) -> list[str]:
    return [r[0] for r in con.execute(f"describe select * from {_reader(mapping, path)}").fetchall()]


def check_columns(columns: list[str], mapping: Mapping, path: str) -> None:
    allowed = mapping.allowed_input_columns()
    unknown = [c for c in columns if c not in allowed]
    if unknown:
        where = "the canonical format" if mapping.strict_canonical else f"mapping {mapping.name!r}"
        raise SchemaDriftError(
            f"{path}: column(s) {', '.join(repr(c) for c in unknown)} are not named by "
            f"{where}. If the column holds an identifier or free text, add it to the "
            f"mapping's drop list; if it is data, add it to [rename]. Nothing was published."
        )
    if mapping.strict_canonical:
        missing = [c for c in CANONICAL_COLUMNS if c not in columns]
        if missing:
            raise SchemaDriftError(
                f"{path}: canonical files need every canonical column; missing "
                f"{', '.join(missing)}. Nothing was published."
            )


def _text_expr(mapping: Mapping, col: str, present: dict[str, str]) -> str:
    """The canonical column as text: constant, renamed input column, or NULL (unknown)."""
    if col in mapping.constant:
        expr = _lit(mapping.constant[col])
    elif col in mapping.combine:
        # every part must be there: a date without its time is not a time
        parts = [f"nullif(trim(cast({_ident(p)} as varchar)), '')" for p in mapping.combine[col]]
        expr = "(" + " || ' ' || ".join(parts) + ")"
    elif col in present:
        # Empty strings mean unknown, as in the input contract.
        expr = f"nullif(trim(cast({_ident(present[col])} as varchar)), '')"
    else:
        return "cast(null as varchar)"
    if col in mapping.values:
        cases = " ".join(f"when {_lit(k)} then {_lit(v)}" for k, v in mapping.values[col].items())
        expr = f"(case {expr} {cases} else {expr} end)"
    return expr


def _time_expr(raw: str, formats: tuple[str, ...]) -> str:
    # The connection's TimeZone is America/Los_Angeles, so a time without an offset is read as
    # local time and one with an offset keeps it: the input contract's rule.
    if not formats:
        return f"try_cast({raw} as timestamptz)"
    parts = [f"cast(try_strptime({raw}, {_lit(f)}) as timestamptz)" for f in formats]
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _bool_expr(raw: str, mapping: Mapping) -> str:
    trues = ", ".join(_lit(w) for w in TRUE_WORDS + mapping.true_words)
    falses = ", ".join(_lit(w) for w in FALSE_WORDS + mapping.false_words)
    return (f"(case when lower({raw}) in ({trues}) then true "
            f"when lower({raw}) in ({falses}) then false end)")


def used_columns(mapping: Mapping, columns: list[str]) -> list[str]:
    """The input columns a mapping reads; dropped columns are never loaded."""
    if mapping.strict_canonical:
        return [c for c in CANONICAL_COLUMNS if c in columns]
    combined = {c for cols in mapping.combine.values() for c in cols}
    return [c for c in columns if c in mapping.rename or c in combined]


def load_raw(con: duckdb.DuckDBPyConnection, mapping: Mapping, paths: list[str],
             columns: list[str], table: str) -> None:
    """One scan over a source's files, in order, into `table`: its rowid then orders versions
    (later file, then later row) without a window over millions of rows."""
    cols = ", ".join(_ident(c) for c in used_columns(mapping, columns))
    con.execute(f"create or replace temp table {table} as "
                f"select {cols}{', ' if cols else ''}filename from {_reader(mapping, paths, True)}")


def select_sql(mapping: Mapping, source_name: str, raw_table: str, columns: list[str]) -> str:
    """SQL turning a source's loaded rows into canonical rows."""
    if mapping.strict_canonical:
        present = {c: c for c in CANONICAL_COLUMNS}
    else:
        present = {dst: src for src, dst in mapping.rename.items() if src in columns}
    items = []
    for col in CANONICAL_COLUMNS:
        text = _text_expr(mapping, col, present)
        if col == "source":
            text = f"coalesce({text}, {_lit(source_name)})"
        if col in TIME_COLUMNS:
            items.append(f"{text} as {col}__raw")
            items.append(f"{_time_expr(text, mapping.time_format.get(col, ()))} as {col}")
        elif col in BOOLEAN_COLUMNS:
            items.append(f"{text} as {col}__raw")
            items.append(f"{_bool_expr(text, mapping)} as {col}")
        else:
            items.append(f"{text} as {col}")
    items += [f"{_lit(source_name)} as _source", f"{_lit(mapping.role)} as _role",
              "regexp_extract(filename, '[^/\\\\]+$') as _file", "rowid + 1 as _row"]
    return f"select {', '.join(items)} from {raw_table}"


def extract(con: duckdb.DuckDBPyConnection, files: list[tuple[Source, LandingFile]],
            view: str = "extracted") -> None:
    """Define `view` over the given files. Schema drift raises before any row is read."""
    by_source: dict[str, tuple[Source, list[str], set[str]]] = {}
    for source, lf in files:
        cols = file_columns(con, source.mapping, lf.path)
        check_columns(cols, source.mapping, lf.path)
        entry = by_source.setdefault(source.name, (source, [], set()))
        entry[1].append(lf.path)
        entry[2].update(cols)
    selects = []
    for i, (src, paths, cols) in enumerate(by_source.values()):
        load_raw(con, src.mapping, paths, sorted(cols), f"raw_{i}")
        selects.append(select_sql(src.mapping, src.name, f"raw_{i}", sorted(cols)))
    body = "\nunion all\n".join(selects) if selects else select_sql_empty()
    con.execute(f"create or replace temp view {view} as {body}")


def select_sql_empty() -> str:
    items = []
    for col in CANONICAL_COLUMNS:
        if col in TIME_COLUMNS:
            items += [f"cast(null as varchar) as {col}__raw", f"cast(null as timestamptz) as {col}"]
        elif col in BOOLEAN_COLUMNS:
            items += [f"cast(null as varchar) as {col}__raw", f"cast(null as boolean) as {col}"]
        else:
            items.append(f"cast(null as varchar) as {col}")
    items += ["cast(null as varchar) as _source", "cast(null as varchar) as _role",
              "cast(null as varchar) as _file",
              "cast(null as bigint) as _row"]
    return f"select {', '.join(items)} where false"
