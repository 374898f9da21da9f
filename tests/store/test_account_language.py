"""The borrower's language on the account row: migration 0012 on a database with accounts (they become
zh-CN, and back), the database's own check, and the domain's refusal of a language no notice is written in."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select, update
from sqlalchemy.exc import IntegrityError

from overdue.domain.account import open_account
from overdue.domain.errors import InvalidInput
from overdue.domain.terms import product_terms
from overdue.services import accounts
from overdue.store import repository
from overdue.store.account_tables import accounts as accounts_table
from overdue.store.db import alembic_config, current_revision, upgrade

BEFORE = "0011_behaviour_scores"
AFTER = "0012_account_language"
OPENED = date(2026, 1, 5)


def _languages(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(accounts_table.c.id, accounts_table.c.language)).all()
    return dict((account_id, language) for account_id, language in rows)


def test_existing_accounts_become_zh_cn(engine: Engine) -> None:
    accounts.open_account(engine, "A1", OPENED, 500_000, language="en")
    accounts.open_account(engine, "A2", OPENED, 300_000)
    assert _languages(engine) == {"A1": "en", "A2": "zh-CN"}

    command.downgrade(alembic_config(engine), BEFORE)
    assert current_revision(engine) == BEFORE
    assert "language" not in {c["name"] for c in inspect(engine).get_columns("accounts")}

    assert upgrade(engine, AFTER) == AFTER
    assert _languages(engine) == {"A1": "zh-CN", "A2": "zh-CN"}
    with engine.connect() as conn:
        assert repository.load_account(conn, "A1")[0].language == "zh-CN"


def test_the_database_refuses_another_language(engine: Engine) -> None:
    accounts.open_account(engine, "A1", OPENED, 500_000, language="en")
    with engine.connect() as conn:
        assert repository.load_account(conn, "A1")[0].language == "en"
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(update(accounts_table).where(accounts_table.c.id == "A1").values(language="fr"))


def test_an_unknown_language_is_refused_naming_the_accepted_ones() -> None:
    with pytest.raises(InvalidInput, match=r"unknown language 'fr' \(use one of: zh-CN, en\)"):
        open_account("A1", "huabei", product_terms("huabei"), OPENED, 500_000, language="fr")
    assert open_account("A1", "huabei", product_terms("huabei"), OPENED, 500_000).language == "zh-CN"
