"""Relief endpoints: quote, accept, approve, list; agreements; requests and their 7-working-day clock.

The endpoints are thin over :mod:`overdue.services.relief`, :mod:`overdue.services.relief_requests` and
:mod:`overdue.services.relief_agreements`; every refusal by a relief rule is a problem with its ``rule``
(``relief.…``), and a role that may not do something is a 403 whose ``rule`` is the permission.

- **Who made it, who approves it.** The maker of an acceptance or a request is the authenticated user, and
  so is the approver: a body never names either. The approver's authority is their API role's approval
  level (:data:`APPROVAL_LEVELS`), whose limit the product's relief terms set; the service refuses the maker
  approving their own (``relief.approval.same_user``) and an amount above the level's limit
  (``relief.approval.over_authority``).
- **Idempotency.** Accepting and approving move money or ledger state, so they need an ``Idempotency-Key``,
  scoped to the user as the purchase endpoint's are, and kept by the service in the same transaction as the
  effect: a replay returns the first answer (with ``Idempotent-Replayed: true``), the same key with another
  body is a 422.
- **Ids with slashes.** Waiver, plan, settlement and request ids read ``A1/plan/2026-03-17/1``; they are
  written into the path as they are (``POST /relief/A1/plan/2026-03-17/1/approve``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import Connection, Engine, Table, select

from overdue.api import queries
from overdue.api.deps import EngineDep, PrincipalDep, acting, allowed, audited, key_seen, scoped_key
from overdue.api.problems import Forbidden
from overdue.api.routes_accounts import IdempotencyKey
from overdue.api.schemas_relief import (
    AcceptRequest,
    AnswerRequest,
    ApproveRequest,
    QuoteRequest,
    ReliefAskRequest,
)
from overdue.api.security import Principal
from overdue.domain.errors import NotFound, ReliefRefused
from overdue.services import relief, relief_agreements, relief_requests
from overdue.store.relief_request_tables import relief_requests as relief_requests_table
from overdue.store.relief_tables import relief_arrangements, relief_waivers

router = APIRouter(tags=["relief"])

APPROVAL_LEVELS: dict[str, str] = {"collector": "agent", "supervisor": "supervisor", "admin": "manager"}
"""API role → the approval level (:attr:`overdue.domain.relief_terms.ReliefTerms.role_limits`) it approves
at. huabei's limits: agent 200.00, supervisor 10,000.00, manager 50,000.00 (a waiver's amount, or what a
plan sets aside or a settlement forgives)."""

MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


class RoleRefused(Forbidden):
    """The user's role does not have a relief permission; ``rule`` names the permission (HTTP 403)."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(f"{message} [{rule}]")
        self.rule = rule


def may(permission: str) -> Callable[[Principal], Principal]:
    """:func:`overdue.api.deps.allowed`, refusing with the permission named as the problem's ``rule``."""
    check = allowed(permission)

    def relief_check(principal: PrincipalDep) -> Principal:
        try:
            return check(principal)
        except Forbidden as refused:
            raise RoleRefused(str(refused), permission) from None

    return relief_check


def _visible(engine: Engine, principal: Principal, account_id: str) -> None:
    with engine.connect() as conn:
        queries.check_visible(conn, principal, account_id)


def _account_of(conn: Connection, tables: tuple[Table, ...], record_id: str, what: str) -> str:
    """The account the waiver, arrangement or request ``record_id`` belongs to."""
    for table in tables:
        account_id = conn.execute(select(table.c.account_id).where(table.c.id == record_id)).scalar()
        if account_id is not None:
            return str(account_id)
    raise NotFound(f"no {what} {record_id!r}")


# --- One account's relief ---------------------------------------------------------------------------------


@router.get(
    "/accounts/{account_id}/relief", summary="The account's plans, settlements, deferrals, waivers, requests"
)
def get_relief(
    account_id: str,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(may("relief.read"))],
) -> dict[str, Any]:
    """Everything relief did on the account, its current plan (``plan``: kind, status, next due, remaining)
    and its requests (with whether each is overdue on the current business date)."""
    with engine.connect() as conn:
        queries.check_visible(conn, principal, account_id)
        today = relief_requests.default_day(conn)
    result = relief.list_relief(engine, account_id)
    result["requests"] = relief_requests.requests_of(engine, account_id, today)
    audited(engine, principal, "read", "relief", account_id)
    return result


@router.post(
    "/accounts/{account_id}/relief/quotes", summary="What a relief option would do (changes nothing)"
)
def post_quote(
    account_id: str,
    body: QuoteRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(may("relief.quote"))],
) -> dict[str, Any]:
    """Payments, total cost, annualised rate, what is waived, the effect on the line and the bureau, and the
    ``fingerprint`` of the balance it was made on (give it back to accept)."""
    _visible(engine, principal, account_id)
    result = relief.quote(engine, account_id, body.relief_request(), on=body.date)
    audited(engine, principal, "read", "relief_quote", account_id, {"kind": body.kind})
    return result


@router.post("/accounts/{account_id}/relief/accept", status_code=201, summary="Accept a quoted relief option")
def post_accept(
    account_id: str,
    body: AcceptRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(may("relief.accept"))],
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """The maker is you. A plan or settlement that forgives anything, and every waiver, waits for approval;
    a balance changed since the quote refuses it (409, ``relief.quote.stale``)."""
    key = scoped_key(principal, idempotency_key, "accepting relief")
    _visible(engine, principal, account_id)
    seen = key_seen(engine, key)
    try:
        with acting(principal):
            result = relief.accept(
                engine,
                account_id,
                body.relief_request(),
                body.fingerprint,
                maker=principal.name,
                on=body.date,
                idempotency_key=key,
            )
    except ReliefRefused as refused:
        audited(engine, principal, "refused", "relief", account_id, {"kind": body.kind, "rule": refused.rule})
        raise
    if seen:
        response.headers["Idempotent-Replayed"] = "true"
    return result


@router.get(
    "/accounts/{account_id}/relief/agreements/{arrangement_id:path}",
    summary="A plan's or settlement's agreement, as HTML or PDF",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}, "description": "The document."}},
)
def get_agreement(
    account_id: str,
    arrangement_id: str,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(may("relief.read"))],
    fmt: Annotated[str, Query(alias="format", pattern="^(html|pdf)$")] = "html",
    lang: Annotated[str, Query(pattern="^(zh-CN|en)$")] = "zh-CN",
) -> Response:
    """Every term the agreement is made on (balance and its structure, schedule, interest and fees during
    it, breach terms), in zh-CN or English."""
    _visible(engine, principal, account_id)
    data = relief_agreements.render_agreement(engine, account_id, arrangement_id, fmt, lang)
    audited(engine, principal, "read", "relief_agreement", arrangement_id, {"format": fmt, "lang": lang})
    filename = f"{arrangement_id.replace('/', '_')}.{fmt}"
    return Response(
        content=data,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


# --- Approval (the checker) -------------------------------------------------------------------------------


@router.post(
    "/relief/{relief_id:path}/approve", summary="Approve a waiver, plan or settlement (maker-checker)"
)
def post_approve(
    relief_id: str,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(may("relief.approve"))],
    response: Response,
    body: ApproveRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """You approve at your role's level (collector: agent, supervisor: supervisor, admin: manager); the
    maker may not approve their own. It takes effect whole, or nothing does."""
    key = scoped_key(principal, idempotency_key, "an approval")
    level = APPROVAL_LEVELS.get(principal.role)
    if level is None:
        raise RoleRefused(f"the role {principal.role!r} has no approval level", "relief.approve")
    with engine.connect() as conn:
        account_id = _account_of(
            conn, (relief_waivers, relief_arrangements), relief_id, "waiver, plan or settlement"
        )
        queries.check_visible(conn, principal, account_id)
    seen = key_seen(engine, key)
    on = None if body is None else body.date
    try:
        with acting(principal):
            result = relief.approve(
                engine, account_id, relief_id, principal.name, level, on=on, idempotency_key=key
            )
    except ReliefRefused as refused:
        audited(engine, principal, "refused", "relief_approval", relief_id, {"rule": refused.rule})
        raise
    if seen:
        response.headers["Idempotent-Replayed"] = "true"
    return result


# --- Requests and their clock -----------------------------------------------------------------------------


@router.post(
    "/accounts/{account_id}/relief/requests",
    status_code=201,
    summary="Record a relief request (answered within 7 working days)",
)
def post_request(
    account_id: str,
    body: ReliefAskRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(may("relief.requests.create"))],
) -> dict[str, Any]:
    """Who asked is you: a borrower's request is the borrower's, anyone else's is a collector's on the
    borrower's behalf. The deadline is the 7th working day after it on China's calendar."""
    _visible(engine, principal, account_id)
    with acting(principal):
        return relief_requests.record_request(
            engine,
            account_id,
            body.kind,
            principal.name,
            party="borrower" if principal.role == "borrower" else "collector",
            channel=body.channel,
            on=body.date,
            note=body.note,
        )


@router.get("/relief/requests/overdue", summary="Relief requests unanswered past their deadline")
def get_overdue_requests(
    engine: EngineDep,
    principal: Annotated[Principal, Depends(may("relief.requests.overdue"))],
    on: Annotated[date | None, Query(description="The day (default: the current business date).")] = None,
) -> dict[str, Any]:
    """Every open request past its 7 working days on ``on``, oldest deadline first: flagged to supervisors."""
    result = relief_requests.overdue_requests(engine, on)
    audited(
        engine, principal, "read", "relief_requests", "overdue", {"ids": [r["id"] for r in result["overdue"]]}
    )
    return result


@router.post("/relief/requests/{request_id:path}/answer", summary="Answer a relief request")
def post_answer(
    request_id: str,
    body: AnswerRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(may("relief.requests.answer"))],
) -> dict[str, Any]:
    """``approved``, ``refused`` (with a reason) or ``withdrawn``; an answer after the deadline is recorded
    and marked ``answered_late``."""
    with engine.connect() as conn:
        account_id = _account_of(conn, (relief_requests_table,), request_id, "relief request")
        queries.check_visible(conn, principal, account_id)
    with acting(principal):
        return relief_requests.answer_request(
            engine, request_id, body.status, principal.name, reason=body.reason, on=body.date
        )
