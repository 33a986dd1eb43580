"""The outsider's attack (tests/attack.py) on real public files: no hidden count from 1 to
the minimum cell minus one is pinned, or left with fewer than five possible values.

Two inputs: the 20,000-call demo (a young pilot) and a sparse canonical export (3,000 calls
over 18 months and 15 districts). Each is published twice from the same files: as the
public sees it, and with OUTCOMES_MIN_CELL=1 (cell protection off, the quality-check
reference), which gives the test, never the attacker, the true value of each hidden cell.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pytest
from shapely.geometry import shape

from etl.call_types import load_code_table
from etl.demo import write_demo
from etl.divisions import DIVISIONS
from etl.pipeline import run
from outcomes import settings
from tests import attack
from tests.conftest import TEST_KEY, canonical_row, real_boundaries, write_csv

SAMPLE = 24  # true small hidden counts attacked per file (each: two LPs)
PUF_SAMPLE = 6  # more of them, among those the public-use file's counts are tied to
MIN_VALUES = 5


def _publish_twice(sources: Path, folder: Path) -> tuple[Path, Path]:
    protected, reference = folder / "public.duckdb", folder / "reference.duckdb"
    with pytest.MonkeyPatch.context() as mp:  # module-scoped: the test key set here
        mp.setenv("OUTCOMES_HMAC_KEY", TEST_KEY)
        run(sources, db=protected, warehouse_path=folder / "w1.duckdb", progress=False)
        mp.setenv("OUTCOMES_MIN_CELL", "1")
        run(sources, db=reference, warehouse_path=folder / "w2.duckdb", progress=False)
    return protected, reference


def _sparse_canonical(folder: Path, calls: int = 3_000, months: int = 18, seed: int = 3) -> Path:
    """Canonical rows spread thinly: every district, every month, most responder types,
    dispositions and events, with realistic rates of rare events."""
    rng = np.random.default_rng(seed)
    feats = json.loads(real_boundaries().read_text())["features"]
    points = []
    for f in feats:
        p = shape(f["geometry"]).representative_point()
        points.append((p.y, p.x))
    codes = [r["code"] for r in load_code_table().rows() if str(r.get("pilot")).lower() == "true"]
    divisions = list(DIVISIONS.values())
    responders = ["civilian_team", "co_response", "police", "fire_ems", "phone"]
    dispositions = ["resolved_on_scene", "transported_community", "transported_hospital",
                    "involuntary_hold", "arrest", "gone_on_arrival", "refused", "other"]
    rows = []
    for i in range(calls):
        month = int(rng.integers(0, months))
        y, m = 2025 + month // 12, month % 12 + 1
        day, hour, minute = int(rng.integers(1, 29)), int(rng.integers(0, 24)), int(rng.integers(0, 60))
        lat, lon = points[int(rng.integers(0, len(points)))]
        received = f"{y}-{m:02d}-{day:02d}T{hour:02d}:{minute:02d}:00"
        wait = int(rng.integers(2, 40))
        resp = str(rng.choice(responders, p=[0.45, 0.15, 0.3, 0.05, 0.05]))
        flag = lambda p: "true" if rng.random() < p else "false"  # noqa: E731
        rows.append(canonical_row(
            incident_id=f"S-{i}", person_key=f"P-{int(rng.integers(0, 2_000))}",
            received_at=received, dispatched_at=received,
            on_scene_at=f"{y}-{m:02d}-{day:02d}T{hour:02d}:{minute:02d}:00".replace(
                f"{minute:02d}:00", f"{min(59, minute + wait):02d}:00"),
            enroute_at="", cleared_at="",
            initial_call_type=str(rng.choice(codes)), final_call_type="",
            eligible=flag(0.85), responder_type=resp,
            disposition=str(rng.choice(dispositions)),
            arrest=flag(0.03), citation=flag(0.02), use_of_force=flag(0.01),
            injury_person=flag(0.01), injury_responder=flag(0.005),
            referral_offered=flag(0.5), referral_accepted=flag(0.3),
            police_co_dispatched=flag(0.05), police_backup_requested=flag(0.03),
            redirected_to_police=flag(0.02),
            lapd_division=str(rng.choice(divisions)), latitude=f"{lat:.5f}", longitude=f"{lon:.5f}"))
    write_csv(folder / "landing" / "a" / "calls.csv", rows)
    cfg = folder / "sources.toml"
    cfg.write_text(
        "[pilot]\n[[pilot.coverage]]\nfrom = 2025-01-01\n"
        f"divisions = {json.dumps(divisions)}\nhours = [0, 24]\n\n"
        '[[source]]\nname = "a"\nformat = "canonical"\npath = "landing/a/*.csv"\n')
    return cfg


@pytest.fixture(scope="module", params=["demo_20000", "sparse_canonical"])
def published(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "demo_20000":
        write_demo(folder / "demo", calls=20_000, seed=7)
        sources = folder / "demo" / "sources.toml"
    else:
        sources = _sparse_canonical(folder)
    return _publish_twice(sources, folder)


def _system(db: Path) -> attack.System:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return attack.build(con, settings.min_denominator())
    finally:
        con.close()


def test_no_small_hidden_count_is_narrowed(published):
    protected, reference = published
    system = _system(protected)
    truth = _system(reference).value
    min_cell = settings.min_cell()
    small = sorted(k for k, f in system.flag.items()
                   if f == "hidden" and 1 <= truth.get(k, 0) < min_cell)
    assert len(small) >= 30, "too few small hidden counts to test anything"
    rng = np.random.default_rng(0)
    picks = [small[i] for i in rng.choice(len(small), size=min(SAMPLE, len(small)), replace=False)]
    # and counts the public-use record file's counts are tied to (its groups' responses,
    # dispositions, events, interval states): the file must not narrow them either
    tied = sorted({q for p, parts in system.equations if p[0].startswith("puf|") for q in parts}
                  & set(small) - set(picks))
    picks += [tied[i] for i in rng.choice(len(tied), size=min(PUF_SAMPLE, len(tied)), replace=False)]
    ranges = attack.solve_ranges(system, picks)
    narrowed = {k: r for k, r in ranges.items() if attack.n_values(*r) < MIN_VALUES}
    assert narrowed == {}, f"{len(narrowed)} of {len(picks)} narrowed: {list(narrowed.items())[:5]}"
    # the truth lies inside every range (the attacker's model of the tables is right)
    for k, (lo, hi) in ranges.items():
        assert lo - 1e-6 <= truth[k] <= hi + 1e-6, k


def test_every_published_relation_holds(published):
    """The attacker's equations are true of the reference file, where every count is
    shown: the model of the tables it attacks with is the tables' own arithmetic."""
    _, reference = published
    system = _system(reference)
    v = system.value
    checked = 0
    for parent, parts in system.equations:
        if parent in v and all(p in v for p in parts):
            assert v[parent] == sum(v[p] for p in parts), (parent, parts)
            checked += 1
    assert checked > 1_000
