"""Load as visitors arrive: many sessions on the real server, over its own websocket protocol.

`streamlit run dashboard.py` serves the public file built from --calls demo calls. Visitors
are websocket clients speaking Streamlit's protocol (protobuf BackMsg / ForwardMsg on
/_stcore/stream, as the browser does): each connects, asks for a page with a view in its
query string (a link with filters), waits for the run to finish, then moves to other pages
after a think time, and after a few pages leaves; a new visitor arrives in its place, so
--sessions are connected at any moment for --duration seconds. No browser runs on this
machine, so the CPU measured is the server's (the clients parse every message they get,
which costs a little CPU too).

Printed, per burst of load (--bursts, each followed by --after seconds with no visitor):
rerun (page load) times p50/p95/max from the request to the server's script_finished
message, errors (runs that raised, shown as an exception element, or that did not finish
within --timeout), the server's CPU, and its resident memory before, during and after; at
the end, its memory once the app's caches are emptied.

With --probe the server runs under bench/serve_probe.py and, after the plain figures are
read, reports what holds its memory (sessions still held, live Python objects, pymalloc's
arenas and the free space inside them, DuckDB's and Arrow's memory, and what malloc_trim
returns); after the last burst the script also waits until Streamlit has dropped the
departed visitors' sessions (server.disconnectedSessionTTL) and probes once more.

    uv run python bench/load.py [--calls 130000] [--sessions 50] [--duration 60] [--probe]

Prints one JSON object last.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGE_NAMES = ["", "map", "response_times", "outcomes", "trends", "police_baseline",
              "district_brief", "data_methods"]


def _bench_app():
    spec = importlib.util.spec_from_file_location("bench_app", Path(__file__).with_name("app.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def proc_stats(pid: int) -> dict:
    """Resident memory (MB) of the server process and its CPU seconds so far."""
    with open(f"/proc/{pid}/status") as fh:
        rss_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return {"rss_mb": round(rss_kb / 1024, 1),
            "cpu_s": (int(fields[11]) + int(fields[12])) / ticks}


def read_probe(proc, target: Path, timeout_s: float = 60.0) -> dict:
    """Ask a server started under bench/serve_probe.py what holds its memory."""
    import signal
    target.unlink(missing_ok=True)
    os.kill(proc.pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout_s
    while not target.exists():
        if time.monotonic() > deadline:
            return {"error": f"no probe answer within {timeout_s:.0f} s"}
        time.sleep(0.2)
    return json.loads(target.read_text())


def session_ttl() -> float:
    """How long Streamlit keeps a departed visitor's session (server.disconnectedSessionTTL)."""
    from streamlit import config
    return float(config.get_option("server.disconnectedSessionTTL"))


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))], 3)


class Visitor:
    """One browser tab's worth of protocol: a websocket, reruns, and what came back."""

    def __init__(self, ws_url: str, timeout_s: float):
        self.ws_url = ws_url
        self.timeout_s = timeout_s

    async def visit(self, view: dict, pages: list[str], think, r: random.Random,
                    stop_at: float, times: list[float], errors: list[str]) -> None:
        import websockets
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        query = urlencode(view)
        async with websockets.connect(self.ws_url, subprotocols=["streamlit"],
                                      max_size=64 * 2 ** 20, open_timeout=60) as ws:
            for i, page in enumerate(pages):
                if i and time.monotonic() > stop_at:
                    break
                msg = BackMsg()
                msg.rerun_script.query_string = query
                msg.rerun_script.page_name = page
                t0 = time.monotonic()
                await ws.send(msg.SerializeToString())
                failed = None
                try:
                    while True:
                        raw = await asyncio.wait_for(ws.recv(), self.timeout_s)
                        fm = ForwardMsg.FromString(raw)
                        kind = fm.WhichOneof("type")
                        if kind == "delta" and fm.delta.WhichOneof("type") == "new_element" \
                                and fm.delta.new_element.WhichOneof("type") == "exception":
                            failed = fm.delta.new_element.exception.message[:100] or "exception"
                        if kind == "page_not_found":
                            failed = f"page not found: {page}"
                        if kind == "script_finished":
                            if fm.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                                continue
                            break
                except asyncio.TimeoutError:
                    failed = f"no answer within {self.timeout_s:.0f} s"
                dt = time.monotonic() - t0
                times.append(dt)
                if failed:
                    errors.append(failed)
                await asyncio.sleep(r.uniform(*think))


async def warm_up(ws_url: str, timeout_s: float) -> None:
    """One visitor, the default view, every page once."""
    times: list[float] = []
    errors: list[str] = []
    await Visitor(ws_url, timeout_s).visit({}, PAGE_NAMES, (0.0, 0.0), random.Random(0),
                                           time.monotonic() + 3600, times, errors)
    if errors:
        raise SystemExit(f"the warm-up visit failed: {errors[:3]}")


async def clear_caches(ws_url: str) -> None:
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg

    async with websockets.connect(ws_url, subprotocols=["streamlit"]) as ws:
        msg = BackMsg()
        msg.clear_cache = True
        await ws.send(msg.SerializeToString())
        await asyncio.sleep(1.0)


async def drive(ws_url: str, sessions: int, duration_s: float, views: list[dict],
                think: tuple[float, float], timeout_s: float, seed: int) -> dict:
    rng = random.Random(seed)
    times: list[float] = []
    errors: list[str] = []
    stop_at = time.monotonic() + duration_s
    visits = 0

    async def slot(k: int) -> None:
        nonlocal visits
        r = random.Random(rng.random())
        await asyncio.sleep(r.uniform(0, min(5.0, duration_s / 4)))  # visitors arrive, not all at once
        while time.monotonic() < stop_at:
            visits += 1
            try:
                pages = [r.choice(PAGE_NAMES) for _ in range(r.randint(2, 5))]
                await Visitor(ws_url, timeout_s).visit(r.choice(views), pages, think, r, stop_at,
                                                       times, errors)
            except Exception as exc:  # a refused or dropped connection is an error, not the end
                errors.append(f"{type(exc).__name__}: {exc}"[:100])
                await asyncio.sleep(1.0)

    await asyncio.gather(*(slot(k) for k in range(sessions)))
    return {"visits": visits, "reruns": len(times), "p50_s": pct(times, 50),
            "p95_s": pct(times, 95), "max_s": round(max(times), 3) if times else None,
            "errors": len(errors), "error_examples": sorted(set(errors))[:5]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=130_000)
    ap.add_argument("--db", type=Path, help="a public file (default: built from --calls demo calls)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--after", type=float, default=60.0, help="seconds to watch memory afterwards")
    ap.add_argument("--think", type=float, nargs=2, default=(2.0, 8.0))
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--views", type=int, default=40)
    ap.add_argument("--bursts", type=int, default=2,
                    help="load periods, each followed by --after seconds of quiet: memory "
                         "that a second burst does not raise is held for reuse, not leaked")
    ap.add_argument("--probe", action="store_true",
                    help="run the server under bench/serve_probe.py and report what holds "
                         "its memory after each burst")
    args = ap.parse_args()

    app = _bench_app()
    db = args.db or app.ensure_public(args.out, args.calls)
    from outcomes import queries
    con = queries.connect(db)
    views = app.make_views(queries.period_choices(con), args.views)
    views = [{k: v for k, v in view.items() if k != "metric"} for view in views]
    con.close()
    args.out.mkdir(parents=True, exist_ok=True)
    probe_file = args.out / "load_probe.json"
    if args.probe:
        proc, base = app.start_server(
            db, args.out / "load_server.log",
            launcher=[sys.executable, str(Path(__file__).with_name("serve_probe.py"))],
            env={"OUTCOMES_PROBE_OUT": str(probe_file)})
    else:
        proc, base = app.start_server(db, args.out / "load_server.log")
    samples: list[dict] = []
    probes: dict[str, dict] = {}
    try:
        ws_url = base.replace("http://", "ws://") + "/_stcore/stream"
        time.sleep(2.0)
        cold = proc_stats(proc.pid)
        # the baseline: one visitor has opened every page once (the modules a page imports
        # and the public file's connection are then loaded, as on any server in use)
        asyncio.run(warm_up(ws_url, args.timeout))
        time.sleep(5.0)
        idle = proc_stats(proc.pid)
        app.say(f"server at start {cold['rss_mb']} MB; after one visitor saw every page "
                f"(the baseline) {idle['rss_mb']} MB")
        if args.probe:
            probes["baseline"] = read_probe(proc, probe_file)
            app.say(f"  probe: {probes['baseline']}")

        async def run_with_sampling():
            async def sample():
                t0 = time.monotonic()
                while True:
                    s = proc_stats(proc.pid)
                    s["t"] = round(time.monotonic() - t0, 1)
                    samples.append(s)
                    await asyncio.sleep(1.0)
            sampler = asyncio.create_task(sample())
            result = await drive(ws_url, args.sessions, args.duration, views,
                                 tuple(args.think), args.timeout, seed=7)
            sampler.cancel()
            return result

        bursts = []
        for b in range(args.bursts):
            samples.clear()
            cpu0, wall0 = proc_stats(proc.pid)["cpu_s"], time.monotonic()
            load = asyncio.run(run_with_sampling())
            wall = time.monotonic() - wall0
            busy = proc_stats(proc.pid)
            during = [s["rss_mb"] for s in samples]
            app.say(f"burst {b + 1}: {args.sessions} sessions for {wall:.0f} s: {load['reruns']} "
                    f"reruns, p50 {load['p50_s']} s, p95 {load['p95_s']} s, errors "
                    f"{load['errors']}; server peak {max(during)} MB")
            time.sleep(args.after)
            after = proc_stats(proc.pid)
            # the server drops sessions whose visitors left only when it next handles a
            # session: one new visitor, as a server in use soon gets
            asyncio.run(warm_up(ws_url, args.timeout))
            time.sleep(2.0)
            visited = proc_stats(proc.pid)
            app.say(f"  {args.after:.0f} s after its last visitor left: {after['rss_mb']} MB, "
                    f"after one more visitor {visited['rss_mb']} MB (baseline {idle['rss_mb']} MB)")
            bursts.append({"duration_s": round(wall, 1), **load,
                           "server_cpu_s_per_s": round((busy["cpu_s"] - cpu0) / wall, 2),
                           "rss_mb_peak": max(during), "rss_mb_end_of_load": busy["rss_mb"],
                           "rss_mb_after": after["rss_mb"],
                           "rss_mb_after_one_more_visitor": visited["rss_mb"]})
            if args.probe:
                probes[f"after_burst_{b + 1}"] = read_probe(proc, probe_file)
                app.say(f"  probe: {probes[f'after_burst_{b + 1}']}")
        if args.probe:
            # the departed visitors' sessions go when their time to reconnect is up and the
            # server next handles a session
            wait = max(0.0, session_ttl() + 10 - args.after - 2)
            app.say(f"waiting {wait:.0f} s more, until Streamlit drops the departed sessions")
            time.sleep(wait)
            asyncio.run(warm_up(ws_url, args.timeout))
            time.sleep(2.0)
            dropped = proc_stats(proc.pid)
            probes["sessions_dropped"] = {"rss_mb_before_probe": dropped["rss_mb"],
                                          **read_probe(proc, probe_file)}
            app.say(f"  probe: {probes['sessions_dropped']}")
        # what the app's caches hold: the memory once they are emptied (the "clear cache"
        # message a browser's menu sends); the rest is what Python and the libraries keep
        asyncio.run(clear_caches(ws_url))
        time.sleep(5.0)
        cleared = proc_stats(proc.pid)
        app.say(f"after emptying the app's caches: {cleared['rss_mb']} MB")
    finally:
        app.stop_server(proc)
    result = {
        "calls": args.calls, "public_db": str(db), "sessions": args.sessions,
        "think_s": list(args.think), "after_s": args.after,
        "rss_mb_at_start": cold["rss_mb"], "rss_mb_baseline": idle["rss_mb"],
        "rss_mb_after_caches_emptied": cleared["rss_mb"], "bursts": bursts,
        "disconnected_session_ttl_s": session_ttl(), "probes": probes,
        "method": "websocket clients speaking Streamlit's protocol (no browsers) on loopback; "
                  "rerun time from the request to script_finished",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
