"""``portfolio``: the bureau tests' portfolio (:mod:`bureau_portfolio`) built once per module and database,
on SQLite and on PostgreSQL (a fresh database of the test server, dropped afterwards; skipped without one,
as the store's tests are). Tests that read it must not change it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from bureau_portfolio import build
from sqlalchemy import Engine, text
from sqlalchemy.pool import NullPool

from overdue.store.db import make_engine, normalise_url, upgrade

TEST_PG_ENV = "OVERDUE_TEST_PG"


def _built(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        build(engine)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def portfolio(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An engine on a database holding the built portfolio, its end-of-day run through 2026-03-31."""
    if request.param == "sqlite":
        yield from _built(f"sqlite:///{tmp_path_factory.mktemp('bureau')}/overdue.db")
        return
    server_url = os.environ.get(TEST_PG_ENV)
    if not server_url:
        pytest.skip(
            f"PostgreSQL tests need ${TEST_PG_ENV} (./run tests sets it when PostgreSQL is installed)"
        )
    name = f"overdue_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield from _built(normalise_url(server_url).set(database=name).render_as_string(hide_password=False))
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
