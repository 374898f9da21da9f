"""Writing a simulated portfolio into the database, in bulk.

What is written, phase by phase (each phase in chunks of :data:`CHUNK` rows, one database transaction per
chunk, with ``executemany``):

1. **accounts** and their final state, through :func:`overdue.store.repository.insert_account` (statements,
   installment plans, every bucket spell, bureau months), then their collection state and promises;
2. **ledger**: every transaction and its postings (transaction ids are assigned here, after the highest id
   already in the table, so postings can be written in bulk too);
3. **actions**: every decided action into ``collection_actions`` (allowed ones with status ``recorded``: they
   are history, not work to send, so no outbox rows or work items are made);
4. **month ends**: one ``account_days`` row per account per **month end** (not per day: 12 rows instead of
   365 per account and year; the month-end reports need no more), and one ``eod_runs`` row per simulated
   date, so a later ``overdue eod`` carries on from the day after the simulation.

A database that already has accounts is refused unless ``fresh`` is set, which empties every table first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, func, select

from overdue.errors import OverdueError
from overdue.sim.result import SimulationResult
from overdue.store import repository
from overdue.store.account_tables import account_days, accounts, eod_runs
from overdue.store.collection_tables import collection_actions
from overdue.store.collections_repository import save_collection_state
from overdue.store.db import upgrade
from overdue.store.schema import ledger_postings, ledger_transactions, metadata

CHUNK = 5_000

Progress = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)``."""

T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def prepare(engine: Engine, *, fresh: bool) -> None:
    """Migrate the database; refuse one that has accounts unless ``fresh``, which empties every table."""
    upgrade(engine)
    with engine.begin() as conn:
        existing = conn.execute(select(func.count()).select_from(accounts)).scalar_one()
        if existing and not fresh:
            raise OverdueError(
                f"the database already has {existing} accounts; use --fresh to replace them with the demo "
                "portfolio, or --db to pick another database"
            )
        if fresh:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())


def persist(engine: Engine, result: SimulationResult, progress: Progress | None = None) -> dict[str, int]:
    """Write ``result`` (simulated with ``keep_records``) into ``engine``'s prepared database."""

    def tick(phase: str, done: int, total: int) -> None:
        if progress:
            progress(phase, done, total)

    counts = {"accounts": 0, "transactions": 0, "postings": 0, "actions": 0, "account_days": 0}
    pairs = list(zip(result.states, result.collections, strict=True))
    for chunk in _chunks(pairs, 1_000):
        with engine.begin() as conn:
            for state, _ in chunk:
                repository.insert_account(conn, state)
            _collection_rows(conn, [c for _, c in chunk])
        counts["accounts"] += len(chunk)
        tick("accounts", counts["accounts"], len(pairs))

    with engine.connect() as conn:
        next_id = (conn.execute(select(func.max(ledger_transactions.c.id))).scalar() or 0) + 1
    for ledger_chunk in _chunks(result.ledger):
        transactions: list[dict[str, Any]] = []
        postings: list[dict[str, Any]] = []
        for account_id, on, kind, statement_id, memo, legs in ledger_chunk:
            transactions.append(
                {
                    "id": next_id,
                    "account_id": account_id,
                    "business_date": on,
                    "kind": kind,
                    "statement_id": statement_id,
                    "memo": memo,
                }
            )
            postings.extend(
                {
                    "transaction_id": next_id,
                    "account_id": account_id,
                    "ledger_account": name,
                    "amount_fen": fen,
                }
                for name, fen in legs
            )
            next_id += 1
        with engine.begin() as conn:
            conn.execute(ledger_transactions.insert(), transactions)
            conn.execute(ledger_postings.insert(), postings)
        counts["transactions"] += len(transactions)
        counts["postings"] += len(postings)
        tick("ledger", counts["transactions"], len(result.ledger))

    names = [c.name for c in collection_actions.columns if c.name != "id"]
    for action_chunk in _chunks(result.actions):
        with engine.begin() as conn:
            conn.execute(
                collection_actions.insert(), [dict(zip(names, row, strict=True)) for row in action_chunk]
            )
        counts["actions"] += len(action_chunk)
        tick("actions", counts["actions"], len(result.actions))

    day_names = [c.name for c in account_days.columns]
    for day_chunk in _chunks(result.days):
        with engine.begin() as conn:
            conn.execute(account_days.insert(), [dict(zip(day_names, row, strict=True)) for row in day_chunk])
        counts["account_days"] += len(day_chunk)
        tick("month ends", counts["account_days"], len(result.days))
    with engine.begin() as conn:
        opened = sorted(b.opened_on for b in result.borrowers)
        rows = []
        on = result.start
        while on <= result.end:
            rows.append(
                {"business_date": on, "accounts": sum(1 for d in opened if d <= on), "finished": True}
            )
            on += timedelta(days=1)
        conn.execute(eod_runs.insert(), rows)
    return counts


def _collection_rows(conn: Connection, collections: Sequence[Any]) -> None:
    """Collection states (and promises) of the accounts just inserted; only those with something to say."""
    for collection in collections:
        state = collection.state
        if (
            state.episode_started_on is None
            and not state.promises
            and state.attempts == 0
            and collection.agency is None
            and state.contactability == "reachable"
        ):
            continue
        save_collection_state(conn, state, collection.agency, collection.placed_on)
