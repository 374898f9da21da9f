"""What every relief option shares: the quote, the balance fingerprint, refusals, and waiving on statements.

- A :class:`ReliefQuote` says what is paid when, the total cost, the annualised rate, what is waived, and
  the effect on the credit line and the bureau. It carries the :func:`fingerprint` of the balance it was made
  on: accepting it after the balance changed (a repayment, a day's interest, a new statement) is refused
  (:class:`~overdue.domain.errors.StaleQuote`).
- Every refusal is a :class:`~overdue.domain.errors.ReliefRefused` naming its rule, e.g.
  ``relief.deferral.once_per_window``.
- :func:`waive_interest_and_fees` takes interest and fees off the statements, oldest first, and posts the
  waiver (Dr ``expense:waiver``, Cr ``interest`` / ``fees``; their ``written_off:*`` claims once written
  off); :func:`restore` puts back what a broken plan had set aside; :func:`waive_everything` forgives the
  whole balance when a settlement is paid.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from overdue.domain.errors import ReliefRefused, StaleQuote
from overdue.domain.ledger import WRITTEN_OFF, LedgerAccount, Posting, Transaction, TransactionKind
from overdue.domain.money import Fen, format_yuan
from overdue.domain.relief_state import SetAside
from overdue.domain.state import AccountState, AccountStatus, InstallmentPlan, Statement

KINDS = ("minimum", "installments", "deferral", "waiver", "settlement", "plan")


@dataclass(frozen=True)
class QuotedPayment:
    """One payment a quote asks for: ``amount`` due on ``due_date`` (number 0: a plan's down payment)."""

    number: int
    due_date: date
    amount: Fen
    principal: Fen = 0
    interest: Fen = 0
    fee: Fen = 0


@dataclass(frozen=True)
class Effect:
    """An effect of a relief option in both languages, with a stable ``code``."""

    code: str
    en: str
    zh: str


@dataclass(frozen=True)
class ReliefQuote:
    """What a relief option would do, computed on one balance and changing nothing."""

    kind: str
    account_id: str
    quoted_on: date
    fingerprint: str
    payments: tuple[QuotedPayment, ...]
    total_cost: Fen
    """Interest and fees the option adds to what is owed now (an estimate for minimum and deferral)."""
    annual_rate: Decimal | None
    """The annualised cost (IRR per month × 12, or the daily rate × 365), a fraction; None: nothing lent."""
    waived: Fen
    """What is forgiven (needs an approval by a user whose role covers it)."""
    line: Effect
    bureau: Effect
    details: tuple[tuple[str, str], ...] = ()
    """Option-specific terms as text (statement, days, new due date, …)."""

    @property
    def needs_approval(self) -> bool:
        return self.waived > 0


def quote_json(quote: ReliefQuote) -> dict[str, Any]:
    """The quote at the edge: amounts as yuan strings, rates as decimal strings."""
    return {
        "kind": quote.kind,
        "account_id": quote.account_id,
        "quoted_on": quote.quoted_on.isoformat(),
        "fingerprint": quote.fingerprint,
        "payments": [
            {
                "number": p.number,
                "due_date": p.due_date.isoformat(),
                "amount": format_yuan(p.amount),
                "principal": format_yuan(p.principal),
                "interest": format_yuan(p.interest),
                "fee": format_yuan(p.fee),
            }
            for p in quote.payments
        ],
        "total_to_pay": format_yuan(sum(p.amount for p in quote.payments)),
        "total_cost": format_yuan(quote.total_cost),
        "annual_rate": None if quote.annual_rate is None else str(quote.annual_rate),
        "waived": format_yuan(quote.waived),
        "needs_approval": quote.needs_approval,
        "line": {"effect": quote.line.code, "en": quote.line.en, "zh-CN": quote.line.zh},
        "bureau": {"effect": quote.bureau.code, "en": quote.bureau.en, "zh-CN": quote.bureau.zh},
        **dict(quote.details),
    }


def fingerprint(state: AccountState) -> str:
    """A short hash of everything the account owes and how: changes with any repayment, interest or bill.

    The business date is not part of it, so a quote stays good across days on which nothing moved.
    """
    parts = (
        state.id,
        str(state.status),
        tuple(
            (
                s.id,
                s.due_date,
                s.minimum,
                s.new_principal,
                s.carried_principal,
                s.installment_principal,
                s.interest,
                s.overdue_interest,
                s.fees,
                s.paid,
                s.late_charges,
            )
            for s in state.statements
        ),
        tuple((c.statement_date, c.principal) for c in state.unbilled),
        tuple((p.id, p.unbilled_principal) for p in state.plans),
        None if state.arrangement is None or not state.arrangement.is_active else state.arrangement.id,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def check_fresh(state: AccountState, quoted: str) -> None:
    """Refuse to accept a quote made on a balance that has changed since."""
    current = fingerprint(state)
    if quoted != current:
        raise StaleQuote(
            f"the quote was made on a balance that has changed since (fingerprint {quoted}, now {current}); "
            "ask for a new quote"
        )


def refuse(rule: str, message: str) -> ReliefRefused:
    """A refusal naming its rule: ``raise refuse("relief.deferral.max_days", "…")``."""
    return ReliefRefused(f"{message} [{rule}]", rule)


def check_open_account(state: AccountState, kind: str, *, written_off_allowed: bool = False) -> None:
    """Relief is for accounts with something owed (a line closed with a balance may still get relief) and,
    but for settlements and waivers, not written off."""
    if state.closed_with_nothing_owed:
        raise refuse(f"relief.{kind}.account_closed", f"account {state.id} is closed")
    if state.status is AccountStatus.WRITTEN_OFF and not written_off_allowed:
        raise refuse(f"relief.{kind}.written_off", f"account {state.id} is written off")


def check_no_arrangement(state: AccountState, kind: str) -> None:
    """One arrangement at a time: nothing else while a plan or settlement is kept."""
    arrangement = state.arrangement
    if arrangement is not None and arrangement.is_active:
        raise refuse(
            "relief.arrangement.active",
            f"account {state.id} has an active {arrangement.kind} ({arrangement.id}); no {kind} meanwhile",
        )


def _receivable(state: AccountState, account: LedgerAccount) -> LedgerAccount:
    return WRITTEN_OFF[account] if state.status is AccountStatus.WRITTEN_OFF else account


def waiver_transaction(
    state: AccountState,
    on: date,
    principal: Fen,
    interest: Fen,
    fees: Fen,
    memo: str,
    *,
    restore: bool = False,
) -> Transaction | None:
    """Dr ``expense:waiver``, Cr the receivables (reversed when ``restore``); None when nothing moves."""
    sign = -1 if restore else 1
    postings = [
        Posting(_receivable(state, account), -sign * amount)
        for account, amount in (
            (LedgerAccount.PRINCIPAL, principal),
            (LedgerAccount.INTEREST, interest),
            (LedgerAccount.FEES, fees),
        )
        if amount
    ]
    total = principal + interest + fees
    if not total:
        return None
    return Transaction(
        state.id,
        on,
        TransactionKind.WAIVER,
        (Posting(LedgerAccount.WAIVER_EXPENSE, sign * total), *postings),
        memo=memo,
    )


def _settle(statement: Statement, on: date) -> Statement:
    """Keep the minimum within what can still be paid; close a statement with nothing left."""
    statement = dataclasses.replace(
        statement, minimum=min(statement.minimum, statement.paid + statement.outstanding)
    )
    if statement.outstanding == 0 and statement.closed_on is None:
        statement = dataclasses.replace(statement, closed_on=on)
    return statement


def waive_interest_and_fees(
    state: AccountState, on: date, interest: Fen, fees: Fen, memo: str
) -> tuple[AccountState, tuple[SetAside, ...], Transaction | None]:
    """Take ``interest`` and ``fees`` off the statements, oldest first (overdue interest before interest).

    Returns the new state, what was taken from each statement, and the waiver transaction. The caller has
    checked that the statements carry at least that much.
    """
    left_interest, left_fees = interest, fees
    taken: list[SetAside] = []
    statements: list[Statement] = []
    for statement in sorted(state.statements, key=lambda s: s.statement_date):
        overdue = min(statement.overdue_interest, left_interest)
        plain = min(statement.interest, left_interest - overdue)
        fee = min(statement.fees, left_fees)
        left_interest -= overdue + plain
        left_fees -= fee
        if overdue or plain or fee:
            late = min(statement.late_charges, overdue)
            changed = dataclasses.replace(
                statement,
                overdue_interest=statement.overdue_interest - overdue,
                interest=statement.interest - plain,
                fees=statement.fees - fee,
                late_charges=statement.late_charges - late,
            )
            changed = _settle(changed, on)
            taken.append(
                SetAside(statement.id, plain, overdue, fee, late, statement.minimum - changed.minimum)
            )
            statement = changed
        statements.append(statement)
    if left_interest or left_fees:
        raise ValueError("waiving more interest or fees than the statements carry")
    state = dataclasses.replace(state, statements=tuple(statements))
    return state, tuple(taken), waiver_transaction(state, on, 0, interest, fees, memo)


def restore(
    state: AccountState, on: date, set_aside: tuple[SetAside, ...], memo: str
) -> tuple[AccountState, Transaction | None]:
    """Put back what :func:`waive_interest_and_fees` took, on the same statements (or, when one of them is no
    longer loaded, on the oldest open statement, else the latest), and reverse its waiver."""
    statements = list(sorted(state.statements, key=lambda s: s.statement_date))
    if not statements:
        return state, None
    for aside in set_aside:
        index = next((i for i, s in enumerate(statements) if s.id == aside.statement_id), None)
        if index is None:
            index = next((i for i, s in enumerate(statements) if s.outstanding > 0), len(statements) - 1)
        s = statements[index]
        statements[index] = dataclasses.replace(
            s,
            interest=s.interest + aside.interest,
            overdue_interest=s.overdue_interest + aside.overdue_interest,
            fees=s.fees + aside.fees,
            late_charges=s.late_charges + aside.late_charges,
            minimum=s.minimum + aside.minimum,
            closed_on=None,
        )
    interest = sum(a.interest + a.overdue_interest for a in set_aside)
    fees = sum(a.fees for a in set_aside)
    state = dataclasses.replace(state, statements=tuple(statements))
    return state, waiver_transaction(state, on, 0, interest, fees, memo, restore=True)


def waive_everything(state: AccountState, on: date, memo: str) -> tuple[AccountState, Transaction | None]:
    """Forgive everything still owed: every statement, unbilled purchases, future installment principal."""
    transaction = waiver_transaction(state, on, state.principal, state.interest, state.fees, memo)
    statements = tuple(
        _settle(
            dataclasses.replace(
                s,
                new_principal=0,
                carried_principal=0,
                installment_principal=0,
                interest=0,
                overdue_interest=0,
                fees=0,
                interest_carry=Decimal(0),
            ),
            on,
        )
        for s in state.statements
    )
    plans = tuple(
        dataclasses.replace(
            plan, periods=tuple(p if p.billed else dataclasses.replace(p, principal=0) for p in plan.periods)
        )
        for plan in state.plans
    )
    state = dataclasses.replace(state, statements=statements, unbilled=(), plans=finish_installments(plans))
    return state, transaction


def finish_installments(plans: tuple[InstallmentPlan, ...]) -> tuple[InstallmentPlan, ...]:
    """Installment plans whose principal is all repaid or forgiven end: their later fees are never billed."""
    out = []
    for plan in plans:
        if plan.unbilled_principal == 0 and not plan.is_finished:
            plan = dataclasses.replace(
                plan,
                periods=tuple(
                    p if p.billed else dataclasses.replace(p, fee=0, billed=True) for p in plan.periods
                ),
            )
        out.append(plan)
    return tuple(out)


def annual_rate_of_daily(daily: Decimal) -> Decimal:
    """A simple daily rate as a yearly one: × 365, to four places (0.0005 → 0.1825)."""
    return (daily * 365).quantize(Decimal("0.0001"))
