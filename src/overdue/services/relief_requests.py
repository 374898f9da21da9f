"""Relief requests: record one, answer it, and list those whose 7 working days have run out.

The deadline is computed once, when the request is recorded, on China's calendar as the ``chinese_calendar``
package knows it (public holidays off, make-up working days on), and stored with the request. The package
knows a fixed range of years (it is updated as the State Council publishes each year's holidays); a request
whose 7 working days reach past what it knows is refused with :class:`~overdue.domain.errors.InvalidDate`
naming the year, rather than given a deadline guessed from weekends alone.

Supervisors see the requests still open past their deadline with :func:`overdue_requests`
(``overdue relief overdue``), oldest deadline first.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import chinese_calendar  # type: ignore[import-untyped]
from sqlalchemy import Connection, Engine, func, select

from overdue.domain import account as rules
from overdue.domain import relief_requests as request_rules
from overdue.domain.errors import InvalidDate, NotFound
from overdue.domain.relief_common import refuse
from overdue.domain.relief_requests import RecordedRequest
from overdue.store import audit_trail, repository
from overdue.store.relief_request_tables import relief_requests


def china_workday(day: date) -> bool:
    """Whether ``day`` is a working day in mainland China (holidays off, make-up working days on).

    Raises :class:`InvalidDate` for a year the installed ``chinese_calendar`` does not know.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise InvalidDate(
            f"China's holiday calendar for {day.year} is not known to this installation "
            f"(chinese_calendar {chinese_calendar.__version__}); update the chinese-calendar package "
            "to compute relief answer deadlines in that year"
        ) from None


def _record(row: Any) -> RecordedRequest:
    return RecordedRequest(
        id=row["id"],
        account_id=row["account_id"],
        kind=row["kind"],
        party=row["party"],
        requested_by=row["requested_by"],
        channel=row["channel"],
        requested_on=row["requested_on"],
        deadline=row["deadline"],
        note=row["note"],
        status=row["status"],
        answered_on=row["answered_on"],
        answered_by=row["answered_by"],
        reason=row["reason"],
    )


def request_json(request: RecordedRequest, on: date | None = None) -> dict[str, Any]:
    """A request at the edge; with ``on``, whether it is overdue on that day and by how many days."""
    out: dict[str, Any] = {
        "id": request.id,
        "account_id": request.account_id,
        "kind": request.kind,
        "party": request.party,
        "requested_by": request.requested_by,
        "channel": request.channel,
        "requested_on": request.requested_on.isoformat(),
        "deadline": request.deadline.isoformat(),
        "note": request.note,
        "status": request.status,
        "answered_on": request.answered_on.isoformat() if request.answered_on else None,
        "answered_by": request.answered_by,
        "reason": request.reason,
        "answered_late": request.answered_late(),
    }
    if on is not None:
        out["overdue"] = request_rules.is_overdue(request, on)
        out["days_overdue"] = request_rules.days_overdue(request, on)
    return out


def _load(conn: Connection, request_id: str) -> RecordedRequest:
    row = conn.execute(select(relief_requests).where(relief_requests.c.id == request_id)).mappings().first()
    if row is None:
        raise NotFound(f"no relief request {request_id}")
    return _record(row)


def record_request(
    engine: Engine,
    account_id: str,
    kind: str,
    requested_by: str,
    *,
    party: str = "borrower",
    channel: str = "app",
    on: date | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Record a relief request on ``on`` (default: the account's current business date) with its deadline.

    kind: the relief option asked for; requested_by: who asked; party: ``borrower`` or ``collector``;
    channel: how it came in (app, phone, sms, email, letter, in_person).
    """
    with engine.begin() as conn:
        state, _ = repository.load_account(conn, account_id)
        day = on or rules.next_open_date(state)
        if day < state.opened_on:
            raise InvalidDate(f"account {account_id} opened on {state.opened_on}; no request on {day}")
        count = conn.execute(
            select(func.count())
            .select_from(relief_requests)
            .where(relief_requests.c.account_id == account_id)
        ).scalar_one()
        request = request_rules.new_request(
            f"{account_id}/request/{day.isoformat()}/{int(count) + 1}",
            account_id,
            kind,
            party,
            requested_by,
            channel,
            day,
            request_rules.answer_deadline(day, china_workday),
            note,
        )
        conn.execute(
            relief_requests.insert().values(
                id=request.id,
                account_id=request.account_id,
                kind=request.kind,
                party=request.party,
                requested_by=request.requested_by,
                channel=request.channel,
                requested_on=request.requested_on,
                deadline=request.deadline,
                note=request.note,
                status=request.status,
            )
        )
        detail = {"account": account_id, "kind": kind, "party": party, "channel": channel}
        audit_trail.changed(conn, "create", "relief_request", request.id, detail)
    return request_json(request)


def answer_request(
    engine: Engine,
    request_id: str,
    status: str,
    answered_by: str,
    *,
    reason: str | None = None,
    on: date | None = None,
) -> dict[str, Any]:
    """Answer an open request: ``approved``, ``refused`` (a reason required) or ``withdrawn``.

    on: the day of the answer (default: the account's current business date). An answer after the deadline
    is recorded and marked ``answered_late``.
    """
    with engine.begin() as conn:
        request = _load(conn, request_id)
        if on is None:
            state, _ = repository.load_account(conn, request.account_id)
            on = max(rules.next_open_date(state), request.requested_on)
        answered = request_rules.answer(request, status, on, answered_by, reason)
        updated = conn.execute(
            relief_requests.update()
            .where(relief_requests.c.id == request_id, relief_requests.c.status == request_rules.OPEN)
            .values(
                status=answered.status,
                answered_on=answered.answered_on,
                answered_by=answered.answered_by,
                reason=answered.reason,
            )
        )
        if updated.rowcount != 1:  # answered meanwhile by someone else
            raise refuse("relief.request.not_open", f"request {request_id} was answered meanwhile")
        detail = {"status": answered.status, "date": on.isoformat(), "by": answered_by}
        audit_trail.changed(conn, "update", "relief_request", request_id, detail)
    return request_json(answered)


def default_day(conn: Connection) -> date:
    """The current business date: the day after the last finished end-of-day (today when none ran)."""
    closed = repository.last_closed_date(conn)
    return date.today() if closed is None else date.fromordinal(closed.toordinal() + 1)


def overdue_requests(engine: Engine, on: date | None = None) -> dict[str, Any]:
    """The requests still open after their deadline on ``on`` (default: the current business date),
    oldest deadline first, for supervisors."""
    with engine.connect() as conn:
        day = on or default_day(conn)
        rows = conn.execute(
            select(relief_requests)
            .where(relief_requests.c.status == request_rules.OPEN, relief_requests.c.deadline < day)
            .order_by(relief_requests.c.deadline, relief_requests.c.id)
        ).mappings()
        found = [_record(r) for r in rows]
    return {"date": day.isoformat(), "overdue": [request_json(r, day) for r in found]}


def requests_of(engine: Engine, account_id: str, on: date | None = None) -> list[dict[str, Any]]:
    """Every request of the account, oldest first (with ``on``: whether each is overdue that day)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(relief_requests)
            .where(relief_requests.c.account_id == account_id)
            .order_by(relief_requests.c.requested_on, relief_requests.c.id)
        ).mappings()
        return [request_json(_record(r), on) for r in rows]
