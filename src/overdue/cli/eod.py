"""``overdue eod --date YYYY-MM-DD``: the end-of-day run (idempotent; catches up missed dates)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from overdue.cli.common import JsonOption, print_json, state
from overdue.domain.calendar import parse_date
from overdue.engine.reference import Collection, run_eod
from overdue.store.db import upgrade
from overdue.strategy import default_strategy, load_strategy


def eod(
    ctx: typer.Context,
    on: Annotated[
        str, typer.Option("--date", metavar="YYYY-MM-DD", help="Run up to and including this date.")
    ],
    strategy_file: Annotated[
        Path | None,
        typer.Option("--strategy", help="Collection strategy file (default: the shipped huabei)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run the end-of-day (accrue → age → bill → decide → act) for every account, catching up missed dates."""
    through: date = parse_date(on, field="--date")
    engine = state(ctx).engine()
    upgrade(engine)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        disable=as_json,
    ) as bar:
        task = bar.add_task("end-of-day", total=None)

        def progress(day: date, done: int, total: int) -> None:
            bar.update(task, description=f"end-of-day {day.isoformat()}", completed=done, total=total)

        collection = Collection(load_strategy(strategy_file) if strategy_file else default_strategy())
        summary = run_eod(engine, through, progress, collection)
    if as_json:
        print_json(summary.to_json())
    elif not summary.dates:
        typer.echo(f"nothing to do: every date up to {through.isoformat()} is already closed")
    else:
        typer.echo(
            f"closed {len(summary.dates)} date(s) "
            f"{summary.dates[0].isoformat()} … {summary.dates[-1].isoformat()}: "
            f"{summary.accounts_run} account-days, {summary.transactions} ledger transactions"
        )
        if summary.actions:
            typer.echo("actions: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.actions.items())))
