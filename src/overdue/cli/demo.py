"""``overdue demo`` and ``overdue simulate``: the portfolio simulator, its database and its report.

``simulate`` runs the simulation and prints the summary only. ``demo`` also writes the portfolio into
``--db`` (refusing a database that has accounts unless ``--fresh``) and the HTML report into ``--out``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from overdue.cli.common import JsonOption, fail, print_json, state
from overdue.reports.metrics import full_report
from overdue.sim.result import SimulationResult
from overdue.sim.run import SimulationConfig
from overdue.sim.run import simulate as run_simulation

DEFAULT_SEED = 20260101

AccountsOption = Annotated[int, typer.Option("--accounts", min=1, help="Number of synthetic accounts.")]
MonthsOption = Annotated[int, typer.Option("--months", min=1, max=60, help="Calendar months to simulate.")]
SeedOption = Annotated[
    int, typer.Option("--seed", help="Random seed: the same seed gives the same portfolio.")
]
WorkersOption = Annotated[int, typer.Option("--workers", min=1, help="Worker processes for the simulation.")]
StrategyOption = Annotated[
    Path | None, typer.Option("--strategy", help="Collection strategy file (default: the shipped huabei).")
]


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=quiet,
    )


def _strategy_text(path: Path | None) -> str | None:
    if path is None:
        return None
    from overdue.strategy import load_strategy

    load_strategy(path)  # validates, with every problem listed
    return path.read_text(encoding="utf-8")


def _run(config: SimulationConfig, bar: Progress) -> SimulationResult:
    task = bar.add_task("simulate", total=None)

    def progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return run_simulation(config, progress)


def simulate(
    accounts: AccountsOption = 10_000,
    months: MonthsOption = 12,
    seed: SeedOption = DEFAULT_SEED,
    workers: WorkersOption = 2,
    strategy_file: StrategyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Simulate a synthetic portfolio month by month and print its summary (writes nothing)."""
    config = SimulationConfig(
        accounts=accounts,
        months=months,
        seed=seed,
        workers=workers,
        strategy_text=_strategy_text(strategy_file),
    )
    with _progress(as_json) as bar:
        result = _run(config, bar)
    report = full_report(result)
    if as_json:
        print_json(report)
    else:
        from overdue.reports.text import print_summary

        print_summary(report)
        typer.echo(f"simulated in {result.seconds:.1f} s")


def demo(
    ctx: typer.Context,
    accounts: AccountsOption = 10_000,
    months: MonthsOption = 12,
    seed: SeedOption = DEFAULT_SEED,
    out: Annotated[Path, typer.Option("--out", help="Folder for the HTML report.")] = Path("overdue-report"),
    workers: WorkersOption = 2,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Empty the database first if it already has accounts.")
    ] = False,
    strategy_file: StrategyOption = None,
    as_json: JsonOption = False,
) -> None:
    """The main job: simulate a portfolio, store it in --db, print the summary and write the HTML report."""
    from overdue.reports.html import write_report
    from overdue.sim.persist import persist, prepare

    started = time.perf_counter()
    engine = state(ctx).engine()
    prepare(engine, fresh=fresh)  # refuse a used database before spending minutes simulating
    config = SimulationConfig(
        accounts=accounts,
        months=months,
        seed=seed,
        workers=workers,
        keep_records=True,
        strategy_text=_strategy_text(strategy_file),
    )
    with _progress(as_json) as bar:
        result = _run(config, bar)
        tasks: dict[str, TaskID] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        counts = persist(engine, result, progress)
        report_task = bar.add_task("report", total=1)
        try:
            path = write_report(result, out)
        except OSError as error:
            fail(f"cannot write the report into {out}: {error}")
        bar.update(report_task, completed=1)
    report = full_report(result)
    if as_json:
        print_json(
            {
                "summary": report["summary"],
                "stored": counts,
                "report": str(path),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        return
    from overdue.reports.text import print_summary

    print_summary(report, Console())
    typer.echo(
        f"stored {counts['accounts']} accounts, {counts['transactions']} ledger transactions, "
        f"{counts['actions']} actions in {engine.url.render_as_string(hide_password=True)}"
    )
    typer.echo(f"report: {path}  ({time.perf_counter() - started:.1f} s)")
