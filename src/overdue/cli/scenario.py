"""``overdue scenario run FILE.yaml [--json]``: run a worked example and show what happened."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from overdue.cli.common import JsonOption, print_json, state
from overdue.lazy import lazy_module

if TYPE_CHECKING:
    from overdue.services import scenario as scenarios
else:
    scenarios = lazy_module("overdue.services.scenario")

app = typer.Typer(help="Worked examples: scenario files (DESIGN §3).", no_args_is_help=True)

EXIT_EXPECTATION_FAILED = 1


@app.command("run")
def run(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    as_json: JsonOption = False,
    use_db: Annotated[
        bool, typer.Option("--use-db", help="Run in the --db database instead of a private in-memory one.")
    ] = False,
) -> None:
    """Run every day's end-of-day from the account's opening to its last event; print events and snapshots.

    Exits 1 when an `expect` or `expect_error` in the file does not hold, 2 when the file is invalid.
    """
    scenario = scenarios.parse(file)
    engine = None
    if use_db:
        engine = state(ctx).migrated_engine()
    result = scenarios.run(scenario, engine)
    if as_json:
        print_json(result.to_json())
    else:
        _print_human(scenario, result)
    if result.mismatches:
        raise typer.Exit(EXIT_EXPECTATION_FAILED)


def _print_human(scenario: scenarios.Scenario, result: scenarios.ScenarioResult) -> None:
    console = Console()
    console.print(f"[bold]{scenario.title or scenario.path}[/bold]  (account {scenario.account_id})")
    events = Table(title="Events", show_lines=False)
    for column in ("line", "date", "event", "result"):
        events.add_column(column)
    for e in result.events:
        if e["event"] == "snapshot":
            continue
        outcome = "ok" if e["ok"] else f"[red]refused[/red] ({e['code']}): {e['error']}"
        events.add_row(str(e["line"]), e["date"], e["event"], outcome)
    console.print(events)
    shots = Table(title="Snapshots (after the date's end-of-day)")
    for column in (
        "date",
        "status",
        "DPD",
        "bucket",
        "principal",
        "overdue int.",
        "total due",
        "available",
        "bureau",
    ):
        shots.add_column(column, justify="right")
    for s in result.snapshots:
        b = s["balances"]
        shots.add_row(
            s["date"],
            s["status"],
            str(s["dpd"]),
            s["bucket"],
            b["principal"],
            b["overdue_interest"],
            b["total_due"],
            s["available_credit"],
            s["bureau"]["status_grid"],
        )
    console.print(shots)
    if result.checks:
        if result.mismatches:
            console.print(f"[red]{len(result.mismatches)} of {result.checks} expectations failed:[/red]")
            for m in result.mismatches:
                console.print(
                    f"  line {m['line']}: {m['path']}: expected {m['expected']!r}, got {m['actual']!r}"
                )
        else:
            console.print(f"[green]all {result.checks} expectations hold[/green]")
