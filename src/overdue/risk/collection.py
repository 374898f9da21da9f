"""The collection score: how likely a delinquent account is to pay within the next 30 days.

Inputs (:class:`CollectionFacts`): today's DPD, how many earlier delinquency episodes the account had in the
last 12 months, the contact attempts and connects of the current episode, promises to pay kept and broken,
and whether the borrower can be reached at all.

The model is a :class:`~overdue.risk.logistic.LogisticModel`. The one in use, ``models/collection-v2.json``
(:data:`MODEL_FILE`), is trained on the simulator's own delinquent accounts and what they paid
(:mod:`overdue.sim.outcomes`). Its predecessor, ``models/collection-v1.json`` (:data:`GENERATOR_MODEL_FILE`,
``overdue risk train --model collection --dataset generator``), is trained on synthetic delinquent accounts
from :func:`synthetic_delinquents`, a seeded process that follows the simulator's behaviour model
(:class:`overdue.sim.model.BehaviourModel`, its defaults but for fraud):

- ability ``~ beta(6, 1.4)`` and willingness ``~ beta(5, 1.3)`` as in :mod:`overdue.sim.borrowers`; 30 % of
  delinquent borrowers have lost their job (ability × 0.25);
- DPD ``= 1 + exponential(10 + 80 × (1 - ability × willingness))`` days, at most 180: weaker borrowers are
  deeper in arrears;
- unreachable with chance ``0.10 + 0.20 × (1 - willingness)``; attempts
  ``~ Poisson(0.5 × min(DPD, 30) + 1)``; connects ``~ binomial(attempts, 0.6)`` when reachable, else 0;
- earlier episodes in 12 months ``~ Poisson(0.2 + 8 × (1 - ability)(1 - willingness))``;
- promises made ``~ binomial(connects, 0.55 × willingness)``, at most 5, each kept with chance
  ability × willingness;
- the daily repayment hazard is ``base_hazard × ability × willingness × (1 + pressure)`` (capped at
  ``max_hazard``) with ``pressure = early_weight(DPD) × willingness × (0.15 + 0.45 × [connected])``, a
  tenth of it when unreachable; the outcome is a payment within 30 days, with chance ``1 - (1 - hazard)^30``.

The result is ``propensity`` (P(pay within 30 days)) and reason codes ``LOWERS_PROPENSITY:<feature>``.

:func:`collection_facts` derives the inputs from an account's state and collection state; ``overdue risk
explain``, the end-of-day's ``score`` fact and the simulator all use it, so they score the same account alike.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from overdue.domain.calendar import add_months
from overdue.domain.collections import CollectionState
from overdue.domain.errors import InvalidInput
from overdue.domain.state import AccountState, BucketSpell
from overdue.risk.logistic import FeatureSpec, LogisticModel, fit_logistic, load_model, top_reasons

SEED = 20260602
ROWS = 20_000
MODEL_VERSION = 2
MODEL_FILE = f"collection-v{MODEL_VERSION}.json"
"""The shipped collection model: trained on the simulator's outcomes (:mod:`overdue.sim.outcomes`)."""
GENERATOR_MODEL_FILE = "collection-v1.json"
"""Its predecessor, trained on :func:`synthetic_delinquents` (kept: ``OVERDUE_COLLECTION_MODEL`` can name it,
and docs/risk.md compares the two)."""

SPECS = (
    FeatureSpec("days_past_due", cap=180, log=True),
    FeatureSpec("earlier_episodes_12m", cap=6),
    FeatureSpec("attempts", cap=60, log=True),
    FeatureSpec("connects", cap=20, log=True),
    FeatureSpec("promises_kept", cap=5),
    FeatureSpec("promises_broken", cap=5),
    FeatureSpec("reachable", cap=1),
)


@dataclass(frozen=True)
class CollectionFacts:
    days_past_due: int
    earlier_episodes_12m: int
    attempts: int
    connects: int
    promises_kept: int
    promises_broken: int
    reachable: int
    """1 when the borrower can be reached, 0 after lost contact."""


@dataclass(frozen=True)
class CollectionScore:
    propensity: float
    """P(a payment within 30 days)."""
    reasons: tuple[str, ...]
    model: str

    def to_json(self) -> dict[str, Any]:
        return {"propensity": round(self.propensity, 4), "reasons": list(self.reasons), "model": self.model}


FEATURES = tuple(spec.name for spec in SPECS)


def _values(facts: CollectionFacts) -> dict[str, float]:
    """The model's inputs (``dataclasses.asdict`` would do, slower: the simulator scores often)."""
    return {name: float(getattr(facts, name)) for name in FEATURES}


def score_collection(facts: CollectionFacts, model: LogisticModel) -> CollectionScore:
    """Score ``facts`` with ``model`` (see :func:`shipped_model`)."""
    values = _values(facts)
    contributions = model.contributions(values)
    return CollectionScore(
        propensity=model.probability(values),
        reasons=top_reasons(contributions, "LOWERS_PROPENSITY", -1.0),
        model=f"{model.name}-v{model.version}",
    )


def delinquency_entries(spells: Sequence[BucketSpell]) -> list[date]:
    """The dates the account moved from M0 into M1 (the start of each delinquency episode)."""
    entries: list[date] = []
    previous = "M0"  # before the first spell
    for spell in sorted(spells, key=_entered):
        if spell.bucket == "M1" and previous == "M0":
            entries.append(spell.entered)
        previous = spell.bucket
    return entries


def _entered(spell: BucketSpell) -> date:
    return spell.entered


def collection_facts(state: AccountState, collection: CollectionState, on: date) -> CollectionFacts | None:
    """The collection score's inputs for ``state`` on ``on``; None when the account is not delinquent.

    Earlier episodes are M0 → M1 moves in the 12 months before the current episode (``state``'s bucket
    history: pass the full history for an exact count); attempts and connects are the current episode's;
    promises are those ``collection`` keeps (pending ones and the latest resolved), resolved in the last 12
    months.
    """
    if state.days_past_due <= 0:
        return None
    year_ago = add_months(on, -12)
    episode_start = collection.episode_started_on or on
    resolved = [p for p in collection.promises if p.resolved_on is not None and p.resolved_on >= year_ago]
    return CollectionFacts(
        days_past_due=state.days_past_due,
        earlier_episodes_12m=sum(
            1 for d in delinquency_entries(state.bucket_history) if year_ago <= d < episode_start
        ),
        attempts=collection.attempts,
        connects=collection.connects,
        promises_kept=sum(1 for p in resolved if p.status == "kept"),
        promises_broken=sum(1 for p in resolved if p.status == "broken"),
        reachable=1 if collection.contactability == "reachable" else 0,
    )


SCORE_FACT_SCALE = 100
"""The ``score`` fact is the propensity in whole percent (0–100), so strategies write ``score: [60, 100]``."""


def score_fact(state: AccountState, collection: CollectionState, on: date) -> int | None:
    """The strategy's ``score`` fact: the shipped collection model's propensity for ``state`` on ``on``
    (:func:`collection_facts`), rounded to whole percent; None when the account is not delinquent."""
    facts = collection_facts(state, collection, on)
    return None if facts is None else round(shipped_propensity(facts) * SCORE_FACT_SCALE)


@lru_cache(maxsize=100_000)
def shipped_propensity(facts: CollectionFacts) -> float:
    """``score_collection(facts, shipped_model()).propensity``, without the reasons. The propensity depends
    on the seven small whole numbers of ``facts`` alone, so each set of them is scored once per process and
    remembered (the end-of-day and the simulator ask for the same ones again and again)."""
    return shipped_model().probability(_values(facts))


MODEL_ENV = "OVERDUE_COLLECTION_MODEL"
"""An environment variable naming a collection model file to use instead of the shipped one (a model
retrained on the lender's own outcomes, or the simulator's: :mod:`overdue.sim.outcomes`)."""


@cache
def shipped_model() -> LogisticModel:
    """The collection model shipped with overdue, or the file ``$OVERDUE_COLLECTION_MODEL`` names (read once
    per process; a file with other features than the shipped model's is refused)."""
    override = os.environ.get(MODEL_ENV)
    if not override:
        return load_model(Path(str(resources.files("overdue.risk").joinpath("models", MODEL_FILE))))
    model = load_model(Path(override))
    if model.name != "collection" or tuple(model.feature_names) != FEATURES:
        raise InvalidInput(
            f"{MODEL_ENV}={override}: model {model.name!r} with features {list(model.feature_names)}, "
            f"not a collection model with {list(FEATURES)}"
        )
    return model


def synthetic_delinquents(rows: int = ROWS, seed: int = SEED) -> tuple[dict[str, Any], Any, str]:
    """Feature columns, outcomes (1 = paid within 30 days) and their SHA-256 (see the module docstring)."""
    # Imported here: the simulator scores accounts with this module, so importing it at the top is circular.
    from overdue.sim.model import BehaviourModel

    behaviour = BehaviourModel()
    rng = np.random.default_rng([seed, 0xC0])
    ability = rng.beta(6.0, 1.4, rows) * np.where(rng.random(rows) < 0.3, 0.25, 1.0)
    willingness = rng.beta(5.0, 1.3, rows)
    dpd = np.minimum(180, np.floor(1 + rng.exponential(1.0, rows) * (10 + 80 * (1 - ability * willingness))))
    reachable = rng.random(rows) >= 0.10 + 0.20 * (1 - willingness)
    attempts = rng.poisson(0.5 * np.minimum(dpd, 30) + 1)
    connects = np.where(reachable, rng.binomial(attempts, 0.6), 0)
    earlier = rng.poisson(0.2 + 8 * (1 - ability) * (1 - willingness))
    made = np.minimum(5, rng.binomial(connects, 0.55 * willingness))
    kept = rng.binomial(made, ability * willingness)
    early = np.array([behaviour.early_weight(int(d)) for d in dpd])
    pressure = early * willingness * (0.15 + 0.45 * (connects > 0)) * np.where(reachable, 1.0, 0.1)
    hazard = np.minimum(behaviour.max_hazard, behaviour.base_hazard * ability * willingness * (1 + pressure))
    paid = (rng.random(rows) < 1 - (1 - hazard) ** 30).astype(np.int64)
    columns = {
        "days_past_due": dpd,
        "earlier_episodes_12m": earlier.astype(np.float64),
        "attempts": attempts.astype(np.float64),
        "connects": connects.astype(np.float64),
        "promises_kept": kept.astype(np.float64),
        "promises_broken": (made - kept).astype(np.float64),
        "reachable": reachable.astype(np.float64),
    }
    digest = hashlib.sha256(np.column_stack([*columns.values(), paid]).tobytes()).hexdigest()
    return columns, paid, digest


def train_collection(rows: int = ROWS, seed: int = SEED) -> tuple[LogisticModel, Any, dict[str, Any]]:
    """Train the collection model on :func:`synthetic_delinquents`; returns model, estimator and test data."""
    columns, paid, digest = synthetic_delinquents(rows, seed)
    dataset = {
        "generator": "overdue.risk.collection.synthetic_delinquents",
        "rows": rows,
        "seed": seed,
        "sha256": digest,
    }
    return fit_logistic("collection", "pay_30d", SPECS, columns, paid, dataset, seed)
