"""Bill installments (账单分期): turn a statement's principal into 3, 6, 9 or 12 monthly payments.

- Allowed on the latest statement, on or before its due date, once, while the line is usable, for at least
  ``min_installment_principal`` (100.00) of principal.
- The total fee is ``principal × rate`` for the chosen number of periods (huabei: 2.5 %, 4.5 %, 6.5 %,
  8.8 %), rounded half-up to the fen. Principal and fee are each split evenly over the periods, the
  remainder in the first period.
- The first period is due on this statement's due date; the next ones on the following due dates, billed by
  their statements. The plan's principal keeps using the credit line; each repaid period frees it.
- Every quote shows the annualised rate: the monthly internal rate of return of the schedule × 12 (the
  borrower receives the principal now and pays one period a month from a month later). 12 periods at 8.8 %
  is 15.87 % ("about 15.9 %").

Purchase installments (消费分期), chosen when buying, are :mod:`overdue.domain.purchase_installments`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from overdue.domain.billing import installment_fee_posting, minimum_of
from overdue.domain.calendar import add_months
from overdue.domain.errors import InstallmentsRefused, NotFound
from overdue.domain.ledger import Transaction
from overdue.domain.money import Fen, format_yuan, round_half_up, split_evenly
from overdue.domain.state import AccountState, AccountStatus, InstallmentPeriod, InstallmentPlan, Statement


@dataclass(frozen=True)
class InstallmentQuote:
    statement_id: str
    periods: int
    principal: Fen
    fee_rate: Decimal
    fee_total: Fen
    schedule: tuple[InstallmentPeriod, ...]
    annual_rate: Decimal
    """IRR per month × 12, as a fraction (0.1586 = 15.86 %)."""


def monthly_irr(principal: Fen, payments: Sequence[Fen]) -> Decimal:
    """The monthly rate r with ``principal = Σ payments[k] / (1 + r)^(k+1)``, by bisection, to 1e-12."""
    if principal <= 0 or sum(payments) < principal:
        raise ValueError("an IRR needs a positive principal repaid at least in full")
    with localcontext() as ctx:
        ctx.prec = 40
        low, high = Decimal(0), Decimal(1)
        for _ in range(80):
            mid = (low + high) / 2
            value = sum(Decimal(p) / (1 + mid) ** (k + 1) for k, p in enumerate(payments))
            if value > principal:
                low = mid
            else:
                high = mid
        return (low + high) / 2


def annual_rate(principal: Fen, payments: Sequence[Fen]) -> Decimal:
    """The annualised rate a quote must show: monthly IRR × 12, to four places (0.1590)."""
    return (monthly_irr(principal, payments) * 12).quantize(Decimal("0.0001"))


def _eligible_statement(state: AccountState, statement_id: str, on: date) -> Statement:
    statement = next((s for s in state.statements if s.id == statement_id), None)
    if statement is None:
        raise NotFound(f"account {state.id} has no open statement {statement_id}")
    latest = state.latest_statement()
    if latest is None or latest.id != statement.id:
        raise InstallmentsRefused(f"statement {statement_id} is not the latest statement")
    if state.status is not AccountStatus.ACTIVE:
        raise InstallmentsRefused(f"the credit line is {state.status}; installments need an active line")
    if on > statement.due_date:
        raise InstallmentsRefused(
            f"statement {statement_id} was due on {statement.due_date.isoformat()}; "
            "installments must be chosen on or before the due date"
        )
    if statement.installed:
        raise InstallmentsRefused(f"statement {statement_id} is already in installments")
    principal = statement.new_principal + statement.carried_principal
    if principal == 0:
        raise InstallmentsRefused(f"statement {statement_id} has no unpaid principal to put in installments")
    if principal < state.terms.min_installment_principal:
        raise InstallmentsRefused(
            f"statement {statement_id} has {format_yuan(principal)} of principal; installments need at least "
            f"{format_yuan(state.terms.min_installment_principal)}"
        )
    return statement


def quote(state: AccountState, statement_id: str, periods: int, on: date) -> InstallmentQuote:
    """What ``periods`` installments of the statement would cost, without changing anything."""
    statement = _eligible_statement(state, statement_id, on)
    rate = state.terms.installment_fee_rate(periods)
    if rate is None:
        offered = ", ".join(str(p) for p, _ in state.terms.installment_fee_rates)
        raise InstallmentsRefused(f"{periods} periods are not offered; choose one of {offered}")
    principal = statement.new_principal + statement.carried_principal
    fee_total = round_half_up(Decimal(principal) * rate)
    schedule = tuple(
        InstallmentPeriod(n + 1, add_months(statement.due_date, n), p, f)
        for n, (p, f) in enumerate(
            zip(split_evenly(principal, periods), split_evenly(fee_total, periods), strict=True)
        )
    )
    payments = [p.principal + p.fee for p in schedule]
    return InstallmentQuote(
        statement.id, periods, principal, rate, fee_total, schedule, annual_rate(principal, payments)
    )


def convert(
    state: AccountState, statement_id: str, periods: int, on: date
) -> tuple[AccountState, list[Transaction], InstallmentQuote]:
    """Put the statement's principal into installments: period 1 billed on it now, the rest later."""
    offer = quote(state, statement_id, periods, on)
    statement = next(s for s in state.statements if s.id == statement_id)
    first, *later = offer.schedule
    statement = dataclasses.replace(
        statement,
        new_principal=0,
        carried_principal=0,
        installment_principal=statement.installment_principal + first.principal,
        fees=statement.fees + first.fee,
        installed=True,
    )
    # The minimum becomes 100 % of what is now unpaid on the statement, on top of what was already paid.
    statement = dataclasses.replace(
        statement,
        minimum=statement.paid + minimum_of(statement, state.terms),
        amount=statement.paid + statement.outstanding,
    )
    plan = InstallmentPlan(
        id=f"{statement_id}/installments",
        statement_id=statement_id,
        created_on=on,
        fee_rate=offer.fee_rate,
        principal=offer.principal,
        fee_total=offer.fee_total,
        periods=(dataclasses.replace(first, billed=True), *later),
    )
    statements = tuple(statement if s.id == statement_id else s for s in state.statements)
    plans = (*state.plans, plan) if not plan.is_finished else state.plans
    state = dataclasses.replace(state, statements=statements, plans=plans)
    transactions = installment_fee_posting(
        state.id, on, first.fee, statement_id, f"installment 1 of {periods}"
    )
    return state, transactions, offer
