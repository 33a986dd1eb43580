"""The history behind the pilot: KPCC's officer-involved shootings in LA County, 2010-2014,
read from the real file by path and published only as protected counts by year."""

from __future__ import annotations

from itertools import product
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from etl import shootings
from outcomes import settings

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def real_file() -> Path:
    path = settings.shared_data() / shootings.FILE
    if not path.is_file():
        pytest.fail(f"{path} is missing: CI keeps ../shared/data beside the checkout")
    return path


def test_counts_match_the_file_and_hide_small_ones(real_file):
    kept, held = shootings.read(real_file)
    assert len(kept) == 375 and not len(held)
    raw = pd.read_csv(real_file)
    year = raw["date_of_incident"].str[:4]
    published = shootings.table(kept)
    flags = {"people_shot": None, "killed": "person_killed", "armed": "person_armed",
             "signs_of_mental_illness": "person_signs_of_mental_illness"}
    for measure, col in flags.items():
        sel = raw if col is None else raw[raw[col]]
        rows = published[published["measure"] == measure].set_index("period")
        assert rows.loc["2010-2014", "people"] == len(sel)  # 375, 187, 266, 41
        hidden = []
        for y in map(str, range(2010, 2015)):
            truth = int((year[sel.index] == y).sum())
            if rows.loc[y, "people_flag"] == "":
                assert rows.loc[y, "people"] == truth
                assert truth == 0 or truth >= settings.min_cell()
            else:
                assert truth >= 1 and pd.isna(rows.loc[y, "people"])
                hidden.append(truth)
        # an outsider knows the total, the shown years, and that a hidden year is >= 1:
        # every hidden year keeps at least 5 possible values
        if hidden:
            rest = sum(hidden)
            assert len(hidden) >= 2 and rest - (len(hidden) - 1) >= 5, (measure, hidden)
    assert published.loc[(published["measure"] == "signs_of_mental_illness")
                         & (published["period"] == "2010-2014"), "people"].iloc[0] == 41


def test_bad_rows_are_set_aside_with_a_reason_and_a_wrong_file_says_what_it_expects(tmp_path):
    kept, held = shootings.read(FIXTURES / "ois_bad_rows.csv")
    assert len(kept) == 1
    assert list(held["reason"]) == ["date_of_incident is not a date", "person_killed is not true or false"]
    assert list(held["row_number"]) == [3, 4]
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(shootings.ShootingsFileError, match="expected KPCC's officer-involved"):
        shootings.read(other)


def test_no_name_letter_or_link_reaches_the_public_file(app_public_file, real_file):
    raw = pd.read_csv(real_file, dtype=str)
    needles = {"documentcloud", *raw["district_attorney_file_number"].dropna().head(10)}
    with duckdb.connect(str(app_public_file), read_only=True) as con:
        assert con.execute("select count(*) from officer_involved_shootings").fetchone()[0] == 24
        tables = [r[0] for r in con.execute("select table_name from catalog").fetchall()]
        for t, needle in product(tables, needles):
            cols = [r[0] for r in con.execute(
                "select column_name from duckdb_columns() where table_name = $t and data_type = 'VARCHAR'",
                {"t": t}).fetchall()]
            for c in cols:
                n = con.execute(f'select count(*) from "{t}" where contains("{c}", $n)', {"n": needle}).fetchone()[0]
                assert n == 0, (t, c, needle)
