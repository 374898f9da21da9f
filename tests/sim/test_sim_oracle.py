"""The ``oracle`` call order's yardstick (:mod:`overdue.sim.oracle`): the extra chance of a payment a call
gives, from the borrower's latent traits, and the order that follows it."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from overdue.engine.collect import PlannedStep
from overdue.sim import SimulationConfig, simulate
from overdue.sim.calls import CallPolicy, CallQueue, WaitingCall
from overdue.sim.model import CONNECT_PROBABILITY, BehaviourModel
from overdue.sim.oracle import oracle_uplift_ppm
from overdue.sim.uplift import PPM, experiment_strategy_text
from overdue.strategy import PlannedAction

MODEL = BehaviourModel()


def test_a_borrower_who_cannot_be_reached_gains_nothing_from_a_call() -> None:
    assert oracle_uplift_ppm(MODEL, 0.9, 0.9, 0.0, 10, unreachable=True) == 0


def test_without_ability_a_call_brings_nothing_back() -> None:
    assert oracle_uplift_ppm(MODEL, 0.0, 0.9, 0.0, 10, unreachable=False) == 0


def test_a_call_gains_more_from_the_willing_early_and_before_other_pressure() -> None:
    def uplift(willingness: float = 0.6, dpd: int = 10, pressure: float = 0.0) -> int:
        return oracle_uplift_ppm(MODEL, 0.6, willingness, pressure, dpd, unreachable=False)

    assert 0 < uplift(willingness=0.3) < uplift(willingness=0.6) < uplift(willingness=0.9)
    assert uplift(dpd=10) > uplift(dpd=45) > uplift(dpd=120)  # the model's early weight
    assert uplift(pressure=0.0) > uplift(pressure=3.0)  # a borrower already pressed pays sooner anyway


def test_the_uplift_is_the_model_s_arithmetic() -> None:
    """One case by hand: no pressure, ability = willingness = 1 at DPD 100 (early weight 0.6)."""
    base, lift = MODEL.base_hazard, MODEL.lifts["call"] * 0.6
    without = 1 - (1 - base) ** 30
    with_call = 1 - math.prod(
        1 - min(MODEL.max_hazard, base * (1 + lift * MODEL.pressure_decay**d)) for d in range(30)
    )
    kept = MODEL.promise_on_connect
    want = CONNECT_PROBABILITY["call"] * ((with_call - without) + kept * (1 - without))
    assert oracle_uplift_ppm(MODEL, 1.0, 1.0, 0.0, 100, unreachable=False) == pytest.approx(want * PPM, abs=1)


def test_the_oracle_order_makes_the_largest_extra_recovery_first() -> None:
    action = PlannedAction("call", "call", "call", None, 10, "debtor", None, None, "test")
    step = PlannedStep(action, True, None, "test", None, "call", None)
    at = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    # (account, overdue balance, uplift ppm): 5 % of 400.00 beats 30 % of 50.00 and 1 % of 900.00.
    waiting = [(0, 90_000, 10_000), (1, 5_000, 300_000), (2, 40_000, 50_000), (3, 20_000, 0)]
    queue = CallQueue(CallPolicy(1, "oracle"))
    for account, balance, ppm in waiting:
        queue.wait(WaitingCall(account, step, at, balance, 70, 0.0, ppm * balance))
    assert [c.account for c in queue.take_day()] == [2, 1, 0, 3]


def test_an_oracle_order_run_makes_calls_up_to_the_capacity() -> None:
    result = simulate(
        SimulationConfig(
            accounts=250,
            months=2,
            seed=11,
            workers=1,
            strategy_text=experiment_strategy_text(),
            calls=CallPolicy(4, "oracle"),
        )
    )
    tallies = result.tallies
    assert tallies[("call_queue", "over")] > tallies[("call_queue", "made")] > 0
