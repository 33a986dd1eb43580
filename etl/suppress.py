"""Disclosure control over a count cube: primary and complementary cell suppression.

A cube is a table of count cells keyed by dimension values, where some cells are sums of
others (a district total is the sum of districts, a year the sum of its months, ...). Each
such relation is an *equation* `parent = child_1 + ... + child_k`. Publishing every cell of an
equation but one would let anyone recover the hidden one by subtraction, so:

1. primary: every count 1..min_cell-1 is hidden (0 is shown: "none" discloses no person);
2. complementary: further non-zero cells are hidden until the rules of `suppress` hold.

Cells absent from the cube are zeros and count as shown. tests/test_suppress.py and
tests/test_pipeline.py attack the result with linear programming to check that no hidden
cell can be pinned to its value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class Equation:
    """In dimension `dim`, node `parent` equals the sum of `children`.

    `where` limits the equation to cells whose other dimensions hold the given values, for
    cubes that publish a breakdown only beside certain totals (e.g. districts only for all
    call type groups together): elsewhere the children are not published, so no equation.
    """
    dim: str
    parent: str
    children: tuple[str, ...]
    where: tuple[tuple[str, str], ...] = ()


def equations_membership(cells: pd.DataFrame, dims: list[str], equations: list[Equation],
                         with_roles: bool = False):
    """(equation id, cell index) pairs: which cells take part in which equation instance.

    An equation template applies once per combination of the other dimensions' values.
    With `with_roles`, a third array says which member is the equation's parent.
    """
    eq_ids: list[np.ndarray] = []
    cell_ids: list[np.ndarray] = []
    roles: list[np.ndarray] = []
    next_id = 0
    codes = {d: pd.factorize(cells[d])[0].astype(np.int64) for d in dims}
    cards = {d: int(codes[d].max()) + 1 if len(cells) else 1 for d in dims}
    for eq in equations:
        members = (eq.parent,) + eq.children
        mask = cells[eq.dim].isin(members).to_numpy().copy()
        for d, v in eq.where:
            mask &= (cells[d] == v).to_numpy()
        idx = np.nonzero(mask)[0]
        if len(idx) == 0:
            continue
        key = np.zeros(len(idx), dtype=np.int64)
        for d in dims:
            if d == eq.dim:
                continue
            key = key * cards[d] + codes[d][idx]
        uniq, inverse = np.unique(key, return_inverse=True)
        eq_ids.append(inverse.astype(np.int64) + next_id)
        cell_ids.append(idx.astype(np.int64))
        roles.append((cells[eq.dim].to_numpy()[idx] == eq.parent))
        next_id += len(uniq)
    if not eq_ids:
        empty = np.zeros(0, np.int64)
        return (empty, empty, empty.astype(bool)) if with_roles else (empty, empty)
    out = (np.concatenate(eq_ids), np.concatenate(cell_ids))
    return out + (np.concatenate(roles),) if with_roles else out


def _parent_of(eq: np.ndarray, cell: np.ndarray, is_parent: np.ndarray, n_eq: int) -> np.ndarray:
    """For each equation instance its parent cell, -1 where the parent is absent (zero)."""
    parent_of = np.full(n_eq, -1, np.int64)
    parent_of[eq[is_parent]] = cell[is_parent]
    return parent_of


def _twin_ranks(values: np.ndarray, rank: np.ndarray, eq: np.ndarray, cell: np.ndarray,
                is_parent: np.ndarray, parent_of: np.ndarray) -> np.ndarray:
    """Where a parent has a single non-zero child the two are the same number: hiding one
    hides both, so each gets the higher rank of the pair (to a fixed point, for chains)."""
    rank = rank.copy()
    nonzero_child = ~is_parent & (values[cell] > 0)
    n_nonzero = np.bincount(eq[nonzero_child], minlength=len(parent_of))
    sel = nonzero_child & (n_nonzero[eq] == 1)
    kids, parents = cell[sel], parent_of[eq[sel]]
    ok = parents >= 0
    kids, parents = kids[ok], parents[ok]
    for _ in range(50):
        before = rank.copy()
        np.maximum.at(rank, kids, rank[parents])
        np.maximum.at(rank, parents, rank[kids])
        if np.array_equal(before, rank):
            break
    return rank


def peel(hidden: np.ndarray, eq: np.ndarray, cell: np.ndarray, n_eq: int) -> tuple[np.ndarray, np.ndarray]:
    """Hidden cells an attacker can work out by chains of single-unknown equations.

    Repeatedly: an equation whose cells are all shown or already worked out but one reveals
    that one. Returns (worked-out mask, for each worked-out cell the equation that did it).
    """
    known = ~hidden
    via = np.full(len(hidden), -1, np.int64)
    while True:
        unknown_n = np.bincount(eq, weights=(~known[cell]).astype(np.float64), minlength=n_eq)
        lone = (unknown_n == 1)[eq] & ~known[cell]
        if not lone.any():
            break
        cells_found, first = np.unique(cell[lone], return_index=True)
        known[cells_found] = True
        via[cells_found] = eq[lone][first]
    return known & hidden, via


def suppress(cells: pd.DataFrame, dims: list[str], equations: list[Equation],
             value: str = "n", min_cell: int = 11, max_rounds: int = 1000,
             coarseness: np.ndarray | None = None) -> pd.Series:
    """A flag per cell: '' shown or 'suppressed'.

    Hidden cells carry one flag whatever the reason, as statistical agencies do, so the flag
    tells no one which hidden cells are the small ones. `coarseness` ranks cells (0 = the
    finest, least-read); complements are taken from the finest cells of an equation first,
    then the smallest, so totals readers rely on stay shown wherever a finer cell can serve.

    Rules, repeated until all hold:
    - no equation has exactly one hidden cell;
    - under a shown total, the hidden cells add up to at least `min_cell`;
    - no hidden cell can be worked out through a chain of equations (`peel`).
    """
    values = cells[value].to_numpy(dtype=np.int64)
    rank = np.zeros(len(cells), np.int64) if coarseness is None else np.asarray(coarseness, np.int64)
    hidden = (values >= 1) & (values < min_cell)
    eq, cell, is_parent = equations_membership(cells, dims, equations, with_roles=True)
    n_eq = int(eq.max()) + 1 if len(eq) else 0
    parent_of = _parent_of(eq, cell, is_parent, n_eq)
    rank = _twin_ranks(values, rank, eq, cell, is_parent, parent_of)
    child = ~is_parent
    has_parent = parent_of >= 0
    for _ in range(max_rounds):
        h = hidden[cell].astype(np.float64)
        hidden_n = np.bincount(eq, weights=h, minlength=n_eq)
        # Under a shown total, hidden cells add up to a known remainder; two hidden 1s would
        # be read off a remainder of 2, so the hidden part must reach min_cell.
        hidden_child_sum = np.bincount(eq, weights=h * child * values[cell], minlength=n_eq)
        parent_shown = np.zeros(n_eq, bool)
        parent_shown[has_parent] = ~hidden[parent_of[has_parent]]
        need = (hidden_n == 1) | (parent_shown & (hidden_n >= 1) & (hidden_child_sum < min_cell))
        if not need.any():
            found, via = peel(hidden, eq, cell, n_eq)
            if not found.any():
                break
            # the equation that gave each worked-out cell away needs another hidden cell;
            # where it has none left to hide, go back to the equations that gave its
            # other cells away
            need = np.zeros(n_eq, bool)
            need[via[found]] = True
            for _hop in range(100):
                shown_nonzero = ~hidden[cell] & (values[cell] > 0)
                has_cand = np.bincount(eq[shown_nonzero], minlength=n_eq) > 0
                stuck = need & ~has_cand
                if not stuck.any():
                    break
                need &= has_cand
                members = cell[stuck[eq]]
                upstream = via[members[found[members]]]
                need[upstream[upstream >= 0]] = True
        in_need = need[eq]
        cand_eq, cand_cell = eq[in_need], cell[in_need]
        ok = ~hidden[cand_cell] & (values[cand_cell] > 0)
        cand_eq, cand_cell = cand_eq[ok], cand_cell[ok]
        if len(cand_eq) == 0:
            raise RuntimeError("an equation needs another hidden cell but has none left to hide")
        order = np.lexsort((cand_cell, values[cand_cell], rank[cand_cell], cand_eq))
        cand_eq, cand_cell = cand_eq[order], cand_cell[order]
        first = np.unique(cand_eq, return_index=True)[1]
        # Equations are handled together; two may pick different cells where one would do,
        # which hides a little more than needed but never less.
        hidden[np.unique(cand_cell[first])] = True
    else:
        raise RuntimeError("complementary suppression did not settle")
    return pd.Series(np.where(hidden, SUPPRESSED, ""), index=cells.index, name=f"{value}_flag")


def lone_hidden_equations(cells: pd.DataFrame, dims: list[str], equations: list[Equation],
                          flag: pd.Series) -> int:
    """How many equation instances hold exactly one hidden cell (0 after `suppress`)."""
    eq, cell = equations_membership(cells, dims, equations)
    if len(eq) == 0:
        return 0
    hidden = (flag.to_numpy() != "").astype(np.float64)
    return int((np.bincount(eq, weights=hidden[cell]) == 1).sum())
