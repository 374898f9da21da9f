"""Helpers of the operations tests: accounts aged fast, borrowers, and the work the end-of-day queues.

:func:`aged_account` runs the real domain rules day by day in memory (what the end-of-day's accrue → age →
bill does) and saves the resulting state and its ledger transactions once, so an account 100 days past due
costs milliseconds instead of a hundred end-of-day runs. :func:`queue_work` records a decided action and its
work item exactly as :func:`overdue.engine.collect.collect` does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from overdue.domain import account as rules
from overdue.domain.ledger import Transaction
from overdue.domain.state import AccountState
from overdue.domain.terms import product_terms
from overdue.store import collections_repository, repository
from overdue.store.api_tables import borrower_accounts, borrowers

OPENED = date(2026, 1, 5)
BOUGHT = date(2026, 1, 10)
DUE = date(2026, 2, 9)
"""Due date of the first statement: DPD n is reached at the end-of-day of DUE + n days."""


def dpd_date(days_past_due: int) -> date:
    """The business date whose end-of-day leaves a first-statement debtor ``days_past_due`` days late."""
    return DUE + timedelta(days=days_past_due)


def aged_account(
    engine: Engine,
    account_id: str,
    spent_fen: int,
    through: date,
    *,
    repay: dict[date, int] | None = None,
) -> AccountState:
    """Open ``account_id`` on :data:`OPENED`, buy ``spent_fen`` on :data:`BOUGHT`, repay on the given dates,
    run every end-of-day through ``through`` in memory, and save the result."""
    opened = rules.open_account(
        account_id, "huabei", product_terms("huabei"), OPENED, 5_000_000, "Asia/Shanghai"
    )
    state = opened
    transactions: list[Transaction] = []
    day = OPENED
    while day <= through:
        if day == BOUGHT:
            outcome = rules.purchase(state, day, spent_fen)
            state, transactions = outcome.state, transactions + list(outcome.transactions)
        if repay and day in repay:
            outcome = rules.repay(state, day, repay[day])
            state, transactions = outcome.state, transactions + list(outcome.transactions)
        outcome = rules.end_of_day(state, day)
        state, transactions = outcome.state, transactions + list(outcome.transactions)
        day += timedelta(days=1)
    with engine.begin() as conn:
        repository.insert_account(conn, opened)
        repository.save_account(conn, opened, state, 1, transactions)
    return state


def add_borrower(engine: Engine, borrower_id: str, national_id: str, *account_ids: str) -> None:
    """A borrower (with made-up personal data) owning ``account_ids``."""
    with engine.begin() as conn:
        conn.execute(
            borrowers.insert().values(
                id=borrower_id,
                name=f"借款人{borrower_id}",
                phone="13800001234",
                national_id=national_id,
                address="上海市浦东新区",
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        for account_id in account_ids:
            conn.execute(borrower_accounts.insert().values(borrower_id=borrower_id, account_id=account_id))


def queue_work(engine: Engine, account_id: str, on: date, action_type: str, queue: str) -> None:
    """Record an allowed ``action_type`` for the account on ``on`` and its open work item in ``queue``."""
    with engine.begin() as conn:
        action_id = collections_repository.record_action(
            conn,
            {
                "account_id": account_id,
                "business_date": on,
                "treatment": f"test_{action_type}",
                "type": action_type,
                "stage": "test",
                "template": None,
                "party": "debtor",
                "priority": 50,
                "experiment": None,
                "variant": None,
                "status": "queued",
                "refused_rule": None,
                "reason": "queued by the test",
            },
        )
        assert action_id is not None
        collections_repository.queue_work(
            conn,
            {
                "action_id": action_id,
                "account_id": account_id,
                "queue": queue,
                "business_date": on,
                "priority": 50,
            },
        )
