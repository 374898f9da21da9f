"""``overdue audit verify`` walks the hash-chained audit log and reports the first broken link;
``overdue audit list`` shows its newest rows."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from overdue.cli.common import JsonOption, print_json, state
from overdue.lazy import lazy_module

if TYPE_CHECKING:
    from overdue.store import audit_trail
else:
    audit_trail = lazy_module("overdue.store.audit_trail")

app = typer.Typer(
    help="The audit log: every change, and every read of personal data through the API.", no_args_is_help=True
)

EXIT_BROKEN = 1
"""Exit status when the chain is broken."""


@app.command("verify")
def verify(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Check every row's hash and link; exit 1 at the first broken one."""
    engine = state(ctx).migrated_engine()
    with engine.connect() as conn:
        report = audit_trail.verify(conn)
    if as_json:
        print_json(report.as_json())
    elif report.ok:
        typer.echo(f"audit log OK: {report.count} rows, head {report.head}")
    else:
        typer.echo(f"audit log BROKEN at row {report.broken_at}: {report.reason}")
        typer.echo(f"{report.count} rows before it hold (last good hash {report.head})")
    if not report.ok:
        raise typer.Exit(EXIT_BROKEN)


@app.command("list")
def list_rows(
    ctx: typer.Context,
    last: Annotated[int, typer.Option("--last", min=1, help="How many of the newest rows.")] = 20,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Only this actor's rows (cli:NAME, a user).")
    ] = None,
    entity: Annotated[
        str | None, typer.Option("--entity", help="Only rows about this entity (account, …).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The newest rows, oldest first: when, who, what, and the detail."""
    engine = state(ctx).migrated_engine()
    with engine.connect() as conn:
        rows = audit_trail.newest(conn, last, actor=actor, entity=entity)
    if as_json:
        print_json({"rows": rows})
        return
    for r in rows:
        detail = json.dumps(r["detail"], ensure_ascii=False, separators=(",", ":"))
        who = f"{r['actor']} ({r['role']})"
        typer.echo(f"{r['seq']:>7}  {r['at']}  {who}  {r['action']} {r['entity']} {r['record']}  {detail}")
