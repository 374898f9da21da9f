"""What the API reads, with per-role visibility in the queries themselves.

:func:`visible_accounts` is the one condition every account query carries: a borrower sees only the accounts
linked to them, an agency user only the accounts placed with their agency (``collection_states.agency``),
every other role every account. An account a user may not see is reported as unknown (404), never as
forbidden, so its existence is not revealed.

Operations follow the same rule: a collector sees only the cases allocated to them that day
(:func:`visible_cases`), a field agent only the field orders of their team (:func:`visible_field_orders`),
an agency user only their own agency and what is placed with it (:func:`visible_agencies`).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, literal, select, true

from overdue.api.security import Principal
from overdue.domain.errors import InvalidInput, NotFound
from overdue.domain.money import format_yuan
from overdue.store import audit_trail, repository
from overdue.store.account_tables import accounts, statements
from overdue.store.api_tables import borrower_accounts, borrowers
from overdue.store.collection_tables import collection_states, contacts, promises
from overdue.store.compliance_tables import agencies, agency_reviews
from overdue.store.operations_tables import agency_placements, case_assignments, field_orders

MAX_PAGE = 100
"""The most items one page may hold."""


def visible_accounts(principal: Principal) -> ColumnElement[bool]:
    """The condition on ``accounts.id`` that limits a query to what ``principal`` may see."""
    if principal.role == "borrower":
        return accounts.c.id.in_(
            select(borrower_accounts.c.account_id).where(
                borrower_accounts.c.borrower_id == principal.borrower_id
            )
        )
    if principal.role == "agency":
        return accounts.c.id.in_(
            select(collection_states.c.account_id).where(collection_states.c.agency == principal.agency)
        )
    return true()


def check_visible(conn: Connection, principal: Principal, account_id: str) -> None:
    """Raise :class:`NotFound` unless ``account_id`` exists and ``principal`` may see it."""
    found = conn.execute(
        select(accounts.c.id).where(accounts.c.id == account_id, visible_accounts(principal))
    ).first()
    if found is None:
        raise NotFound(f"unknown account {account_id!r}")


def encode_cursor(account_id: str) -> str:
    """An opaque cursor: the last account id of a page, URL-safe base64."""
    return base64.urlsafe_b64encode(account_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The account id inside a cursor from :func:`encode_cursor`; :class:`InvalidInput` when it is not one."""
    invalid = InvalidInput(f"invalid cursor {cursor!r}: pass next_cursor from the previous page")
    try:
        account_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise invalid from error
    if not account_id or encode_cursor(account_id) != cursor:  # only what encode_cursor writes
        raise invalid
    return account_id


def list_accounts(conn: Connection, principal: Principal, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of the accounts ``principal`` may see, in id order, and the cursor of the next page."""
    query = select(accounts).where(visible_accounts(principal)).order_by(accounts.c.id).limit(limit + 1)
    if cursor is not None:
        query = query.where(accounts.c.id > decode_cursor(cursor))
    rows = list(conn.execute(query).mappings())
    page = rows[:limit]
    return {
        "items": [account_summary(r) for r in page],
        "next_cursor": encode_cursor(page[-1]["id"]) if len(rows) > limit else None,
    }


def account_summary(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "product": row["product"],
        "status": row["status"],
        "language": row["language"],
        "opened_on": row["opened_on"].isoformat(),
        "credit_limit": format_yuan(row["credit_limit_fen"]),
        "days_past_due": row["days_past_due"],
        "bucket": row["bucket"],
        "last_eod": None if row["last_eod"] is None else row["last_eod"].isoformat(),
    }


def statements_of(conn: Connection, account_id: str) -> list[dict[str, Any]]:
    """Every statement of the account, newest first."""
    rows = conn.execute(
        select(statements)
        .where(statements.c.account_id == account_id)
        .order_by(statements.c.statement_date.desc())
    ).mappings()
    out = []
    for r in rows:
        principal = r["new_principal_fen"] + r["carried_principal_fen"] + r["installment_principal_fen"]
        unpaid = principal + r["interest_fen"] + r["overdue_interest_fen"] + r["fees_fen"]
        out.append(
            {
                "id": r["id"],
                "date": r["statement_date"].isoformat(),
                "due_date": r["due_date"].isoformat(),
                "amount": format_yuan(r["amount_fen"]),
                "minimum": format_yuan(r["minimum_fen"]),
                "paid": format_yuan(r["paid_fen"]),
                "unpaid": format_yuan(unpaid),
                "installed": bool(r["installed"]),
                "closed_on": None if r["closed_on"] is None else r["closed_on"].isoformat(),
            }
        )
    return out


def promises_of(conn: Connection, account_id: str) -> list[dict[str, Any]]:
    """Every promise to pay of the account, newest first."""
    rows = conn.execute(
        select(promises)
        .where(promises.c.account_id == account_id)
        .order_by(promises.c.made_on.desc(), promises.c.id.desc())
    ).mappings()
    return [
        {
            "id": r["id"],
            "made_on": r["made_on"].isoformat(),
            "amount": format_yuan(r["amount_fen"]),
            "due_on": r["due_on"].isoformat(),
            "status": r["status"],
            "paid": format_yuan(r["paid_fen"]),
            "resolved_on": None if r["resolved_on"] is None else r["resolved_on"].isoformat(),
        }
        for r in rows
    ]


def contacts_of(conn: Connection, account_id: str) -> list[dict[str, Any]]:
    """Every contact attempt made on the account, newest first (times in UTC)."""
    rows = conn.execute(
        select(contacts)
        .where(contacts.c.account_id == account_id)
        .order_by(contacts.c.at.desc(), contacts.c.id.desc())
    ).mappings()
    return [
        {
            "id": r["id"],
            "business_date": r["business_date"].isoformat(),
            "at": _utc(r["at"]).isoformat(),
            "channel": r["channel"],
            "party": r["party"],
            "outcome": r["outcome"],
            "source": r["source"],
            "agency": r["agency"],
            "collectors": r["collectors"],
            "recording_ref": r["recording_ref"],
            "note": r["note"],
        }
        for r in rows
    ]


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def borrower_of(conn: Connection, account_id: str) -> dict[str, Any] | None:
    """The borrower who owes ``account_id`` (unmasked, as stored), or None when none is recorded."""
    row = (
        conn.execute(
            select(borrowers)
            .join(borrower_accounts, borrower_accounts.c.borrower_id == borrowers.c.id)
            .where(borrower_accounts.c.account_id == account_id)
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def check_borrower(conn: Connection, borrower: dict[str, str]) -> str | None:
    """The id of the known borrower with ``borrower["national_id"]`` (None when new);
    :class:`InvalidInput` when that national id is registered under another name."""
    known = conn.execute(
        select(borrowers.c.id, borrowers.c.name).where(borrowers.c.national_id == borrower["national_id"])
    ).first()
    if known is None:
        return None
    if known.name != borrower["name"]:
        raise InvalidInput("this national id is already registered to a borrower with another name")
    found: str = known.id
    return found


def save_borrower(conn: Connection, borrower: dict[str, str]) -> str:
    """The id of the borrower with ``borrower["national_id"]``, added when new (a known one is not changed).

    borrower: ``name``, ``phone``, ``national_id``, ``address``.
    """
    known = check_borrower(conn, borrower)
    if known is not None:
        return known
    borrower_id = f"B-{uuid.uuid4().hex[:16]}"
    conn.execute(
        borrowers.insert().values(
            id=borrower_id,
            name=borrower["name"],
            phone=borrower["phone"],
            national_id=borrower["national_id"],
            address=borrower["address"],
            created_at=datetime.now(UTC),
        )
    )
    # The detail names the fields written, never their values (the log keeps no personal data).
    audit_trail.changed(conn, "create", "borrower", borrower_id, {"fields": sorted(borrower)})
    return borrower_id


def link_borrower(conn: Connection, borrower_id: str, account_id: str) -> None:
    """Record that ``account_id`` is ``borrower_id``'s, in the caller's transaction."""
    conn.execute(borrower_accounts.insert().values(borrower_id=borrower_id, account_id=account_id))
    audit_trail.changed(conn, "create", "borrower_account", borrower_id, {"account": account_id})


def borrower_accounts_of(conn: Connection, borrower_id: str) -> list[str]:
    return list(
        conn.execute(
            select(borrower_accounts.c.account_id)
            .where(borrower_accounts.c.borrower_id == borrower_id)
            .order_by(borrower_accounts.c.account_id)
        ).scalars()
    )


# --- operations: who sees which cases, field orders and agencies ------------------------------------------


def business_date(conn: Connection) -> date:
    """The current business date: the day after the last closed end-of-day; before any end-of-day, the
    earliest opening date of an account (today when there is none)."""
    closed = repository.last_closed_date(conn)
    if closed is not None:
        return closed + timedelta(days=1)
    opened = conn.execute(select(func.min(accounts.c.opened_on))).scalar()
    return opened if isinstance(opened, date) else datetime.now(UTC).date()


def worker_id(principal: Principal) -> str | None:
    """The collector (or field agent) id a ``collector`` or ``field_agent`` user works as: their user name
    (``overdue queue collector add NAME``); None for every other role."""
    return principal.name if principal.role in ("collector", "field_agent") else None


def visible_cases(conn: Connection, principal: Principal, on: date) -> set[str] | None:
    """The case ids ``principal`` may see on ``on``: a collector only the cases allocated to them that day
    (by the morning allocation or a supervisor); None (every case) for the other roles that read cases."""
    collector = worker_id(principal)
    if collector is None:
        return None
    return set(
        conn.execute(
            select(case_assignments.c.case_id).where(
                case_assignments.c.business_date == on, case_assignments.c.collector_id == collector
            )
        ).scalars()
    )


def assignments_on(conn: Connection, on: date) -> dict[str, str]:
    """Case id → its collector on ``on``."""
    return {
        r.case_id: r.collector_id
        for r in conn.execute(
            select(case_assignments.c.case_id, case_assignments.c.collector_id).where(
                case_assignments.c.business_date == on
            )
        )
    }


def visible_field_orders(principal: Principal) -> ColumnElement[bool]:
    """The condition on ``field_orders`` that limits a query to what ``principal`` may see: a field agent
    only the orders whose team they are in; every other role that reads field orders, all of them."""
    agent = worker_id(principal)
    if principal.role != "field_agent" or agent is None:
        return true()
    team = literal(",") + field_orders.c.team + literal(",")
    return team.contains(f",{agent},", autoescape=True)


def list_field_orders(
    conn: Connection,
    principal: Principal,
    on: date | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """One page of the field orders ``principal`` may see (of ``on`` and ``status`` when given), in id
    order, and the cursor of the next page."""
    query = select(field_orders).where(visible_field_orders(principal)).order_by(field_orders.c.id)
    if on is not None:
        query = query.where(field_orders.c.route_date == on)
    if status is not None:
        query = query.where(field_orders.c.status == status)
    if cursor is not None:
        query = query.where(field_orders.c.id > decode_cursor(cursor))
    rows = list(conn.execute(query.limit(limit + 1)).mappings())
    page = rows[:limit]
    return page, encode_cursor(page[-1]["id"]) if len(rows) > limit else None


def check_field_order(conn: Connection, principal: Principal, order_id: str) -> Any:
    """The field order ``order_id``; :class:`NotFound` unless it exists and ``principal`` may see it."""
    row = (
        conn.execute(
            select(field_orders).where(field_orders.c.id == order_id, visible_field_orders(principal))
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"unknown field order {order_id!r}")
    return row


def visible_agencies(principal: Principal) -> ColumnElement[bool]:
    """The condition on ``agencies.id``: an agency user sees only their own agency; other roles all."""
    if principal.role == "agency":
        return agencies.c.id == principal.agency
    return true()


def check_agency(conn: Connection, principal: Principal, agency_id: str) -> None:
    """Raise :class:`NotFound` unless agency ``agency_id`` exists and ``principal`` may see it."""
    found = conn.execute(
        select(agencies.c.id).where(agencies.c.id == agency_id, visible_agencies(principal))
    ).first()
    if found is None:
        raise NotFound(f"unknown agency {agency_id!r}")


def list_agencies(conn: Connection, principal: Principal) -> list[dict[str, Any]]:
    """The agencies ``principal`` may see, with their latest whitelist review and placements in force."""
    reviews = (
        select(
            agency_reviews.c.agency_id,
            func.max(agency_reviews.c.reviewed_on).label("reviewed_on"),
            func.max(agency_reviews.c.valid_until).label("valid_until"),
        )
        .group_by(agency_reviews.c.agency_id)
        .subquery()
    )
    placed = (
        select(agency_placements.c.agency_id, func.count().label("placed"))
        .where(agency_placements.c.status == "placed")
        .group_by(agency_placements.c.agency_id)
        .subquery()
    )
    rows = conn.execute(
        select(agencies.c.id, agencies.c.name, reviews.c.reviewed_on, reviews.c.valid_until, placed.c.placed)
        .select_from(
            agencies.outerjoin(reviews, reviews.c.agency_id == agencies.c.id).outerjoin(
                placed, placed.c.agency_id == agencies.c.id
            )
        )
        .where(visible_agencies(principal))
        .order_by(agencies.c.id)
    ).mappings()
    return [
        {
            "agency": r["id"],
            "name": r["name"],
            "reviewed_on": None if r["reviewed_on"] is None else r["reviewed_on"].isoformat(),
            "valid_until": None if r["valid_until"] is None else r["valid_until"].isoformat(),
            "placements_in_force": r["placed"] or 0,
        }
        for r in rows
    ]


def borrower_of_case(conn: Connection, case_id: str) -> dict[str, Any] | None:
    """The borrower a case belongs to (unmasked, as stored); None for a case of an account without one."""
    row = conn.execute(select(borrowers).where(borrowers.c.id == case_id)).mappings().first()
    return None if row is None else dict(row)
