"""What the rulebooks need besides contacts: holds, validation notices and the agency whitelist.

Holds and notices are only ever added, or (holds) ended; nothing here updates or deletes otherwise, so the
audit can replay any past contact against the holds and notices in force at its time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from overdue.domain.errors import InvalidInput, NotFound
from overdue.store.compliance_tables import (
    HOLD_KINDS,
    account_holds,
    agencies,
    agency_reviews,
    validation_notices,
)


def _utc(at: datetime) -> datetime:
    """A time as stored (UTC; SQLite keeps no offset) and as read back (naive means UTC)."""
    return at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)


def open_holds(conn: Connection, account_id: str, at: datetime) -> frozenset[str]:
    """The kinds of hold in force on the account at ``at``."""
    at = _utc(at)
    rows = conn.execute(
        select(account_holds.c.kind).where(
            account_holds.c.account_id == account_id,
            account_holds.c.started_at <= at,
            or_(account_holds.c.ended_at.is_(None), account_holds.c.ended_at > at),
        )
    )
    return frozenset(r.kind for r in rows)


def is_sold(conn: Connection, account_id: str) -> bool:
    """Whether the account's debt was sold (a sale's hold never ends)."""
    row = conn.execute(
        select(account_holds.c.kind).where(
            account_holds.c.account_id == account_id, account_holds.c.kind == "sold"
        )
    ).first()
    return row is not None


def start_hold(
    conn: Connection, account_id: str, kind: str, at: datetime, source: str, note: str | None
) -> bool:
    """Start a hold of ``kind``; False when one is already in force (nothing written)."""
    if kind not in HOLD_KINDS:
        raise InvalidInput(f"unknown hold {kind!r}; expected one of {', '.join(HOLD_KINDS)}")
    if kind in open_holds(conn, account_id, at):
        return False
    conn.execute(
        account_holds.insert().values(
            account_id=account_id, kind=kind, started_at=_utc(at), ended_at=None, source=source, note=note
        )
    )
    return True


def end_hold(conn: Connection, account_id: str, kind: str, at: datetime) -> bool:
    """End the hold of ``kind`` in force at ``at``; False when there is none."""
    at = _utc(at)
    result = conn.execute(
        account_holds.update()
        .where(
            account_holds.c.account_id == account_id,
            account_holds.c.kind == kind,
            account_holds.c.started_at <= at,
            account_holds.c.ended_at.is_(None),
        )
        .values(ended_at=at)
    )
    return bool(result.rowcount)


def holds_of(
    conn: Connection, account_ids: Iterable[str]
) -> dict[str, list[tuple[str, datetime, datetime | None]]]:
    """Every hold of these accounts: account → [(kind, started_at, ended_at)], times aware (UTC)."""
    out: dict[str, list[tuple[str, datetime, datetime | None]]] = {}
    ids = list(account_ids)
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(account_holds).where(account_holds.c.account_id.in_(ids[start : start + 500]))
        )
        for r in rows.mappings():
            ended = None if r["ended_at"] is None else _utc(r["ended_at"])
            out.setdefault(r["account_id"], []).append((r["kind"], _utc(r["started_at"]), ended))
    return out


def record_validation_notice(
    conn: Connection, account_id: str, sent_at: datetime, period_ends_on: date, channel: str
) -> None:
    conn.execute(
        validation_notices.insert().values(
            account_id=account_id, sent_at=_utc(sent_at), period_ends_on=period_ends_on, channel=channel
        )
    )


def validation_notice(conn: Connection, account_id: str) -> dict[str, Any] | None:
    """The account's first validation notice (sent_at aware, period_ends_on), None when none was sent."""
    row = (
        conn.execute(
            select(validation_notices)
            .where(validation_notices.c.account_id == account_id)
            .order_by(validation_notices.c.sent_at)
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return {
        "sent_at": _utc(row["sent_at"]),
        "period_ends_on": row["period_ends_on"],
        "channel": row["channel"],
    }


def validation_notices_of(conn: Connection, account_ids: Iterable[str]) -> dict[str, datetime]:
    """When each of these accounts' first validation notice was sent (accounts without one are absent)."""
    ids = list(account_ids)
    out: dict[str, datetime] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(validation_notices.c.account_id, func.min(validation_notices.c.sent_at).label("sent_at"))
            .where(validation_notices.c.account_id.in_(ids[start : start + 500]))
            .group_by(validation_notices.c.account_id)
        )
        out.update({r.account_id: _utc(r.sent_at) for r in rows})
    return out


def add_agency(conn: Connection, agency_id: str, name: str, at: datetime) -> bool:
    """Add an agency to the register (not yet cleared: it needs a review); False when it exists."""
    if conn.execute(select(agencies.c.id).where(agencies.c.id == agency_id)).first() is not None:
        return False
    conn.execute(agencies.insert().values(id=agency_id, name=name, created_at=_utc(at)))
    return True


def add_review(conn: Connection, agency_id: str, reviewed_on: date, valid_until: date, reviewer: str) -> None:
    if conn.execute(select(agencies.c.id).where(agencies.c.id == agency_id)).first() is None:
        raise NotFound(f"no agency {agency_id}")
    conn.execute(
        agency_reviews.insert().values(
            agency_id=agency_id, reviewed_on=reviewed_on, valid_until=valid_until, reviewer=reviewer
        )
    )


def review_until(conn: Connection, agency_id: str, on: date) -> date | None:
    """The last day covered by the agency's reviews made by ``on`` (None: never reviewed by then)."""
    return conn.execute(
        select(func.max(agency_reviews.c.valid_until)).where(
            and_(agency_reviews.c.agency_id == agency_id, agency_reviews.c.reviewed_on <= on)
        )
    ).scalar_one_or_none()


def agency_list(conn: Connection) -> list[dict[str, Any]]:
    """Every agency with its latest review."""
    latest = (
        select(
            agency_reviews.c.agency_id,
            func.max(agency_reviews.c.reviewed_on).label("reviewed_on"),
            func.max(agency_reviews.c.valid_until).label("valid_until"),
        )
        .group_by(agency_reviews.c.agency_id)
        .subquery()
    )
    rows = conn.execute(
        select(agencies.c.id, agencies.c.name, latest.c.reviewed_on, latest.c.valid_until)
        .select_from(agencies.outerjoin(latest, latest.c.agency_id == agencies.c.id))
        .order_by(agencies.c.id)
    )
    return [dict(r._mapping) for r in rows]


def reviews_of(conn: Connection, agency_ids: Iterable[str]) -> dict[str, list[tuple[date, date]]]:
    """Every review of these agencies: agency → [(reviewed_on, valid_until)]."""
    ids = sorted(set(agency_ids))
    out: dict[str, list[tuple[date, date]]] = {}
    if ids:
        rows = conn.execute(select(agency_reviews).where(agency_reviews.c.agency_id.in_(ids)))
        for r in rows.mappings():
            out.setdefault(r["agency_id"], []).append((r["reviewed_on"], r["valid_until"]))
    return out
