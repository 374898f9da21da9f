"""Initial limit assignment: band edges, thin-file floor, income cap, product minimum and maximum."""

from __future__ import annotations

from typing import Any

import pytest

from overdue.errors import InvalidTerms
from overdue.risk.limits import LimitTable, assign_limit, load_limit_table, parse_limit_table


@pytest.fixture(scope="module")
def table() -> LimitTable:
    return load_limit_table()


def test_shipped_table_is_within_the_product_limits(table: LimitTable) -> None:
    assert table.minimum_limit == 50_000 and table.maximum_limit == 5_000_000
    assert table.bands[0].limit == 5_000_000
    assert all(50_000 <= b.limit <= 5_000_000 for b in table.bands)


def test_band_edges(table: LimitTable) -> None:
    for higher, lower in zip(table.bands, table.bands[1:], strict=False):
        at_edge = assign_limit(higher.min_score, table)
        just_below = assign_limit(higher.min_score - 0.01, table)
        assert (at_edge.band, at_edge.limit_fen) == (higher.band, higher.limit)
        assert (just_below.band, just_below.limit_fen) == (lower.band, lower.limit)
        assert at_edge.reasons == ("SCORE_BAND",)


def test_top_band_gets_the_maximum_50000(table: LimitTable) -> None:
    decision = assign_limit(900, table)
    assert decision.approved and decision.limit_fen == 5_000_000


def test_below_the_lowest_band_is_declined(table: LimitTable) -> None:
    lowest = table.bands[-1]
    assert assign_limit(lowest.min_score, table).limit_fen == 50_000
    declined = assign_limit(lowest.min_score - 0.01, table)
    assert not declined.approved and declined.limit_fen == 0
    assert declined.band == "X" and declined.reasons == ("DECLINED_LOW_SCORE",)


def test_thin_file_gets_the_floor(table: LimitTable) -> None:
    thin = assign_limit(650, table, credit_history_months=5)
    assert thin.limit_fen == 50_000 and thin.reasons == ("SCORE_BAND", "THIN_FILE_FLOOR")
    enough = assign_limit(650, table, credit_history_months=6)
    assert enough.limit_fen == 5_000_000 and enough.reasons == ("SCORE_BAND",)
    declined = assign_limit(100, table, credit_history_months=0)
    assert not declined.approved


def test_income_cap(table: LimitTable) -> None:
    capped = assign_limit(650, table, monthly_income_fen=800_050)  # 8,000.50 × 2 = 16,001.00 → 16,000.00
    assert capped.limit_fen == 1_600_000 and capped.reasons == ("SCORE_BAND", "INCOME_CAP")
    uncapped = assign_limit(650, table, monthly_income_fen=2_500_000)  # 2 × 25,000 = the band's 50,000
    assert uncapped.limit_fen == 5_000_000 and "INCOME_CAP" not in uncapped.reasons


def test_income_cap_at_and_below_the_minimum(table: LimitTable) -> None:
    at_minimum = assign_limit(650, table, monthly_income_fen=25_000)  # 2 × 250.00 = 500.00
    assert at_minimum.approved and at_minimum.limit_fen == 50_000
    below = assign_limit(650, table, monthly_income_fen=24_999)  # 499.98 → 400.00
    assert not below.approved and below.limit_fen == 0
    assert below.reasons == ("SCORE_BAND", "INCOME_CAP_BELOW_MINIMUM")


def _table(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "minimum_limit": "500.00",
        "maximum_limit": "50000.00",
        "limit_step": "100.00",
        "bands": [
            {"band": "A", "min_score": 600, "limit": "50000.00"},
            {"band": "B", "min_score": 550, "limit": "500.00"},
        ],
        "policy": {"thin_file_limit": "500.00"},
    }
    data.update(changes)
    return data


def test_table_validation() -> None:
    parse_limit_table(_table())
    bad_tables = [
        _table(bands=[{"band": "A", "min_score": 600, "limit": "50000.01"}]),
        _table(bands=[{"band": "A", "min_score": 600, "limit": "499.99"}]),
        _table(maximum_limit="60000.00"),
        _table(
            bands=[
                {"band": "A", "min_score": 550, "limit": "500.00"},
                {"band": "B", "min_score": 600, "limit": "1000.00"},
            ]
        ),
        _table(
            bands=[
                {"band": "A", "min_score": 600, "limit": "500.00"},
                {"band": "B", "min_score": 550, "limit": "1000.00"},
            ]
        ),
        _table(bands=[{"band": "A", "min_score": 600, "limit": "1000.505"}]),
    ]
    for data in bad_tables:
        with pytest.raises(InvalidTerms):
            parse_limit_table(data)


def test_decision_json_has_yuan_strings(table: LimitTable) -> None:
    assert assign_limit(600, table).to_json() == {
        "approved": True,
        "limit": "10000.00",
        "band": "C",
        "reasons": ["SCORE_BAND"],
    }
