"""Conversion both ways between :class:`~overdue.domain.state.AccountState` objects and the tables.

:func:`tables_from_states` lays a portfolio's states out as :class:`~overdue.setbased.layout.PortfolioTables`
(Arrow), :func:`states_from_tables` rebuilds the states, and :func:`transactions_from_postings` turns a day's
posting rows back into the domain's ledger transactions. Round trips are exact: a state that goes to tables
and back compares equal to itself. The reference runner and the set-based runner can so start from the same
state and be compared field by field.

What the layout cannot hold exactly is refused with :class:`~overdue.setbased.params.Unsupported` before any
table is built: accounts on different product terms, a relief arrangement's set-aside naming a statement
other than by the statements' id pattern (:mod:`~overdue.setbased.arrangements`; arrangements of every
status are laid out), statement ids that do not follow the domain's pattern, a bill-installment plan
naming its statement otherwise, bureau months with gaps, an open bucket spell that is not the last.
Installment plans of both origins (a statement's, a purchase's) keep their ids and their order
(``plan_number``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]

from overdue.domain.billing import statement_date_of, statement_id
from overdue.domain.calendar import add_months
from overdue.domain.ledger import LedgerAccount, Posting, Transaction, TransactionKind
from overdue.domain.state import (
    AccountState,
    AccountStatus,
    BucketSpell,
    BureauMonth,
    InstallmentPeriod,
    InstallmentPlan,
    PlanOrigin,
    Statement,
    UnbilledCycle,
)
from overdue.domain.terms import ProductTerms
from overdue.setbased import arrangements as relief
from overdue.setbased import layout
from overdue.setbased.layout import PortfolioTables
from overdue.setbased.params import (
    MAX_CARRY,
    MAX_CARRY_SCALE,
    Unsupported,
    day_terms,
    decimal_places,
    to_units,
)

KIND_ORDER = {
    TransactionKind.WAIVER: -1,
    TransactionKind.OVERDUE_INTEREST: 0,
    TransactionKind.REVOLVING_INTEREST: 0,
    TransactionKind.WRITE_OFF: 1,
    TransactionKind.INSTALLMENT_FEE: 2,
}
"""The order in which :func:`overdue.domain.account.end_of_day` returns a day's transactions."""


def month_after(month: str) -> str:
    """``2026-12`` → ``2027-01``."""
    return add_months(date.fromisoformat(f"{month}-01"), 1).isoformat()[:7]


def plan_statement_date(state: AccountState, plan: InstallmentPlan) -> date | None:
    """The date of the statement a bill-installment plan was made from (None for a purchase plan); refuses a
    plan naming a statement other than by the statements' id pattern, or a purchase plan naming one."""
    if plan.origin is PlanOrigin.PURCHASE and plan.statement_id is None:
        return None
    day = None if plan.statement_id is None else statement_date_of(state.id, plan.statement_id)
    if day is None or plan.origin is not PlanOrigin.STATEMENT:
        raise Unsupported(
            f"installment plan {plan.id!r} of account {state.id}: a {plan.origin.value} plan made from "
            f"statement {plan.statement_id!r} (the layout keeps '{{account}}/{{statement date}}')"
        )
    return day


def _check_state(state: AccountState, terms: ProductTerms) -> None:
    if state.terms != terms:
        raise Unsupported(
            f"account {state.id} has other product terms than the run's ({terms.name!r}); "
            "run each product's accounts separately"
        )
    relief.check_arrangement(state)
    dates = [s.statement_date for s in state.statements]
    if len(set(dates)) != len(dates):
        raise Unsupported(f"account {state.id}: two statements on one date")
    for s in state.statements:
        if s.id != statement_id(state.id, s.statement_date):
            raise Unsupported(f"statement {s.id!r}: ids other than '{{account}}/{{statement date}}'")
        if abs(s.interest_carry) > MAX_CARRY:
            raise Unsupported(
                f"statement {s.id}: an interest carry beyond ±{MAX_CARRY} fen ({s.interest_carry})"
            )
    cycles = [c.statement_date for c in state.unbilled]
    if len(set(cycles)) != len(cycles):
        raise Unsupported(f"account {state.id}: two unbilled cycles for one statement date")
    for spell in state.bucket_history[:-1]:
        if spell.left is None:
            raise Unsupported(f"account {state.id}: an open bucket spell that is not the last")
    last = state.bucket_history[-1] if state.bucket_history else None
    if last is not None and last.left is None and last.bucket != state.bucket:
        raise Unsupported(f"account {state.id}: the open bucket spell is {last.bucket}, not {state.bucket}")
    for before, after in itertools.pairwise(state.bureau):
        if after.month != month_after(before.month):
            raise Unsupported(f"account {state.id}: bureau months with gaps ({before.month}, {after.month})")
    if any(len(m.status) != 1 for m in state.bureau):
        raise Unsupported(f"account {state.id}: bureau statuses longer than one character")


def carry_scale_for(states: Sequence[AccountState], terms: ProductTerms) -> int:
    """The finest carry unit the terms' rates and the states' carries need."""
    needed = day_terms(terms).carry_scale
    for state in states:
        for s in state.statements:
            needed = max(needed, decimal_places(s.interest_carry))
    if needed > MAX_CARRY_SCALE:
        raise Unsupported(f"interest carries finer than 10^-{MAX_CARRY_SCALE} fen")
    return needed


def _table(rows: dict[str, list[Any]], schema: pa.Schema) -> pa.Table:
    return pa.table({name: pa.array(rows[name], schema.field(name).type) for name in schema.names})


def _columns(schema: pa.Schema) -> dict[str, list[Any]]:
    return {name: [] for name in schema.names}


def tables_from_states(
    states: Sequence[AccountState], terms: ProductTerms, carry_scale: int | None = None
) -> PortfolioTables:
    """Lay ``states`` (all on ``terms``) out as tables; ``account_key`` is the position in ``states``."""
    for state in states:
        _check_state(state, terms)
    scale = carry_scale_for(states, terms) if carry_scale is None else carry_scale
    day_terms(terms, scale)
    accounts, statements = _columns(layout.ACCOUNTS), _columns(layout.STATEMENTS)
    unbilled, plans = _columns(layout.UNBILLED), _columns(layout.PLANS)
    periods, spells = _columns(layout.PERIODS), _columns(layout.SPELLS)
    arrangements, payments = _columns(layout.ARRANGEMENTS), _columns(layout.ARRANGEMENT_PAYMENTS)
    set_asides = _columns(layout.ARRANGEMENT_SET_ASIDES)
    for key, state in enumerate(states):
        history = state.bucket_history
        open_spell = history[-1] if history and history[-1].left is None else None
        closed = history[:-1] if open_spell is not None else history
        row = {
            "account_key": key,
            "account_id": state.id,
            "product": state.product,
            "opened_on": state.opened_on,
            "timezone": state.timezone,
            "credit_limit": state.credit_limit,
            "status": str(state.status),
            "last_eod": state.last_eod,
            "days_past_due": state.days_past_due,
            "bucket": state.bucket,
            "bucket_entered": None if open_spell is None else open_spell.entered,
            "written_off_on": state.written_off_on,
            "negative_notice_on": state.negative_notice_on,
            "bureau_grid": state.bureau_grid(),
            "bureau_last_month": state.bureau[-1].month if state.bureau else None,
            "last_deferral_on": state.last_deferral_on,
            "language": state.language,
        }
        for name, value in row.items():
            accounts[name].append(value)
        for s in state.statements:
            for name, value in {
                "account_key": key,
                "statement_date": s.statement_date,
                "due_date": s.due_date,
                "amount": s.amount,
                "minimum": s.minimum,
                "new_principal": s.new_principal,
                "carried_principal": s.carried_principal,
                "installment_principal": s.installment_principal,
                "interest": s.interest,
                "overdue_interest": s.overdue_interest,
                "fees": s.fees,
                "paid": s.paid,
                "late_charges": s.late_charges,
                "interest_carry": to_units(s.interest_carry, scale),
                "installed": s.installed,
                "closed_on": s.closed_on,
                "original_due_date": s.original_due_date,
            }.items():
                statements[name].append(value)
        for c in state.unbilled:
            unbilled["account_key"].append(key)
            unbilled["statement_date"].append(c.statement_date)
            unbilled["principal"].append(c.principal)
        for number, plan in enumerate(state.plans):
            made_from = plan_statement_date(state, plan)
            for name, value in {
                "account_key": key,
                "plan_number": number,
                "plan_id": plan.id,
                "origin": plan.origin.value,
                "statement_date": made_from,
                "created_on": plan.created_on,
                "fee_rate": plan.fee_rate,
                "principal": plan.principal,
                "fee_total": plan.fee_total,
            }.items():
                plans[name].append(value)
            for p in plan.periods:
                for name, value in {
                    "account_key": key,
                    "plan_number": number,
                    "number": p.number,
                    "due_date": p.due_date,
                    "principal": p.principal,
                    "fee": p.fee,
                    "billed": p.billed,
                }.items():
                    periods[name].append(value)
        for spell in closed:
            spells["account_key"].append(key)
            spells["bucket"].append(spell.bucket)
            spells["entered"].append(spell.entered)
            spells["left"].append(spell.left)
        relief.add_rows(key, state, arrangements, payments, set_asides)
    try:
        plan_table = _table(plans, layout.PLANS)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise Unsupported(f"installment fee rates finer than the layout's decimal(12, 6): {exc}") from None
    try:
        arrangement_table = _table(arrangements, layout.ARRANGEMENTS)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise Unsupported(f"relief plan rates finer than the layout's decimal(12, 6): {exc}") from None
    return PortfolioTables(
        accounts=_table(accounts, layout.ACCOUNTS),
        statements=_table(statements, layout.STATEMENTS),
        unbilled=_table(unbilled, layout.UNBILLED),
        plans=plan_table,
        periods=_table(periods, layout.PERIODS),
        bucket_spells=_table(spells, layout.SPELLS),
        carry_scale=scale,
        arrangements=arrangement_table,
        arrangement_payments=_table(payments, layout.ARRANGEMENT_PAYMENTS),
        arrangement_set_asides=_table(set_asides, layout.ARRANGEMENT_SET_ASIDES),
    )


def _by_account(table: pa.Table, order: Sequence[str]) -> dict[int, list[dict[str, Any]]]:
    """Rows of ``table`` grouped by ``account_key``, each group sorted by ``order``."""
    rows = table.sort_by([("account_key", "ascending"), *((name, "ascending") for name in order)])
    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows.to_pylist():
        out.setdefault(row["account_key"], []).append(row)
    return out


def _carry(units: int, scale: int) -> Decimal:
    return Decimal(units).scaleb(-scale)


def states_from_tables(tables: PortfolioTables, terms: ProductTerms) -> list[AccountState]:
    """Rebuild the accounts' states from ``tables``, in ``account_key`` order."""
    scale = tables.carry_scale
    statements = _by_account(tables.statements, ["statement_date"])
    unbilled = _by_account(tables.unbilled, ["statement_date"])
    plans = _by_account(tables.plans, ["plan_number"])
    periods = _by_account(tables.periods, ["plan_number", "number"])
    spells = _by_account(tables.bucket_spells, ["entered", "left"])
    keys, names = tables.accounts["account_key"].to_pylist(), tables.accounts["account_id"].to_pylist()
    ids = dict(zip(keys, names, strict=True))
    arrangements = relief.arrangements_by_account(
        tables.arrangements, tables.arrangement_payments, tables.arrangement_set_asides, ids
    )
    out: list[AccountState] = []
    for row in tables.accounts.sort_by("account_key").to_pylist():
        key, account_id = row["account_key"], row["account_id"]
        plan_periods: dict[int, list[InstallmentPeriod]] = {}
        for p in periods.get(key, []):
            plan_periods.setdefault(p["plan_number"], []).append(
                InstallmentPeriod(p["number"], p["due_date"], p["principal"], p["fee"], p["billed"])
            )
        history = [BucketSpell(s["bucket"], s["entered"], s["left"]) for s in spells.get(key, [])]
        if row["bucket_entered"] is not None:
            history.append(BucketSpell(row["bucket"], row["bucket_entered"]))
        grid = row["bureau_grid"]
        bureau: list[BureauMonth] = []
        if row["bureau_last_month"] is not None:
            first = add_months(date.fromisoformat(row["bureau_last_month"] + "-01"), 1 - len(grid))
            bureau = [
                BureauMonth(add_months(first, n).isoformat()[:7], status) for n, status in enumerate(grid)
            ]
        out.append(
            AccountState(
                id=account_id,
                product=row["product"],
                terms=terms,
                opened_on=row["opened_on"],
                timezone=row["timezone"],
                language=row["language"],
                credit_limit=row["credit_limit"],
                status=AccountStatus(row["status"]),
                last_eod=row["last_eod"],
                unbilled=tuple(
                    UnbilledCycle(c["statement_date"], c["principal"]) for c in unbilled.get(key, [])
                ),
                statements=tuple(
                    Statement(
                        id=statement_id(account_id, s["statement_date"]),
                        statement_date=s["statement_date"],
                        due_date=s["due_date"],
                        amount=s["amount"],
                        minimum=s["minimum"],
                        new_principal=s["new_principal"],
                        carried_principal=s["carried_principal"],
                        installment_principal=s["installment_principal"],
                        interest=s["interest"],
                        overdue_interest=s["overdue_interest"],
                        fees=s["fees"],
                        paid=s["paid"],
                        late_charges=s["late_charges"],
                        interest_carry=_carry(s["interest_carry"], scale),
                        installed=s["installed"],
                        closed_on=s["closed_on"],
                        original_due_date=s["original_due_date"],
                    )
                    for s in statements.get(key, [])
                ),
                plans=tuple(
                    InstallmentPlan(
                        id=p["plan_id"],
                        statement_id=(
                            None
                            if p["statement_date"] is None
                            else statement_id(account_id, p["statement_date"])
                        ),
                        created_on=p["created_on"],
                        fee_rate=p["fee_rate"],
                        principal=p["principal"],
                        fee_total=p["fee_total"],
                        periods=tuple(plan_periods.get(p["plan_number"], [])),
                        origin=PlanOrigin(p["origin"]),
                    )
                    for p in plans.get(key, [])
                ),
                days_past_due=row["days_past_due"],
                bucket=row["bucket"],
                bucket_history=tuple(history),
                bureau=tuple(bureau),
                written_off_on=row["written_off_on"],
                negative_notice_on=row["negative_notice_on"],
                last_deferral_on=row["last_deferral_on"],
                arrangement=arrangements.get(key),
            )
        )
    return out


def transactions_from_postings(postings: pa.Table, accounts: pa.Table) -> list[Transaction]:
    """The ledger transactions of a day's posting rows, in the order the reference runner returns them
    (by account; interest by statement, then the write-off, then the installment fee).

    accounts: the ``accounts`` table, to name each account by its id.
    """
    ids = dict(zip(accounts["account_key"].to_pylist(), accounts["account_id"].to_pylist(), strict=True))
    groups: dict[tuple[int, str, date | None], list[dict[str, Any]]] = {}
    for row in postings.to_pylist():
        groups.setdefault((row["account_key"], row["kind"], row["statement_date"]), []).append(row)

    def order(key: tuple[int, str, date | None]) -> tuple[int, int, date]:
        account_key, kind, statement_date = key
        return account_key, KIND_ORDER[TransactionKind(kind)], statement_date or date.min

    out: list[Transaction] = []
    for key in sorted(groups, key=order):
        rows = sorted(groups[key], key=lambda r: r["posting_order"])
        account_id = ids[key[0]]
        out.append(
            Transaction(
                account_id,
                rows[0]["business_date"],
                TransactionKind(key[1]),
                tuple(Posting(LedgerAccount(r["ledger_account"]), r["amount"]) for r in rows),
                statement_id=None if key[2] is None else statement_id(account_id, key[2]),
                memo=rows[0]["memo"],
            )
        )
    return out


def spells_of(table: pa.Table, accounts: pa.Table) -> list[tuple[str, BucketSpell]]:
    """A day's bucket-spell rows as ``(account id, spell)``, sorted."""
    ids = dict(zip(accounts["account_key"].to_pylist(), accounts["account_id"].to_pylist(), strict=True))
    rows: Iterable[dict[str, Any]] = table.to_pylist()
    return sorted(
        ((ids[r["account_key"]], BucketSpell(r["bucket"], r["entered"], r["left"])) for r in rows),
        key=lambda pair: (pair[0], pair[1].entered, pair[1].left or date.max),
    )
