"""The journal tables and the invariants the database itself enforces, on SQLite and PostgreSQL."""

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from overdue.store.db import current_revision, head_revision, upgrade
from overdue.store.schema import idempotency_keys, ledger_postings, ledger_transactions, metadata

BUSINESS_DATE = dt.date(2026, 2, 10)


def post_transaction(connection: Connection, *amounts_fen: int, kind: str = "repayment") -> int:
    """Insert one ledger transaction of account A1 with one posting per amount; returns its id."""
    result = connection.execute(
        ledger_transactions.insert().values(account_id="A1", business_date=BUSINESS_DATE, kind=kind)
    )
    primary_key = result.inserted_primary_key
    assert primary_key is not None
    transaction_id = primary_key[0]
    assert isinstance(transaction_id, int)
    for number, amount in enumerate(amounts_fen):
        connection.execute(
            ledger_postings.insert().values(
                transaction_id=transaction_id,
                account_id="A1",
                ledger_account=f"ledger_{number}",
                amount_fen=amount,
            )
        )
    return transaction_id


def postings_total(engine: Engine) -> tuple[int, int]:
    """(number of postings, sum of their amounts) over the whole journal."""
    with engine.connect() as connection:
        count, total = connection.execute(
            select(func.count(), func.coalesce(func.sum(ledger_postings.c.amount_fen), 0))
        ).one()
    return count, total


def test_migrations_create_the_journal(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"ledger_transactions", "ledger_postings", "idempotency_keys", "alembic_version"} <= tables


def test_migrations_match_the_schema(engine: Engine) -> None:
    """The migrations build exactly what schema.py declares, so autogenerate starts from a clean slate."""
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    assert upgrade(engine) == head_revision()


def test_balanced_transaction_commits(engine: Engine) -> None:
    with engine.begin() as connection:
        transaction_id = post_transaction(connection, 100_000, -100_000, kind="purchase")
        post_transaction(connection, -2_550, 2_000, 550)
    with engine.connect() as connection:
        kind, created_at = connection.execute(
            select(ledger_transactions.c.kind, ledger_transactions.c.created_at).where(
                ledger_transactions.c.id == transaction_id
            )
        ).one()
    assert kind == "purchase"
    assert created_at is not None
    assert postings_total(engine) == (5, 0)


def test_zero_amount_is_rejected(engine: Engine) -> None:
    with pytest.raises(IntegrityError, match="amount_fen"), engine.begin() as connection:
        post_transaction(connection, 0)
    assert postings_total(engine) == (0, 0)


def test_unknown_transaction_kind_is_rejected(engine: Engine) -> None:
    with pytest.raises(IntegrityError, match="kind"), engine.begin() as connection:
        post_transaction(connection, 1, -1, kind="gift")


def test_posting_needs_an_existing_transaction(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            ledger_postings.insert().values(
                transaction_id=999, account_id="A1", ledger_account="principal", amount_fen=1
            )
        )


def test_idempotency_key_is_unique(engine: Engine) -> None:
    row = {"key": "k-1", "operation": "repay", "request_hash": "ab" * 32, "response_json": "{}"}
    with engine.begin() as connection:
        connection.execute(idempotency_keys.insert().values(**row))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(idempotency_keys.insert().values(**row))


@pytest.mark.postgres
def test_unbalanced_transaction_is_rejected_at_commit(postgres_engine: Engine) -> None:
    connection = postgres_engine.connect()
    try:
        transaction = connection.begin()
        post_transaction(connection, 100_000, -100_000)
        unbalanced_id = post_transaction(connection, 100_000, -99_999)
        # The check is deferred: the statements succeed, the commit fails and undoes everything.
        expected = rf"ledger transaction {unbalanced_id} is unbalanced"
        with pytest.raises(IntegrityError, match=expected) as caught:
            transaction.commit()
        assert getattr(caught.value.orig, "sqlstate", None) == "23514"
        assert "sum to 1 fen" in str(caught.value)
    finally:
        connection.close()
    assert postings_total(postgres_engine) == (0, 0)


@pytest.mark.postgres
def test_moving_a_posting_to_another_transaction_is_rejected(postgres_engine: Engine) -> None:
    with postgres_engine.begin() as connection:
        first = post_transaction(connection, 500, -500)
        second = post_transaction(connection, 700, -700)
    with pytest.raises(IntegrityError, match="unbalanced"), postgres_engine.begin() as connection:
        connection.execute(
            update(ledger_postings)
            .where(ledger_postings.c.transaction_id == first, ledger_postings.c.amount_fen == 500)
            .values(transaction_id=second)
        )
    assert postings_total(postgres_engine) == (4, 0)


def test_sqlite_file_runs_in_wal_mode_with_foreign_keys(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() > 0
