"""Behaviour and collection scores: model files round-trip, scores move the right way, reason codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from retrained import differences

from overdue.risk.behaviour import BehaviourFacts, score_behaviour, train_behaviour
from overdue.risk.behaviour import shipped_model as behaviour_model
from overdue.risk.collection import (
    GENERATOR_MODEL_FILE,
    MODEL_FILE,
    CollectionFacts,
    score_collection,
    train_collection,
)
from overdue.risk.collection import shipped_model as collection_model
from overdue.risk.logistic import LogisticModel, load_model, save_model
from overdue.risk.modelfiles import shipped_path
from overdue.risk.reasons import REASONS, reason_text
from overdue.sim.model import DEFAULT_FRAUD_SHARE
from overdue.sim.outcomes import TRAIN_ACCOUNTS, TRAIN_CAPACITY, TRAIN_MONTHS, TRAIN_SEEDS

Trainer = Callable[..., tuple[LogisticModel, Any, dict[str, Any]]]

CLEAN = BehaviourFacts(36, 0, 0, 0, 0.3, 0)
RISKY = BehaviourFacts(4, 45, 75, 2, 0.98, 5)


@pytest.mark.parametrize("trainer", [train_behaviour, train_collection])
def test_model_file_round_trips_to_scikit_learns_predictions(trainer: Trainer, tmp_path: Path) -> None:
    model, _, test = trainer(rows=4_000)
    path = tmp_path / "model.json"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded == model
    ours = np.array([loaded.probability(row) for row in test["rows"]])
    assert np.allclose(ours, test["sklearn_probability"], rtol=0, atol=1e-12)
    assert 0.6 < loaded.metrics["auc"] < 0.95
    assert loaded.metrics["gini"] == pytest.approx(2 * loaded.metrics["auc"] - 1)


def test_the_shipped_files_are_the_seeded_training() -> None:
    generator = load_model(shipped_path(GENERATOR_MODEL_FILE))
    for shipped, trainer in ((behaviour_model(), train_behaviour), (generator, train_collection)):
        fresh, _, _ = trainer()
        assert differences((shipped.features, shipped.intercept), (fresh.features, fresh.intercept)) == []
        assert shipped.dataset == fresh.dataset


def test_the_collection_score_in_use_is_trained_on_the_simulator_s_default_portfolios() -> None:
    # Retraining it takes about ten minutes (tests/sim/test_sim_outcomes.py shows training is deterministic
    # on smaller portfolios); its file says which portfolios it was trained on: the defaults.
    shipped = collection_model()
    assert shipped == load_model(shipped_path(MODEL_FILE)) and MODEL_FILE == "collection-v2.json"
    assert (shipped.name, shipped.version, shipped.target) == ("collection", 2, "pay_30d")
    assert shipped.dataset == {
        "generator": "overdue.sim.outcomes.train_on_simulation",
        "seeds": list(TRAIN_SEEDS),
        "accounts": TRAIN_ACCOUNTS,
        "months": TRAIN_MONTHS,
        "fraud_share": DEFAULT_FRAUD_SHARE,
        "calls": f"{TRAIN_CAPACITY} a day per 1,000 accounts, balance first",
        "rows": shipped.dataset["rows"],
    }
    assert shipped.dataset["rows"] > 100_000 and 0.6 < shipped.metrics["auc"] < 0.95


def test_behaviour_score_orders_clean_above_risky_with_reasons() -> None:
    model = behaviour_model()
    clean, risky = score_behaviour(CLEAN, model), score_behaviour(RISKY, model)
    assert clean.score > risky.score and clean.probability_bad < risky.probability_bad
    assert risky.reasons and all(r.startswith("RAISES_RISK:") for r in risky.reasons)
    assert "RAISES_RISK:worst_dpd_12m" in risky.reasons
    assert clean.model == "behaviour-v1"


@pytest.mark.parametrize("file_name", [MODEL_FILE, GENERATOR_MODEL_FILE])
def test_collection_propensity_falls_with_dpd_and_lost_contact(file_name: str) -> None:
    model = load_model(shipped_path(file_name))
    early = CollectionFacts(3, 0, 2, 1, 0, 0, 1)
    late = CollectionFacts(120, 0, 2, 1, 0, 0, 1)
    lost = CollectionFacts(3, 0, 2, 1, 0, 0, 0)
    kept = CollectionFacts(3, 0, 2, 1, 2, 0, 1)
    p = {
        name: score_collection(f, model).propensity
        for name, f in {"early": early, "late": late, "lost": lost, "kept": kept}.items()
    }
    assert p["late"] < p["early"] < p["kept"] and p["lost"] < p["early"]
    assert "LOWERS_PROPENSITY:days_past_due" in score_collection(late, model).reasons
    assert "LOWERS_PROPENSITY:reachable" in score_collection(lost, model).reasons


def test_what_a_broken_promise_says_depends_on_the_data_the_score_learnt_from() -> None:
    # The generator makes a broken promise lower the chance of payment; in the simulator's outcomes a
    # promise, even broken, marks a borrower who answered and engaged, and the score trained on them
    # (the one in use) reads it so (docs/risk.md "A collection score trained on the simulator").
    early = CollectionFacts(3, 0, 2, 1, 0, 0, 1)
    broken = CollectionFacts(3, 0, 2, 1, 0, 3, 1)
    for file_name, lower in ((GENERATOR_MODEL_FILE, True), (MODEL_FILE, False)):
        model = load_model(shipped_path(file_name))
        is_lower = score_collection(broken, model).propensity < score_collection(early, model).propensity
        assert is_lower == lower, file_name


def test_every_reason_code_has_both_languages() -> None:
    for code, (zh, en) in REASONS.items():
        assert zh and en, code
    assert reason_text("RAISES_RISK:utilisation") == "raises risk: utilisation"
    assert reason_text("THIN_FILE_FLOOR", "zh") == "信用记录不足，给予最低额度"
