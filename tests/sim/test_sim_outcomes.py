"""The collection score's outcomes in the simulator (:mod:`overdue.sim.outcomes`): samples of delinquent
accounts followed for 30 days, a model trained on them, and ``OVERDUE_COLLECTION_MODEL`` pointing a process
at it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from overdue.domain.errors import InvalidInput
from overdue.risk.collection import (
    FEATURES,
    MODEL_ENV,
    CollectionFacts,
    score_collection,
    shipped_model,
    shipped_propensity,
)
from overdue.risk.logistic import save_model
from overdue.sim import SimulationConfig, simulate
from overdue.sim.outcomes import SAMPLE_EVERY, OutcomeLog, train_on_outcomes, train_on_simulation
from overdue.sim.uplift import HORIZON_DAYS

FACTS = CollectionFacts(
    days_past_due=5,
    earlier_episodes_12m=0,
    attempts=2,
    connects=1,
    promises_kept=0,
    promises_broken=0,
    reachable=1,
)


@pytest.fixture
def fresh_model_cache() -> Iterator[None]:
    shipped_model.cache_clear()
    shipped_propensity.cache_clear()
    yield
    shipped_model.cache_clear()
    shipped_propensity.cache_clear()


def test_a_sample_is_resolved_after_its_30_days() -> None:
    log = OutcomeLog()
    repaid = np.array([100, 0], dtype=np.int64)
    log.sample(0, 1000, FACTS, 100)
    log.sample(1, 1000, FACTS, 0)
    log.settle(1000 + HORIZON_DAYS, repaid)
    assert log.rows == [] and len(log.pending) == 2  # the horizon has not ended yet
    repaid[0] += 1  # account 0 repays one fen of its past-due amount within the 30 days
    log.settle(1000 + HORIZON_DAYS + 1, repaid)
    assert log.rows == [(FACTS, 1), (FACTS, 0)] and not log.pending
    assert [OutcomeLog.samples_on(k) for k in range(SAMPLE_EVERY)].count(True) == 1


def test_a_simulation_logs_its_delinquent_accounts_outcomes() -> None:
    config = SimulationConfig(accounts=300, months=3, seed=5, workers=1, log_outcomes=True)
    result = simulate(config)
    assert result.outcomes
    assert all(facts.days_past_due > 0 for facts, _ in result.outcomes)
    assert {paid for _, paid in result.outcomes} == {0, 1}
    assert simulate(SimulationConfig(accounts=300, months=3, seed=5, workers=1)).outcomes == []
    # The log only watches: the portfolio lives the same life with it or without it.
    assert simulate(SimulationConfig(accounts=300, months=3, seed=5, workers=1)).states == result.states


def test_a_model_trained_on_outcomes_replaces_the_shipped_one_for_a_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_model_cache: None
) -> None:
    result = simulate(SimulationConfig(accounts=300, months=4, seed=9, workers=1, log_outcomes=True))
    model = train_on_outcomes(result.outcomes, {"generator": "test", "rows": len(result.outcomes)})
    assert model.name == "collection" and model.feature_names == FEATURES
    assert 0.0 <= model.metrics["auc"] <= 1.0
    path = tmp_path / "collection-sim.json"
    save_model(model, path)
    shipped = shipped_model()
    monkeypatch.setenv(MODEL_ENV, str(path))
    shipped_model.cache_clear()
    assert shipped_model().to_json() == model.to_json()
    assert score_collection(FACTS, shipped_model()).propensity == model.probability(
        {name: float(getattr(FACTS, name)) for name in FEATURES}
    )
    assert shipped_model().to_json() != shipped.to_json()
    # A file that is not a collection model is refused, naming the variable.
    other = json.loads(path.read_text(encoding="utf-8"))
    other["features"] = other["features"][:3]
    (tmp_path / "other.json").write_text(json.dumps(other), encoding="utf-8")
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "other.json"))
    shipped_model.cache_clear()
    with pytest.raises(InvalidInput, match=MODEL_ENV):
        shipped_model()


def test_training_on_the_simulator_is_deterministic() -> None:
    # As the shipped collection-v2.json is trained (train_on_simulation's defaults), on one small portfolio.
    first, again = (train_on_simulation(seeds=(5,), accounts=400, months=3, workers=1) for _ in range(2))
    assert (first.features, first.intercept) == (again.features, again.intercept)
    assert first.version == 2 and first.dataset == again.dataset and first.dataset["fraud_share"] == 0.01


def test_nothing_to_train_on_is_refused() -> None:
    with pytest.raises(ValueError, match="no outcomes"):
        train_on_outcomes([], {})
    with pytest.raises(ValueError, match="every outcome is the same"):
        train_on_outcomes([(FACTS, 1)] * 10, {})
