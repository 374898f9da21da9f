"""Statements: what is billed on the statement day, and the minimum payment.

On the statement day (the 1st) a new statement bills:

- the purchases of the cycle that just ended (interest-free until the new due date);
- installment periods falling due on the new due date (principal and that period's fee);
- everything still unpaid on earlier statements that were paid at least to their minimum: principal is
  *carried* (it keeps bearing revolving interest), interest (overdue interest stays overdue interest) and
  fees come along as they are.

Statements not paid to their minimum stay where they are: they are overdue, and DPD counts from them.

The **minimum payment** is 10 % of the statement's purchase and carried principal (rounded half-up to the
fen) plus 100 % of its installments, fees and interest. Nothing to bill means no statement that month.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from overdue.domain.calendar import due_date_for
from overdue.domain.ledger import LedgerAccount, Transaction, TransactionKind, transfer
from overdue.domain.money import Fen, round_half_up
from overdue.domain.records import replace
from overdue.domain.state import AccountState, AccountStatus, InstallmentPlan, Statement
from overdue.domain.terms import ProductTerms


def statement_id(account_id: str, statement_date: date) -> str:
    return f"{account_id}/{statement_date.isoformat()}"


def statement_date_of(account_id: str, statement: str) -> date | None:
    """The date in ``statement``, an id of ``account_id``'s statements (:func:`statement_id`); None when the
    id does not follow that pattern."""
    try:
        day = date.fromisoformat(statement.removeprefix(f"{account_id}/"))
    except ValueError:
        return None
    return day if statement == statement_id(account_id, day) else None


def minimum_payment(principal: Fen, installments: Fen, interest: Fen, fees: Fen, terms: ProductTerms) -> Fen:
    """The minimum payment of a statement.

    principal: purchase and carried principal billed (10 % of it is due);
    installments: installment principal billed (100 % due); interest, fees: billed interest and fees (100 %).
    """
    share = round_half_up(Decimal(principal) * terms.minimum_principal_share)
    return share + installments + interest + fees


def minimum_of(statement: Statement, terms: ProductTerms) -> Fen:
    """The minimum payment for what is unpaid on ``statement`` now (used when its terms change)."""
    return minimum_payment(
        statement.new_principal + statement.carried_principal,
        statement.installment_principal,
        statement.interest + statement.overdue_interest,
        statement.fees,
        terms,
    )


def bill(state: AccountState, on: date) -> tuple[AccountState, list[Transaction]]:
    """Issue the statement of ``on`` if ``on`` is the statement day and there is anything to bill."""
    terms = state.terms
    if on.day != terms.statement_day:
        return state, []
    if state.status is AccountStatus.WRITTEN_OFF or state.closed_with_nothing_owed:
        return state, []
    due = due_date_for(on, terms.due_day)
    new_principal = sum(c.principal for c in state.unbilled if c.statement_date <= on)
    unbilled = tuple(c for c in state.unbilled if c.statement_date > on)

    installment_principal = installment_fee = 0
    plans: list[InstallmentPlan] = []
    for plan in state.plans:
        periods = []
        for period in plan.periods:
            if not period.billed and period.due_date <= due:
                installment_principal += period.principal
                installment_fee += period.fee
                period = replace(period, billed=True)
            periods.append(period)
        plans.append(replace(plan, periods=tuple(periods)))

    carried = carried_interest = carried_overdue_interest = carried_fees = 0
    carry = Decimal(0)
    statements: list[Statement] = []
    for old in state.statements:
        # A statement not yet due (its due date deferred past this statement day) is not carried.
        if old.outstanding > 0 and old.due_date < on and not old.is_delinquent(on, terms.grace_days):
            carried += old.principal
            carried_interest += old.interest
            carried_overdue_interest += old.overdue_interest
            carried_fees += old.fees
            carry += old.interest_carry
            old = replace(
                old,
                new_principal=0,
                carried_principal=0,
                installment_principal=0,
                interest=0,
                overdue_interest=0,
                fees=0,
                interest_carry=Decimal(0),
                closed_on=on,
            )
        statements.append(old)

    fees = carried_fees + installment_fee
    amount = (
        new_principal + carried + installment_principal + carried_interest + carried_overdue_interest + fees
    )
    state = replace(state, unbilled=unbilled, plans=tuple(plans))
    if amount == 0:
        return state, []
    statement = Statement(
        id=statement_id(state.id, on),
        statement_date=on,
        due_date=due,
        amount=amount,
        minimum=minimum_payment(
            new_principal + carried,
            installment_principal,
            carried_interest + carried_overdue_interest,
            fees,
            terms,
        ),
        new_principal=new_principal,
        carried_principal=carried,
        installment_principal=installment_principal,
        interest=carried_interest,
        overdue_interest=carried_overdue_interest,
        fees=fees,
        interest_carry=carry,
    )
    transactions = installment_fee_posting(state.id, on, installment_fee, statement.id)
    return replace(state, statements=(*statements, statement)), transactions


def installment_fee_posting(
    account_id: str, on: date, fee: Fen, statement_id: str, memo: str | None = None
) -> list[Transaction]:
    """The transaction that bills installment fees on a statement (none for a zero fee)."""
    if not fee:
        return []
    return [
        transfer(
            account_id,
            on,
            TransactionKind.INSTALLMENT_FEE,
            LedgerAccount.FEES,
            LedgerAccount.INSTALLMENT_FEE_INCOME,
            fee,
            statement_id=statement_id,
            memo=memo,
        )
    ]
