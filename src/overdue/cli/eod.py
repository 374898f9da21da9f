"""``overdue eod --date YYYY-MM-DD``: the end-of-day run (idempotent; catches up missed dates).

``--engine reference`` (the default) runs the whole day (accrue → age → bill → decide → comply → act) on the
operational store, account by account. ``--engine duckdb|postgres|spark --state DIR`` runs the set-based
accrue → age → bill → bureau month over a Parquet state folder (:mod:`overdue.setbased.nightly`), and with
``--strategy FILE`` decide → comply → act over its tables too (:mod:`overdue.setbased.collect`).
``--engine duckdb|postgres|spark --store`` runs the set-based accrue → age → bill → bureau month on the
operational store itself: read in bulk, run in the engine, each date written back in one transaction
(:mod:`overdue.setbased.store_run`, with the limit review and decide → comply → act, as ``--engine
reference`` does: ``--strategy FILE`` or the shipped huabei, the product's rulebook; what the set-based
collection half does not compile is refused before any date is written).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from overdue.cli.common import JsonOption, print_json, progress_bar, state
from overdue.domain.calendar import parse_date
from overdue.domain.errors import InvalidInput
from overdue.lazy import lazy_module
from overdue.strategy import default_strategy, load_strategy

if TYPE_CHECKING:
    from overdue.engine import reference
else:
    reference = lazy_module("overdue.engine.reference")

DayProgress = Callable[[date, int, int], None]
"""Called as ``progress(date, accounts_done, accounts_total)``."""


@contextmanager
def _days_bar(label: str, as_json: bool) -> Iterator[DayProgress]:
    """A progress bar on the terminal (none with ``--json``) showing the date being run and its accounts."""
    with progress_bar(as_json) as bar:
        task = bar.add_task(label, total=None)

        def progress(day: date, done: int, total: int) -> None:
            bar.update(task, description=f"end-of-day {day.isoformat()}", completed=done, total=total)

        yield progress


def eod(
    ctx: typer.Context,
    on: Annotated[
        str, typer.Option("--date", metavar="YYYY-MM-DD", help="Run up to and including this date.")
    ],
    strategy_file: Annotated[
        Path | None,
        typer.Option("--strategy", help="Collection strategy file (default: the shipped huabei)."),
    ] = None,
    engine_name: Annotated[
        str,
        typer.Option(
            "--engine",
            help="reference: the operational store, the whole day. duckdb, postgres or spark: the set-based "
            "day over the Parquet state in --state (postgres runs inside the --db database).",
        ),
    ] = "reference",
    state_dir: Annotated[
        Path | None, typer.Option("--state", help="Parquet state folder (set-based engines).")
    ] = None,
    on_store: Annotated[
        bool,
        typer.Option(
            "--store",
            help="Set-based engines: run on the --db store itself (read in bulk, results written back, "
            "collections included) instead of a Parquet state folder.",
        ),
    ] = False,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="YYYY-MM-DD",
            help="Set-based engines: run again from this date (default: resume).",
        ),
    ] = None,
    checkpoint_dir: Annotated[
        str | None,
        typer.Option(
            "--checkpoint-dir",
            help="--engine spark: checkpoint the tables reliably in this directory (HDFS, object store) "
            "instead of locally.",
        ),
    ] = None,
    steps: Annotated[
        bool,
        typer.Option(
            "--steps",
            help="Set-based engines: time each step of every day (the engine's statements, the review, "
            "the collection half's work, each write) and print them (in each day's steps with --json).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Run the end-of-day (accrue → age → bill → decide → act) for every account, catching up missed dates."""
    from overdue.setbased import nightly  # imported here: the set-based engines load slowly

    through: date = parse_date(on, field="--date")
    if engine_name != "reference" and engine_name not in nightly.ENGINES:
        raise InvalidInput(f"unknown engine {engine_name!r}; choose reference, {', '.join(nightly.ENGINES)}")
    if checkpoint_dir is not None and (engine_name != "spark" or on_store):
        raise InvalidInput("--checkpoint-dir goes with --engine spark --state DIR")
    if engine_name != "reference" and on_store:
        _set_based_on_store(ctx, engine_name, state_dir, through, start, strategy_file, as_json, steps)
        return
    if engine_name != "reference":
        _set_based(ctx, engine_name, state_dir, through, start, strategy_file, as_json, checkpoint_dir, steps)
        return
    if state_dir is not None or start is not None or on_store or steps:
        raise InvalidInput(
            "--state, --store, --from and --steps go with a set-based engine (--engine duckdb|postgres|spark)"
        )
    engine = state(ctx).migrated_engine()
    with _days_bar("end-of-day", as_json) as progress:
        collection = reference.Collection(
            load_strategy(strategy_file) if strategy_file else default_strategy()
        )
        summary = reference.run_eod(engine, through, progress, collection)
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


def _set_based(
    ctx: typer.Context,
    engine_name: str,
    state_dir: Path | None,
    through: date,
    start: str | None,
    strategy_file: Path | None,
    as_json: bool,
    checkpoint_dir: str | None = None,
    steps: bool = False,
) -> None:
    from overdue.setbased import nightly  # imported here: the set-based engines load slowly

    if state_dir is None:
        raise InvalidInput(
            f"--engine {engine_name} runs over a Parquet state folder: give it with --state DIR "
            "(or run on the --db store with --store)"
        )
    first = parse_date(start, field="--from") if start is not None else None
    backend = nightly.connect(engine_name, state(ctx).db_url, checkpoint_dir)
    with _days_bar(f"end-of-day ({engine_name})", as_json) as progress:
        summary = nightly.run_nightly(
            state_dir,
            through,
            backend,
            engine=engine_name,
            start=first,
            progress=progress,
            strategy=load_strategy(strategy_file) if strategy_file is not None else None,
            steps=steps,
        )
    if as_json:
        print_json(summary.to_json())
    elif not summary.days:
        typer.echo(f"nothing to do: the state in {state_dir} is already at {through.isoformat()}")
    else:
        out = summary.to_json()
        typer.echo(
            f"closed {len(summary.days)} date(s) {out['dates'][0]} … {out['dates'][-1]} on {engine_name} "
            f"from the snapshot of {out['started_from']}: {out['accounts_run']} account-days, "
            f"{out['postings']} postings; state and outputs in {state_dir}"
        )
        _echo_steps(out["days"])


def _set_based_on_store(
    ctx: typer.Context,
    engine_name: str,
    state_dir: Path | None,
    through: date,
    start: str | None,
    strategy_file: Path | None,
    as_json: bool,
    steps: bool = False,
) -> None:
    from overdue.setbased import nightly, store_run  # imported here: the set-based engines load slowly

    if state_dir is not None:
        raise InvalidInput("--store runs on the --db store; --state runs over a Parquet folder: give one")
    if start is not None:
        raise InvalidInput("--from goes with --state: the store's closed dates are not run again")
    strategy = load_strategy(strategy_file) if strategy_file is not None else default_strategy()
    engine = state(ctx).migrated_engine()
    backend = nightly.connect(engine_name, state(ctx).db_url)
    with _days_bar(f"end-of-day ({engine_name}, on the store)", as_json) as progress:
        summary = store_run.run_on_store(
            engine,
            through,
            backend,
            engine_name=engine_name,
            progress=progress,
            strategy=strategy,
            steps=steps,
        )
    if as_json:
        print_json(summary.to_json())
    elif not summary.dates:
        typer.echo(f"nothing to do: every date up to {through.isoformat()} is already closed")
    else:
        typer.echo(
            f"closed {len(summary.dates)} date(s) {summary.dates[0].isoformat()} … "
            f"{summary.dates[-1].isoformat()} on {engine_name}, on the store: {summary.accounts_run} "
            f"account-days, {summary.transactions} ledger transactions"
        )
        if summary.action_types:
            typer.echo("actions: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.action_types.items())))
        _echo_steps(summary.to_json()["days"])


def _echo_steps(days: list[dict[str, Any]]) -> None:
    """Each day's steps as a table (the days run with ``--steps``)."""
    from overdue.setbased.timing import steps_text

    for day in days:
        if "steps" in day:
            typer.echo(steps_text(f"steps of {day['date']}", {"day": day["steps"]}))
