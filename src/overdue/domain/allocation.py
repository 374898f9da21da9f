"""Repayment allocation: which debts a repayment pays, in which order.

1. Statements oldest first.
2. Within a statement, while its DPD is at most ``principal_first_after_dpd`` (90): fees, then overdue
   interest, then interest, then principal (carried, installment, new). Beyond it: principal first, then
   overdue interest, interest and fees (the credit-card rule, Art. 57 of the 2011 measures).
3. Then purchases not yet billed, oldest cycle first (a prepayment).
4. Then the principal of installment periods not yet billed, next period first (a prepayment: those
   periods bill less principal later; their fees are still billed when they fall due).

A repayment larger than everything owed is **refused** (no overpayment credit is held): the error names
the most that can be paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from overdue.domain.errors import RepaymentTooLarge
from overdue.domain.ledger import WRITTEN_OFF, LedgerAccount, Posting, Transaction, TransactionKind
from overdue.domain.money import Fen, format_yuan
from overdue.domain.records import replace
from overdue.domain.state import AccountState, AccountStatus, InstallmentPlan, Statement, UnbilledCycle

FEES_FIRST = (
    "fees",
    "overdue_interest",
    "interest",
    "carried_principal",
    "installment_principal",
    "new_principal",
)
PRINCIPAL_FIRST = (
    "carried_principal",
    "installment_principal",
    "new_principal",
    "overdue_interest",
    "interest",
    "fees",
)

_LEDGER = {
    "fees": LedgerAccount.FEES,
    "overdue_interest": LedgerAccount.INTEREST,
    "interest": LedgerAccount.INTEREST,
    "carried_principal": LedgerAccount.PRINCIPAL,
    "installment_principal": LedgerAccount.PRINCIPAL,
    "new_principal": LedgerAccount.PRINCIPAL,
}


@dataclass(frozen=True)
class AllocationLine:
    """``amount`` of a repayment went to ``component`` of ``target`` (statement id, ``unbilled``, plan id)."""

    target: str
    component: str
    amount: Fen


def repayable(state: AccountState) -> Fen:
    """The most a repayment can be today."""
    return sum(s.outstanding for s in state.statements) + state.unbilled_principal + state.plan_principal


def component_order(statement: Statement, on: date, state: AccountState) -> tuple[str, ...]:
    dpd = statement.days_past_due(on, state.terms.grace_days)
    return PRINCIPAL_FIRST if dpd > state.terms.principal_first_after_dpd else FEES_FIRST


def apply_repayment(
    state: AccountState, on: date, amount: Fen
) -> tuple[AccountState, Transaction, tuple[AllocationLine, ...]]:
    """Allocate ``amount`` (fen, positive) and return the new state, its transaction and the allocation."""
    most = repayable(state)
    if amount > most:
        raise RepaymentTooLarge(
            f"repayment {format_yuan(amount)} is more than the {format_yuan(most)} that can be repaid on "
            f"{on.isoformat()}; overpayments are not held"
        )
    left = amount
    lines: list[AllocationLine] = []
    statements: list[Statement] = []
    for statement in sorted(state.statements, key=lambda s: s.statement_date):
        owed = {component: getattr(statement, component) for component in FEES_FIRST}
        paid_here = 0
        for component in component_order(statement, on, state):
            take = min(owed[component], left)
            if take:
                owed[component] -= take
                lines.append(AllocationLine(statement.id, component, take))
                left -= take
                paid_here += take
        if paid_here:
            statement = replace(
                statement,
                fees=owed["fees"],
                overdue_interest=owed["overdue_interest"],
                interest=owed["interest"],
                carried_principal=owed["carried_principal"],
                installment_principal=owed["installment_principal"],
                new_principal=owed["new_principal"],
                paid=statement.paid + paid_here,
            )
            if statement.outstanding == 0:
                statement = replace(statement, closed_on=on)
        statements.append(statement)

    unbilled: list[UnbilledCycle] = []
    for cycle in sorted(state.unbilled, key=lambda c: c.statement_date):
        take = min(cycle.principal, left)
        if take:
            lines.append(AllocationLine("unbilled", "new_principal", take))
            left -= take
        if cycle.principal - take:
            unbilled.append(replace(cycle, principal=cycle.principal - take))

    plans: list[InstallmentPlan] = []
    for plan in state.plans:
        periods = []
        for period in plan.periods:
            take = min(period.principal, left) if not period.billed else 0
            if take:
                lines.append(AllocationLine(plan.id, "installment_principal", take))
                left -= take
                period = replace(period, principal=period.principal - take)
            periods.append(period)
        plans.append(replace(plan, periods=tuple(periods)))
    assert left == 0, "repayable() and the allocation disagree"

    written_off = state.status is AccountStatus.WRITTEN_OFF
    credits: dict[LedgerAccount, Fen] = {}
    for line in lines:
        ledger_account = _LEDGER[line.component]
        if written_off:
            ledger_account = WRITTEN_OFF[ledger_account]
        credits[ledger_account] = credits.get(ledger_account, 0) + line.amount
    postings = (
        Posting(LedgerAccount.REPAYMENT_CLEARING, amount),
        *(Posting(account, -value) for account, value in credits.items()),
    )
    kind = TransactionKind.RECOVERY if written_off else TransactionKind.REPAYMENT
    transaction = Transaction(state.id, on, kind, postings)
    state = replace(state, statements=tuple(statements), unbilled=tuple(unbilled), plans=tuple(plans))
    return state, transaction, tuple(lines)
