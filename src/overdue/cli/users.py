"""``overdue user add``: add an API user with a role and print their token, once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from overdue.cli.common import JsonOption, print_json, state
from overdue.lazy import lazy_module
from overdue.store.roles import ROLES

if TYPE_CHECKING:
    from overdue.api import users
else:
    users = lazy_module("overdue.api.users")

app = typer.Typer(help="API users and their tokens.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name (unique).")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")],
    agency: Annotated[
        str | None, typer.Option("--agency", help="For the agency role: its agency id.")
    ] = None,
    borrower: Annotated[
        str | None, typer.Option("--borrower", help="For the borrower role: the borrower id.")
    ] = None,
    password: Annotated[
        bool, typer.Option("--password", help="Also set a password (asked for, hidden) to log in with.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Add a user and print their API token. The token is shown only this once: keep it."""
    secret = typer.prompt("password", hide_input=True, confirmation_prompt=True) if password else None
    engine = state(ctx).migrated_engine()
    new = users.add_user(engine, name, role, password=secret, agency=agency, borrower_id=borrower)
    if as_json:
        print_json({"user": new.principal.name, "role": new.principal.role, "token": new.token})
    else:
        typer.echo(f"user {new.principal.name} ({new.principal.role}) added")
        typer.echo(f"token (shown once, keep it): {new.token}")
