"""Recording and reading limit changes (:mod:`overdue.store.limit_tables`), and the history the limit review
reads: every statement and every bucket spell of an account."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from overdue.domain.state import BucketSpell
from overdue.store.account_tables import bucket_history
from overdue.store.limit_tables import limit_changes


def record_change(conn: Connection, row: dict[str, Any]) -> int | None:
    """Insert a limit change unless (account, review date) exists; its id, or None if it existed."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(limit_changes)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["account_id", "review_date"])
        .returning(limit_changes.c.id)
    )
    value = conn.execute(statement).scalar()
    return int(value) if value is not None else None


def mark_applied(conn: Connection, change_id: int, on: date, new_limit: int, reasons: str) -> None:
    """Record that change ``change_id`` was applied on ``on``, setting the limit to ``new_limit``."""
    conn.execute(
        update(limit_changes)
        .where(limit_changes.c.id == change_id)
        .values(applied_on=on, new_limit_fen=new_limit, reasons=reasons)
    )


def pending_changes(conn: Connection, on: date) -> dict[str, list[dict[str, Any]]]:
    """Account → its changes not yet applied whose effective date has come by ``on``, oldest first.

    Read once per business date, so an account without a pending change costs no query.
    """
    rows = conn.execute(
        select(limit_changes)
        .where(limit_changes.c.applied_on.is_(None), limit_changes.c.effective_on <= on)
        .order_by(limit_changes.c.account_id, limit_changes.c.effective_on, limit_changes.c.id)
    ).mappings()
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["account_id"], []).append(dict(row))
    return out


def changes_of(conn: Connection, account_id: str) -> list[dict[str, Any]]:
    """Every limit change of the account, by review date."""
    rows = conn.execute(
        select(limit_changes)
        .where(limit_changes.c.account_id == account_id)
        .order_by(limit_changes.c.review_date, limit_changes.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def bucket_spells(conn: Connection, account_id: str) -> list[BucketSpell]:
    """The account's full bucket history, oldest first."""
    rows = conn.execute(
        select(bucket_history)
        .where(bucket_history.c.account_id == account_id)
        .order_by(bucket_history.c.entered, bucket_history.c.left_on.is_(None))
    )
    return [BucketSpell(r.bucket, r.entered, r.left_on) for r in rows]
