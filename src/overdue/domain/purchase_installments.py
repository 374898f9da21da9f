"""Purchase installments (消费分期): a purchase repaid in 3, 6, 9 or 12 monthly periods, chosen when buying.

- Offered for the numbers of periods, and at the total fee rates, of bill installments
  (``terms.installment_fee_rates``; huabei 2.5 %, 4.5 %, 6.5 %, 8.8 %), for a purchase of at least
  ``min_installment_principal`` (100.00), on an active line, within the available credit.
- The total fee is ``amount × rate``, rounded half-up to the fen. Principal and fee are each split evenly over
  the periods, the remainder in the first (:func:`overdue.domain.money.split_evenly`).
- Period 1 is billed by the statement that would have billed the purchase (the next statement day) and is due
  on that statement's due date; period k is billed by the k-th statement and due on its due date. The purchase
  never joins the cycle's unbilled purchases: its principal waits in the plan, and each statement bills one
  period, 100 % of it part of that statement's minimum.
- The whole amount uses the credit line at once; each repaid period frees its principal (as with bill
  installments). Repaying more than what is billed prepays the plan's next periods' principal
  (:mod:`overdue.domain.allocation`); their fees are still billed when they fall due.
- The quote shows the annualised rate as bill installments do: the monthly internal rate of return × 12, with
  the amount received now and one payment a month from a month later
  (:func:`overdue.domain.installments.annual_rate`). 6 periods at 4.5 % is 15.27 %.

Ledger: the purchase posts one ``purchase`` transaction for the whole amount (Dr ``principal``, Cr
``merchant_payable``) when it is made; each period's fee is posted by the statement that bills it, in that
statement's ``installment_fee`` transaction (Dr ``fees``, Cr ``income:installment_fee``). No fee is posted
before it is billed, so a plan whose principal is forgiven by relief never posts its later fees.

Each refusal is a :class:`~overdue.domain.errors.PurchaseInstallmentsRefused` naming its rule (see the
``RULE_*`` constants).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from overdue.domain.calendar import add_months, due_date_for, next_statement_date
from overdue.domain.delinquency import status_for_purchase
from overdue.domain.errors import PurchaseInstallmentsRefused
from overdue.domain.installments import annual_rate
from overdue.domain.ledger import LedgerAccount, Transaction, TransactionKind, transfer
from overdue.domain.money import Fen, format_yuan, round_half_up, split_evenly
from overdue.domain.state import AccountState, AccountStatus, InstallmentPeriod, InstallmentPlan, PlanOrigin

RULE_PERIODS = "purchase_installments.periods_not_offered"
"""The product offers no plan of that many periods."""
RULE_MINIMUM = "purchase_installments.below_minimum_principal"
"""The purchase is smaller than ``min_installment_principal``."""
RULE_LINE = "purchase_installments.line_not_usable"
"""The line is frozen (or overdue since midnight), closed or written off."""
RULE_CREDIT = "purchase_installments.over_available_credit"
"""The purchase is more than the available credit."""


@dataclass(frozen=True)
class PurchaseInstallmentQuote:
    """What a purchase of ``principal`` in ``periods`` installments costs, period by period."""

    purchased_on: date
    periods: int
    principal: Fen
    """The purchase amount, all of it in the plan."""
    fee_rate: Decimal
    fee_total: Fen
    first_statement: date
    """The statement day that bills period 1: the one that would have billed the purchase."""
    schedule: tuple[InstallmentPeriod, ...]
    annual_rate: Decimal
    """IRR per month × 12, as a fraction (0.1527 = 15.27 %)."""
    available_credit_after: Fen
    """The available credit once the purchase is made."""
    plan_id: str | None = None
    """The plan's id once booked; None in a quote."""


def plan_id(account_id: str, on: date, number: int) -> str:
    """The id of the ``number``-th purchase plan of ``account_id`` made on ``on``.

    ``A1/2026-01-10/purchase-1``: unlike a bill-installment plan's, it names no statement.
    """
    return f"{account_id}/{on.isoformat()}/purchase-{number}"


def quote(state: AccountState, on: date, amount: Fen, periods: int) -> PurchaseInstallmentQuote:
    """What buying ``amount`` fen on ``on`` in ``periods`` installments would cost, without changing anything.

    Raises :class:`PurchaseInstallmentsRefused` when a rule refuses it (checked in the order of the
    ``RULE_*`` constants).
    """
    terms = state.terms
    rate = terms.installment_fee_rate(periods)
    if rate is None:
        offered = ", ".join(str(p) for p, _ in terms.installment_fee_rates)
        raise PurchaseInstallmentsRefused(
            f"{periods} periods are not offered; choose one of {offered}", RULE_PERIODS
        )
    if amount < terms.min_installment_principal:
        raise PurchaseInstallmentsRefused(
            f"a purchase of {format_yuan(amount)} is too small for installments: they need at least "
            f"{format_yuan(terms.min_installment_principal)}",
            RULE_MINIMUM,
        )
    status = status_for_purchase(state, on)
    if status is not AccountStatus.ACTIVE:
        raise PurchaseInstallmentsRefused(
            f"the credit line of account {state.id} is {status}; "
            "purchases in installments need an active line",
            RULE_LINE,
        )
    if amount > state.available_credit:
        raise PurchaseInstallmentsRefused(
            f"purchase {format_yuan(amount)} is more than the available credit "
            f"{format_yuan(state.available_credit)}",
            RULE_CREDIT,
        )
    first_statement = next_statement_date(on, terms.statement_day)
    first_due = due_date_for(first_statement, terms.due_day)
    fee_total = round_half_up(Decimal(amount) * rate)
    schedule = tuple(
        InstallmentPeriod(n + 1, add_months(first_due, n), principal, fee)
        for n, (principal, fee) in enumerate(
            zip(split_evenly(amount, periods), split_evenly(fee_total, periods), strict=True)
        )
    )
    return PurchaseInstallmentQuote(
        purchased_on=on,
        periods=periods,
        principal=amount,
        fee_rate=rate,
        fee_total=fee_total,
        first_statement=first_statement,
        schedule=schedule,
        annual_rate=annual_rate(amount, [p.principal + p.fee for p in schedule]),
        available_credit_after=state.available_credit - amount,
    )


def book(
    state: AccountState, on: date, amount: Fen, periods: int
) -> tuple[AccountState, list[Transaction], PurchaseInstallmentQuote]:
    """Buy ``amount`` fen on ``on`` in ``periods`` installments: the plan, and the purchase transaction.

    The caller checks the amount and that ``on`` is the account's open business date
    (:func:`overdue.domain.account.purchase` does).
    """
    offer = quote(state, on, amount, periods)
    # Plans made today are all unfinished today (none is billed before the next statement day), so they are
    # all in ``state.plans`` and counting them gives a fresh number.
    number = 1 + sum(1 for p in state.plans if p.origin is PlanOrigin.PURCHASE and p.created_on == on)
    plan = InstallmentPlan(
        id=plan_id(state.id, on, number),
        statement_id=None,
        created_on=on,
        fee_rate=offer.fee_rate,
        principal=amount,
        fee_total=offer.fee_total,
        periods=offer.schedule,
        origin=PlanOrigin.PURCHASE,
    )
    transaction = transfer(
        state.id,
        on,
        TransactionKind.PURCHASE,
        LedgerAccount.PRINCIPAL,
        LedgerAccount.MERCHANT_PAYABLE,
        amount,
        memo=f"purchase in {periods} installments ({plan.id})",
    )
    state = dataclasses.replace(state, plans=(*state.plans, plan))
    return state, [transaction], dataclasses.replace(offer, plan_id=plan.id)
