"""Small logistic models in a versioned JSON file: the behaviour and collection scores.

A :class:`LogisticModel` predicts the probability of one event (``target``) from a handful of numeric
features. Each feature is first **capped** (values above ``cap`` count as ``cap``), optionally **log-scaled**
(``ln(1 + x)``), then **standardised** with the training mean and standard deviation; the model is
``logit P(target) = intercept + Σ coefficient × z``. The file holds all of it, so scoring is a few lines of
arithmetic with no scikit-learn and no network.

Because every feature is standardised, ``coefficient × z`` is the feature's **contribution** to the log-odds
relative to the average training account; the largest contributions in the unfavourable direction are the
reason codes.

:func:`fit_logistic` trains one with scikit-learn (imported there only).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from overdue.domain.errors import InvalidInput, NotFound
from overdue.risk import metrics

FORMAT = "overdue-logistic"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class FeatureSpec:
    """How one raw value becomes a model input: cap, then ``ln(1 + x)`` when ``log``."""

    name: str
    cap: float | None = None
    log: bool = False

    def transform(self, value: float) -> float:
        if value < 0:
            raise InvalidInput(f"{self.name} must not be negative, got {value}")
        x = min(value, self.cap) if self.cap is not None else value
        return math.log1p(x) if self.log else x


@dataclass(frozen=True)
class ModelFeature:
    spec: FeatureSpec
    mean: float
    scale: float
    coefficient: float

    def contribution(self, value: float) -> float:
        return self.coefficient * (self.spec.transform(value) - self.mean) / self.scale


@dataclass(frozen=True)
class LogisticModel:
    name: str
    version: int
    target: str
    """What the probability is of (``bad_6m``: 30+ DPD in the next 6 months; ``pay_30d``: a payment that cures
    or reaches the minimum within 30 days)."""
    features: tuple[ModelFeature, ...]
    intercept: float
    trained_on: str
    dataset: Mapping[str, Any]
    metrics: Mapping[str, Any]

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.spec.name for f in self.features)

    def contributions(self, values: Mapping[str, float]) -> dict[str, float]:
        """Each feature's share of the log-odds, relative to the average training account."""
        missing = [n for n in self.feature_names if n not in values]
        if missing:
            raise InvalidInput(f"{self.name}: missing features {', '.join(missing)}")
        return {f.spec.name: f.contribution(float(values[f.spec.name])) for f in self.features}

    def log_odds(self, values: Mapping[str, float]) -> float:
        return self.intercept + sum(self.contributions(values).values())

    def probability(self, values: Mapping[str, float]) -> float:
        """P(``target``) for one account."""
        return 1.0 / (1.0 + math.exp(-self.log_odds(values)))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "target": self.target,
            "trained_on": self.trained_on,
            "dataset": dict(self.dataset),
            "intercept": self.intercept,
            "features": [
                {
                    "name": f.spec.name,
                    "cap": f.spec.cap,
                    "log": f.spec.log,
                    "mean": f.mean,
                    "scale": f.scale,
                    "coefficient": f.coefficient,
                }
                for f in self.features
            ],
            "metrics": dict(self.metrics),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogisticModel:
        if data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
            raise InvalidInput(f"not an overdue logistic model file (format {FORMAT} v{FORMAT_VERSION})")
        try:
            return cls(
                name=data["name"],
                version=int(data["version"]),
                target=data["target"],
                trained_on=data["trained_on"],
                dataset=data["dataset"],
                intercept=float(data["intercept"]),
                features=tuple(
                    ModelFeature(
                        FeatureSpec(f["name"], None if f["cap"] is None else float(f["cap"]), bool(f["log"])),
                        float(f["mean"]),
                        float(f["scale"]),
                        float(f["coefficient"]),
                    )
                    for f in data["features"]
                ),
                metrics=data["metrics"],
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidInput(f"malformed model file: {error}") from error


def save_model(model: LogisticModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def load_model(path: Path) -> LogisticModel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise NotFound(f"no model file at {path}") from error
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{path} is not JSON: {error}") from error
    return LogisticModel.from_json(data)


def top_reasons(
    contributions: Mapping[str, float], kind: str, sign: float, count: int = 3
) -> tuple[str, ...]:
    """Reason codes ``KIND:feature`` for the features pushing hardest in the direction ``sign`` (+1: up)."""
    ranked = sorted(contributions.items(), key=lambda item: -sign * item[1])
    return tuple(f"{kind}:{name}" for name, value in ranked[:count] if sign * value > 1e-9)


def fit_logistic(
    name: str,
    target: str,
    specs: Sequence[FeatureSpec],
    columns: Mapping[str, npt.NDArray[np.float64]],
    outcome: npt.NDArray[np.int64],
    dataset: Mapping[str, Any],
    seed: int,
    version: int = 1,
) -> tuple[LogisticModel, Any, dict[str, Any]]:
    """Train on a stratified 70/30 split; returns the model (its file's ``version``), scikit-learn's estimator
    and the test data.

    columns: raw values per feature name; outcome: 1 where ``target`` happened.
    """
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]

    raw = np.column_stack([np.asarray(columns[s.name], dtype=np.float64) for s in specs])
    x_train, x_test, y_train, y_test = train_test_split(
        raw, outcome, test_size=0.3, stratify=outcome, random_state=seed
    )

    def inputs(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.column_stack([[s.transform(v) for v in rows[:, i]] for i, s in enumerate(specs)])

    t_train = inputs(x_train)
    means = t_train.mean(axis=0)
    scales = t_train.std(axis=0)
    scales[scales == 0] = 1.0
    estimator = LogisticRegression(max_iter=1000)
    estimator.fit((t_train - means) / scales, y_train)
    test_probability = estimator.predict_proba((inputs(x_test) - means) / scales)[:, 1]
    # Higher "score" = less of the target: for AUC/KS the score is 1 - P(target) when the target is bad.
    oriented = -test_probability if target.startswith("bad") else test_probability
    bad_for_metrics = y_test if target.startswith("bad") else 1 - y_test
    measured = {
        "auc": metrics.auc(oriented, bad_for_metrics),
        "ks": metrics.ks(oriented, bad_for_metrics),
        "gini": metrics.gini(oriented, bad_for_metrics),
        "event_rate": float(outcome.mean()),
        "test_rows": len(y_test),
    }
    model = LogisticModel(
        name=name,
        version=version,
        target=target,
        features=tuple(
            ModelFeature(s, float(means[i]), float(scales[i]), float(estimator.coef_[0][i]))
            for i, s in enumerate(specs)
        ),
        intercept=float(estimator.intercept_[0]),
        trained_on=date.today().isoformat(),
        dataset=dataset,
        metrics=measured,
    )
    test = {
        "rows": [dict(zip((s.name for s in specs), map(float, row), strict=True)) for row in x_test],
        "sklearn_probability": test_probability,
        "outcome": y_test,
    }
    return model, estimator, test
