"""Risk commands: train and validate the scorecards, explain an account's scores and limit review.

``overdue risk train [--model application|behaviour|collection|call-uplift] [--dataset D] [--accounts N]
[--out FILE]``,
``overdue risk validate --dataset german|sim`` and ``overdue risk explain ACCOUNT [--date D]``, each with
``--json``. Metrics are JSON numbers rounded to 4 places (they are not money); amounts are yuan strings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from overdue.cli.common import JsonOption, print_json, state
from overdue.domain.calendar import parse_date
from overdue.risk.reasons import reason_text

app = typer.Typer(
    help="Credit risk: scorecards, limit review, behaviour and collection scores.", no_args_is_help=True
)

DatasetOption = Annotated[
    str,
    typer.Option("--dataset", help="german (public data) or sim (simulated)."),
]


def _working(as_json: bool, message: str) -> Any:
    """A spinner on stderr while training (nothing in JSON mode)."""
    console = Console(stderr=True, quiet=as_json)
    return console.status(message)


@app.command("train")
def train(
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="application, behaviour, collection, or call-uplift (a randomised call experiment in the "
            "simulator: a few minutes).",
        ),
    ] = "application",
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset",
            help="application: german (public data, the default) or sim (simulated); collection: sim "
            "(the simulator's outcomes, the default: four to six minutes) or generator (the older seeded "
            "generator).",
        ),
    ] = None,
    accounts: Annotated[
        int | None,
        typer.Option(
            "--accounts", help="collection on sim: accounts in each training portfolio (default 20,000)."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Where to write (default: the shipped file).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Train a model and write its versioned JSON file."""
    from overdue.risk.modelfiles import train_to_file
    from overdue.risk.training import rounded

    with _working(as_json, f"training {model}…"):
        result = train_to_file(model, dataset, out, accounts)
    payload: dict[str, Any] = {
        "model": result.model,
        "dataset": result.dataset,
        "file": str(result.path),
        "metrics": rounded(result.metrics),
    }
    if as_json:
        print_json(payload)
        return
    typer.echo(f"wrote {result.path}")
    for key, value in payload["metrics"].items():
        typer.echo(f"  {key}: {value}")


def validation_report(dataset: str) -> dict[str, Any]:
    """Retrain on the fixed split and measure; also score the split with the shipped model file."""
    import numpy as np

    from overdue.risk.data import load_dataset
    from overdue.risk.modelfiles import application_file, shipped_scorecard
    from overdue.risk.training import rounded, train_application

    data = load_dataset(dataset)
    trained = train_application(data)
    report = rounded(trained.report)
    shipped = shipped_scorecard(dataset)
    shipped_scores = np.array([shipped.score(r).score for r in trained.data.x_test.to_dict("records")])
    same = bool(np.allclose(shipped_scores, trained.test_scores, rtol=0, atol=1e-6))
    from overdue.risk import metrics

    report["shipped_model"] = {
        "file": application_file(dataset),
        "trained_on": shipped.trained_on,
        "auc": round(metrics.auc(shipped_scores, trained.data.bad_test), 4),
        "same_scores_as_retrained": same,
    }
    return report


@app.command("validate")
def validate(dataset: DatasetOption = "german", as_json: JsonOption = False) -> None:
    """Train on 70 %, report AUC, KS and Gini on the held-out 30 % against a logistic-regression baseline."""
    with _working(as_json, f"validating on {dataset}…"):
        report = validation_report(dataset)
    if as_json:
        print_json(report)
        return
    table = Table(
        title=f"application scorecard on {dataset}: held-out {report['test_rows']} of {report['rows']}"
    )
    table.add_column("model")
    for key in ("AUC", "KS", "Gini"):
        table.add_column(key, justify="right")
    table.add_row("scorecard (optbinning)", *(f"{report[k]:.4f}" for k in ("auc", "ks", "gini")))
    table.add_row("baseline (logistic)", *(f"{report['baseline'][k]:.4f}" for k in ("auc", "ks", "gini")))
    console = Console()
    console.print(table)
    console.print(
        f"bad rate {report['bad_rate']:.4f} · PSI train→test {report['psi_train_test']:.4f} · "
        f"shipped model AUC {report['shipped_model']['auc']:.4f}"
    )


@app.command("explain")
def explain(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(help="Account id.")],
    on: Annotated[
        str | None, typer.Option("--date", metavar="YYYY-MM-DD", help="As of (default: last end-of-day).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """An account's behaviour and collection scores and its limit review decision, with reason codes."""
    from overdue.risk.accounts import explain_account

    engine = state(ctx).migrated_engine()
    with engine.connect() as conn:
        result = explain_account(conn, account_id, None if on is None else parse_date(on, field="--date"))
    if as_json:
        print_json(result)
        return
    table = Table(title=f"risk of account {account_id} on {result['as_of']}", show_header=False)
    table.add_column("what")
    table.add_column("value")
    table.add_column("reasons")
    for key in ("status", "credit_limit", "dpd", "bucket"):
        table.add_row(key, str(result[key]), "")
    behaviour = result["behaviour"]
    table.add_row(
        "behaviour score",
        f"{behaviour['score']} (P(30+ DPD, 6 m) {behaviour['probability_bad']})",
        _reasons(behaviour["reasons"]),
    )
    collection = result["collection"]
    if collection is None:
        table.add_row("collection score", "not delinquent", "")
    else:
        table.add_row(
            "collection score",
            f"P(pay in 30 days) {collection['propensity']}",
            _reasons(collection["reasons"]),
        )
    review = result["review"]
    table.add_row(
        "limit review",
        f"{review['action']}: {review['current_limit']} → {review['new_limit']} "
        f"from {review['effective_on']}",
        _reasons(review["reasons"]),
    )
    table.add_row("cycles", str(len(review["cycles"])), "")
    Console().print(table)


def _reasons(codes: list[str]) -> str:
    return "\n".join(f"{reason_text(c, 'zh')} / {reason_text(c)}" for c in codes)
