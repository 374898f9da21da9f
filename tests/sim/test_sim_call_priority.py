"""The call-priority experiment: with a binding daily capacity of human calls, the same portfolio (same seed,
so the same borrowers and the same random draws) is run once per order of the day's calls — largest overdue
balance first (champion), highest collection score first, largest expected recovery (score × balance)
first, lowest score first, largest predicted uplift (the shipped table's band uplift × balance) first,
at random (the experiment that measures the uplift), and by the oracle's extra recovery from the latent
traits (the yardstick no lender can run).

The test checks that the capacity binds and that each run orders its calls as it says. It does not assert
which order recovers most: in the simulator's model no order that reads the score reliably recovers more than
``balance`` (see docs/risk.md, "Call priority by score", for the numbers); the test prints the measured
outcomes instead.
"""

from __future__ import annotations

from typing import Any

import pytest
from sim_helpers import early_calls_strategy

from overdue.sim import SimulationConfig, SimulationResult, simulate
from overdue.sim.calls import PRIORITIES, CallPolicy

CAPACITY = 6
"""Human calls a day per 1,000 accounts: well under what the early-calls strategy plans (binding)."""


def _run(priority: str) -> SimulationResult:
    return simulate(
        SimulationConfig(
            accounts=1000,
            months=4,
            seed=2026,
            strategy_text=early_calls_strategy(),
            workers=2,
            calls=CallPolicy(CAPACITY, priority),
        )
    )


def _total(result: SimulationResult, key: str) -> int:
    return sum(v for k, v in result.tallies.items() if k[0] == key)


def _mean(result: SimulationResult, what: str, made: str) -> float:
    return result.tallies[(what, made)] / result.tallies[("call_queue", made)]


def _outcome(result: SimulationResult) -> dict[str, Any]:
    recovered, exposure = _total(result, "recovered_total"), _total(result, "exposure_total")
    return {
        "calls_made": result.tallies[("call_queue", "made")],
        "recovered_fen": recovered,
        "exposure_fen": exposure,
        "recovery_rate": round(recovered / exposure, 4),
        "cure_rate": round(_total(result, "cured") / _total(result, "episodes"), 4),
    }


@pytest.mark.slow
def test_with_a_binding_capacity_each_priority_calls_whom_it_says() -> None:
    runs = {priority: _run(priority) for priority in PRIORITIES}
    for result in runs.values():
        assert result.tallies[("call_queue", "over")] > result.tallies[("call_queue", "made")] > 0
        assert _total(result, "calls_over_capacity") == result.tallies[("call_queue", "over")]
    # Each order shows in the calls it made, against those it left over.
    assert _mean(runs["balance"], "call_queue_fen", "made") > _mean(runs["balance"], "call_queue_fen", "over")
    assert _mean(runs["score"], "call_queue_score", "made") > _mean(runs["score"], "call_queue_score", "over")
    assert _mean(runs["risk"], "call_queue_score", "made") < _mean(runs["risk"], "call_queue_score", "over")
    expected = runs["expected"]
    assert _mean(expected, "call_queue_expected", "made") > _mean(expected, "call_queue_expected", "over")
    # ...and against the other orders.
    by_score = {p: _mean(r, "call_queue_score", "made") for p, r in runs.items()}
    assert max(by_score, key=by_score.__getitem__) == "score"
    assert min(by_score, key=by_score.__getitem__) == "risk"
    by_expected = {p: _mean(r, "call_queue_expected", "made") for p, r in runs.items()}
    assert max(by_expected, key=by_expected.__getitem__) == "expected"
    # Same portfolio, same capacity: about as many calls made whatever the order.
    made = [r.tallies[("call_queue", "made")] for r in runs.values()]
    assert max(made) - min(made) <= 0.05 * max(made)
    outcome = {priority: _outcome(result) for priority, result in runs.items()}
    print(f"call priority at {CAPACITY} calls a day per 1,000 accounts: {outcome}")
    assert all(0 < o["recovery_rate"] <= 1 for o in outcome.values())
