"""Account use cases: open, purchase (whole or in installments), repay, bill installments, and the account's
snapshot.

Each runs in one database transaction: the state, the ledger transactions, the idempotency record and the
audit row (:func:`overdue.store.audit_trail.changed`) are saved together or not at all. Money-moving
operations take an optional idempotency key. A business date left out means the account's next open date
(the day after its last end-of-day).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from overdue.domain import account as rules
from overdue.domain import collections, installments, purchase_installments
from overdue.domain.billing import statement_id
from overdue.domain.errors import AccountSold, InvalidDate
from overdue.domain.money import Fen, format_yuan
from overdue.domain.snapshot import snapshot
from overdue.domain.state import AccountState, InstallmentPeriod
from overdue.domain.terms import product_terms
from overdue.services import idempotency
from overdue.store import audit_trail, repository
from overdue.store import collections_repository as collections_store
from overdue.store import compliance_repository as compliance_store


def open_account(
    engine: Engine,
    account_id: str,
    opened_on: date,
    credit_limit: Fen,
    *,
    product: str = "huabei",
    overrides: dict[str, Any] | None = None,
    timezone: str = "Asia/Shanghai",
    language: str = "zh-CN",
    also: Callable[[Connection, AccountState], dict[str, Any]] | None = None,
) -> AccountState:
    """Open a credit line. ``opened_on`` must be after the last business date the end-of-day closed.

    also: more to write in the same transaction (the borrower, over the API); what it returns goes into the
    audit row's detail. language: the borrower's (``zh-CN`` or ``en``), in which every notice is sent.
    """
    terms = product_terms(product, overrides)
    state = rules.open_account(account_id, product, terms, opened_on, credit_limit, timezone, language)
    with engine.begin() as conn:
        closed = repository.last_closed_date(conn)
        if closed is not None and opened_on <= closed:
            raise InvalidDate(
                f"cannot open an account on {opened_on.isoformat()}: "
                f"end-of-day already ran up to {closed.isoformat()}"
            )
        repository.insert_account(conn, state)
        detail = {} if also is None else also(conn, state)
        audit_trail.changed(
            conn, "create", "account", account_id, {"opened_on": opened_on.isoformat(), **detail}
        )
    return state


def _money_move(
    engine: Engine,
    operation: str,
    account_id: str,
    on: date | None,
    request: dict[str, Any],
    idempotency_key: str | None,
    apply: Callable[[AccountState, date], rules.Outcome],
    describe: Callable[[rules.Outcome], dict[str, Any]],
    also: Callable[[Connection, date], None] | None = None,
    guard: Callable[[Connection], None] | None = None,
) -> dict[str, Any]:
    """Load, apply, save and remember, in one transaction; a replayed key returns the first response.

    guard: a check on the account before anything is applied (it raises to refuse)."""
    request = {"account_id": account_id, "date": on.isoformat() if on else None, **request}
    try:
        with engine.begin() as conn:
            if idempotency_key is not None:
                earlier = idempotency.replayed(conn, idempotency_key, operation, request)
                if earlier is not None:
                    return earlier
            if guard is not None:
                guard(conn)
            state, version = repository.load_account(conn, account_id)
            day = on or rules.next_open_date(state)
            outcome = apply(state, day)
            repository.save_account(conn, state, outcome.state, version, outcome.transactions)
            if also is not None:
                also(conn, day)
            detail = {k: v for k, v in request.items() if k != "account_id"}
            audit_trail.changed(conn, "create", operation, account_id, {**detail, "date": day.isoformat()})
            response = {
                "operation": operation,
                "account_id": account_id,
                "date": day.isoformat(),
                **describe(outcome),
            }
            if idempotency_key is not None:
                idempotency.remember(conn, idempotency_key, operation, request, response)
            return response
    except IntegrityError:
        # Two requests with the same new key raced; the loser answers with the winner's response.
        if idempotency_key is None:
            raise
        with engine.connect() as conn:
            earlier = idempotency.replayed(conn, idempotency_key, operation, request)
        if earlier is None:
            raise
        return earlier


def _balances(outcome: rules.Outcome) -> dict[str, Any]:
    state = outcome.state
    return {
        "available_credit": format_yuan(state.available_credit),
        "outstanding": format_yuan(state.outstanding),
        "status": str(state.status),
    }


def purchase(
    engine: Engine,
    account_id: str,
    amount: Fen,
    *,
    periods: int | None = None,
    on: date | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Buy ``amount`` fen on the line; with ``periods``, in that many purchase installments (消费分期).

    The answer of a purchase in installments adds ``installments``: the plan's id and its schedule, as
    :func:`purchase_quote_json` shows it.
    """
    rules.check_amount(amount, "a purchase")
    request: dict[str, Any] = {"amount": format_yuan(amount)}
    if periods is not None:  # a plain purchase keeps the request it always had, for its idempotency keys
        request["installments"] = periods

    def describe(outcome: rules.Outcome) -> dict[str, Any]:
        out: dict[str, Any] = {"amount": format_yuan(amount)}
        if outcome.purchase_quote is not None:
            out["installments"] = purchase_quote_json(outcome.purchase_quote)
        return {**out, **_balances(outcome)}

    return _money_move(
        engine,
        "purchase",
        account_id,
        on,
        request,
        idempotency_key,
        lambda state, day: rules.purchase(state, day, amount, periods),
        describe,
    )


def purchase_quote_json(quote: purchase_installments.PurchaseInstallmentQuote) -> dict[str, Any]:
    """A purchase-installments quote (or, with ``plan``, the plan booked) as JSON; amounts in yuan."""
    return {
        "plan": quote.plan_id,
        "purchased_on": quote.purchased_on.isoformat(),
        "periods": quote.periods,
        "principal": format_yuan(quote.principal),
        "fee_rate": str(quote.fee_rate),
        "fee_total": format_yuan(quote.fee_total),
        "annual_rate": str(quote.annual_rate),
        "first_statement": quote.first_statement.isoformat(),
        "available_credit_after": format_yuan(quote.available_credit_after),
        "schedule": _schedule_json(quote.schedule),
    }


def quote_purchase_installments(
    engine: Engine, account_id: str, amount: Fen, periods: int, *, on: date | None = None
) -> dict[str, Any]:
    """What buying ``amount`` fen in ``periods`` installments would cost; changes nothing.

    on: the purchase date (default: the account's next open business date).
    """
    rules.check_amount(amount, "a purchase")
    with engine.connect() as conn:
        state, _ = repository.load_account(conn, account_id)
    day = on or rules.next_open_date(state)
    return purchase_quote_json(purchase_installments.quote(state, day, amount, periods))


def repay(
    engine: Engine,
    account_id: str,
    amount: Fen,
    *,
    on: date | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    rules.check_amount(amount, "a repayment")
    return _money_move(
        engine,
        "repayment",
        account_id,
        on,
        {"amount": format_yuan(amount)},
        idempotency_key,
        lambda state, day: rules.repay(state, day, amount),
        describe=lambda outcome: {
            "amount": format_yuan(amount),
            "allocation": [
                {"to": line.target, "component": line.component, "amount": format_yuan(line.amount)}
                for line in outcome.allocation
            ],
            **_balances(outcome),
        },
        also=lambda conn, day: _count_toward_promises(conn, account_id, amount, day),
        guard=lambda conn: _not_sold(conn, account_id),
    )


def _not_sold(conn: Connection, account_id: str) -> None:
    """A sold debt is its buyer's: money received on it is forwarded to them, never posted here."""
    if compliance_store.is_sold(conn, account_id):
        raise AccountSold(
            f"account {account_id} is sold: its payments belong to the buyer and are forwarded, not posted "
            f"(`overdue sale payment {account_id} AMOUNT --reference REF`)"
        )


def _count_toward_promises(conn: Connection, account_id: str, amount: Fen, on: date) -> None:
    """A repayment counts toward the account's pending promise to pay, in the same transaction."""
    cs, agency, placed_on = collections_store.load_collection_state(conn, account_id)
    if any(p.status == "pending" for p in cs.promises):
        cs = collections.apply_repayment(cs, amount, on)
        collections_store.save_collection_state(conn, cs, agency, placed_on)


def quote_json(quote: installments.InstallmentQuote) -> dict[str, Any]:
    return {
        "statement": quote.statement_id,
        "periods": quote.periods,
        "principal": format_yuan(quote.principal),
        "fee_rate": str(quote.fee_rate),
        "fee_total": format_yuan(quote.fee_total),
        "annual_rate": str(quote.annual_rate),
        "schedule": _schedule_json(quote.schedule),
    }


def _schedule_json(schedule: Sequence[InstallmentPeriod]) -> list[dict[str, Any]]:
    return [
        {
            "number": p.number,
            "due_date": p.due_date.isoformat(),
            "principal": format_yuan(p.principal),
            "fee": format_yuan(p.fee),
        }
        for p in schedule
    ]


def statement_id_for(account_id: str, statement: str | date) -> str:
    """Accept a statement id or its statement date (``2026-02-01``)."""
    return statement_id(account_id, statement) if isinstance(statement, date) else statement


def quote_installments(
    engine: Engine, account_id: str, statement: str | date, periods: int, *, on: date | None = None
) -> dict[str, Any]:
    with engine.connect() as conn:
        state, _ = repository.load_account(conn, account_id)
    day = on or rules.next_open_date(state)
    return quote_json(installments.quote(state, statement_id_for(account_id, statement), periods, day))


def request_installments(
    engine: Engine,
    account_id: str,
    statement: str | date,
    periods: int,
    *,
    on: date | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    sid = statement_id_for(account_id, statement)
    return _money_move(
        engine,
        "installments",
        account_id,
        on,
        {"statement": sid, "periods": periods},
        idempotency_key,
        lambda state, day: rules.request_installments(state, day, sid, periods),
        lambda outcome: {"quote": quote_json(outcome.quote) if outcome.quote else None, **_balances(outcome)},
    )


def account_snapshot(engine: Engine, account_id: str) -> dict[str, Any]:
    """The account as of its last end-of-day (or its opening day before the first one)."""
    return account_view(engine, account_id)[0]


def account_view(engine: Engine, account_id: str) -> tuple[dict[str, Any], str]:
    """:func:`account_snapshot` and the borrower's language (``zh-CN`` or ``en``), from one load."""
    with engine.connect() as conn:
        state, _ = repository.load_account(conn, account_id, full_history=True)
    return snapshot(state, state.last_eod or state.opened_on), state.language


def load(conn: Connection, account_id: str) -> AccountState:
    return repository.load_account(conn, account_id, full_history=True)[0]
