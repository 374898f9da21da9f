"""The reference end-of-day runner on a real database: idempotent, catching up, restartable, flat."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.pool import NullPool

from overdue.domain import account as rules
from overdue.domain.calendar import iter_days
from overdue.domain.ledger import balances
from overdue.domain.snapshot import snapshot
from overdue.domain.terms import PRESETS
from overdue.engine.reference import EodSummary, first_open_date, run_date, run_eod
from overdue.services import accounts
from overdue.store import repository
from overdue.store.account_tables import account_days, bucket_history, eod_runs, statements
from overdue.store.account_tables import accounts as accounts_table
from overdue.store.db import make_engine, normalise_url, upgrade
from overdue.store.schema import ledger_transactions, metadata

OPENED = date(2026, 1, 25)


class Crash(Exception):
    """Raised from a progress callback to stop a run half-way, as a crash would."""


@pytest.fixture
def twin(db_url: str, tmp_path: Path) -> Iterator[Engine]:
    """A second fresh, migrated database on the same backend as :func:`engine`, to compare two runs."""
    admin: Engine | None = None
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path}/twin.db"
    else:
        name = f"overdue_twin_{uuid.uuid4().hex[:12]}"
        admin = make_engine(os.environ["OVERDUE_TEST_PG"], isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = (
            normalise_url(os.environ["OVERDUE_TEST_PG"])
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but the wall-clock ``created_at`` columns, and the audit log, whose rows hash
    the wall-clock time they were written at), sorted."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name == "audit_log":
                continue
            columns = [c for c in table.columns if c.name != "created_at"]
            out[table.name] = sorted(tuple(map(repr, row)) for row in conn.execute(select(*columns)))
    return out


def open_portfolio(engine: Engine) -> None:
    """Three accounts: one that pays in full, one that pays nothing, one that takes installments later."""
    for account_id, limit in (("A", 500_000), ("B", 300_000), ("C", 1_000_000)):
        accounts.open_account(engine, account_id, OPENED, limit)
        accounts.purchase(engine, account_id, limit // 5, on=OPENED)


def second_phase(engine: Engine) -> None:
    """What happens on 5 February, after the end-of-day of the 4th."""
    accounts.repay(engine, "A", 100_000, on=date(2026, 2, 5))
    accounts.request_installments(engine, "C", date(2026, 2, 1), 3, on=date(2026, 2, 5))
    accounts.purchase(engine, "C", 12_345, on=date(2026, 2, 5))


def day_by_day(engine: Engine, first: date, last: date) -> None:
    for day in iter_days(first, last):
        run_eod(engine, day)


def test_running_a_date_twice_changes_nothing(engine: Engine) -> None:
    assert first_open_date(engine) is None
    empty = run_eod(engine, date(2026, 1, 10))  # no accounts yet: nothing to run, nothing closed
    assert (empty.dates, empty.accounts_run, empty.transactions) == ([], 0, 0)
    assert contents(engine)["eod_runs"] == []
    open_portfolio(engine)
    assert first_open_date(engine) == OPENED
    first = run_eod(engine, date(2026, 2, 4))
    assert first.dates[0] == OPENED and first.dates[-1] == date(2026, 2, 4)
    assert first.accounts_run == 3 * len(first.dates)
    second_phase(engine)
    run_eod(engine, date(2026, 2, 12))
    after = contents(engine)
    again = run_eod(engine, date(2026, 2, 12))
    assert (again.dates, again.accounts_run, again.transactions) == ([], 0, 0)
    assert contents(engine) == after
    earlier = run_eod(engine, date(2026, 2, 1))
    assert earlier.dates == []
    # Even forcing a closed date through run_date again finds nothing left to do.
    summary = EodSummary()
    run_date(engine, date(2026, 2, 12), summary)
    assert summary.accounts_run == 0
    assert contents(engine) == after


def test_catch_up_equals_day_by_day(engine: Engine, twin: Engine) -> None:
    open_portfolio(engine)
    open_portfolio(twin)
    caught_up = run_eod(engine, date(2026, 2, 4))  # missed days, run in one go
    day_by_day(twin, OPENED, date(2026, 2, 4))
    assert len(caught_up.dates) == (date(2026, 2, 4) - OPENED).days + 1
    second_phase(engine)
    second_phase(twin)
    run_eod(engine, date(2026, 2, 14))
    day_by_day(twin, date(2026, 2, 5), date(2026, 2, 14))
    assert contents(engine) == contents(twin)
    for account_id in ("A", "B", "C"):
        assert accounts.account_snapshot(engine, account_id) == accounts.account_snapshot(twin, account_id)


def test_catch_up_equals_the_pure_rules(engine: Engine) -> None:
    """The stored run gives what the pure rules give day by day in memory (state, snapshot and ledger)."""
    accounts.open_account(engine, "A", OPENED, 500_000)
    accounts.purchase(engine, "A", 123_457, on=OPENED)
    run_eod(engine, date(2026, 2, 15))
    state = rules.open_account("A", "huabei", PRESETS["huabei"], OPENED, 500_000)
    outcome = rules.purchase(state, OPENED, 123_457)
    journal = list(outcome.transactions)
    state = outcome.state
    for day in iter_days(OPENED, date(2026, 2, 15)):
        outcome = rules.end_of_day(state, day)
        journal += outcome.transactions
        state = outcome.state
    with engine.connect() as conn:
        stored = accounts.load(conn, "A")
        stored_balances = repository.ledger_balances(conn, "A")
        count = conn.execute(select(func.count()).select_from(ledger_transactions)).scalar_one()
    assert snapshot(stored, date(2026, 2, 15)) == snapshot(state, date(2026, 2, 15))
    assert stored == state
    assert stored_balances == {str(k): v for k, v in balances(journal).items()}
    assert count == len(journal)


def crash_after(accounts_done: int, on: date) -> Callable[[date, int, int], None]:
    def progress(day: date, done: int, total: int) -> None:
        assert 1 <= done <= total
        if day == on and done == accounts_done:
            raise Crash(f"crash after {done} of {total} accounts on {day}")

    return progress


def last_eods(engine: Engine) -> dict[str, date]:
    with engine.connect() as conn:
        rows = conn.execute(select(accounts_table.c.id, accounts_table.c.last_eod))
        return {row.id: row.last_eod for row in rows}


def test_restarts_after_crashes_equal_an_uninterrupted_run(engine: Engine, twin: Engine) -> None:
    open_portfolio(engine)
    open_portfolio(twin)
    # Crash 1: on 1 February (a statement day), after the first account.
    with pytest.raises(Crash):
        run_eod(engine, date(2026, 2, 12), crash_after(1, date(2026, 2, 1)))
    with engine.connect() as conn:
        assert repository.last_closed_date(conn) == date(2026, 1, 31)
    assert last_eods(engine) == {"A": date(2026, 2, 1), "B": date(2026, 1, 31), "C": date(2026, 1, 31)}
    # Crash 2: the rerun picks up the two accounts left, then crashes on 10 February after two accounts.
    progress: list[tuple[date, int, int]] = []

    def record_then_crash(day: date, done: int, total: int) -> None:
        progress.append((day, done, total))
        crash_after(2, date(2026, 2, 10))(day, done, total)

    with pytest.raises(Crash):
        run_eod(engine, date(2026, 2, 12), record_then_crash)
    assert progress[:2] == [(date(2026, 2, 1), 1, 2), (date(2026, 2, 1), 2, 2)]
    assert last_eods(engine) == {"A": date(2026, 2, 10), "B": date(2026, 2, 10), "C": date(2026, 2, 9)}
    # Crash 3: after every account of the 11th, before the date is closed.
    with pytest.raises(Crash):
        run_eod(engine, date(2026, 2, 12), crash_after(3, date(2026, 2, 11)))
    with engine.connect() as conn:
        assert repository.last_closed_date(conn) == date(2026, 2, 10)
    rerun = run_eod(engine, date(2026, 2, 12))
    assert rerun.dates == [date(2026, 2, 11), date(2026, 2, 12)]
    assert rerun.accounts_run == 3
    run_eod(twin, date(2026, 2, 12))
    assert contents(engine) == contents(twin)


def test_accounts_join_the_run_on_their_opening_day(engine: Engine) -> None:
    accounts.open_account(engine, "early", OPENED, 500_000)
    accounts.open_account(engine, "late", date(2026, 2, 3), 500_000)
    seen: list[tuple[date, int, int]] = []
    summary = run_eod(engine, date(2026, 2, 4), lambda day, done, total: seen.append((day, done, total)))
    assert summary.accounts_run == 11 + 2
    assert seen[0] == (OPENED, 1, 1)
    assert seen[-2:] == [(date(2026, 2, 4), 1, 2), (date(2026, 2, 4), 2, 2)]
    with engine.connect() as conn:
        late_days = (
            conn.execute(select(account_days.c.business_date).where(account_days.c.account_id == "late"))
            .scalars()
            .all()
        )
        runs = conn.execute(select(eod_runs.c.business_date, eod_runs.c.accounts, eod_runs.c.finished)).all()
    assert sorted(late_days) == [date(2026, 2, 3), date(2026, 2, 4)]
    assert len(runs) == 11
    assert all(finished for _, _, finished in runs)
    assert dict((d, n) for d, n, _ in runs)[date(2026, 2, 3)] == 2


@pytest.mark.slow
def test_per_account_load_stays_flat(engine: Engine) -> None:
    """After 400 days of history, loading an account reads what the next day needs and nothing more."""
    accounts.open_account(engine, "A", OPENED, 500_000, overrides={"bureau_grid_months": 3})
    accounts.purchase(engine, "A", 60_000, on=OPENED)
    run_eod(engine, date(2026, 2, 2))
    accounts.request_installments(engine, "A", date(2026, 2, 1), 3, on=date(2026, 2, 3))
    last = OPENED + timedelta(days=400)
    month = 2
    while True:
        due = date(2026 + (month - 1) // 12, (month - 1) % 12 + 1, 9)
        if due > last:
            break
        if month == 6:
            # Miss one due date: delinquent for a few days, then cured.
            run_eod(engine, due + timedelta(days=4))
            pay_on = due + timedelta(days=5)
        else:
            run_eod(engine, due - timedelta(days=1))
            pay_on = due
        owed = accounts.account_snapshot(engine, "A")["balances"]["total_due"]
        if owed != "0.00":
            accounts.repay(engine, "A", int(owed.replace(".", "")), on=pay_on)
        accounts.purchase(engine, "A", 10_000 + month, on=pay_on)
        month += 1
    run_eod(engine, last)
    with engine.connect() as conn:
        state, _ = repository.load_account(conn, "A")
        stored_statements = conn.execute(
            select(func.count()).select_from(statements).where(statements.c.account_id == "A")
        ).scalar_one()
        stored_spells = conn.execute(
            select(func.count()).select_from(bucket_history).where(bucket_history.c.account_id == "A")
        ).scalar_one()
    assert state.last_eod == last
    assert stored_statements >= 12
    assert stored_spells >= 3
    latest = max(s.statement_date for s in state.statements)
    assert all(s.outstanding > 0 or s.statement_date == latest for s in state.statements)
    assert len(state.statements) <= 2
    assert all(not plan.is_finished for plan in state.plans)
    assert state.plans == ()
    assert len(state.bucket_history) == 1 and state.bucket_history[0].left is None
    assert len(state.bureau) == 3


@pytest.mark.postgres
def test_longest_account_id_survives_interest_on_postgres(postgres_engine: Engine) -> None:
    """Statement ids are '<account id>/<YYYY-MM-DD>': 75 characters for the longest account id."""
    account_id = "L" * rules.MAX_ID_LENGTH
    accounts.open_account(postgres_engine, account_id, OPENED, 500_000)
    accounts.purchase(postgres_engine, account_id, 100_000, on=OPENED)
    run_eod(postgres_engine, date(2026, 2, 10))  # DPD 1: overdue interest posted against the statement
    assert accounts.account_snapshot(postgres_engine, account_id)["balances"]["overdue_interest"] == "0.50"
