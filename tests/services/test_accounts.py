"""Account use cases on SQLite and PostgreSQL: open, purchase, repay, idempotency, refusals.

A posting is dated on the account's business date (the day after its last end-of-day), so the tests run the
end-of-day up to the day before each posting (:func:`until`).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError

from overdue.domain.errors import (
    Conflict,
    CreditLimitExceeded,
    IdempotencyConflict,
    InstallmentsRefused,
    InvalidAmount,
    InvalidDate,
    InvalidTerms,
    LineNotUsable,
    NotFound,
    OverdueError,
    RepaymentTooLarge,
)
from overdue.domain.ledger import LedgerAccount
from overdue.domain.money import format_yuan, parse_positive_yuan, parse_yuan
from overdue.engine.reference import run_eod
from overdue.services import accounts
from overdue.store import repository
from overdue.store.schema import ledger_postings, ledger_transactions, metadata

OPENED = date(2026, 1, 25)
BOUGHT = date(2026, 1, 26)
STATEMENT = date(2026, 2, 1)
NEXT = date(2026, 2, 2)
"""The business date after :func:`billed`."""


def table_rows(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, sorted: compare two of these to prove that nothing was written."""
    out: dict[str, list[tuple[str, ...]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            out[table.name] = sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
    return out


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def until(engine: Engine, day: date) -> date:
    """Run the end-of-day up to the day before ``day``, so that ``day`` is the business date; returns it."""
    run_eod(engine, day - timedelta(days=1))
    return day


def billed(
    engine: Engine,
    account_id: str = "A1",
    amount: int = 100_000,
    through: date = STATEMENT,
    others: tuple[str, ...] = (),
) -> None:
    """Open ``account_id`` on 25 January (limit 5,000.00), buy ``amount`` on the 26th, run the end-of-day.

    ``others`` are more accounts opened the same day, with nothing bought.
    """
    for other in (account_id, *others):
        accounts.open_account(engine, other, OPENED, 500_000)
    accounts.purchase(engine, account_id, amount, on=until(engine, BOUGHT))
    run_eod(engine, through)


def test_open_purchase_repay(engine: Engine) -> None:
    state = accounts.open_account(engine, "A1", OPENED, 500_000)
    assert state.credit_limit == 500_000
    first = accounts.purchase(engine, "A1", 100_000)  # no date: the account's business date
    assert first == {
        "operation": "purchase",
        "account_id": "A1",
        "date": "2026-01-25",
        "amount": "1000.00",
        "available_credit": "4000.00",
        "outstanding": "1000.00",
        "status": "active",
    }
    accounts.purchase(engine, "A1", 25_050, on=until(engine, BOUGHT))
    run_eod(engine, STATEMENT)
    shot = accounts.account_snapshot(engine, "A1")
    assert shot["statement"]["amount"] == "1250.50"
    assert shot["statement"]["minimum"] == "125.05"
    assert shot["statement"]["due_date"] == "2026-02-09"
    paid = accounts.repay(engine, "A1", 125_050, on=until(engine, date(2026, 2, 9)))
    assert paid["allocation"] == [{"to": "A1/2026-02-01", "component": "new_principal", "amount": "1250.50"}]
    assert (paid["available_credit"], paid["outstanding"], paid["status"]) == ("5000.00", "0.00", "active")
    run_eod(engine, date(2026, 3, 1))
    shot = accounts.account_snapshot(engine, "A1")
    assert shot["balances"]["outstanding"] == "0.00"
    assert shot["statement"]["id"] == "A1/2026-02-01"  # nothing to bill on 1 March
    with engine.connect() as conn:
        balances = repository.ledger_balances(conn, "A1")
    assert balances == {"principal": 0, "merchant_payable": -125_050, "repayment_clearing": 125_050}


def test_open_refusals(engine: Engine) -> None:
    accounts.open_account(engine, "A1", OPENED, 500_000)
    with pytest.raises(Conflict, match="already exists"):
        accounts.open_account(engine, "A1", OPENED, 500_000)
    with pytest.raises(InvalidTerms, match="credit limit"):
        accounts.open_account(engine, "A2", OPENED, 49_999)
    with pytest.raises(InvalidTerms, match="due_day"):
        accounts.open_account(engine, "A2", OPENED, 500_000, overrides={"due_day": 11})
    with pytest.raises(OverdueError, match="account id"):
        accounts.open_account(engine, "A/2", OPENED, 500_000)
    with pytest.raises(OverdueError, match="time zone"):
        accounts.open_account(engine, "A2", OPENED, 500_000, timezone="Mars/Olympus")
    run_eod(engine, BOUGHT)
    with pytest.raises(InvalidDate, match="end-of-day already ran up to 2026-01-26"):
        accounts.open_account(engine, "A2", BOUGHT, 500_000)
    accounts.open_account(engine, "A2", date(2026, 1, 27), 500_000, overrides={"due_day": 10})
    assert accounts.account_snapshot(engine, "A2")["credit_limit"] == "5000.00"


def test_replays_post_once(engine: Engine) -> None:
    billed(engine)
    before = count(engine, ledger_transactions)
    first = accounts.repay(engine, "A1", 30_000, on=NEXT, idempotency_key="pay-1")
    after_first = table_rows(engine)
    again = accounts.repay(engine, "A1", 30_000, on=NEXT, idempotency_key="pay-1")
    assert again == first
    assert count(engine, ledger_transactions) == before + 1
    assert table_rows(engine) == after_first
    # A refused request does not use up its key.
    with pytest.raises(RepaymentTooLarge):
        accounts.repay(engine, "A1", 70_001, on=NEXT, idempotency_key="pay-2")
    accounts.repay(engine, "A1", 70_000, on=NEXT, idempotency_key="pay-2")
    # Without a date the key still answers the same after the business date moved on.
    bought = accounts.purchase(engine, "A1", 1_000, idempotency_key="buy-1")
    assert bought["date"] == "2026-02-02"
    run_eod(engine, date(2026, 2, 5))
    assert accounts.purchase(engine, "A1", 1_000, idempotency_key="buy-1") == bought
    assert accounts.repay(engine, "A1", 30_000, on=NEXT, idempotency_key="pay-1") == first
    with engine.connect() as conn:
        balances = repository.ledger_balances(conn, "A1")
    assert balances["repayment_clearing"] == 100_000
    assert balances["merchant_payable"] == -101_000


def test_same_key_different_request_is_a_conflict(engine: Engine) -> None:
    billed(engine, others=("A2",))
    accounts.repay(engine, "A1", 30_000, on=NEXT, idempotency_key="k")
    before = table_rows(engine)
    variants: list[tuple[Any, str, int, date | None]] = [
        (accounts.repay, "A1", 30_001, NEXT),  # another amount
        (accounts.repay, "A1", 30_000, None),  # another date (none given)
        (accounts.repay, "A2", 30_000, NEXT),  # another account
        (accounts.purchase, "A1", 30_000, NEXT),  # another operation
    ]
    for operation, account_id, amount, on in variants:
        with pytest.raises(IdempotencyConflict, match="'k'"):
            operation(engine, account_id, amount, on=on, idempotency_key="k")
    assert table_rows(engine) == before


def test_refused_purchases_write_nothing(engine: Engine) -> None:
    accounts.open_account(engine, "A1", OPENED, 500_000)
    accounts.purchase(engine, "A1", 400_000, on=OPENED)
    before = table_rows(engine)
    with pytest.raises(CreditLimitExceeded, match=r"available credit 1000\.00"):
        accounts.purchase(engine, "A1", 100_001, on=OPENED, idempotency_key="big")
    assert table_rows(engine) == before
    accounts.purchase(engine, "A1", 100_000, on=OPENED)  # exactly what is available
    with pytest.raises(CreditLimitExceeded):
        accounts.purchase(engine, "A1", 1, on=until(engine, BOUGHT))
    # Nothing paid by the 9 February due date: frozen from the 10th.
    run_eod(engine, date(2026, 2, 10))
    assert accounts.account_snapshot(engine, "A1")["status"] == "frozen"
    accounts.repay(engine, "A1", 5_000, on=date(2026, 2, 11))  # frees some credit, but does not cure
    before = table_rows(engine)
    with pytest.raises(LineNotUsable, match="frozen"):
        accounts.purchase(engine, "A1", 100, on=date(2026, 2, 11), idempotency_key="frozen")
    assert table_rows(engine) == before


def test_refused_repayments_and_bad_amounts_write_nothing(engine: Engine) -> None:
    billed(engine)
    accounts.purchase(engine, "A1", 5_000, on=NEXT)  # not billed yet: can be prepaid
    before = table_rows(engine)
    with pytest.raises(RepaymentTooLarge, match=r"1050\.00 that can be repaid"):
        accounts.repay(engine, "A1", 105_001, on=NEXT)
    with pytest.raises(InvalidDate, match="already closed"):
        accounts.repay(engine, "A1", 100, on=STATEMENT)
    with pytest.raises(InvalidDate, match="already closed"):
        accounts.purchase(engine, "A1", 100, on=date(2026, 1, 31))
    with pytest.raises(InvalidDate, match="before account A1 opened"):
        accounts.repay(engine, "A1", 100, on=date(2025, 12, 31))
    for call in (accounts.purchase, accounts.repay):
        for amount in (0, -100, -100_000):
            with pytest.raises(InvalidAmount):
                call(engine, "A1", amount, on=NEXT, idempotency_key=f"{call.__name__}-{amount}")
    assert table_rows(engine) == before
    done = accounts.repay(engine, "A1", 105_000, on=NEXT)
    assert done["outstanding"] == "0.00"
    with pytest.raises(RepaymentTooLarge):
        accounts.repay(engine, "A1", 1, on=NEXT)


def test_postings_ahead_of_the_business_date_are_refused(engine: Engine) -> None:
    """A posting dated after the account's business date would change balances that the end-of-days in
    between still have to accrue on: it is refused, and nothing is written."""
    billed(engine, through=date(2026, 2, 9))
    before = table_rows(engine)
    with pytest.raises(InvalidDate, match="2026-02-10"):
        accounts.repay(engine, "A1", 100_000, on=date(2026, 2, 20))
    with pytest.raises(InvalidDate):
        accounts.purchase(engine, "A1", 100, on=date(2026, 2, 11))
    assert table_rows(engine) == before
    # Paid on the 20th after the end-of-days before it, ten days late: 5.00 of overdue interest is owed.
    accounts.repay(engine, "A1", 100_000, on=until(engine, date(2026, 2, 20)))
    run_eod(engine, date(2026, 2, 20))
    shot = accounts.account_snapshot(engine, "A1")
    assert shot["balances"]["outstanding"] == "5.00"
    assert [s["bucket"] for s in shot["bucket_history"]] == ["M0", "M1", "M0"]


def test_unknown_account(engine: Engine) -> None:
    before = table_rows(engine)
    with pytest.raises(NotFound, match="'nobody'"):
        accounts.purchase(engine, "nobody", 100)
    with pytest.raises(NotFound):
        accounts.repay(engine, "nobody", 100, idempotency_key="x")
    with pytest.raises(NotFound):
        accounts.account_snapshot(engine, "nobody")
    with pytest.raises(NotFound):
        accounts.quote_installments(engine, "nobody", STATEMENT, 3)
    with pytest.raises(NotFound):
        accounts.request_installments(engine, "nobody", STATEMENT, 3)
    assert table_rows(engine) == before


@pytest.mark.parametrize("text", ["0.001", "0", "-1.00", "1e2", "1.5.0"])
def test_amounts_at_the_edge_are_checked(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_positive_yuan(text)


@pytest.mark.parametrize("operation", ["purchase", "repay"])
@pytest.mark.parametrize("amount", [0.5, 100.0])
def test_float_amounts_are_invalid_amounts(sqlite_engine: Engine, operation: str, amount: Any) -> None:
    accounts.open_account(sqlite_engine, "A1", OPENED, 500_000)
    accounts.purchase(sqlite_engine, "A1", 100_000, on=OPENED)
    call = accounts.purchase if operation == "purchase" else accounts.repay
    with pytest.raises(InvalidAmount):
        call(sqlite_engine, "A1", amount, on=OPENED)


def test_installments_through_the_service(engine: Engine) -> None:
    billed(engine)
    quote = accounts.quote_installments(engine, "A1", STATEMENT, 12, on=NEXT)
    assert (quote["principal"], quote["fee_total"], quote["fee_rate"]) == ("1000.00", "88.00", "0.088")
    assert [p["fee"] for p in quote["schedule"]] == ["7.37"] + ["7.33"] * 11
    assert Decimal("0.15") < Decimal(quote["annual_rate"]) < Decimal("0.165")
    before = count(engine, ledger_transactions)
    done = accounts.request_installments(engine, "A1", "A1/2026-02-01", 12, on=NEXT, idempotency_key="i")
    assert done["quote"] == quote
    replay = accounts.request_installments(engine, "A1", "A1/2026-02-01", 12, on=NEXT, idempotency_key="i")
    assert replay == done
    assert count(engine, ledger_transactions) == before + 1  # the first period's fee, once
    with pytest.raises(InstallmentsRefused, match="already in installments"):
        accounts.request_installments(engine, "A1", STATEMENT, 3, on=NEXT)
    run_eod(engine, NEXT)
    shot = accounts.account_snapshot(engine, "A1")
    assert shot["statement"]["minimum"] == "90.74"  # 83.37 + 7.37, all due
    assert shot["available_credit"] == "4000.00"
    assert shot["installments"][0]["periods"] == 12


def ledger_figures(engine: Engine, account_id: str) -> dict[str, int]:
    with engine.connect() as conn:
        balances = repository.ledger_balances(conn, account_id)
    return {
        "principal": balances.get("principal", 0) + balances.get("written_off:principal", 0),
        "interest": balances.get("interest", 0) + balances.get("written_off:interest", 0),
        "fees": balances.get("fees", 0) + balances.get("written_off:fees", 0),
    }


def test_ledger_sums_match_the_snapshots(engine: Engine) -> None:
    """Accounts with different fortunes: each account's postings add up to its snapshot's balances.

    The product writes off at 12 days past due and pays principal first beyond 5, so that a few weeks
    cover every kind of posting.
    """
    fast = {"write_off_at_dpd": 12, "principal_first_after_dpd": 5}
    names = ("good", "minimum", "late", "plan", "lost")
    for account_id in names:
        accounts.open_account(engine, account_id, OPENED, 1_000_000, overrides=fast)
    until(engine, BOUGHT)
    for account_id in names:
        accounts.purchase(engine, account_id, 123_456, on=BOUGHT)
    accounts.request_installments(engine, "plan", STATEMENT, 6, on=until(engine, date(2026, 2, 3)))
    accounts.purchase(engine, "good", 7_777, on=date(2026, 2, 3))
    until(engine, date(2026, 2, 9))
    accounts.repay(engine, "good", 123_456, on=date(2026, 2, 9))
    accounts.repay(engine, "minimum", 12_346, on=date(2026, 2, 9))
    plan_due = parse_yuan(accounts.account_snapshot(engine, "plan")["statement"]["minimum_remaining"])
    accounts.repay(engine, "plan", plan_due, on=date(2026, 2, 9))
    late = accounts.repay(engine, "late", 20_000, on=until(engine, date(2026, 2, 17)))
    assert [line["component"] for line in late["allocation"]] == [
        "new_principal"
    ]  # DPD 8 > 5: principal first
    accounts.repay(engine, "lost", 5_000, on=until(engine, date(2026, 2, 23)))  # written off on the 21st
    run_eod(engine, date(2026, 2, 23))
    statuses = {}
    for account_id in names:
        shot = accounts.account_snapshot(engine, account_id)
        statuses[account_id] = shot["status"]
        figures = ledger_figures(engine, account_id)
        assert format_yuan(figures["principal"]) == shot["balances"]["principal"], account_id
        assert format_yuan(figures["interest"]) == shot["balances"]["interest"], account_id
        assert format_yuan(figures["fees"]) == shot["balances"]["fees"], account_id
        assert format_yuan(sum(figures.values())) == shot["balances"]["outstanding"], account_id
        with engine.connect() as conn:
            day_row = conn.execute(
                text(
                    "SELECT principal_fen, interest_fen, fees_fen FROM account_days "
                    "WHERE account_id = :a AND business_date = :d"
                ),
                {"a": account_id, "d": date(2026, 2, 23)},
            ).one()
        assert tuple(day_row) == (figures["principal"], figures["interest"], figures["fees"]), account_id
    assert statuses["good"] == "active"
    assert statuses["minimum"] == "active"
    assert statuses["plan"] == "active"
    assert statuses["lost"] == "written_off"
    with engine.connect() as conn:
        total = conn.execute(select(func.coalesce(func.sum(ledger_postings.c.amount_fen), 0))).scalar_one()
        unbalanced = conn.execute(
            select(ledger_postings.c.transaction_id)
            .group_by(ledger_postings.c.transaction_id)
            .having(func.sum(ledger_postings.c.amount_fen) != 0)
        ).all()
        lost = repository.ledger_balances(conn, "lost")
        kinds = set(conn.execute(select(ledger_transactions.c.kind)).scalars())
    assert total == 0
    assert unbalanced == []
    assert lost["principal"] == 0 and lost["written_off:principal"] > 0
    assert lost[str(LedgerAccount.REPAYMENT_CLEARING)] == 5_000
    assert {
        "purchase",
        "repayment",
        "overdue_interest",
        "revolving_interest",
        "installment_fee",
        "write_off",
        "recovery",
    } <= kinds


@pytest.mark.postgres
def test_unbalanced_postings_written_directly_are_rejected_at_commit(postgres_engine: Engine) -> None:
    billed(postgres_engine, through=date(2026, 2, 15))
    before = table_rows(postgres_engine)
    with postgres_engine.connect() as conn:
        txn_id = conn.execute(
            select(func.max(ledger_transactions.c.id)).where(ledger_transactions.c.kind == "overdue_interest")
        ).scalar_one()
    # One more leg on an existing, balanced transaction.
    unbalanced = f"ledger transaction {txn_id} is unbalanced"
    with pytest.raises(IntegrityError, match=unbalanced), postgres_engine.begin() as conn:
        conn.execute(
            ledger_postings.insert().values(
                transaction_id=txn_id, account_id="A1", ledger_account="interest", amount_fen=50
            )
        )
    # A new transaction whose two legs do not cancel.
    with pytest.raises(IntegrityError, match="unbalanced"), postgres_engine.begin() as conn:
        new_id = conn.execute(
            ledger_transactions.insert()
            .values(account_id="A1", business_date=date(2026, 2, 16), kind="repayment")
            .returning(ledger_transactions.c.id)
        ).scalar_one()
        conn.execute(
            ledger_postings.insert(),
            [
                {
                    "transaction_id": new_id,
                    "account_id": "A1",
                    "ledger_account": "repayment_clearing",
                    "amount_fen": 1_000,
                },
                {
                    "transaction_id": new_id,
                    "account_id": "A1",
                    "ledger_account": "principal",
                    "amount_fen": -999,
                },
            ],
        )
    # Changing the amount of one leg of a committed transaction.
    with pytest.raises(IntegrityError, match="unbalanced"), postgres_engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE ledger_postings SET amount_fen = amount_fen + 1 "
                "WHERE transaction_id = :t AND amount_fen > 0"
            ),
            {"t": txn_id},
        )
    assert table_rows(postgres_engine) == before
