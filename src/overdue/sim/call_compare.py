"""Call priority compared on one portfolio: what ``overdue demo`` shows, and what ``bench/call_orders.py``
repeats over many portfolios.

The same portfolio (one seed) is simulated once per call order (:data:`overdue.sim.calls.PRIORITIES`) with
the call experiment's strategy (:func:`overdue.sim.uplift.experiment_strategy_text`: the shipped ``huabei``
ladder with human calls from DPD 1 every 2 days) and a binding daily capacity of human calls per 1,000
accounts, so the collectors cannot make every call the strategy plans and the order decides which are made.
Every run shares the borrowers and their random draws (:mod:`overdue.sim.draws`), so the difference between
two orders is a paired comparison on that portfolio. The demo compares ``balance`` (the largest overdue
balance first: no model, the champion) with ``expected`` (the collection score × the overdue balance: the
money a call is expected to bring back).

Recovered and exposure are integer fen (the simulator's ``recovered_total`` and ``exposure_total`` tallies,
docs/reports.md); in :meth:`CallComparison.report` they are yuan strings and the rates decimal strings.
One portfolio moves the difference by about 0.65 points of recovery rate either way at 20,000 accounts
(1.2 at 5,000): a single run says what happened on that portfolio, not which order is better (docs/risk.md
"A collection score trained on the simulator" has the measurement over many).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from overdue.domain.money import format_yuan
from overdue.reports.metrics import rate, recovery_totals
from overdue.sim.defaults import COMPARISON_ACCOUNTS, DEFAULT_FRAUD_SHARE
from overdue.sim.outcomes import experiment_config
from overdue.sim.run import simulate

ACCOUNTS = COMPARISON_ACCOUNTS
"""The demo's comparison's portfolio (:data:`overdue.sim.defaults.COMPARISON_ACCOUNTS`)."""
MONTHS = 4
"""… over at most this many months (fewer when the demo simulates fewer)."""
CAPACITY = 6
"""Human calls a day per 1,000 accounts: about a fifth of the calls the experiment's strategy plans."""
ORDERS = ("balance", "expected")
"""The champion first, then the challenger(s)."""

Tick = Callable[[int, int], None]
"""Called as ``tick(done, total)``."""


@dataclass(frozen=True)
class OrderRun:
    """One simulation of the comparison: the calls made in ``order`` and what was recovered."""

    seed: int
    order: str
    calls_made: int
    calls_left_over: int
    recovered_fen: int
    exposure_fen: int
    seconds: float

    @property
    def left_past_due_fen(self) -> int:
        return self.exposure_fen - self.recovered_fen

    @property
    def recovery_rate(self) -> Decimal | None:
        """Recovered / exposure, exactly; None when nothing fell past due."""
        if self.exposure_fen == 0:
            return None
        return Decimal(self.recovered_fen) / Decimal(self.exposure_fen)


def run_order(
    accounts: int,
    months: int,
    seed: int,
    order: str,
    capacity: int = CAPACITY,
    workers: int = 2,
    fraud_share: float = DEFAULT_FRAUD_SHARE,
    progress: Tick | None = None,
) -> OrderRun:
    """Simulate the seed's portfolio with ``capacity`` human calls a day per 1,000 accounts made in
    ``order`` (``fraud_share``: :attr:`overdue.sim.model.BehaviourModel.fraud_share`)."""
    started = time.perf_counter()
    config = experiment_config(accounts, months, seed, capacity, order, workers, fraud_share)
    result = simulate(config, progress)
    recovered, exposure = recovery_totals(result.tallies)
    return OrderRun(
        seed=seed,
        order=order,
        calls_made=result.tallies[("call_queue", "made")],
        calls_left_over=result.tallies[("call_queue", "over")],
        recovered_fen=recovered,
        exposure_fen=exposure,
        seconds=time.perf_counter() - started,
    )


def _points(challenger: OrderRun, champion: OrderRun) -> str | None:
    """The challenger's recovery rate minus the champion's, in points (hundredths), signed, two places."""
    if challenger.recovery_rate is None or champion.recovery_rate is None:
        return None
    points = (challenger.recovery_rate - champion.recovery_rate) * 100
    return f"{points.quantize(Decimal('0.01')):+}"


@dataclass(frozen=True)
class CallComparison:
    """Every order's run on one portfolio; the first is the champion."""

    accounts: int
    months: int
    seed: int
    capacity_per_1000: int
    fraud_share: float
    runs: tuple[OrderRun, ...]

    def report(self) -> dict[str, Any]:
        """The report's ``call_priority`` section: each order's calls, recovered, exposure, amount left past
        due (yuan strings) and recovery rate, and its difference from the champion in points."""
        champion = self.runs[0]
        return {
            "accounts": self.accounts,
            "months": self.months,
            "seed": self.seed,
            "capacity_per_1000": self.capacity_per_1000,
            "fraud_share": self.fraud_share,
            "strategy": "huabei, human calls from DPD 1 every 2 days",
            "champion": champion.order,
            "orders": [
                {
                    "order": run.order,
                    "calls_made": run.calls_made,
                    "calls_left_over": run.calls_left_over,
                    "recovered": format_yuan(run.recovered_fen),
                    "exposure": format_yuan(run.exposure_fen),
                    "left_past_due": format_yuan(run.left_past_due_fen),
                    "recovery_rate": rate(run.recovered_fen, run.exposure_fen),
                    "points_vs_champion": None if run is champion else _points(run, champion),
                }
                for run in self.runs
            ],
        }


def compare_call_orders(
    accounts: int,
    months: int,
    seed: int,
    *,
    capacity: int = CAPACITY,
    orders: Sequence[str] = ORDERS,
    workers: int = 2,
    fraud_share: float = DEFAULT_FRAUD_SHARE,
    progress: Tick | None = None,
) -> CallComparison:
    """Simulate the seed's portfolio once per order in ``orders`` (the first the champion; ``fraud_share``:
    :attr:`overdue.sim.model.BehaviourModel.fraud_share`); ``progress`` is told of the shards simulated
    over all the runs."""
    if len(orders) < 2:
        raise ValueError("a comparison needs at least two call orders")
    runs: list[OrderRun] = []
    for index, order in enumerate(orders):

        def tick(done: int, total: int, index: int = index) -> None:
            if progress is not None:
                progress(index * total + done, len(orders) * total)

        runs.append(run_order(accounts, months, seed, order, capacity, workers, fraud_share, tick))
    return CallComparison(accounts, months, seed, capacity, fraud_share, tuple(runs))
