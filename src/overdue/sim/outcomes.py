"""The collection score's training data from the simulator's own borrowers, and a model trained on it.

A lender trains its collection score on what its own accounts did; the shipped one
(:mod:`overdue.risk.collection`, ``collection-v2.json``) is trained on what the simulator's did.
:class:`OutcomeLog` collects that from a simulation (``SimulationConfig(log_outcomes=True)``): every
:data:`SAMPLE_EVERY` days, each delinquent account's collection facts
(:func:`~overdue.risk.collection.collection_facts`, the seven facts the score reads) and whether it repaid
any past-due amount within the next :data:`~overdue.sim.uplift.HORIZON_DAYS` days (the score's own target,
``pay_30d``). A sample whose horizon runs past the simulation's end is dropped.

:func:`train_on_outcomes` fits the model's features (:data:`~overdue.risk.collection.SPECS`) to those rows
with :func:`~overdue.risk.logistic.fit_logistic`; :func:`train_on_simulation` simulates the training
portfolios and does it (``overdue risk train --model collection [--accounts N] [--out FILE]``). Another
file can replace the shipped model for a process with ``OVERDUE_COLLECTION_MODEL``
(:func:`overdue.risk.collection.shipped_model`); ``bench/call_orders.py --train-score`` trains one and
runs the call orders with it (docs/risk.md "A collection score trained on the simulator").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from overdue.risk.collection import FEATURES, MODEL_VERSION, SPECS, CollectionFacts
from overdue.risk.logistic import LogisticModel, fit_logistic
from overdue.sim.calls import CallPolicy
from overdue.sim.defaults import DEFAULT_FRAUD_SHARE
from overdue.sim.model import BehaviourModel
from overdue.sim.uplift import HORIZON_DAYS, Follower, experiment_strategy_text

if TYPE_CHECKING:
    from overdue.sim.run import SimulationConfig

TRAIN_SEEDS = (101, 102, 103)
TRAIN_ACCOUNTS = 20_000
TRAIN_MONTHS = 6
TRAIN_CAPACITY = 6
"""The training portfolios of :func:`train_on_simulation` (the shipped ``collection-v2.json``): three seeds
(not those the experiments are measured on) of 20,000 accounts × 6 months with the default share of
fraudulent borrowers, the call experiment's strategy with 6 human calls a day per 1,000 accounts made
largest balance first (an order that does not read the score being trained). Four to six minutes on two
cores."""
SAMPLE_EVERY = 5
"""Days between two samples of the delinquent accounts (every day would repeat nearly the same rows)."""

Outcome = tuple[CollectionFacts, int]
"""A sample's collection facts and 1 when the account repaid past-due money within the horizon, else 0."""


class OutcomeLog(Follower[CollectionFacts]):
    """Follows a shard's samples of delinquent accounts over :data:`HORIZON_DAYS` days."""

    def __init__(self, horizon_days: int = HORIZON_DAYS) -> None:
        super().__init__(horizon_days)
        self.rows: list[Outcome] = []

    @staticmethod
    def samples_on(day_index: int) -> bool:
        """Whether the accounts are sampled on the simulation's ``day_index``-th day (0 the first)."""
        return day_index % SAMPLE_EVERY == SAMPLE_EVERY - 1

    def sample(self, account: int, day: int, facts: CollectionFacts, repaid: int) -> None:
        """A delinquent account on ``day`` (ordinal); ``repaid``: its past-due fen repaid so far."""
        self.follow(account, day, repaid, facts)

    def settle(self, today: int, repaid: npt.NDArray[np.int64]) -> None:
        """Resolve the samples whose horizon ended before ``today`` (``repaid``: each account's past-due fen
        repaid so far): 1 when the account repaid anything past due in between."""
        self.rows.extend((facts, int(fen > 0)) for facts, fen in self.ended(today, repaid))


def train_on_outcomes(rows: list[Outcome], dataset: dict[str, Any], seed: int = 0) -> LogisticModel:
    """The collection model's features fitted to ``rows`` (``dataset``: how they were made, kept in the model
    file, with the held-out metrics)."""
    if not rows:
        raise ValueError("no outcomes to train on: simulate with log_outcomes=True, long enough for 30 days")
    columns = {name: np.array([float(getattr(f, name)) for f, _ in rows]) for name in FEATURES}
    paid = np.array([y for _, y in rows], dtype=np.int64)
    if paid.min() == paid.max():
        raise ValueError("every outcome is the same: nothing to train on")
    model, _, _ = fit_logistic("collection", "pay_30d", SPECS, columns, paid, dataset, seed, MODEL_VERSION)
    return model


def experiment_config(
    accounts: int, months: int, seed: int, capacity: int, order: str, workers: int, fraud_share: float
) -> SimulationConfig:
    """The call experiment's simulation (:func:`overdue.sim.uplift.experiment_strategy_text`) of one
    portfolio, with ``capacity`` human calls a day per 1,000 accounts made in ``order``."""
    from overdue.sim.run import SimulationConfig  # imported here: overdue.sim.run imports this module

    return SimulationConfig(
        accounts=accounts,
        months=months,
        seed=seed,
        strategy_text=experiment_strategy_text(),
        workers=workers,
        calls=CallPolicy(capacity, order),
        model=BehaviourModel(fraud_share=fraud_share),
    )


def train_on_simulation(
    seeds: Sequence[int] = TRAIN_SEEDS,
    accounts: int = TRAIN_ACCOUNTS,
    months: int = TRAIN_MONTHS,
    fraud_share: float = DEFAULT_FRAUD_SHARE,
    capacity: int = TRAIN_CAPACITY,
    order: str = "balance",
    workers: int = 2,
) -> LogisticModel:
    """Simulate ``seeds`` (the call experiment's strategy with a capacity of human calls made in ``order``;
    ``fraud_share``: :attr:`~overdue.sim.model.BehaviourModel.fraud_share`) with the outcomes logged and train
    the collection model on them. Deterministic: the same arguments give the same model."""
    from overdue.sim.run import simulate  # imported here: overdue.sim.run imports this module

    rows: list[Outcome] = []
    for seed in seeds:
        config = experiment_config(accounts, months, seed, capacity, order, workers, fraud_share)
        result = simulate(dataclasses.replace(config, log_outcomes=True))
        rows.extend(result.outcomes)
    dataset = {
        "generator": "overdue.sim.outcomes.train_on_simulation",
        "seeds": list(seeds),
        "accounts": accounts,
        "months": months,
        "fraud_share": fraud_share,
        "calls": f"{capacity} a day per 1,000 accounts, {order} first",
        "rows": len(rows),
    }
    return train_on_outcomes(rows, dataset)
