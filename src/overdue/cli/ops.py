"""Collector operations from the command line: ``overdue cases``, ``overdue queue``, ``overdue field``,
``overdue legal`` and ``overdue sale`` (see docs/operations.md).

- ``cases list|show``: borrowers' cases with stage, queue, priority and score;
- ``queue collector add|list``, ``queue absent``, ``queue allocate --date D``, ``queue show COLLECTOR``,
  ``queue reassign CASE``: collectors, the morning allocation, supervisors' reassignments;
- ``field place BORROWER``, ``field routes --date D``, ``field close ORDER``: field orders and routes;
- ``legal open ACCOUNT``, ``legal advance CASE STEP``, ``legal show CASE|ACCOUNT``: legal cases;
- ``sale select|export|mark|show SALE``, ``sale payment ACCOUNT``: debt sale and forwarded payments;
- ``agency place|file|import|commission AGENCY``, ``agency recall``: placements with outside agencies.

Amounts are yuan strings (``"100.00"``); every command prints JSON with ``--json``.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from overdue.cli.common import JsonOption, print_json, state
from overdue.domain.calendar import parse_date
from overdue.domain.errors import InvalidInput
from overdue.domain.money import parse_positive_yuan, parse_yuan
from overdue.lazy import lazy_module

if TYPE_CHECKING:
    from overdue.operations import agency as placement
    from overdue.operations import sale as sale_filter
    from overdue.services import operations
else:
    placement = lazy_module("overdue.operations.agency")
    sale_filter = lazy_module("overdue.operations.sale")
    operations = lazy_module("overdue.services.operations")

cases_app = typer.Typer(
    help="Cases: all of a borrower's accounts, by stage, queue and priority.", no_args_is_help=True
)
queue_app = typer.Typer(help="Collectors, the morning allocation and reassignments.", no_args_is_help=True)
collector_app = typer.Typer(
    help="The collectors and field agents and their daily caps.", no_args_is_help=True
)
queue_app.add_typer(collector_app, name="collector")
field_app = typer.Typer(
    help="Field visits: borrowers' places, daily routes, closing orders.", no_args_is_help=True
)
legal_app = typer.Typer(
    help="Legal cases: lawyer's letter → mediation → filing → judgment → enforcement.", no_args_is_help=True
)
agency_app = typer.Typer(
    help="Outside agencies: placements, placement files, results import, recall, commission.",
    no_args_is_help=True,
)
sale_app = typer.Typer(
    help="Write-off and debt sale: portfolio, transfer file, sold accounts.", no_args_is_help=True
)

DateOption = Annotated[str, typer.Option("--date", metavar="YYYY-MM-DD", help="Business date.")]
NoScoreOption = Annotated[bool, typer.Option("--no-score", help="Skip the collection score (faster).")]
DocumentOption = Annotated[
    list[str] | None, typer.Option("--document", help="A document's reference (repeat for several).")
]
CostOption = Annotated[str, typer.Option("--cost", help="The step's cost in yuan.")]
NoteOption = Annotated[str | None, typer.Option("--note", help="A note kept with the record.")]


def _date(value: str, field: str = "--date") -> date:
    return parse_date(value, field=field)


def _datetime(value: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise InvalidInput(f"{field}: not a date and time (YYYY-MM-DDTHH:MM): {value!r}") from error


def _cost(value: str) -> int:
    cost = parse_yuan(value, field="--cost")
    if cost < 0:
        raise InvalidInput("--cost cannot be negative")
    return cost


def _case_line(case: dict[str, Any]) -> str:
    score = "-" if case["score"] is None else f"{case['score']:.2f}"
    return (
        f"{case['case']:<24} {case['queue']:<8} {case['stage']:<8} DPD {case['days_past_due']:>4}  "
        f"overdue {case['overdue']:>12}  priority {case['priority']:>4}  score {score}  "
        f"accounts {', '.join(a['account_id'] for a in case['accounts'])}"
    )


# --- cases -------------------------------------------------------------------------------------------------


@cases_app.command("list")
def cases_list(
    ctx: typer.Context,
    queue: Annotated[str | None, typer.Option("--queue", help="Only cases in this queue.")] = None,
    include_current: Annotated[bool, typer.Option("--all", help="Also cases with nothing due.")] = False,
    no_score: NoScoreOption = False,
    as_json: JsonOption = False,
) -> None:
    """List cases, highest priority first (案件列表)."""
    result = operations.cases.list_cases(
        state(ctx).migrated_engine(), queue=queue, score=not no_score, include_current=include_current
    )
    if as_json:
        print_json({"cases": result})
        return
    typer.echo(f"cases 案件: {len(result)}")
    for case in result:
        typer.echo(_case_line(case))


@cases_app.command("show")
def cases_show(
    ctx: typer.Context,
    case_id: Annotated[str, typer.Argument(metavar="CASE", help="Borrower id, or account:ACCOUNT.")],
    no_score: NoScoreOption = False,
    as_json: JsonOption = False,
) -> None:
    """Show one case: accounts, assignments, field orders, legal cases."""
    result = operations.show_case(state(ctx).migrated_engine(), case_id, score=not no_score)
    if as_json:
        print_json(result)
        return
    typer.echo(_case_line(result))
    for a in result["assignments"]["by_date"]:
        typer.echo(f"  {a['date']}: {a['collector']} ({a['source']})")
    for m in result["assignments"]["reassignments"]:
        typer.echo(f"  reassigned {m['date']}: {m['from']} → {m['to']} by {m['by']}: {m['reason']}")
    for o in result["field_orders"]:
        typer.echo(f"  field order {o['order']} {o['date']} {o['status']} {o['outcome'] or ''}")
    for c in result["legal_cases"]:
        typer.echo(f"  legal case {c['legal_case']}: {c['step']}")


# --- queue -------------------------------------------------------------------------------------------------


@collector_app.command("add")
def collector_add(
    ctx: typer.Context,
    collector_id: Annotated[str, typer.Argument(metavar="ID")],
    name: Annotated[str, typer.Option("--name", help="The collector's name.")],
    cap: Annotated[int, typer.Option("--cap", help="Most cases a day.")] = 50,
    field_agent: Annotated[bool, typer.Option("--field", help="A field agent (works field routes).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Register a collector or field agent (or change their cap)."""
    result = operations.allocation.add_collector(
        state(ctx).migrated_engine(),
        collector_id,
        name,
        kind="field_agent" if field_agent else "collector",
        daily_cap=cap,
    )
    if as_json:
        print_json(result)
    else:
        typer.echo(f"{result['kind']} {collector_id} ({name}): daily cap {cap}")


@collector_app.command("list")
def collector_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List collectors and field agents."""
    result = operations.allocation.list_collectors(state(ctx).migrated_engine())
    if as_json:
        print_json({"collectors": result})
        return
    for c in result:
        typer.echo(f"{c['collector']:<16} {c['kind']:<12} cap {c['daily_cap']:>4}  {c['name']}")


@queue_app.command("absent")
def queue_absent(
    ctx: typer.Context,
    collector_id: Annotated[str, typer.Argument(metavar="COLLECTOR")],
    on: DateOption,
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    as_json: JsonOption = False,
) -> None:
    """Mark a collector away on a date (their cases go to others)."""
    result = operations.allocation.record_absence(
        state(ctx).migrated_engine(), collector_id, _date(on), reason
    )
    if as_json:
        print_json(result)
    else:
        typer.echo(f"{collector_id} away on {result['absent_on']}")


@queue_app.command("allocate")
def queue_allocate(
    ctx: typer.Context, on: DateOption, no_score: NoScoreOption = False, as_json: JsonOption = False
) -> None:
    """Allocate the day's call-queue cases to collectors (分案); once per date."""
    result = operations.allocation.allocate_day(state(ctx).migrated_engine(), _date(on), score=not no_score)
    if as_json:
        print_json(result)
        return
    note = " (already allocated)" if result["already_allocated"] else ""
    typer.echo(f"{result['date']}: {len(result['assignments'])} cases assigned{note}")
    for collector, load in result["collectors"].items():
        typer.echo(f"  {collector:<16} {load['cases']:>4} cases  overdue {load['overdue']:>12}")
    if result["unassigned"]:
        typer.echo(f"  unassigned (no capacity): {', '.join(result['unassigned'])}")


@queue_app.command("show")
def queue_show(
    ctx: typer.Context,
    collector_id: Annotated[str, typer.Argument(metavar="COLLECTOR")],
    on: DateOption,
    as_json: JsonOption = False,
) -> None:
    """A collector's cases on a date, highest priority first."""
    result = operations.allocation.collector_queue(state(ctx).migrated_engine(), collector_id, _date(on))
    if as_json:
        print_json(result)
        return
    typer.echo(f"{collector_id} on {result['date']}: {len(result['cases'])} cases")
    for c in result["cases"]:
        typer.echo(f"  {c['case']:<24} {c['queue']:<6} overdue {c['overdue']:>12}  priority {c['priority']}")


@queue_app.command("reassign")
def queue_reassign(
    ctx: typer.Context,
    case_id: Annotated[str, typer.Argument(metavar="CASE")],
    to: Annotated[str, typer.Option("--to", help="The collector who takes the case.")],
    on: DateOption,
    by: Annotated[str, typer.Option("--by", help="The supervisor making the change.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
    as_json: JsonOption = False,
) -> None:
    """A supervisor moves a case to another collector for the day (who and why are recorded)."""
    result = operations.allocation.reassign(
        state(ctx).migrated_engine(), case_id, _date(on), to, by=by, reason=reason
    )
    if as_json:
        print_json(result)
    else:
        typer.echo(f"{case_id} on {result['date']}: {result['from'] or 'unassigned'} → {to} (by {by})")


# --- field -------------------------------------------------------------------------------------------------


@field_app.command("place")
def field_place(
    ctx: typer.Context,
    borrower_id: Annotated[str, typer.Argument(metavar="BORROWER")],
    city: Annotated[str, typer.Option("--city")],
    district: Annotated[str, typer.Option("--district")],
    as_json: JsonOption = False,
) -> None:
    """Record the city and district a borrower lives in."""
    result = operations.field.set_place(state(ctx).migrated_engine(), borrower_id, city, district)
    if as_json:
        print_json(result)
    else:
        typer.echo(f"{borrower_id}: {city} {district}")


@field_app.command("routes")
def field_routes(
    ctx: typer.Context,
    on: DateOption,
    team_size: Annotated[int, typer.Option("--team-size", help="Field agents per team (at least 2).")] = 2,
    as_json: JsonOption = False,
) -> None:
    """Turn open field work into orders and show the day's routes by city and district (外访路线)."""
    result = operations.field.plan_day(state(ctx).migrated_engine(), _date(on), team_size=team_size)
    if as_json:
        print_json(result)
        return
    typer.echo(f"{result['date']}: {result['created']} new orders; routes 路线: {len(result['routes'])}")
    for route in result["routes"]:
        typer.echo(f"  {route['city']} {route['district']}: team {', '.join(route['team'])}")
        for o in route["orders"]:
            accounts = ", ".join(a["account_id"] for a in o["accounts"])
            typer.echo(f"    {o['order']} case {o['case']} ({accounts}) {o['status']}")


@field_app.command("close")
def field_close(
    ctx: typer.Context,
    order_id: Annotated[str, typer.Argument(metavar="ORDER")],
    at: Annotated[str, typer.Option("--at", metavar="YYYY-MM-DDTHH:MM", help="When (debtor's local time).")],
    outcome: Annotated[str, typer.Option("--outcome", help="The visit's outcome (DESIGN §5).")],
    recording: Annotated[str, typer.Option("--recording", help="The recording's reference (required).")],
    team: Annotated[str | None, typer.Option("--team", help="Who went, comma-separated.")] = None,
    note: NoteOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close a field order with its outcome and recording; the visit passes the compliance check first."""
    result = operations.field.close_order(
        state(ctx).migrated_engine(),
        order_id,
        _datetime(at, "--at"),
        outcome,
        recording,
        team=None if team is None else team.split(","),
        note=note,
    )
    if as_json:
        print_json(result)
    else:
        typer.echo(f"{order_id}: closed, {result['outcome']}, recording {result['recording_ref']}")


# --- legal -------------------------------------------------------------------------------------------------


def _legal_lines(case: dict[str, Any]) -> list[str]:
    lim = case["limitation"]
    lines = [
        f"{case['legal_case']} ({case['account_id']}): {case['step']}"
        + (f", {case['outcome']}" if case["outcome"] else "")
        + f"; cost {case['total_cost']}",
        f"  limitation 诉讼时效: last qualifying event {lim['last_qualifying_event']}, ends {lim['ends_on']}"
        + (" (EXPIRED 已过)" if lim["expired"] else ""),
    ]
    for e in case["events"]:
        docs = f" documents {', '.join(e['documents'])}" if e["documents"] else ""
        lines.append(f"  {e['date']} {e['step']:<15} cost {e['cost']:>10}{docs}")
    return lines


@legal_app.command("open")
def legal_open(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(metavar="ACCOUNT")],
    on: DateOption,
    cost: CostOption = "0.00",
    document: DocumentOption = None,
    note: NoteOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a legal case with a lawyer's letter (律师函); a litigation hold starts."""
    result = operations.legal.open_case(
        state(ctx).migrated_engine(),
        account_id,
        _date(on),
        cost=_cost(cost),
        documents=document or [],
        note=note,
    )
    if as_json:
        print_json(result)
    else:
        typer.echo("\n".join(_legal_lines(result)))


@legal_app.command("advance")
def legal_advance(
    ctx: typer.Context,
    case_id: Annotated[str, typer.Argument(metavar="CASE")],
    step: Annotated[
        str, typer.Argument(help="mediation, filing, judgment, enforcement, acknowledgement or closed.")
    ],
    on: DateOption,
    cost: CostOption = "0.00",
    document: DocumentOption = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="When closing: why it ends.")] = None,
    note: NoteOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move a legal case to its next step (closing it ends the litigation hold)."""
    result = operations.legal.advance(
        state(ctx).migrated_engine(),
        case_id,
        step,
        _date(on),
        cost=_cost(cost),
        documents=document or [],
        note=note,
        outcome=outcome,
    )
    if as_json:
        print_json(result)
    else:
        typer.echo("\n".join(_legal_lines(result)))


@legal_app.command("show")
def legal_show(
    ctx: typer.Context,
    case_or_account: Annotated[str, typer.Argument(metavar="CASE|ACCOUNT")],
    as_json: JsonOption = False,
) -> None:
    """Show a legal case, or every legal case of an account."""
    result = operations.legal.show(state(ctx).migrated_engine(), case_or_account)
    if as_json:
        print_json({"legal_cases": result})
        return
    if not result:
        typer.echo(f"{case_or_account}: no legal cases 无诉讼案件")
    for case in result:
        typer.echo("\n".join(_legal_lines(case)))


# --- sale --------------------------------------------------------------------------------------------------


@sale_app.command("select")
def sale_select(
    ctx: typer.Context,
    sale_id: Annotated[str, typer.Argument(metavar="SALE")],
    buyer: Annotated[str, typer.Option("--buyer", help="Who buys the portfolio.")],
    on: DateOption,
    min_dpd: Annotated[int, typer.Option("--min-dpd", help="Smallest DPD taken.")] = 0,
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help="Account status taken, e.g. written_off (repeatable)."),
    ] = None,
    min_balance: Annotated[str, typer.Option("--min-balance", help="Smallest outstanding, yuan.")] = "0.01",
    max_balance: Annotated[
        str | None, typer.Option("--max-balance", help="Largest outstanding, yuan.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Choose the accounts of a debt sale by filters (资产包筛选)."""
    rules = sale_filter.PortfolioFilter(
        min_days_past_due=min_dpd,
        statuses=tuple(status or ()),
        min_balance=parse_positive_yuan(min_balance, field="--min-balance"),
        max_balance=None if max_balance is None else parse_positive_yuan(max_balance, field="--max-balance"),
    )
    result = operations.sale.select_sale(state(ctx).migrated_engine(), sale_id, buyer, _date(on), rules)
    if as_json:
        print_json(result)
    else:
        _sale_lines(result)


def _sale_lines(sale: dict[str, Any]) -> None:
    t = sale["totals"]
    typer.echo(
        f"sale {sale['sale']} to {sale['buyer']} ({sale['status']}): {t['accounts']} accounts, "
        f"principal {t['principal']}, outstanding {t['outstanding']}"
    )
    for row in sale["accounts"]:
        typer.echo(
            f"  {row['account_id']:<16} {row['status']:<12} DPD {row['days_past_due']:>4}  "
            f"outstanding {row['outstanding']:>12}  last payment {row['last_payment_on'] or '-'}"
        )


@sale_app.command("export")
def sale_export(
    ctx: typer.Context,
    sale_id: Annotated[str, typer.Argument(metavar="SALE")],
    out: Annotated[Path, typer.Option("--out", help="Directory for SALE.csv and SALE.json.")] = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Write the transfer file (CSV and JSON)."""
    result = operations.sale.export_sale(state(ctx).migrated_engine(), sale_id, out)
    if as_json:
        print_json(result)
    else:
        typer.echo(f"sale {sale_id}: {result['accounts']} accounts → {result['csv']}, {result['json']}")


@sale_app.command("mark")
def sale_mark(
    ctx: typer.Context,
    sale_id: Annotated[str, typer.Argument(metavar="SALE")],
    on: DateOption,
    as_json: JsonOption = False,
) -> None:
    """Mark the sale's accounts sold: collection stops; later payments are forwarded to the buyer."""
    result = operations.sale.mark_sold(state(ctx).migrated_engine(), sale_id, _date(on))
    if as_json:
        print_json(result)
    else:
        typer.echo(
            f"sale {sale_id}: {result['accounts']} accounts sold on {result['sold_on']}; "
            f"{result['work_items_cancelled']} open work items cancelled"
        )


@sale_app.command("show")
def sale_show(
    ctx: typer.Context, sale_id: Annotated[str, typer.Argument(metavar="SALE")], as_json: JsonOption = False
) -> None:
    """Show a sale, its accounts and the payments forwarded to its buyer."""
    engine = state(ctx).migrated_engine()
    with engine.connect() as conn:
        result = operations.sale.sale_json(conn, sale_id)
    result["forwarded_payments"] = operations.sale.forwarded_of(engine, sale_id)
    if as_json:
        print_json(result)
        return
    _sale_lines(result)
    for p in result["forwarded_payments"]:
        typer.echo(f"  forwarded {p['received_on']} {p['account_id']} {p['amount']} ({p['reference']})")


@sale_app.command("payment")
def sale_payment(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(metavar="ACCOUNT")],
    amount: Annotated[str, typer.Option("--amount", help="Yuan received.")],
    on: DateOption,
    reference: Annotated[str, typer.Option("--reference", help="The payment's own reference.")],
    as_json: JsonOption = False,
) -> None:
    """Record a payment received on a sold account as forwarded to the buyer (not posted to the ledger)."""
    result = operations.sale.forward_payment(
        state(ctx).migrated_engine(), account_id, _date(on), parse_positive_yuan(amount), reference
    )
    if as_json:
        print_json(result)
    else:
        typer.echo(f"{account_id}: {result['amount']} forwarded to {result['forwarded_to']} ({reference})")


# --- agency ------------------------------------------------------------------------------------------------


@agency_app.command("place")
def agency_place(
    ctx: typer.Context,
    agency_id: Annotated[str, typer.Argument(metavar="AGENCY")],
    on: DateOption,
    min_dpd: Annotated[int, typer.Option("--min-dpd", help="Smallest DPD placed.")] = 61,
    min_balance: Annotated[
        str, typer.Option("--min-balance", help="Smallest overdue balance, yuan.")
    ] = "0.01",
    max_balance: Annotated[str | None, typer.Option("--max-balance", help="Largest overdue, yuan.")] = None,
    term_days: Annotated[int, typer.Option("--term-days", help="Days until the placement is recalled.")] = 90,
    as_json: JsonOption = False,
) -> None:
    """Place the accounts waiting for an agency with AGENCY (委外), if its whitelist review is in force."""
    rules = placement.PlacementRules(
        min_days_past_due=min_dpd,
        min_balance=parse_positive_yuan(min_balance, field="--min-balance"),
        max_balance=None if max_balance is None else parse_positive_yuan(max_balance, field="--max-balance"),
        term_days=term_days,
    )
    result = operations.agency.place_accounts(state(ctx).migrated_engine(), agency_id, _date(on), rules)
    if as_json:
        print_json(result)
        return
    typer.echo(
        f"{agency_id} on {result['date']}: {len(result['placed'])} placed, {len(result['skipped'])} skipped"
    )
    for p in result["placed"]:
        typer.echo(
            f"  {p['account_id']:<16} DPD {p['days_past_due']:>4}  overdue {p['overdue']:>12}  "
            f"until {p['recall_on']}"
        )
    for p in result["skipped"]:
        typer.echo(f"  skipped {p['account_id']}: {p['reason']}")


@agency_app.command("file")
def agency_file(
    ctx: typer.Context,
    agency_id: Annotated[str, typer.Argument(metavar="AGENCY")],
    on: DateOption,
    out: Annotated[Path, typer.Option("--out", help="Directory for the CSV and JSON files.")] = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Write the agency's placement file (CSV and JSON): only what is placed with it."""
    result = operations.agency.placement_file(state(ctx).migrated_engine(), agency_id, _date(on), out)
    if as_json:
        print_json(result)
    else:
        typer.echo(f"{agency_id}: {result['placements']} placements → {result['csv']}, {result['json']}")


@agency_app.command("import")
def agency_import(
    ctx: typer.Context,
    agency_id: Annotated[str, typer.Argument(metavar="AGENCY")],
    path: Annotated[Path, typer.Argument(metavar="FILE", help="Results file, .csv or .json.")],
    as_json: JsonOption = False,
) -> None:
    """Import an agency's results (payments reconciled with the ledger, contacts checked by the rulebook);
    every rejected row is listed with its reason."""
    result = operations.agency.import_results(state(ctx).migrated_engine(), agency_id, path)
    if as_json:
        print_json(result)
        return
    typer.echo(
        f"{agency_id}: {result['rows']} rows, {len(result['accepted'])} taken, "
        f"{len(result['rejected'])} rejected; commission {result['commission']}"
    )
    for r in result["rejected"]:
        typer.echo(f"  row {r['row']} ({r['ref']}): {r['reason']}")


@agency_app.command("recall")
def agency_recall(ctx: typer.Context, on: DateOption, as_json: JsonOption = False) -> None:
    """Recall the placements whose term has ended (收回)."""
    result = operations.agency.recall_due(state(ctx).migrated_engine(), _date(on))
    if as_json:
        print_json(result)
        return
    typer.echo(f"{result['date']}: {len(result['recalled'])} placements recalled")
    for r in result["recalled"]:
        typer.echo(f"  {r['account_id']} from {r['agency']}: {r['reason']}")


@agency_app.command("commission")
def agency_commission(
    ctx: typer.Context,
    agency_id: Annotated[str, typer.Argument(metavar="AGENCY")],
    as_json: JsonOption = False,
) -> None:
    """What the agency recovered and its commission by tier (佣金)."""
    result = operations.agency.commission_statement(state(ctx).migrated_engine(), agency_id)
    if as_json:
        print_json(result)
        return
    typer.echo(f"{agency_id}: recovered {result['recovered']}, commission {result['commission']}")
    for p in result["placements"]:
        typer.echo(
            f"  {p['account_id']:<16} DPD at placement {p['days_past_due_at_placement']:>4}  "
            f"rate {p['rate']}  recovered {p['recovered']:>12}  commission {p['commission']:>10}"
        )
