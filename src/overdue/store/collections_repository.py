"""Loading and saving collection state; recording decided actions, their outbox messages and work items."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from overdue.domain.collections import CollectionState, Promise
from overdue.store.collection_tables import (
    collection_actions,
    collection_states,
    contacts,
    outbox,
    promises,
    work_items,
)
from overdue.store.repository import upsert


def load_collection_state(
    conn: Connection, account_id: str
) -> tuple[CollectionState, str | None, date | None]:
    """The account's collection state, with the agency it is placed with and since when."""
    row = (
        conn.execute(select(collection_states).where(collection_states.c.account_id == account_id))
        .mappings()
        .first()
    )
    promise_rows = conn.execute(
        select(promises)
        .where(promises.c.account_id == account_id)
        .order_by(promises.c.status != "pending", promises.c.resolved_on.desc(), promises.c.id.desc())
        .limit(5)
    ).mappings()
    kept = tuple(
        Promise(
            r["id"], r["made_on"], r["amount_fen"], r["due_on"], r["status"], r["paid_fen"], r["resolved_on"]
        )
        for r in promise_rows
    )
    if row is None:
        return CollectionState(account_id, promises=kept), None, None
    state = CollectionState(
        account_id=account_id,
        episode_started_on=row["episode_started_on"],
        stage=row["stage"],
        escalation=row["escalation"],
        escalated_from=row["escalated_from"],
        contactability=row["contactability"],
        dispute_open=row["dispute_open"],
        litigation_hold=row["litigation_hold"],
        attempts=row["attempts"],
        connects=row["connects"],
        last_contact_on=row["last_contact_on"],
        promises=kept,
    )
    return state, row["agency"], row["placed_on"]


def save_collection_state(
    conn: Connection, state: CollectionState, agency: str | None = None, placed_on: date | None = None
) -> None:
    upsert(
        conn,
        collection_states,
        [
            {
                "account_id": state.account_id,
                "episode_started_on": state.episode_started_on,
                "stage": state.stage,
                "escalation": state.escalation,
                "escalated_from": state.escalated_from,
                "contactability": state.contactability,
                "dispute_open": state.dispute_open,
                "litigation_hold": state.litigation_hold,
                "attempts": state.attempts,
                "connects": state.connects,
                "last_contact_on": state.last_contact_on,
                "agency": agency,
                "placed_on": placed_on,
            }
        ],
        ["account_id"],
    )
    upsert(
        conn,
        promises,
        [
            {
                "id": p.id,
                "account_id": state.account_id,
                "made_on": p.made_on,
                "amount_fen": p.amount,
                "due_on": p.due_on,
                "status": p.status,
                "paid_fen": p.paid,
                "resolved_on": p.resolved_on,
            }
            for p in state.promises
        ],
        ["id"],
    )


def last_done(
    conn: Connection, account_id: str, since: date | None, leave_out: Iterable[str] = ()
) -> dict[str, date]:
    """Treatment id → the last date it was done (not refused), since ``since`` (the episode's start);
    ``leave_out``: treatment ids not read (the actions recorded under them are not a strategy's)."""
    a = collection_actions.c
    query = (
        select(a.treatment, func.max(a.business_date))
        .where(a.account_id == account_id, a.status != "refused", a.treatment.not_in(list(leave_out)))
        .group_by(a.treatment)
    )
    if since is not None:
        query = query.where(a.business_date >= since)
    return {treatment: day for treatment, day in conn.execute(query)}


def record_action(conn: Connection, row: dict[str, Any]) -> int | None:
    """Insert a decided action unless (account, date, treatment) exists; its id, or None if it existed."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(collection_actions)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["account_id", "business_date", "treatment"])
        .returning(collection_actions.c.id)
    )
    value = conn.execute(statement).scalar()
    return int(value) if value is not None else None


def queue_message(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(outbox.insert().values(**row, status="pending"))


def queue_work(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(work_items.insert().values(**row, status="open"))


def record_contact(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(contacts.insert().values(**row))


def actions_on(conn: Connection, account_id: str, on: date) -> list[dict[str, Any]]:
    """The actions decided for ``account_id`` on ``on``, allowed and refused, by priority."""
    rows = conn.execute(
        select(collection_actions)
        .where(collection_actions.c.account_id == account_id, collection_actions.c.business_date == on)
        .order_by(collection_actions.c.priority, collection_actions.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def contacts_between(conn: Connection, account_id: str, start: datetime, end: datetime) -> Iterable[Any]:
    return conn.execute(
        select(contacts).where(
            contacts.c.account_id == account_id, contacts.c.at >= start, contacts.c.at < end
        )
    ).mappings()


def recent_contacts(conn: Connection, account_id: str, since: date) -> list[Any]:
    """The contacts made with ``account_id`` on or after business date ``since``, oldest first, and every
    objection of a third party whenever it was made (an objection is for good)."""
    recent = contacts.c.business_date >= since
    objection = and_(contacts.c.party != "debtor", contacts.c.outcome == "refused")
    return list(
        conn.execute(
            select(contacts.c.at, contacts.c.channel, contacts.c.party, contacts.c.outcome)
            .where(contacts.c.account_id == account_id, or_(recent, objection))
            .order_by(contacts.c.at, contacts.c.id)
        ).mappings()
    )


def contacts_in(conn: Connection, start: date | None, end: date | None) -> list[Any]:
    """Every contact with business date in [start, end] (either end open), by account and time."""
    query = select(contacts)
    if start is not None:
        query = query.where(contacts.c.business_date >= start)
    if end is not None:
        query = query.where(contacts.c.business_date <= end)
    return list(conn.execute(query.order_by(contacts.c.account_id, contacts.c.at, contacts.c.id)).mappings())


def contacts_before(conn: Connection, account_id: str, start: date) -> list[Any]:
    """The account's contacts before business date ``start`` (what an audit from ``start`` starts from)."""
    return list(
        conn.execute(
            select(contacts)
            .where(contacts.c.account_id == account_id, contacts.c.business_date < start)
            .order_by(contacts.c.at, contacts.c.id)
        ).mappings()
    )


def latest_contact_at(conn: Connection, account_id: str, on: date) -> datetime | None:
    """When the account's last contact recorded on business date ``on`` was made (None: none that day)."""
    return conn.execute(
        select(func.max(contacts.c.at)).where(
            contacts.c.account_id == account_id, contacts.c.business_date == on
        )
    ).scalar_one_or_none()
