"""Shared fixtures: a fresh, migrated database per test, on SQLite and on PostgreSQL.

PostgreSQL tests need ``$OVERDUE_TEST_PG`` (a URL of a server where the user may create databases);
``./run tests`` starts a throwaway server and sets it when PostgreSQL is installed. Without it they are
skipped, with the reason shown in pytest's summary.
"""

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.pool import NullPool

from overdue.store.db import make_engine, normalise_url, upgrade

TEST_PG_ENV = "OVERDUE_TEST_PG"


@pytest.fixture
def sqlite_url(tmp_path: pytest.TempPathFactory) -> str:
    """URL of a new, empty SQLite file in the test's temporary directory."""
    return f"sqlite:///{tmp_path}/overdue.db"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, created for this test and dropped after it."""
    server_url = os.environ.get(TEST_PG_ENV)
    if not server_url:
        pytest.skip(
            f"PostgreSQL tests need ${TEST_PG_ENV} "
            "(./run tests sets it when PostgreSQL is installed; or set it to postgresql+psycopg://...)"
        )
    name = f"overdue_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield normalise_url(server_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """URL of a fresh, empty database: once on SQLite, once on PostgreSQL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


def _migrated_engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on :func:`db_url`'s database, migrated to the newest revision."""
    yield from _migrated_engine(db_url)


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """A migrated engine on a fresh SQLite file, for what only SQLite does."""
    yield from _migrated_engine(sqlite_url)


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """A migrated engine on a fresh PostgreSQL database, for what only PostgreSQL does."""
    yield from _migrated_engine(postgres_url)
