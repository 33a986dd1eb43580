"""Disclosure control by alternative tables: no hidden small count can be worked out.

A published table is a grid: every cell is a sum of *leaves* (calls of one month, one place,
one call type group, one item), and a cell's node in each dimension says which leaves it
sums (a quarter holds three months, 'all' every district). An outsider who reads the public
file knows every shown cell, which cells are hidden, and what the publishing rules imply
(a hidden count is at least 1; a row left out for having fewer than 20 calls holds 0 to 19).
From that alone, how far can they narrow a hidden count of 1 to 10?

They cannot narrow it below `min_range` possible values if there are two tables, both
consistent with everything published, in which the count differs by `min_range` - 1. Such
a pair is a *certificate*, and this module finds one for every small count it does not
show, by construction, before it publishes:

- A *cube* moves s calls between two leaves in each of several dimensions (from month a to
  month b, from district d to district d', from 'civilian' to 'unserved'): every published
  cell that holds the leaves unevenly changes by s, every other cell keeps its value, so
  every total and every roll-up still adds up. If every changed cell is unknown to the
  outsider and has room (a hidden count stays >= 1, a left-out row's count stays <= 19),
  both the true table and the moved one are consistent with the file. This is the
  hypercube method of statistical offices (Repsilber's GHMITER, in tau-Argus) stated as
  alternative tables, with the room checked against what an outsider knows.
- Where no single cube has room, several are chained, each from the table the last one
  left; where cubes are dear, the outsider's own linear program (HiGHS) is asked whether
  the count is already wide open given what is unknown anyway.
- Several cubes protect each count; which to use is one small integer program per grid
  (scipy's HiGHS MILP): as few published rates as possible lost, weighted by how much
  readers rely on them, with a share of each kind of row (city months, district quarters...)
  to keep.

Cells are hidden, never altered: every shown figure is exact. tests/attack.py attacks the
public file with linear programming and shares no code with this module.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import highspy
import numba
import numpy as np
from scipy.sparse import coo_matrix

log = logging.getLogger(__name__)

# The fewest possible values an outsider may be left with for a hidden small count: knowing
# it is "1, 2, 3, 4 or 5" is the narrowest allowed (SPEC section 5).
MIN_RANGE = 5
UNBOUNDED = float(2 ** 40)
# cubes kept per count before the integer program chooses
CANDIDATES = 48
# how many leaves b a cube may pair with each leaf a in one dimension (nearest first)
PAIRS = 40
# The complement choice's integer program stops at its best solution after this many
# branch-and-bound nodes (or within 1% of optimal). A node limit, not a time limit: the same
# warehouse must give the same public file on any machine under any load (a time limit made
# a rebuild on a busy CI runner hide different cells). The time limit is only a safety net;
# when it is hit the deterministic greedy choice is used instead of whatever was found.
MILP_NODES = 500
MILP_SAFETY_SECONDS = 120.0


@dataclass(frozen=True)
class Dim:
    """One dimension of a grid: the nodes cells may hold, the leaves they sum, and, for the
    outsider's equations, how nodes split into others (a quarter into its months).

    `ancestors[i]`: the nodes holding leaf i (its own node, if it has one, included).
    `partitions[n]`: lists of nodes that exactly split node n.
    """
    name: str
    nodes: tuple[str, ...]
    leaves: tuple[str, ...]
    ancestors: tuple[tuple[int, ...], ...]
    partitions: tuple[tuple[tuple[int, ...], ...], ...]
    _options: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def index(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.nodes)}

    def leaves_of(self, node: int) -> list[int]:
        return [i for i, a in enumerate(self.ancestors) if node in a]

    def options(self, node: int, pairs: int = PAIRS):
        """The ways a cube can change `node` in this dimension, packed for the search: one
        leaf a under it (every node holding a changes by +1), or a with another leaf b not
        under it (nodes holding a but not b +1, b but not a -1; shared ones unchanged).
        Pairs that change fewest nodes first, at most `pairs` of them."""
        if (node, pairs) not in self._options:
            inside = self.leaves_of(node)
            inside_set = set(inside)
            outside = [i for i in range(len(self.leaves)) if i not in inside_set]
            out = [(list(self.ancestors[a]), [1] * len(self.ancestors[a])) for a in inside]
            pairs_ = []
            for a in inside:
                sa = set(self.ancestors[a])
                for b in outside:
                    sb = set(self.ancestors[b])
                    plus, minus = sorted(sa - sb), sorted(sb - sa)
                    pairs_.append((len(plus) + len(minus), a, b, plus + minus,
                                   [1] * len(plus) + [-1] * len(minus)))
            pairs_.sort(key=lambda p: p[:3])
            out += [(n, s) for *_, n, s in pairs_[:pairs]]
            ptr = np.zeros(len(out) + 1, np.int64)
            nodes: list[int] = []
            signs: list[int] = []
            for i, (n, s) in enumerate(out):
                nodes += n
                signs += s
                ptr[i + 1] = len(nodes)
            self._options[node, pairs] = (ptr, np.array(nodes, np.int64),
                                          np.array(signs, np.int64))
        return self._options[node, pairs]


def single_dim(name: str, label: str = "all") -> Dim:
    """A dimension of one node that is its own leaf (grids have four dimensions)."""
    return Dim(name, (label,), (label,), ((0,),), ((),))


def tree_dim(name: str, children: dict[str, list[str]], leaves: list[str] | None = None) -> Dim:
    """A dimension from a tree: `children` maps each inner node to its children; leaves are
    the nodes with no children (or `leaves`, for leaves that are not nodes of their own)."""
    nodes = list(dict.fromkeys([*children] + [c for cs in children.values() for c in cs]))
    parent = {c: p for p, cs in children.items() for c in cs}
    leaf_names = leaves or [n for n in nodes if n not in children]
    idx = {n: i for i, n in enumerate(nodes)}
    ancestors = []
    for leaf in leaf_names:
        chain, n = [], leaf
        while n is not None:
            if n in idx:
                chain.append(idx[n])
            n = parent.get(n)
        ancestors.append(tuple(chain))
    partitions = tuple(((tuple(idx[c] for c in children[n]),) if n in children else ())
                       for n in nodes)
    return Dim(name, tuple(nodes), tuple(leaf_names), tuple(ancestors), partitions)


@dataclass
class Grid:
    """Cells over four dimensions and what an outsider knows of each.

    coords: (n, 4) node ids. value: true counts. published: the cell is printed (shown or
    marked hidden); cells of rows left out are not. lower/upper: what an outsider knows of
    the cell when it is not shown (a hidden published count >= 1; a count in a row left out
    for being under 20, 0 to 19; a cell of a grain not published, >= 0). fixed: decided by
    another grid and shown there, so it may not change. given_unknown: unknown by another
    grid's decision (it may change; it is protected there).
    printed: the cell's row is printed, its counts shown, hidden, or left out as under the
    minimum denominator (by default, the published cells); every small count of a printed
    row is protected.
    row: the published row a cell belongs to (hiding any rate cell of a row loses the row's
    rate); -1 for cells that cost nothing to hide. unit: the printed row a cell is in (by
    default its cost row): where no certificate can be found for a count, its whole printed
    row is withdrawn (printed as not published at this grain) and the search runs again.
    """
    dims: list[Dim]
    coords: np.ndarray
    value: np.ndarray
    published: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    row: np.ndarray
    fixed: np.ndarray | None = None
    given_unknown: np.ndarray | None = None
    unit: np.ndarray | None = None
    printed: np.ndarray | None = None

    def __post_init__(self):
        n = len(self.value)
        self.value = np.asarray(self.value, np.float64)
        self.published = np.asarray(self.published, bool).copy()
        self.lower = np.asarray(self.lower, np.float64).copy()
        self.upper = np.asarray(self.upper, np.float64).copy()
        self.unit = np.asarray(self.row if self.unit is None else self.unit, np.int64)
        self.printed = np.asarray(self.published if self.printed is None else self.printed,
                                  bool).copy()
        self.fixed = np.zeros(n, bool) if self.fixed is None else np.asarray(self.fixed, bool)
        self.given_unknown = (np.zeros(n, bool) if self.given_unknown is None
                              else np.asarray(self.given_unknown, bool))
        shape = tuple(len(d.nodes) for d in self.dims)
        self.cell_of = np.full(shape, -1, np.int64)
        self.cell_of[tuple(np.asarray(self.coords).T)] = np.arange(n)

    def equations(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(equation, cell, is_parent): node = sum of the nodes that split it, along each
        dimension, wherever the parent and every part are cells."""
        eqs, cells, parents = [], [], []
        next_id = 0
        coords = np.asarray(self.coords)
        for k, dim in enumerate(self.dims):
            for node, parts_list in enumerate(dim.partitions):
                for parts in parts_list:
                    top = np.nonzero(coords[:, k] == node)[0]
                    if len(top) == 0:
                        continue
                    members = [top]
                    ok = np.ones(len(top), bool)
                    for part in parts:
                        c = coords[top].copy()
                        c[:, k] = part
                        ids = self.cell_of[tuple(c.T)]
                        ok &= ids >= 0
                        members.append(ids)
                    sel = np.nonzero(ok)[0]
                    if len(sel) == 0:
                        continue
                    ids = np.arange(next_id, next_id + len(sel))
                    next_id += len(sel)
                    for j, m in enumerate(members):
                        eqs.append(ids)
                        cells.append(m[sel])
                        parents.append(np.full(len(sel), j == 0))
        if not eqs:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty.astype(bool)
        return np.concatenate(eqs), np.concatenate(cells), np.concatenate(parents)


@dataclass
class Costs:
    """What hiding costs: each row's weight, its grain (the kind of row: city by month,
    district by quarter ...), and per grain how many of its rows may be lost before each
    further loss is penalised (`budget`) and by how much (`penalty`)."""
    row_weight: np.ndarray
    row_grain: np.ndarray
    row_allowed: np.ndarray
    grain_budget: np.ndarray
    grain_penalty: np.ndarray


@dataclass
class Protection:
    hidden: np.ndarray          # published cells not shown
    complement: np.ndarray      # of those, hidden to protect others (not small themselves)
    stats: dict
    withdrawn: np.ndarray | None = None   # cells of printed rows withdrawn (no certificate)


class _Unprotectable(Exception):
    def __init__(self, targets: list[int]):
        super().__init__(f"{len(targets)} counts with no certificate")
        self.targets = targets


# ---------------------------------------------------------------- the cube search


@numba.njit(cache=True, nogil=True)
def _top(opts, cell_of, values, unknown, hideable, lower, upper, row, row_lost, row_cost,
         target, need, k_best, chain, sense):
    """The k_best cheapest cubes through `target`, combining one option per dimension.

    A cube's cost is the weight of the rows it would newly lose; it is invalid if it
    changes a cell that is shown and may not be hidden. Its room is how far s can go with
    every changed cell inside what an outsider knows of it; a cube is kept when up + down
    room reaches `need` (or, with `chain`, per unit of room in direction `sense`)."""
    (p0, n0, s0), (p1, n1, s1), (p2, n2, s2), (p3, n3, s3) = opts
    costs = np.full(k_best, 1e300)
    combos = np.full((k_best, 4), -1, np.int64)
    ups = np.zeros(k_best)
    downs = np.zeros(k_best)
    seen_rows = np.empty(512, np.int64)
    worst = 0
    limit = 1e300
    # a chained cube's cost is divided by its room, at most `need`: one whose cost so far,
    # so divided, already reaches the limit cannot be kept
    scale = 1.0 / need if chain else 1.0
    for a in range(len(p0) - 1):
        for b in range(len(p1) - 1):
            for c in range(len(p2) - 1):
                for d in range(len(p3) - 1):
                    total = 0.0
                    n_rows = 0
                    up = 1e300
                    down = 1e300
                    ok = True
                    hit = False
                    for i in range(p0[a], p0[a + 1]):
                        if not ok:
                            break
                        for j in range(p1[b], p1[b + 1]):
                            if not ok:
                                break
                            for k in range(p2[c], p2[c + 1]):
                                if not ok:
                                    break
                                for m in range(p3[d], p3[d + 1]):
                                    x = cell_of[n0[i], n1[j], n2[k], n3[m]]
                                    if x < 0:
                                        continue
                                    sign = s0[i] * s1[j] * s2[k] * s3[m]
                                    if x == target:
                                        hit = True
                                    if not unknown[x]:
                                        if not hideable[x]:
                                            ok = False
                                            break
                                        total += 1e-6
                                        r = row[x]
                                        if r >= 0 and not row_lost[r]:
                                            new = True
                                            for q in range(n_rows):
                                                if seen_rows[q] == r:
                                                    new = False
                                                    break
                                            if new:
                                                if n_rows < 512:
                                                    seen_rows[n_rows] = r
                                                    n_rows += 1
                                                total += row_cost[r]
                                    room_down = values[x] - lower[x]
                                    room_up = upper[x] - values[x]
                                    if sign > 0:
                                        up = min(up, room_up)
                                        down = min(down, room_down)
                                    else:
                                        up = min(up, room_down)
                                        down = min(down, room_up)
                                    if total * scale >= limit:
                                        ok = False
                                        break
                    if not ok or not hit:
                        continue
                    if chain:
                        room = up if sense > 0 else down
                        if room < 1:
                            continue
                        total = total / min(room, need)
                    elif up + down < need:
                        continue
                    if total < limit:
                        costs[worst] = total
                        combos[worst, 0] = a
                        combos[worst, 1] = b
                        combos[worst, 2] = c
                        combos[worst, 3] = d
                        ups[worst] = up
                        downs[worst] = down
                        worst = np.argmax(costs)
                        limit = costs[worst]
    return costs, combos, ups, downs


@numba.njit(cache=True, nogil=True)
def _moved(opts, cell_of, combo):
    """The cells a cube changes, and by +1 or -1 per unit moved."""
    (p0, n0, s0), (p1, n1, s1), (p2, n2, s2), (p3, n3, s3) = opts
    cells = []
    signs = []
    for i in range(p0[combo[0]], p0[combo[0] + 1]):
        for j in range(p1[combo[1]], p1[combo[1] + 1]):
            for k in range(p2[combo[2]], p2[combo[2] + 1]):
                for m in range(p3[combo[3]], p3[combo[3] + 1]):
                    x = cell_of[n0[i], n1[j], n2[k], n3[m]]
                    if x >= 0:
                        cells.append(x)
                        signs.append(s0[i] * s1[j] * s2[k] * s3[m])
    return cells, signs


# ---------------------------------------------------------------- the outsider's LP


class _OutsiderLP:
    """The outsider's linear program over the cells unknown to them: every equation of the
    grid, every shown cell at its value, every unknown one within what they know of it."""

    def __init__(self, grid: Grid, unknown: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                 equations: tuple[np.ndarray, np.ndarray, np.ndarray]):
        eq, cell, is_parent = equations
        idx = np.nonzero(unknown)[0]
        self.var = np.full(len(unknown), -1, np.int64)
        self.var[idx] = np.arange(len(idx))
        n_eq = int(eq.max()) + 1 if len(eq) else 0
        coef = np.where(is_parent, -1.0, 1.0)
        known = ~unknown[cell]
        rhs = -np.bincount(eq, weights=coef * np.where(known, grid.value[cell], 0.0),
                           minlength=n_eq)
        has_unknown = np.bincount(eq, weights=(~known).astype(float), minlength=n_eq) > 0
        rows = np.nonzero(has_unknown)[0]
        row_of = np.full(n_eq, -1, np.int64)
        row_of[rows] = np.arange(len(rows))
        sel = has_unknown[eq] & ~known
        a = coo_matrix((coef[sel], (row_of[eq[sel]], self.var[cell[sel]])),
                       shape=(len(rows), len(idx))).tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(idx), len(rows)
        lp.col_cost_ = np.zeros(len(idx))
        lp.col_lower_ = lower[idx]
        lp.col_upper_ = np.where(upper[idx] >= UNBOUNDED, highspy.kHighsInf, upper[idx])
        lp.row_lower_ = rhs[rows]
        lp.row_upper_ = rhs[rows]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr
        lp.a_matrix_.index_ = a.indices
        lp.a_matrix_.value_ = a.data
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.passModel(lp)
        self.cost = np.zeros(len(idx))
        self.solves = 0

    def solve(self, cells: np.ndarray, sense: int) -> np.ndarray | None:
        """A feasible table at the extreme of the sum of `cells` (values of every unknown
        cell), or None where that sum has no bound."""
        cost = np.zeros_like(self.cost)
        cost[self.var[cells]] = 1.0
        changed = np.nonzero(cost != self.cost)[0]
        if len(changed):
            self.h.changeColsCost(len(changed), changed.astype(np.int32), cost[changed])
            self.cost = cost
        self.h.changeObjectiveSense(highspy.ObjSense.kMaximize if sense > 0
                                    else highspy.ObjSense.kMinimize)
        self.h.run()
        self.solves += 1
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kUnbounded:
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"the outsider's LP did not solve: {self.h.modelStatusToString(status)}")
        return np.asarray(self.h.getSolution().col_value)

    def wide_open(self, targets: np.ndarray, values: np.ndarray, need: float) -> np.ndarray:
        """Which targets an outsider cannot narrow below need + 1 values: from a few tables
        at the extremes of all targets together, then one target at a time. Every table
        the LP returns is consistent with the file, so the spread seen is a certificate."""
        pos = self.var[targets]
        hi = values[targets].copy()
        lo = values[targets].copy()
        unbounded = np.zeros(len(targets), bool)
        for sense in (1, -1):
            x = self.solve(targets, sense)
            if x is None:
                continue
            np.maximum(hi, x[pos], out=hi)
            np.minimum(lo, x[pos], out=lo)
        log.debug("outsider LP: %d of %d counts open after the bulk solves",
                  int((hi - lo >= need - 1e-6).sum()), len(targets))
        t_ind = time.perf_counter()
        for n_done, i in enumerate(np.argsort(hi - lo)):
            if n_done % 200 == 0 and n_done:
                log.debug("outsider LP: %d counts checked, %d solves, %.1f s", n_done, self.solves,
                          time.perf_counter() - t_ind)
            if hi[i] - lo[i] >= need - 1e-6 or unbounded[i]:
                continue
            for sense in (1, -1):
                x = self.solve(targets[i:i + 1], sense)
                if x is None:
                    unbounded[i] = True
                    break
                np.maximum(hi, x[pos], out=hi)
                np.minimum(lo, x[pos], out=lo)
                if hi[i] - lo[i] >= need - 1e-6:
                    break
        return unbounded | (np.floor(hi + 1e-6) - np.ceil(lo - 1e-6) >= need)


class _Neighbourhoods:
    """The outsider's LP around one count at a time: the unknown cells a few equations
    away from it stay unknown, every other cell is taken as known (at its true value).
    An outsider who knew those cells could narrow the count at least as far as one who
    does not, so a count this LP leaves wide open is wide open (a sound certificate, and
    a small LP instead of one over the whole grid)."""

    def __init__(self, grid: Grid, unknown: np.ndarray, depth: int = 3, size: int = 400):
        self.grid, self.unknown, self.depth, self.size = grid, unknown, depth, size
        self.eq, self.cell, self.is_parent = grid.equations()
        order = np.argsort(self.cell, kind="stable")
        self.cell_eq = self.eq[order]
        self.cell_ptr = np.searchsorted(self.cell[order], np.arange(len(unknown) + 1))
        order = np.argsort(self.eq, kind="stable")
        self.eq_cell = self.cell[order]
        self.eq_parent = self.is_parent[order]
        n_eq = int(self.eq.max()) + 1 if len(self.eq) else 0
        self.eq_ptr = np.searchsorted(self.eq[order], np.arange(n_eq + 1))
        self.solves = 0

    def around(self, t: int) -> np.ndarray:
        seen = {t}
        frontier = [t]
        for _ in range(self.depth):
            nxt = []
            for c in frontier:
                for e in self.cell_eq[self.cell_ptr[c]:self.cell_ptr[c + 1]]:
                    for m in self.eq_cell[self.eq_ptr[e]:self.eq_ptr[e + 1]]:
                        if self.unknown[m] and m not in seen:
                            seen.add(int(m))
                            nxt.append(int(m))
                            if len(seen) >= self.size:
                                return np.array(sorted(seen))
            frontier = nxt
        return np.array(sorted(seen))

    def wide_open(self, t: int, lower: np.ndarray, upper: np.ndarray, need: float) -> bool:
        cells = self.around(t)
        unknown = np.zeros(len(self.unknown), bool)
        unknown[cells] = True
        values = self.grid.value
        touched = np.unique(self.cell_eq[np.concatenate(
            [np.arange(self.cell_ptr[c], self.cell_ptr[c + 1]) for c in cells])]) \
            if len(cells) else np.zeros(0, np.int64)
        sel = np.isin(self.eq, touched)
        eqs = (np.unique(self.eq[sel], return_inverse=True)[1], self.cell[sel], self.is_parent[sel])
        lp = _OutsiderLP(self.grid, unknown, np.where(unknown, lower, values),
                         np.where(unknown, upper, values), eqs)
        hi = lp.solve(np.array([t]), 1)
        self.solves += 1
        if hi is None:
            return True
        lo = lp.solve(np.array([t]), -1)
        self.solves += 1
        j = lp.var[t]
        return bool(np.floor(hi[j] + 1e-6) - np.ceil(lo[j] - 1e-6) >= need)


# ---------------------------------------------------------------- protect


def protect(grid: Grid, costs: Costs, min_cell: int, min_range: int = MIN_RANGE,
            candidates: int = CANDIDATES, pairs: int = PAIRS,
            outsider_lp: bool = True) -> Protection:
    """Which published cells to hide so that no small count not shown can be narrowed to
    fewer than `min_range` values; the cheapest such set found (see the module docstring).
    Counts from 1 to min_cell - 1 are never shown. Where no certificate exists for a count
    (every way round it runs into zeros, which are always shown), its printed row is
    withdrawn and the search runs again."""
    withdrawn = np.zeros(len(grid.value), bool)
    # what one attempt learnt of each count (its cubes, or that it is open anyway) holds in
    # the next: withdrawing rows only makes cells unknown and widens what an outsider
    # allows of them, so a cube that had room still has it and an open count stays open
    memo: dict = {"open": set(), "found": {}, "chained": set()}
    for attempt in range(20):
        try:
            prot = _protect_once(grid, costs, min_cell, min_range, candidates, pairs, outsider_lp,
                                 memo)
        except _Unprotectable as exc:
            targets = np.asarray(exc.targets, np.int64)
            # the rows readers rely on least go first: withdrawing them may free the others
            # (a lone count's district or call type row before the city's)
            printed = targets[grid.printed[targets]]
            if len(printed):
                r = grid.row[printed]
                w = np.where(r >= 0, costs.row_weight[np.clip(r, 0, None)], 0.0) if len(
                    costs.row_weight) else np.zeros(len(printed))
                printed = printed[w <= w.min() * (1 + 1e-9)]
            units = np.unique(grid.unit[np.r_[printed, targets[~grid.printed[targets]]]])
            out = np.isin(grid.unit, units) & grid.printed & ~grid.fixed
            # a count outside any printed row that an equation singles out (the rest of a
            # printed total): the rows of that equation's printed members are withdrawn
            lone = targets[~grid.printed[targets]]
            if len(lone):
                eq, cell, _ = grid.equations()
                eqs = np.unique(eq[np.isin(cell, lone)])
                members = cell[np.isin(eq, eqs)]
                units = np.unique(grid.unit[members[grid.printed[members]]])
                out |= np.isin(grid.unit, units) & grid.printed & ~grid.fixed
            if not out.any():
                raise RuntimeError(
                    "disclosure control found no way to protect some counts even with their "
                    f"rows withdrawn ({grid.dims[0].name}): report this with the run log; no "
                    "public file was written") from exc
            log.debug("protect: %d rows withdrawn (no certificate), attempt %d", len(units),
                      attempt + 1)
            withdrawn |= out
            grid.published[out] = False
            grid.printed[out] = False
            grid.lower[out] = 0.0
            grid.upper[out] = UNBOUNDED
            continue
        prot.withdrawn = withdrawn
        prot.stats["withdrawn"] = int(withdrawn.sum())
        return prot
    raise RuntimeError("disclosure control did not settle: report this with the run log")


def _protect_once(grid: Grid, costs: Costs, min_cell: int, min_range: int,
                  candidates: int, pairs: int, outsider_lp: bool, memo: dict) -> Protection:
    """One attempt; `memo` carries what earlier attempts learnt (see protect)."""
    t0 = time.perf_counter()
    n = len(grid.value)
    values = grid.value
    small = (values >= 1) & (values < min_cell)
    if min_cell <= 1:
        return Protection(np.zeros(n, bool), np.zeros(n, bool), {"targets": 0})
    primary = grid.published & small & ~grid.given_unknown & ~grid.fixed
    unknown0 = primary | ~grid.published | grid.given_unknown
    unknown0 &= ~grid.fixed
    lower = np.asarray(grid.lower, np.float64)
    upper = np.asarray(grid.upper, np.float64)
    hideable = grid.published & (values > 0) & ~grid.fixed & ~unknown0
    n_rows = int(costs.row_weight.shape[0])
    row = np.asarray(grid.row, np.int64)
    row_lost = np.zeros(max(n_rows, 1), np.bool_)
    lost_rows = row[unknown0 & grid.published & (row >= 0)]
    row_lost[lost_rows] = True
    weight = np.asarray(costs.row_weight, np.float64) if n_rows else np.zeros(1)
    need = float(min_range - 1)
    targets = np.nonzero(small & unknown0 & ~grid.given_unknown
                         & (grid.printed | _residual(grid, primary & grid.printed)))[0]
    stats = {"cells": n, "targets": int(len(targets)), "free": 0, "lp_free": 0,
             "candidates": 0, "chained": 0}
    if len(targets) == 0:
        return Protection(primary.copy(), np.zeros(n, bool), stats)

    def opts_of(t):
        return tuple(grid.dims[k].options(int(grid.coords[t, k]), pairs) for k in range(4))

    def chain(t, opts, amount, sense, unknown):
        """Move target t by `amount` along several cubes, each from the table the last
        left; the cells to hide, or None."""
        work = values.copy()
        unknown = unknown.copy()
        gained, added = 0.0, []
        for _ in range(24):
            left = amount - gained
            if left <= 0:
                break
            _, combos, ups, downs = _top(opts, grid.cell_of, work, unknown, hideable, lower, upper,
                                         row, row_lost, weight, t, left, 1, True, sense)
            if combos[0, 0] < 0:
                return None
            cells, signs = _moved(opts, grid.cell_of, combos[0])
            cells = np.array(cells, np.int64)
            move = min(ups[0] if sense > 0 else downs[0], left)
            work[cells] += sense * move * np.array(signs, np.float64)
            unknown[cells] = True
            added.append(cells)
            gained += move
        return np.concatenate(added) if gained >= amount else None

    # every count gets its cubes; one a count's own unknown cells already allow is free
    cand_cells: list[np.ndarray] = []   # cells each candidate hides
    cand_moves: list[np.ndarray] = []   # cells each candidate moves (the counts it protects)
    cand_target: list[int] = []
    found: dict[int, list] = {}
    dear: list[int] = []
    lost_set = frozenset(np.nonzero(row_lost)[0].tolist())
    for t in targets:
        if int(t) in memo["open"]:
            stats["free"] += 1
            continue
        if int(t) in memo["found"]:
            # an earlier attempt's cubes, less what has since become unknown
            mine = []
            for hides, moved, rows in memo["found"][int(t)]:
                hides = hides[~unknown0[hides]]
                mine.append((hides, moved, frozenset(row[hides][row[hides] >= 0].tolist()) - lost_set))
            found[int(t)] = mine
            continue
        opts = opts_of(t)
        cost, combos, ups, downs = _top(opts, grid.cell_of, values, unknown0, hideable, lower,
                                        upper, row, row_lost, weight, t, need, candidates,
                                        False, 1)
        best = int(np.argmin(cost))
        if combos[best, 0] >= 0 and cost[best] < 1e-3:
            cells = np.array(_moved(opts, grid.cell_of, combos[best])[0], np.int64)
            if not (~unknown0[cells]).any():
                stats["free"] += 1
                memo["open"].add(int(t))
                continue
        mine = []
        for k in np.argsort(cost):
            if combos[k, 0] < 0:
                continue
            moved = np.array(_moved(opts, grid.cell_of, combos[k])[0], np.int64)
            hides = moved[~unknown0[moved]]
            rows = frozenset(row[hides][row[hides] >= 0].tolist()) - lost_set
            if any(r <= rows for _, _, r in mine):
                continue  # another hides no more rows than this
            mine.append((hides, moved, rows))
        found[int(t)] = mine
        if not mine or cost.min() > 1e-3:
            dear.append(int(t))
    stats["t_search"] = round(time.perf_counter() - t0, 3)
    if dear and outsider_lp:
        # the outsider's own LP, given only what is unknown anyway: counts it cannot narrow
        # need nothing more
        t_lp = time.perf_counter()
        local = _Neighbourhoods(grid, unknown0)
        for t in dear:
            if local.wide_open(t, lower, upper, need):
                stats["lp_free"] += 1
                memo["open"].add(int(t))
                del found[t]
        stats["lp_solves"] = local.solves
        log.debug("outsider LP: %d of %d counts open, %d solves, %.2f s", stats["lp_free"],
                  len(dear), local.solves, time.perf_counter() - t_lp)
    stats["t_lp"] = round(time.perf_counter() - t0, 3)
    need_choice = []
    no_way = []
    for t, mine in found.items():
        # several small cubes may protect a count where every single cube is dear (the
        # first months of a young pilot): one such chain joins the candidates
        dear_rows = [any(costs.row_allowed[r] for r in rows if r < n_rows) for _, _, rows in mine]
        if not mine or (all(dear_rows) and t not in memo["chained"]):
            opts = opts_of(t)
            for down in range(0, int(min(need, values[t] - lower[t])) + 1):
                cells_down = np.zeros(0, np.int64) if down == 0 else chain(t, opts, down, -1, unknown0)
                if cells_down is None:
                    continue
                after = unknown0.copy()
                after[cells_down] = True
                cells_up = (chain(t, opts, need - down, 1, after) if need - down > 0
                            else np.zeros(0, np.int64))
                if cells_up is None:
                    continue
                cells = np.unique(np.concatenate([cells_down, cells_up]))
                mine.append((cells[~unknown0[cells]], np.array([t]), frozenset()))
                stats["chained"] += 1
                memo["chained"].add(t)
                break
        memo["found"][t] = mine
        if not mine:
            no_way.append(t)
            continue
        for hides, moved, _ in mine:
            cand_cells.append(hides)
            cand_moves.append(moved)
            cand_target.append(t)
        need_choice.append(t)
    if no_way:
        log.debug("protect %s: no certificate for %d counts: %s", grid.dims[3].name,
                  len(no_way), stats)
        for t in no_way[:12]:
            log.debug("  no certificate: %s = %d", [grid.dims[k].nodes[grid.coords[t, k]]
                                                    for k in range(4)], values[t])
        raise _Unprotectable(no_way)
    stats["candidates"] = len(cand_cells)
    stats["t_chain"] = round(time.perf_counter() - t0, 3)
    hidden = primary.copy()
    complement = np.zeros(n, bool)
    if need_choice:
        # counts a cube protects for the price of detail alone take that cube at once (it
        # may protect others too); the integer program weighs the rest
        allowed_row = np.zeros(max(n_rows, 1), bool)
        allowed_row[:n_rows] = costs.row_allowed
        lost = row_lost.copy()
        covered: set[int] = set()
        chosen: list[int] = []
        by_target: dict[int, list[int]] = {}
        for k, t in enumerate(cand_target):
            by_target.setdefault(t, []).append(k)
        for t in need_choice:
            if t in covered:
                continue
            # of its cubes that cost detail alone, the one losing least beyond what is
            # already lost (cells other counts' cubes hide are free to share)
            best, best_cost = -1, np.inf
            for k in by_target[t]:
                rows = row[cand_cells[k]]
                rows = np.unique(rows[rows >= 0])
                if (allowed_row[rows] & ~lost[rows]).any():
                    continue
                cost = weight[rows[~lost[rows]]].sum() + 1e-9 * len(cand_cells[k])
                if cost < best_cost:
                    best, best_cost = k, cost
            if best >= 0:
                rows = row[cand_cells[best]]
                chosen.append(best)
                lost[rows[rows >= 0]] = True
                covered |= set(cand_moves[best].tolist())
        if chosen:
            chosen, lost = _share(chosen, by_target, cand_target, cand_cells, cand_moves, row,
                                  row_lost, allowed_row, weight, set(need_choice))
        rest = [t for t in need_choice if t not in covered]
        stats["chosen_at_once"] = len(chosen)
        if rest:
            keep = [k for k, t in enumerate(cand_target) if t in set(rest)]
            picked = _choose(np.array(rest), [cand_cells[k] for k in keep],
                             [cand_moves[k] for k in keep], row, lost, costs)
            chosen += [keep[k] for k in picked]
        for k in chosen:
            hidden[cand_cells[k]] = True
            complement[cand_cells[k]] = True
        stats["t_choose"] = round(time.perf_counter() - t0, 3)
        certs = _certificates(np.array(need_choice), chosen, cand_cells, cand_moves)
        shown_again = _show_unneeded(grid, certs, hidden, complement, unknown0, hideable, lower,
                                     upper, row, weight, need, opts_of)
        stats["shown_again"] = shown_again
    complement &= ~primary
    stats["hidden"] = int(hidden.sum())
    stats["complements"] = int(complement.sum())
    stats["seconds"] = round(time.perf_counter() - t0, 3)
    log.debug("protect %s: %s", grid.dims[3].name, stats)
    return Protection(hidden & grid.published, complement & grid.published, stats)


def _residual(grid: Grid, primary: np.ndarray) -> np.ndarray:
    """Cells not published that a published total and its other, published, parts pin
    down (the rest of a total once its printed parts are taken away): they are protected
    like hidden cells. Cells among two or more unprinted parts of every equation they are
    in are not: no total and its printed parts single them out. Nor is one beside a
    `primary` (a small count that is never shown, and is protected itself): every table
    consistent with the file keeps the equation, so the cell moves with that count as its
    own certificate moves it (with two such counts a cube could swap between them alone)."""
    eq, cell, _ = grid.equations()
    out = np.zeros(len(grid.value), bool)
    if len(eq) == 0:
        return out
    unprinted = ~grid.published[cell]
    n_unprinted = np.bincount(eq, weights=unprinted.astype(float))
    n_primary = np.bincount(eq, weights=primary[cell].astype(float))
    lone = unprinted & (n_unprinted[eq] == 1) & (n_primary[eq] != 1)
    out[cell[lone]] = True
    return out


def _choose(targets, cand_cells, cand_moves, row, row_lost, costs: Costs) -> list[int]:
    """The integer program: pick cubes so every count is moved by one, losing as little
    as possible. A row is lost once any chosen cube hides one of its cells."""
    n_c = len(cand_cells)
    tpos = {int(t): i for i, t in enumerate(targets)}
    covers = []
    for moved in cand_moves:
        covers.append(sorted({tpos[int(x)] for x in moved if int(x) in tpos}))
    cand_rows = [np.unique(row[c][row[c] >= 0]) for c in cand_cells]
    used = np.unique(np.concatenate(cand_rows + [np.zeros(0, np.int64)])).astype(np.int64)
    used = used[~row_lost[used]]
    z_of = {int(r): i for i, r in enumerate(used)}
    n_z = len(used)
    n_g = len(costs.grain_budget)
    lost0 = np.bincount(costs.row_grain[row_lost[:len(costs.row_grain)] & costs.row_allowed],
                        minlength=n_g)
    n_v = n_c + n_z + n_g
    objective = np.zeros(n_v)
    objective[:n_c] = [1e-4 * len(c) for c in cand_cells]
    objective[n_c:n_c + n_z] = costs.row_weight[used]
    objective[n_c + n_z:] = costs.grain_penalty
    r_i, c_i, v_i, lo, hi = [], [], [], [], []
    r = 0
    by_target: list[list[int]] = [[] for _ in targets]
    for k, cov in enumerate(covers):
        for t in cov:
            by_target[t].append(k)
    for ks in by_target:
        r_i += [r] * len(ks)
        c_i += ks
        v_i += [1.0] * len(ks)
        lo.append(1)
        hi.append(np.inf)
        r += 1
    for k, rows in enumerate(cand_rows):
        for rr in rows:
            if int(rr) in z_of:
                r_i += [r, r]
                c_i += [n_c + z_of[int(rr)], k]
                v_i += [1.0, -1.0]
                lo.append(0)
                hi.append(np.inf)
                r += 1
    for g in range(n_g):
        zs = [n_c + i for i, rr in enumerate(used)
              if costs.row_grain[rr] == g and costs.row_allowed[rr]]
        r_i += [r] * len(zs) + [r]
        c_i += zs + [n_c + n_z + g]
        v_i += [1.0] * len(zs) + [-1.0]
        lo.append(-np.inf)
        hi.append(max(float(costs.grain_budget[g] - lost0[g]), 0.0))
        r += 1
    a = coo_matrix((v_i, (r_i, c_i)), shape=(r, n_v)).tocsc()
    upper = np.r_[np.ones(n_c + n_z), np.full(n_g, highspy.kHighsInf)]
    x = _solve_milp(objective, a, np.asarray(lo, float), np.asarray(hi, float), upper, n_c)
    if x is not None:
        return [k for k in range(n_c) if x[k] > 0.5]
    # no solution within the limits: each count takes its cheapest cube (every count is
    # still protected; the choice is only less economical)
    log.warning("protect: complements chosen greedily")
    cost = objective[:n_c] + np.array([costs.row_weight[np.asarray(list(rows), np.int64)].sum()
                                       if len(rows) else 0.0 for rows in cand_rows])
    return sorted({min(ks, key=lambda k: cost[k]) for ks in by_target if ks})


def _solve_milp(objective, a, row_lower, row_upper, col_upper, n_integer) -> np.ndarray | None:
    """Minimise objective @ x, row_lower <= a x <= row_upper, 0 <= x <= col_upper, the first
    n_integer columns integer. The best solution found within MILP_NODES nodes, or None when
    there is none or the safety time limit cut the search short (its result would depend on
    the machine's speed)."""
    n_v = len(objective)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_v, a.shape[0]
    lp.col_cost_ = objective
    lp.col_lower_ = np.zeros(n_v)
    lp.col_upper_ = col_upper
    lp.row_lower_ = np.where(np.isinf(row_lower), -highspy.kHighsInf, row_lower)
    lp.row_upper_ = np.where(np.isinf(row_upper), highspy.kHighsInf, row_upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_integer + \
        [highspy.HighsVarType.kContinuous] * (n_v - n_integer)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_max_nodes", MILP_NODES)
    h.setOptionValue("mip_rel_gap", 0.01)
    h.setOptionValue("time_limit", MILP_SAFETY_SECONDS)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    log.debug("protect: integer program over %d cubes, %d other columns: %s after %d nodes, "
              "objective %.4g, gap %.3g", n_integer, n_v - n_integer, h.modelStatusToString(status),
              info.mip_node_count, info.objective_function_value, info.mip_gap)
    found = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    if status == highspy.HighsModelStatus.kTimeLimit or not found:
        return None
    return np.asarray(h.getSolution().col_value)


def _share(chosen, by_target, cand_target, cand_cells, cand_moves, row, row_lost, allowed_row,
           weight, targets, passes: int = 3):
    """Improve a greedy choice of cubes: each count in turn gives up its cube for the one of
    its own that hides least beyond what every other chosen cube hides, as long as every
    count stays protected (a count chosen early took the cube cheapest then, before the
    cells later counts' cubes hide were known: many counts can share one complement)."""
    n = len(row_lost)
    rows_of = {}

    def rows(k):
        if k not in rows_of:
            r = row[cand_cells[k]]
            rows_of[k] = np.unique(r[r >= 0])
        return rows_of[k]

    hold = np.zeros(n, np.int64)  # chosen cubes hiding each row
    cover: dict[int, int] = {}    # chosen cubes protecting each count
    for k in chosen:
        hold[rows(k)] += 1
        for t in set(cand_moves[k].tolist()) & targets:
            cover[t] = cover.get(t, 0) + 1
    chosen = list(chosen)
    for _ in range(passes):
        changed = False
        for i, k in enumerate(chosen):
            t = cand_target[k]
            mine = set(cand_moves[k].tolist()) & targets
            alone = {x for x in mine if cover.get(x, 0) == 1}
            hold[rows(k)] -= 1
            free = row_lost | (hold > 0)

            def extra(j):
                r = rows(j)
                return weight[r[~free[r]]].sum() + 1e-9 * len(cand_cells[j])

            best, best_cost = k, extra(k)
            for j in by_target.get(t, []):
                if j == k or not alone <= set(cand_moves[j].tolist()):
                    continue
                r = rows(j)
                if (allowed_row[r] & ~free[r]).any():
                    continue
                c = extra(j)
                if c < best_cost - 1e-12:
                    best, best_cost = j, c
            hold[rows(best)] += 1
            if best != k:
                for x in mine:
                    cover[x] -= 1
                for x in set(cand_moves[best].tolist()) & targets:
                    cover[x] = cover.get(x, 0) + 1
                chosen[i] = best
                changed = True
        if not changed:
            break
    return chosen, row_lost | (hold > 0)


def _certificates(targets, chosen, cand_cells, cand_moves) -> dict[int, np.ndarray]:
    """For every count that needed a choice, the chosen cube that protects it."""
    certs = {}
    pos = {int(t) for t in targets}
    for k in chosen:
        for x in cand_moves[k]:
            if int(x) in pos and int(x) not in certs:
                certs[int(x)] = cand_cells[k]
    return certs


def _show_unneeded(grid, certs, hidden, complement, unknown0, hideable, lower, upper, row,
                   weight, need, opts_of) -> int:
    """Show again a complement no count needs: when another count's cube already hides
    what a count's own cube needs, the count may find a cube wholly inside what is hidden."""
    shown_again = 0
    no_cost = np.ones(max(len(weight), 1), np.bool_)
    for _ in range(3):
        changed = False
        # how many certificates hold each cell (a cell no other one holds may be dropped)
        cover = np.zeros(len(hidden), np.int64)
        for cells in certs.values():
            np.add.at(cover, np.unique(cells), 1)
        for t in sorted(certs, key=lambda t: -len(certs[t])):
            mine = np.unique(certs[t])
            if len(mine) == 0:
                continue
            drop = mine[cover[mine] == 1]
            if len(drop) == 0:
                continue
            trial = hidden.copy()
            trial[drop] = False
            unknown = trial | unknown0
            opts = opts_of(t)
            cost, combos, _, _ = _top(opts, grid.cell_of, grid.value, unknown, hideable & ~unknown,
                                      lower, upper, row, no_cost, weight, t, need, 1, False, 1)
            if combos[0, 0] >= 0 and cost[0] < 1e-9:
                cells = np.array(_moved(opts, grid.cell_of, combos[0])[0], np.int64)
                cover[mine] -= 1
                certs[t] = cells[trial[cells] & ~unknown0[cells]]
                np.add.at(cover, np.unique(certs[t]), 1)
                hidden[drop] = False
                complement[drop] = False
                shown_again += len(drop)
                changed = True
        if not changed:
            break
    return shown_again
