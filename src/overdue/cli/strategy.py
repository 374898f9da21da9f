"""``overdue strategy validate FILE`` and ``overdue strategy show [FILE]``: check and read strategy files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from overdue.cli.common import EXIT_BAD_INPUT, JsonOption, fail, print_json, state
from overdue.domain.calendar import parse_date
from overdue.lazy import lazy_module
from overdue.strategy import Strategy, StrategyError, default_strategy, load_strategy
from overdue.strategy.describe import outline, schedule_words

if TYPE_CHECKING:
    from overdue.compliance import lint
    from overdue.services import collections as collections_service
else:
    lint = lazy_module("overdue.compliance.lint")
    collections_service = lazy_module("overdue.services.collections")

app = typer.Typer(help="Collection strategies: validate, show, explain a decision.", no_args_is_help=True)

FileArgument = Annotated[Path, typer.Argument(help="Strategy file (YAML).")]


@app.command("validate")
def validate(
    file: FileArgument,
    rulebook: Annotated[
        str, typer.Option("--rulebook", help="Lint templates for this rulebook (cn, us).")
    ] = "cn",
    as_json: JsonOption = False,
) -> None:
    """Check a strategy file and lint its templates; print every problem, or a one-line summary.

    Exits 2 when the file has problems. Warnings (unused templates or parameters) are printed but pass.
    """
    try:
        strategy = load_strategy(file)
    except StrategyError as exc:
        if as_json:
            print_json({"ok": False, "problems": [p.as_dict() for p in exc.problems]})
            raise typer.Exit(EXIT_BAD_INPUT) from exc
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        count = len(exc.problems)
        fail(f"{file}: {count} {'problem' if count == 1 else 'problems'}")
    problems = lint.lint_strategy(strategy, rulebook)
    if problems:
        if as_json:
            print_json({"ok": False, "template_problems": [p.__dict__ for p in problems]})
            raise typer.Exit(EXIT_BAD_INPUT)
        for lint_problem in problems:
            typer.echo(str(lint_problem), err=True)
        fail(f"{file}: {len(problems)} template problem(s) under the {rulebook} rulebook")
    summary = _counts(strategy)
    if as_json:
        print_json({"ok": True, **summary, "warnings": [w.as_dict() for w in strategy.warnings]})
        return
    for warning in strategy.warnings:
        typer.echo(str(warning), err=True)
    stages, treatments, templates = summary["stages"], summary["treatments"], summary["templates"]
    typer.echo(f"ok: {stages} stages, {treatments} treatments, {templates} templates")


@app.command("show")
def show(
    file: Annotated[
        Path | None, typer.Argument(help="Strategy file (YAML); the shipped huabei strategy when left out.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show the stages of a strategy, with their segments and treatments, and its pauses and experiments."""
    try:
        strategy = default_strategy() if file is None else load_strategy(file)
    except StrategyError as exc:
        fail(
            str(exc).splitlines()[1].strip()
            if len(exc.problems) == 1
            else f"{file}: {len(exc.problems)} problems"
        )
    if as_json:
        print_json(outline(strategy))
        return
    _print_human(strategy)


def _counts(strategy: Strategy) -> dict[str, int]:
    return {
        "stages": len(strategy.stages),
        "treatments": len(strategy.treatments),
        "templates": len(strategy.templates),
    }


def _print_human(strategy: Strategy) -> None:
    console = Console()
    console.print(f"[bold]{strategy.name}[/bold]  {strategy.description}", highlight=False)
    params = strategy.parameters
    for stage in strategy.stages:
        title = f"{stage.name}: {stage.when.describe(params)}"
        if stage.next:
            title += f"  (broken promise -> {stage.next})"
        table = Table(title=title, title_justify="left")
        for column in ("treatment", "type", "priority", "schedule", "when", "template"):
            table.add_column(column)
        for t in stage.treatments:
            when = t.when.describe(params) if t.when.tests or t.when.any_of else ""
            table.add_row(t.id, t.type, str(t.priority), schedule_words(t, params), when, t.template or "")
        console.print(table)
    for pause in strategy.pauses:
        exempt = f" (except in {', '.join(sorted(pause.exempt_stages))})" if pause.exempt_stages else ""
        console.print(
            f"pause [bold]{pause.name}[/bold]: {pause.when.describe(params)}{exempt}", highlight=False
        )
    for experiment in strategy.experiments:
        arms = ", ".join(
            f"{v.name} {v.share}%" + (f" {dict(v.parameters)}" if v.parameters else "")
            for v in experiment.variants
        )
        console.print(f"experiment [bold]{experiment.name}[/bold]: {arms}", highlight=False)


@app.command("explain")
def explain(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(help="Account id.")],
    on: Annotated[
        str, typer.Option("--date", metavar="YYYY-MM-DD", help="Business date (its end-of-day ran).")
    ],
    strategy_file: Annotated[
        Path | None, typer.Option("--strategy", help="Strategy file (default: the shipped huabei strategy).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Which stage matched, which treatments fired, and why the others did not."""
    engine = state(ctx).migrated_engine()
    strategy = load_strategy(strategy_file) if strategy_file else default_strategy()
    result = collections_service.explain(engine, account_id, parse_date(on, field="--date"), strategy)
    if as_json:
        print_json(result)
        return
    typer.echo(f"account {account_id} on {result['date']}")
    if "note" in result:
        typer.echo(result["note"])
    else:
        facts = ", ".join(f"{k} {v}" for k, v in result["facts"].items())
        typer.echo(f"facts: {facts}")
        typer.echo(
            f"stage: {result['stage']}"
            + (f" (paused by {result['paused_by']})" if result["paused_by"] else "")
        )
        for line in result["trace"]:
            typer.echo(f"  {line}")
    for action in result["recorded_actions"]:
        rule = f" by {action['rule']}" if action["rule"] else ""
        typer.echo(f"recorded: {action['type']} ({action['treatment']}) {action['status']}{rule}")
