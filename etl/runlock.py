"""One writer at a time, and nothing left behind by a run that was killed.

A run holds an exclusive `flock` on `<warehouse>.lock` (and on `<public file>.lock`, so two
warehouses cannot publish over each other) for as long as it lives; the kernel releases it
when the process ends, however it ends. The lock file keeps the holder's run id, PID and
start time: a second run reads them to say who holds the lock, and the next run to take the
lock finds there a run that never finished (killed, or the machine lost power) and records
it in the run log.

Temporary files are named after their run (`public.duckdb.tmp-<run id>`, `release.tmp-<run
id>`): whoever holds the lock knows that no other run is alive, so every such file is
litter and is removed before the run starts.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path


# Test hook: a run SIGKILLs itself at the named point (tests/test_faults.py), as a crash or
# an operator's kill -9 would stop it there. Never set in production.
KILL_AT = "OUTCOMES_TEST_KILL_AT"


def checkpoint(point: str) -> None:
    if os.environ.get(KILL_AT) == point:
        os.kill(os.getpid(), signal.SIGKILL)


class RunLocked(RuntimeError):
    """Another run holds the lock; nothing was changed."""


@dataclass
class Holder:
    run_id: str
    pid: int
    started_at: str

    def describe(self) -> str:
        return f"PID {self.pid}, started {self.started_at}"


class RunLock:
    """`with RunLock(paths, run_id):` holds every lock or raises RunLocked having changed
    nothing. `unfinished`: the holders recorded by earlier runs that never released."""

    def __init__(self, paths: list[Path], run_id: str):
        self.paths = [Path(str(p) + ".lock") for p in dict.fromkeys(Path(p) for p in paths)]
        self.run_id = run_id
        self.unfinished: list[Holder] = []
        self._files = []

    def __enter__(self) -> RunLock:
        try:
            for path in self.paths:
                path.parent.mkdir(parents=True, exist_ok=True)
                fh = open(path, "a+")
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = read_holder(path)
                    fh.close()
                    who = f" ({holder.describe()})" if holder else ""
                    raise RunLocked(f"another run{who} is in progress; nothing was changed. "
                                    f"Wait for it to finish (its lock: {path})") from None
                self._files.append(fh)
            me = Holder(self.run_id, os.getpid(),
                        datetime.now(timezone.utc).isoformat(timespec="seconds"))
            for path, fh in zip(self.paths, self._files):
                earlier = read_holder(path)
                if earlier and earlier.run_id not in {h.run_id for h in self.unfinished}:
                    self.unfinished.append(earlier)
                fh.seek(0)
                fh.truncate()
                fh.write(json.dumps(me.__dict__))
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            self._release(clear=False)
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._release(clear=True)

    def _release(self, clear: bool) -> None:
        for fh in self._files:
            if clear:  # a finished run leaves an empty lock file: no one to record
                fh.seek(0)
                fh.truncate()
                fh.flush()
            fh.close()  # closing releases the flock
        self._files = []


def read_holder(lock_path: Path) -> Holder | None:
    """Who holds (or last held, if it never finished) a lock, from the lock file."""
    try:
        text = Path(lock_path).read_text().strip()
        return Holder(**json.loads(text)) if text else None
    except (OSError, ValueError, TypeError):
        return None


def holder_if_running(path: Path) -> Holder | None:
    """The run holding `path`'s lock now, or None (for `etl status`, which takes no lock)."""
    lock = Path(str(path) + ".lock")
    if not lock.exists():
        return None
    with open(lock, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return read_holder(lock)
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None


def remove_litter(public_db: Path) -> list[Path]:
    """Temporary files of runs no longer alive, beside the public file (call with the lock
    held): the DuckDB file being written and its WAL, the Parquet release being written,
    and the pointer being renamed."""
    folder = public_db.parent
    if not folder.exists():
        return []
    patterns = [f"{public_db.name}.tmp-*", "release.tmp-*", "release.old", "release.next-*",
                "releases/*.tmp-*"]
    removed = []
    for pattern in patterns:
        for p in folder.glob(pattern):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
    return removed
