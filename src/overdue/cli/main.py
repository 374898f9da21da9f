"""The ``overdue`` typer application and its top-level commands.

Adding a command module: write ``src/overdue/cli/NAME.py`` that imports what it needs from
:mod:`overdue.cli.common` (never from this module, so imports stay one-way), then register it below in one
line; see "Command modules" at the bottom of this file.
"""

from typing import Annotated, Any

import typer
from sqlalchemy.exc import OperationalError
from typer.core import TyperGroup

from overdue import __version__
from overdue.cli.common import CliState, JsonOption, fail, operator_name, print_json, state
from overdue.errors import OverdueError
from overdue.store import audit_trail
from overdue.store.db import default_url, upgrade


class _OverdueGroup(TyperGroup):
    """The root command group: turns expected errors from any command into one line and exit status 2.

    Wrapping the root group's ``invoke`` covers every sub-command and sub-group, whichever module defines it.
    """

    def invoke(self, ctx: Any) -> Any:  # ctx: typer's click Context (its class is private to typer)
        try:
            return super().invoke(ctx)
        except OverdueError as error:
            fail(str(error))
        except OperationalError as error:
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
    ctx.with_resource(audit_trail.acting_as(audit_trail.Actor(f"cli:{operator_name(operator)}", "operator")))


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
# One line each. A group of sub-commands (`overdue scenario run ...`) is its own typer app:
#     from overdue.cli import scenario
#     app.add_typer(scenario.app, name="scenario")
# A single top-level command (`overdue eod --date ...`) is a plain function:
#     from overdue.cli import eod
#     app.command("eod")(eod.eod)
app.add_typer(db_app, name="db")

from overdue.cli import (  # noqa: E402  (command modules register below)
    accounts,
    audit_log,
    compliance,
    demo,
    eod,
    ops,
    parquet_state,
    relief,
    risk,
    scenario,
    serve,
    strategy,
    users,
)

app.add_typer(scenario.app, name="scenario")
app.command("eod")(eod.eod)
app.add_typer(accounts.app, name="account")
app.add_typer(accounts.installments_app, name="installments")
app.command("purchase")(accounts.purchase)
app.command("repay")(accounts.repay)
app.add_typer(strategy.app, name="strategy")
app.add_typer(compliance.app, name="compliance")
app.command("demo")(demo.demo)
app.command("simulate")(demo.simulate)
app.add_typer(risk.app, name="risk")
app.add_typer(relief.app, name="relief")
app.command("serve")(serve.serve)
app.add_typer(users.app, name="user")
app.add_typer(audit_log.app, name="audit")
app.add_typer(ops.cases_app, name="cases")
app.add_typer(ops.queue_app, name="queue")
app.add_typer(ops.field_app, name="field")
app.add_typer(ops.legal_app, name="legal")
app.add_typer(ops.sale_app, name="sale")
app.add_typer(ops.agency_app, name="agency")
app.add_typer(parquet_state.app, name="state")
from overdue.cli import bureau  # noqa: E402

app.add_typer(bureau.app, name="bureau")
