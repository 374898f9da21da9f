"""Behaviour and collection scores: model files round-trip, scores move the right way, reason codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from overdue.risk.behaviour import BehaviourFacts, score_behaviour, train_behaviour
from overdue.risk.behaviour import shipped_model as behaviour_model
from overdue.risk.collection import CollectionFacts, score_collection, train_collection
from overdue.risk.collection import shipped_model as collection_model
from overdue.risk.logistic import LogisticModel, load_model, save_model
from overdue.risk.reasons import REASONS, reason_text

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
    for shipped, trainer in ((behaviour_model(), train_behaviour), (collection_model(), train_collection)):
        fresh, _, _ = trainer()
        assert shipped.features == fresh.features and shipped.intercept == fresh.intercept
        assert shipped.dataset == fresh.dataset


def test_behaviour_score_orders_clean_above_risky_with_reasons() -> None:
    model = behaviour_model()
    clean, risky = score_behaviour(CLEAN, model), score_behaviour(RISKY, model)
    assert clean.score > risky.score and clean.probability_bad < risky.probability_bad
    assert risky.reasons and all(r.startswith("RAISES_RISK:") for r in risky.reasons)
    assert "RAISES_RISK:worst_dpd_12m" in risky.reasons
    assert clean.model == "behaviour-v1"


def test_collection_propensity_falls_with_dpd_and_broken_promises() -> None:
    model = collection_model()
    early = CollectionFacts(3, 0, 2, 1, 0, 0, 1)
    late = CollectionFacts(120, 0, 2, 1, 0, 0, 1)
    broken = CollectionFacts(3, 0, 2, 1, 0, 3, 1)
    kept = CollectionFacts(3, 0, 2, 1, 2, 0, 1)
    p = {
        name: score_collection(f, model).propensity
        for name, f in {"early": early, "late": late, "broken": broken, "kept": kept}.items()
    }
    assert p["late"] < p["early"] and p["broken"] < p["early"] < p["kept"]
    reasons = score_collection(late, model).reasons
    assert reasons[0] == "LOWERS_PROPENSITY:days_past_due"


def test_every_reason_code_has_both_languages() -> None:
    for code, (zh, en) in REASONS.items():
        assert zh and en, code
    assert reason_text("RAISES_RISK:utilisation") == "raises risk: utilisation"
    assert reason_text("THIN_FILE_FLOOR", "zh") == "信用记录不足，给予最低额度"
