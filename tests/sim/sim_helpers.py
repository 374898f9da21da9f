"""Shared pieces of the simulator and report tests: small simulations, cached per session."""

from __future__ import annotations

from functools import cache

from overdue.sim import SimulationConfig, SimulationResult, simulate
from overdue.sim.run import default_strategy_text


@cache
def small_portfolio(accounts: int = 300, months: int = 4, seed: int = 7) -> SimulationResult:
    """A small simulated portfolio with records kept (ledger, actions, month ends)."""
    return simulate(
        SimulationConfig(accounts=accounts, months=months, seed=seed, keep_records=True, workers=1)
    )


def early_calls_strategy() -> str:
    """The huabei strategy with an experiment whose challenger starts human calls at DPD 1 instead of 16.

    In the simulator's model a human call lifts repayment most, and most of all early in delinquency, so the
    challenger is strictly better.
    """
    text = default_strategy_text()
    text = text.replace("  ai_voice_from_dpd: 4 ", "  human_call_from_dpd: 16\n  ai_voice_from_dpd: 4 ")
    text = text.replace(
        "      - {id: early_sms, type: sms,",
        "      - {id: early_call, type: call, priority: 10, from_dpd: $human_call_from_dpd, every_days: 2}\n"
        "      - {id: early_sms, type: sms,",
    )
    text = text.replace("parameters: {ai_voice_from_dpd: 2}", "parameters: {human_call_from_dpd: 1}")
    assert "human_call_from_dpd: 1" in text and "early_call" in text
    return text
