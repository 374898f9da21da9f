"""The set-based end-of-day on the operational store: read in bulk → run in the engine → write back.

:func:`run_on_store` is what ``overdue eod --engine duckdb|postgres|spark --store`` runs. It reads the store
once (:func:`overdue.setbased.store_io.read_store`: one query per table), loads the tables into the engine
(:class:`~overdue.setbased.day.Portfolio`), and for each business date not yet closed up to ``through``
runs the set-based day there and writes its results into the store in one database transaction
(:func:`overdue.setbased.store_write.write_day`): a date is written whole or not at all, and a run that
stops resumes from the first date not closed, as the reference runner does.

Not done by this path (``docs/setbased.md``): the limit review (a date on which a limit change takes
effect is refused; the reviews of a statement day are not made), the month-end behaviour scores and decide →
comply → act.
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
from overdue.engine.reference import first_open_date
from overdue.setbased.day import Portfolio
from overdue.setbased.params import Unsupported
from overdue.setbased.store_io import read_store
from overdue.setbased.store_write import DayOutputs, write_day
from overdue.store import limit_repository


@dataclass
class StoreRunSummary:
    """What a set-based run on the store did."""

    engine: str
    dates: list[date] = field(default_factory=list)
    accounts_run: int = 0
    transactions: int = 0
    read_seconds: float = 0.0
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
            "not_run": ["limit review", "month-end behaviour scores", "collections"],
        }


def run_on_store(
    engine: Engine,
    through: date,
    backend: BaseBackend,
    *,
    engine_name: str,
    progress: Callable[[date, int, int], None] | None = None,
) -> StoreRunSummary:
    """Run every business date of the store not yet closed, up to and including ``through``, on ``backend``.

    Refuses (:class:`Unsupported`, nothing written) a store holding what the set-based day does not cover,
    and a date on which a limit change takes effect (the reference applies it; this path does not yet).
    """
    summary = StoreRunSummary(engine_name)
    start = first_open_date(engine)
    if start is None or start > through:
        return summary
    began = time.perf_counter()
    with engine.connect() as conn:
        store = read_store(conn)
        pending = limit_repository.pending_changes(conn, through)
    if pending:
        first = min(pending)
        raise Unsupported(
            f"account {first}: a limit change takes effect by {through.isoformat()}; the set-based "
            "end-of-day does not apply limit changes yet: run those dates with --engine reference"
        )
    portfolio = Portfolio.load(store.tables, store.terms, backend)
    versions: list[int] = store.versions.to_pylist()
    before = store.tables
    summary.read_seconds = time.perf_counter() - began
    days = list(iter_days(start, through))
    for done, on in enumerate(days, start=1):
        began = time.perf_counter()
        run = portfolio.run_day(on)
        postings, spells, bureau = portfolio.outputs()
        after = portfolio.tables()
        outputs = DayOutputs(
            on, before, after, postings, spells, bureau, run.accounts_run, store.terms.grace_days
        )
        with engine.begin() as conn:
            written = write_day(conn, outputs, versions, engine_name)
        before = after
        summary.dates.append(on)
        summary.accounts_run += run.accounts_run
        summary.transactions += written.transactions
        summary.seconds.append(time.perf_counter() - began)
        if progress is not None:
            progress(on, done, len(days))
    return summary
