"""The ``overdue`` typer application and its top-level commands.

Adding a command module: write ``src/overdue/cli/NAME.py`` that imports what it needs from
:mod:`overdue.cli.common` (never from this module, so imports stay one-way), then register it in
:data:`COMMANDS` (one entry); see "Command modules" at the bottom of this file. A command's module is
imported only when that command runs (or its own ``--help`` is asked for): ``overdue --help`` and
``overdue version`` load none of them, and ``overdue repay`` does not load the simulator or the HTTP API.
"""

import importlib
import sys
from dataclasses import dataclass
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from overdue import __version__
from overdue.cli.common import CliState, JsonOption, fail, operator_name, print_json, state, upgrade
from overdue.errors import OverdueError
from overdue.store.actors import Actor, acting_as
from overdue.store.urls import default_url


@dataclass(frozen=True)
class Command:
    """A top-level command or group of sub-commands whose module is imported when it runs."""

    module: str
    """Its module under ``overdue.cli``."""
    attribute: str
    """The typer app (a group of sub-commands) or the function (a single command) in that module."""
    group: bool
    """Whether it is a typer app (``overdue scenario run ...``) rather than a function (``overdue eod``)."""
    help: str
    """The line ``overdue --help`` shows for it: the first paragraph of its own help (a test keeps the two
    the same)."""


class _OverdueGroup(TyperGroup):
    """The root command group: turns expected errors from any command into one line and exit status 2, and
    imports each command's module only when the command runs.

    Wrapping the root group's ``invoke`` covers every sub-command and sub-group, whichever module defines it.
    """

    # ctx: typer's click Context; a command: typer's click Command (their classes are private to typer).
    def list_commands(self, ctx: Any) -> list[str]:
        eager = [n for n in super().list_commands(ctx) if n not in COMMANDS and n not in _EAGER_GROUPS]
        singles = [name for name, c in COMMANDS.items() if not c.group]
        groups = [name for name, c in COMMANDS.items() if c.group]
        return [*eager, *singles, *_EAGER_GROUPS, *groups]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command named ``cmd_name``: for a command not loaded yet, a stand-in that carries its help
        line (enough for ``overdue --help``); :meth:`resolve_command` loads the real one to run it."""
        if cmd_name not in COMMANDS or cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        return TyperCommand(cmd_name, help=COMMANDS[cmd_name].help, short_help=COMMANDS[cmd_name].help)

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name in COMMANDS:
            command = self.load(name)
        return name, command, rest

    def load(self, name: str) -> Any:
        """Import the module of command ``name`` and add its command to this group (once)."""
        if name not in self.commands:
            spec = COMMANDS[name]
            target = getattr(importlib.import_module(f"overdue.cli.{spec.module}"), spec.attribute)
            if spec.group:  # a group even when it has one sub-command (as add_typer keeps it)
                command: Any = typer.main.get_group(target)
            else:
                single = typer.Typer(add_completion=False)
                single.command(name)(target)
                command = typer.main.get_command(single)
            command.name = name
            self.add_command(command, name)
        return self.commands[name]

    def invoke(self, ctx: Any) -> Any:  # ctx: typer's click Context (its class is private to typer)
        try:
            return super().invoke(ctx)
        except OverdueError as error:
            fail(str(error))
        except Exception as error:
            # SQLAlchemy is loaded only by the commands that open the database (an error of it means it is).
            errors = sys.modules.get("sqlalchemy.exc")
            if errors is None or not isinstance(error, errors.OperationalError):
                raise
            # The database is unreachable or unusable; the driver's first line says why.
            fail(f"cannot use the database: {str(error.orig).strip().splitlines()[0]}")


app = typer.Typer(
    name="overdue",
    cls=_OverdueGroup,
    help="overdue: consumer-credit servicing and collections.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold database passwords
    add_completion=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help="Database URL (sqlite:///FILE or postgresql://...); default $OVERDUE_DB or sqlite:///overdue.db.",
        ),
    ] = None,
    operator: Annotated[
        str | None,
        typer.Option(
            "--operator",
            metavar="NAME",
            help="Who runs the command, for the audit log; default $OVERDUE_OPERATOR or your login name.",
        ),
    ] = None,
) -> None:
    """Set up the context every command shares: the database, and who the audit log records as acting."""
    ctx.obj = CliState(db_url=db or default_url())
    ctx.call_on_close(ctx.obj.close)
    ctx.with_resource(acting_as(Actor(f"cli:{operator_name(operator)}", "operator")))


@app.command()
def version(as_json: JsonOption = False) -> None:
    """Print overdue's version."""
    if as_json:
        print_json({"version": __version__})
    else:
        typer.echo(f"overdue {__version__}")


db_app = typer.Typer(help="Manage the database.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Create or migrate the database's tables to the newest revision."""
    cli_state = state(ctx)
    engine = cli_state.engine()
    revision = upgrade(engine)
    if as_json:
        print_json({"database": engine.url.render_as_string(hide_password=True), "revision": revision})
    else:
        typer.echo(f"database {engine.url.render_as_string(hide_password=True)} is at revision {revision}")


# --- Command modules ----------------------------------------------------------------------------------------
# One entry each, in the order `overdue --help` lists them (single commands first, then groups). A group of
# sub-commands (`overdue scenario run ...`) is its module's typer app:
#     "scenario": Command("scenario", "app", True, "Worked examples: scenario files (DESIGN §3)."),
# a single top-level command (`overdue eod --date ...`) a plain function of its module:
#     "eod": Command("eod", "eod", False, "Run the end-of-day ..."),
app.add_typer(db_app, name="db")
_EAGER_GROUPS = ("db",)
"""The groups defined in this module (listed after the single commands, as typer lists them)."""

COMMANDS: dict[str, Command] = {
    "eod": Command(
        "eod",
        "eod",
        False,
        "Run the end-of-day (accrue → age → bill → decide → act) for every account, "
        "catching up missed dates.",
    ),
    "purchase": Command(
        "accounts", "purchase", False, "Buy on the credit line, whole or in installments (消费分期)."
    ),
    "repay": Command(
        "accounts",
        "repay",
        False,
        "Repay: oldest statement first; fees, interest, then principal (principal first beyond 90 DPD).",
    ),
    "demo": Command(
        "demo",
        "demo",
        False,
        "The main job: simulate a portfolio, store it in --db, print the summary and write the HTML report.",
    ),
    "simulate": Command(
        "demo",
        "simulate",
        False,
        "Simulate a synthetic portfolio month by month and print its summary (writes nothing).",
    ),
    "serve": Command(
        "serve", "serve", False, "Serve the HTTP API (OpenAPI at /openapi.json, interactive docs at /docs)."
    ),
    "scenario": Command("scenario", "app", True, "Worked examples: scenario files (DESIGN §3)."),
    "account": Command("accounts", "app", True, "Open and inspect credit-line accounts."),
    "installments": Command("accounts", "installments_app", True, "Bill installments: quote and accept."),
    "strategy": Command(
        "strategy", "app", True, "Collection strategies: validate, show, explain a decision."
    ),
    "compliance": Command(
        "compliance",
        "app",
        True,
        "Compliance: audit the contact log; holds that stop contact; the agency whitelist.",
    ),
    "risk": Command(
        "risk", "app", True, "Credit risk: scorecards, limit review, behaviour and collection scores."
    ),
    "relief": Command(
        "relief", "app", True, "Relief for borrowers who cannot pay for now: quote, accept, approve, list."
    ),
    "user": Command("users", "app", True, "API users and their tokens."),
    "audit": Command(
        "audit_log",
        "app",
        True,
        "The audit log: every change, and every read of personal data through the API.",
    ),
    "cases": Command(
        "ops", "cases_app", True, "Cases: all of a borrower's accounts, by stage, queue and priority."
    ),
    "queue": Command("ops", "queue_app", True, "Collectors, the morning allocation and reassignments."),
    "field": Command(
        "ops", "field_app", True, "Field visits: borrowers' places, daily routes, closing orders."
    ),
    "legal": Command(
        "ops",
        "legal_app",
        True,
        "Legal cases: lawyer's letter → mediation → filing → judgment → enforcement.",
    ),
    "sale": Command(
        "ops", "sale_app", True, "Write-off and debt sale: portfolio, transfer file, sold accounts."
    ),
    "agency": Command(
        "ops",
        "agency_app",
        True,
        "Outside agencies: placements, placement files, results import, recall, commission.",
    ),
    "state": Command(
        "parquet_state",
        "app",
        True,
        "The Parquet state folder of the set-based end-of-day (overdue eod --engine duckdb|postgres|spark).",
    ),
    "bureau": Command("bureau", "app", True, "The credit-bureau file."),
}
"""The commands whose modules are imported when they run, by name."""
