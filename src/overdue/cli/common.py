"""What every ``overdue`` command shares: context, options, errors and output."""

import getpass
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from sqlalchemy import Engine

EXIT_BAD_INPUT = 2
"""Exit status for any error the user can act on (bad input, unusable database)."""

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of human-readable text.")]
"""The ``--json`` option; every command that prints a result takes it as ``as_json: JsonOption = False``."""


@dataclass
class CliState:
    """The context object (``ctx.obj``) set up by the top-level callback.

    ``db_url`` is the database URL from ``--db`` (or its default); the engine is created on first use, so
    commands that never touch the database never open it.
    """

    db_url: str
    _engine: "Engine | None" = field(default=None, repr=False)

    def engine(self) -> "Engine":
        """The engine for :attr:`db_url`, created once."""
        if self._engine is None:
            # Imported here: a command that never opens the database does not load SQLAlchemy.
            from overdue.store.db import make_engine

            self._engine = make_engine(self.db_url)
        return self._engine

    def migrated_engine(self) -> "Engine":
        """:meth:`engine`, its database's tables migrated to the newest revision (:func:`upgrade`): what
        every command that reads or writes the store opens."""
        engine = self.engine()
        upgrade(engine)
        return engine

    def close(self) -> None:
        """Close the engine's pooled connections (when the command ends)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def state(ctx: typer.Context) -> CliState:
    """The :class:`CliState` of the running command; ``ctx`` is the command's typer context."""
    obj = ctx.find_object(CliState)
    if obj is None:  # only when a command is invoked without the top-level callback
        raise RuntimeError("overdue CLI state is missing: invoke commands through overdue.cli.main.app")
    return obj


def operator_name(given: str | None) -> str:
    """Who runs a command, as the audit log names them: ``given``, else ``$OVERDUE_OPERATOR``, else the
    login name (``unknown`` when the system has none)."""
    if given and given.strip():
        return given.strip()
    from_env = os.environ.get("OVERDUE_OPERATOR", "").strip()
    if from_env:
        return from_env
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's user without a passwd entry)
        return "unknown"


def upgrade(engine: "Engine") -> str | None:
    """The store's migrations applied to ``engine``'s database (:func:`overdue.store.db.upgrade`, loaded
    when a command first opens its database); the revision it is at."""
    from overdue.store.db import upgrade as apply_migrations

    return apply_migrations(engine)


def fail(message: str) -> NoReturn:
    """Print ``error: message`` as one line on stderr and exit with status 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def print_json(value: Any) -> None:
    """Print ``value`` as JSON on stdout; amounts must already be decimal strings (never floats)."""
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False))


def progress_bar(quiet: bool) -> Progress:
    """A progress bar on the terminal that goes away when done (none when ``quiet``, e.g. with ``--json``):
    the task's description, the bar, done of total and the time elapsed."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        disable=quiet,
    )
