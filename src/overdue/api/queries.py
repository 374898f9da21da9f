"""What the API reads, with per-role visibility in the queries themselves.

:func:`visible_accounts` is the one condition every account query carries: a borrower sees only the accounts
linked to them, an agency user only the accounts placed with their agency (``collection_states.agency``),
every other role every account. An account a user may not see is reported as unknown (404), never as
forbidden, so its existence is not revealed.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, select, true

from overdue.api.security import Principal
from overdue.domain.errors import InvalidInput, NotFound
from overdue.domain.money import format_yuan
from overdue.store.account_tables import accounts, statements
from overdue.store.api_tables import borrower_accounts, borrowers
from overdue.store.collection_tables import collection_states, contacts, promises

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
    return borrower_id


def link_borrower(conn: Connection, borrower_id: str, account_id: str) -> None:
    conn.execute(borrower_accounts.insert().values(borrower_id=borrower_id, account_id=account_id))


def borrower_accounts_of(conn: Connection, borrower_id: str) -> list[str]:
    return list(
        conn.execute(
            select(borrower_accounts.c.account_id)
            .where(borrower_accounts.c.borrower_id == borrower_id)
            .order_by(borrower_accounts.c.account_id)
        ).scalars()
    )
