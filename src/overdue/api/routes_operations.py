"""Operations endpoints: cases, queues, the morning allocation, reassignments, collectors and absences.

Thin over :mod:`overdue.services.operations`. Who sees what is decided in the queries
(:mod:`overdue.api.queries`): a collector sees only the cases allocated to them on the business date, so
``GET /queues/{queue}`` and ``GET /cases`` list only their own work; a case they may not see is a 404.

Also here, shared by :mod:`.routes_operations_field` and :mod:`.routes_operations_agency`: the current
business date (:func:`business_date_or`), pages of cases (:func:`page_of_cases`), and
:func:`idempotent`, which gives the operations that move money or cannot be repeated (results import, debt
sale) the same ``Idempotency-Key`` contract as purchases and repayments.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from overdue.api import queries
from overdue.api.deps import EngineDep, acting, allowed, audited, scoped_key
from overdue.api.masking import borrower_view
from overdue.api.schemas_operations import AbsenceRequest, DateRequest, ReassignRequest
from overdue.api.security import Principal
from overdue.domain.errors import InvalidInput, NotFound
from overdue.domain.money import parse_yuan
from overdue.operations.cases import CURRENT, QUEUES
from overdue.services import idempotency, operations

router = APIRouter(tags=["operations"])

OnQuery = Annotated[date | None, Query(description="Business date (default: the current one).")]
LimitQuery = Annotated[int, Query(ge=1, le=queries.MAX_PAGE, description="Items per page.")]
CursorQuery = Annotated[str | None, Query(max_length=400, description="next_cursor of the previous page")]
ScoreQuery = Annotated[bool, Query(description="Compute the collection score (slower).")]


def business_date_or(engine: Engine, on: date | None) -> date:
    """``on``, or the current business date when it is None."""
    if on is not None:
        return on
    with engine.connect() as conn:
        return queries.business_date(conn)


def idempotent(
    engine: Engine,
    principal: Principal,
    key: str | None,
    operation: str,
    request: dict[str, Any],
    work: Callable[[], dict[str, Any]],
    response: Response,
) -> tuple[dict[str, Any], bool]:
    """Run ``work`` once per ``Idempotency-Key``: a retry with the same key and request gets the first answer
    (``Idempotent-Replayed: true``), the same key with another request is a 422.

    ``work``'s changes are audited as ``principal``'s. Returns the answer and whether it was replayed. The
    services behind these endpoints commit in several
    transactions, so the answer is stored just after ``work`` finishes; should the process die in between,
    a retry runs ``work`` again, which the services make harmless (a results row is taken once, a sale is
    selected and marked once).
    """
    scoped = scoped_key(principal, key, operation)
    with engine.connect() as conn:
        earlier = idempotency.replayed(conn, scoped, operation, request)
    if earlier is None:
        with acting(principal):
            answer = work()
        try:
            with engine.begin() as conn:
                idempotency.remember(conn, scoped, operation, request, answer)
            return answer, False
        except IntegrityError:  # the same key raced in from another request; its answer stands
            with engine.connect() as conn:
                earlier = idempotency.replayed(conn, scoped, operation, request)
            if earlier is None:
                raise
    response.headers["Idempotent-Replayed"] = "true"
    return earlier, True


def _case_key(case: dict[str, Any]) -> tuple[int, int, str]:
    """Where a case sorts in a list (highest priority first): its page cursor."""
    return (-int(case["priority"]), -parse_yuan(case["overdue"]), str(case["case"]))


def _decode_case_cursor(cursor: str) -> tuple[int, int, str]:
    invalid = InvalidInput(f"invalid cursor {cursor!r}: pass next_cursor from the previous page")
    try:
        priority, overdue, case_id = json.loads(queries.decode_cursor(cursor))
    except (ValueError, TypeError) as error:
        raise invalid from error
    if not (isinstance(priority, int) and isinstance(overdue, int) and isinstance(case_id, str)):
        raise invalid
    return (priority, overdue, case_id)


def page_of_cases(cases: list[dict[str, Any]], limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of ``cases`` (already in priority order) after ``cursor``, and the cursor of the next page.

    The cursor is the sort key of the page's last case (keyset pagination): a case whose priority changed
    meanwhile is neither lost nor repeated within its new place."""
    if cursor is not None:
        after = _decode_case_cursor(cursor)
        cases = [c for c in cases if _case_key(c) > after]
    page = cases[:limit]
    more = len(cases) > limit
    return {
        "items": page,
        "next_cursor": queries.encode_cursor(json.dumps(list(_case_key(page[-1])))) if more else None,
    }


def _cases_seen(
    engine: Engine, principal: Principal, on: date, queue: str | None, score: bool
) -> list[dict[str, Any]]:
    """The cases ``principal`` may see on ``on`` (of ``queue``), each with its collector that day."""
    with engine.connect() as conn:
        visible = queries.visible_cases(conn, principal, on)
        collector_of = queries.assignments_on(conn, on)
    # A collector's allocated cases are their work even when nothing is due any more (paid since).
    cases = operations.cases.list_cases(engine, queue=queue, score=score, include_current=visible is not None)
    return [
        {**c, "collector": collector_of.get(c["case"])}
        for c in cases
        if visible is None or c["case"] in visible
    ]


@router.get("/cases", summary="Cases, highest priority first, a page at a time")
def list_cases(
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("cases.read"))],
    queue: Annotated[str | None, Query(max_length=16, description="Only cases in this queue.")] = None,
    on: OnQuery = None,
    score: ScoreQuery = True,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    """Every borrower's case with something due or open work (a collector: only the cases allocated to
    them on ``on``), with its stage, queue, priority and collector that day."""
    day = business_date_or(engine, on)
    page = page_of_cases(_cases_seen(engine, principal, day, queue, score), limit, cursor)
    audited(engine, principal, "read", "cases", "list", {"ids": [c["case"] for c in page["items"]]})
    return {"date": day.isoformat(), **page}


@router.get("/cases/{case_id}", summary="A case: its accounts, borrower, assignments, field and legal work")
def get_case(
    case_id: str,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("cases.read"))],
    on: OnQuery = None,
    score: ScoreQuery = True,
) -> dict[str, Any]:
    """The case with its borrower's personal data as your role may see it."""
    day = business_date_or(engine, on)
    with engine.connect() as conn:
        visible = queries.visible_cases(conn, principal, day)
        if visible is not None and case_id not in visible:
            raise NotFound(f"unknown case {case_id!r}")
        borrower = queries.borrower_of_case(conn, case_id)
    case = operations.show_case(engine, case_id, score=score)
    audited(engine, principal, "read", "case", case_id, {"borrower": borrower and borrower["id"]})
    return {**case, "borrower": None if borrower is None else borrower_view(borrower, principal.role)}


@router.get("/queues/{queue}", summary="A queue's cases and their collectors (a collector: their own)")
def get_queue(
    queue: str,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("queues.read"))],
    on: OnQuery = None,
    score: ScoreQuery = True,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    """The cases of ``queue`` (``pre_due``, ``S1``, ``M1``, ``M2``, ``M3+``, ``field``, ``agency``,
    ``legal``), highest priority first: a collector sees only those allocated to them on ``on``."""
    if queue not in (*QUEUES, CURRENT):
        raise NotFound(f"unknown queue {queue!r}; the queues are {', '.join(QUEUES)}")
    day = business_date_or(engine, on)
    page = page_of_cases(_cases_seen(engine, principal, day, queue, score), limit, cursor)
    audited(engine, principal, "read", "queue", queue, {"ids": [c["case"] for c in page["items"]]})
    return {"queue": queue, "date": day.isoformat(), **page}


@router.post("/allocation/run", summary="The morning allocation of the call queues' cases to collectors")
def run_allocation(
    body: DateRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("allocation.run"))],
    score: ScoreQuery = True,
) -> dict[str, Any]:
    """Gives the cases of ``M1``, ``M2`` and ``M3+`` to the collectors present on ``date``: sticky to the
    previous collector, daily caps, the rest balanced by overdue amount. A date is allocated once; running
    it again answers what was stored (``already_allocated``)."""
    day = business_date_or(engine, body.date)
    with acting(principal):
        return operations.allocation.allocate_day(engine, day, score=score)


@router.post("/cases/{case_id}/reassign", summary="A supervisor gives a case to another collector")
def reassign(
    case_id: str,
    body: ReassignRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("cases.reassign"))],
) -> dict[str, Any]:
    """Refused (409) when the collector is away that day, at their cap, or already has the case."""
    day = business_date_or(engine, body.date)
    with acting(principal):
        return operations.allocation.reassign(
            engine, case_id, day, body.to, by=principal.name, reason=body.reason
        )


@router.get("/collectors", summary="Collectors and field agents with their daily caps")
def list_collectors(
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("collectors.read"))],
) -> dict[str, Any]:
    items = operations.allocation.list_collectors(engine)
    audited(engine, principal, "read", "collectors", "list")
    return {"items": items}


@router.post(
    "/collectors/{collector_id}/absences", status_code=201, summary="Mark a collector away for a day"
)
def post_absence(
    collector_id: str,
    body: AbsenceRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("absences.create"))],
) -> dict[str, Any]:
    """The allocation of that date gives the collector's cases to others (also a field agent's routes)."""
    with acting(principal):
        return operations.allocation.record_absence(engine, collector_id, body.date, body.reason)
