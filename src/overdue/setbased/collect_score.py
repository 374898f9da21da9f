"""The collection score over tables: the strategy's ``score`` fact, exactly as the reference computes it.

The reference (:func:`overdue.risk.collection.score_fact`) turns an account's collection facts
(:func:`~overdue.risk.collection.collection_facts`) into the shipped logistic model's log-odds
``z = intercept + sum(contributions)`` (Python's ``sum``, in feature order), the probability
``1 / (1 + exp(-z))``, and the fact ``round(100 × p)`` (half to even). Over tables the engine computes no
floating-point function at all:

- **contributions**: every feature is an integer capped to a small range (DPD 0–180, attempts 0–60, …), so
  each feature's contribution is one of a few Python floats, computed here once with the model's own
  :meth:`~overdue.risk.logistic.ModelFeature.contribution` (:data:`CONTRIBUTIONS`: one row per value). The
  engine looks each up (a join on the capped value) and adds them as Python does:
  ``intercept + ((((c1 + c2) + c3) + …) + c7)`` (``sum`` starts from 0, and ``0 + c1`` is ``c1``).
  IEEE double addition is exactly rounded, so in the same order DuckDB, PostgreSQL (``float8``) and Spark
  (``double``) give the log-odds bit for bit (``tests/setbased/test_setbased_collect_score.py`` checks it
  on all three);
- **no exp**: :func:`thresholds` finds, for k = 1 … 100, the smallest double ``t_k`` whose
  :func:`score_of` is at least k, by bisection over the doubles in order, and checks the step at each:
  the score is the number of thresholds at or below ``z`` (a ``CASE`` chain over a one-row table,
  :data:`THRESHOLDS`, that also holds the intercept);
- the floats reach the engine as ``float64`` columns of those two small tables, never as SQL literals (a
  decimal literal is ``NUMERIC`` on PostgreSQL and ``DECIMAL`` on DuckDB: converted or computed inexactly).

The facts: DPD, the episode's attempts and connects and the contactability after the episode review (as
:func:`overdue.setbased.collect_decide.account_facts` has them); promises kept and broken resolved in the 12
months to the business date, after today's promise review; the earlier episodes, M0 → M1 moves in the 12
months before the episode's start, from the full bucket history — the portfolio's closed spells
(``bucket_spells``), the closed spells its tables do not hold (a portfolio read from the store: the
``spell_history`` given to :meth:`overdue.setbased.collect.Collector.load`) and each account's open spell.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache

import ibis  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]

from overdue.domain.calendar import add_months
from overdue.risk.collection import FEATURES, SCORE_FACT_SCALE, shipped_model
from overdue.risk.logistic import LogisticModel
from overdue.setbased.collect_act import reviewed_promises
from overdue.setbased.collect_tables import enum_code
from overdue.setbased.encode import DAY, bucket_names, day_number
from overdue.setbased.limits import all_spells
from overdue.setbased.steps import Today, left_join

YEAR_AGO = 1_999_000_011
"""The integer that stands for the day number of 12 months before the business date in compiled SQL
(beside :data:`overdue.setbased.steps.PLACEHOLDERS`), replaced by :func:`year_ago_binding` before it runs."""
SEARCH_LOW = -700.0
SEARCH_HIGH = 700.0
"""The range the thresholds are searched in: ``exp(-z)`` is finite in it, the score 0 at its low end and
100 at its high end."""


def score_of(z: float) -> int:
    """The ``score`` fact of log-odds ``z``, as :func:`overdue.risk.collection.score_fact` computes it."""
    propensity = 1.0 / (1.0 + math.exp(-z))
    return round(propensity * SCORE_FACT_SCALE)


def _ordered(x: float) -> int:
    """An integer that orders the doubles as their values do (-0.0 and 0.0 alike)."""
    bits: int = struct.unpack("<q", struct.pack("<d", x))[0]
    return bits if bits >= 0 else -(bits & 0x7FFF_FFFF_FFFF_FFFF)


def _double(key: int) -> float:
    """The double of an :func:`_ordered` key."""
    if key < 0:
        return -_double(-key)
    value: float = struct.unpack("<d", struct.pack("<q", key))[0]
    return value


def thresholds() -> tuple[float, ...]:
    """``t_1 … t_100``: ``t_k`` is the smallest double with ``score_of(t_k) >= k``.

    Each is found by bisection over the doubles in order (their bit patterns), and the step checked:
    ``score_of(t_k) >= k`` and ``score_of`` of the double just below it ``< k``. Raises ``ArithmeticError``
    when the search range does not hold every score."""
    low, high = _ordered(SEARCH_LOW), _ordered(SEARCH_HIGH)
    if score_of(SEARCH_LOW) != 0 or score_of(SEARCH_HIGH) != SCORE_FACT_SCALE:
        raise ArithmeticError("the threshold search range does not span every score")
    found: list[float] = []
    for k in range(1, SCORE_FACT_SCALE + 1):
        below, at = low, high  # score_of(below) < k <= score_of(at)
        while at - below > 1:
            middle = (below + at) // 2
            if score_of(_double(middle)) >= k:
                at = middle
            else:
                below = middle
        t = _double(at)
        if not (score_of(t) >= k > score_of(math.nextafter(t, -math.inf))):
            raise ArithmeticError(f"the score does not step up to {k} at {t!r}")
        if found and t < found[-1]:
            raise ArithmeticError(f"the thresholds of {k - 1} and {k} are out of order")
        found.append(t)
    return tuple(found)


@dataclass(frozen=True)
class ScoreModel:
    """The shipped collection model as tables: each feature's cap and contributions by value, the
    intercept and the thresholds."""

    intercept: float
    caps: tuple[int, ...]
    """Each feature's cap (:data:`overdue.risk.collection.FEATURES` order)."""
    contributions: tuple[tuple[float, ...], ...]
    """Each feature's contribution for the values 0 … cap."""
    thresholds: tuple[float, ...]

    def log_odds(self, values: tuple[int, ...]) -> float:
        """The log-odds of raw feature values, added as :meth:`LogisticModel.log_odds` adds them."""
        parts = (c[min(v, cap)] for c, v, cap in zip(self.contributions, values, self.caps, strict=True))
        return self.intercept + sum(parts)

    def score(self, z: float) -> int:
        """The score of log-odds ``z``: how many thresholds are at or below it."""
        return sum(1 for t in self.thresholds if t <= z)


def model_tables(model: LogisticModel) -> ScoreModel:
    """``model`` (the collection model's features, integer caps) as tables; refuses another shape."""
    if model.feature_names != FEATURES:
        raise ValueError(f"{model.name}: features {model.feature_names}, not the collection score's")
    caps: list[int] = []
    for f in model.features:
        if f.spec.cap is None or f.spec.cap != int(f.spec.cap) or f.spec.cap < 0:
            raise ValueError(f"{model.name}: {f.spec.name} has no whole cap")
        caps.append(int(f.spec.cap))
    contributions = tuple(
        tuple(f.contribution(float(v)) for v in range(cap + 1))
        for f, cap in zip(model.features, caps, strict=True)
    )
    return ScoreModel(model.intercept, tuple(caps), contributions, thresholds())


@cache
def shipped() -> ScoreModel:
    """The shipped collection model (:func:`overdue.risk.collection.shipped_model`) as tables."""
    return model_tables(shipped_model())


CONTRIBUTIONS = pa.schema(
    [pa.field("value", pa.int64()), *(pa.field(f"c_{name}", pa.float64()) for name in FEATURES)]
)
"""One row per value 0 … the largest cap: each feature's contribution to the log-odds (null past its
cap)."""
THRESHOLDS = pa.schema(
    [
        pa.field("intercept", pa.float64()),
        *(pa.field(f"t_{k}", pa.float64()) for k in range(1, SCORE_FACT_SCALE + 1)),
    ]
)
"""One row: the intercept and the thresholds ``t_1 … t_100``."""


def contributions_table(model: ScoreModel) -> pa.Table:
    rows = max(model.caps) + 1
    columns: dict[str, list[int] | list[float | None]] = {"value": list(range(rows))}
    for name, values in zip(FEATURES, model.contributions, strict=True):
        padded: list[float | None] = [*values, *([None] * (rows - len(values)))]
        columns[f"c_{name}"] = padded
    return pa.table(columns, schema=CONTRIBUTIONS)


def thresholds_table(model: ScoreModel) -> pa.Table:
    row = {"intercept": [model.intercept]}
    row.update({f"t_{k}": [t] for k, t in enumerate(model.thresholds, 1)})
    return pa.table(row, schema=THRESHOLDS)


def year_ago_binding(on: date) -> dict[str, str]:
    """The text that replaces :data:`YEAR_AGO` in the SQL of ``on``."""
    return {str(YEAR_AGO): str(day_number(add_months(on, -12)))}


# --- the expressions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreInputs:
    """The tables the score reads beside the facts (named tables of a compiled plan)."""

    closed_spells: ir.Table
    """Every closed bucket spell (``account_key``, ``bucket`` code, ``entered``, ``left``)."""
    contributions: ir.Table
    """:data:`CONTRIBUTIONS`."""
    thresholds: ir.Table
    """:data:`THRESHOLDS`."""
    last_bucket: int


def with_score(
    t: ir.Table, accounts: ir.Table, promises: ir.Table, inputs: ScoreInputs, day: Today
) -> ir.Table:
    """``t`` (one row per account: ``account_key``, ``days_past_due``, ``attempts``, ``connects``,
    ``contactability``, ``episode_started_on``, after the episode review) with ``score``: the collection
    score in whole percent, null where DPD is 0.

    accounts: the accounts that ran (their open spell: ``bucket``, ``bucket_entered``); promises: every
    promise (engine layout), before today's review."""
    year_ago = ibis.literal(YEAR_AGO, type="int32")
    t = left_join(t, _promise_counts(promises, day, year_ago))
    t = left_join(t, _earlier_episodes(t, accounts, inputs, year_ago))
    raw = {
        "days_past_due": t.days_past_due,
        "earlier_episodes_12m": t.earlier_episodes.fill_null(0),
        "attempts": t.attempts,
        "connects": t.connects,
        "promises_kept": t.kept_12m.fill_null(0),
        "promises_broken": t.broken_12m.fill_null(0),
        "reachable": ibis.ifelse(t.contactability == enum_code("contactability", "reachable"), 1, 0),
    }
    t = log_odds(t, raw, inputs.contributions, inputs.thresholds)
    scored: ir.Table = t.mutate(
        score=ibis.ifelse(t.days_past_due > 0, t.score_value, ibis.null("int64")),
    ).drop("earlier_episodes", "kept_12m", "broken_12m", "score_z", "score_value")
    return scored


def log_odds(
    t: ir.Table, values: Mapping[str, ir.IntegerValue], contributions: ir.Table, thresholds: ir.Table
) -> ir.Table:
    """``t`` with ``score_z``, the log-odds of the feature ``values`` (raw integers, not negative, by
    feature name: expressions over ``t``), and ``score_value``, its score (0–100).

    Each value is capped and its contribution looked up in ``contributions`` (:data:`CONTRIBUTIONS`); the
    contributions are added in feature order, then to the intercept (``thresholds``, :data:`THRESHOLDS`,
    cross-joined: one row), and the score is the number of thresholds at or below the sum."""
    caps = shipped().caps
    t = t.mutate(
        **{
            f"score_{name}": ibis.least(values[name], cap).cast("int64")
            for name, cap in zip(FEATURES, caps, strict=True)
        }
    )
    c = contributions
    for name in FEATURES:
        part = c.select(**{f"score_key_{name}": c.value, f"score_c_{name}": c[f"c_{name}"]})
        t = t.left_join(part, t[f"score_{name}"] == part[f"score_key_{name}"]).drop(
            f"score_key_{name}", f"score_{name}"
        )
    t = t.cross_join(thresholds)
    parts = [t[f"score_c_{name}"] for name in FEATURES]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    t = t.mutate(score_z=t.intercept + total)
    steps = [(t.score_z >= t[f"t_{k}"], k) for k in range(SCORE_FACT_SCALE, 0, -1)]
    result: ir.Table = t.mutate(score_value=ibis.cases(*steps, else_=0).cast("int64")).drop(
        *thresholds.columns, *(f"score_c_{name}" for name in FEATURES)
    )
    return result


def _promise_counts(promises: ir.Table, day: Today, year_ago: ir.IntegerValue) -> ir.Table:
    """Per account: the promises kept and broken resolved on or after ``year_ago``, after today's review
    (a pending promise past its date is broken today)."""
    p = reviewed_promises(promises, day)
    recent = p.resolved_on.notnull() & (p.resolved_on >= year_ago)
    counts: ir.Table = p.group_by("account_key").aggregate(
        kept_12m=p.account_key.count(where=recent & (p.status == "kept")),
        broken_12m=p.account_key.count(where=recent & (p.status == "broken")),
    )
    return counts


def _earlier_episodes(
    t: ir.Table, accounts: ir.Table, inputs: ScoreInputs, year_ago: ir.IntegerValue
) -> ir.Table:
    """Per delinquent account of ``t``: its M0 → M1 moves (:func:`overdue.risk.collection.
    delinquency_entries`: an M1 spell whose previous spell, by date entered, is M0 or none) on or after
    ``year_ago`` and before its episode's start."""
    names = bucket_names(inputs.last_bucket)
    m0 = names.index("M0")
    m1 = names.index("M1") if "M1" in names else -1
    keys = t.filter(t.days_past_due > 0).select(episode_key=t.account_key, episode_start=t.episode_started_on)
    spells = all_spells(inputs.closed_spells, accounts)
    s = spells.join(keys, spells.account_key == keys.episode_key).drop("episode_key")
    # The open spell (no ``left``) after a closed one entered the same day, as the history keeps them.
    order = [s.entered, s.left.fill_null(ibis.literal(2**31 - 1, type=DAY))]
    previous = s.bucket.lag().over(ibis.window(group_by=s.account_key, order_by=order))
    s = s.mutate(previous=previous)
    entries = s.filter(
        (s.bucket == m1)
        & (s.previous.fill_null(m0) == m0)
        & (s.entered >= year_ago)
        & (s.entered < s.episode_start)
    )
    counted: ir.Table = entries.group_by("account_key").aggregate(
        earlier_episodes=entries.account_key.count()
    )
    return counted
