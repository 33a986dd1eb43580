"""Disclosure control over a count cube: primary and complementary cell suppression.

A cube is a table of count cells keyed by dimension values, where some cells are sums of
others (a district total is the sum of districts, a year the sum of its months, ...). Each
such relation is an *equation* `parent = child_1 + ... + child_k`. Publishing every cell of an
equation but one would let anyone recover the hidden one by subtraction, so:

1. primary: every count 1..min_cell-1 is hidden (0 is shown: "none" discloses no person);
2. complementary: further non-zero cells are hidden until the rules of `suppress` hold.

Cells absent from the cube are zeros and count as shown. Because zeros are always shown,
anyone knows a hidden count is at least 1; the result is checked as such an attacker would
check it (`bounds`): from every shown cell and every equation, how small and how large can
each hidden count be? A hidden count under min_cell must keep at least MIN_RANGE possible
values, and a hidden cell the published numbers pin down anyway is shown. tests/
test_suppress.py and tests/test_pipeline.py attack the result with linear programming,
independently of this module.

The loops over equations and cells run compiled (numba): the cube built from 5,000,000
calls has some 280,000 cells in 470,000 equations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

SUPPRESSED = "suppressed"
# The fewest possible values an attacker may be left with for any hidden count: knowing it
# is "1, 2, 3, 4 or 5" is the narrowest allowed.
MIN_RANGE = 5
# How many equations back a range may be widened from (see `_pick`), and how far back to
# look where there is nothing to hide that near.
BACK_STEPS = 2
MAX_BACK_STEPS = 8


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
    factors = {d: pd.factorize(cells[d]) for d in dims}
    codes = {d: f[0].astype(np.int64) for d, f in factors.items()}
    code_of = {d: {v: i for i, v in enumerate(f[1])} for d, f in factors.items()}
    cards = {d: len(factors[d][1]) or 1 for d in dims}
    for eq in equations:
        member_codes = [code_of[eq.dim][m] for m in (eq.parent,) + eq.children
                        if m in code_of[eq.dim]]
        mask = np.isin(codes[eq.dim], member_codes)
        for d, v in eq.where:
            mask &= codes[d] == code_of[d].get(v, -2)
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
        roles.append(codes[eq.dim][idx] == code_of[eq.dim].get(eq.parent, -2))
        next_id += len(uniq)
    if not eq_ids:
        empty = np.zeros(0, np.int64)
        return (empty, empty, empty.astype(bool)) if with_roles else (empty, empty)
    out = (np.concatenate(eq_ids), np.concatenate(cell_ids))
    return out + (np.concatenate(roles),) if with_roles else out


class _Index:
    """The membership pairs sorted two ways, to reach an equation's cells or a cell's
    equations without scanning every pair."""

    def __init__(self, eq: np.ndarray, cell: np.ndarray, is_parent: np.ndarray,
                 n_eq: int, n_cells: int):
        by_eq = np.argsort(eq, kind="stable")
        self.eq_cell, self.eq_parent = cell[by_eq], is_parent[by_eq]
        self.eq_ptr = np.searchsorted(eq[by_eq], np.arange(n_eq + 1))
        by_cell = np.argsort(cell, kind="stable")
        self.cell_eq, self.cell_parent = eq[by_cell], is_parent[by_cell]
        self.cell_ptr = np.searchsorted(cell[by_cell], np.arange(n_cells + 1))


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


# "No bound": large enough that no sum of counts reaches it, small enough that sums of a
# few of them stay exact in floating point, so bounds need no special cases for infinity.
NO_BOUND = float(2 ** 40)


@numba.njit(cache=True, nogil=True)
def _sums(e, lo, hi, eq_ptr, eq_cell, eq_parent):
    """The smallest and largest values of equation e's signed sum, sign -1 for the parent:
    children add their bounds, the parent takes its bounds away."""
    sum_min = 0.0
    sum_max = 0.0
    for k in range(eq_ptr[e], eq_ptr[e + 1]):
        c = eq_cell[k]
        if eq_parent[k]:
            sum_min -= hi[c]
            sum_max -= lo[c]
        else:
            sum_min += lo[c]
            sum_max += hi[c]
    return sum_min, sum_max


@numba.njit(cache=True, nogil=True)
def _member_bounds(k, sum_min, sum_max, lo, hi, eq_cell, eq_parent):
    """The bounds an equation (its signed sum in [sum_min, sum_max]) puts on its member k:
    the sum is 0, so a child lies within minus the others' sum, a parent within it."""
    c = eq_cell[k]
    if eq_parent[k]:
        new_lo, new_hi = sum_min + hi[c], sum_max + lo[c]
    else:
        new_lo, new_hi = -(sum_max - hi[c]), -(sum_min - lo[c])
    return max(new_lo, -NO_BOUND), (NO_BOUND if new_hi > NO_BOUND / 2 else new_hi)


@numba.njit(cache=True, nogil=True)
def _propagate(lo, hi, eq_ptr, eq_cell, eq_parent, cell_ptr, cell_eq, max_updates):
    """Interval propagation to its fixed point, one equation at a time from a queue of
    equations whose members' bounds have changed. Returns how many bounds moved, -1 if
    more than max_updates."""
    n_eq = len(eq_ptr) - 1
    # only an equation with a hidden member can move a bound (a shown cell's never moves)
    queue = np.empty(n_eq, np.int64)
    queued = np.zeros(n_eq, np.bool_)
    size = 0
    for e in range(n_eq):
        for k in range(eq_ptr[e], eq_ptr[e + 1]):
            if lo[eq_cell[k]] < hi[eq_cell[k]]:
                queue[size] = e
                queued[e] = True
                size += 1
                break
    head = 0
    updates = 0
    while size > 0:
        e = queue[head]
        head = (head + 1) % n_eq
        size -= 1
        queued[e] = False
        sum_min, sum_max = _sums(e, lo, hi, eq_ptr, eq_cell, eq_parent)
        for k in range(eq_ptr[e], eq_ptr[e + 1]):
            c = eq_cell[k]
            new_lo, new_hi = _member_bounds(k, sum_min, sum_max, lo, hi, eq_cell, eq_parent)
            moved = False
            if new_lo > lo[c] + 0.5:
                lo[c] = np.round(new_lo)
                moved = True
            if new_hi < hi[c] - 0.5:
                hi[c] = np.round(new_hi)
                moved = True
            if moved:
                updates += 1
                if updates > max_updates:
                    return -1
                for j in range(cell_ptr[c], cell_ptr[c + 1]):
                    f = cell_eq[j]
                    if not queued[f]:
                        queued[f] = True
                        queue[(head + size) % n_eq] = f
                        size += 1
    return updates


@numba.njit(cache=True, nogil=True)
def _implied(lo, hi, eq_ptr, eq_cell, eq_parent):
    """For every (equation, member) pair, in equation order, the bounds that equation
    alone puts on the member."""
    p_lo = np.empty(len(eq_cell))
    p_hi = np.empty(len(eq_cell))
    for e in range(len(eq_ptr) - 1):
        sum_min, sum_max = _sums(e, lo, hi, eq_ptr, eq_cell, eq_parent)
        for k in range(eq_ptr[e], eq_ptr[e + 1]):
            p_lo[k], p_hi[k] = _member_bounds(k, sum_min, sum_max, lo, hi, eq_cell, eq_parent)
    return p_lo, p_hi


def bounds(values: np.ndarray, hidden: np.ndarray, eq: np.ndarray, cell: np.ndarray,
           is_parent: np.ndarray, n_eq: int, lower: int = 1, max_updates: int = 200_000_000,
           ix: _Index | None = None):
    """What an attacker can say of each hidden cell from the equations alone: the smallest
    and largest value consistent with every shown cell, each hidden cell at least `lower`
    (zeros are always shown, so a hidden count is at least 1). Interval propagation: each
    equation bounds each member by the other members, until nothing tightens (the same
    bounds whatever the order, so the queue's order does not matter). A shown cell's bounds
    are its value and never move. `ix`: the membership already indexed, if at hand.

    Returns (lo, hi, pairs): `pairs` holds, for every (equation, member), the equation id,
    the cell, and the lower and upper bounds that equation alone puts on the cell once the
    bounds have settled.
    """
    ix = ix or _Index(eq, cell, is_parent, n_eq, len(values))
    lo = np.where(hidden, float(lower), values.astype(np.float64))
    hi = np.where(hidden, NO_BOUND, values.astype(np.float64))
    if _propagate(lo, hi, ix.eq_ptr, ix.eq_cell, ix.eq_parent, ix.cell_ptr, ix.cell_eq,
                  max_updates) < 0:
        raise RuntimeError("bounds did not settle")
    p_lo, p_hi = _implied(lo, hi, ix.eq_ptr, ix.eq_cell, ix.eq_parent)
    return lo, hi, (np.repeat(np.arange(n_eq), np.diff(ix.eq_ptr)), ix.eq_cell, p_lo, p_hi)


def _audit(values: np.ndarray, hidden: np.ndarray, eq: np.ndarray, cell: np.ndarray,
           is_parent: np.ndarray, n_eq: int, min_range: int, min_cell: int, ix: _Index):
    """Equations that need more hidden cells, seen as an attacker would: first chains of
    single-unknown equations (`peel`), then bounds from every equation with hidden counts
    known to be at least 1 (`bounds`): each hidden count under `min_cell` must keep
    `min_range` possible values.

    Returns (deficit, upstream, pinned): for each equation how far the ranges it gives must
    widen (0 where it is fine); (cell, equation, sets its upper bound, sets its lower
    bound) arrays, to go back along; and the hidden cells the attacker can pin.
    """
    deficit = np.zeros(n_eq, np.float64)
    small = values < min_cell
    found, via = peel(hidden, eq, cell, n_eq)
    if (found & small).any():
        deficit[via[found & small]] = 1.0
        cells_found = np.nonzero(found)[0]
        every = np.ones(len(cells_found), bool)
        return deficit, (cells_found, via[found], every, every), found
    lo, hi, pairs = bounds(values, hidden, eq, cell, is_parent, n_eq, ix=ix)
    # the hidden members: a shown cell's bounds are its own value
    keep = hidden[pairs[1]]
    p_eq, p_cell, p_lo, p_hi = (a[keep] for a in pairs)
    # for each hidden small count with too few possible values, the first equation that
    # gives its upper bound; hiding a cell of value v in it raises that bound by v - 1
    need_hi = lo + (min_range - 1)
    bad = np.nonzero(small[p_cell] & (p_hi < need_hi[p_cell]) & (p_hi < hi[p_cell] + 0.5))[0]
    bad = bad[np.unique(p_cell[bad], return_index=True)[1]]
    np.maximum.at(deficit, p_eq[bad], need_hi[p_cell[bad]] - p_hi[bad])
    # what binds each hidden cell: for a parent, the equations giving its upper bound (a
    # child's upper bound is its parent's less its siblings'); for a child, those that
    # raised its lower bound above 1
    binding_hi = (p_hi < NO_BOUND) & (p_hi < hi[p_cell] + 0.5)
    binding_lo = (lo[p_cell] > 1.5) & (p_lo > lo[p_cell] - 0.5)
    return deficit, (p_cell, p_eq, binding_hi, binding_lo), hidden & (hi - lo < 0.5)


@numba.njit(cache=True, nogil=True)
def _gather(e, reach, hidden, values, eq_ptr, eq_cell, eq_parent, hi_ptr, hi_eq, lo_ptr,
            lo_eq, out, st_e, st_m, st_hi, st_d):
    """Into `out`, the shown non-zero cells that would widen equation e's ranges when
    hidden: e's own, and those of the equations up to `reach` steps back that set the
    bounds of its hidden members. Returns how many (with repeats).

    A hidden member's range widens as its upper bound rises or its lower bound falls; a
    bound is set by other equations (hi_*, lo_*: per cell, the equations that set it). In
    such an equation the member's upper bound rises with its parent's upper bound, with
    its children's when the member is the parent, and as its siblings' lower bounds fall.
    """
    cap = len(out)
    n_out = 0
    top = 0  # a stack of (equation came from, member, raise its upper bound, steps left)
    for k in range(eq_ptr[e], eq_ptr[e + 1]):
        x = eq_cell[k]
        if not hidden[x]:
            if values[x] > 0:
                out[n_out] = x
                n_out += 1
        elif reach > 0:
            for rh in (True, False):
                st_e[top], st_m[top], st_hi[top], st_d[top] = e, x, rh, reach - 1
                top += 1
    while top > 0:
        top -= 1
        came, m, rh, d = st_e[top], st_m[top], st_hi[top], st_d[top]
        ptr, eqs = (hi_ptr, hi_eq) if rh else (lo_ptr, lo_eq)
        for j in range(ptr[m], ptr[m + 1]):
            b = eqs[j]
            if b == came:
                continue
            m_is_parent = False
            for k in range(eq_ptr[b], eq_ptr[b + 1]):
                if eq_cell[k] == m:
                    m_is_parent = eq_parent[k]
            for k in range(eq_ptr[b], eq_ptr[b + 1]):
                x = eq_cell[k]
                if x == m:
                    continue
                if not hidden[x]:
                    if values[x] > 0 and n_out < cap:
                        out[n_out] = x
                        n_out += 1
                elif d > 0 and top < cap:
                    x_hi = rh if (m_is_parent or eq_parent[k]) else not rh
                    st_e[top], st_m[top], st_hi[top], st_d[top] = b, x, x_hi, d - 1
                    top += 1
    return n_out


@numba.njit(cache=True, nogil=True)
def _pick(needy, deficit, hidden, values, rank, eq_ptr, eq_cell, eq_parent, hi_ptr, hi_eq,
          lo_ptr, lo_eq, depth, max_depth):
    """For each needy equation, the cells to hide, from its own and those `depth` steps
    back (further, up to `max_depth`, where there are none): finest then smallest first,
    until their values (less 1 each) cover its deficit."""
    picked = np.zeros(len(hidden), np.bool_)
    cap = 1_000_000
    out = np.empty(cap, np.int64)
    st_e, st_m, st_d = np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64)
    st_hi = np.empty(cap, np.bool_)
    for e in needy:
        n_out = 0
        reach = depth
        while n_out == 0 and reach <= max_depth:
            n_out = _gather(e, reach, hidden, values, eq_ptr, eq_cell, eq_parent, hi_ptr,
                            hi_eq, lo_ptr, lo_eq, out, st_e, st_m, st_hi, st_d)
            reach += 1
        if n_out == 0:
            continue
        cand = np.unique(out[:n_out])  # sorted by cell
        key = rank[cand] * np.int64(2 ** 40) + values[cand]
        gained = 0.0
        for i in np.argsort(key, kind="mergesort"):  # by rank, then value, then cell
            c = cand[i]
            picked[c] = True
            gained += max(values[c] - 1, 0)
            if gained >= deficit[e]:
                break
    return np.nonzero(picked)[0]


@numba.njit(cache=True, nogil=True)
def _by_cell(cells, eqs, keep, n_cells):
    """(ptr, equations): the kept equations of each cell, cell c's at ptr[c]:ptr[c + 1]."""
    ptr = np.zeros(n_cells + 1, np.int64)
    for i in range(len(cells)):
        if keep[i]:
            ptr[cells[i] + 1] += 1
    for c in range(n_cells):
        ptr[c + 1] += ptr[c]
    out = np.empty(ptr[n_cells], np.int64)
    fill = ptr[:-1].copy()
    for i in range(len(cells)):
        if keep[i]:
            out[fill[cells[i]]] = eqs[i]
            fill[cells[i]] += 1
    return ptr, out


@numba.njit(cache=True, nogil=True)
def _hide(c, hidden, values, cell_ptr, cell_eq, cell_parent, hidden_n, hidden_child_sum,
          parent_shown):
    """Hide cell c and update its equations' tallies."""
    hidden[c] = True
    for j in range(cell_ptr[c], cell_ptr[c + 1]):
        f = cell_eq[j]
        hidden_n[f] += 1
        if cell_parent[j]:
            parent_shown[f] = False
        else:
            hidden_child_sum[f] += values[c]


@numba.njit(cache=True, nogil=True)
def _hide_all(cells, hidden, values, cell_ptr, cell_eq, cell_parent, hidden_n,
              hidden_child_sum, parent_shown):
    for c in cells:
        _hide(c, hidden, values, cell_ptr, cell_eq, cell_parent, hidden_n, hidden_child_sum,
              parent_shown)


@numba.njit(cache=True, nogil=True)
def _new_lone(c, e, cell_ptr, cell_eq, hidden_n):
    """In how many of cell c's equations (other than e) hiding c would leave c the only
    hidden cell: each of them would need another complement."""
    n = 0
    for j in range(cell_ptr[c], cell_ptr[c + 1]):
        if cell_eq[j] != e and hidden_n[cell_eq[j]] == 0:
            n += 1
    return n


@numba.njit(cache=True, nogil=True)
def _settle(hidden, values, rank, eq_ptr, eq_cell, cell_ptr, cell_eq, cell_parent, hidden_n,
            hidden_child_sum, parent_shown, min_cell):
    """Hide cells until no equation has exactly one hidden cell and, under every shown
    total, the hidden cells add up to at least min_cell. Equations are taken from a queue;
    a needy one hides its finest shown non-zero cell, then the one whose hiding leaves the
    fewest other equations with a lone hidden cell, then the smallest. Returns -1, or an
    equation with nothing left to hide."""
    n_eq = len(eq_ptr) - 1
    queue = np.empty(n_eq, np.int64)
    queued = np.ones(n_eq, np.bool_)
    for e in range(n_eq):
        queue[e] = e
    head = 0
    size = n_eq
    while size > 0:
        e = queue[head]
        head = (head + 1) % n_eq
        size -= 1
        queued[e] = False
        while hidden_n[e] == 1 or (parent_shown[e] and hidden_n[e] >= 1 and
                                   hidden_child_sum[e] < min_cell):
            best = -1
            best_lone = 0
            for k in range(eq_ptr[e], eq_ptr[e + 1]):
                c = eq_cell[k]
                if hidden[c] or values[c] <= 0:
                    continue
                lone = _new_lone(c, e, cell_ptr, cell_eq, hidden_n)
                if best < 0 or (rank[c], lone, values[c], c) < (rank[best], best_lone, values[best], best):
                    best = c
                    best_lone = lone
            if best < 0:
                return e
            _hide(best, hidden, values, cell_ptr, cell_eq, cell_parent, hidden_n,
                  hidden_child_sum, parent_shown)
            for j in range(cell_ptr[best], cell_ptr[best + 1]):
                f = cell_eq[j]
                if not queued[f] and f != e:
                    queued[f] = True
                    queue[(head + size) % n_eq] = f
                    size += 1
    return -1


def suppress(cells: pd.DataFrame, dims: list[str], equations: list[Equation],
             value: str = "n", min_cell: int = 11, max_rounds: int = 5000,
             coarseness: np.ndarray | None = None, min_range: int = MIN_RANGE) -> pd.Series:
    """A flag per cell: '' shown or 'suppressed'.

    Hidden cells carry one flag whatever the reason, as statistical agencies do, so the flag
    tells no one which hidden cells are the small ones. `coarseness` ranks cells (0 = the
    finest, least-read); complements are taken from the finest cells of an equation first,
    then the smallest, so totals readers rely on stay shown wherever a finer cell can serve.

    Rules, repeated until all hold:
    - no equation has exactly one hidden cell;
    - under a shown total, the hidden cells add up to at least `min_cell`;
    - no hidden count under `min_cell` can be worked out through a chain of equations
      (`peel`), or, knowing every hidden count is at least 1, narrowed to fewer than
      `min_range` possible values by carrying bounds through the equations (`bounds`).
    The first two are settled equation by equation (`_settle`); then the attacker's view is
    taken (`_audit`) and, where it sees too much, more cells are hidden (`_pick`).
    Finally a hidden cell the published numbers pin down anyway (never a small count) is
    shown: it tells no one anything new.
    """
    values = cells[value].to_numpy(dtype=np.int64)
    rank = np.zeros(len(cells), np.int64) if coarseness is None else np.asarray(coarseness, np.int64)
    hidden = (values >= 1) & (values < min_cell)
    eq, cell, is_parent = equations_membership(cells, dims, equations, with_roles=True)
    n_eq = int(eq.max()) + 1 if len(eq) else 0
    parent_of = _parent_of(eq, cell, is_parent, n_eq)
    rank = _twin_ranks(values, rank, eq, cell, is_parent, parent_of)
    ix = _Index(eq, cell, is_parent, n_eq, len(cells))
    # per equation, kept up to date as cells are hidden: hidden members, hidden children's
    # sum, whether the parent is shown
    h = hidden[cell]
    hidden_n = np.bincount(eq, weights=h, minlength=n_eq).astype(np.int64)
    hidden_child_sum = np.bincount(eq, weights=h * ~is_parent * values[cell],
                                   minlength=n_eq).astype(np.int64)
    parent_shown = np.ones(n_eq, np.bool_)
    has_parent = parent_of >= 0
    parent_shown[has_parent] = ~hidden[parent_of[has_parent]]
    tallies = (ix.cell_ptr, ix.cell_eq, ix.cell_parent, hidden_n, hidden_child_sum, parent_shown)
    for _ in range(max_rounds):
        # the rules that need no attacker's view first, one equation at a time
        stuck = _settle(hidden, values, rank, ix.eq_ptr, ix.eq_cell, *tallies, min_cell)
        if stuck >= 0:
            raise RuntimeError("an equation needs another hidden cell but has none left to hide")
        deficit, upstream, pinned = _audit(values, hidden, eq, cell, is_parent, n_eq, min_range,
                                           min_cell, ix)
        if not deficit.any():
            # a hidden count the published numbers pin down anyway (never a small one, by
            # now) tells no one anything new when shown: show it
            hidden &= ~pinned
            break
        up_cell, up_eq, up_hi, up_lo = upstream
        # A range can also be widened a step or two back, by loosening what bounds the
        # equation's hidden members. Those cells compete with the equation's own, so a
        # headline total is not hidden where a finer cell further back would do; an
        # equation with nothing left to hide goes further back.
        needy = np.nonzero(deficit > 0)[0]
        binding = [*_by_cell(up_cell, up_eq, up_hi, len(values)),
                   *_by_cell(up_cell, up_eq, up_lo, len(values))]
        new = _pick(needy, deficit, hidden, values, rank, ix.eq_ptr, ix.eq_cell, ix.eq_parent,
                    *binding, BACK_STEPS, MAX_BACK_STEPS)
        if len(new) == 0:
            raise RuntimeError("an equation needs another hidden cell but has none left to hide")
        _hide_all(new, hidden, values, *tallies)
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
