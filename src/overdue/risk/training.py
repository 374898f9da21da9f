"""Training and validating the application scorecard (optbinning) against a plain logistic regression.

The method, on one stratified 70/30 split with a fixed seed:

1. **binning**: optbinning's :class:`BinningProcess` finds, for every feature, the monotonic (numerical) or
   grouped (categorical) bins that best separate goods from bads on the training 70 %, and replaces each value
   by its bin's weight of evidence;
2. **scorecard**: a logistic regression on those weights of evidence, scaled to points (600 at 50:1 odds,
   20 points to double them; :class:`overdue.risk.scorecard.Scaling`);
3. **baseline**: scikit-learn's logistic regression on the raw features (categoricals one-hot encoded,
   numerics standardised), trained on the same 70 %;
4. both are measured on the held-out 30 %: AUC, KS and Gini (:mod:`overdue.risk.metrics`), and the PSI of the
   test scores against the training scores (a check that the split is representative).

optbinning, scikit-learn and pandas are heavy to import (seconds), so they are imported inside the functions
here; scoring a saved model (:mod:`overdue.risk.scorecard`) needs none of them. optbinning 1.0 emits pandas
deprecation warnings while fitting; they are silenced around its calls only.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from overdue.risk import metrics
from overdue.risk.data import Dataset
from overdue.risk.scorecard import Scaling, ScoreBin, ScorecardFeature, ScorecardModel

TEST_SHARE = 0.3
SPLIT_SEED = 42
MODEL_VERSION = 1


@contextmanager
def _quiet_optbinning() -> Iterator[None]:
    """Silence the deprecation warnings optbinning 1.0 triggers in pandas 3 (they are not ours to fix)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            from pandas.errors import Pandas4Warning  # type: ignore[import-untyped]

            warnings.simplefilter("ignore", Pandas4Warning)
        except ImportError:  # pragma: no cover - older pandas has no such class
            pass
        yield


@dataclass(frozen=True)
class Split:
    x_train: Any
    x_test: Any
    bad_train: Any
    bad_test: Any


def split(dataset: Dataset, test_share: float = TEST_SHARE, seed: int = SPLIT_SEED) -> Split:
    """The stratified train/test split every model of ``dataset`` is trained and measured on."""
    from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]

    x_train, x_test, bad_train, bad_test = train_test_split(
        dataset.frame, dataset.bad, test_size=test_share, stratify=dataset.bad, random_state=seed
    )
    return Split(x_train, x_test, bad_train, bad_test)


def fit_scorecard(dataset: Dataset, data: Split, scaling: Scaling) -> Any:
    """An optbinning :class:`Scorecard` fitted on the training part (returned as optbinning's object)."""
    from optbinning import BinningProcess, Scorecard  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    names = list(dataset.frame.columns)
    with _quiet_optbinning():
        process = BinningProcess(names, categorical_variables=list(dataset.categorical))
        card = Scorecard(
            binning_process=process,
            estimator=LogisticRegression(max_iter=1000),
            scaling_method="pdo_odds",
            scaling_method_params={
                "pdo": scaling.pdo,
                "odds": scaling.base_odds,
                "scorecard_points": scaling.base_score,
            },
            intercept_based=False,
            reverse_scorecard=False,
            rounding=False,
        )
        card.fit(data.x_train, data.bad_train)
    return card


def fit_baseline(dataset: Dataset, data: Split) -> Any:
    """The baseline: one-hot categoricals + standardised numerics → logistic regression (scikit-learn)."""
    from sklearn.compose import ColumnTransformer  # type: ignore[import-untyped]
    from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
    from sklearn.preprocessing import OneHotEncoder, StandardScaler  # type: ignore[import-untyped]

    numerical = [c for c in dataset.frame.columns if c not in dataset.categorical]
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), list(dataset.categorical)),
            ("numerical", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numerical),
        ]
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=1000))
    model.fit(data.x_train, data.bad_train)
    return model


def scorecard_model(
    card: Any, dataset: Dataset, scaling: Scaling, measured: dict[str, Any]
) -> ScorecardModel:
    """Turn a fitted optbinning scorecard into a :class:`ScorecardModel` (bins, points, provenance)."""
    with _quiet_optbinning():
        table = card.table(style="detailed")
    features = []
    for name in card.binning_process_.get_support(names=True):
        rows = table[table["Variable"] == name]
        regular = rows[~rows["Bin"].isin(["Special", "Missing"])]
        missing = rows[rows["Bin"].astype(str) == "Missing"]
        binned = card.binning_process_.get_binned_variable(name)
        categorical = binned.dtype == "categorical"
        bins = tuple(
            ScoreBin(
                label=_label(r["Bin"]),
                points=float(r["Points"]),
                count=int(r["Count"]),
                event_rate=float(r["Event rate"]),
                woe=float(r["WoE"]),
                categories=tuple(str(c) for c in r["Bin"]) if categorical else (),
            )
            for _, r in regular.iterrows()
        )
        features.append(
            ScorecardFeature(
                name=str(name),
                kind="categorical" if categorical else "numerical",
                bins=bins,
                missing_points=float(missing["Points"].iloc[0]),
                splits=() if categorical else tuple(float(s) for s in binned.splits),
            )
        )
    return ScorecardModel(
        name=f"application-{dataset.name}",
        version=MODEL_VERSION,
        features=tuple(features),
        scaling=scaling,
        trained_on=date.today().isoformat(),
        dataset={
            "name": dataset.name,
            "source": dataset.source,
            "rows": len(dataset.frame),
            "sha256": dataset.sha256,
            "target": "bad",
            "split": {"test_share": TEST_SHARE, "seed": SPLIT_SEED, "stratified": True},
        },
        metrics=measured,
    )


def _label(value: Any) -> str:
    if isinstance(value, str):
        return value
    return ", ".join(str(v) for v in value)


def _measure(scores: Any, bad: Any) -> dict[str, float]:
    return {
        "auc": metrics.auc(scores, bad),
        "ks": metrics.ks(scores, bad),
        "gini": metrics.gini(scores, bad),
    }


@dataclass(frozen=True)
class Trained:
    """The result of :func:`train_application`: the model file's content, and what it was measured on."""

    model: ScorecardModel
    card: Any
    """optbinning's fitted Scorecard (for comparison; scoring uses :attr:`model`)."""
    data: Split
    test_scores: Any
    train_scores: Any
    report: dict[str, Any]


def train_application(dataset: Dataset, scaling: Scaling | None = None, seed: int = SPLIT_SEED) -> Trained:
    """Train the application scorecard and the baseline on ``dataset`` and measure both on the test split
    (``seed``: the split's seed; the shipped models and ``overdue risk validate`` use :data:`SPLIT_SEED`)."""
    scaling = scaling or Scaling()
    data = split(dataset, seed=seed)
    card = fit_scorecard(dataset, data, scaling)
    with _quiet_optbinning():
        test_scores = np.asarray(card.score(data.x_test), dtype=np.float64)
        train_scores = np.asarray(card.score(data.x_train), dtype=np.float64)
    baseline = fit_baseline(dataset, data)
    # The baseline predicts P(bad); its "score" is P(good) so that higher is safer, as for the scorecard.
    baseline_scores = 1.0 - baseline.predict_proba(data.x_test)[:, 1]
    measured = _measure(test_scores, data.bad_test)
    stability = metrics.psi(train_scores, test_scores)
    report: dict[str, Any] = {
        "dataset": dataset.name,
        "rows": len(dataset.frame),
        "train_rows": len(data.x_train),
        "test_rows": len(data.x_test),
        "bad_rate": float(np.mean(dataset.bad)),
        **measured,
        "baseline": {
            "model": "logistic regression (one-hot + standardised)",
            **_measure(baseline_scores, data.bad_test),
        },
        "psi_train_test": stability.value,
        "features": len(card.binning_process_.get_support(names=True)),
        "split": {"test_share": TEST_SHARE, "seed": seed, "stratified": True},
        "scaling": {"base_score": scaling.base_score, "base_odds": scaling.base_odds, "pdo": scaling.pdo},
    }
    model = scorecard_model(
        card,
        dataset,
        scaling,
        {k: report[k] for k in ("auc", "ks", "gini")}
        | {"baseline": {k: report["baseline"][k] for k in ("auc", "ks", "gini")}},
    )
    return Trained(model, card, data, test_scores, train_scores, report)


def rounded(report: dict[str, Any], places: int = 4) -> dict[str, Any]:
    """``report`` with every float rounded to ``places`` (metrics are not money: JSON numbers are fine)."""
    out: dict[str, Any] = {}
    for key, value in report.items():
        if isinstance(value, dict):
            out[key] = rounded(value, places)
        elif isinstance(value, float) and math.isfinite(value):
            out[key] = round(value, places)
        else:
            out[key] = value
    return out
