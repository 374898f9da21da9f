"""``overdue audit verify``: walk the hash-chained audit log and report the first broken link."""

from __future__ import annotations

import typer

from overdue.api import audit
from overdue.cli.common import JsonOption, print_json, state
from overdue.store.db import upgrade

app = typer.Typer(help="The audit log of API reads and changes.", no_args_is_help=True)

EXIT_BROKEN = 1
"""Exit status when the chain is broken."""


@app.command("verify")
def verify(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Check every row's hash and link; exit 1 at the first broken one."""
    engine = state(ctx).engine()
    upgrade(engine)
    with engine.connect() as conn:
        report = audit.verify(conn)
    if as_json:
        print_json(report.as_json())
    elif report.ok:
        typer.echo(f"audit log OK: {report.count} rows, head {report.head}")
    else:
        typer.echo(f"audit log BROKEN at row {report.broken_at}: {report.reason}")
        typer.echo(f"{report.count} rows before it hold (last good hash {report.head})")
    if not report.ok:
        raise typer.Exit(EXIT_BROKEN)
