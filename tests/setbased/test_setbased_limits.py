"""The limit review over tables against the reference, day by day over months of statement days.

A store is run by the reference (services and ``overdue eod``'s runner, the review on) from January; from
late April the set-based day and review (:class:`~overdue.setbased.limits_run.LimitReviewer`) run each date
too, over the tables read from the store in bulk (loaded again only after the borrowers' purchases and
repayments, otherwise kept in the engine from day to day), before the reference runs it. After every date
the accounts (limit and status included), the statements, every ``limit_changes`` row and every notice
(action and outbox message) must equal what the reference left in the store. Over May–August the review
cuts (near-full use, minimum-only payments; one cut held at what is owed), applies the cuts after their
notice period, freezes, closes at 91 DPD and raises after six on-time cycles — all made set-based, and
every one of them told (``limit_raise``, ``limit_cut``, ``limit_freeze``, ``limit_close``).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from ibis.backends import BaseBackend
from setbased_helpers import SPARK_MARKS
from setbased_limit_helpers import (
    OPENED,
    act,
    changes_rows,
    notice_rows,
    open_accounts,
    run_through,
    store_changes,
    store_notices,
)
from sqlalchemy import Engine

from overdue.domain.calendar import iter_days
from overdue.engine.reference import run_eod
from overdue.setbased.day import Portfolio
from overdue.setbased.limits_io import read_review
from overdue.setbased.limits_run import LimitReviewer
from overdue.setbased.nightly import export_store, run_nightly
from overdue.setbased.snapshots import read_outputs, read_state
from overdue.setbased.store_io import read_store

HANDOVER = date(2026, 4, 25)
END = date(2026, 8, 10)


def _rows(table: pa.Table) -> set[tuple[Any, ...]]:
    return {tuple(r.values()) for r in table.to_pylist()}


def _load(engine: Engine, backend: BaseBackend) -> tuple[Portfolio, LimitReviewer, list[str]]:
    with engine.connect() as conn:
        store = read_store(conn)
        ids = store.tables.accounts["account_id"].combine_chunks()
        review = read_review(conn, ids)
    portfolio = Portfolio.load(store.tables, store.terms, backend)
    reviewer = LimitReviewer.load(
        portfolio,
        review.changes,
        statement_history=review.statement_history,
        spell_history=review.spell_history,
    )
    return portfolio, reviewer, ids.to_pylist()


def run_and_compare(
    engine: Engine, backend: BaseBackend, extra: int, handover: date = HANDOVER, end: date = END
) -> list[tuple[Any, ...]]:
    """Run the reference from January and both from ``handover`` to ``end``, comparing every date; returns
    the store's limit changes."""
    habits = open_accounts(engine, extra=extra, seed=7)
    run_through(engine, habits, OPENED, handover - timedelta(days=1))
    notices = store_notices(engine)
    loaded: tuple[Portfolio, LimitReviewer, list[str]] | None = None
    for day in iter_days(handover, end):
        if act(engine, habits, day) or loaded is None:
            loaded = _load(engine, backend)
        portfolio, reviewer, ids = loaded
        portfolio.run_day(day)
        reviewer.run_day(day)
        run_eod(engine, day)
        changes, actions, messages = reviewer.outputs()
        notices += notice_rows(actions, messages, ids)
        got = portfolio.tables()
        with engine.connect() as conn:
            want = read_store(conn).tables
        assert got.accounts.equals(want.accounts), (day, got.accounts.to_pylist(), want.accounts.to_pylist())
        assert _rows(want.statements) <= _rows(got.statements), day
        assert changes_rows(reviewer.changes(), ids) == store_changes(engine), day
        assert sorted(notices) == store_notices(engine), day
        assert changes.num_rows == sum(1 for c in store_changes(engine) if day in (c[1], c[8]))
    return store_changes(engine)


def test_reviews_over_months_equal_the_reference_on_duckdb(sqlite_engine: Engine) -> None:
    changes = run_and_compare(sqlite_engine, ibis.duckdb.connect(), extra=4)
    made = [c for c in changes if c[1] >= HANDOVER]
    actions = {c[3] for c in made}
    assert {"raise", "cut", "freeze", "close"} <= actions, changes
    assert any(c[3] == "cut" and c[8] is not None and c[8] > c[1] for c in made), "a cut applied after notice"
    assert any("CUT_NEAR_FULL_UTILISATION" in c[6] for c in made)
    assert any("CUT_MINIMUM_ONLY" in c[6] for c in made)
    # every change is told, freezes and closes too, and the set-based notices equal those (compared above)
    told = [n for n in store_notices(sqlite_engine) if n[1] >= HANDOVER]
    assert sorted((n[0], n[1], n[5]) for n in told) == sorted((c[0], c[1], f"limit_{c[3]}") for c in made)


@pytest.mark.parametrize(
    "name", [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("spark", marks=SPARK_MARKS)]
)
@pytest.mark.slow
def test_a_review_day_equals_the_reference_on_postgres_and_spark(
    sqlite_engine: Engine, name: str, request: pytest.FixtureRequest
) -> None:
    """Twelve days around the review of 1 May (cuts recorded, applied on 8 May; freezes) on PostgreSQL and
    Spark: the same comparisons, every date."""
    backend = request.getfixturevalue(name)
    changes = run_and_compare(
        sqlite_engine, backend, extra=0, handover=date(2026, 4, 28), end=date(2026, 5, 9)
    )
    made = {c[3] for c in changes if c[1] == date(2026, 5, 1)}
    assert "cut" in made
    assert any(c[3] == "cut" and c[8] == date(2026, 5, 8) for c in changes)


def test_the_nightly_job_reviews_as_the_reference(sqlite_engine: Engine, tmp_path: Path) -> None:
    """``overdue state export`` then the nightly job over Parquet through the review of 1 May and the cuts of
    8 May (no borrower acts after the export): the snapshot's ``limit_changes`` and the day's notices equal
    what the reference records on the store for the same days."""
    habits = open_accounts(sqlite_engine, extra=0, seed=7)
    run_through(sqlite_engine, habits, OPENED, date(2026, 4, 27))
    root = tmp_path / "state"
    assert export_store(sqlite_engine, root) == date(2026, 4, 27)
    before = store_notices(sqlite_engine)
    summary = run_nightly(root, date(2026, 5, 9), ibis.duckdb.connect(), engine="duckdb")
    run_eod(sqlite_engine, date(2026, 5, 9))
    assert summary.limit_changes.get("cut", 0) > 0
    snapshot = read_state(root, date(2026, 5, 9))
    assert snapshot.limits is not None
    ids = snapshot.tables.accounts["account_id"].to_pylist()
    assert changes_rows(snapshot.limits[0], ids) == store_changes(sqlite_engine)
    told = [
        row
        for day in iter_days(date(2026, 4, 28), date(2026, 5, 9))
        for row in notice_rows(
            read_outputs(root, "limit_notices", day), read_outputs(root, "limit_messages", day), ids
        )
    ]
    assert sorted(before + told) == store_notices(sqlite_engine)
    got = {(r["account_id"], r["credit_limit"], r["status"]) for r in snapshot.tables.accounts.to_pylist()}
    with sqlite_engine.connect() as conn:
        want = read_store(conn).tables.accounts
    assert got == {(r["account_id"], r["credit_limit"], r["status"]) for r in want.to_pylist()}
