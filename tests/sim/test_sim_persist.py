"""Writing a simulated portfolio: the bulk writers store exactly what the ordinary repository calls store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sim_helpers import small_portfolio
from sqlalchemy import Engine, Table, func, select

from overdue.domain.ledger import LedgerAccount, Transaction, TransactionKind, transfer
from overdue.sim import SimulationResult
from overdue.sim.persist import insert_accounts, persist, prepare
from overdue.sim.result import NOT_SCORED
from overdue.store import repository
from overdue.store.account_tables import (
    accounts,
    bucket_history,
    bureau_months,
    eod_runs,
    statements,
    unbilled_cycles,
)
from overdue.store.behaviour_repository import latest_scores
from overdue.store.behaviour_tables import behaviour_scores
from overdue.store.schema import ledger_transactions

ACCOUNT_TABLES = (accounts, statements, unbilled_cycles, bucket_history, bureau_months)


def _dump(engine: Engine, tables: tuple[Table, ...]) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t.name: sorted(tuple(map(repr, row)) for row in conn.execute(select(t)).all()) for t in tables
        }


def test_bulk_account_rows_equal_what_insert_account_writes(engine: Engine) -> None:
    states = small_portfolio(accounts=40, months=3, seed=2).states
    with engine.begin() as conn:
        insert_accounts(conn, states)
    bulk = _dump(engine, ACCOUNT_TABLES)
    prepare(engine, fresh=True)
    with engine.begin() as conn:
        for state in states:
            repository.insert_account(conn, state)
    one_by_one = _dump(engine, ACCOUNT_TABLES)
    assert bulk == one_by_one
    assert len(bulk["statements"]) > 40 and len(bulk["bureau_months"]) == 40 * 3


def test_persisted_ids_and_closed_dates_let_the_end_of_day_carry_on(engine: Engine) -> None:
    result = small_portfolio(accounts=20, months=2, seed=1)
    prepare(engine, fresh=False)
    counts = persist(engine, result)
    assert counts["transactions"] == len(result.ledger)
    with engine.begin() as conn:
        ids = [
            row[0]
            for row in conn.execute(select(ledger_transactions.c.id).order_by(ledger_transactions.c.id))
        ]
        assert ids == list(range(1, len(result.ledger) + 1))
        # A transaction posted after the load gets the next id (on PostgreSQL: the sequence was moved on).
        repository.post_transactions(conn, [_purchase_after(result)])
        assert conn.execute(select(func.max(ledger_transactions.c.id))).scalar_one() == len(result.ledger) + 1
        closed = conn.execute(select(func.max(eod_runs.c.business_date))).scalar_one()
    assert closed == result.end


def test_the_month_end_behaviour_scores_are_stored_as_the_end_of_day_records_them(engine: Engine) -> None:
    result = small_portfolio(accounts=20, months=2, seed=1)
    prepare(engine, fresh=False)
    counts = persist(engine, result)
    assert (
        counts["behaviour_scores"] == len(result.scores) == int((result.behaviour_score != NOT_SCORED).sum())
    )
    columns = ("account_id", "month_end", "score_points", "probability_bad_ppm", "model_version", "reasons")
    with engine.connect() as conn:
        stored = conn.execute(select(*(behaviour_scores.c[c] for c in columns))).all()
        latest = latest_scores(conn, result.end)
    assert sorted(tuple(r) for r in stored) == sorted(result.scores)
    points = {(r.account_id, r.month_end): r.score_points for r in stored}
    for i, borrower in enumerate(result.borrowers):
        for k, month_end in enumerate(result.month_ends):
            assert points.get((borrower.account_id, month_end), NOT_SCORED) == result.behaviour_score[i, k]
        assert latest[borrower.account_id] == result.behaviour_score[i, -1]


def _purchase_after(result: SimulationResult) -> Transaction:
    return transfer(
        "SIM0000000",
        result.end + timedelta(days=1),
        TransactionKind.PURCHASE,
        LedgerAccount.PRINCIPAL,
        LedgerAccount.MERCHANT_PAYABLE,
        100,
    )
