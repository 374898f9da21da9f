"""Engine set-up: URLs, drivers and defaults (no database needed)."""

import pytest

from overdue.errors import OverdueError
from overdue.store.db import DEFAULT_URL, default_url, make_engine, session_factory


@pytest.mark.parametrize("url", ["postgresql://u@db.example/overdue", "postgres://u@db.example/overdue"])
def test_plain_postgresql_url_uses_psycopg(url: str) -> None:
    engine = make_engine(url)
    try:
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.url.database == "overdue"
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["not a url", "mysql://u@h/db"])
def test_bad_url_is_a_user_error(url: str) -> None:
    with pytest.raises(OverdueError):
        make_engine(url)


def test_default_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OVERDUE_DB", raising=False)
    assert default_url() == DEFAULT_URL == "sqlite:///overdue.db"
    monkeypatch.setenv("OVERDUE_DB", "sqlite:////tmp/other.db")
    assert default_url() == "sqlite:////tmp/other.db"


def test_session_factory_binds_the_engine() -> None:
    engine = make_engine("sqlite://")
    try:
        with session_factory(engine)() as session:
            assert session.get_bind() is engine
    finally:
        engine.dispose()
