"""Disclosure-control benchmark: what each method shows of the headline, and what an outsider
can work out, on the same demo files.

For each size (default 130,000 calls, about the pilot's real volume, and 20,000, a young
pilot) the demo's files are published three or four ways:

- `reference`: OUTCOMES_MIN_CELL=1, cell protection off (the rates' denominator rule
  stays): every figure the rules on counts alone would allow is computed from it;
- `alternative_tables`: this release's method (etl/publish/protect.py);
- `cell_key`: the ONS cell-key perturbation (the `cell-key-perturbation` package, its
  10/5 p-table: counts under 10 perturbed, all rounded to base 5) applied to the same
  records, for coverage and the police-workload share;
- `previous`: the single global cube of commit 826f32c (with --previous), run from a git
  worktree.

Utility: for coverage, the police-workload share and the civilian median dispatch to scene
(all call types), the share of the rates primary rules alone would allow (denominator >= the
minimum denominator; numerator and the rest 0 or >= the minimum cell; a median over at
least the minimum of valid times) that the file shows, by place (city, district) and period
type. Protection: the outsider's attack (tests/attack.py) on a sample of true small hidden
counts. Prints figures as it goes and one JSON object last.

    uv run python bench/disclosure.py [--sizes 130000 20000] [--previous] [--out bench/out]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import attack  # noqa: E402

PREVIOUS = "826f32c"
PERIOD_TYPES = ("month", "quarter", "year", "fiscal_year", "pilot_to_date")
CHILD = """
import json, sys, time
from pathlib import Path
from etl.pipeline import run
t = time.perf_counter()
run(Path(sys.argv[1]), db=Path(sys.argv[2]), warehouse_path=Path(sys.argv[3]), progress=False)
print(json.dumps({"seconds": round(time.perf_counter() - t, 2)}))
"""


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def publish(sources: Path, db: Path, wh: Path, code: Path = ROOT, **env) -> float:
    for p in (db, wh):
        if p.exists():
            p.unlink()
    e = {**os.environ, "OUTCOMES_HMAC_KEY": os.environ.get("OUTCOMES_HMAC_KEY", "bench-key-0123456789abcdef0123456789"),
         "PYTHONPATH": str(code), "OUTCOMES_SHARED_DATA": str(shared_data()), **env}
    out = subprocess.run([sys.executable, "-c", CHILD, str(sources), str(db), str(wh)], env=e,
                         cwd=code, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def shared_data() -> Path:
    from outcomes import settings
    return settings.shared_data().resolve()


def ensure_demo(folder: Path, calls: int) -> Path:
    marker = folder / f".complete-{calls}"
    if not marker.exists():
        from etl.demo import write_demo
        write_demo(folder, calls=calls, seed=7)
        marker.touch()
    return folder / "sources.toml"


# ---------------------------------------------------------------- utility


def _read(db: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def _scope(df: pd.DataFrame) -> pd.Series:
    districts = [str(i) for i in range(1, 16)]
    return np.where(df["district"] == "all", "city",
                    np.where(df["district"].isin(districts), "district", "other"))


def allowed_rates(reference: Path, min_cell: int, min_den: int) -> dict[str, pd.DataFrame]:
    """The rows primary rules alone would allow, from the reference file's counts."""
    def ok(x):
        return (x == 0) | (x >= min_cell)

    cov = _read(reference, "select * from coverage where call_type_group = 'all'")
    cov = cov[(cov.eligible_calls >= min_den) & ok(cov.civilian_calls)
              & ok(cov.eligible_calls - cov.civilian_calls)]
    wl = _read(reference, "select * from workload_share where call_type_group = 'all'")
    wl = wl[(wl.handled_calls >= min_den) & ok(wl.civilian_team_calls)
            & ok(wl.handled_calls - wl.civilian_team_calls)]
    rt = _read(reference, """select * from response_times where call_type_group = 'all'
                            and responder_type = 'civilian_team' and interval = 'dispatch_to_scene'""")
    # a median is printed wherever enough valid times lie behind it (the reference prints
    # it there whether or not the count itself is printed at that grain)
    rt = rt[rt.median_minutes.notna()]
    # a headline of SPEC 4 the issue sets no target for, reported beside the others
    pi = _read(reference, """select * from police_involvement where call_type_group = 'all'
                            and responder_type = 'civilian_team' and involvement = 'police_co_dispatched'""")
    pi = pi[(pi.recorded >= min_den) & ok(pi.events) & ok(pi.recorded - pi.events)]
    return {"coverage_rate": cov, "workload_share": wl, "civilian_median_dispatch": rt,
            "police_co_dispatched_per_1000": pi}


VALUE = {"coverage_rate": ("coverage", "coverage_rate"),
         "workload_share": ("workload_share", "workload_share"),
         "civilian_median_dispatch": ("response_times", "median_minutes"),
         "police_co_dispatched_per_1000": ("police_involvement", "per_1000")}
TARGET_METRICS = ("coverage_rate", "workload_share", "civilian_median_dispatch")
KEYS = ["period_type", "period", "district"]


def _shares(m: pd.DataFrame) -> dict:
    """Per scope and period type: how many of the allowed rows (m) show a value (v)."""
    m = m.assign(scope=_scope(m))
    res = {}
    for scope in ("city", "district"):
        for pt in PERIOD_TYPES:
            sel = m[(m.scope == scope) & (m.period_type == pt)]
            if len(sel):
                shown = int(sel["v"].notna().sum())
                res[f"{scope}.{pt}"] = {"shown": shown, "allowed": int(len(sel)),
                                        "share": round(shown / len(sel), 4)}
    return res


def utility(db: Path, allowed: dict[str, pd.DataFrame]) -> dict:
    """Per metric, place and period type: shown / allowed (and the counts)."""
    out = {}
    for metric, rows in allowed.items():
        table, col = VALUE[metric]
        where = "call_type_group = 'all'"
        if table == "response_times":
            where += " and responder_type = 'civilian_team' and interval = 'dispatch_to_scene'"
        if table == "police_involvement":
            where += " and responder_type = 'civilian_team' and involvement = 'police_co_dispatched'"
        pub = _read(db, f"select period_type, period, district, {col} as v from {table} where {where}")
        m = rows[KEYS].merge(pub, on=KEYS, how="left")
        out[metric] = _shares(m)
    return out


def detail_utility(db: Path, reference: Path, min_cell: int) -> dict:
    """Breakdowns with no target (the eligibility funnel's own steps and drop-offs; the
    reasons eligible calls were not answered): per scope and period type, of the counts the
    primary rules alone would show (0 or at least the minimum cell, where the reference
    prints the row), how many the public file shows."""
    out = {}
    specs = {
        "funnel_steps": ("eligibility_funnel", "node", "calls",
                         "node_kind in ('stage', 'drop_off') and node not in ('eligible', 'served', 'unserved')"),
        "unserved_reasons": ("unserved", "unserved_reason", "calls", "unserved_reason <> 'all'"),
    }
    for name, (table, item, col, where) in specs.items():
        q = (f"select period_type, period, district, {item} as item, {col} as v from {table} "
             f"where call_type_group = 'all' and {where}")
        try:
            ref, pub = _read(reference, q), _read(db, q)
        except Exception:  # a file from before the table was published
            continue
        ref = ref[ref["v"].notna() & ((ref["v"] == 0) | (ref["v"] >= min_cell))]
        m = ref[KEYS + ["item"]].merge(pub, on=KEYS + ["item"], how="left")
        out[name] = _shares(m)
    return out


TARGETS = {
    130_000: {"city": 0.95, "district.pilot_to_date": 0.90, "district.fiscal_year": 0.90,
              "district.year": 0.90, "district.quarter": 0.90, "district.month": 0.75},
    20_000: {"city": 0.90, "district.pilot_to_date": 0.80, "district.fiscal_year": 0.80,
             "district.year": 0.80},
}


def check_targets(util: dict, calls: int) -> dict:
    """Which of the issue's utility targets this size has, met or not."""
    targets = TARGETS.get(calls, {})
    result = {}
    for metric, cells in util.items():
        if metric not in TARGET_METRICS:
            continue
        for key, v in cells.items():
            scope, pt = key.split(".")
            need = targets.get(key, targets.get(scope) if scope == "city" else None)
            if need is not None:
                result[f"{metric}.{key}"] = {"share": v["share"], "target": need,
                                             "met": v["share"] >= need}
    return result


# ---------------------------------------------------------------- cell-key perturbation


def cell_key(warehouse: Path, min_den: int, min_cell: int) -> dict:
    """Coverage and the police-workload share by cell-key perturbation (ONS package, its
    10/5 p-table), from the same records; how far each rate moves from the exact one."""
    from cell_key_perturbation.create_perturbed_table import create_perturbed_table
    from cell_key_perturbation.utils.generate_test_ptable import generate_ptable_10_5_rule

    con = duckdb.connect(str(warehouse), read_only=True)
    rec = con.execute("""select month, district, responder_type, status from universe
                         where month >= (select min(month) from universe
                                         where status like 'eligible_%')""").df()
    con.close()
    rng = np.random.default_rng(1)
    rec["record_key"] = rng.integers(0, 256, len(rec))  # each record's key, fixed once
    from etl.publish.periods import period_bridge
    months = sorted(rec["month"].unique())
    pilot = min(rec.loc[rec.status.str.startswith("eligible_"), "month"])
    bridge = period_bridge(months, pilot)
    ptable = generate_ptable_10_5_rule()
    t0 = time.perf_counter()
    per_metric = {}
    in_area = rec.status.str.startswith("eligible_") | rec.status.isin(["screened_out", "screen_not_recorded"])
    specs = {"coverage_rate": (rec[rec.status.str.startswith("eligible_")],
                               lambda d: d.status == "eligible_served"),
             "workload_share": (rec[in_area & rec.responder_type.isin(["civilian_team", "co_response", "police"])],
                                lambda d: d.responder_type == "civilian_team")}
    for metric, (data, is_num) in specs.items():
        data = data.assign(num=np.where(is_num(data), "num", "rest"))
        data = data.merge(bridge, on="month")
        rows = []
        for pt in PERIOD_TYPES:
            part = data[data.period_type == pt]
            for scope in ("city", "district"):
                geog = ["district"] if scope == "district" else []
                tab = create_perturbed_table(part[["period", "district", "num", "record_key"]],
                                             ptable, geog, ["period", "num"], "record_key",
                                             use_existing_ons_id=False, threshold=10)
                # the package's perturbed count ('count'; NA under its threshold)
                wide = tab.pivot_table(index=geog + ["period"], columns="num", values="count",
                                       aggfunc="sum").reset_index().fillna(0)
                exact = part.groupby(geog + ["period", "num"]).size().unstack(fill_value=0).reset_index()
                w = wide.merge(exact, on=geog + ["period"], suffixes=("_p", ""))
                for c in ("num", "rest"):
                    if c not in w:
                        w[c] = 0
                    if f"{c}_p" not in w:
                        w[f"{c}_p"] = 0
                den, den_p = w["num"] + w["rest"], w["num_p"] + w["rest_p"]
                ok = ((den >= min_den) & ((w["num"] == 0) | (w["num"] >= min_cell))
                      & ((w["rest"] == 0) | (w["rest"] >= min_cell)))
                rate, rate_p = w["num"] / den, np.where(den_p > 0, w["num_p"] / den_p.replace(0, np.nan), np.nan)
                d = pd.DataFrame({"scope": scope, "period_type": pt, "ok": ok.to_numpy(),
                                  "shown": (den_p >= min_den).to_numpy(),
                                  "shift_pp": np.abs(rate_p - rate).to_numpy() * 100})
                rows.append(d[d.ok])
        r = pd.concat(rows, ignore_index=True)
        per_metric[metric] = {
            "rates_allowed": int(len(r)), "rates_shown": int(r.shown.sum()),
            "share_shown": round(float(r.shown.mean()), 4) if len(r) else None,
            "share_within_1pp": round(float((r.shift_pp[r.shown] <= 1.0).mean()), 4) if r.shown.any() else None,
            "max_shift_pp": round(float(r.shift_pp[r.shown].max()), 2) if r.shown.any() else None,
            "district_month_within_1pp": round(float((r[(r.scope == "district") & (r.period_type == "month") & r.shown].shift_pp <= 1.0).mean()), 4),
        }
    per_metric["seconds"] = round(time.perf_counter() - t0, 2)
    per_metric["note"] = ("medians are not perturbed by this method; a rate moved by more than 1 "
                          "percentage point fails the issue's rule for perturbative methods")
    return per_metric


# ---------------------------------------------------------------- attack


def attack_file(db: Path, reference: Path, min_cell: int, min_den: int, sample: int) -> dict:
    def system(p):
        con = duckdb.connect(str(p), read_only=True)
        try:
            return attack.build(con, min_den)
        finally:
            con.close()

    t0 = time.perf_counter()
    s = system(db)
    truth = system(reference).value
    small = sorted(k for k, f in s.flag.items() if f in ("hidden", "suppressed")
                   and 1 <= truth.get(k, 0) < min_cell)
    rng = np.random.default_rng(0)
    picks = [small[i] for i in rng.choice(len(small), size=min(sample, len(small)), replace=False)] if small else []
    try:
        ranges = attack.solve_ranges(s, picks) if picks else {}
    except AssertionError as exc:  # the attacker's model does not fit this file's tables
        return {"small_hidden": len(small), "attacked": 0, "error": str(exc)[:300]}
    values = [attack.n_values(*r) for r in ranges.values()]
    return {"small_hidden": len(small), "attacked": len(picks),
            "pinned": int(sum(v <= 1 for v in values)),
            "under_5_values": int(sum(v < 5 for v in values)),
            "min_values": float(min(values)) if values else None,
            "unknowns": int(sum(1 for f in s.flag.values() if f)),
            "equations": len(s.equations), "seconds": round(time.perf_counter() - t0, 1)}


def public_use_file(db: Path, reference: Path, min_cell: int, min_den: int, sample: int) -> dict:
    """The public-use record file: the share of records kept, and where each outcome column
    is withheld; against the reference (cell protection off), what the same file would
    keep; and the attack on the hidden counts the file's counts are tied to."""
    def summary(p):
        s = _read(p, "select * from public_use_file_summary")
        return {k: (None if pd.isna(v) else (float(v) if isinstance(v, (float, np.floating)) else v))
                for k, v in s.iloc[0].to_dict().items()} if len(s) else {}

    con = duckdb.connect(str(db), read_only=True)
    try:
        s = attack.build(con, min_den)
    finally:
        con.close()
    con = duckdb.connect(str(reference), read_only=True)
    try:
        truth = attack.build(con, min_den).value
    finally:
        con.close()
    tied = sorted({q for p, parts in s.equations if p[0].startswith("puf|") for q in parts
                   if s.flag.get(q) == "hidden" and 1 <= truth.get(q, 0) < min_cell})
    rng = np.random.default_rng(1)
    picks = [tied[i] for i in rng.choice(len(tied), size=min(sample, len(tied)), replace=False)] if tied else []
    t0 = time.perf_counter()
    values = [attack.n_values(*r) for r in attack.solve_ranges(s, picks).values()] if picks else []
    return {"published": summary(db), "unprotected_reference": summary(reference),
            "attack": {"small_hidden_tied": len(tied), "attacked": len(picks),
                       "pinned": int(sum(v <= 1 for v in values)),
                       "under_5_values": int(sum(v < 5 for v in values)),
                       "min_values": float(min(values)) if values else None,
                       "seconds": round(time.perf_counter() - t0, 1)}}


def previous_worktree(out: Path) -> Path:
    wt = out / f"previous-{PREVIOUS}"
    if not wt.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(wt), PREVIOUS], cwd=ROOT,
                       check=True, capture_output=True)
    return wt


def main() -> None:
    # libraries print progress on stdout (some from C): stdout is the JSON object only
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        result = measure()
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
    print(json.dumps(result, indent=1))


def measure() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[130_000, 20_000])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--previous", action="store_true", help=f"also run the method of {PREVIOUS}")
    ap.add_argument("--sample", type=int, default=150)
    ap.add_argument("--reuse", action="store_true",
                    help="reuse this method's figures from an earlier run on the same files")
    args = ap.parse_args()
    from outcomes import settings
    min_cell, min_den = settings.min_cell(), settings.min_denominator()
    result = {"min_cell": min_cell, "min_denominator": min_den, "sizes": {}}
    for calls in args.sizes:
        folder = args.out / f"disclosure-{calls}"
        folder.mkdir(parents=True, exist_ok=True)
        sources = ensure_demo(folder / "demo", calls)
        r: dict = {"calls": calls, "methods": {}}
        ref, refw = folder / "reference.duckdb", folder / "reference-w.duckdb"
        r["reference_seconds"] = publish(sources, ref, refw, OUTCOMES_MIN_CELL="1")
        log(f"{calls}: reference published in {r['reference_seconds']} s")
        allowed = allowed_rates(ref, min_cell, min_den)
        pub, pubw = folder / "public.duckdb", folder / "public-w.duckdb"
        saved = folder / "alternative_tables.json"
        if args.reuse and saved.exists() and pub.exists():
            r["methods"]["alternative_tables"] = json.loads(saved.read_text())
        else:
            secs = publish(sources, pub, pubw)
            util = utility(pub, allowed)
            r["methods"]["alternative_tables"] = {
                "seconds": secs, "exact": True, "utility": util,
                "detail_utility": detail_utility(pub, ref, min_cell),
                "targets": check_targets(util, calls),
                "attack": attack_file(pub, ref, min_cell, min_den, args.sample),
                "public_use_file": public_use_file(pub, ref, min_cell, min_den,
                                                   max(10, args.sample // 3))}
            saved.write_text(json.dumps(r["methods"]["alternative_tables"]))
        log(f"{calls}: alternative tables {r['methods']['alternative_tables']['seconds']} s, "
            f"attack {r['methods']['alternative_tables']['attack']}")
        r["methods"]["cell_key"] = {"exact": False, **cell_key(refw, min_den, min_cell),
                                    "attack": "not applicable: every count is shown, perturbed"}
        log(f"{calls}: cell key {r['methods']['cell_key']}")
        if args.previous:
            wt = previous_worktree(args.out)
            prev, prevw = folder / "previous.duckdb", folder / "previous-w.duckdb"
            secs = publish(sources, prev, prevw, code=wt)
            util = utility(prev, allowed)
            r["methods"]["previous_global_cube"] = {
                "commit": PREVIOUS, "seconds": secs, "exact": True, "utility": util,
                "targets": check_targets(util, calls),
                "attack": attack_file(prev, ref, min_cell, min_den, args.sample),
                "attack_note": "its rate and count tables as for this method; its 'counts' "
                               "cube, which repeats those counts, is not modelled"}
            log(f"{calls}: previous method in {secs} s")
        result["sizes"][str(calls)] = r
    return result


if __name__ == "__main__":
    main()
