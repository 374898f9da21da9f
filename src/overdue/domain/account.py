"""The life of one credit-line account: open, purchase, repay, installments, and its end-of-day.

Each operation takes an :class:`AccountState` and a business date and returns the new state with the ledger
transactions to post; none touches a database. The end-of-day of one date runs, in order:

1. **accrue** one day of interest (:mod:`overdue.domain.interest`);
2. **age**: DPD, bucket, freeze, write-off (:mod:`overdue.domain.delinquency`);
3. **bill** on the statement day (:mod:`overdue.domain.billing`);
4. on the month's last day, the **credit-bureau** status of the month.

A business date is *closed* once its end-of-day has run: purchases and repayments can only be dated after the
last closed date, and end-of-day runs one date after another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from overdue.domain import (
    allocation,
    billing,
    delinquency,
    installments,
    interest,
    purchase_installments,
    relief_arrangements,
)
from overdue.domain.calendar import ONE_DAY, is_month_end, next_statement_date
from overdue.domain.errors import CreditLimitExceeded, InvalidAmount, InvalidDate, InvalidInput, LineNotUsable
from overdue.domain.ledger import LedgerAccount, Transaction, TransactionKind, transfer
from overdue.domain.money import Fen, format_yuan
from overdue.domain.records import replace
from overdue.domain.state import LANGUAGES, AccountState, AccountStatus, BucketSpell, UnbilledCycle
from overdue.domain.terms import ProductTerms

MAX_ID_LENGTH = 64


@dataclass(frozen=True)
class Outcome:
    """What an operation did: the new state and the transactions to post with it."""

    state: AccountState
    transactions: tuple[Transaction, ...] = ()
    allocation: tuple[allocation.AllocationLine, ...] = field(default=())
    quote: installments.InstallmentQuote | None = None
    purchase_quote: purchase_installments.PurchaseInstallmentQuote | None = None


def open_account(
    account_id: str,
    product: str,
    terms: ProductTerms,
    opened_on: date,
    credit_limit: Fen,
    timezone: str = "Asia/Shanghai",
    language: str = "zh-CN",
) -> AccountState:
    """A new, active account with nothing owed; its first end-of-day is that of ``opened_on``.

    language: the borrower's language (:data:`~overdue.domain.state.LANGUAGES`); anything else is refused.
    """
    if not account_id or len(account_id) > MAX_ID_LENGTH or any(c.isspace() or c == "/" for c in account_id):
        raise InvalidInput(
            f"account id must be 1–{MAX_ID_LENGTH} characters without spaces or '/', got {account_id!r}"
        )
    terms.check_limit(credit_limit)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {timezone!r} (use an IANA name such as Asia/Shanghai)"
        ) from None
    check_language(language)
    return AccountState(
        id=account_id,
        product=product,
        terms=terms,
        opened_on=opened_on,
        timezone=timezone,
        language=language,
        credit_limit=credit_limit,
        bucket_history=(BucketSpell("M0", opened_on),),
    )


def check_language(language: str) -> None:
    """Refuse a borrower's language that no notice can be written in."""
    if language not in LANGUAGES:
        raise InvalidInput(f"unknown language {language!r} (use one of: {', '.join(LANGUAGES)})")


def next_open_date(state: AccountState) -> date:
    """The account's current business date: the day after its last end-of-day (or its opening day)."""
    return state.opened_on if state.last_eod is None else state.last_eod + ONE_DAY


def check_open_date(state: AccountState, on: date) -> None:
    """Refuse a posting not dated on the account's current business date.

    Before the account opened, or on a date whose end-of-day already ran: that day is closed. After the
    current business date: the end-of-days of the days in between must run first, or they would accrue on
    balances that the posting changed too early.
    """
    if on < state.opened_on:
        raise InvalidDate(
            f"{on.isoformat()} is before account {state.id} opened ({state.opened_on.isoformat()})"
        )
    if state.last_eod is not None and on <= state.last_eod:
        raise InvalidDate(
            f"{on.isoformat()} is already closed for account {state.id} "
            f"(end-of-day ran up to {state.last_eod.isoformat()}); post on a later date"
        )
    current = next_open_date(state)
    if on > current:
        raise InvalidDate(
            f"account {state.id} is at business date {current.isoformat()}: run the end-of-day up to "
            f"{(on - ONE_DAY).isoformat()} before posting on {on.isoformat()}"
        )


def check_amount(amount: object, what: str) -> None:
    """Refuse anything but a positive whole number of fen (the edges parse yuan strings into fen)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount(f"{what} must be a positive amount, got {amount!r} fen")


def purchase(state: AccountState, on: date, amount: Fen, periods: int | None = None) -> Outcome:
    """A purchase of ``amount`` fen: refused above available credit or on a line that is not active.

    periods: buy in that many installments (:mod:`overdue.domain.purchase_installments`); None: a plain
    purchase, billed whole by the next statement.
    """
    check_amount(amount, "a purchase")
    check_open_date(state, on)
    if periods is not None:
        new, txns, offer = purchase_installments.book(state, on, amount, periods)
        return Outcome(new, tuple(txns), purchase_quote=offer)
    status = delinquency.status_for_purchase(state, on)
    if status is not AccountStatus.ACTIVE:
        raise LineNotUsable(f"the credit line of account {state.id} is {status}; purchases are refused")
    if amount > state.available_credit:
        raise CreditLimitExceeded(
            f"purchase {format_yuan(amount)} is more than the available credit "
            f"{format_yuan(state.available_credit)}"
        )
    cycle = next_statement_date(on, state.terms.statement_day)
    unbilled = list(state.unbilled)
    for i, existing in enumerate(unbilled):
        if existing.statement_date == cycle:
            unbilled[i] = replace(existing, principal=existing.principal + amount)
            break
    else:
        unbilled.append(UnbilledCycle(cycle, amount))
    txn = transfer(
        state.id,
        on,
        TransactionKind.PURCHASE,
        LedgerAccount.PRINCIPAL,
        LedgerAccount.MERCHANT_PAYABLE,
        amount,
    )
    return Outcome(replace(state, unbilled=tuple(unbilled)), (txn,))


def repay(state: AccountState, on: date, amount: Fen) -> Outcome:
    """A repayment of ``amount`` fen, allocated by :mod:`overdue.domain.allocation`.

    Paying a statement up to its minimum takes it out of delinquency at once: the line unfreezes on the
    spot (the bucket and DPD follow the same day).
    """
    check_amount(amount, "a repayment")
    check_open_date(state, on)
    if state.closed_with_nothing_owed:
        raise LineNotUsable(f"account {state.id} is closed")
    state, txn, lines = allocation.apply_repayment(state, on, amount)
    state = relief_arrangements.count_repayment(state, amount)
    if not relief_arrangements.pauses_delinquency(state):
        state, _ = delinquency.age(state, on, end_of_day=False)
    return Outcome(state, (txn,), allocation=lines)


def request_installments(state: AccountState, on: date, statement_id: str, periods: int) -> Outcome:
    """Convert the statement ``statement_id`` into ``periods`` bill installments."""
    check_open_date(state, on)
    state, txns, offer = installments.convert(state, statement_id, periods, on)
    return Outcome(state, tuple(txns), quote=offer)


def end_of_day(state: AccountState, on: date) -> Outcome:
    """Run the end-of-day of ``on`` on one account: relief review → accrue → age → bill → bureau.

    Idempotent: a date already run is a no-op. Dates must follow one another (the engine catches up).
    """
    if on < state.opened_on or (state.last_eod is not None and on <= state.last_eod):
        return Outcome(state)
    expected = next_open_date(state)
    if on != expected:
        raise InvalidDate(
            f"end-of-day of {on.isoformat()} on account {state.id} must wait for {expected.isoformat()}"
        )
    # A relief plan or settlement is reviewed first; while one is kept, interest, aging and billing wait.
    state, reviewed = relief_arrangements.review(state, on)
    transactions: list[Transaction] = list(reviewed)
    if not relief_arrangements.pauses_delinquency(state):
        for step in (interest.accrue, delinquency.age, billing.bill):
            state, txns = step(state, on)
            transactions += txns
    if is_month_end(on):
        state = delinquency.report_month(state, on)
    return Outcome(replace(state, last_eod=on), tuple(transactions))
