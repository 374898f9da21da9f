"""A daily capacity of human calls in the simulator, and the order the day's calls are made in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from overdue.engine import collect as engine_collect
from overdue.engine.collect import PlannedStep
from overdue.risk import collection
from overdue.sim import SimulationConfig, simulate
from overdue.sim import shard as shard_module
from overdue.sim.calls import CAPACITY_RULE, ORDERS, PRIORITIES, CallPolicy, CallQueue, WaitingCall
from overdue.strategy import PlannedAction

AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def _call(account: int, balance: int, score: int | None) -> WaitingCall:
    action = PlannedAction("call", "call", "call", None, 10, "debtor", None, None, "test")
    return WaitingCall(
        account, PlannedStep(action, True, None, "test", None, "call", None), AT, balance, score
    )


def _order(priority: str, calls: list[WaitingCall]) -> list[int]:
    queue = CallQueue(CallPolicy(10, priority))
    for call in calls:
        queue.wait(call)
    order = [c.account for c in queue.take_day()]
    assert queue.take_day() == []
    return order


def test_the_queue_orders_by_balance_or_by_score_ties_in_account_order() -> None:
    calls = [_call(0, 5_000, 40), _call(1, 90_000, 20), _call(2, 5_000, 80), _call(3, 30_000, 80)]
    assert _order("balance", calls) == [1, 3, 0, 2]
    assert _order("score", calls) == [3, 2, 0, 1]


def test_expected_recovery_is_score_times_balance_and_risk_calls_the_lowest_scores_first() -> None:
    calls = [_call(0, 5_000, 40), _call(1, 90_000, 20), _call(2, 5_000, 80), _call(3, 30_000, 80)]
    # 40 × 5,000 = 200,000 · 20 × 90,000 = 1,800,000 · 80 × 5,000 = 400,000 · 80 × 30,000 = 2,400,000
    assert _order("expected", calls) == [3, 1, 2, 0]
    assert _order("risk", calls) == [1, 0, 3, 2]  # equal scores: the larger balance first
    tie = [_call(0, 10_000, 50), _call(1, 20_000, 25), _call(2, 5_000, 100)]
    assert _order("expected", tie) == [1, 0, 2]  # 500,000 each: the larger balance first, then account order
    unscored = [_call(0, 1_000, 10), _call(1, 99_000, None), _call(2, 2_000, 90)]
    assert _order("balance", unscored) == [1, 2, 0]
    for priority in ("score", "expected", "risk"):
        assert _order(priority, unscored)[-1] == 1  # no score (not delinquent): last


def test_every_priority_has_an_order_and_the_score_comes_from_the_score_fact() -> None:
    assert set(ORDERS) == set(PRIORITIES) and PRIORITIES[0] == "balance"
    # The waiting calls are scored by the very function behind the strategies' ``score`` fact.
    assert shard_module.score_fact is engine_collect.score_fact is collection.score_fact


def test_the_capacity_is_shared_by_shard_size_and_checked() -> None:
    assert CallPolicy(6).shard_capacity(250) == 2  # 1.5 rounds half up
    assert CallPolicy(4).shard_capacity(250) == 1
    assert not CallPolicy().limited and CallPolicy(0).limited
    with pytest.raises(ValueError, match="priority"):
        CallPolicy(5, "loudest")
    with pytest.raises(ValueError, match="negative"):
        CallPolicy(-1)


def _human_calls(result: object, status: str) -> int:
    tallies = result.tallies  # type: ignore[attr-defined]
    return sum(v for k, v in tallies.items() if k[0] == "actions" and k[1] == "call" and k[4] == status)


def test_no_capacity_means_no_human_call_is_made() -> None:
    config = SimulationConfig(accounts=250, months=3, seed=11, workers=1)
    free = simulate(config)
    none = simulate(SimulationConfig(accounts=250, months=3, seed=11, workers=1, calls=CallPolicy(0)))
    assert _human_calls(free, "allowed") > 0
    assert _human_calls(none, "allowed") == 0
    assert none.tallies[("contacts", "voice")] < free.tallies[("contacts", "voice")]
    over = sum(v for k, v in none.tallies.items() if k[0] == "calls_over_capacity")
    assert over == _human_calls(none, "refused") - _human_calls(free, "refused") > 0


def test_a_capacity_run_is_deterministic_and_refusals_name_the_capacity() -> None:
    config = SimulationConfig(
        accounts=250, months=3, seed=11, workers=1, keep_records=True, calls=CallPolicy(4, "score")
    )
    first, second = simulate(config), simulate(config)
    assert first.summary() == second.summary()
    refused = [row for row in first.actions if row[11] == CAPACITY_RULE]
    assert refused and all(row[3] == "call" and row[10] == "refused" for row in refused)
    made = {}
    for row in first.actions:
        if row[3] == "call" and row[10] == "recorded":
            made[row[1]] = made.get(row[1], 0) + 1
    assert max(made.values()) <= CallPolicy(4).shard_capacity(250)
