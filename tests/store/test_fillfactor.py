"""Migration 0013: on PostgreSQL the rows every end-of-day updates (``accounts``, ``statements``) are written
to half-full pages, so that the day's updates stay on their page (HOT) and leave the indexes alone; SQLite has
no such setting and the migration leaves it as it was."""

from __future__ import annotations

from datetime import date

import ibis
from alembic import command
from sqlalchemy import Engine, text

from overdue.engine.reference import run_eod
from overdue.services import accounts
from overdue.setbased.store_run import run_on_store
from overdue.store.account_tables import UPDATED_DAILY_FILLFACTOR
from overdue.store.db import alembic_config, current_revision, head_revision, upgrade

BEFORE = "0012_account_language"
AFTER = "0013_fillfactor"
TABLES = ("accounts", "statements")


def _options(engine: Engine) -> dict[str, list[str] | None]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT relname, reloptions FROM pg_class WHERE relname IN ('accounts', 'statements')")
        ).all()
    return {name: options for name, options in rows}


def _pages(engine: Engine) -> dict[str, int]:
    """Each account's heap page (its row's ``ctid`` is (page, item))."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, (ctid::text::point)[0]::int FROM accounts")).all()
    return {account_id: page for account_id, page in rows}


def test_postgresql_fills_the_daily_updated_tables_to_half(postgres_engine: Engine) -> None:
    engine = postgres_engine
    assert UPDATED_DAILY_FILLFACTOR == 50
    assert _options(engine) == {table: ["fillfactor=50"] for table in TABLES}

    command.downgrade(alembic_config(engine), BEFORE)
    assert _options(engine) == {table: None for table in TABLES}
    assert upgrade(engine, AFTER) == AFTER
    assert _options(engine) == {table: ["fillfactor=50"] for table in TABLES}


def test_the_daily_updates_of_accounts_stay_on_their_page(postgres_engine: Engine) -> None:
    """The set-based end-of-day on the store updates every account's row in one transaction; on pages filled
    to half the new versions are written beside the old (HOT updates), where on full pages (before 0013)
    they moved to others."""
    engine = postgres_engine
    for number in range(60):
        accounts.open_account(engine, f"H{number:02d}", date(2026, 1, 5), 500_000)
        accounts.purchase(engine, f"H{number:02d}", 10_000, on=date(2026, 1, 5))
    run_eod(engine, date(2026, 1, 7))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM FULL accounts"))  # every row rewritten at the table's fillfactor
    pages = _pages(engine)
    assert len(set(pages.values())) > 1

    summary = run_on_store(engine, date(2026, 1, 8), ibis.duckdb.connect(), engine_name="duckdb")

    assert summary.accounts_run == 60
    assert _pages(engine) == pages


def test_sqlite_is_left_as_it_was(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        before = conn.execute(
            text("SELECT sql FROM sqlite_master WHERE name IN ('accounts', 'statements')")
        ).all()
    command.downgrade(alembic_config(engine), BEFORE)
    assert upgrade(engine, AFTER) == AFTER
    with engine.connect() as conn:
        after = conn.execute(
            text("SELECT sql FROM sqlite_master WHERE name IN ('accounts', 'statements')")
        ).all()
    assert after == before
