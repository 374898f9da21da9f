"""Loading and saving relief: an account's arrangement (with its schedule), deferrals and waivers.

:func:`save_arrangement` runs inside :func:`overdue.store.repository.save_account`, in the caller's database
transaction, whenever the account's arrangement changed — so what follows from a change is written with it,
whichever use case (an approval, an end-of-day) made it:

- a plan or settlement that became active starts a ``plan`` hold (:mod:`overdue.store.compliance_tables`,
  source ``relief``) from the start of that business day in the borrower's time zone; one that ended
  (completed, broken, lapsed) ends it at the start of the day it ended. Holds are never deleted or rewritten;
- a plan that broke moves the collection ladder one stage up (:func:`overdue.domain.collections.plan_broken`);
- a pending arrangement replaced by a new one is marked ``cancelled``.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from overdue.domain import collections
from overdue.domain.relief_state import (
    ACTIVE,
    BROKEN,
    CANCELLED,
    PENDING,
    PLAN,
    Arrangement,
    ScheduledPayment,
    SetAside,
)
from overdue.domain.state import AccountState
from overdue.store import compliance_repository
from overdue.store.relief_tables import relief_arrangements, relief_deferrals, relief_payments, relief_waivers

HOLD_SOURCE = "relief"


def _insert(conn: Connection, table: Any, row: dict[str, Any], keys: list[str]) -> None:
    """Insert ``row``, or update its non-key columns when its keys exist."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**row)
    updates = {c: statement.excluded[c] for c in row if c not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates))


def _set_aside_json(set_aside: tuple[SetAside, ...]) -> str:
    return json.dumps(
        [
            {
                "statement_id": a.statement_id,
                "interest": a.interest,
                "overdue_interest": a.overdue_interest,
                "fees": a.fees,
                "late_charges": a.late_charges,
                "minimum": a.minimum,
            }
            for a in set_aside
        ]
    )


def _arrangement(row: Any, payments: list[ScheduledPayment]) -> Arrangement:
    return Arrangement(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        agreed_on=row["agreed_on"],
        schedule=tuple(payments),
        waived=row["waived_fen"],
        maker=row["maker"],
        fingerprint=row["fingerprint"],
        waived_interest=row["waived_interest_fen"],
        set_aside=tuple(SetAside(**a) for a in json.loads(row["set_aside_json"])),
        paid=row["paid_fen"],
        monthly_rate=Decimal(row["monthly_rate"]),
        breach_days=row["breach_days"],
        closes_line=row["closes_line"],
        approver=row["approver"],
        approver_role=row["approver_role"],
        started_on=row["started_on"],
        ended_on=row["ended_on"],
    )


def _payments(conn: Connection, arrangement_id: str) -> list[ScheduledPayment]:
    return [
        ScheduledPayment(r["number"], r["due_date"], r["principal_fen"], r["interest_fen"])
        for r in conn.execute(
            select(relief_payments)
            .where(relief_payments.c.arrangement_id == arrangement_id)
            .order_by(relief_payments.c.number)
        ).mappings()
    ]


def load_arrangement(conn: Connection, account_id: str) -> Arrangement | None:
    """The account's current arrangement: the active one, else the latest not cancelled."""
    row = (
        conn.execute(
            select(relief_arrangements)
            .where(relief_arrangements.c.account_id == account_id, relief_arrangements.c.status != CANCELLED)
            .order_by(
                case((relief_arrangements.c.status == ACTIVE, 0), else_=1),
                relief_arrangements.c.agreed_on.desc(),
                relief_arrangements.c.id.desc(),
            )
            .limit(1)
        )
        .mappings()
        .first()
    )
    return None if row is None else _arrangement(row, _payments(conn, row["id"]))


def arrangements_of(conn: Connection, account_id: str) -> list[Arrangement]:
    """Every arrangement of the account, oldest first."""
    rows = conn.execute(
        select(relief_arrangements)
        .where(relief_arrangements.c.account_id == account_id)
        .order_by(relief_arrangements.c.agreed_on, relief_arrangements.c.id)
    ).mappings()
    return [_arrangement(r, _payments(conn, r["id"])) for r in rows]


def arrangement_status(conn: Connection, account_id: str, arrangement_id: str) -> str | None:
    """The status of one of the account's arrangements (None: it has no such arrangement)."""
    value = conn.execute(
        select(relief_arrangements.c.status).where(
            relief_arrangements.c.account_id == account_id, relief_arrangements.c.id == arrangement_id
        )
    ).scalar()
    return None if value is None else str(value)


def last_deferral_on(conn: Connection, account_id: str) -> date | None:
    value = conn.execute(
        select(func.max(relief_deferrals.c.deferred_on)).where(relief_deferrals.c.account_id == account_id)
    ).scalar()
    return value if isinstance(value, date) else None


def _start_of(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone))


def save_arrangement(conn: Connection, before: Arrangement | None, state: AccountState) -> None:
    """Write the account's arrangement and what its change entails (see the module docstring)."""
    after = state.arrangement
    if before is not None and before.status == PENDING and (after is None or after.id != before.id):
        conn.execute(
            relief_arrangements.update()
            .where(relief_arrangements.c.id == before.id)
            .values(status=CANCELLED, ended_on=after.agreed_on if after else None)
        )
    if after is None:
        return
    _insert(
        conn,
        relief_arrangements,
        {
            "id": after.id,
            "account_id": state.id,
            "kind": after.kind,
            "status": after.status,
            "agreed_on": after.agreed_on,
            "started_on": after.started_on,
            "ended_on": after.ended_on,
            "waived_fen": after.waived,
            "waived_interest_fen": after.waived_interest,
            "paid_fen": after.paid,
            "monthly_rate": after.monthly_rate,
            "breach_days": after.breach_days,
            "closes_line": after.closes_line,
            "maker": after.maker,
            "approver": after.approver,
            "approver_role": after.approver_role,
            "fingerprint": after.fingerprint,
            "set_aside_json": _set_aside_json(after.set_aside),
        },
        ["id"],
    )
    if before is None or before.id != after.id:
        conn.execute(
            relief_payments.insert(),
            [
                {
                    "arrangement_id": after.id,
                    "number": p.number,
                    "due_date": p.due_date,
                    "principal_fen": p.principal,
                    "interest_fen": p.interest,
                }
                for p in after.schedule
            ],
        )
    was_active = before is not None and before.id == after.id and before.status == ACTIVE
    if after.status == ACTIVE and not was_active and after.started_on is not None:
        compliance_repository.start_hold(
            conn,
            state.id,
            "plan",
            _start_of(after.started_on, state.timezone),
            HOLD_SOURCE,
            f"{after.kind} {after.id}",
        )
    elif was_active and after.status != ACTIVE and after.ended_on is not None:
        compliance_repository.end_hold(conn, state.id, "plan", _start_of(after.ended_on, state.timezone))
        if after.kind == PLAN and after.status == BROKEN:
            _escalate(conn, state.id)


def _escalate(conn: Connection, account_id: str) -> None:
    # Imported here: the collections repository builds on overdue.store.repository, which imports this module.
    from overdue.store import collections_repository

    cs, agency, placed_on = collections_repository.load_collection_state(conn, account_id)
    collections_repository.save_collection_state(conn, collections.plan_broken(cs), agency, placed_on)


def insert_deferral(
    conn: Connection, account_id: str, statement_id: str, on: date, days: int, original: date, new: date
) -> None:
    conn.execute(
        relief_deferrals.insert().values(
            account_id=account_id,
            statement_id=statement_id,
            deferred_on=on,
            days=days,
            original_due_date=original,
            new_due_date=new,
        )
    )


def deferrals_of(conn: Connection, account_id: str) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(
            select(relief_deferrals)
            .where(relief_deferrals.c.account_id == account_id)
            .order_by(relief_deferrals.c.deferred_on, relief_deferrals.c.id)
        ).mappings()
    ]


def insert_waiver(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(relief_waivers.insert().values(**row, status="requested"))


def waiver(conn: Connection, waiver_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(relief_waivers).where(relief_waivers.c.id == waiver_id)).mappings().first()
    return None if row is None else dict(row)


def approve_waiver(conn: Connection, waiver_id: str, approver: str, role: str, on: date) -> None:
    conn.execute(
        relief_waivers.update()
        .where(relief_waivers.c.id == waiver_id)
        .values(status="approved", approver=approver, approver_role=role, approved_on=on)
    )


def waivers_of(conn: Connection, account_id: str) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(
            select(relief_waivers)
            .where(relief_waivers.c.account_id == account_id)
            .order_by(relief_waivers.c.requested_on, relief_waivers.c.id)
        ).mappings()
    ]


def count_for(conn: Connection, account_id: str) -> int:
    """How many arrangements and waivers the account has had (to number new ones)."""
    arrangements = conn.execute(
        select(func.count())
        .select_from(relief_arrangements)
        .where(relief_arrangements.c.account_id == account_id)
    ).scalar_one()
    waivers = conn.execute(
        select(func.count()).select_from(relief_waivers).where(relief_waivers.c.account_id == account_id)
    ).scalar_one()
    return int(arrangements) + int(waivers)
