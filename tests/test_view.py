"""The URL form of a view: a copied link gives back the same view; bad values fall back."""

from outcomes.view import View, from_params

PERIODS = {"pilot_to_date": ["pilot_to_date"], "year": ["2026", "2025"], "month": ["2026-10", "2026-09"]}


def test_round_trip_through_the_query_string():
    v = View(period_type="year", period="2025", district="7", call_type_group="all",
             responder_type="police", metric="workload_share", lang="es")
    assert from_params(v.to_params(), PERIODS) == v


def test_default_view_has_an_empty_query_string():
    assert View().to_params() == {}
    assert from_params({}, PERIODS) == View()


def test_unpublished_values_fall_back_instead_of_failing():
    v = from_params({"period_type": "year", "period": "1999", "district": "16' or 1=1",
                     "responder_type": "swat", "metric": "drop table", "lang": "fr"}, PERIODS)
    assert v == View(period_type="year", period="2026")


def test_period_type_without_published_periods_falls_back():
    assert from_params({"period_type": "quarter", "period": "2025-Q1"}, PERIODS) == View()


def test_district_view_queries_all_call_types():
    assert View(district="3", call_type_group="trespass").group_for_query == "all"
    assert View(call_type_group="trespass").group_for_query == "trespass"
