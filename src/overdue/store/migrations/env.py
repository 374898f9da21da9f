"""Alembic environment for overdue's store.

The engine comes from the configuration built by :func:`overdue.store.db.alembic_config` (in
``config.attributes["engine"]``); when Alembic is run some other way, from ``sqlalchemy.url`` or
``$OVERDUE_DB``. ``target_metadata`` is the store's schema, so ``autogenerate`` compares against it.
"""

from alembic import context
from sqlalchemy import Connection, Engine

from overdue.store import (  # imported to register their tables
    account_tables,  # noqa: F401
    api_tables,  # noqa: F401
    behaviour_tables,  # noqa: F401
    collection_tables,  # noqa: F401
    compliance_tables,  # noqa: F401
    limit_tables,  # noqa: F401
    operations_tables,  # noqa: F401
    relief_request_tables,  # noqa: F401
    relief_tables,  # noqa: F401
)
from overdue.store.db import default_url, make_engine
from overdue.store.schema import metadata

config = context.config
target_metadata = metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or default_url()


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Write the migrations as SQL for the URL's dialect instead of running them."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a connection from the configured engine."""
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        engine = make_engine(_url())
    with engine.connect() as connection:
        _configure(connection)
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
