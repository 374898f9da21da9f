"""``overdue compliance``: the audit that proves, over a period, that no contact broke the rulebook in force;
holds that stop contact (cease requests, sales, litigation); the agency whitelist and its reviews."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from overdue.cli.common import JsonOption, print_json, state
from overdue.domain.calendar import parse_date
from overdue.lazy import lazy_module

if TYPE_CHECKING:
    from overdue.services import collections as collections_service
else:
    collections_service = lazy_module("overdue.services.collections")

app = typer.Typer(
    help="Compliance: audit the contact log; holds that stop contact; the agency whitelist.",
    no_args_is_help=True,
)
agency_app = typer.Typer(help="The whitelist of outside collection agencies and their yearly reviews.")
app.add_typer(agency_app, name="agency")

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
    engine = state(ctx).migrated_engine()
    report = collections_service.audit_contacts(
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


@app.command("hold")
def hold(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(metavar="ACCOUNT")],
    kind: Annotated[str, typer.Argument(metavar="KIND", help="cease (US), sold or litigation.")],
    on: Annotated[str, typer.Option("--on", metavar="YYYY-MM-DD", help="The account's business date.")],
    end: Annotated[bool, typer.Option("--end", help="End the hold instead of starting it.")] = False,
    note: Annotated[str | None, typer.Option("--note", help="Why (kept with the hold).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Start (or --end) a hold that stops collection contact on the account."""
    engine = state(ctx).migrated_engine()
    result = collections_service.set_hold(
        engine, account_id, kind, parse_date(on, field="--on"), start=not end, note=note
    )
    if as_json:
        print_json(result)
    else:
        changed = "" if result["changed"] else " (no change: it already was)"
        typer.echo(f"{account_id}: {kind} hold {result['status']}{changed}")


@agency_app.command("add")
def agency_add(
    ctx: typer.Context,
    agency_id: Annotated[str, typer.Argument(metavar="ID")],
    name: Annotated[str, typer.Option("--name", help="The agency's registered name.")],
    as_json: JsonOption = False,
) -> None:
    """Register an agency (it may contact debtors only once a review covers the day)."""
    engine = state(ctx).migrated_engine()
    result = collections_service.add_agency(engine, agency_id, name, datetime.now(UTC))
    if as_json:
        print_json(result)
    else:
        typer.echo(f"agency {agency_id}: {'added' if result['added'] else 'already registered'}")


@agency_app.command("review")
def agency_review(
    ctx: typer.Context,
    agency_id: Annotated[str, typer.Argument(metavar="ID")],
    reviewed_on: Annotated[str, typer.Option("--reviewed-on", metavar="YYYY-MM-DD")],
    valid_until: Annotated[str, typer.Option("--valid-until", metavar="YYYY-MM-DD")],
    reviewer: Annotated[str, typer.Option("--reviewer", help="Who reviewed it.")],
    as_json: JsonOption = False,
) -> None:
    """Record a whitelist review (at most a year long)."""
    engine = state(ctx).migrated_engine()
    result = collections_service.review_agency(
        engine,
        agency_id,
        parse_date(reviewed_on, field="--reviewed-on"),
        parse_date(valid_until, field="--valid-until"),
        reviewer,
    )
    if as_json:
        print_json(result)
    else:
        typer.echo(
            f"agency {agency_id}: cleared from {result['reviewed_on']} through {result['valid_until']}"
        )


@agency_app.command("list")
def agency_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every registered agency with its latest review."""
    engine = state(ctx).migrated_engine()
    rows = collections_service.list_agencies(engine)
    if as_json:
        print_json({"agencies": rows})
        return
    for r in rows:
        cleared = f"cleared {r['reviewed_on']} … {r['valid_until']}" if r["valid_until"] else "never reviewed"
        typer.echo(f"{r['agency']}: {r['name']} ({cleared})")
