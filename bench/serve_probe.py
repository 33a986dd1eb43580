"""`streamlit run` with a probe of what holds the server's memory (for bench/load.py --probe).

    python bench/serve_probe.py run dashboard.py [streamlit options]

On SIGUSR1 the server writes one JSON object to $OUTCOMES_PROBE_OUT (then renames it into
place, so a reader never sees half of it): its resident memory; the sessions Streamlit still
holds (visitors who left are kept for server.disconnectedSessionTTL, 120 s by default, in
case they reconnect); after a full garbage collection, the objects collected and still
alive; Python's small-object allocator (pymalloc): arenas of 1 MiB held, bytes in live
blocks, bytes free inside those arenas; DuckDB's own memory (duckdb_memory() on the app's
connection); Arrow's pool; and the resident memory once glibc returns what it can
(malloc_trim). The probe changes what it measures (it collects and trims), so the load
script reads plain figures first and probes last.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import json
import os
import re
import signal
import sys
import tempfile


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        return round(next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024, 1)


def _pymalloc() -> dict:
    """Parse sys._debugmallocstats(), which writes to the C stderr."""
    with tempfile.TemporaryFile("w+") as tmp:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(tmp.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read()

    def number(label: str) -> int:
        m = re.search(rf"{re.escape(label)}\s*=\s*([\d,]+)", text)
        return int(m.group(1).replace(",", "")) if m else -1

    unused = re.search(r"(\d+) unused pools \* (\d+) bytes", text)
    return {"arenas_held": number("# arenas allocated current"),
            "live_blocks_mb": round(number("# bytes in allocated blocks") / 2 ** 20, 1),
            "free_blocks_mb": round(number("# bytes in available blocks") / 2 ** 20, 1),
            "unused_pools_mb": round(int(unused.group(1)) * int(unused.group(2)) / 2 ** 20, 1)
            if unused else -1}


def probe() -> dict:
    out: dict = {"rss_mb": _rss_mb()}
    try:
        from streamlit.runtime import Runtime
        manager = Runtime.instance()._session_mgr
        out["sessions_connected"] = len(manager.list_active_sessions())
        out["sessions_held"] = len(manager.list_sessions())
    except Exception as exc:  # a Streamlit that moved its internals: say so, keep probing
        out["sessions_error"] = repr(exc)[:100]
    out["gc_collected"] = gc.collect()
    objects = gc.get_objects()
    out["objects_alive"] = len(objects)
    kinds = collections.Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in objects)
    out["objects_top"] = dict(kinds.most_common(8))
    out["rss_mb_after_gc"] = _rss_mb()
    out["pymalloc"] = _pymalloc()
    try:
        import duckdb
        cons = [o for o in objects if isinstance(o, duckdb.DuckDBPyConnection)]
        out["duckdb_connections"] = len(cons)
        out["duckdb_mb"] = round(sum(
            con.execute("select coalesce(sum(memory_usage_bytes), 0) from duckdb_memory()")
            .fetchone()[0] for con in cons) / 1e6, 1)
    except Exception as exc:
        out["duckdb_error"] = repr(exc)[:100]
    del objects
    try:
        import pyarrow as pa
        pool = pa.default_memory_pool()
        out["arrow_mb"] = round(pool.bytes_allocated() / 1e6, 1)
        pool.release_unused()
    except Exception as exc:
        out["arrow_error"] = repr(exc)[:100]
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    out["rss_mb_after_trim"] = _rss_mb()
    return out


def _on_signal(signum, frame) -> None:
    target = os.environ["OUTCOMES_PROBE_OUT"]
    try:
        result = probe()
    except Exception as exc:
        result = {"error": repr(exc)[:200]}
    with open(target + ".tmp", "w") as fh:
        json.dump(result, fh)
    os.replace(target + ".tmp", target)


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, _on_signal)
    from streamlit.web import cli
    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())
