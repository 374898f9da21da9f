"""Writing a simulated portfolio into the database, in bulk.

A :class:`PortfolioWriter` writes the records of a simulation — one shard at a time while the other shards
are still being simulated (``overdue demo``), or a whole :class:`~overdue.sim.result.SimulationResult` at
once (:func:`persist`) — in one database transaction per batch, on one connection:

1. **accounts** and their final state (:func:`insert_accounts`: what
   :func:`overdue.store.repository.insert_account` writes — statements, unbilled purchases, every bucket
   spell, bureau months — in bulk), then their collection state and promises;
2. **ledger**: every transaction and its postings (transaction ids are assigned here, after the highest id
   already in the table, so postings can be written in bulk too; batches are written in shard order, so the
   ids do not depend on which worker finished first);
3. **actions**: every decided action into ``collection_actions`` (allowed ones with status ``recorded``: they
   are history, not work to send, so no outbox rows or work items are made);
4. **contacts**: every contact made into ``contacts`` (``source`` is ``simulation``; see
   :mod:`overdue.sim.contacts`);
5. **month ends**: one ``account_days`` row per account per **month end** (not per day: 12 rows instead of
   365 per account and year; the month-end reports need no more);
6. **behaviour scores**: every month-end behaviour score into ``behaviour_scores``, as the reference
   end-of-day records it (:func:`overdue.engine.reference.score_month_end`: points, P(bad) in ppm, model
   version, reasons), so the ``behaviour_score`` fact of a later ``overdue eod`` reads them;

and, at the end (:meth:`PortfolioWriter.finish`), one ``eod_runs`` row per simulated date, so a later
``overdue eod`` carries on from the day after the simulation.

The big tables (2–6) bypass SQLAlchemy's per-row work: on PostgreSQL they are loaded with ``COPY``, on
SQLite with the DB-API's ``executemany`` over plain tuples, each value converted by its column type's own
bind processor (so what is stored is exactly what an ordinary insert stores). For the duration of a load a
SQLite connection runs with ``synchronous = OFF`` (restored afterwards): a crash mid-load can lose the load,
which ``--fresh`` then replaces; the file is never left half-migrated.

A database that already has accounts is refused unless ``fresh`` is set, which empties every table first.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import Column, Connection, Engine, Table, func, select
from sqlalchemy.exc import DBAPIError

from overdue.domain.state import AccountState
from overdue.engine.collect import Collections
from overdue.errors import OverdueError
from overdue.sim.borrowers import Borrower
from overdue.sim.contacts import SOURCE
from overdue.sim.result import ActionRow, ContactRow, DayRow, LedgerRow, ScoreRow, SimulationResult
from overdue.store import repository
from overdue.store.account_tables import (
    account_days,
    accounts,
    bucket_history,
    bureau_months,
    eod_runs,
    statements,
    unbilled_cycles,
)
from overdue.store.api_tables import audit_log
from overdue.store.behaviour_tables import behaviour_scores
from overdue.store.collection_tables import collection_actions, contacts
from overdue.store.collections_repository import save_collection_state
from overdue.store.db import upgrade
from overdue.store.schema import ledger_postings, ledger_transactions, metadata

CHUNK = 20_000
"""Rows per ``executemany`` / ``COPY`` call."""
RETENTION_MESSAGE = "cannot be deleted before then"
"""What the retention triggers (migration 0004) say when they refuse a delete."""


class Records(Protocol):
    """What a writer writes: a shard's result or a whole simulation's (records kept)."""

    states: Any
    collections: list[Collections]
    ledger: list[LedgerRow]
    actions: list[ActionRow]
    contacts: list[ContactRow]
    days: list[DayRow]
    scores: list[ScoreRow]


def prepare(engine: Engine, *, fresh: bool) -> None:
    """Migrate the database; refuse one that has accounts unless ``fresh``, which empties every table
    (and refuses a database whose append-only audit log has entries: none can be deleted).

    Emptying deletes row by row (never ``TRUNCATE``), so the retention triggers see every compliance record:
    simulated ones go, and a database holding real contacts, holds or notices younger than five years is
    refused with one clear error and left as it was.
    """
    upgrade(engine)
    try:
        with engine.begin() as conn:
            existing = conn.execute(select(func.count()).select_from(accounts)).scalar_one()
            if existing and not fresh:
                raise OverdueError(
                    f"the database already has {existing} accounts; use --fresh to replace them with the "
                    "demo portfolio, or --db to pick another database"
                )
            if fresh:
                # The audit log is append-only (its triggers refuse any delete): a database whose log has
                # entries (an end-of-day, the API or the console wrote them) cannot be emptied.
                entries = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
                if entries:
                    raise OverdueError(
                        f"--fresh cannot empty this database: its audit log ({entries} "
                        f"{'entry' if entries == 1 else 'entries'}) is append-only, no entry can be deleted; "
                        "use --db to pick another database for the demo"
                    )
                for table in reversed(metadata.sorted_tables):
                    conn.execute(table.delete())
    except DBAPIError as error:
        if RETENTION_MESSAGE not in str(error.orig):
            raise
        raise OverdueError(
            "--fresh cannot empty this database: it holds compliance records (contacts, holds or "
            "validation notices) younger than five years, which must be kept; use --db to pick another "
            "database for the demo"
        ) from None


@dataclass
class WriterTimes:
    """Seconds spent writing, by phase."""

    seconds: dict[str, float]

    def total(self) -> float:
        return sum(self.seconds.values())


class PortfolioWriter:
    """Writes simulated records into ``engine``'s prepared database, batch after batch, on one connection.

    Use as a context manager; :meth:`write` each batch in order, then :meth:`finish`.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.counts = {
            "accounts": 0,
            "transactions": 0,
            "postings": 0,
            "actions": 0,
            "contacts": 0,
            "account_days": 0,
            "behaviour_scores": 0,
        }
        self.times = WriterTimes(defaultdict(float))
        self._conn: Connection | None = None
        self._restore: list[str] = []
        self._next_id = 0

    def __enter__(self) -> PortfolioWriter:
        conn = self._conn = self.engine.connect()
        if conn.dialect.name == "sqlite":
            self._restore = [
                f"PRAGMA {name} = {conn.exec_driver_sql(f'PRAGMA {name}').scalar()}"
                for name in ("synchronous", "cache_size")
            ]
            conn.exec_driver_sql("PRAGMA synchronous = OFF")
            conn.exec_driver_sql("PRAGMA cache_size = -65536")  # 64 MiB
            conn.commit()
        self._next_id = (conn.execute(select(func.max(ledger_transactions.c.id))).scalar() or 0) + 1
        conn.rollback()
        return self

    def __exit__(self, *exc: object) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            if conn.in_transaction():
                conn.rollback()
            for statement in self._restore:
                conn.exec_driver_sql(statement)
            conn.commit()
        finally:
            conn.close()
            self._conn = None

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("use PortfolioWriter as a context manager")
        return self._conn

    @contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.times.seconds[name] += time.perf_counter() - started

    def write(self, records: Records) -> None:
        """Write one batch of records (a shard's, or a whole result's) in one transaction per phase."""
        conn = self.conn
        with self._phase("accounts"), conn.begin():
            insert_accounts(conn, records.states)
            _collection_rows(conn, records.collections)
        self._tick("accounts", len(records.states))

        with self._phase("ledger"), conn.begin():
            transactions, postings = self._ledger_rows(records.ledger)
            copy_rows(conn, ledger_transactions, LEDGER_COLUMNS, transactions)
            copy_rows(conn, ledger_postings, POSTING_COLUMNS, postings)
        self.counts["postings"] += len(postings)
        self._tick("transactions", len(transactions))

        with self._phase("actions"), conn.begin():
            copy_rows(conn, collection_actions, ACTION_COLUMNS, records.actions)
        self._tick("actions", len(records.actions))

        with self._phase("contacts"), conn.begin():
            copy_rows(
                conn,
                contacts,
                CONTACT_COLUMNS,
                [(a, d, at, ch, p, o, SOURCE, c, r) for a, d, at, ch, p, o, c, r in records.contacts],
            )
        self._tick("contacts", len(records.contacts))

        with self._phase("month ends"), conn.begin():
            copy_rows(conn, account_days, DAY_COLUMNS, records.days)
        self._tick("account_days", len(records.days))

        with self._phase("behaviour scores"), conn.begin():
            copy_rows(conn, behaviour_scores, SCORE_COLUMNS, records.scores)
        self._tick("behaviour_scores", len(records.scores))

    def finish(self, borrowers: Sequence[Borrower], start: date, end: date) -> dict[str, int]:
        """Close every simulated date (``eod_runs``) and bring PostgreSQL's id sequences up to date."""
        conn = self.conn
        with self._phase("month ends"), conn.begin():
            opened = sorted(b.opened_on for b in borrowers)
            rows = []
            on, k = start, 0
            while on <= end:
                while k < len(opened) and opened[k] <= on:
                    k += 1
                rows.append((on, k, True))
                on += timedelta(days=1)
            copy_rows(conn, eod_runs, ("business_date", "accounts", "finished"), rows)
            if conn.dialect.name == "postgresql":
                # Ids were given explicitly: move the sequence past them, or the next insert collides.
                conn.exec_driver_sql(
                    "SELECT setval(pg_get_serial_sequence('ledger_transactions', 'id'), "
                    "(SELECT coalesce(max(id), 0) + 1 FROM ledger_transactions), false)"
                )
        return dict(self.counts)

    def _ledger_rows(self, ledger: list[LedgerRow]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        transactions: list[tuple[Any, ...]] = []
        postings: list[tuple[Any, ...]] = []
        next_id = self._next_id
        for account_id, on, kind, statement_id, memo, legs in ledger:
            transactions.append((next_id, account_id, on, kind, statement_id, memo))
            postings.extend((next_id, account_id, name, fen) for name, fen in legs)
            next_id += 1
        self._next_id = next_id
        return transactions, postings

    def _tick(self, what: str, rows: int) -> None:
        self.counts[what] += rows


LEDGER_COLUMNS = ("id", "account_id", "business_date", "kind", "statement_id", "memo")
POSTING_COLUMNS = ("transaction_id", "account_id", "ledger_account", "amount_fen")
ACTION_COLUMNS = tuple(c.name for c in collection_actions.columns if c.name != "id")
CONTACT_COLUMNS = (
    "account_id",
    "business_date",
    "at",
    "channel",
    "party",
    "outcome",
    "source",
    "collectors",
    "recording_ref",
)
DAY_COLUMNS = tuple(c.name for c in account_days.columns)
SCORE_COLUMNS = ("account_id", "month_end", "score_points", "probability_bad_ppm", "model_version", "reasons")


def copy_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``: ``COPY`` on PostgreSQL, the DB-API's
    ``executemany`` elsewhere, in chunks of :data:`CHUNK`, in the connection's transaction."""
    if not rows:
        return
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    processors = [_bind_processor(conn, table.c[name]) for name in columns]
    convert = [(k, p) for k, p in enumerate(processors) if p is not None]
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            if convert:
                converted = []
                for row in chunk:
                    values = list(row)
                    for k, process in convert:
                        if values[k] is not None:
                            values[k] = process(values[k])
                    converted.append(values)
                cursor.executemany(sql, converted)
            else:
                cursor.executemany(sql, chunk)
    finally:
        cursor.close()


def _bind_processor(conn: Connection, column: Column[Any]) -> Callable[[Any], Any] | None:
    """How ``column``'s type converts a value for the driver; for dates, remembering each one made (a year
    has 365 of them, and a million rows)."""
    processor: Callable[[Any], Any] | None = column.type.dialect_impl(conn.dialect).bind_processor(
        conn.dialect
    )
    if processor is None or column.type.python_type is not date:
        return processor
    made: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        found = made.get(value)
        if found is None:
            found = made[value] = processor(value)
        return found

    return remembered


def insert_accounts(conn: Connection, states: Sequence[AccountState]) -> None:
    """Create the accounts of ``states`` with their statements, unbilled purchases, bucket spells and bureau
    months: what :func:`overdue.store.repository.insert_account` writes, one ``executemany`` per table
    (rows built by the repository's own row functions where it has them). An account with installment
    plans or relief (which the simulator does not make) goes through ``insert_account`` itself."""
    simple = [s for s in states if _plain(s)]
    for state in states:
        if not _plain(state):
            repository.insert_account(conn, state)
    if not simple:
        return
    conn.execute(accounts.insert(), [{**repository._account_row(s), "version": 1} for s in simple])
    children: list[tuple[Table, list[dict[str, Any]]]] = [
        (
            unbilled_cycles,
            [
                {"account_id": s.id, "statement_date": c.statement_date, "principal_fen": c.principal}
                for s in simple
                for c in s.unbilled
            ],
        ),
        (statements, [repository._statement_row(s.id, st) for s in simple for st in s.statements]),
        (
            bucket_history,
            [
                {"account_id": s.id, "bucket": b.bucket, "entered": b.entered, "left_on": b.left}
                for s in simple
                for b in s.bucket_history
            ],
        ),
        (
            bureau_months,
            [{"account_id": s.id, "month": m.month, "status": m.status} for s in simple for m in s.bureau],
        ),
    ]
    for table, rows in children:
        if rows:
            conn.execute(table.insert(), rows)


def _plain(state: AccountState) -> bool:
    """No installment plans and no relief: everything :func:`insert_accounts` writes itself."""
    return not state.plans and state.arrangement is None and state.last_deferral_on is None


def persist(engine: Engine, result: SimulationResult) -> dict[str, int]:
    """Write ``result`` (simulated with ``keep_records``) into ``engine``'s prepared database; returns the
    rows written by table."""
    with PortfolioWriter(engine) as writer:
        writer.write(result)
        return writer.finish(result.borrowers, result.start, result.end)


def _collection_rows(conn: Connection, collections: Sequence[Collections]) -> None:
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
