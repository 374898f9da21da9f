"""Outside agencies and debt sale over HTTP.

**Agencies.** An agency user sees only their own agency: every ``/agencies/{id}/…`` of another agency is a
404 (:func:`queries.check_agency`), and what is inside (the placement file, the results, the commission)
is only what is placed with theirs (the services select by agency).

``POST /agencies/{id}/results`` takes the agency's results as ``text/csv`` (with a header) or
``application/json`` (a list of rows, or ``{"rows": [...]}``) and answers the report of
:func:`overdue.services.operations_agency.import_rows`: every row taken or rejected with its reason, never a
500 for a bad row. A payment row is reconciled with a repayment already in the ledger (the agency reports
what the borrower paid to the lender); it is credited, and earns commission, once.

**Debt sale** (admin only): select a portfolio, read its transfer file (CSV or JSON), mark it sold.

The results import, the selection and the marking take an ``Idempotency-Key``
(:func:`overdue.api.routes_operations.idempotent`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from overdue.api import queries
from overdue.api.deps import EngineDep, acting, allowed, audited
from overdue.api.routes_accounts import IdempotencyKey
from overdue.api.routes_operations import OnQuery, business_date_or, idempotent
from overdue.api.schemas_operations import (
    DateRequest,
    ForwardedPaymentRequest,
    PlacementRequest,
    SaleSelectRequest,
)
from overdue.api.security import Principal
from overdue.domain.errors import InvalidInput
from overdue.domain.money import parse_positive_yuan
from overdue.operations.agency import PlacementRules
from overdue.operations.sale import PortfolioFilter, transfer_csv
from overdue.services import operations

router = APIRouter(tags=["agencies and debt sale"])

FormatQuery = Annotated[Literal["csv", "json"], Query(description="csv or json")]
MAX_RESULTS_BYTES = 10 * 1024 * 1024
"""The largest results file accepted in one request (10 MiB)."""

_CSV = "text/csv; charset=utf-8"


def _csv(text: str, filename: str) -> Response:
    return Response(
        text, media_type=_CSV, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


@router.get("/agencies", summary="The agencies you may see, with their whitelist review")
def list_agencies(
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("agencies.read"))],
) -> dict[str, Any]:
    """An agency user sees only their own agency."""
    with engine.connect() as conn:
        items = queries.list_agencies(conn, principal)
    audited(engine, principal, "read", "agencies", "list")
    return {"items": items}


@router.post("/agencies/{agency_id}/placements", status_code=201, summary="Place waiting accounts")
def post_placements(
    agency_id: str,
    body: PlacementRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("placements.create"))],
) -> dict[str, Any]:
    """The accounts the end-of-day decided to place (agency still ``unassigned``) whose DPD and overdue
    balance fit the rules go to the agency — only while its whitelist review is in force (409 otherwise)."""
    with engine.connect() as conn:
        queries.check_agency(conn, principal, agency_id)
    day = business_date_or(engine, body.date)
    rules = PlacementRules(
        min_days_past_due=body.min_days_past_due,
        min_balance=parse_positive_yuan(body.min_balance, field="min_balance"),
        max_balance=None
        if body.max_balance is None
        else parse_positive_yuan(body.max_balance, field="max_balance"),
        term_days=body.term_days,
    )
    with acting(principal):
        return operations.agency.place_accounts(engine, agency_id, day, rules)


@router.get("/agencies/{agency_id}/placement-file", summary="The agency's placement file, CSV or JSON")
def get_placement_file(
    agency_id: str,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("agencies.read"))],
    on: OnQuery = None,
    format: FormatQuery = "json",
) -> Any:
    """The agency's placements in force on ``on`` (and nobody else's), with each account's DPD and overdue
    balance now."""
    with engine.connect() as conn:
        queries.check_agency(conn, principal, agency_id)
    day = business_date_or(engine, on)
    rows = operations.agency.placement_rows(engine, agency_id, day)
    audited(
        engine,
        principal,
        "read",
        "placement_file",
        agency_id,
        {"date": day.isoformat(), "accounts": [r["account_id"] for r in rows]},
    )
    if format == "csv":
        return _csv(operations.agency.placement_csv(rows), f"{_safe(agency_id)}-{day.isoformat()}.csv")
    return {"agency": agency_id, "date": day.isoformat(), "placements": rows}


def _results_rows(content_type: str, raw: bytes) -> list[dict[str, object]]:
    kind = {"text/csv": "csv", "application/json": "json"}.get(content_type.split(";")[0].strip().lower())
    if kind is None:
        raise InvalidInput("send the results as text/csv (with a header) or application/json")
    if len(raw) > MAX_RESULTS_BYTES:
        raise InvalidInput(f"a results file is at most {MAX_RESULTS_BYTES} bytes; split it")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"the results are not UTF-8: {error.reason}") from error
    return operations.agency.parse_rows(text, kind)


@router.post(
    "/agencies/{agency_id}/results",
    summary="Import the agency's results: every row taken or rejected with its reason",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            },
        }
    },
)
async def post_results(
    agency_id: str,
    request: Request,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("agency_results.import"))],
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Columns ``ref,account_id,type,date,amount,at,channel,party,outcome``: a ``payment`` (``date``,
    ``amount`` in yuan as a string) must match a repayment in the ledger; a ``contact`` (``at``,
    ``channel``, ``party``, ``outcome``) passes the rulebook first. A ``ref`` is taken once."""
    raw = await request.body()

    def run() -> dict[str, Any]:
        with engine.connect() as conn:
            queries.check_agency(conn, principal, agency_id)
        rows = _results_rows(request.headers.get("content-type", ""), raw)
        report, _ = idempotent(
            engine,
            principal,
            idempotency_key,
            "agency-results",
            {"agency": agency_id, "rows": rows},
            lambda: operations.agency.import_rows(
                engine, agency_id, rows, source="api", at=datetime.now(UTC)
            ),
            response,
        )
        return report

    return await run_in_threadpool(run)


@router.post("/agencies/{agency_id}/recall", summary="Recall the agency's placements whose term has ended")
def post_recall(
    agency_id: str,
    body: DateRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("placements.recall"))],
) -> dict[str, Any]:
    with engine.connect() as conn:
        queries.check_agency(conn, principal, agency_id)
    day = business_date_or(engine, body.date)
    with acting(principal):
        return operations.agency.recall_due(engine, day, agency_id)


@router.get("/agencies/{agency_id}/commission", summary="What the agency recovered and earned, by placement")
def get_commission(
    agency_id: str,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("agencies.read"))],
) -> dict[str, Any]:
    with engine.connect() as conn:
        queries.check_agency(conn, principal, agency_id)
    result = operations.agency.commission_statement(engine, agency_id)
    audited(engine, principal, "read", "commission", agency_id)
    return result


@router.post("/sales/select", status_code=201, summary="Select a debt sale's portfolio")
def post_sale_select(
    body: SaleSelectRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("sales.select"))],
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Accounts by DPD, status and outstanding balance, with their balances now; never an account sold, in
    another sale, or under litigation. An empty portfolio is refused (409)."""
    day = business_date_or(engine, body.date)
    rules = PortfolioFilter(
        min_days_past_due=body.min_days_past_due,
        statuses=tuple(body.statuses),
        min_balance=parse_positive_yuan(body.min_balance, field="min_balance"),
        max_balance=None
        if body.max_balance is None
        else parse_positive_yuan(body.max_balance, field="max_balance"),
    )
    request = {**body.model_dump(mode="json"), "date": day.isoformat()}
    result, _ = idempotent(
        engine,
        principal,
        idempotency_key,
        "sale-select",
        request,
        lambda: operations.sale.select_sale(engine, body.sale, body.buyer, day, rules),
        response,
    )
    return result


@router.get("/sales/{sale_id}", summary="A debt sale, its filters and accounts")
def get_sale(
    sale_id: str,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("sales.read"))],
) -> dict[str, Any]:
    with engine.connect() as conn:
        sale = operations.sale.sale_json(conn, sale_id)
    audited(engine, principal, "read", "sale", sale_id)
    return sale


@router.get("/sales/{sale_id}/transfer-file", summary="The sale's transfer file, CSV or JSON")
def get_transfer_file(
    sale_id: str,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("sales.read"))],
    format: FormatQuery = "json",
) -> Any:
    """One row per account: status, DPD, principal, interest, fees, outstanding (yuan strings) and the date
    of its last payment."""
    with engine.connect() as conn:
        sale = operations.sale.sale_json(conn, sale_id)
    audited(engine, principal, "read", "transfer_file", sale_id, {"format": format})
    if format == "csv":
        return _csv(transfer_csv(sale["accounts"]), f"{_safe(sale_id)}.csv")
    return sale


@router.post("/sales/{sale_id}/mark-sold", summary="Mark every account of the sale sold")
def post_mark_sold(
    sale_id: str,
    body: DateRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("sales.mark_sold"))],
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """A ``sold`` hold on each account (collection stops, contact is refused), open work cancelled; later
    payments are forwarded to the buyer, never posted. ``date`` must be each account's business date."""
    day = business_date_or(engine, body.date)
    result, _ = idempotent(
        engine,
        principal,
        idempotency_key,
        "sale-mark-sold",
        {"sale": sale_id, "date": day.isoformat()},
        lambda: operations.sale.mark_sold(engine, sale_id, day),
        response,
    )
    return result


@router.post("/sales/payments", status_code=201, summary="Record a payment received on a sold account")
def post_forwarded_payment(
    body: ForwardedPaymentRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("sales.forward"))],
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """The money is the buyer's: it is recorded as owed to them (``forwarded_to``) and the ledger is not
    touched. Refused (409) for an account that is not sold (post it as a repayment) and for a ``reference``
    already recorded."""
    day = business_date_or(engine, body.date)
    amount = parse_positive_yuan(body.amount)
    result, _ = idempotent(
        engine,
        principal,
        idempotency_key,
        "sale-payment",
        {**body.model_dump(mode="json"), "date": day.isoformat()},
        lambda: operations.sale.forward_payment(engine, body.account_id, day, amount, body.reference),
        response,
    )
    return result
