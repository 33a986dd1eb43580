"""Guards that fail a run closed when its input shrank in a way that is more likely a broken
export than a real change: the release would silently publish less than it did.

Each guard raises `Refused` with a message naming the file or source and the numbers, and
what to do; `uv run etl run --accept-shrink` publishes such input on purpose (the run logs
what it accepted). A refused run changes nothing: the previous public file stays live.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from etl.extract import no_match
from etl.sources import Config

log = logging.getLogger(__name__)

ACCEPT = "run again with --accept-shrink to publish it as it is"


class Refused(RuntimeError):
    """The input shrank; the run stopped before changing anything."""


@dataclass(frozen=True)
class LoadedFile:
    source: str
    path: str
    bytes: int
    mtime_ns: int
    rows: int | None


def _refuse_or_warn(message: str, accept: bool, accepted: list[str]) -> None:
    if not accept:
        raise Refused(message + " " + ACCEPT)
    log.warning("accepted on purpose (--accept-shrink): %s", message)
    accepted.append(message)


def check_sources(config: Config, current: dict[str, list[str]], loaded: list[LoadedFile],
                  accept: bool, accepted: list[str]) -> None:
    """A source that had files in the last release and now matches none (a folder emptied
    or gone, a pattern edited): its calls would drop out of every figure."""
    had: dict[str, int] = {}
    for lf in loaded:
        had[lf.source] = had.get(lf.source, 0) + 1
    for source in config.sources:
        if current.get(source.name):
            continue
        where = no_match(source.pattern)
        if had.get(source.name):
            _refuse_or_warn(f"source {source.name}: {where}, but the last release was built "
                            f"from {had[source.name]} file(s) of it, so its calls would leave "
                            "the release. Restore the files or correct the path in "
                            f"{config.path.name}, or", accept, accepted)
        else:
            log.warning("source %s: %s; it adds nothing to this release", source.name, where)


def check_files(reads, loaded: list[LoadedFile], min_share: float, accept: bool,
                accepted: list[str]) -> None:
    """A re-export with far fewer rows than the version it replaces, and a source whose
    newest export has no rows."""
    before = {lf.path: lf for lf in loaded}
    newest: dict[str, object] = {}
    for fr in reads:
        newest[fr.source] = fr  # reads are in version (name) order within a source
        old = before.get(fr.path)
        if old is None or old.rows is None or old.rows == 0:
            continue
        if fr.rows == 0 or fr.rows < min_share * old.rows:
            what = "holds only its header" if fr.rows == 0 else f"has {fr.rows:,} rows"
            _refuse_or_warn(
                f"{fr.path} was re-exported and now {what}; the version in the last release "
                f"had {old.rows:,}, so {old.rows - fr.rows:,} calls would leave the release. "
                "Check the export, or", accept, accepted)
    for fr in newest.values():
        if fr.rows == 0 and fr.path not in before:
            _refuse_or_warn(f"the newest export of source {fr.source}, "
                            f"{os.path.basename(fr.path)}, holds no rows (only its header). "
                            "Check the export; if the period truly had no calls,",
                            accept, accepted)


def check_universe(previous: int | None, now: int, rows_kept: int, max_drop: float,
                   accept: bool, accepted: list[str]) -> None:
    """A release whose published universe is empty, or much smaller than the last one's,
    while rows were kept: most often call types that no longer match the code table, or a
    mapping that lost a column."""
    if rows_kept and now == 0:
        _refuse_or_warn(
            f"{rows_kept:,} rows were kept but none reached the published universe (public "
            "calls of the pilot's call type groups): check that initial_call_type holds codes "
            "of the code table (etl/call_types.toml) and call_origin maps to 911, 988 or "
            "non_emergency. Fix the mapping, or", accept, accepted)
    elif previous and now < (1 - max_drop) * previous:
        _refuse_or_warn(
            f"the published universe would fall from {previous:,} calls to {now:,} "
            f"(more than the {max_drop:.0%} allowed by [run] max_universe_drop). Check the "
            "newest exports and mappings, or", accept, accepted)
