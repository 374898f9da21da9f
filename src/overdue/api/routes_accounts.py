"""Account endpoints: open, list (paginated), read with the borrower's personal data masked by role,
statements, and the money-moving purchases (whole or in installments) and repayments (each with a required
``Idempotency-Key``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response
from sqlalchemy import Connection, Engine

from overdue.api import queries
from overdue.api.deps import EngineDep, acting, allowed, audited, key_seen, scoped_key
from overdue.api.masking import borrower_view
from overdue.api.schemas import MoneyRequest, OpenAccountRequest, PurchaseRequest
from overdue.api.security import Principal
from overdue.domain.errors import Conflict
from overdue.domain.money import format_yuan, parse_positive_yuan
from overdue.domain.state import AccountState
from overdue.services import accounts
from overdue.store import repository

router = APIRouter(prefix="/accounts", tags=["accounts"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=100,
        description="Required. A retry with the same key returns the first answer and never posts twice.",
    ),
]


@router.post("", status_code=201, summary="Open a credit line")
def open_account(
    body: OpenAccountRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("accounts.open"))],
) -> dict[str, Any]:
    """Open a credit line, and record its borrower (an existing one when the national id is known)."""
    borrower = None if body.borrower is None else body.borrower.model_dump()
    with engine.connect() as conn:
        if repository.account_exists(conn, body.id):
            raise Conflict(f"account {body.id!r} already exists")
        if borrower is not None:
            queries.check_borrower(conn, borrower)  # refuse before anything is written
    borrower_ids: list[str] = []

    def save_borrower(conn: Connection, state: AccountState) -> dict[str, Any]:
        if borrower is None:
            return {"borrower": None}
        borrower_ids.append(queries.save_borrower(conn, borrower))
        queries.link_borrower(conn, borrower_ids[0], state.id)
        return {"borrower": borrower_ids[0]}

    with acting(principal):
        state = accounts.open_account(
            engine,
            body.id,
            body.opened_on,
            parse_positive_yuan(body.credit_limit, field="credit_limit"),
            product=body.product,
            timezone=body.timezone,
            language=body.language,
            also=save_borrower,
        )
    borrower_id = borrower_ids[0] if borrower_ids else None
    return {
        "id": state.id,
        "product": state.product,
        "opened_on": state.opened_on.isoformat(),
        "credit_limit": format_yuan(state.credit_limit),
        "timezone": state.timezone,
        "language": state.language,
        "borrower_id": borrower_id,
    }


@router.get("", summary="List accounts, a page at a time")
def list_accounts(
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("accounts.list"))],
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
) -> dict[str, Any]:
    """The accounts you may see, in id order; follow ``next_cursor`` until it is null."""
    with engine.connect() as conn:
        page = queries.list_accounts(conn, principal, limit, cursor)
    audited(engine, principal, "read", "accounts", "list", {"ids": [a["id"] for a in page["items"]]})
    return page


@router.get("/{account_id}", summary="An account, its balances and its borrower")
def get_account(
    account_id: str,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("accounts.read"))],
) -> dict[str, Any]:
    """The account as of its last end-of-day, and its borrower's personal data as your role may see it."""
    with engine.connect() as conn:
        queries.check_visible(conn, principal, account_id)
        borrower = queries.borrower_of(conn, account_id)
    snapshot, language = accounts.account_view(engine, account_id)
    audited(engine, principal, "read", "account", account_id, {"borrower": borrower and borrower["id"]})
    return {
        "id": account_id,
        "language": language,
        "snapshot": snapshot,
        "borrower": None if borrower is None else borrower_view(borrower, principal.role),
    }


@router.get("/{account_id}/statements", summary="The account's statements")
def get_statements(
    account_id: str,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("statements.read"))],
) -> dict[str, Any]:
    with engine.connect() as conn:
        queries.check_visible(conn, principal, account_id)
        items = queries.statements_of(conn, account_id)
    audited(engine, principal, "read", "statements", account_id)
    return {"items": items}


def _money_move(
    operation: str,
    account_id: str,
    body: MoneyRequest,
    idempotency_key: str | None,
    engine: Engine,
    principal: Principal,
    response: Response,
) -> dict[str, Any]:
    key = scoped_key(principal, idempotency_key, f"a {operation}")
    with engine.connect() as conn:
        queries.check_visible(conn, principal, account_id)
    seen = key_seen(engine, key)
    amount = parse_positive_yuan(body.amount)
    with acting(principal):
        if isinstance(body, PurchaseRequest):
            result = accounts.purchase(
                engine, account_id, amount, periods=body.installments, on=body.date, idempotency_key=key
            )
        else:
            result = accounts.repay(engine, account_id, amount, on=body.date, idempotency_key=key)
    if seen:
        response.headers["Idempotent-Replayed"] = "true"
    return result


@router.post("/{account_id}/purchases", status_code=201, summary="Buy on the credit line")
def post_purchase(
    account_id: str,
    body: PurchaseRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("purchases.create"))],
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """With ``installments``: a purchase in that many monthly installments (消费分期), the answer's
    ``installments`` showing the plan, its fee, its annualised rate and its schedule; a refusal names its rule
    (``purchase_installments.…``)."""
    return _money_move("purchase", account_id, body, idempotency_key, engine, principal, response)


@router.post("/{account_id}/repayments", status_code=201, summary="Repay")
def post_repayment(
    account_id: str,
    body: MoneyRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("repayments.create"))],
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Oldest statement first; fees, interest, then principal (principal first beyond 90 DPD)."""
    return _money_move("repayment", account_id, body, idempotency_key, engine, principal, response)
