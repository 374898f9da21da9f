"""Account commands: open a line, buy, repay, bill installments, show an account.

``overdue account open|show``, ``overdue purchase`` (``--installments N`` buys in N purchase installments,
``--quote`` only quotes them), ``overdue repay`` and ``overdue installments quote|accept``. Amounts are yuan
strings (``"100.00"``); a left-out ``--date`` means the account's next open business date (the day after its
last end-of-day).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from overdue.cli.common import JsonOption, fail, print_json, state
from overdue.domain.calendar import parse_date
from overdue.domain.money import format_yuan, parse_positive_yuan
from overdue.lazy import lazy_module

if TYPE_CHECKING:
    from overdue.services import accounts
else:
    accounts = lazy_module("overdue.services.accounts")

app = typer.Typer(help="Open and inspect credit-line accounts.", no_args_is_help=True)
installments_app = typer.Typer(help="Bill installments: quote and accept.", no_args_is_help=True)

DateOption = Annotated[
    str | None, typer.Option("--date", metavar="YYYY-MM-DD", help="Business date (default: next open date).")
]
KeyOption = Annotated[
    str | None, typer.Option("--idempotency-key", help="Retrying with the same key never posts twice.")
]


def _date(value: str | None) -> date | None:
    return None if value is None else parse_date(value, field="--date")


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    for key, value in result.items():
        if not isinstance(value, (list, dict)):
            typer.echo(f"{key}: {value}")


@app.command("open")
def open_account(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(help="Account id.")],
    limit: Annotated[str, typer.Option("--limit", help="Credit limit in yuan, e.g. 5000.00.")],
    opened: Annotated[str, typer.Option("--opened", metavar="YYYY-MM-DD", help="Opening business date.")],
    product: Annotated[str, typer.Option("--product", help="Product preset.")] = "huabei",
    timezone: Annotated[str, typer.Option("--timezone", help="Borrower's IANA time zone.")] = "Asia/Shanghai",
    language: Annotated[
        str, typer.Option("--language", help="Borrower's language for every notice: zh-CN or en.")
    ] = "zh-CN",
    as_json: JsonOption = False,
) -> None:
    """Open a credit line."""
    opened_on = parse_date(opened, field="--opened")
    credit_limit = parse_positive_yuan(limit, field="--limit")
    new = accounts.open_account(
        state(ctx).migrated_engine(),
        account_id,
        opened_on,
        credit_limit,
        product=product,
        timezone=timezone,
        language=language,
    )
    _print(
        {
            "account_id": new.id,
            "opened": opened_on.isoformat(),
            "credit_limit": format_yuan(new.credit_limit),
            "language": new.language,
        },
        as_json,
    )


@app.command("show")
def show(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(help="Account id.")],
    as_json: JsonOption = False,
) -> None:
    """The account as of its last end-of-day: balances, statement, DPD, bucket, bureau grid."""
    snap, language = accounts.account_view(state(ctx).migrated_engine(), account_id)
    if as_json:
        print_json({**snap, "language": language})
        return
    table = Table(title=f"account {account_id} on {snap['date']}", show_header=False)
    for key in ("status", "credit_limit", "available_credit", "dpd", "bucket"):
        table.add_row(key, str(snap[key]))
    table.add_row("language", language)
    for key, value in snap["balances"].items():
        table.add_row(key, value)
    if snap["statement"]:
        s = snap["statement"]
        table.add_row("statement", f"{s['date']} due {s['due_date']}: {s['amount']} (minimum {s['minimum']})")
    table.add_row("bureau", snap["bureau"]["status_grid"] or "-")
    Console().print(table)


def purchase(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(help="Account id.")],
    amount: Annotated[str, typer.Argument(help="Amount in yuan, e.g. 100.00.")],
    periods: Annotated[
        int | None,
        typer.Option(
            "--installments",
            metavar="N",
            help="Buy in N monthly installments (3, 6, 9 or 12), billed from the next statement.",
        ),
    ] = None,
    quote_only: Annotated[
        bool, typer.Option("--quote", help="With --installments: show what they would cost; buy nothing.")
    ] = False,
    on: DateOption = None,
    idempotency_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Buy on the credit line, whole or in installments (消费分期)."""
    value = parse_positive_yuan(amount)
    if quote_only:
        if periods is None:
            fail("--quote needs --installments N: it quotes a purchase in installments")
        _print_purchase_quote(
            accounts.quote_purchase_installments(
                state(ctx).migrated_engine(), account_id, value, periods, on=_date(on)
            ),
            as_json,
        )
        return
    result = accounts.purchase(
        state(ctx).migrated_engine(),
        account_id,
        value,
        periods=periods,
        on=_date(on),
        idempotency_key=idempotency_key,
    )
    if not as_json and "installments" in result:
        _print_purchase_quote(result["installments"], as_json)
    _print(result, as_json)


def _print_purchase_quote(quote: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(quote)
        return
    booked = f"plan {quote['plan']}: " if quote["plan"] else "quote: "
    typer.echo(
        f"{booked}{quote['principal']} in {quote['periods']} installments, fee {quote['fee_total']} "
        f"({quote['fee_rate']}), annualised rate {as_percent(quote['annual_rate'])}; "
        f"first billed on {quote['first_statement']}, "
        f"available credit after {quote['available_credit_after']}"
    )
    _print_schedule(quote["schedule"])


def repay(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(help="Account id.")],
    amount: Annotated[str, typer.Argument(help="Amount in yuan, e.g. 100.00.")],
    on: DateOption = None,
    idempotency_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Repay: oldest statement first; fees, interest, then principal (principal first beyond 90 DPD)."""
    result = accounts.repay(
        state(ctx).migrated_engine(),
        account_id,
        parse_positive_yuan(amount),
        on=_date(on),
        idempotency_key=idempotency_key,
    )
    if not as_json:
        for line in result["allocation"]:
            typer.echo(f"  {line['amount']:>12} → {line['to']} {line['component']}")
    _print(result, as_json)


StatementOption = Annotated[str, typer.Option("--statement", metavar="YYYY-MM-DD", help="Statement date.")]
PeriodsOption = Annotated[int, typer.Option("--periods", help="Number of periods (3, 6, 9 or 12).")]


def _print_quote(quote: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(quote)
        return
    typer.echo(
        f"{quote['periods']} periods on {quote['principal']}: fee {quote['fee_total']} "
        f"({quote['fee_rate']}), annualised rate {as_percent(quote['annual_rate'])}"
    )
    _print_schedule(quote["schedule"])


def _print_schedule(schedule: list[dict[str, Any]]) -> None:
    for p in schedule:
        typer.echo(f"  {p['number']:>2}  {p['due_date']}  principal {p['principal']:>10}  fee {p['fee']:>8}")


def as_percent(rate: str) -> str:
    """``"0.1590"`` → ``"15.90 %"`` without going through a float."""
    return f"{(Decimal(rate) * 100).quantize(Decimal('0.01'))} %"


@installments_app.command("quote")
def installments_quote(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(help="Account id.")],
    statement: StatementOption,
    periods: PeriodsOption,
    on: DateOption = None,
    as_json: JsonOption = False,
) -> None:
    """What bill installments would cost, with the annualised rate; changes nothing."""
    quote = accounts.quote_installments(
        state(ctx).migrated_engine(),
        account_id,
        parse_date(statement, field="--statement"),
        periods,
        on=_date(on),
    )
    _print_quote(quote, as_json)


@installments_app.command("accept")
def installments_accept(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(help="Account id.")],
    statement: StatementOption,
    periods: PeriodsOption,
    on: DateOption = None,
    idempotency_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Put the statement into installments."""
    result = accounts.request_installments(
        state(ctx).migrated_engine(),
        account_id,
        parse_date(statement, field="--statement"),
        periods,
        on=_date(on),
        idempotency_key=idempotency_key,
    )
    _print_quote(result["quote"], as_json)
