"""Migration 0011 on a populated SQLite database: every existing row is kept both ways, the new table
starts empty, and the end-of-day fills it at the next month end."""

from __future__ import annotations

from datetime import date

from alembic import command
from behaviour_fact_helpers import FIRST_MONTH_END, run_eod, two_accounts
from sqlalchemy import Engine, MetaData, func, inspect, select

from overdue.services import accounts
from overdue.store.behaviour_tables import behaviour_scores
from overdue.store.db import alembic_config, current_revision, upgrade

BEFORE = "0010_limit_changes"
AFTER = "0011_behaviour_scores"


def _contents(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table but Alembic's and the behaviour scores, in a stable order."""
    tables = MetaData()
    tables.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for name, table in sorted(tables.tables.items()):
            if name not in ("alembic_version", "behaviour_scores"):
                out[name] = sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
    return out


def _downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def test_the_migration_keeps_every_row_and_the_month_end_fills_the_new_table(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    two_accounts(engine)
    run_eod(engine, date(2026, 1, 20))
    accounts.repay(engine, "H1", 10_000, on=date(2026, 1, 21))
    run_eod(engine, date(2026, 1, 30))
    _downgrade(engine, AFTER)
    populated = _contents(engine)
    assert len(populated["ledger_postings"]) > 0 and len(populated["account_days"]) > 0

    _downgrade(engine, BEFORE)
    assert current_revision(engine) == BEFORE
    assert "behaviour_scores" not in inspect(engine).get_table_names()
    assert _contents(engine) == populated

    assert upgrade(engine, AFTER) == AFTER
    assert _contents(engine) == populated
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(behaviour_scores)).scalar_one() == 0

    run_eod(engine, FIRST_MONTH_END)
    with engine.connect() as conn:
        rows = conn.execute(select(behaviour_scores.c.account_id, behaviour_scores.c.month_end)).all()
    assert sorted(rows) == [("H1", FIRST_MONTH_END), ("L1", FIRST_MONTH_END)]
