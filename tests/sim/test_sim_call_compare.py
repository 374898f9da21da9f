"""``overdue.sim.call_compare``: one portfolio simulated once per call order, as the demo reports it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from overdue.domain.money import format_yuan
from overdue.sim.call_compare import compare_call_orders, run_order


def test_each_order_runs_on_the_same_portfolio_and_is_reported_against_the_champion() -> None:
    ticks: list[tuple[int, int]] = []
    comparison = compare_call_orders(
        300,
        2,
        5,
        capacity=2,
        orders=("balance", "expected"),
        workers=1,
        progress=lambda d, t: ticks.append((d, t)),
    )
    balance, expected = comparison.runs
    assert (balance.order, expected.order) == ("balance", "expected")
    for run in comparison.runs:
        assert run.seed == 5
        assert run.calls_made > 0 and run.calls_left_over > 0  # the capacity binds
        assert 0 < run.recovered_fen <= run.exposure_fen
    # Progress counts the shards of both runs, in order, and ends complete.
    assert ticks[-1][0] == ticks[-1][1] and all(t == ticks[0][1] for _, t in ticks)
    assert [d for d, _ in ticks] == sorted(d for d, _ in ticks)

    report = comparison.report()
    assert (report["accounts"], report["months"], report["seed"], report["capacity_per_1000"]) == (
        300,
        2,
        5,
        2,
    )
    assert report["champion"] == "balance"
    first, second = report["orders"]
    assert first["points_vs_champion"] is None
    assert first["recovered"] == format_yuan(balance.recovered_fen)
    assert first["exposure"] == format_yuan(balance.exposure_fen)
    assert first["left_past_due"] == format_yuan(balance.exposure_fen - balance.recovered_fen)
    assert Decimal(first["recovery_rate"]) == (
        Decimal(balance.recovered_fen) / Decimal(balance.exposure_fen)
    ).quantize(Decimal("0.0001"))
    points = (expected.recovery_rate - balance.recovery_rate) * 100  # type: ignore[operator]
    assert second["points_vs_champion"] == f"{points.quantize(Decimal('0.01')):+}"


def test_a_run_is_the_same_for_the_same_seed_and_order() -> None:
    one = run_order(200, 2, 9, "expected", capacity=2, workers=1)
    two = run_order(200, 2, 9, "expected", capacity=2, workers=2)
    assert (one.calls_made, one.recovered_fen, one.exposure_fen) == (
        two.calls_made,
        two.recovered_fen,
        two.exposure_fen,
    )


def test_nothing_past_due_has_no_rate() -> None:
    run = run_order(50, 1, 9, "balance", capacity=2, workers=1)  # the first statement falls due in month 2
    assert run.exposure_fen == 0 and run.recovery_rate is None


def test_a_comparison_needs_two_orders() -> None:
    with pytest.raises(ValueError, match="two call orders"):
        compare_call_orders(100, 1, 1, orders=("balance",))
