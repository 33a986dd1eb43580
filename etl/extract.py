"""Extract: read each source's landing files through its mapping into the canonical record.

Output table `extracted`: the canonical columns (times parsed to TIMESTAMPTZ, booleans parsed,
values mapped, everything else text), `<col>__raw` beside each time and boolean column so
validation can tell "empty" from "unreadable", and lineage `_source, _file, _row`.
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from etl.schema import (BAD_OFFSET, BOOLEAN_COLUMNS, CANONICAL_COLUMNS, FALSE_WORDS,
                        TIME_COLUMNS, TRUE_WORDS)
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
            log.warning("source %s: %s", source.name, no_match(source.pattern))
        for p in paths:
            st = os.stat(p)
            out.append((source, LandingFile(source.name, p, st.st_size, st.st_mtime_ns)))
    return out


def no_match(pattern: str) -> str:
    """Why a source's path pattern matches no file, as a message says it."""
    folder = Path(pattern).parent
    return (f"folder {folder} does not exist" if not folder.exists() else
            f"nothing in {folder} matches {Path(pattern).name}")


def _lit(value: str) -> str:
    """A SQL string literal for mapping-file constants (configuration, not user input)."""
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


RAW_PREFIX = "in:"


def _raw(name: str) -> str:
    """An input column as the loaded table names it: prefixed, so that no input name (an
    export's own ROWID, a column called _fid) can clash with DuckDB's or ours."""
    return _ident(RAW_PREFIX + name)


# The encodings DuckDB's CSV reader decodes, and Python's name for each (utf-8-sig: a byte
# order mark at the start is not part of the first column's name).
ENCODINGS = {"utf-8": "utf-8-sig", "latin-1": "latin-1", "utf-16": "utf-16"}
MAX_LINE_BYTES = 10_000_000


class FileProblem(ValueError):
    """A landing file cannot be read as its mapping says; the message names the file and
    what to do, and never quotes the file's content."""


def file_encoding(mapping: Mapping, path: str) -> str:
    """The mapping's encoding, unless the file starts with a byte order mark, which says
    what it is (one source's files can come from a spreadsheet and from the system)."""
    with open(path, "rb") as fh:
        start = fh.read(3)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if start[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    return mapping.encoding


def read_header(mapping: Mapping, path: str) -> list[str]:
    """The header's column names, read by Python from the file's first bytes: DuckDB's
    sniffer is never used, so an odd file gets a message about the file, not the sniffer."""
    size = os.path.getsize(path)
    if size == 0:
        raise FileProblem(f"{path} is empty (0 bytes): the export wrote nothing. Export it "
                          "again, or remove the file")
    with open(path, "rb") as fh:
        chunk = fh.read(1 << 16)
    decoder = codecs.getincrementaldecoder(ENCODINGS[file_encoding(mapping, path)])()
    try:
        text = decoder.decode(chunk, final=len(chunk) == size)
    except UnicodeDecodeError:
        raise encoding_problem(mapping, path) from None
    if not text.strip():
        raise FileProblem(f"{path} holds no header and no rows (only blank space): export it "
                          "again, or remove the file")
    first = next(csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter,
                            quotechar='"'), None) or []
    names = [c.strip() for c in first]
    allowed = mapping.allowed_input_columns()  # empty while a mapping is being drafted
    if allowed and len(names) > 2 and not set(names) & allowed:
        # not one name known: most often a file without its header, whose first line must
        # not be quoted (ids, names, coordinates)
        raise SchemaDriftError(
            f"{path}: none of the first line's {len(names)} fields is a column mapping "
            f"{mapping.name!r} names: the header is missing, or this is another system's "
            "export. Nothing was published.")
    if len(names) == 1 and mapping.delimiter not in text.split("\n", 1)[0]:
        raise FileProblem(
            f"{path}: the header has no {mapping.delimiter!r}, so it reads as one column; "
            f"if the file uses another delimiter, set delimiter in mapping {mapping.name!r}")
    blank = [i + 1 for i, c in enumerate(names) if not c]
    if blank:
        raise FileProblem(f"{path}: header column {blank[0]} has no name; every column needs "
                          "one (name it, and drop it in the mapping if no one reads it)")
    seen: dict[str, int] = {}
    for i, c in enumerate(names, 1):
        if c in seen:
            # by position: a file without its header would quote a data row here
            raise FileProblem(f"{path}: header columns {seen[c]} and {i} have the same name; "
                              "rename one in the export")
        seen[c] = i
    return names


def encoding_problem(mapping: Mapping, path: str) -> FileProblem:
    """Where a file stops being its mapping's encoding: the line and the byte, never the text."""
    data = open(path, "rb").read()
    encoding = file_encoding(mapping, path)
    try:
        data.decode(ENCODINGS[encoding])
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        hint = (' The file looks like Latin-1 (Windows "ANSI"): add encoding = "latin-1" to '
                f"mapping {mapping.name!r} (files that start with a byte order mark are "
                "still read as UTF-8), or export it as UTF-8."
                if encoding == "utf-8" else "")
        return FileProblem(f"{path} line {line} (as a text editor counts lines): byte "
                           f"0x{data[exc.start]:02X} is not {encoding}.{hint}")
    return FileProblem(f"{path}: a line could not be decoded as {encoding}")


def _csv_reader(mapping: Mapping, path: str, header: list[str], rejects: str) -> str:
    # Columns come from read_header and every value is text; strict mode with no null
    # padding so that a short row, a long row and an unterminated quote are rejects (stored
    # with their line, quarantined) instead of rows whose last fields silently go missing.
    # The parallel scanner then also reads line breaks inside quoted fields (RFC 4180).
    columns = "{" + ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in header) + "}"
    return (f"read_csv({_lit(path)}, auto_detect = false, header = true, columns = {columns}, "
            f"delim = {_lit(mapping.delimiter)}, quote = '\"', escape = '\"', "
            f"strict_mode = true, null_padding = false, "
            f"encoding = {_lit(file_encoding(mapping, path))}, "
            f"max_line_size = {MAX_LINE_BYTES}, store_rejects = true, rejects_limit = 0, "
            f"rejects_table = '{rejects}_errors', rejects_scan = '{rejects}_scans')")


def file_columns(con: duckdb.DuckDBPyConnection, mapping: Mapping, path: str) -> list[str]:
    if mapping.file_format == "parquet":
        try:
            return [r[0] for r in con.execute(
                f"describe select * from read_parquet({_lit(path)})").fetchall()]
        except duckdb.Error:
            raise FileProblem(f"{path} is not a readable Parquet file (mapping "
                              f"{mapping.name!r} says file_format = 'parquet'); export it "
                              "again") from None
    return read_header(mapping, path)


# What a rejected CSV line gets as its quarantine reason (DuckDB's error type -> text).
REJECT_REASONS = {
    "MISSING COLUMNS": "short row: fewer fields than the header",
    "TOO MANY COLUMNS": "long row: more fields than the header",
    "UNQUOTED VALUE": "unterminated or stray quote",
    "LINE SIZE OVER MAXIMUM": f"line longer than {MAX_LINE_BYTES:,} bytes",
}


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
        words = ", ".join(_lit(w) for w in ("",) + mapping.null_words)
        parts = [f"(case when trim(cast({_raw(p)} as varchar)) in ({words}) then null "
                 f"else trim(cast({_raw(p)} as varchar)) end)" for p in mapping.combine[col]]
        expr = "(" + " || ' ' || ".join(parts) + ")"
    elif col in present:
        # Empty strings mean unknown, as in the input contract.
        expr = f"nullif(trim(cast({_raw(present[col])} as varchar)), '')"
        if mapping.null_words:
            words = ", ".join(_lit(w) for w in mapping.null_words)
            expr = f"(case when {expr} in ({words}) then null else {expr} end)"
    else:
        return "cast(null as varchar)"
    for step, arg in mapping.clean.get(col, ()):
        if step == "strip_prefix":
            expr = (f"(case when starts_with({expr}, {_lit(arg)}) "
                    f"then nullif(trim(substr({expr}, {len(arg) + 1})), '') else {expr} end)")
        elif step == "case":
            expr = f"{arg}({expr})"
    table = mapping.values.get(col)
    if table:
        # "" maps a value to unknown; "*" gives every value the map does not name one
        # meaning (unknown stays unknown)
        whens = " ".join(f"when {expr} = {_lit(k)} then {_lit(v) if v else 'null'}"
                         for k, v in table.items() if k != "*")
        fallback = expr if "*" not in table else (_lit(table["*"]) if table["*"] else "null")
        expr = f"(case when {expr} is null then null {whens} else {fallback} end)"
    return expr


def _time_expr(raw: str, formats: tuple[str, ...]) -> str:
    # The connection's TimeZone is America/Los_Angeles, so a time without an offset is read as
    # local time and one with an offset keeps it: the input contract's rule.
    if not formats:
        # DuckDB would read an offset of +25:00; no such offset exists
        return (f"(case when regexp_matches({raw}, {_lit(BAD_OFFSET)}) then null "
                f"else try_cast({raw} as timestamptz) end)")
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
    copied = set(mapping.copy.values())
    return [c for c in columns if c in mapping.rename or c in combined or c in copied]


def source_columns(mapping: Mapping, columns: list[str]) -> dict[str, str]:
    """Canonical column -> the input column it is read from (renamed or copied)."""
    if mapping.strict_canonical:
        return {c: c for c in CANONICAL_COLUMNS if c in columns}
    present = {dst: src for src, dst in mapping.rename.items() if src in columns}
    present.update({dst: src for dst, src in mapping.copy.items() if src in columns})
    return present


@dataclass
class FileRead:
    """What one landing file gave: its records (rows kept + lines rejected)."""
    source: str
    path: str
    rows: int = 0
    rejected: int = 0


def load_raw(con: duckdb.DuckDBPyConnection, mapping: Mapping, files: list[FileRead],
             headers: list[list[str]], table: str, file_ids: list[int]) -> None:
    """Each file in order into `table` (its used columns, text, and `_fid`). Rows of a file
    are contiguous in the table's rowid (insertion order is kept), which numbers them."""
    used = used_columns(mapping, sorted({c for h in headers for c in h}))
    cols = "".join(f"{_raw(c)} varchar, " for c in used)
    con.execute(f"create or replace temp table {table} ({cols}_fid integer)")
    for fr, header, fid in zip(files, headers, file_ids):
        items = [(_ident(c) if c in header else "null") for c in used]  # read by input name
        select = ", ".join(items + [str(fid)])
        rejects = f"rej_{fid}"
        try:
            if mapping.file_format == "parquet":
                con.execute(f"insert into {table} select {select} from "
                            f"read_parquet({_lit(fr.path)})")
            else:
                con.execute(f"insert into {table} select {select} from "
                            f"{_csv_reader(mapping, fr.path, header, rejects)}")
        except duckdb.Error as exc:
            # DuckDB's text can quote the input line: only its kind is passed on
            raise FileProblem(f"{fr.path} could not be read with mapping {mapping.name!r} "
                              f"({type(exc).__name__}); check that it is a "
                              f"{mapping.file_format.upper()} export with the mapping's "
                              "delimiter") from None
        # rowids are consecutive in insertion order but start where DuckDB chooses (rows
        # written inside a transaction number from a high base): count from the file's first
        kept, start = con.execute(f"select count(*), min(rowid) from {table} "
                                  f"where _fid = {fid}").fetchone()
        rejected: list[tuple[int, str]] = []
        if mapping.file_format == "csv":
            # one error per missing column of a short row: one reject per line
            rejected = con.execute(f"select line, min(error_type) from {rejects}_errors "
                                   "group by line order by line").fetchall()
            con.execute(f"drop table if exists {rejects}_errors")
            con.execute(f"drop table if exists {rejects}_scans")
        if any(t == "INVALID ENCODING" for _, t in rejected):
            raise encoding_problem(mapping, fr.path)
        fr.rows, fr.rejected = kept + len(rejected), len(rejected)
        header_lines = 1 if mapping.file_format == "csv" else 0
        con.execute("insert into file_index values ($fid, $file, $start, $h, $s, $r)",
                    {"fid": fid, "file": os.path.basename(fr.path), "start": start,
                     "h": header_lines, "s": fr.source, "r": mapping.role})
        if rejected:
            # reject j (1-based, by line) comes after a_j = line_j - 2 - (j - 1) kept rows
            con.executemany("insert into reject_lines values (?, ?, ?, ?, ?)", [
                (fid, line, line - 1 - header_lines - (j - 1), j, REJECT_REASONS.get(kind, kind.lower()))
                for j, (line, kind) in enumerate(rejected, 1)])


def select_sql(mapping: Mapping, source_name: str, raw_table: str, columns: list[str],
               with_rejects: bool) -> str:
    """SQL turning a source's loaded rows into canonical rows, each with its file and line
    (the header is line 1 and each record one line, as a spreadsheet numbers rows)."""
    present = source_columns(mapping, columns)
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
    rec = "(r.rowid - f.start + 1)"
    skipped = "coalesce(j.k, 0)" if with_rejects else "0"
    items += [f"{_lit(source_name)} as _source", f"{_lit(mapping.role)} as _role",
              "__lineage_file as _file", "__lineage_row as _row"]
    join = ("asof left join reject_lines j on j.fid = r._fid "
            f"and {rec} - 1 >= j.kept_before" if with_rejects else "")
    # lineage in a subquery of its own, so no input column name can clash with it
    lineage = (f"select r.*, f.file as __lineage_file, "
               f"f.header_lines + {rec} + {skipped} as __lineage_row "
               f"from {raw_table} r join file_index f on f.fid = r._fid {join}")
    return f"select {', '.join(items)} from ({lineage})"


def extract(con: duckdb.DuckDBPyConnection, files: list[tuple[Source, LandingFile]],
            view: str = "extracted") -> list[FileRead]:
    """Define `view` over the given files and `rejected_lines` (CSV lines that are not rows
    of the header's shape). Schema drift and unreadable files raise before any row is read."""
    by_source: dict[str, tuple[Source, list[FileRead], list[list[str]], list[int]]] = {}
    reads = []
    for fid, (source, lf) in enumerate(files):
        cols = file_columns(con, source.mapping, lf.path)
        check_columns(cols, source.mapping, lf.path)
        entry = by_source.setdefault(source.name, (source, [], [], []))
        fr = FileRead(source.name, lf.path)
        reads.append(fr)
        entry[1].append(fr)
        entry[2].append(cols)
        entry[3].append(fid)
    con.execute("create or replace temp table file_index "
                "(fid integer, file varchar, start bigint, header_lines integer, source varchar, "
                "role varchar)")
    con.execute("create or replace temp table reject_lines (fid integer, line bigint, "
                "kept_before bigint, k integer, reason varchar)")
    selects = []
    for i, (src, freads, headers, fids) in enumerate(by_source.values()):
        load_raw(con, src.mapping, freads, headers, f"raw_{i}", fids)
        has_rejects = any(fr.rejected for fr in freads)
        cols = sorted({c for h in headers for c in h})
        selects.append(select_sql(src.mapping, src.name, f"raw_{i}", cols, has_rejects))
    # consecutive rejects share kept_before: the asof join must find the last of them
    con.execute("""create or replace temp table reject_lines as
                   select fid, kept_before, max(k) as k, list(line order by line) as lines,
                          list(reason order by line) as reasons
                   from reject_lines group by all""")
    con.execute("""create or replace temp view rejected_lines as
                   select f.source as _source, f.role as _role, f.file as _file,
                          x.line as _row, x.reason
                   from (select fid, unnest(lines) as line, unnest(reasons) as reason
                         from reject_lines) x join file_index f using (fid)""")
    body = "\nunion all\n".join(selects) if selects else select_sql_empty()
    con.execute(f"create or replace temp view {view} as {body}")
    return reads


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
