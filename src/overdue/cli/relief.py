"""Relief commands: ``overdue relief quote|accept|approve|list|request|answer|overdue|agreement``.

``quote`` shows what an option would do (payments, total cost, annualised rate, what is waived, the effect on
the line and the bureau) and the fingerprint of the balance it was made on; ``accept`` takes that fingerprint
back (a changed balance refuses it) and the user making the request; ``approve`` is the checker's step for
waivers, settlements and plans that set interest or fees aside. Amounts are yuan strings (``"100.00"``).

``request`` records what a borrower or collector asked for and the day it must be answered by (7 working days
on China's calendar); ``answer`` closes it; ``overdue`` lists those unanswered past their deadline, for
supervisors. ``agreement`` writes a plan's or settlement's agreement as HTML or PDF, in zh-CN or English.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from overdue.cli.accounts import as_percent
from overdue.cli.common import JsonOption, print_json, state
from overdue.domain import relief_requests
from overdue.domain.calendar import parse_date
from overdue.domain.errors import InvalidInput
from overdue.domain.money import parse_positive_yuan, parse_yuan
from overdue.domain.relief_common import KINDS
from overdue.lazy import lazy_module

if TYPE_CHECKING:
    from overdue.services import relief
    from overdue.services import relief_agreements as agreements
    from overdue.services import relief_requests as request_service
else:
    relief = lazy_module("overdue.services.relief")
    agreements = lazy_module("overdue.services.relief_agreements")
    request_service = lazy_module("overdue.services.relief_requests")

app = typer.Typer(
    help="Relief for borrowers who cannot pay for now: quote, accept, approve, list.", no_args_is_help=True
)

AccountArg = Annotated[str, typer.Argument(help="Account id.")]
KindOption = Annotated[str, typer.Option("--kind", help=f"One of {', '.join(KINDS)}.")]
DateOption = Annotated[
    str | None, typer.Option("--date", metavar="YYYY-MM-DD", help="Business date (default: next open date).")
]
StatementOption = Annotated[
    str | None, typer.Option("--statement", metavar="YYYY-MM-DD|ID", help="Statement date or id.")
]
PeriodsOption = Annotated[int | None, typer.Option("--periods", help="Installments or plan payments.")]
DaysOption = Annotated[int | None, typer.Option("--days", help="Deferral: days to move the due date.")]
AmountOption = Annotated[str | None, typer.Option("--amount", help="Settlement: the agreed amount in yuan.")]
PayByOption = Annotated[str | None, typer.Option("--pay-by", metavar="YYYY-MM-DD", help="Settlement: date.")]
DownOption = Annotated[str, typer.Option("--down-payment", help="Plan: down payment in yuan.")]
RateOption = Annotated[
    str | None, typer.Option("--monthly-rate", help="Plan: reduced monthly rate, e.g. 0.005.")
]
KeepFeesOption = Annotated[bool, typer.Option("--keep-fees", help="Plan: do not set the fees aside.")]
WaiveInterestOption = Annotated[
    bool, typer.Option("--waive-interest", help="Plan: set the interest aside too.")
]
InterestOption = Annotated[str, typer.Option("--interest", help="Waiver: interest to waive, in yuan.")]
FeesOption = Annotated[str, typer.Option("--fees", help="Waiver: fees to waive, in yuan.")]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="Waiver: why.")]
KeyOption = Annotated[
    str | None, typer.Option("--idempotency-key", help="Retrying with the same key never applies twice.")
]


def _date(value: str | None, field: str = "--date") -> date | None:
    return None if value is None else parse_date(value, field=field)


def _statement(value: str | None) -> str | date | None:
    if value is None or "/" in value:
        return value
    return parse_date(value, field="--statement")


def _rate(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise InvalidInput(f"--monthly-rate must be a decimal such as 0.005, got {value!r}") from None


def _request(
    kind: str,
    statement: str | None,
    periods: int | None,
    days: int | None,
    amount: str | None,
    pay_by: str | None,
    down_payment: str,
    monthly_rate: str | None,
    keep_fees: bool,
    waive_interest: bool,
    interest: str,
    fees: str,
    reason: str | None,
) -> relief.ReliefRequest:
    return relief.ReliefRequest(
        kind=kind,
        statement=_statement(statement),
        periods=periods,
        days=days,
        amount=None if amount is None else parse_positive_yuan(amount, field="--amount"),
        pay_by=_date(pay_by, "--pay-by"),
        down_payment=parse_yuan(down_payment, field="--down-payment"),
        monthly_rate=_rate(monthly_rate),
        waive_fees=not keep_fees,
        waive_interest=waive_interest,
        interest=parse_yuan(interest, field="--interest"),
        fees=parse_yuan(fees, field="--fees"),
        reason=reason,
    )


def _print_quote(quote: dict[str, Any]) -> None:
    rate = quote["annual_rate"]
    typer.echo(f"{quote['kind']} for {quote['account_id']} on {quote['quoted_on']}")
    for p in quote["payments"]:
        typer.echo(
            f"  {p['number']:>2}  {p['due_date']}  {p['amount']:>12}  "
            f"(principal {p['principal']}, interest {p['interest']}, fee {p['fee']})"
        )
    typer.echo(f"total to pay {quote['total_to_pay']}, total cost {quote['total_cost']}")
    typer.echo(f"annualised rate: {as_percent(rate) if rate is not None else '-'}")
    if quote["needs_approval"]:
        typer.echo(f"waived {quote['waived']} (needs approval)")
    typer.echo(f"line: {quote['line']['en']} / {quote['line']['zh-CN']}")
    typer.echo(f"bureau: {quote['bureau']['en']} / {quote['bureau']['zh-CN']}")
    typer.echo(f"fingerprint: {quote['fingerprint']} (give it to `overdue relief accept --fingerprint`)")


@app.command("quote")
def quote(
    ctx: typer.Context,
    account_id: AccountArg,
    kind: KindOption,
    statement: StatementOption = None,
    periods: PeriodsOption = None,
    days: DaysOption = None,
    amount: AmountOption = None,
    pay_by: PayByOption = None,
    down_payment: DownOption = "0.00",
    monthly_rate: RateOption = None,
    keep_fees: KeepFeesOption = False,
    waive_interest: WaiveInterestOption = False,
    interest: InterestOption = "0.00",
    fees: FeesOption = "0.00",
    reason: ReasonOption = None,
    on: DateOption = None,
    as_json: JsonOption = False,
) -> None:
    """What a relief option would do; changes nothing."""
    request = _request(
        kind,
        statement,
        periods,
        days,
        amount,
        pay_by,
        down_payment,
        monthly_rate,
        keep_fees,
        waive_interest,
        interest,
        fees,
        reason,
    )
    result = relief.quote(state(ctx).migrated_engine(), account_id, request, on=_date(on))
    if as_json:
        print_json(result)
    else:
        _print_quote(result)


@app.command("accept")
def accept(
    ctx: typer.Context,
    account_id: AccountArg,
    kind: KindOption,
    fingerprint: Annotated[str, typer.Option("--fingerprint", help="The fingerprint the quote showed.")],
    maker: Annotated[str, typer.Option("--maker", help="The user making the request.")] = "borrower",
    statement: StatementOption = None,
    periods: PeriodsOption = None,
    days: DaysOption = None,
    amount: AmountOption = None,
    pay_by: PayByOption = None,
    down_payment: DownOption = "0.00",
    monthly_rate: RateOption = None,
    keep_fees: KeepFeesOption = False,
    waive_interest: WaiveInterestOption = False,
    interest: InterestOption = "0.00",
    fees: FeesOption = "0.00",
    reason: ReasonOption = None,
    on: DateOption = None,
    idempotency_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Accept a quoted option (refused when the balance changed since the quote)."""
    request = _request(
        kind,
        statement,
        periods,
        days,
        amount,
        pay_by,
        down_payment,
        monthly_rate,
        keep_fees,
        waive_interest,
        interest,
        fees,
        reason,
    )
    result = relief.accept(
        state(ctx).migrated_engine(),
        account_id,
        request,
        fingerprint,
        maker=maker,
        on=_date(on),
        idempotency_key=idempotency_key,
    )
    if as_json:
        print_json(result)
        return
    typer.echo(
        f"{result['kind']}: {result.get('status')}" + (f" ({result['id']})" if result.get("id") else "")
    )
    if result.get("status") in ("requested", "pending_approval"):
        typer.echo(
            f"waiting for approval: overdue relief approve {account_id} {result['id']} --approver U --role R"
        )


@app.command("approve")
def approve(
    ctx: typer.Context,
    account_id: AccountArg,
    request_id: Annotated[str, typer.Argument(help="The waiver or arrangement id that accept printed.")],
    approver: Annotated[str, typer.Option("--approver", help="The approving user (not the maker).")],
    role: Annotated[
        str, typer.Option("--role", help="The approver's role (its limit must cover the amount).")
    ],
    on: DateOption = None,
    idempotency_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a waiver, settlement or plan: it takes effect whole, or nothing does."""
    result = relief.approve(
        state(ctx).migrated_engine(),
        account_id,
        request_id,
        approver,
        role,
        on=_date(on),
        idempotency_key=idempotency_key,
    )
    if as_json:
        print_json(result)
    else:
        typer.echo(f"{result['kind']} {request_id}: {result['status']} (account {result['account_status']})")


@app.command("list")
def list_(ctx: typer.Context, account_id: AccountArg, as_json: JsonOption = False) -> None:
    """Every plan, settlement, deferral and waiver of the account, and its current plan."""
    result = relief.list_relief(state(ctx).migrated_engine(), account_id)
    if as_json:
        print_json(result)
        return
    plan = result["plan"]
    if plan:
        typer.echo(
            f"current: {plan['kind']} {plan['id']} {plan['status']}, next due {plan['next_due'] or '-'}, "
            f"remaining {plan['remaining']}"
        )
    for a in result["arrangements"]:
        typer.echo(
            f"{a['kind']:<10} {a['id']}  {a['status']}  paid {a['paid']} of {a['amount']}, "
            f"waived {a['waived']}"
        )
    for d in result["deferrals"]:
        typer.echo(
            f"deferral   {d['statement']}  {d['original_due_date']} → {d['new_due_date']} ({d['days']} days)"
        )
    for w in result["waivers"]:
        typer.echo(f"waiver     {w['id']}  {w['status']}  interest {w['interest']}, fees {w['fees']}")
    if not (plan or result["arrangements"] or result["deferrals"] or result["waivers"]):
        typer.echo(f"account {account_id} has had no relief")


# --- Requests and their clock, agreements -------------------------------------------------------------------

OnOption = Annotated[
    str | None,
    typer.Option("--on", metavar="YYYY-MM-DD", help="The day (default: the current business date)."),
]


@app.command("request")
def request(
    ctx: typer.Context,
    account_id: AccountArg,
    kind: KindOption,
    requested_by: Annotated[
        str, typer.Option("--by", help="Who asked (the borrower's or collector's name).")
    ],
    party: Annotated[
        str, typer.Option("--party", help=f"Who asked: {' or '.join(relief_requests.PARTIES)}.")
    ] = "borrower",
    channel: Annotated[
        str, typer.Option("--channel", help=f"How it came in: {', '.join(relief_requests.CHANNELS)}.")
    ] = "app",
    note: Annotated[
        str | None, typer.Option("--note", help="What was asked, in the borrower's words.")
    ] = None,
    on: OnOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a relief request; it must be answered within 7 working days (China's calendar)."""
    result = request_service.record_request(
        state(ctx).migrated_engine(),
        account_id,
        kind,
        requested_by,
        party=party,
        channel=channel,
        on=_date(on, "--on"),
        note=note,
    )
    if as_json:
        print_json(result)
    else:
        typer.echo(f"request {result['id']}: {result['kind']}, answer by {result['deadline']}")


@app.command("answer")
def answer(
    ctx: typer.Context,
    request_id: Annotated[str, typer.Argument(help="The request id that `relief request` printed.")],
    status: Annotated[str, typer.Option("--status", help="approved, refused or withdrawn.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (required for a refusal).")] = None,
    answered_by: Annotated[str, typer.Option("--by", help="Who answers.")] = "lender",
    on: OnOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a relief request: approved, refused (with a reason) or withdrawn."""
    result = request_service.answer_request(
        state(ctx).migrated_engine(), request_id, status, answered_by, reason=reason, on=_date(on, "--on")
    )
    if as_json:
        print_json(result)
    else:
        late = " (after its deadline " + result["deadline"] + ")" if result["answered_late"] else ""
        typer.echo(f"request {request_id}: {result['status']} on {result['answered_on']}{late}")


@app.command("overdue")
def overdue(ctx: typer.Context, on: OnOption = None, as_json: JsonOption = False) -> None:
    """Requests still unanswered after their 7 working days, for supervisors."""
    result = request_service.overdue_requests(state(ctx).migrated_engine(), _date(on, "--on"))
    if as_json:
        print_json(result)
        return
    if not result["overdue"]:
        typer.echo(
            f"no relief request is overdue on {result['date']} / {result['date']} 无超期未答复的纾困申请"
        )
        return
    typer.echo(
        f"overdue relief requests on {result['date']} (for supervisors) / 超期未答复的纾困申请（请主管处理）:"
    )
    for r in result["overdue"]:
        typer.echo(
            f"  {r['id']}  {r['kind']}  asked by {r['requested_by']} ({r['party']}, {r['channel']}) "
            f"on {r['requested_on']}, due {r['deadline']}, {r['days_overdue']} days overdue"
        )


@app.command("agreement")
def agreement(
    ctx: typer.Context,
    account_id: AccountArg,
    arrangement_id: Annotated[str, typer.Argument(help="The plan or settlement id.")],
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    fmt: Annotated[str, typer.Option("--format", help="html or pdf.")] = "html",
    lang: Annotated[str, typer.Option("--lang", help="zh-CN or en.")] = "zh-CN",
    as_json: JsonOption = False,
) -> None:
    """Write the agreement of a plan or settlement (every term it is agreed on) as HTML or PDF."""
    result = agreements.write_agreement(
        state(ctx).migrated_engine(), account_id, arrangement_id, fmt, lang, out
    )
    if as_json:
        print_json(result)
    else:
        typer.echo(f"wrote {result['path']} ({result['format']}, {result['lang']}, {result['bytes']} bytes)")
