"""Recording and reading month-end behaviour scores (:mod:`overdue.store.behaviour_tables`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Select, func, select
from sqlalchemy.dialects import postgresql, sqlite

from overdue.store.behaviour_tables import behaviour_scores


def record_score(conn: Connection, row: dict[str, Any]) -> bool:
    """Insert a month-end score unless (account, month end) exists; whether it was inserted."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(behaviour_scores)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["account_id", "month_end"])
        .returning(behaviour_scores.c.account_id)
    )
    return conn.execute(statement).scalar() is not None


def latest_scores(conn: Connection, on: date) -> dict[str, int]:
    """Account → its latest recorded score (points) on or before ``on``; accounts never scored are absent.

    One query for every account, read once per business date.
    """
    return {r.account_id: r.score_points for r in conn.execute(latest_scores_query(on))}


def latest_scores_query(on: date) -> Select[tuple[str, int]]:
    """The rows of :func:`latest_scores`: ``account_id``, ``score_points`` (the set-based store read runs it
    in bulk)."""
    t = behaviour_scores
    latest = (
        select(t.c.account_id, func.max(t.c.month_end).label("month_end"))
        .where(t.c.month_end <= on)
        .group_by(t.c.account_id)
        .subquery()
    )
    return select(t.c.account_id, t.c.score_points).join(
        latest, (t.c.account_id == latest.c.account_id) & (t.c.month_end == latest.c.month_end)
    )


def latest_score(conn: Connection, account_id: str, on: date) -> int | None:
    """The account's latest recorded score (points) on or before ``on``; None before its first month end."""
    t = behaviour_scores
    value = conn.execute(
        select(t.c.score_points)
        .where(t.c.account_id == account_id, t.c.month_end <= on)
        .order_by(t.c.month_end.desc())
        .limit(1)
    ).scalar()
    return None if value is None else int(value)


def scores_of(conn: Connection, account_id: str) -> list[dict[str, Any]]:
    """Every recorded month-end score of the account, oldest first."""
    t = behaviour_scores
    rows = conn.execute(select(t).where(t.c.account_id == account_id).order_by(t.c.month_end)).mappings()
    return [dict(r) for r in rows]
