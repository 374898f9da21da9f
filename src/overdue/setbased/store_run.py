"""The set-based end-of-day on the operational store: read in bulk → run in the engine → write back.

:func:`run_on_store` is what ``overdue eod --engine duckdb|postgres|spark --store`` runs. It reads the store
once (:func:`overdue.setbased.store_io.read_store`: one query per table), loads the tables into the engine
(:class:`~overdue.setbased.day.Portfolio`), and for each business date not yet closed up to ``through``
runs the set-based day there and writes its results into the store in one database transaction
(:func:`overdue.setbased.store_write.write_day`): a date is written whole or not at all, and a run that
stops resumes from the first date not closed, as the reference runner does.

The limit review runs after each date's day (:class:`~overdue.setbased.limits_run.LimitReviewer`, over
the limit changes, older statements and closed bucket spells read in bulk with the state:
:func:`overdue.setbased.limits_io.read_review`): the changes due applied, on a review day the reviews made,
and what they changed written in the date's transaction (:func:`overdue.setbased.limits_io.write_review`).

With a strategy, decide → comply → act runs after the review (:class:`~overdue.setbased.collect.Collector`,
over the collection records read in bulk: :func:`overdue.setbased.store_collect.read_collections`), and the
date's actions, outbox messages, work items and changed collection records go in the same transaction
(:func:`overdue.setbased.store_collect.write_collections`). What the collection half does not compile
(:class:`~overdue.setbased.params.Unsupported`: a lender's own rule, a strategy reading ``behaviour_score``,
…) is refused, as are templates failing the lint, before any date is written.

At each month end the accounts are scored with the shipped behaviour model over tables
(:class:`~overdue.setbased.behaviour.BehaviourScorer`, from the store's latest scores) after the review, and
the scores recorded in ``behaviour_scores`` as the reference records them; the collections read them as the
``behaviour_score`` fact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from ibis.backends import BaseBackend  # type: ignore[import-untyped]
from sqlalchemy import Engine

from overdue.compliance import Rulebook
from overdue.compliance import rulebook as product_rulebook
from overdue.domain.calendar import iter_days
from overdue.engine.limits import LimitReview
from overdue.engine.reference import first_open_date
from overdue.setbased.behaviour import BehaviourScorer
from overdue.setbased.day import Portfolio
from overdue.setbased.limits_io import read_review, write_review
from overdue.setbased.limits_run import LimitReviewer
from overdue.setbased.store_collect import StoreCollector, read_behaviour, read_collections, write_behaviour
from overdue.setbased.store_io import read_store
from overdue.setbased.store_write import DayOutputs, write_day
from overdue.setbased.timing import Step, recording_if, steps_entry, timed
from overdue.strategy.model import Strategy


@dataclass
class StoreRunSummary:
    """What a set-based run on the store did."""

    engine: str
    dates: list[date] = field(default_factory=list)
    accounts_run: int = 0
    transactions: int = 0
    read_seconds: float = 0.0
    limit_changes: dict[str, int] = field(default_factory=dict)
    """Limit changes recorded by the review, by action."""
    collections: bool = False
    """Whether decide → comply → act ran (a strategy was given)."""
    actions: dict[str, int] = field(default_factory=dict)
    """Collection actions recorded, by status (``queued``, ``refused``)."""
    action_types: dict[str, int] = field(default_factory=dict)
    """Collection actions recorded, by type (refused ones under ``refused``), as the reference counts them."""
    seconds: list[float] = field(default_factory=list)
    """Wall-clock seconds of each date: the run in the engine, fetching its state and outputs, the write."""
    steps: list[tuple[Step, ...] | None] = field(default_factory=list)
    """Each date's steps' times (:mod:`~overdue.setbased.timing`), when the run was asked to time them."""

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "dates": [d.isoformat() for d in self.dates],
            "accounts_run": self.accounts_run,
            "transactions": self.transactions,
            "read_seconds": round(self.read_seconds, 3),
            "days": [
                {
                    "date": d.isoformat(),
                    "seconds": round(s, 3),
                    **steps_entry(steps),
                }
                for d, s, steps in zip(self.dates, self.seconds, self.steps, strict=True)
            ],
            "limit_changes": dict(sorted(self.limit_changes.items())),
            "actions": dict(sorted(self.actions.items())),
            "action_types": dict(sorted(self.action_types.items())),
            "not_run": [] if self.collections else ["collections"],
        }


def run_on_store(
    engine: Engine,
    through: date,
    backend: BaseBackend,
    *,
    engine_name: str,
    progress: Callable[[date, int, int], None] | None = None,
    review: LimitReview | None = None,
    strategy: Strategy | None = None,
    rulebook: Rulebook | None = None,
    steps: bool = False,
) -> StoreRunSummary:
    """Run every business date of the store not yet closed, up to and including ``through``, on ``backend``.

    Refuses (:class:`Unsupported`, nothing written) a store holding what the set-based day does not cover.
    review: the limit review's policy and schedule (default: the reference's, on each statement day).
    strategy: run decide → comply → act with it after each date's day and review (None: no collections).
    rulebook: the rulebook every planned contact passes (default: the one the product names, as the
    reference's). Templates failing its lint, and what the collection half does not compile, are refused
    (:class:`InvalidInput`, :class:`Unsupported`) before any date is written.
    steps: time each step of every date (:mod:`~overdue.setbased.timing`), in each date's ``steps``.
    """
    summary = StoreRunSummary(engine_name, collections=strategy is not None)
    start = first_open_date(engine)
    if start is None or start > through:
        return summary
    began = time.perf_counter()
    with engine.connect() as conn:
        # An arrangement ending ends its plan hold and escalates a broken plan: the collections follow it
        # (Collector.run) and the write-back writes it (store_write; the escalation with the records).
        store = read_store(conn)
        ids = store.tables.accounts["account_id"].combine_chunks()
        zones = store.tables.accounts["timezone"].combine_chunks()
        history = read_review(conn, ids)
        records = None if strategy is None else read_collections(conn, ids, zones, start)
        latest = read_behaviour(conn, ids, start)
    portfolio = Portfolio.load(store.tables, store.terms, backend)
    scorer = BehaviourScorer(portfolio, history.spell_history, history.statement_history, latest)
    collector = None
    if strategy is not None and records is not None:
        rules = rulebook or product_rulebook(store.terms.rulebook)
        collector = StoreCollector(
            portfolio, strategy, rules, records, zones, history.spell_history, behaviour=scorer
        )
    reviewer = LimitReviewer.load(
        portfolio,
        history.changes,
        review,
        statement_history=history.statement_history,
        spell_history=history.spell_history,
    )
    versions: list[int] = store.versions.to_pylist()
    account_ids: list[str] = ids.to_pylist()
    before = store.tables
    summary.read_seconds = time.perf_counter() - began
    days = list(iter_days(start, through))
    for done, on in enumerate(days, start=1):
        began = time.perf_counter()
        with recording_if(steps) as times:
            run = portfolio.run_day(on)
            with timed("limit review"):
                reviewed = reviewer.run_day(on)
            with timed("fetch: the day's outputs and state"):
                postings, spells, bureau = portfolio.outputs()
                changes, notices, messages = reviewer.outputs()
                after = portfolio.tables()
            collected = None if collector is None else collector.run(on)
            with timed("behaviour scores"):
                scored = scorer.run(on) if collected is None else collected[0].behaviour_scores
            outputs = DayOutputs(
                on,
                before,
                after,
                postings,
                spells,
                bureau,
                run.accounts_run,
                store.terms.grace_days,
                reviewed.recorded,
            )
            with timed("write: the store"), engine.begin() as conn:
                if collector is not None and collected is not None:
                    recorded = collector.write(conn, account_ids, *collected)
                    outputs = replace(outputs, actions=recorded.by_type, collected=True)
                    _count(summary.actions, recorded.by_status)
                    _count(summary.action_types, recorded.by_type)
                written = write_day(conn, outputs, versions, engine_name)
                write_behaviour(conn, account_ids, scored)
                write_review(
                    conn, on, account_ids, changes, reviewer.changed_accounts(), versions, notices, messages
                )
            _count(summary.limit_changes, reviewed.recorded)
            before = after
        summary.steps.append(None if times is None else tuple(times.steps()))
        summary.dates.append(on)
        summary.accounts_run += run.accounts_run
        summary.transactions += written.transactions
        summary.seconds.append(time.perf_counter() - began)
        if progress is not None:
            progress(on, done, len(days))
    return summary


def _count(into: dict[str, int], counts: dict[str, int]) -> None:
    for key, count in counts.items():
        into[key] = into.get(key, 0) + count
