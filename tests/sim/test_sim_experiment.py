"""Champion/challenger: a challenger that is strictly better in the simulator's model wins the comparison."""

from __future__ import annotations

import pytest
from sim_helpers import early_calls_strategy

from overdue.reports.metrics import ReportConfig, champion_challenger
from overdue.sim import SimulationConfig, simulate


@pytest.mark.slow
def test_challenger_calling_from_dpd_1_recovers_more() -> None:
    result = simulate(
        SimulationConfig(accounts=1000, months=4, seed=2026, strategy_text=early_calls_strategy(), workers=2)
    )
    rows = {row["variant"]: row for row in champion_challenger(result, ReportConfig())}
    champion, challenger = rows["champion"], rows["challenger"]
    assert challenger["accounts"] > 300 and champion["accounts"] > 300
    # Early human calls bring back a larger share of the past-due money, and fewer accounts roll on.
    assert float(challenger["recovery_rate"]) > float(champion["recovery_rate"])
    rolled = {
        variant: result.tallies[("stage_reached", "queue", variant)] / result.tallies[("episodes", variant)]
        for variant in ("champion", "challenger")
    }
    assert rolled["challenger"] < rolled["champion"]
    # ...and they cost more: each call is 3.00.
    assert float(challenger["cost"]) > float(champion["cost"])
    calls = {k[3]: v for k, v in result.tallies.items() if k[:3] == ("actions", "call", "early")}
    assert calls.get("challenger", 0) > 0 and calls.get("champion", 0) == 0
