"""``overdue demo`` and ``overdue simulate``: the portfolio simulator, its database and its report.

``simulate`` runs the simulation and prints the summary only. ``demo`` also writes the portfolio — accounts,
ledger, actions, the contact log and month ends — into ``--db`` (refusing a database that has accounts
unless ``--fresh``) while it simulates, and the HTML report into ``--out`` (:mod:`overdue.sim.demo`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from overdue.cli.common import JsonOption, fail, print_json, state
from overdue.lazy import lazy_module
from overdue.sim.defaults import COMPARISON_ACCOUNTS as CALL_COMPARISON_ACCOUNTS
from overdue.sim.defaults import DEFAULT_FRAUD_SHARE, ENGINES

if TYPE_CHECKING:
    from overdue.reports import metrics as report_metrics
    from overdue.sim import contacts as sim_contacts
    from overdue.sim import model as sim_model
    from overdue.sim import run as sim_run
    from overdue.sim.result import SimulationResult
else:
    report_metrics = lazy_module("overdue.reports.metrics")
    sim_contacts = lazy_module("overdue.sim.contacts")
    sim_model = lazy_module("overdue.sim.model")
    sim_run = lazy_module("overdue.sim.run")

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
EnglishShareOption = Annotated[
    float,
    typer.Option(
        "--english-share",
        min=0.0,
        max=1.0,
        help="Share (0–1) of borrowers who read English (their accounts stored with language en).",
    ),
]
FraudShareOption = Annotated[
    float,
    typer.Option(
        "--fraud-share",
        min=0.0,
        max=1.0,
        help="Share (0–1) of fraudulent borrowers (first-payment fraud: spend the line, never pay).",
    ),
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


def _run(config: sim_run.SimulationConfig, bar: Progress) -> SimulationResult:
    task = bar.add_task("simulate", total=None)

    def progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return sim_run.simulate(config, progress)


def simulate(
    accounts: AccountsOption = 10_000,
    months: MonthsOption = 12,
    seed: SeedOption = DEFAULT_SEED,
    workers: WorkersOption = 2,
    strategy_file: StrategyOption = None,
    english_share: EnglishShareOption = 0.0,
    fraud_share: FraudShareOption = DEFAULT_FRAUD_SHARE,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="auto (the array runner where it can), arrays or reference: the same result.",
        ),
    ] = "auto",
    as_json: JsonOption = False,
) -> None:
    """Simulate a synthetic portfolio month by month and print its summary (writes nothing)."""
    if engine not in ENGINES:
        raise typer.BadParameter(f"one of {', '.join(ENGINES)}", param_hint="--engine")
    config = sim_run.SimulationConfig(
        accounts=accounts,
        months=months,
        seed=seed,
        workers=workers,
        engine=engine,
        strategy_text=_strategy_text(strategy_file),
        english_share=english_share,
        model=sim_model.BehaviourModel(fraud_share=fraud_share),
    )
    with _progress(as_json) as bar:
        result = _run(config, bar)
    report = report_metrics.full_report(result)
    contacts = sim_contacts.contact_summary(result.tallies)
    if as_json:
        print_json({**report, "contacts": contacts})
    else:
        from overdue.reports.text import print_summary

        console = Console()
        print_summary(report, console)
        print_contacts(contacts, console)
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
    english_share: EnglishShareOption = 0.0,
    compare_calls: Annotated[
        int,
        typer.Option(
            "--compare-calls",
            min=0,
            help="Accounts in the call-priority comparison: a portfolio of its own (whatever --accounts) "
            "drawn with the same seed and fraud share, simulated over at most 4 months with a daily "
            "capacity of human calls, once balance-first and once by expected recovery (collection "
            "score × balance); 0 leaves it out.",
        ),
    ] = CALL_COMPARISON_ACCOUNTS,
    fraud_share: FraudShareOption = DEFAULT_FRAUD_SHARE,
    as_json: JsonOption = False,
) -> None:
    """The main job: simulate a portfolio, store it in --db, print the summary and write the HTML report."""
    from overdue.sim.demo import run_demo

    engine = state(ctx).engine()
    config = sim_run.SimulationConfig(
        accounts=accounts,
        months=months,
        seed=seed,
        workers=workers,
        keep_records=True,
        strategy_text=_strategy_text(strategy_file),
        english_share=english_share,
        model=sim_model.BehaviourModel(fraud_share=fraud_share),
    )
    with _progress(as_json) as bar:
        simulated = bar.add_task("simulate", total=None)
        stored = bar.add_task("store", total=None)
        compared = bar.add_task("call orders", total=None, visible=compare_calls > 0)

        def on_simulated(done: int, total: int) -> None:
            bar.update(simulated, completed=done, total=total)

        def on_stored(done: int, total: int) -> None:
            bar.update(stored, completed=done, total=total)

        def on_compared(done: int, total: int) -> None:
            bar.update(compared, completed=done, total=total)

        try:
            run = run_demo(
                engine,
                config,
                out,
                fresh=fresh,
                simulated=on_simulated,
                stored=on_stored,
                compare_calls=compare_calls,
                compared=on_compared,
            )
        except OSError as error:
            fail(f"cannot write the report into {out}: {error}")
    report = report_metrics.full_report(run.result)
    if run.call_priority is not None:
        report["call_priority"] = run.call_priority.report()
    contacts = sim_contacts.contact_summary(run.result.tallies)
    if as_json:
        print_json(
            {
                "summary": report["summary"],
                "call_priority": report.get("call_priority"),
                "contacts": contacts,
                "stored": run.stored,
                "report": str(run.report),
                "seconds": round(run.seconds["total"], 1),
            }
        )
        return
    from overdue.reports.text import print_summary

    console = Console()
    print_summary(report, console)
    print_contacts(contacts, console)
    typer.echo(
        f"stored {run.stored['accounts']} accounts, {run.stored['transactions']} ledger transactions, "
        f"{run.stored['actions']} actions, {run.stored['contacts']} contacts in "
        f"{engine.url.render_as_string(hide_password=True)}"
    )
    typer.echo(f"report: {run.report}  ({run.seconds['total']:.1f} s)")


def print_contacts(contacts: dict[str, Any], console: Console) -> None:
    """The contact log's table: contacts made by channel, refusals by rule."""
    table = Table(title="Contacts made / refused by rule 触达与合规拒绝")
    table.add_column("")
    table.add_column("channel or rule 渠道或规则")
    table.add_column("count 次数", justify="right")
    table.add_row("made 已触达", "all 全部", str(contacts["made"]))
    for channel, count in contacts["by_channel"].items():
        table.add_row("", channel, str(count))
    for title, key in (
        ("refused at contact time 触达时拒绝", "refused_at_contact"),
        ("refused when planned 计划时拒绝", "refused_when_planned"),
    ):
        rules = contacts[key]
        table.add_row(title, "none 无" if not rules else "", "" if rules else "0")
        for rule, count in rules.items():
            table.add_row("", rule, str(count))
    console.print(table)
