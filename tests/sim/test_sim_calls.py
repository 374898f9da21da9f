"""A daily capacity of human calls in the simulator, and the order the day's calls are made in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from overdue.engine.collect import PlannedStep
from overdue.sim import SimulationConfig, simulate
from overdue.sim.calls import CAPACITY_RULE, CallPolicy, CallQueue, WaitingCall
from overdue.strategy import PlannedAction

AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def _call(account: int, balance: int, score: int | None) -> WaitingCall:
    action = PlannedAction("call", "call", "call", None, 10, "debtor", None, None, "test")
    return WaitingCall(
        account, PlannedStep(action, True, None, "test", None, "call", None), AT, balance, score
    )


def test_the_queue_orders_by_balance_or_by_score_ties_in_account_order() -> None:
    calls = [_call(0, 5_000, 40), _call(1, 90_000, 20), _call(2, 5_000, 80), _call(3, 30_000, 80)]
    by_balance = CallQueue(CallPolicy(10, "balance"))
    by_score = CallQueue(CallPolicy(10, "score"))
    for call in calls:
        by_balance.wait(call)
        by_score.wait(call)
    assert [c.account for c in by_balance.take_day()] == [1, 3, 0, 2]
    assert [c.account for c in by_score.take_day()] == [3, 2, 0, 1]
    assert by_score.take_day() == []


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
