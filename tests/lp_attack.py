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


def build_system(cube: pd.DataFrame, dims: list[str], hierarchy: list[tuple],
                 value: str, flag: str, lower: int = 1):
    """Equations A x = b over hidden cells x; returns (A, b, hidden index, bounds).

    hierarchy: (dim, parent, children) or (dim, parent, children, {other_dim: value}) where
    the breakdown is published only beside those values of other dimensions.
    """
    hidden = cube[flag].fillna("") != ""
    hid_pos = pd.Series(-1, index=cube.index)
    hid_pos[hidden] = np.arange(int(hidden.sum()))
    rows, cols, vals, rhs = [], [], [], []
    eq = 0
    for dim, parent, children, *where in hierarchy:
        members = cube[cube[dim].isin((parent,) + tuple(children))]
        for d, v in (where[0] if where else {}).items():
            members = members[members[d] == v]
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
    # What the attacker knows of a hidden count: it is at least `lower` (1 when zeros are
    # always shown, as here; 0 for an attacker who uses the equations alone).
    bounds = [(lower, None)] * n
    return A, np.array(rhs), cube.index[hidden], bounds


def disclosed(cube, dims, hierarchy, value, flag, targets: int = 25, seed: int = 0,
              only=None, lower: int = 1, min_range: int = 1):
    """Hidden cells whose value the published numbers pin down exactly (sampled), or with
    `min_range`, narrow to fewer than that many possible values.

    `only`: a boolean Series over the cube marking the cells to try (e.g. the true small
    counts, which the test knows and the attacker does not); default every hidden cell.
    """
    A, b, hidden_idx, bounds = build_system(cube, dims, hierarchy, value, flag, lower)
    if len(hidden_idx) == 0:
        return [], 0
    rng = np.random.default_rng(seed)
    pool = np.arange(len(bounds)) if only is None else np.nonzero(only.loc[hidden_idx].to_numpy())[0]
    picks = rng.choice(pool, size=min(targets, len(pool)), replace=False)
    out = []
    for i in picks:
        c = np.zeros(len(bounds))
        c[i] = 1.0
        lo = linprog(c, A_eq=A, b_eq=b, bounds=bounds, method="highs")
        hi = linprog(-c, A_eq=A, b_eq=b, bounds=bounds, method="highs")
        # the truth satisfies every equation, so the problem is feasible; with every cell
        # of an equation's top hidden too, the largest value has no bound (status 3)
        assert lo.status == 0 and hi.status in (0, 3), (
            "the published tables must be consistent", lo.message, hi.message)
        if hi.status != 0:
            continue
        # integer values the cell can take: one means pinned
        n_values = np.floor(hi.x[i] + 1e-6) - np.ceil(lo.x[i] - 1e-6) + 1
        if n_values < max(min_range, 2):
            out.append((hidden_idx[i], lo.x[i], hi.x[i]))
    return out, len(picks)
