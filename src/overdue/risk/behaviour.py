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

:func:`behaviour_facts` derives the inputs from an account's state (with its full bucket history) and every
statement it has had; ``overdue risk explain``, the end-of-day's month-end scores (the ``behaviour_score``
fact) and the simulator all use it, so they score the same account alike:

- worst DPD in a window is estimated from the bucket history (DPD rises by one a day within a bucket spell,
  starting from the bucket's lower edge), never below today's DPD;
- "times past 30" is the number of M1 → M2 moves in the last 12 months;
- utilisation is today's principal over the limit;
- minimum-only statements are the completed cycles of the last 6 months paid on time but only in part
  (:func:`overdue.risk.review.cycles_from_history`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from overdue.domain.calendar import add_months
from overdue.domain.state import AccountState, AccountStatus, BucketSpell, Statement
from overdue.risk.logistic import FeatureSpec, LogisticModel, fit_logistic, load_model, top_reasons
from overdue.risk.review import cycles_from_history
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
FEATURES = tuple(spec.name for spec in SPECS)
PPM = 1_000_000
"""Parts per million: the recorded probability of going bad is an integer."""


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

    @property
    def points(self) -> int:
        """The score in whole scorecard points (half up): what is recorded and what strategies read."""
        return math.floor(self.score + 0.5)

    @property
    def probability_bad_ppm(self) -> int:
        """P(bad) in parts per million (half up), as recorded."""
        return math.floor(self.probability_bad * PPM + 0.5)


def _values(facts: BehaviourFacts) -> dict[str, float]:
    """The model's inputs (``dataclasses.asdict`` would do, slower: the simulator scores every account)."""
    return {name: float(getattr(facts, name)) for name in FEATURES}


def score_behaviour(
    facts: BehaviourFacts, model: LogisticModel, scaling: Scaling | None = None
) -> BehaviourScore:
    """Score ``facts`` with ``model`` (see :func:`shipped_model`)."""
    values = _values(facts)
    contributions = model.contributions(values)
    log_odds_bad = model.intercept + sum(contributions.values())
    score = (scaling or Scaling()).score(-log_odds_bad)
    return BehaviourScore(
        score=score,
        probability_bad=1.0 / (1.0 + math.exp(-log_odds_bad)),  # model.probability, without a second pass
        reasons=top_reasons(contributions, "RAISES_RISK", +1.0),
        model=f"{model.name}-v{model.version}",
    )


def _bucket_number(bucket: str) -> int:
    return int(bucket.removeprefix("M").removesuffix("+"))


def worst_dpd(spells: Sequence[BucketSpell], start: date, end: date, bucket_days: int) -> int:
    """The highest DPD reached between ``start`` and ``end`` (inclusive), estimated from bucket spells."""
    worst = 0
    for spell in spells:
        number = _bucket_number(spell.bucket)
        if number == 0:
            continue
        last_day = end if spell.left is None else min(end, spell.left - timedelta(days=1))
        if last_day < start or spell.entered > last_day:
            continue
        lower = (number - 1) * bucket_days + 1
        estimate = lower + (last_day - spell.entered).days
        # Within a bucket DPD cannot pass its upper edge (the open-ended last bucket has none).
        upper = number * bucket_days
        is_last = spell.bucket.endswith("+")
        worst = max(worst, estimate if is_last else min(upper, estimate))
    return worst


def _moves(spells: Sequence[BucketSpell], from_bucket: str, to_bucket: str) -> list[date]:
    ordered = sorted(spells, key=lambda s: s.entered)
    return [
        s.entered
        for previous, s in zip([None, *ordered[:-1]], ordered, strict=True)
        if s.bucket == to_bucket and (previous.bucket if previous else "M0") == from_bucket
    ]


def months_on_book(opened_on: date, on: date) -> int:
    """Whole months from ``opened_on`` to ``on``, at least 1."""
    months = (
        (on.year - opened_on.year) * 12 + on.month - opened_on.month - (1 if on.day < opened_on.day else 0)
    )
    return max(1, months)


def behaviour_facts(state: AccountState, statements: Sequence[Statement], on: date) -> BehaviourFacts:
    """The behaviour score's inputs for ``state`` after its end-of-day of ``on`` (see the module docstring).

    state: the account with its **full** bucket history (an end-of-day load keeps only the open spell);
    statements: every statement the account has had, settled ones included, in any order (those dated
    after ``on`` are left out).
    """
    spells = state.bucket_history
    bucket_days = state.terms.bucket_days
    six_ago, year_ago = add_months(on, -6), add_months(on, -12)
    billed = [s for s in statements if s.statement_date <= on]
    cycles = cycles_from_history(billed, spells, state.credit_limit, on, state.terms.grace_days)
    return BehaviourFacts(
        months_on_book=months_on_book(state.opened_on, on),
        worst_dpd_6m=max(state.days_past_due, worst_dpd(spells, six_ago, on, bucket_days)),
        worst_dpd_12m=max(state.days_past_due, worst_dpd(spells, year_ago, on, bucket_days)),
        times_30_plus_12m=sum(1 for d in _moves(spells, "M1", "M2") if year_ago <= d <= on),
        utilisation=state.principal / state.credit_limit,
        minimum_only_6m=sum(1 for c in cycles if c.minimum_only and c.statement_date > six_ago),
    )


def scored_at_month_end(state: AccountState) -> bool:
    """Whether the month end scores the account: every account on book but a written-off one and a closed
    line with nothing left to pay."""
    return state.status is not AccountStatus.WRITTEN_OFF and not state.closed_with_nothing_owed


def month_end_score(state: AccountState, statements: Sequence[Statement], on: date) -> BehaviourScore:
    """The shipped model's behaviour score of ``state`` on the month end ``on`` (:func:`behaviour_facts`)."""
    return score_behaviour(behaviour_facts(state, statements, on), shipped_model())


@cache
def shipped_model() -> LogisticModel:
    """The behaviour model shipped with overdue (read once per process)."""
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
