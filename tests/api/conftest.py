"""The API tests' fixtures: the world of :mod:`api_world` on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_world import World, make_world, served
from sqlalchemy import Engine

from overdue.api import security


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    """The world on SQLite and on PostgreSQL, through a real ``overdue serve`` process over a socket."""
    with served(engine) as client:
        yield from make_world(engine, client)


@pytest.fixture
def sqlite_world(sqlite_engine: Engine) -> Iterator[World]:
    """The world on SQLite only, in this process (FastAPI's test client): for the role matrices, whose
    answers do not depend on the database or the transport."""
    yield from make_world(sqlite_engine)


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """argon2id at its lowest cost: the tests check hashing works, not how long it takes."""
    security.configure_password_hashing(time_cost=1, memory_cost=8, parallelism=1)
    yield
    security.configure_password_hashing()
