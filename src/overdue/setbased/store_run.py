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

Not done by this path (``docs/setbased.md``): the month-end behaviour scores and decide → comply → act.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ibis.backends import BaseBackend  # type: ignore[import-untyped]
from sqlalchemy import Engine

from overdue.domain.calendar import iter_days
from overdue.engine.limits import LimitReview
from overdue.engine.reference import first_open_date
from overdue.setbased.day import Portfolio
from overdue.setbased.limits_io import read_review, write_review
from overdue.setbased.limits_run import LimitReviewer
from overdue.setbased.store_io import read_store
from overdue.setbased.store_write import DayOutputs, write_day


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
    seconds: list[float] = field(default_factory=list)
    """Wall-clock seconds of each date: the run in the engine, fetching its state and outputs, the write."""

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "dates": [d.isoformat() for d in self.dates],
            "accounts_run": self.accounts_run,
            "transactions": self.transactions,
            "read_seconds": round(self.read_seconds, 3),
            "days": [
                {"date": d.isoformat(), "seconds": round(s, 3)}
                for d, s in zip(self.dates, self.seconds, strict=True)
            ],
            "limit_changes": dict(sorted(self.limit_changes.items())),
            "not_run": ["month-end behaviour scores", "collections"],
        }


def run_on_store(
    engine: Engine,
    through: date,
    backend: BaseBackend,
    *,
    engine_name: str,
    progress: Callable[[date, int, int], None] | None = None,
    review: LimitReview | None = None,
) -> StoreRunSummary:
    """Run every business date of the store not yet closed, up to and including ``through``, on ``backend``.

    Refuses (:class:`Unsupported`, nothing written) a store holding what the set-based day does not cover.
    review: the limit review's policy and schedule (default: the reference's, on each statement day).
    """
    summary = StoreRunSummary(engine_name)
    start = first_open_date(engine)
    if start is None or start > through:
        return summary
    began = time.perf_counter()
    with engine.connect() as conn:
        store = read_store(conn)
        ids = store.tables.accounts["account_id"].combine_chunks()
        history = read_review(conn, ids)
    portfolio = Portfolio.load(store.tables, store.terms, backend)
    reviewer = LimitReviewer.load(
        portfolio,
        history.changes,
        review,
        statement_history=history.statement_history,
        spell_history=history.spell_history,
    )
    versions: list[int] = store.versions.to_pylist()
    before = store.tables
    summary.read_seconds = time.perf_counter() - began
    days = list(iter_days(start, through))
    for done, on in enumerate(days, start=1):
        began = time.perf_counter()
        run = portfolio.run_day(on)
        reviewed = reviewer.run_day(on)
        postings, spells, bureau = portfolio.outputs()
        changes, notices, messages = reviewer.outputs()
        after = portfolio.tables()
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
        with engine.begin() as conn:
            written = write_day(conn, outputs, versions, engine_name)
            write_review(
                conn, on, ids.to_pylist(), changes, reviewer.changed_accounts(), versions, notices, messages
            )
        for action, count in reviewed.recorded.items():
            summary.limit_changes[action] = summary.limit_changes.get(action, 0) + count
        before = after
        summary.dates.append(on)
        summary.accounts_run += run.accounts_run
        summary.transactions += written.transactions
        summary.seconds.append(time.perf_counter() - began)
        if progress is not None:
            progress(on, done, len(days))
    return summary
