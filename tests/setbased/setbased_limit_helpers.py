"""Stores built by the reference with the limit review on, for the set-based review's differential tests.

Borrowers with fixed habits — steady on-time use (raises), near-full use, minimum-only payments (cuts), a
borrower who stops paying (a freeze), one who never pays (freezes, then a close at 91 DPD), one who cures —
and a few drawn ones are opened on the store and run day by day through the services and the reference
end-of-day (``overdue eod``'s runner, the limit review on its default schedule).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
from sqlalchemy import Engine, select

from overdue.domain.errors import OverdueError
from overdue.engine.reference import run_eod
from overdue.services import accounts
from overdue.store import repository
from overdue.store.collection_tables import collection_actions, outbox
from overdue.store.limit_tables import limit_changes

OPENED = date(2026, 1, 5)


@dataclass(frozen=True)
class Habit:
    """How a borrower uses the line: a purchase on ``buy_day`` of each month (``buy`` fen, or ``None``: all
    but 1 % of what is available), and on the 9th a payment (``all``, ``minimum`` or ``none``) until
    ``stops`` (from then on nothing)."""

    limit: int
    buy_day: int
    buy: int | None
    pays: str
    stops: date | None = None
    opened: date = OPENED
    cures_on: date | None = None
    """Repays everything on this date (after having stopped)."""


HABITS: dict[str, Habit] = {
    "L-raise": Habit(500_000, 12, 200_000, "all"),
    "L-raise-big": Habit(2_000_000, 15, 600_000, "all"),
    "L-near-full": Habit(500_000, 10, 485_000, "all"),
    "L-minimum": Habit(500_000, 12, 60_000, "minimum"),
    "L-minimum-early": Habit(500_000, 3, 90_000, "minimum"),
    "L-freeze": Habit(500_000, 12, 150_000, "all", stops=date(2026, 6, 1)),
    "L-close": Habit(300_000, 10, 100_000, "none", stops=date(2026, 1, 20)),
    "L-cure": Habit(800_000, 11, 300_000, "all", stops=date(2026, 2, 1), cures_on=date(2026, 4, 20)),
    "L-late": Habit(500_000, 20, 150_000, "all", opened=date(2026, 3, 14)),
}


def habits_of(extra: int = 0, seed: int = 0) -> dict[str, Habit]:
    """The fixed borrowers' habits and ``extra`` drawn ones (drawn from ``seed``), by id."""
    habits = dict(HABITS)
    draw = random.Random(seed)
    for n in range(extra):
        habits[f"L-drawn-{n:02d}"] = Habit(
            draw.choice((300_000, 500_000, 1_000_000)),
            draw.randrange(2, 28),
            draw.choice((None, 50_000, 150_000, 400_000)),
            draw.choice(("all", "all", "minimum", "none")),
            stops=draw.choice((None, None, OPENED + timedelta(days=draw.randrange(30, 200)))),
            opened=OPENED + timedelta(days=draw.randrange(0, 40)),
        )
    return habits


def open_accounts(engine: Engine, extra: int = 0, seed: int = 0) -> dict[str, Habit]:
    """Open the borrowers of :func:`habits_of` on the store; their habits by id."""
    habits = habits_of(extra, seed)
    for account_id, habit in sorted(habits.items()):
        accounts.open_account(engine, account_id, habit.opened, habit.limit)
    return habits


def act(engine: Engine, habits: dict[str, Habit], day: date) -> bool:
    """The borrowers' purchases and payments of ``day`` (before its end-of-day); whether any was made."""
    acted = False
    for account_id, habit in sorted(habits.items()):
        if day < habit.opened:
            continue
        stopped = habit.stops is not None and day >= habit.stops
        with contextlib.suppress(OverdueError):  # refused (limit, frozen or closed line): nothing that day
            if day == habit.cures_on:
                acted |= _repay(engine, account_id, day, "all")
            if day.day == habit.buy_day and not stopped:
                acted |= _buy(engine, account_id, day, habit.buy)
            if day.day == 9 and not stopped and habit.pays != "none":
                acted |= _repay(engine, account_id, day, habit.pays)
    return acted


def _buy(engine: Engine, account_id: str, day: date, amount: int | None) -> bool:
    with engine.connect() as conn:
        state = repository.load_account(conn, account_id)[0]
    available = state.available_credit
    wanted = available * 99 // 100 if amount is None else min(amount, available)
    if wanted <= 0:
        return False
    accounts.purchase(engine, account_id, wanted, on=day)
    return True


def _repay(engine: Engine, account_id: str, day: date, pays: str) -> bool:
    with engine.connect() as conn:
        state = repository.load_account(conn, account_id)[0]
    owed = sum(s.outstanding for s in state.statements)
    if pays == "minimum":
        owed = min(owed, sum(s.minimum_remaining for s in state.statements if s.outstanding > 0))
    if owed <= 0:
        return False
    accounts.repay(engine, account_id, owed, on=day)
    return True


def run_through(
    engine: Engine,
    habits: dict[str, Habit],
    first: date,
    last: date,
    each: Callable[[date], Any] | None = None,
) -> None:
    """Events and the reference end-of-day (the review on) from ``first`` through ``last``; ``each(day)`` is
    called before each day's events."""
    day = first
    while day <= last:
        if each is not None:
            each(day)
        act(engine, habits, day)
        run_eod(engine, day)
        day += timedelta(days=1)


def store_changes(engine: Engine) -> list[tuple[Any, ...]]:
    """The store's ``limit_changes`` rows (without their ids), by account and review date."""
    c = limit_changes.c
    query = select(
        c.account_id,
        c.review_date,
        c.effective_on,
        c.action,
        c.old_limit_fen,
        c.new_limit_fen,
        c.reasons,
        c.model_version,
        c.applied_on,
    ).order_by(c.account_id, c.review_date)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


def store_notices(engine: Engine) -> list[tuple[Any, ...]]:
    """The store's limit notices: each ``limit_notice`` action with its outbox message."""
    a, o = collection_actions.c, outbox.c
    query = (
        select(
            a.account_id,
            a.business_date,
            a.treatment,
            a.type,
            a.stage,
            a.template,
            a.party,
            a.priority,
            a.status,
            a.reason,
            o.channel,
            o.template,
            o.locale,
            o.body,
            o.status,
        )
        .join_from(collection_actions, outbox, o.action_id == a.id)
        .where(a.treatment == "limit_notice")
        .order_by(a.account_id, a.business_date)
    )
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


def changes_rows(changes: pa.Table, ids: list[str]) -> list[tuple[Any, ...]]:
    """Set-based ``limit_changes`` rows in the store's form and order."""
    rows = [
        (
            ids[r["account_key"]],
            r["review_date"],
            r["effective_on"],
            r["action"],
            r["old_limit"],
            r["new_limit"],
            r["reasons"],
            r["model_version"],
            r["applied_on"],
        )
        for r in changes.to_pylist()
    ]
    return sorted(rows, key=lambda r: (r[0], r[1]))


def notice_rows(actions: pa.Table, messages: pa.Table, ids: list[str]) -> list[tuple[Any, ...]]:
    """Set-based notices in the store's form (an action joined with its outbox message, still pending)."""
    bodies = {(m["account_key"], m["business_date"]): m for m in messages.to_pylist()}
    rows = []
    for a in actions.to_pylist():
        m = bodies[(a["account_key"], a["business_date"])]
        rows.append(
            (
                ids[a["account_key"]],
                a["business_date"],
                a["treatment"],
                a["type"],
                a["stage"],
                a["template"],
                a["party"],
                a["priority"],
                a["status"],
                a["reason"],
                m["channel"],
                m["template"],
                m["locale"],
                m["body"],
                "pending",
            )
        )
    return sorted(rows, key=lambda r: (r[0], r[1]))
