"""The behaviour score: how likely an account on book is to go 30+ days past due in the next 6 months.

Inputs (:class:`BehaviourFacts`, all from the account's own payment history): months on book, the worst DPD
in the last 6 and 12 months, how many times it went past 30 DPD in the last 12 months, today's utilisation
(principal over limit), and how many of the last 6 statements were paid only to their minimum.

The model is a :class:`~overdue.risk.logistic.LogisticModel` (shipped as ``models/behaviour-v1.json``),
trained on synthetic accounts from :func:`synthetic_accounts`, a seeded and documented process:

- each account has a latent risk ``r ~ normal(0, 1)`` and 1–60 months on book;
- in each of the last 12 months on book it misses a payment with chance ``sigmoid(-3.2 + 1.3 r)``; a miss
  reaches a DPD of ``1 + exponential(8 × e^(0.6 r))`` (at most 180);
- utilisation is ``beta(2, 3) + 0.12 r + normal(0, 0.1)``, clipped to 0–1.2;
- each of the last (up to 6) statements is paid only to its minimum with chance ``sigmoid(-1.6 + 0.9 r)``;
- the outcome, 30+ DPD within 6 months, has ``logit = -3.0 + 1.2 r + 0.4 × (months on book < 6)``.

The score is on the application scorecard's scale (600 = 50:1 good:bad odds, 20 points double them); reason
codes ``RAISES_RISK:<feature>`` name the features that push the risk up most against the average account.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from overdue.risk.logistic import FeatureSpec, LogisticModel, fit_logistic, load_model, top_reasons
from overdue.risk.scorecard import Scaling

SEED = 20260601
ROWS = 20_000
MODEL_FILE = "behaviour-v1.json"

SPECS = (
    FeatureSpec("months_on_book", cap=60, log=True),
    FeatureSpec("worst_dpd_6m", cap=180, log=True),
    FeatureSpec("worst_dpd_12m", cap=180, log=True),
    FeatureSpec("times_30_plus_12m", cap=6),
    FeatureSpec("utilisation", cap=1.2),
    FeatureSpec("minimum_only_6m", cap=6),
)


@dataclass(frozen=True)
class BehaviourFacts:
    months_on_book: int
    worst_dpd_6m: int
    worst_dpd_12m: int
    times_30_plus_12m: int
    utilisation: float
    """Principal over the credit limit (a ratio, not money)."""
    minimum_only_6m: int


@dataclass(frozen=True)
class BehaviourScore:
    score: float
    probability_bad: float
    reasons: tuple[str, ...]
    model: str

    def to_json(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 1),
            "probability_bad": round(self.probability_bad, 4),
            "reasons": list(self.reasons),
            "model": self.model,
        }


def score_behaviour(
    facts: BehaviourFacts, model: LogisticModel, scaling: Scaling | None = None
) -> BehaviourScore:
    """Score ``facts`` with ``model`` (see :func:`shipped_model`)."""
    values = {k: float(v) for k, v in asdict(facts).items()}
    contributions = model.contributions(values)
    log_odds_bad = model.intercept + sum(contributions.values())
    score = (scaling or Scaling()).score(-log_odds_bad)
    return BehaviourScore(
        score=score,
        probability_bad=model.probability(values),
        reasons=top_reasons(contributions, "RAISES_RISK", +1.0),
        model=f"{model.name}-v{model.version}",
    )


def shipped_model() -> LogisticModel:
    """The behaviour model shipped with overdue."""
    return load_model(Path(str(resources.files("overdue.risk").joinpath("models", MODEL_FILE))))


def _sigmoid(x: Any) -> Any:
    return 1 / (1 + np.exp(-x))


def synthetic_accounts(rows: int = ROWS, seed: int = SEED) -> tuple[dict[str, Any], Any, str]:
    """Feature columns, outcomes (1 = 30+ DPD in the next 6 months) and their SHA-256 (see module doc)."""
    rng = np.random.default_rng([seed, 0xBE])
    risk = rng.normal(0, 1, rows)
    on_book = rng.integers(1, 61, rows)
    observed = np.arange(12)[None, :] < np.minimum(on_book, 12)[:, None]  # month 0 = the latest
    miss = (rng.random((rows, 12)) < _sigmoid(-3.2 + 1.3 * risk)[:, None]) & observed
    depth = np.minimum(180, np.floor(1 + rng.exponential(1.0, (rows, 12)) * 8 * np.exp(0.6 * risk)[:, None]))
    dpd = np.where(miss, depth, 0)
    utilisation = np.clip(rng.beta(2, 3, rows) + 0.12 * risk + rng.normal(0, 0.1, rows), 0, 1.2)
    minimum_only = rng.binomial(np.minimum(on_book, 6), _sigmoid(-1.6 + 0.9 * risk))
    bad = (rng.random(rows) < _sigmoid(-3.0 + 1.2 * risk + 0.4 * (on_book < 6))).astype(np.int64)
    columns = {
        "months_on_book": on_book.astype(np.float64),
        "worst_dpd_6m": dpd[:, :6].max(axis=1).astype(np.float64),
        "worst_dpd_12m": dpd.max(axis=1).astype(np.float64),
        "times_30_plus_12m": (dpd > 30).sum(axis=1).astype(np.float64),
        "utilisation": utilisation,
        "minimum_only_6m": minimum_only.astype(np.float64),
    }
    digest = hashlib.sha256(np.column_stack([*columns.values(), bad]).tobytes()).hexdigest()
    return columns, bad, digest


def train_behaviour(rows: int = ROWS, seed: int = SEED) -> tuple[LogisticModel, Any, dict[str, Any]]:
    """Train the behaviour model on :func:`synthetic_accounts`; returns model, estimator and test data."""
    columns, bad, digest = synthetic_accounts(rows, seed)
    dataset = {
        "generator": "overdue.risk.behaviour.synthetic_accounts",
        "rows": rows,
        "seed": seed,
        "sha256": digest,
    }
    return fit_logistic("behaviour", "bad_6m", SPECS, columns, bad, dataset, seed)
