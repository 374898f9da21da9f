"""Field visits and legal cases over HTTP.

- Field orders and routes: a field agent sees only the orders of their own team (:func:`queries.
  visible_field_orders`); an order closes only with a recording reference and an outcome, through
  :func:`overdue.services.operations_field.close_order`, so every visit passes the rulebook first and a
  refused one answers 409 with the ``rule`` (``cn.field_visit_team``, ``cn.field_visit_per_day``, …) and
  leaves the order open.
- Legal cases: opening one starts a litigation hold (the ladder pauses, contact stops); steps go lawyer's
  letter → mediation → filing → judgment → enforcement, and a refusal names its ``legal.…`` rule.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Connection, Engine

from overdue.api import queries
from overdue.api.deps import EngineDep, acting, allowed, audited
from overdue.api.masking import borrower_view
from overdue.api.routes_operations import CursorQuery, LimitQuery, OnQuery, business_date_or
from overdue.api.schemas_operations import (
    CloseFieldOrderRequest,
    LegalStepRequest,
    OpenLegalRequest,
    PlanRoutesRequest,
)
from overdue.api.security import Principal
from overdue.domain import account as account_rules
from overdue.domain.money import parse_yuan
from overdue.services import accounts, operations
from overdue.services.collections import ContactRefused

router = APIRouter(tags=["field and legal"])


def _with_borrower(conn: Connection, principal: Principal, order: dict[str, Any]) -> dict[str, Any]:
    """A field order with its borrower (where the team goes) as ``principal``'s role may see them."""
    borrower = queries.borrower_of_case(conn, order["case"])
    return {**order, "borrower": None if borrower is None else borrower_view(borrower, principal.role)}


@router.get("/field/orders", summary="Field orders, a page at a time (a field agent: their team's)")
def list_field_orders(
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("field.read"))],
    on: Annotated[date | None, Query(description="Only the orders of this date.")] = None,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    """Orders in id order, each with its accounts and its borrower's name, phone and address as your role
    may see them; follow ``next_cursor`` until it is null."""
    with engine.connect() as conn:
        rows, next_cursor = queries.list_field_orders(conn, principal, on, status, limit, cursor)
        items = [_with_borrower(conn, principal, operations.field.order_json(conn, r)) for r in rows]
    audited(engine, principal, "read", "field_orders", "list", {"ids": [o["order"] for o in items]})
    return {"items": items, "next_cursor": next_cursor}


@router.get("/field/routes", summary="A day's field routes by city and district (a field agent: theirs)")
def get_routes(
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("field.read"))],
    on: OnQuery = None,
) -> dict[str, Any]:
    day = business_date_or(engine, on)
    agent = queries.worker_id(principal) if principal.role == "field_agent" else None
    with engine.connect() as conn:
        routes = [
            {**r, "orders": [_with_borrower(conn, principal, o) for o in r["orders"]]}
            for r in operations.field.routes_of(conn, day)
            if agent is None or agent in r["team"]
        ]
    ids = [o["order"] for r in routes for o in r["orders"]]
    audited(engine, principal, "read", "field_routes", day.isoformat(), {"ids": ids})
    return {"date": day.isoformat(), "routes": routes}


@router.post("/field/routes", status_code=201, summary="Plan a day: field orders from open field work")
def plan_routes(
    body: PlanRoutesRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("field.plan"))],
) -> dict[str, Any]:
    """One order per borrower with open field work not yet ordered, grouped into routes by city and
    district, each route given a team of ``team_size`` (two or more) field agents present that day."""
    day = business_date_or(engine, body.date)
    with acting(principal):
        result = operations.field.plan_day(engine, day, team_size=body.team_size)
    with engine.connect() as conn:
        routes = [
            {**r, "orders": [_with_borrower(conn, principal, o) for o in r["orders"]]}
            for r in result["routes"]
        ]
    return {**result, "routes": routes}


@router.post("/field/orders/{order_id}/close", summary="Close a field order: recording and outcome")
def close_order(
    order_id: str,
    body: CloseFieldOrderRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("field.close"))],
) -> dict[str, Any]:
    """Each account's visit is recorded as a contact (channel ``field``, the team's size, the recording),
    checked by the rulebook first; a refusal is a 409 naming the rule, and the order stays open."""
    with engine.connect() as conn:
        queries.check_field_order(conn, principal, order_id)
    try:
        with acting(principal):
            return operations.field.close_order(
                engine,
                order_id,
                body.at,
                body.outcome,
                body.recording_ref,
                team=body.team,
                note=body.note,
            )
    except ContactRefused as refused:
        audited(engine, principal, "refused", "field_order", order_id, {"rule": refused.rule})
        raise


def _account_date(engine: Engine, account_id: str) -> date:
    with engine.connect() as conn:
        return account_rules.next_open_date(accounts.load(conn, account_id))


@router.post("/accounts/{account_id}/legal", status_code=201, summary="Open a legal case (lawyer's letter)")
def open_legal_case(
    account_id: str,
    body: OpenLegalRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("legal.open"))],
) -> dict[str, Any]:
    """A lawyer's letter on ``date`` (default: the account's current business date) opens the case and
    starts a litigation hold: the collection ladder pauses and the rulebook stops contact."""
    with engine.connect() as conn:
        queries.check_visible(conn, principal, account_id)
    on = body.date or _account_date(engine, account_id)
    with acting(principal):
        return operations.legal.open_case(
            engine,
            account_id,
            on,
            cost=parse_yuan(body.cost, field="cost"),
            documents=body.documents,
            note=body.note,
        )


def _legal_case(engine: Engine, legal_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        return operations.legal.case_json(conn, legal_id)


@router.get("/legal/{legal_id:path}", summary="A legal case: steps, costs, documents, limitation period")
def get_legal_case(
    legal_id: str,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("legal.read"))],
) -> dict[str, Any]:
    """``legal_id`` is ``ACCOUNT/legal/N`` (slashes and all)."""
    case = _legal_case(engine, legal_id)
    audited(engine, principal, "read", "legal_case", legal_id)
    return case


@router.post("/legal/{legal_id:path}/steps", summary="Move a legal case to its next step, or close it")
def post_legal_step(
    legal_id: str,
    body: LegalStepRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("legal.advance"))],
) -> dict[str, Any]:
    """``step``: ``mediation``, ``filing``, ``judgment``, ``enforcement``, ``acknowledgement`` (at any step),
    or ``closed`` with an ``outcome`` (the litigation hold ends). Out of order, or a filing after the
    limitation period, is refused (409, ``legal.order`` / ``legal.limitation_expired``)."""
    case = _legal_case(engine, legal_id)
    on = body.date or _account_date(engine, case["account_id"])
    with acting(principal):
        return operations.legal.advance(
            engine,
            legal_id,
            body.step,
            on,
            cost=parse_yuan(body.cost, field="cost"),
            documents=body.documents,
            note=body.note,
            outcome=body.outcome,
        )
