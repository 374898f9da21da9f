"""Stores built by the reference for the store ↔ engine tests: accounts opened, used and run day by day
through the services and the reference end-of-day, with drawn habits (seeded, so two stores built alike hold
the same accounts)."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from overdue.domain.errors import OverdueError
from overdue.engine.limits import LimitReview
from overdue.engine.reference import Collection, run_eod
from overdue.risk.changes import ReviewSchedule
from overdue.services import accounts
from overdue.setbased.nightly import connect
from overdue.setbased.store_run import StoreRunSummary, run_on_store
from overdue.store import repository
from overdue.store.db import make_engine, upgrade
from overdue.strategy import default_strategy

OPENED = date(2026, 1, 5)
NO_REVIEW = Collection(default_strategy(), limits=LimitReview(schedule=ReviewSchedule(enabled=False)))
"""The reference end-of-day without the limit review: the stores are built with no limit change, and the
compared days review from the store's date on."""
HABITS = ("none", "installments", "minimum", "all", "part", "none", "installments")
"""What each borrower pays on due dates, in turn."""


def build_store(engine: Engine, seed: int, through: date, count: int = 8) -> list[str]:
    """Open ``count`` accounts (one of them only after ``through``) and run them through ``through``:
    purchases, repayments of every kind on and around due dates, bill installments; the ids, sorted."""
    draw = random.Random(seed)
    ids = [f"S{seed}-{n:02d}" for n in range(count)]
    opened = {a: OPENED + timedelta(days=draw.randrange(0, 20)) for a in ids}
    opened[ids[-1]] = through + timedelta(days=3)  # not open yet when the store is read
    habits = {a: HABITS[n % len(HABITS)] for n, a in enumerate(ids)}
    for a in ids:
        accounts.open_account(engine, a, opened[a], draw.choice((300_000, 500_000, 2_000_000)))
    day = OPENED
    while day <= through:
        for a in ids:
            if opened[a] > day:
                continue
            # refused (limit, frozen line, nothing to pay): the borrower does nothing that day
            with contextlib.suppress(OverdueError):
                _act(engine, draw, a, day, habits[a])
        run_eod(engine, day, collection=NO_REVIEW)
        day += timedelta(days=1)
    return sorted(ids)


def _act(engine: Engine, draw: random.Random, account_id: str, day: date, habit: str) -> None:
    if draw.random() < 0.12:
        accounts.purchase(engine, account_id, draw.randrange(1_000, 90_000), on=day)
    if day.day == 3 and habit == "installments":
        accounts.request_installments(engine, account_id, day.replace(day=1), draw.choice((3, 6, 12)), on=day)
    if day.day != 9 or habit == "none":
        return
    with engine.connect() as conn:
        state = repository.load_account(conn, account_id)[0]
    latest = state.latest_statement()
    if latest is None or latest.outstanding == 0:
        return
    owed = sum(s.outstanding for s in state.statements)
    amount = {
        "minimum": latest.minimum_remaining,
        "all": owed,
        "part": max(1, owed // 3),
        "installments": latest.minimum_remaining,
    }[habit]
    if amount > 0:
        accounts.repay(engine, account_id, min(amount, owed), on=day)


def copy_database(url: str, tmp_path: Path) -> Iterator[str]:
    """A second database holding what ``url``'s holds (a file copy; on PostgreSQL a database made from it
    as a template), dropped after the test."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None
        copy = tmp_path / "twin.db"
        shutil.copy(parsed.database, copy)
        yield f"sqlite:///{copy}"
        return
    name = f"overdue_twin_{uuid.uuid4().hex[:12]}"
    admin = make_engine(os.environ["OVERDUE_TEST_PG"], isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"'))
        yield parsed.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def twin_stores(
    db_url: str, tmp_path: Path, build: Callable[[Engine], object]
) -> Iterator[tuple[Engine, Engine, str]]:
    """Two stores alike, the second a copy of the first once ``build`` has filled it: yields (the first, the
    second, the second's URL); for a fixture to ``yield from`` (the copy is dropped after the test)."""
    first = make_engine(db_url)
    upgrade(first)
    build(first)
    first.dispose()
    for url in copy_database(db_url, tmp_path):
        second = make_engine(url)
        try:
            yield first, second, url
        finally:
            second.dispose()
            first.dispose()


def run_set_based(store: Engine, url: str, through: date, **options: Any) -> StoreRunSummary:
    """``overdue eod --store`` through ``through`` on ``store`` (at ``url``) as the CLI runs it: a SQLite
    store on DuckDB, a PostgreSQL one inside its own database; ``options``: :func:`run_on_store`'s."""
    name = "postgres" if url.startswith("postgresql") else "duckdb"
    backend = connect(name, url)
    try:
        return run_on_store(store, through, backend, engine_name=name, **options)
    finally:
        backend.disconnect()
