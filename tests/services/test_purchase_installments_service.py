"""Purchase installments through the service and the store, on SQLite and PostgreSQL: the plan survives a
reload with its origin, a retried key posts once, a quote writes nothing, and the journal balances."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select

from overdue.domain.errors import IdempotencyConflict, PurchaseInstallmentsRefused
from overdue.domain.state import PlanOrigin
from overdue.engine.reference import run_eod
from overdue.services import accounts
from overdue.store import repository
from overdue.store.account_tables import installment_plans
from overdue.store.schema import ledger_postings, ledger_transactions

OPENED = date(2026, 1, 5)
BOUGHT = date(2026, 1, 10)


def _open(engine: Engine) -> None:
    accounts.open_account(engine, "A1", OPENED, 500_000)
    run_eod(engine, BOUGHT - timedelta(days=1))


def _transactions(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ledger_transactions)).scalar_one())


def _ledger(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return repository.ledger_balances(conn, "A1")


def test_a_purchase_in_installments_is_stored_and_billed(engine: Engine) -> None:
    _open(engine)
    quote = accounts.quote_purchase_installments(engine, "A1", 125_000, 6)
    assert quote["plan"] is None and quote["annual_rate"] == "0.1527" and quote["fee_total"] == "56.25"
    assert _transactions(engine) == 0

    bought = accounts.purchase(engine, "A1", 125_000, periods=6, idempotency_key="k1")
    plan = bought["installments"]
    assert plan["plan"] == "A1/2026-01-10/purchase-1"
    assert {k: v for k, v in plan.items() if k != "plan"} == {k: v for k, v in quote.items() if k != "plan"}
    assert bought["available_credit"] == "3750.00"

    with engine.connect() as conn:
        state = repository.load_account(conn, "A1")[0]
        row = conn.execute(select(installment_plans)).mappings().one()
    (loaded,) = state.plans
    assert loaded.origin is PlanOrigin.PURCHASE and loaded.statement_id is None
    assert [p.principal for p in loaded.periods] == [20_835] + [20_833] * 5
    assert row["origin"] == "purchase" and row["statement_id"] is None and row["finished"] is False

    run_eod(engine, date(2026, 2, 1))
    snapshot = accounts.account_snapshot(engine, "A1")
    assert snapshot["statement"]["amount"] == "217.75" and snapshot["statement"]["minimum"] == "217.75"
    assert snapshot["installments"][0]["periods_billed"] == 1
    assert _ledger(engine) == {
        "principal": 125_000,
        "merchant_payable": -125_000,
        "fees": 940,
        "income:installment_fee": -940,
    }
    with engine.connect() as conn:
        total = conn.execute(select(func.sum(ledger_postings.c.amount_fen))).scalar_one()
    assert total == 0


def test_a_retried_key_posts_once_and_another_request_under_it_is_refused(engine: Engine) -> None:
    _open(engine)
    first = accounts.purchase(engine, "A1", 100_000, periods=3, idempotency_key="k1")
    again = accounts.purchase(engine, "A1", 100_000, periods=3, idempotency_key="k1")
    assert again == first and _transactions(engine) == 1
    with pytest.raises(IdempotencyConflict):
        accounts.purchase(engine, "A1", 100_000, periods=6, idempotency_key="k1")
    with pytest.raises(IdempotencyConflict):
        accounts.purchase(engine, "A1", 100_000, idempotency_key="k1")
    plain = accounts.purchase(engine, "A1", 10_000, idempotency_key="k2")
    assert "installments" not in plain and plain["available_credit"] == "3900.00"


def test_a_refused_purchase_in_installments_writes_nothing(engine: Engine) -> None:
    _open(engine)
    with pytest.raises(PurchaseInstallmentsRefused) as refused:
        accounts.purchase(engine, "A1", 600_000, periods=3, idempotency_key="k1")
    assert refused.value.rule == "purchase_installments.over_available_credit"
    assert _transactions(engine) == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(installment_plans)).scalar_one() == 0
