"""Database engines, migrations and sessions.

``make_engine`` is the one place that turns a URL into an engine, so every engine gets the same settings:
SQLite files run in WAL mode with foreign keys enforced and a busy timeout; PostgreSQL goes through psycopg 3.
``upgrade`` applies the Alembic migrations shipped inside the package, so it works from an installed wheel
without an ``alembic.ini``.
"""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from overdue.errors import OverdueError
from overdue.store.urls import DEFAULT_URL as DEFAULT_URL
from overdue.store.urls import default_url as default_url

SQLITE_BUSY_TIMEOUT_MS = 5_000
"""How long a SQLite connection waits for another writer's lock before failing."""

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> URL:
    """Parse ``url`` and pick overdue's driver for it.

    ``url`` is an SQLAlchemy URL. A plain ``postgresql://`` (or ``postgres://``) URL is rewritten to
    ``postgresql+psycopg://``, since psycopg 3 is the only PostgreSQL driver overdue ships with.
    Raises :class:`OverdueError` when ``url`` cannot be parsed or names an unsupported database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise OverdueError(f"invalid database URL {url!r}: {error}") from error
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise OverdueError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")
    return parsed


def make_engine(url: str, **engine_options: Any) -> Engine:
    """Create an engine for ``url`` with overdue's connection settings.

    ``url`` is an SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://user@host/db``; a plain
    ``postgresql://`` URL gets psycopg). ``engine_options`` go unchanged to :func:`sqlalchemy.create_engine`.
    """
    parsed = normalise_url(url)
    engine = create_engine(parsed, **engine_options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _connection_record: Any) -> None:
    """Set WAL mode, foreign keys and the busy timeout on each new SQLite connection.

    SQLite keeps these per connection (WAL is stored in the file, but setting it again is harmless), so they
    are set on every connection the pool opens, before it runs anything else.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration for the migrations shipped in this package, bound to ``engine``.

    Pass it to any ``alembic.command`` function, e.g. to write the next revision::

        config = alembic_config(engine)
        command.revision(config, message="accounts", autogenerate=True, rev_id="0002_accounts")
    """
    config = _migrations_config()
    config.attributes["engine"] = engine
    return config


def _migrations_config() -> Config:
    """An Alembic configuration naming this package's migrations folder, bound to no database."""
    config = Config()
    # Config values go through configparser interpolation: a literal "%" must be written "%%".
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("file_template", "%%(rev)s")
    return config


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Apply migrations to ``engine``'s database up to ``revision`` (default: the newest).

    Returns the revision the database is at afterwards. Running it again is harmless.
    """
    command.upgrade(alembic_config(engine), revision)
    return current_revision(engine)


def head_revision() -> str | None:
    """The newest migration revision shipped with this package: where :func:`upgrade` takes a database."""
    return ScriptDirectory.from_config(_migrations_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration revision ``engine``'s database is at, or ``None`` before the first migration."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session maker bound to ``engine``; sessions keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)
