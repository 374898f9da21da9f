"""``overdue compliance audit``: prove, over a period, that no contact broke the rulebook in force."""

from __future__ import annotations

from typing import Annotated

import typer

from overdue.cli.common import JsonOption, print_json, state
from overdue.domain.calendar import parse_date
from overdue.services.collections import audit_contacts
from overdue.store.db import upgrade

app = typer.Typer(help="Compliance: audit the contact log against the rulebooks.", no_args_is_help=True)

EXIT_VIOLATIONS = 1


@app.command("audit")
def audit(
    ctx: typer.Context,
    start: Annotated[
        str | None, typer.Option("--from", metavar="YYYY-MM-DD", help="First business date.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", metavar="YYYY-MM-DD", help="Last business date.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Replay every contact of the period against its account's rulebook; list each violation.

    Exits 1 when there is a violation.
    """
    engine = state(ctx).engine()
    upgrade(engine)
    report = audit_contacts(
        engine,
        None if start is None else parse_date(start, field="--from"),
        None if end is None else parse_date(end, field="--to"),
    )
    if as_json:
        print_json(report.to_json())
    else:
        typer.echo(f"contacts checked: {report.contacts_checked}; violations: {len(report.violations)}")
        for rule, count in sorted(report.by_rule.items()):
            typer.echo(f"  {rule}: {count}")
        for v in report.violations:
            c = v["contact"]
            typer.echo(
                f"  {v['rule']}: {c['account_id']} {c['local_time']} {c['channel']} {c['party']}: "
                f"{v['reason']}"
            )
        if report.rules_not_replayed:
            typer.echo("not replayable from the contact log: " + ", ".join(sorted(report.rules_not_replayed)))
    if report.violations:
        raise typer.Exit(EXIT_VIOLATIONS)
