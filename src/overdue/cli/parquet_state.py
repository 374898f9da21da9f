"""``overdue state export|load|list|show``: the Parquet state folder of the set-based end-of-day."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from overdue.cli.common import JsonOption, print_json, progress_bar, state
from overdue.domain.calendar import parse_date

app = typer.Typer(
    help="The Parquet state folder of the set-based end-of-day (overdue eod --engine duckdb|postgres|spark).",
    no_args_is_help=True,
)

StateDir = Annotated[Path, typer.Argument(help="The state folder.")]


@app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="The state folder to write the snapshot into.")],
    as_json: JsonOption = False,
) -> None:
    """Write the store's accounts as the state snapshot of their last closed date.

    With the collection records and relief arrangements, active ones too (the nightly job reviews them)."""
    from overdue.setbased import nightly, snapshots  # imported here: the set-based engines load slowly

    engine = state(ctx).migrated_engine()
    with progress_bar(as_json) as bar:
        task = bar.add_task("reading accounts", total=None)
        on = nightly.export_store(
            engine, out, lambda done, total: bar.update(task, completed=done, total=total)
        )
    rows = snapshots.read_manifest(out, on)["rows"]
    if as_json:
        print_json({"state": str(out), "business_date": on.isoformat(), "rows": rows})
    else:
        typer.echo(f"wrote the state of {on.isoformat()} to {out}: {rows['accounts']} accounts")


@app.command("load")
def load(
    ctx: typer.Context,
    root: StateDir,
    through: Annotated[
        str | None,
        typer.Option("--through", metavar="YYYY-MM-DD", help="The last date to load (default: the newest)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write the days the nightly job ran over the folder into the store it was exported from.

    Each date after the store's last closed date, in one transaction, as `overdue eod --store` writes a date:
    accounts, statements, ledger, limit changes, behaviour scores, and the collection actions, outbox,
    work and records when the folder ran collections. A store changed since the export is refused."""
    from overdue.setbased import folder_load  # imported here: the set-based engines load slowly

    last = None if through is None else parse_date(through, field="--through")
    engine = state(ctx).migrated_engine()
    with progress_bar(as_json) as bar:
        task = bar.add_task("checking the store against the folder", total=None)

        def progress(day: date, done: int, total: int) -> None:
            bar.update(task, description=f"loaded {day.isoformat()}", completed=done, total=total)

        summary = folder_load.load_days(engine, root, last, progress)
    if as_json:
        print_json({"state": str(root), **summary.as_json()})
        return
    if not summary.dates:
        typer.echo(f"nothing to load: the store is at {summary.started_from}, as far as {root} goes")
        return
    typer.echo(
        f"loaded {len(summary.dates)} date(s) into the store, {summary.dates[0].isoformat()} to "
        f"{summary.dates[-1].isoformat()}: {summary.transactions} ledger transactions, "
        f"{sum(summary.actions.values())} collection actions, {summary.limit_changes} limit changes"
    )


@app.command("list")
def list_states(root: StateDir, as_json: JsonOption = False) -> None:
    """The business dates with a state snapshot, and their row counts."""
    from overdue.setbased import snapshots  # imported here: the set-based engines load slowly

    found = [
        {"business_date": d.isoformat(), **snapshots.read_manifest(root, d)["rows"]}
        for d in snapshots.state_dates(root)
    ]
    if as_json:
        print_json(found)
        return
    if not found:
        typer.echo(f"no state snapshot in {root}")
    for row in found:
        typer.echo(f"{row['business_date']}: {row['accounts']} accounts, {row['statements']} statements")


@app.command("show")
def show(
    root: StateDir,
    on: Annotated[str, typer.Option("--date", metavar="YYYY-MM-DD", help="The business date.")],
    account: Annotated[str | None, typer.Option("--account", help="One account's rows.")] = None,
    as_json: JsonOption = False,
) -> None:
    """One snapshot: its counts by status and bucket, or one account's rows."""
    from overdue.setbased import snapshots  # imported here: the set-based engines load slowly

    day: date = parse_date(on, field="--date")
    summary = snapshots.describe(root, day, account)
    if as_json:
        print_json(summary)
        return
    for key, value in summary.items():
        typer.echo(f"{key}: {value}")
