"""Exact quantiles of overlapping groups, checked against fractions, numpy and DuckDB."""

from __future__ import annotations

import math
from fractions import Fraction

import duckdb
import numpy as np
import pandas as pd
import pytest

from etl.stats import grouped_quantiles, rounded_tenths

QS = [(1, 4), (1, 2), (3, 4), (9, 10)]


def _exact(values: list[int], q: tuple[int, int]) -> Fraction:
    v = sorted(values)
    pos = Fraction((len(v) - 1) * q[0], q[1])
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def _members(kinds: np.ndarray, groups: np.ndarray, g: int) -> np.ndarray:
    return (groups[kinds] == g).any(axis=1)


def test_grouped_quantiles_are_exact_for_overlapping_groups():
    rng = np.random.default_rng(3)
    n, n_kinds = 5_000, 40
    values = rng.integers(0, 400, n)  # many ties
    kinds = rng.integers(0, n_kinds, n)
    # three groupings: each kind is in one group of each (or none): 0..9 | 10..13 | 14
    groups = np.stack([rng.integers(-1, 10, n_kinds), rng.integers(10, 14, n_kinds),
                       np.where(rng.random(n_kinds) < 0.5, 14, -1)], axis=1)
    groups[groups[:, 0] == 3, 0] = 4  # group 3 and group 15 are empty
    counts, num, den = grouped_quantiles(values, kinds, groups, 16, QS)
    for g in range(16):
        members = values[_members(kinds, groups, g)]
        assert counts[g] == len(members)
        if len(members):
            exact = [_exact(members.tolist(), q) for q in QS]
            assert [Fraction(int(num[g, j]), int(den[j])) for j in range(len(QS))] == exact
            np.testing.assert_allclose(num[g] / den, np.percentile(members, [25, 50, 75, 90]))
    assert counts[3] == 0 and counts[15] == 0


def test_grouped_quantiles_agree_with_duckdb_quantile_cont():
    rng = np.random.default_rng(11)
    values = rng.integers(0, 86_401, 20_000)  # seconds, as the intervals are
    kinds = rng.integers(0, 30, len(values))
    groups = np.stack([np.arange(30) % 7, 7 + np.arange(30) // 10], axis=1)
    counts, num, den = grouped_quantiles(values, kinds, groups, 10, QS)
    con = duckdb.connect()
    con.register("rows", pd.DataFrame({"v": np.concatenate([values, values]),
                                       "g": np.concatenate([groups[kinds, 0], groups[kinds, 1]])}))
    ref = con.execute("select g, count(*), quantile_cont(v, [0.25, 0.5, 0.75, 0.9]) "
                      "from rows group by g order by g").fetchall()
    assert [(g, c) for g, c, _ in ref] == [(g, int(counts[g])) for g in range(10)]
    for g, _, expected in ref:
        np.testing.assert_allclose(num[g] / den, expected, rtol=1e-12)


def test_one_value_and_two_values():
    counts, num, den = grouped_quantiles(np.array([5, 9]), np.array([0, 1]),
                                         np.array([[0], [1], [-1]]), 2, QS)
    assert counts.tolist() == [1, 1]
    assert (num[0] / den).tolist() == [5.0] * 4 and (num[1] / den).tolist() == [9.0] * 4
    counts, num, den = grouped_quantiles(np.array([9, 5]), np.array([0, 0]), np.array([[0]]), 1, QS)
    assert (num[0] / den).tolist() == [6.0, 7.0, 8.0, 8.6]


def test_minutes_round_half_up_exactly():
    # 1,323 s is 22.05 min exactly: half up gives 22.1 (floating point can give 22.0);
    # 1,322.75 s is 22.0458... min, 22.0; 27 s is 0.45 min, 0.5
    seconds = np.array([[1323 * 4, 5291, 27 * 4, 0]])
    assert rounded_tenths(seconds, np.array([4, 4, 4, 4]), per=60).tolist() == [[22.1, 22.0, 0.5, 0.0]]


def test_a_group_in_two_groupings_is_refused():
    # groupings are walked in parallel, so a group reached through two would race
    with pytest.raises(ValueError, match="more than one grouping"):
        grouped_quantiles(np.array([1, 2]), np.array([0, 1]), np.array([[0, 1], [1, 2]]), 3, QS)
