"""Intervals for published rates, and exact quantiles of many overlapping groups at once."""

from __future__ import annotations

import numba
import numpy as np

Z95 = 1.959963984540054


def wilson(successes: np.ndarray, trials: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score 95% interval for a proportion; NaN where trials is 0 or missing."""
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        low, high = centre - half, centre + half
    bad = ~(n > 0)
    low[bad] = np.nan
    high[bad] = np.nan
    return np.clip(low, 0, 1), np.clip(high, 0, 1)


@numba.njit(cache=True, nogil=True)
def _ascending(values, lowest, highest):
    """Row numbers in ascending order of integer values in [lowest, highest] (counting sort;
    rows with equal values keep their order)."""
    start = np.zeros(highest - lowest + 2, np.int64)
    for v in values:
        start[v - lowest + 1] += 1
    for i in range(1, start.shape[0]):
        start[i] += start[i - 1]
    order = np.empty(values.shape[0], np.int64)
    for r in range(values.shape[0]):
        slot = values[r] - lowest
        order[start[slot]] = r
        start[slot] += 1
    return order


@numba.njit(cache=True, nogil=True, parallel=True)
def _pick_ranks(values, kinds, groups, wanted, picked):
    """Walk rows sorted by value; each row counts once in each group of its kind, and the
    value at each wanted rank of a group (ascending ranks) is kept. `groups[c, kind]` is the
    kind's group in grouping c; a group belongs to one grouping, so groupings run in
    parallel."""
    n_groups, width = wanted.shape
    seen = np.zeros(n_groups, np.int64)
    nxt = np.zeros(n_groups, np.int64)
    for c in numba.prange(groups.shape[0]):
        column = groups[c]
        for r in range(kinds.shape[0]):
            g = column[kinds[r]]
            if g < 0:
                continue
            rank = seen[g]
            seen[g] = rank + 1
            k = nxt[g]
            while k < width and wanted[g, k] == rank:
                picked[g, k] = values[r]
                k += 1
            nxt[g] = k


def grouped_quantiles(values: np.ndarray, kinds: np.ndarray, groups: np.ndarray, n_groups: int,
                      qs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact quantiles of integer `values` within each of `n_groups` overlapping groups.

    Rows come in kinds (e.g. a month, district, call type group and responder): `kinds[row]`
    is the row's kind, and `groups[kind, c]` its group in grouping c, or -1 for none, so one
    row counts in every period and breakdown it belongs to; a group id belongs to one
    grouping only. A quantile q = a / b is
    interpolated linearly between order statistics at position (n - 1) * q (DuckDB's
    quantile_cont, numpy's 'linear' percentile), in integers so that it is exact: the value
    is numerators[g, j] / b_j. Values are sorted once, by counting, for every group.

    Returns (counts, numerators[n_groups, len(qs)], denominators[len(qs)]); an empty
    group's numerators are 0.
    """
    values = np.asarray(values, dtype=np.int64)
    kinds = np.ascontiguousarray(kinds, dtype=np.int64)
    groups = np.ascontiguousarray(groups, dtype=np.int32)
    # the groupings are walked in parallel, one per thread: a group must be in one only
    per_column = [np.unique(c[c >= 0]) for c in groups.T]
    if sum(len(u) for u in per_column) != len(np.unique(np.concatenate(per_column or [[]]))):
        raise ValueError("a group appears in more than one grouping (column of `groups`)")
    per_kind = np.bincount(kinds, minlength=len(groups))
    member = groups >= 0
    counts = np.bincount(groups[member], weights=np.broadcast_to(per_kind[:, None], groups.shape)[member],
                         minlength=n_groups).astype(np.int64)
    a = np.array([q[0] for q in qs], dtype=np.int64)
    b = np.array([q[1] for q in qs], dtype=np.int64)
    scaled = (np.maximum(counts, 1)[:, None] - 1) * a[None, :]  # position * b
    lo, part = scaled // b, scaled % b
    hi = lo + (part > 0)
    wanted = np.sort(np.concatenate([lo, hi], axis=1), axis=1)
    picked = np.zeros(wanted.shape, np.int64)
    if len(values):
        low, high = int(values.min()), int(values.max())
        order = (_ascending(values, low, high) if high - low < 1 << 24
                 else np.argsort(values, kind="stable"))
        _pick_ranks(values[order], kinds[order], np.ascontiguousarray(groups.T), wanted, picked)
    # the value at rank k of group g: find k in g's row of wanted ranks
    rows = np.arange(n_groups)[:, None]
    v_lo = picked[rows, np.argmax(wanted[:, :, None] == lo[:, None, :], axis=1)]
    v_hi = picked[rows, np.argmax(wanted[:, :, None] == hi[:, None, :], axis=1)]
    return counts, v_lo * b + (v_hi - v_lo) * part, b


def rounded_tenths(numerators: np.ndarray, denominators: np.ndarray, per: int = 1) -> np.ndarray:
    """numerators / (denominators * per), rounded half up to one decimal (for values >= 0):
    e.g. seconds to minutes with per=60, exactly, with no floating-point ties."""
    den = np.asarray(denominators, dtype=np.int64) * per
    return ((20 * np.asarray(numerators, dtype=np.int64) + den) // (2 * den)) / 10.0
