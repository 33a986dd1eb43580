"""An outsider's attack on the public file: linear programming over everything published.

Written apart from the protection (etl/publish/) on purpose, reusing nothing of it: it
reads only the public DuckDB file, as anyone who downloads it can, names every count
cell of every table by what it counts, and writes down every linear relation it can see:

- periods: a quarter, year, fiscal year and pilot to date are the sum of their months
  (the `periods` table gives each period's months);
- places and call types: each table's 'all' row is the sum of its parts;
- items: eligible = served + not served; not served = its reasons; the funnel's calls =
  outside the pilot area + in it, and so on down to screened = screened out + eligible; handled = civilian
  team + co-response + police; each responder's responses = its dispositions = events
  recorded + not recorded = its intervals' states; recorded = events + no event; calls by
  hour add up to the city's responses; the police baseline's group and division trees;
  the run log's rows in = rows out + set aside, and the quarantine's reasons add up;
- across tables: a count printed in two tables (responses beside outcomes and events, the
  coverage table's and the unserved table's not-served calls) is one unknown.

What it knows of a count not shown: a hidden count is at least 1 (zeros are shown; it
does not know which are small, so no upper bound), a hidden denominator of a printed rate
at least the minimum denominator; a count flagged under the minimum, in a rate's
denominator, at most the minimum minus one; a median shown means at least the minimum of
valid times, a median missing means fewer. It then asks, for hidden counts, the smallest
and largest values consistent with all of it (linear programming, HiGHS), family by family:
a count's own tables' relations and those of the responses they share.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

ALL = "all"


@dataclass
class System:
    value: dict = field(default_factory=dict)      # key -> published count
    lower: dict = field(default_factory=dict)      # key -> what the outsider knows
    upper: dict = field(default_factory=dict)
    flag: dict = field(default_factory=dict)
    equations: list = field(default_factory=list)  # (parent key, [part keys])

    def cell(self, key, value, flag, lower=0.0, upper=None):
        if key in self.flag and self.flag[key] == "" and flag != "":
            return  # printed in another table
        if not pd.isna(value) and flag == "":
            self.value[key] = float(value)
            self.flag[key] = ""
            return
        self.flag[key] = flag
        lo = {"hidden": 1.0}.get(flag, 0.0)
        self.lower[key] = max(self.lower.get(key, 0.0), lo, lower)
        if upper is not None:
            self.upper[key] = min(self.upper.get(key, np.inf), upper)

    def eq(self, parent, parts):
        self.equations.append((parent, list(parts)))


def _rollups(s: System, keys: set, periods: pd.DataFrame, pos: int = 1):
    """For cells keyed (..., period_type, period, ...): each longer period = its months."""
    months = {}
    for r in periods.itertuples():
        if r.period_type != "month":
            months[r.period] = [m for m in periods.loc[periods.period_type == "month", "period"]
                                if r.first_month <= m <= r.last_month]
    for k in keys:
        ptype, period = k[pos], k[pos + 1]
        if ptype == "month" or period not in months:
            continue
        parts = [k[:pos] + ("month", m) + k[pos + 2:] for m in months[period]]
        if all(p in keys for p in parts):
            s.eq(k, parts)


def _sums(s: System, keys: set, pos: int, parts_of: dict):
    """For cells keyed with a dimension at `pos`: parent = sum of its parts, where every
    part is a cell."""
    for k in keys:
        if k[pos] in parts_of:
            parts = [k[:pos] + (p,) + k[pos + 1:] for p in parts_of[k[pos]]]
            if all(p in keys for p in parts):
                s.eq(k, parts)


def build(con: duckdb.DuckDBPyConnection, min_den: int) -> System:
    s = System()
    periods = con.execute("select * from periods").df()
    tables = {r[0] for r in con.execute("select table_name from catalog").fetchall()}
    tables &= {r[0] for r in con.execute("select table_name from duckdb_tables() "
                                        "union select view_name from duckdb_views()").fetchall()}
    den_hi = float(min_den - 1)

    def table(name):
        return con.execute(f"select * from {name}").df() if name in tables else pd.DataFrame()

    places = [str(i) for i in range(1, 16)] + ["outside_city", "unknown"]
    families: dict[str, set] = defaultdict(set)

    def add(fam, key, value, flag, den=False, in_den=False):
        flag = flag if isinstance(flag, str) else ("" if not pd.isna(value) else "hidden")
        older = flag == "suppressed"  # an older release's one mark: a hidden count may be small
        flag = "hidden" if older else flag
        lo = float(min_den) if den and flag == "hidden" and not older else 0.0
        hi = den_hi if (den or in_den) and flag == "under_minimum" else None
        s.cell(key, value, flag, lo, hi)
        families[fam].add(key)

    base = ["period_type", "period", "district", "call_type_group"]
    cov = table("coverage")
    for r in cov.itertuples():
        k = tuple(getattr(r, c) for c in base)
        add("eligible", ("eligible",) + k, r.eligible_calls, getattr(r, "eligible_calls_flag", None), den=True)
        add("served", ("served",) + k, r.civilian_calls, getattr(r, "civilian_calls_flag", None), in_den=True)
    for r in table("unserved").itertuples():
        k = tuple(getattr(r, c) for c in base)
        name = "unserved" if r.unserved_reason == ALL else f"unserved:{r.unserved_reason}"
        add(name, (name,) + k, r.calls, getattr(r, "calls_flag", None), in_den=name == "unserved")
    # the eligibility funnel: its eligible, answered and not-answered calls and their
    # reasons are the coverage and unserved tables' counts (one unknown each)
    same = {"eligible": "eligible", "served": "served", "unserved": "unserved"}
    for r in table("eligibility_funnel").itertuples():
        k = tuple(getattr(r, c) for c in base)
        node = r.node
        if node in same:
            name = same[node]
        elif node.startswith("unserved_"):
            name = "unserved:" + node.removeprefix("unserved_")
        else:
            name = f"fn:{node}"
        add(name, (name,) + k, r.calls, r.calls_flag, den=node == "calls", in_den=True)
    # the crisis line: the funnel's calls by how they arrived; its phone responses are the
    # responses table's own count
    for r in table("crisis_line").itertuples():
        k = tuple(getattr(r, c) for c in base)
        add("fn:calls", ("fn:calls",) + k, r.calls, r.calls_flag, den=True, in_den=True)
        for o in ("911", "988", "non_emergency"):
            add(f"fn:origin_{o}", (f"fn:origin_{o}",) + k, getattr(r, f"calls_{o}"),
                getattr(r, f"calls_{o}_flag"), in_den=True)
        add("resp", ("resp",) + k + ("phone",), r.resolved_by_phone, r.resolved_by_phone_flag, den=True)
    for r in table("workload_share").itertuples():
        k = tuple(getattr(r, c) for c in base)
        add("handled", ("handled",) + k, r.handled_calls, getattr(r, "handled_calls_flag", None), den=True)
        for col in ("civilian_team", "co_response", "police"):
            add(f"wl:{col}", (f"wl:{col}",) + k, getattr(r, f"{col}_calls"),
                getattr(r, f"{col}_calls_flag", None), in_den=True)
    rkeys = base + ["responder_type"]
    for r in table("responses").itertuples():
        add("resp", ("resp",) + tuple(getattr(r, c) for c in rkeys), r.responses, getattr(r, "responses_flag", None),
            den=True)
    for r in table("outcomes").itertuples():
        k = tuple(getattr(r, c) for c in rkeys)
        add("resp", ("resp",) + k, r.responses, getattr(r, "responses_flag", None), den=True)
        add(f"disp:{r.outcome}", (f"disp:{r.outcome}",) + k, r.calls, getattr(r, "calls_flag", None), in_den=True)
    for name, col in (("outcome_events", "event"), ("police_involvement", "involvement")):
        for r in table(name).itertuples():
            k = tuple(getattr(r, c) for c in rkeys)
            e = getattr(r, col)
            add("resp", ("resp",) + k, r.responses, getattr(r, "responses_flag", None), den=True)
            add(f"rec:{e}", (f"rec:{e}",) + k, r.recorded, getattr(r, "recorded_flag", None), den=True)
            add(f"true:{e}", (f"true:{e}",) + k, r.events, getattr(r, "events_flag", None), in_den=True)
            add(f"unk:{e}", (f"unk:{e}",) + k, r.not_recorded, getattr(r, "not_recorded_flag", None))
    states = ("valid", "missing", "negative", "over_24h")
    for r in table("response_times").itertuples():
        k = tuple(getattr(r, c) for c in rkeys)
        for st in states:
            key = (f"iv:{r.interval}:{st}",) + k
            add(f"iv:{r.interval}:{st}", key, getattr(r, f"{st}_intervals"),
                getattr(r, f"{st}_intervals_flag", None))
        key = (f"iv:{r.interval}:valid",) + k
        if key not in s.value:  # a median shown, or not, says which side of the minimum
            if not pd.isna(r.median_minutes):
                s.lower[key] = max(s.lower.get(key, 0.0), float(min_den))
            else:
                s.upper[key] = min(s.upper.get(key, np.inf), den_hi)
    hk = ["period_type", "period", "responder_type", "hour_of_day", "weekday"]
    for r in table("calls_by_hour").itertuples():
        add("hour", ("hour",) + tuple(getattr(r, c) for c in hk), r.calls, getattr(r, "calls_flag", None))
    ok = ["period_type", "period", "district", "call_origin", "responder_type"]
    for r in table("other_contacts").itertuples():
        add("other", ("other",) + tuple(getattr(r, c) for c in ok), r.records, getattr(r, "records_flag", None))
    bk = ["period_type", "period", "division", "call_type_group"]
    for r in table("police_baseline").itertuples():
        add("pb", ("pb",) + tuple(getattr(r, c) for c in bk), r.calls, getattr(r, "calls_flag", None))
    # the county's officer-involved shootings, 2010-2014: each measure's five years add up
    ois = table("officer_involved_shootings")
    for measure, part in (ois.groupby("measure") if len(ois) else []):
        years = []
        for r in part.itertuples():
            key = ("ois", measure, r.period)
            add("ois", key, r.people, r.people_flag)
            if r.period != "2010-2014":
                years.append(key)
        s.eq(("ois", measure, "2010-2014"), years)
    runs = table("runs")
    for r in runs.itertuples():
        for m in ("rows_in", "rows_out", "rows_quarantined"):
            v = getattr(r, m)
            add("runs", ("runs", r.run_id, m), v, "" if not pd.isna(v) else "hidden")
        s.eq(("runs", r.run_id, "rows_in"), [("runs", r.run_id, "rows_out"),
                                               ("runs", r.run_id, "rows_quarantined")])
    quarantine = table("quarantine_summary")
    if len(quarantine) and len(runs):
        last = runs.sort_values("started_at")["run_id"].iloc[-1]
        parts = []
        for r in quarantine.itertuples():
            add("q", ("q", r.source, r.reason), r.rows, getattr(r, "rows_flag", None))
            parts.append(("q", r.source, r.reason))
        s.eq(("runs", last, "rows_quarantined"), parts)

    _public_use_file(s, table("public_use_file"), table("public_use_file_summary"),
                     sorted(periods.loc[periods["period_type"] == "fiscal_year", "period"]),
                     sorted({r for r in table("outcomes").get("outcome", pd.Series(dtype=str))} - {ALL}))

    # --- relations
    groups = sorted({k[4] for k in families["eligible"] | families["resp"]} - {ALL})
    for fam, keys in families.items():
        if fam in ("runs", "q", "ois"):
            continue
        _rollups(s, keys, periods)
        if fam in ("hour",):
            continue
        if fam == "pb":
            calls_types = table("call_types")
            leaves = sorted({k[4] for k in keys} - {ALL, "dispatched", "pilot_types"})
            pilot = set(calls_types.loc[calls_types["pilot"].astype(str).str.lower() == "true",
                                        "call_type_group"]) if len(calls_types) else set()
            _sums(s, keys, 4, {ALL: leaves, "pilot_types": [g for g in leaves if g in pilot],
                               "dispatched": [g for g in leaves if g != "officer_initiated"]})
            divisions = sorted({k[3] for k in keys} - {ALL})
            _sums(s, keys, 3, {ALL: divisions})
            continue
        if fam == "other":
            _sums(s, keys, 3, {ALL: places})
            _sums(s, keys, 4, {ALL: ["officer_initiated", "self_initiated"]})
            _sums(s, keys, 5, {ALL: ["civilian_team", "co_response", "police", "fire_ems", "phone"]})
            continue
        _sums(s, keys, 3, {ALL: places})
        _sums(s, keys, 4, {ALL: groups})
    every = set(s.flag)

    def item(parent, parts):
        for k in families[parent]:
            ps = [(p,) + k[1:] for p in parts]
            if all(p in every for p in ps):
                s.eq(k, ps)

    item("eligible", ["served", "unserved"])
    item("fn:calls", ["fn:outside_pilot_area", "fn:in_area"])
    item("fn:in_area", ["fn:outside_pilot_hours", "fn:in_hours"])
    item("fn:in_hours", ["fn:screen_not_recorded", "fn:screened"])
    item("fn:screened", ["fn:screened_out", "eligible"])
    item("fn:screened_out", sorted(f for f in families if f.startswith("fn:screened_out_")))
    item("fn:calls", ["fn:origin_911", "fn:origin_988", "fn:origin_non_emergency"])
    # every call of the universe has one responder type: in a period wholly inside the
    # pilot, the funnel's calls are the sum of the responses of the five types
    spans = table("pilot_coverage")
    start = str(spans["span_start"].min())[:7] if len(spans) else "9999-99"
    first = dict(zip(periods["period"], periods["first_month"]))
    responders = ["civilian_team", "co_response", "police", "fire_ems", "phone"]
    for k in families["fn:calls"]:
        if str(first.get(k[2], "0000-00")) < start:
            continue
        parts = [("resp",) + k[1:] + (r,) for r in responders]
        if all(p in every for p in parts):
            s.eq(k, parts)
    reasons = sorted(f for f in families if f.startswith("unserved:"))
    item("unserved", reasons)
    item("handled", ["wl:civilian_team", "wl:co_response", "wl:police"])
    item("resp", sorted(f for f in families if f.startswith("disp:")))
    for e in sorted(f[4:] for f in families if f.startswith("rec:")):
        item("resp", [f"rec:{e}", f"unk:{e}"])
        for k in families[f"rec:{e}"]:
            # recorded = events + no event; "no event" is never printed: an unknown >= 0
            s.eq(k, [(f"true:{e}",) + k[1:], (f"false:{e}",) + k[1:]])
            s.lower.setdefault((f"false:{e}",) + k[1:], 0.0)
            s.flag.setdefault((f"false:{e}",) + k[1:], "not_published")
    for i in sorted({f.split(":")[1] for f in families if f.startswith("iv:")}):
        item("resp", [f"iv:{i}:{st}" for st in states])
    by_total = defaultdict(list)
    for k in families["hour"]:
        by_total[("resp", k[1], k[2], ALL, ALL, k[3])].append(k)
    for total, parts in by_total.items():
        if total in every or total in s.flag:
            s.eq(total, parts)
    return s


PUF_EVENTS = {"yes": "true", "no": "false", "not_recorded": "unk"}
PUF_STATES = {"not_recorded": "missing", "invalid_negative": "negative",
              "invalid_over_24h": "over_24h"}


def _public_use_file(s: System, rows: pd.DataFrame, summary: pd.DataFrame, fiscal_years: list,
                     outcomes: list) -> None:
    """The record file's counts, as the outsider takes them: for each group (fiscal year,
    district, responder type), its size is that responses count; each value of a column
    counts that value's cell of the tables; a column's "withheld" rows are the sum of the
    cells of every value it does not print there (a value not seen is zero or withheld).
    A band of minutes counts valid times: the bands add up to the valid ones. Counts over
    two columns have no cell in the tables and add up to these, so they add nothing."""
    if rows.empty:
        return
    events = [c for c in rows.columns if c not in ("fiscal_year", "district", "responder_type",
                                                   "disposition", "dispatch_to_scene_band")]
    for (fy, district, responder), g in rows.groupby(["fiscal_year", "district", "responder_type"]):
        k = ("fiscal_year", fy, district, ALL, responder)

        def known(name, parts, value):
            key = (f"puf|{name}",) + k
            s.cell(key, float(value), "")
            s.eq(key, parts)

        known("resp", [("resp",) + k], len(g))
        counts = g["disposition"].value_counts()
        for v, n in counts.items():
            if v != "withheld":
                known(f"disp:{v}", [(f"disp:{v}",) + k], n)
        known("disp:withheld", [(f"disp:{v}",) + k for v in outcomes if v not in counts.index
                                or v == "withheld"], counts.get("withheld", 0))
        for e in events:
            counts = g[e].value_counts()
            for v, n in counts.items():
                if v != "withheld":
                    known(f"{PUF_EVENTS[v]}:{e}", [(f"{PUF_EVENTS[v]}:{e}",) + k], n)
            unseen = [PUF_EVENTS[v] for v in PUF_EVENTS if v not in counts.index]
            known(f"withheld:{e}", [(f"{u}:{e}",) + k for u in unseen], counts.get("withheld", 0))
        counts = g["dispatch_to_scene_band"].value_counts()
        bands = [v for v in counts.index if v != "withheld" and v not in PUF_STATES]
        if bands:
            known("iv:dispatch_to_scene:valid", [("iv:dispatch_to_scene:valid",) + k],
                  counts[bands].sum())
        for v, st in PUF_STATES.items():
            if v in counts.index:
                known(f"iv:dispatch_to_scene:{st}", [(f"iv:dispatch_to_scene:{st}",) + k], counts[v])
        unseen = [st for v, st in PUF_STATES.items() if v not in counts.index] + ([] if bands else ["valid"])
        known("iv:dispatch_to_scene:withheld", [(f"iv:dispatch_to_scene:{st}",) + k for st in unseen],
              counts.get("withheld", 0))
    if len(summary) and not pd.isna(summary["records_in_scope"].iloc[0]):
        key = ("puf|resp", "records_in_scope")
        s.cell(key, float(summary["records_in_scope"].iloc[0]), "")
        # the citywide responses of the fiscal years and types where they are shown
        s.eq(key, [k for k in (("resp", "fiscal_year", fy, ALL, ALL, r) for fy in fiscal_years
                               for r in ("civilian_team", "co_response", "police"))
                   if s.flag.get(k) == ""])


def group_of(key) -> str:
    """Which table family a key's count belongs to (the attack is run family by family,
    each with the responses it shares)."""
    name = key[0]
    if name.startswith("puf|"):  # a count of the record file: the family of what it counts
        name = name[4:]
        if name.startswith("withheld:"):
            return "event:" + name.split(":")[1]
    if name in ("eligible", "served", "unserved") or name.startswith(("unserved:", "fn:")):
        return "coverage"  # (the funnel's calls tie it to the responses it shares)
    if name == "handled" or name.startswith("wl:"):
        return "workload"
    if name.split(":")[0] in ("rec", "true", "unk", "false"):
        return "event:" + name.split(":")[1]
    if name.startswith("iv:"):
        return "interval:" + name.split(":")[1]
    if name.startswith("disp:"):
        return "disp"
    if name in ("runs", "q"):
        return "runs"
    return name


def solve_ranges(s: System, targets: list, time_limit: float = 300.0) -> dict:
    """Smallest and largest value of each target consistent with everything published in
    its family's tables and the responses they share: for each target, the equations whose
    counts all lie in its family or the responses (the relations a third family adds to a
    response count left unshown are left out: with the responses shown, as they are almost
    everywhere they are printed, the families share nothing else)."""
    out = {}
    by_group: dict[str, list] = defaultdict(list)
    for t in targets:
        by_group[group_of(t)].append(t)
    for g, ts in by_group.items():
        # the responses are tied to the funnel (its calls are their sum): attacked with it
        keep = {g, "resp"} | ({"coverage"} if g == "resp" else set())
        eqs = [(p, parts) for p, parts in s.equations
               if group_of(p) in keep and all(group_of(q) in keep for q in parts)]
        out.update(_solve(s, eqs, ts, time_limit))
    return out


def _solve(s: System, equations: list, targets: list, time_limit: float) -> dict:
    keys = {k for p, parts in equations for k in (p, *parts)} | set(targets)
    unknown = sorted(k for k in keys if s.flag.get(k, "not_published") != "")
    pos = {k: i for i, k in enumerate(unknown)}
    rows, cols, vals, rhs = [], [], [], []
    n_eq = 0
    for parent, parts in equations:
        const = 0.0
        terms = [(parent, -1.0)] + [(p, 1.0) for p in parts]
        any_unknown = False
        for k, c in terms:
            if k in pos:
                rows.append(n_eq)
                cols.append(pos[k])
                vals.append(c)
                any_unknown = True
            else:
                const += c * s.value.get(k, 0.0)
        if any_unknown:
            rhs.append(-const)
            n_eq += 1
        else:
            assert abs(const) < 1e-6, ("the published tables must add up", parent, const)
    A = coo_matrix((vals, (rows, cols)), shape=(n_eq, len(unknown))).tocsr()
    b = np.array(rhs)
    lower = np.array([s.lower.get(k, 0.0) for k in unknown])
    upper = np.array([s.upper.get(k, np.inf) for k in unknown])
    # unknowns that share no equation, directly or through others, are independent: each
    # target is solved over its own connected part of the system, one HiGHS model per part
    # re-solved from the last basis as only the objective changes
    link = (A.T @ A) if A.shape[0] else coo_matrix((len(unknown), len(unknown))).tocsr()
    _, part = connected_components(link, directed=False)
    models: dict[int, tuple] = {}
    out = {}
    for t in targets:
        p = int(part[pos[t]])
        if p not in models:
            cols_t = np.nonzero(part == p)[0]
            rows_t = np.unique(A[:, cols_t].nonzero()[0])
            models[p] = (cols_t, _model(A[rows_t][:, cols_t].tocsr(), b[rows_t], lower[cols_t],
                                        upper[cols_t], time_limit))
        cols_t, h = models[p]
        j = int(np.searchsorted(cols_t, pos[t]))
        values = []
        for sense in (1.0, -1.0):
            h.changeColsCost(len(cols_t), np.arange(len(cols_t), dtype=np.int32), np.zeros(len(cols_t)))
            h.changeColCost(j, sense)
            h.run()
            status = h.modelStatusToString(h.getModelStatus())
            if status == "Optimal":
                values.append(h.getSolution().col_value[j])
            else:
                assert sense < 0 and status in ("Unbounded", "Primal unbounded", "Unbounded or infeasible"), (
                    "the published tables must be consistent", t, status)
                values.append(np.inf)
        out[t] = (values[0], values[1])
    return out


def _model(A, b, lower, upper, time_limit):
    import highspy
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    inf = highspy.kHighsInf
    n = A.shape[1]
    h.addVars(n, lower, np.where(np.isfinite(upper), upper, inf))
    A = A.tocsr()
    h.addRows(A.shape[0], b, b, A.nnz, A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32),
              A.data)
    return h


def n_values(lo: float, hi: float) -> float:
    """How many whole values lie in [lo, hi]."""
    return np.inf if not np.isfinite(hi) else np.floor(hi + 1e-6) - np.ceil(lo - 1e-6) + 1
