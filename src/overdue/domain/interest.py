"""Daily interest: overdue interest on statements not paid to their minimum, revolving interest on the rest.

One end-of-day run accrues one day. For each statement, the interest-bearing principal is

- after the due date (and grace): all its unpaid principal;
- before it: only principal carried over from an earlier statement (new purchases are interest-free until
  the due date).

A statement past due with less than its minimum paid is *delinquent*: its principal accrues **overdue
interest**, which is also a late charge (it raises what must be paid to cure). Otherwise the principal accrues
**revolving interest**. Interest is simple: interest never bears interest.

Rounding: the exact interest (principal × daily rate, in fractions of a fen) is added to the statement's
``interest_carry``; the carry is rounded half-up to whole fen and that much is posted, the rest stays in the
carry. So interest is accrued exactly and posted daily: what was posted plus the carry is always the exact
interest. The carry is within half a fen of zero, or, on a statement that carried earlier ones over
(:mod:`overdue.domain.billing`: it takes the sum of their carries), within half a fen for each carry it
holds. Such a carry can be below minus half a fen; it is never rounded to a negative amount — nothing is
taken back and no fen is made up — but stays in the carry until the interest accrued after it makes it
positive, so no fen of interest is ever posted that was not accrued.
"""

from __future__ import annotations

from datetime import date

from overdue.domain.ledger import LedgerAccount, Transaction, TransactionKind, transfer
from overdue.domain.money import round_half_up
from overdue.domain.records import replace
from overdue.domain.state import AccountState, AccountStatus, Statement


def interest_bearing_principal(statement: Statement, on: date, grace_days: int) -> int:
    """The principal of ``statement`` that bears interest on ``on`` (from its original due date when relief
    moved it: a deferred statement bears revolving interest meanwhile)."""
    if (on - (statement.original_due_date or statement.due_date)).days > grace_days:
        return statement.principal
    return statement.carried_principal


def accrue(state: AccountState, on: date) -> tuple[AccountState, list[Transaction]]:
    """Accrue one day of interest, ``on``, on every open statement of the account."""
    if state.status is AccountStatus.WRITTEN_OFF or state.closed_with_nothing_owed:
        return state, []
    terms = state.terms
    if not any(interest_bearing_principal(s, on, terms.grace_days) for s in state.statements):
        return state, []
    transactions: list[Transaction] = []
    statements: list[Statement] = []
    for statement in state.statements:
        base = interest_bearing_principal(statement, on, terms.grace_days)
        if base == 0:
            statements.append(statement)
            continue
        delinquent = statement.is_delinquent(on, terms.grace_days)
        rate = terms.overdue_daily_rate if delinquent else terms.revolving_daily_rate
        carry = statement.interest_carry + base * rate
        # Only a positive amount is posted; a carry below minus half a fen stays as it is (module docstring).
        posted = max(round_half_up(carry), 0)
        carry -= posted
        if posted > 0 and delinquent:
            statement = replace(
                statement,
                interest_carry=carry,
                overdue_interest=statement.overdue_interest + posted,
                late_charges=statement.late_charges + posted,
            )
            kind, income = TransactionKind.OVERDUE_INTEREST, LedgerAccount.OVERDUE_INTEREST_INCOME
        elif posted > 0:
            statement = replace(statement, interest_carry=carry, interest=statement.interest + posted)
            kind, income = TransactionKind.REVOLVING_INTEREST, LedgerAccount.REVOLVING_INTEREST_INCOME
        else:
            statements.append(replace(statement, interest_carry=carry))
            continue
        statements.append(statement)
        transactions.append(
            transfer(state.id, on, kind, LedgerAccount.INTEREST, income, posted, statement_id=statement.id)
        )
    return replace(state, statements=tuple(statements)), transactions
