"""An attacker's view of a published cube: linear programming over everything published.

Written apart from etl/suppress.py on purpose: it rebuilds the equations from the published
rows with pandas and asks, for hidden cells, the smallest and largest value consistent with
every published number. A cell whose smallest and largest values meet has been disclosed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linprog
from scipy.sparse import coo_matrix


def build_system(cube: pd.DataFrame, dims: list[str], hierarchy: list[tuple[str, str, tuple]],
                 value: str, flag: str):
    """Equations A x = b over hidden cells x; returns (A, b, hidden index, bounds)."""
    hidden = cube[flag].fillna("") != ""
    hid_pos = pd.Series(-1, index=cube.index)
    hid_pos[hidden] = np.arange(int(hidden.sum()))
    rows, cols, vals, rhs = [], [], [], []
    eq = 0
    for dim, parent, children in hierarchy:
        members = cube[cube[dim].isin((parent,) + tuple(children))]
        others = [d for d in dims if d != dim]
        for _, g in members.groupby(others, sort=False, dropna=False):
            coef = np.where(g[dim] == parent, -1.0, 1.0)
            known = ~hidden[g.index]
            const = float((coef[known.to_numpy()] * g.loc[known, value].astype(float)).sum())
            hid = ~known.to_numpy()
            if not hid.any():
                continue
            for c, idx in zip(coef[hid], g.index[hid]):
                rows.append(eq)
                cols.append(hid_pos[idx])
                vals.append(c)
            rhs.append(-const)
            eq += 1
    n = int(hidden.sum())
    A = coo_matrix((vals, (rows, cols)), shape=(eq, n)).tocsr()
    f = cube.loc[hidden, flag].to_numpy()
    # What the attacker knows from the labels: "<11" is 1..10, 'complement' is a count >= 11.
    bounds = [(1, 10) if x == "small" else (11, None) for x in f]
    return A, np.array(rhs), cube.index[hidden], bounds


def disclosed(cube, dims, hierarchy, value, flag, targets: int = 25, seed: int = 0):
    """Hidden cells whose value the published numbers pin down exactly (sampled)."""
    A, b, hidden_idx, bounds = build_system(cube, dims, hierarchy, value, flag)
    if len(hidden_idx) == 0:
        return [], 0
    rng = np.random.default_rng(seed)
    small = [i for i, bd in enumerate(bounds) if bd == (1, 10)]
    picks = rng.choice(small, size=min(targets, len(small)), replace=False) if small else []
    out = []
    for i in picks:
        c = np.zeros(len(bounds))
        c[i] = 1.0
        lo = linprog(c, A_eq=A, b_eq=b, bounds=bounds, method="highs")
        hi = linprog(-c, A_eq=A, b_eq=b, bounds=bounds, method="highs")
        assert lo.status == 0 and hi.status == 0, "the published tables must be consistent"
        if hi.x[i] - lo.x[i] < 0.5:
            out.append((hidden_idx[i], lo.x[i]))
    return out, len(picks)
