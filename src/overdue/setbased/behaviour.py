"""Month-end behaviour scores over tables: the reference's ``score_month_end``, for every account at once.

At a month end the reference scores every account that ran (but a written-off one and a closed line with
nothing owed: :func:`overdue.risk.behaviour.scored_at_month_end`) with the shipped behaviour model
(:func:`overdue.risk.behaviour.month_end_score`), records the score in ``behaviour_scores``, and the
collection strategy's ``behaviour_score`` fact is the latest recorded score on or before the day. Here:

- :func:`features` — one query: the model's inputs per scored account (:func:`overdue.risk.behaviour.
  behaviour_facts`): the worst DPD in the 6 and 12 months to the date, estimated from every bucket spell
  (the portfolio's closed spells, the ones its tables do not hold, each account's open spell) and never
  below today's DPD; the M1 → M2 moves in the 12 months (a window over the spells by date entered, as the
  collection score orders them); the principal owed and the limit; the minimum-only cycles of the 6 months
  (:func:`overdue.risk.review.cycles_from_history` over every statement: unpaid, settled and the older
  ``statement_history`` the tables do not hold) — all integers;
- :func:`scores` — the score in Python from the fetched integers, vectorised with NumPy and exact: each
  integer feature's contribution is looked up in a table the model's own
  :meth:`~overdue.risk.logistic.ModelFeature.contribution` computed (finite domains after the caps);
  utilisation's contribution, the sum (from 0, in feature order, as Python's ``sum``), the intercept and
  the scaling are IEEE double ``+ - * /``, exactly rounded, in the reference's order, so the doubles are
  Python's. The probability uses ``exp``, whose last bit NumPy and :func:`math.exp` may round differently:
  the rows whose ppm lies within 10^-6 of a rounding edge are computed again with :func:`math.exp`. The
  reason codes rank the contributions as :func:`~overdue.risk.logistic.top_reasons` does (a stable sort).

:class:`BehaviourScorer` runs both at a month end, after the day and the limit review, and keeps each
account's latest score inside the backend (``behaviour_latest``), where the collection half reads the
``behaviour_score`` fact (:func:`overdue.setbased.collect_decide.account_facts`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import cache

import ibis  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]
import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from overdue.domain.calendar import add_months, is_month_end
from overdue.domain.terms import ProductTerms
from overdue.risk.behaviour import FEATURES, PPM, shipped_model
from overdue.risk.logistic import LogisticModel
from overdue.risk.scorecard import Scaling
from overdue.setbased.backend import table_name
from overdue.setbased.day import Portfolio
from overdue.setbased.encode import CLOSED, DAY, ENGINE, WRITTEN_OFF, bucket_names, day_number, encode
from overdue.setbased.layout import SPELLS
from overdue.setbased.limits import (
    ENGINE_STATEMENT_HISTORY,
    REVIEW_STATEMENT_COLUMNS,
    STATEMENT_HISTORY,
    all_spells,
    marked_cycles,
    owed_principal,
)
from overdue.setbased.params import Unsupported
from overdue.setbased.steps import int_sum, left_join

FEATURE_COLUMNS = pa.schema(
    [
        pa.field("account_key", pa.int64()),
        pa.field("opened_on", DAY),
        pa.field("worst_dpd_6m", pa.int64()),
        pa.field("worst_dpd_12m", pa.int64()),
        pa.field("times_30_plus_12m", pa.int64()),
        pa.field("principal", pa.int64()),
        pa.field("credit_limit", pa.int64()),
        pa.field("minimum_only_6m", pa.int64()),
    ]
)
"""What :func:`features` fetches: the integers the model's inputs come from."""
SCORES = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("month_end", pa.date32(), nullable=False),
        pa.field("score_points", pa.int64(), nullable=False),
        pa.field("probability_bad_ppm", pa.int64(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("reasons", pa.string(), nullable=False),
    ]
)
"""The month-end scores, as the reference records them in ``behaviour_scores`` (keyed by ``account_key``)."""
LATEST = pa.schema([pa.field("account_key", pa.int64()), pa.field("behaviour_score", pa.int64())])
"""Each account's latest recorded score (points): the ``behaviour_score`` fact."""
REASON_KIND = "RAISES_RISK"
REASON_FLOOR = 1e-9
""":func:`~overdue.risk.logistic.top_reasons` names a feature only when it pushes the risk up by more."""
REASON_COUNT = 3
EDGE = 1e-6
"""A ppm this close to a rounding edge (``x.5``) is computed again with :func:`math.exp`."""


# --- the features ---------------------------------------------------------------------------------------


def features(
    accounts: ir.Table,
    facts: ir.Table,
    statements: ir.Table,
    every: ir.Table,
    unbilled: ir.Table,
    periods: ir.Table,
    closed_spells: ir.Table,
    on: date,
    terms: ProductTerms,
) -> ir.Table:
    """The behaviour model's integer inputs (:data:`FEATURE_COLUMNS`) of every account scored at the month
    end ``on``: those whose end-of-day of ``on`` ran, but written-off ones and closed lines with nothing
    owed.

    accounts, facts, statements (the unpaid ones), unbilled, periods: the engine's tables after the day
    (and the limit review); every: every statement, unpaid, settled and older, with the review's columns
    (:data:`~overdue.setbased.limits.REVIEW_STATEMENT_COLUMNS`); closed_spells: every closed bucket
    spell."""
    today, six_ago, year_ago = day_number(on), day_number(add_months(on, -6)), day_number(add_months(on, -12))
    ran = accounts.filter(accounts.last_eod == today)
    t = ran.select("account_key", "status", "days_past_due", "opened_on")
    t = t.join(facts.select("account_key", "credit_limit"), "account_key")
    t = left_join(t, owed_principal(statements, unbilled, periods))
    charges = statements.group_by("account_key").aggregate(
        charges=int_sum(statements.interest + statements.overdue_interest + statements.fees)
    )
    t = left_join(t, charges)
    t = t.mutate(principal=t.principal_owed.fill_null(0), charges=t.charges.fill_null(0))
    t = t.filter((t.status != WRITTEN_OFF) & ~((t.status == CLOSED) & (t.principal + t.charges == 0)))
    keys = t.select(scored_key=t.account_key)

    spells = all_spells(closed_spells, ran)
    spells = spells.semi_join(keys, spells.account_key == keys.scored_key)
    t = left_join(t, _worst_dpd(spells, today, six_ago, year_ago, terms))
    t = left_join(t, _moves_to_m2(spells, today, year_ago, terms.last_bucket))
    billed = every.semi_join(keys, every.account_key == keys.scored_key)
    t = left_join(t, _minimum_only(billed, spells, today, six_ago, terms.grace_days))
    result: ir.Table = t.select(
        "account_key",
        "opened_on",
        worst_dpd_6m=ibis.greatest(t.days_past_due, t.worst_6m.fill_null(0)).cast("int64"),
        worst_dpd_12m=ibis.greatest(t.days_past_due, t.worst_12m.fill_null(0)).cast("int64"),
        times_30_plus_12m=t.to_m2.fill_null(0).cast("int64"),
        principal=t.principal.cast("int64"),
        credit_limit=t.credit_limit.cast("int64"),
        minimum_only_6m=t.minimum_only.fill_null(0).cast("int64"),
    )
    return result


def _worst_dpd(spells: ir.Table, today: int, six_ago: int, year_ago: int, terms: ProductTerms) -> ir.Table:
    """:func:`overdue.risk.behaviour.worst_dpd` over the 6 and the 12 months to ``today``."""
    s = spells.filter(spells.bucket != 0)
    last_day = ibis.ifelse(s.left.isnull(), today, ibis.least(today, s.left - 1))
    s = s.mutate(last_day=last_day)
    days = terms.bucket_days
    estimate = (s.bucket.cast("int64") - 1) * days + 1 + (s.last_day - s.entered).cast("int64")
    capped = ibis.ifelse(
        s.bucket == terms.last_bucket, estimate, ibis.least(s.bucket.cast("int64") * days, estimate)
    )
    s = s.mutate(estimate=capped)
    reached = s.entered <= s.last_day
    worst: ir.Table = s.group_by("account_key").aggregate(
        worst_6m=s.estimate.max(where=reached & (s.last_day >= six_ago)),
        worst_12m=s.estimate.max(where=reached & (s.last_day >= year_ago)),
    )
    return worst


def _moves_to_m2(spells: ir.Table, today: int, year_ago: int, last_bucket: int) -> ir.Table:
    """The M1 → M2 moves entered in the 12 months to ``today``: an M2 spell whose previous spell, by date
    entered (the open spell after a closed one entered the same day), is M1 (none counts as M0)."""
    names = bucket_names(last_bucket)
    m1 = names.index("M1") if "M1" in names else -1
    m2 = names.index("M2") if "M2" in names else -1
    order = [spells.entered, spells.left.fill_null(ibis.literal(2**31 - 1, type=DAY))]
    previous = spells.bucket.lag().over(ibis.window(group_by=spells.account_key, order_by=order))
    s = spells.mutate(previous=previous)
    moves = s.filter(
        (s.bucket == m2) & (s.previous.fill_null(0) == m1) & (s.entered >= year_ago) & (s.entered <= today)
    )
    counted: ir.Table = moves.group_by("account_key").aggregate(to_m2=moves.account_key.count())
    return counted


def _minimum_only(
    statements: ir.Table, spells: ir.Table, today: int, six_ago: int, grace_days: int
) -> ir.Table:
    """The cycles finished by ``today`` (due date and grace passed) dated after ``six_ago`` that were paid
    on time (no delinquent spell covers the day after the grace) but rolled (partly paid and not
    installed, or the next statement carries principal): :func:`overdue.risk.review.cycles_from_history`."""
    s = statements.filter(statements.statement_date <= today)
    s = s.mutate(
        following_carried=s.carried_principal.lead().over(group_by=s.account_key, order_by=s.statement_date),
        checked_on=s.due_date + (grace_days + 1),
    )
    s = marked_cycles(s.filter((s.checked_on <= today) & (s.statement_date > six_ago)), spells)
    counted: ir.Table = s.group_by("account_key").aggregate(
        minimum_only=s.account_key.count(where=s.on_time & s.rolled)
    )
    return counted


# --- the score ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BehaviourModel:
    """The shipped behaviour model as lookup tables: each integer feature's contribution by value
    (0 … cap), utilisation's numbers, the intercept and the scaling."""

    tables: dict[str, npt.NDArray[np.float64]]
    """Contributions of ``months_on_book``, ``worst_dpd_*``, ``times_30_plus_12m``, ``minimum_only_6m``."""
    utilisation_cap: float
    utilisation_mean: float
    utilisation_scale: float
    utilisation_coefficient: float
    intercept: float
    offset: float
    factor: float
    version: str


def model_tables(model: LogisticModel) -> BehaviourModel:
    """``model`` (the behaviour model's features: every one but utilisation with a whole cap) as tables."""
    if model.feature_names != FEATURES:
        raise ValueError(f"{model.name}: features {model.feature_names}, not the behaviour score's")
    tables: dict[str, npt.NDArray[np.float64]] = {}
    utilisation = None
    for f in model.features:
        cap = f.spec.cap
        if f.spec.name == "utilisation":
            if cap is None or f.spec.log:
                raise ValueError(f"{model.name}: utilisation needs a cap and no log")
            utilisation = f
            continue
        if cap is None or cap != int(cap) or cap < 0:
            raise ValueError(f"{model.name}: {f.spec.name} has no whole cap")
        tables[f.spec.name] = np.array([f.contribution(float(v)) for v in range(int(cap) + 1)], np.float64)
    assert utilisation is not None and utilisation.spec.cap is not None
    scaling = Scaling()
    return BehaviourModel(
        tables,
        utilisation.spec.cap,
        utilisation.mean,
        utilisation.scale,
        utilisation.coefficient,
        model.intercept,
        scaling.offset,
        scaling.factor,
        f"{model.name}-v{model.version}",
    )


@cache
def shipped() -> BehaviourModel:
    """The shipped behaviour model (:func:`overdue.risk.behaviour.shipped_model`) as tables."""
    return model_tables(shipped_model())


def months_on_book(opened_on: npt.NDArray[np.int32], on: date) -> npt.NDArray[np.int64]:
    """:func:`overdue.risk.behaviour.months_on_book` of day numbers (days since 1970-01-01)."""
    days = opened_on.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    day_of_month = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    month_index = months.astype(np.int64)  # months since 1970-01
    on_index = (on.year - 1970) * 12 + on.month - 1
    whole = on_index - month_index - (on.day < day_of_month).astype(np.int64)
    result: npt.NDArray[np.int64] = np.maximum(1, whole)
    return result


def contributions(
    values: pa.Table, on: date, model: BehaviourModel
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Each row's contributions (one column per feature, in feature order) and its log-odds, the doubles
    :meth:`~overdue.risk.logistic.LogisticModel.contributions` and ``intercept + sum(…)`` give."""

    def column(name: str) -> npt.NDArray[np.int64]:
        array: npt.NDArray[np.int64] = values[name].to_numpy().astype(np.int64)
        return array

    principal, limit = column("principal"), column("credit_limit")
    if (principal < 0).any():
        raise Unsupported("a negative principal: the behaviour model refuses a negative utilisation")
    raw = {
        "months_on_book": months_on_book(values["opened_on"].to_numpy(), on),
        "worst_dpd_6m": column("worst_dpd_6m"),
        "worst_dpd_12m": column("worst_dpd_12m"),
        "times_30_plus_12m": column("times_30_plus_12m"),
        "minimum_only_6m": column("minimum_only_6m"),
    }
    parts: list[npt.NDArray[np.float64]] = []
    for name in FEATURES:
        if name == "utilisation":
            # principal / limit: fen are below 2**53, so both are exact doubles and the quotient is
            # Python's int / int; then min(value, cap) and coefficient * (x - mean) / scale.
            ratio = principal.astype(np.float64) / limit.astype(np.float64)
            x = np.minimum(ratio, model.utilisation_cap)
            parts.append(
                model.utilisation_coefficient * (x - model.utilisation_mean) / model.utilisation_scale
            )
            continue
        table = model.tables[name]
        parts.append(table[np.minimum(raw[name], len(table) - 1)])
    total = np.zeros(values.num_rows, np.float64)  # sum() starts from 0: 0 + c1 is c1
    for part in parts:
        total = total + part
    return np.column_stack(parts) if parts else np.zeros((0, 0)), model.intercept + total


def probability_ppm(log_odds: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """``floor(1 / (1 + exp(-z)) × 10^6 + 0.5)`` as the reference computes it with :func:`math.exp`."""
    with np.errstate(over="ignore"):
        scaled = 1.0 / (1.0 + np.exp(-log_odds)) * PPM + 0.5
    ppm = np.floor(scaled)
    near = np.flatnonzero((scaled - ppm < EDGE) | (ppm + 1 - scaled < EDGE))
    for row in near:
        z = float(log_odds[row])
        ppm[row] = math.floor(1.0 / (1.0 + math.exp(-z)) * PPM + 0.5)
    result: npt.NDArray[np.int64] = ppm.astype(np.int64)
    return result


def reason_codes(parts: npt.NDArray[np.float64]) -> pa.Array:
    """:func:`~overdue.risk.logistic.top_reasons` (``RAISES_RISK``, up to 3) of each row, space-joined."""
    rows, width = parts.shape
    order = np.argsort(-parts, axis=1, kind="stable")
    code = np.zeros(rows, np.int64)
    for rank in range(min(REASON_COUNT, width)):
        index = order[:, rank]
        named = np.take_along_axis(parts, index[:, None], axis=1)[:, 0] > REASON_FLOOR
        code = code * (width + 1) + np.where(named, index + 1, 0)
    unique, inverse = np.unique(code, return_inverse=True)
    texts = []
    for value in unique.tolist():
        picked = []
        for _ in range(min(REASON_COUNT, width)):
            picked.append(value % (width + 1))
            value //= width + 1
        names = [f"{REASON_KIND}:{FEATURES[i - 1]}" for i in reversed(picked) if i]
        texts.append(" ".join(names))
    return pc.take(pa.array(texts, pa.string()), pa.array(inverse.reshape(-1), pa.int64()))


def scores(values: pa.Table, on: date, model: BehaviourModel | None = None) -> pa.Table:
    """The month-end scores (:data:`SCORES`) of the :func:`features` rows ``values`` on ``on``."""
    model = model or shipped()
    parts, log_odds = contributions(values, on, model)
    score = model.offset + model.factor * -log_odds
    return pa.table(
        {
            "account_key": values["account_key"],
            "month_end": pa.repeat(pa.scalar(on, pa.date32()), values.num_rows),
            "score_points": pa.array(np.floor(score + 0.5).astype(np.int64)),
            "probability_bad_ppm": pa.array(probability_ppm(log_odds)),
            "model_version": pa.repeat(pa.scalar(model.version, pa.string()), values.num_rows),
            "reasons": reason_codes(parts) if values.num_rows else pa.array([], pa.string()),
        },
        schema=SCORES,
    )


# --- the run ------------------------------------------------------------------------------------------------


def _table(name: str, schema: pa.Schema) -> ir.Table:
    return ibis.table(ibis.Schema.from_pyarrow(schema), name=table_name(name))


class BehaviourScorer:
    """Month-end behaviour scores for one portfolio, and each account's latest score inside its backend
    (``behaviour_latest``, :data:`LATEST`).

    portfolio: the day's state. spell_history: the closed bucket spells its tables do not hold (layout
    :data:`~overdue.setbased.layout.SPELLS`; an empty table for a portfolio built from states);
    statement_history: the statements its tables do not hold (:data:`~overdue.setbased.limits.
    STATEMENT_HISTORY`; empty likewise); latest: each account's latest recorded score before the first
    date run (:data:`LATEST`; none: no score yet)."""

    def __init__(
        self,
        portfolio: Portfolio,
        spell_history: pa.Table,
        statement_history: pa.Table,
        latest: pa.Table | None = None,
    ) -> None:
        self.portfolio = portfolio
        db = portfolio.db
        last = portfolio.terms.last_bucket
        db.load("behaviour_spell_history", encode(spell_history.cast(SPELLS), "bucket_spells", last))
        history = statement_history.cast(STATEMENT_HISTORY)
        db.load(
            "behaviour_statement_history",
            pa.table(
                [pc.cast(history[f.name], f.type) for f in ENGINE_STATEMENT_HISTORY],
                schema=ENGINE_STATEMENT_HISTORY,
            ),
        )
        self.latest: pa.Table = LATEST.empty_table() if latest is None else latest.cast(LATEST)
        self.recorded: pa.Table = SCORES.empty_table()
        """The scores the last :meth:`run` recorded."""
        db.load("behaviour_latest", self.latest)

    def features(self, on: date) -> pa.Table:
        """The :func:`features` rows of the month end ``on`` (after its day and limit review)."""
        every = ibis.union(
            *(
                _table(name, schema).select(*REVIEW_STATEMENT_COLUMNS)
                for name, schema in (
                    ("statements", ENGINE["statements"]),
                    ("settled", ENGINE["settled"]),
                    ("behaviour_statement_history", ENGINE_STATEMENT_HISTORY),
                )
            ),
            distinct=False,
        )
        expr = features(
            _table("accounts", ENGINE["accounts"]),
            _table("facts", ENGINE["facts"]),
            _table("statements", ENGINE["statements"]),
            every,
            _table("unbilled", ENGINE["unbilled"]),
            _table("periods", ENGINE["periods"]),
            ibis.union(
                _table("bucket_spells", ENGINE["bucket_spells"]),
                _table("behaviour_spell_history", ENGINE["bucket_spells"]),
                distinct=False,
            ),
            on,
            self.portfolio.terms,
        )
        db = self.portfolio.db
        table: pa.Table = db.fetch(str(ibis.to_sql(expr, dialect=db.dialect)), FEATURE_COLUMNS)
        return table.sort_by("account_key")

    def run(self, on: date) -> pa.Table:
        """Score the accounts at the month end ``on`` (nothing on another day) and keep each scored
        account's latest score; returns the scores recorded (:data:`SCORES`, by ``account_key``)."""
        self.recorded = SCORES.empty_table()
        if not is_month_end(on):
            return self.recorded
        recorded = scores(self.features(on), on)
        kept = self.latest.filter(pc.invert(pc.is_in(self.latest["account_key"], recorded["account_key"])))
        fresh = pa.table(
            {"account_key": recorded["account_key"], "behaviour_score": recorded["score_points"]},
            schema=LATEST,
        )
        self.latest = pa.concat_tables([kept, fresh]).sort_by("account_key")
        self.portfolio.db.load("behaviour_latest", self.latest)
        self.recorded = recorded
        return recorded
