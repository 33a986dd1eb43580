import numpy as np
import pandas as pd
import pytest

from etl.publish._old_suppress import (MIN_RANGE, Equation, bounds, equations_membership,
                          lone_hidden_equations, suppress)
from tests.lp_attack import disclosed


def margins_table(values: dict[tuple[str, str], int]) -> pd.DataFrame:
    rows = [(r, c, v) for (r, c), v in values.items()]
    rs = sorted({r for r, _ in values})
    cs = sorted({c for _, c in values})
    rows += [(r, "all", sum(v for (rr, _), v in values.items() if rr == r)) for r in rs]
    rows += [("all", c, sum(v for (_, cc), v in values.items() if cc == c)) for c in cs]
    rows.append(("all", "all", sum(values.values())))
    return pd.DataFrame(rows, columns=["r", "c", "n"])


EQS = [Equation("r", "all", ("a", "b", "c")), Equation("c", "all", ("x", "y", "z"))]


def test_small_counts_hidden_zero_shown():
    df = margins_table({("a", "x"): 0, ("a", "y"): 5, ("a", "z"): 40,
                        ("b", "x"): 12, ("b", "y"): 30, ("b", "z"): 25})
    df["flag"] = suppress(df, ["r", "c"], [EQS[0], EQS[1]])
    cell = lambda r, c: df[(df.r == r) & (df.c == c)].iloc[0]  # noqa: E731
    assert cell("a", "x").flag == ""            # zero is shown
    assert cell("a", "y").flag == "suppressed"
    assert lone_hidden_equations(df, ["r", "c"], EQS, df.flag) == 0


def test_single_hidden_cell_gets_a_partner_in_row_and_column():
    df = margins_table({("a", "x"): 3, ("a", "y"): 20, ("b", "x"): 15, ("b", "y"): 30})
    eqs = [Equation("r", "all", ("a", "b")), Equation("c", "all", ("x", "y"))]
    df["flag"] = suppress(df, ["r", "c"], eqs)
    assert set(df[df.flag != ""][["r", "c"]].itertuples(index=False, name=None)) == {
        ("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")}
    bad, tried = disclosed(df, ["r", "c"], [("r", "all", ("a", "b")), ("c", "all", ("x", "y"))],
                           "n", "flag")
    assert tried == 4 and bad == []


def test_deterministic():
    rng = np.random.default_rng(3)
    vals = {(r, c): int(rng.integers(0, 30)) for r in "abc" for c in "xyz"}
    df = margins_table(vals)
    assert suppress(df, ["r", "c"], EQS).tolist() == suppress(df, ["r", "c"], EQS).tolist()


@pytest.mark.parametrize("seed", range(5))
def test_random_three_way_tables_resist_lp(seed):
    """Three dimensions with totals in each: no sampled small cell can be pinned down."""
    rng = np.random.default_rng(seed)
    dims = {"p": ["m1", "m2", "m3"], "d": ["1", "2", "3", "4"], "g": ["u", "v"]}
    leaf = pd.DataFrame([(p, d, g, int(rng.choice([0, 2, 5, 9, 14, 30, 80])))
                         for p in dims["p"] for d in dims["d"] for g in dims["g"]],
                        columns=["p", "d", "g", "n"])
    frames = []
    for rp in (False, True):
        for rd in (False, True):
            for rg in (False, True):
                t = leaf.copy()
                if rp: t["p"] = "all"
                if rd: t["d"] = "all"
                if rg: t["g"] = "all"
                frames.append(t.groupby(["p", "d", "g"], as_index=False)["n"].sum())
    cube = pd.concat(frames, ignore_index=True)
    cube = cube[cube.n > 0].reset_index(drop=True)  # absent cells are zeros, as published
    hier = [("p", "all", tuple(dims["p"])), ("d", "all", tuple(dims["d"])),
            ("g", "all", tuple(dims["g"]))]
    eqs = [Equation(*h) for h in hier]
    cube["flag"] = suppress(cube, ["p", "d", "g"], eqs)
    cube.loc[cube.flag != "", "n"] = np.nan
    published = cube.assign(n=cube.n.fillna(0))
    bad, tried = disclosed(published, ["p", "d", "g"], hier, "n", "flag", targets=15, seed=seed)
    assert bad == [], f"disclosed {bad} of {tried}"
    # knowing that a hidden count is at least 1, no hidden cell is narrowed to fewer than
    # MIN_RANGE possible values
    bad, tried = disclosed(published, ["p", "d", "g"], hier, "n", "flag", targets=40, seed=seed,
                           lower=1, min_range=MIN_RANGE)
    assert tried > 0 and bad == [], f"narrowed {bad} of {tried}"


def _nodes(values: dict[str, int], eqs: list[Equation]):
    cells = pd.DataFrame({"node": list(values), "n": list(values.values())})
    eq, cell, is_parent = equations_membership(cells, ["node"], eqs, with_roles=True)
    return cells, eq, cell, is_parent, int(eq.max()) + 1


def test_bounds_carry_through_equations():
    """total 12 (shown) = a + b + c, all hidden; a = a1 + a2, both hidden. Each hidden
    count is at least 1, so a >= a1 + a2 >= 2, a <= 12 - 1 - 1 = 10, a1 <= 10 - 1 = 9."""
    eqs = [Equation("node", "total", ("a", "b", "c")), Equation("node", "a", ("a1", "a2"))]
    cells, eq, cell, is_parent, n_eq = _nodes(
        {"total": 12, "a": 2, "b": 3, "c": 7, "a1": 1, "a2": 1}, eqs)
    hidden = (cells["node"] != "total").to_numpy()
    lo, hi, _ = bounds(cells["n"].to_numpy(), hidden, eq, cell, is_parent, n_eq)
    got = dict(zip(cells["node"], zip(lo, hi)))
    assert got == {"total": (12, 12), "a": (2, 10), "b": (1, 9), "c": (1, 9),
                   "a1": (1, 9), "a2": (1, 9)}


def test_a_pair_of_small_counts_under_a_shown_total_gets_more_company():
    """total 14 = x + y + z with x = 1 and y = 2: hiding x and y alone would leave each in
    [1, 2] (x + y = 14 - 11 = 3), so z (11) is hidden too, leaving each in [1, 12]."""
    eqs = [Equation("node", "total", ("x", "y", "z"))]
    cells, *_ = _nodes({"total": 14, "x": 1, "y": 2, "z": 11}, eqs)
    flags = suppress(cells, ["node"], eqs)
    assert dict(zip(cells["node"], flags)) == {"total": "", "x": "suppressed",
                                                 "y": "suppressed", "z": "suppressed"}
