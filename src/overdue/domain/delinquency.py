"""Delinquency: days past due, buckets with their history, freeze, write-off and the bureau's month.

- **Days past due (DPD)** count from the oldest statement not paid at least to its minimum; its due date is
  day 0, the next day DPD 1.
- **Buckets**: M0 current; M1 1–30, M2 31–60, … M6 151–180; the last bucket (M7+) from 181. Every change is
  kept as a spell (entered, left).
- **Freeze** at ``freeze_at_dpd`` (DPD 1); unfreeze when nothing is overdue any more: no statement short of
  its minimum, and no overdue interest unpaid (beyond 90 DPD a cure pays principal first and can leave some).
- A **closed** line never freezes or unfreezes; while something is owed it ages and is written off like any
  other.
- After **write-off** the whole claim is due: DPD keeps counting until everything is paid.
- **Write-off** at ``write_off_at_dpd`` (180): every receivable moves to ``written_off:*``; interest stops,
  recovery goes on.
- **Credit bureau**: at each month end the status of the month — ``N``, ``1``…``7`` for M1…M7+, ``C`` closed,
  ``B`` written off, ``G`` settled for less (:mod:`overdue.domain.relief_arrangements`). A closed line is
  reported ``C`` only once nothing is owed; until then it reports its delinquency (``N``, ``1``…``7``), as
  bureaus expect of a closed account with a balance.
"""

from __future__ import annotations

from datetime import date

from overdue.domain.calendar import month_key
from overdue.domain.ledger import WRITTEN_OFF, LedgerAccount, Posting, Transaction, TransactionKind
from overdue.domain.records import replace
from overdue.domain.state import AccountState, AccountStatus, BucketSpell, BureauMonth
from overdue.domain.terms import ProductTerms


def bucket_for(days_past_due: int, terms: ProductTerms) -> str:
    """The bucket name for a DPD: ``M0`` current, ``M1``…, the last one open-ended (``M7+``)."""
    if days_past_due <= 0:
        return "M0"
    number = min(terms.last_bucket, (days_past_due - 1) // terms.bucket_days + 1)
    return f"M{number}+" if number == terms.last_bucket else f"M{number}"


def days_past_due(state: AccountState, on: date) -> int:
    """DPD of the account: that of its oldest delinquent statement, 0 when none is delinquent."""
    return max(((on - s.due_date).days for s in state.delinquent_statements(on)), default=0)


def status_for_purchase(state: AccountState, on: date) -> AccountStatus:
    """The line's status for a purchase on ``on``: an active line overdue since midnight (DPD at least
    ``freeze_at_dpd``) is frozen already, though the end-of-day records the freeze only tonight."""
    if state.status is AccountStatus.ACTIVE and days_past_due(state, on) >= state.terms.freeze_at_dpd:
        return AccountStatus.FROZEN
    return state.status


def age(state: AccountState, on: date, *, end_of_day: bool = True) -> tuple[AccountState, list[Transaction]]:
    """Bring DPD, bucket (and its history), freeze and write-off up to date for ``on``.

    end_of_day: False when called during the day (after a repayment): then the account can only get better
    (unfreeze), and a write-off waits for the date's end-of-day, which still accrues that day's interest.
    """
    terms = state.terms
    dpd = days_past_due(state, on)
    bucket = bucket_for(dpd, terms)
    if bucket != state.bucket:
        history = state.bucket_history
        if history and history[-1].left is None:
            history = (*history[:-1], replace(history[-1], left=on))
        history = (*history, BucketSpell(bucket, on))
        state = replace(state, bucket=bucket, bucket_history=history)
    if dpd != state.days_past_due:
        state = replace(state, days_past_due=dpd)
    if dpd > 0 and state.negative_notice_on is None:
        state = replace(state, negative_notice_on=on)

    if state.status is AccountStatus.WRITTEN_OFF or state.closed_with_nothing_owed:
        return state, []
    if dpd >= terms.write_off_at_dpd and end_of_day:
        return write_off(state, on)
    if state.status is AccountStatus.CLOSED:
        return state, []  # closed for good: never frozen, never unfrozen
    if state.status is AccountStatus.ACTIVE and dpd >= terms.freeze_at_dpd:
        state = replace(state, status=AccountStatus.FROZEN)
    elif (
        state.status is AccountStatus.FROZEN
        and not state.delinquent_statements(on)
        and not overdue_interest(state)
    ):
        state = replace(state, status=AccountStatus.ACTIVE)
    return state, []


def overdue_interest(state: AccountState) -> int:
    """Overdue interest still unpaid: the line stays frozen until it is paid too."""
    return sum(s.overdue_interest for s in state.statements)


def write_off(state: AccountState, on: date) -> tuple[AccountState, list[Transaction]]:
    """Write the account off: move every receivable to its ``written_off:*`` claim account."""
    postings: list[Posting] = []
    for receivable, amount in (
        (LedgerAccount.PRINCIPAL, state.principal),
        (LedgerAccount.INTEREST, state.interest),
        (LedgerAccount.FEES, state.fees),
    ):
        if amount:
            postings += [Posting(WRITTEN_OFF[receivable], amount), Posting(receivable, -amount)]
    state = replace(state, status=AccountStatus.WRITTEN_OFF, written_off_on=on)
    if not postings:
        return state, []
    memo = f"written off at {state.days_past_due} days past due"
    return state, [Transaction(state.id, on, TransactionKind.WRITE_OFF, tuple(postings), memo=memo)]


def bureau_status(state: AccountState) -> str:
    """This month's bureau status from the account's state at month end."""
    settled = state.arrangement
    if settled is not None and settled.kind == "settlement" and settled.status == "completed":
        return "G"
    if state.status is AccountStatus.WRITTEN_OFF:
        return "B"
    if state.closed_with_nothing_owed:
        return "C"
    # Open, frozen, or closed with something still owed: the month's delinquency.
    if state.bucket == "M0":
        return "N"
    return state.bucket[1:].rstrip("+")


def report_month(state: AccountState, on: date) -> AccountState:
    """Record the bureau status of ``on``'s month (called on the month's last day), keeping the last 24."""
    month = BureauMonth(month_key(on), bureau_status(state))
    months = (*(m for m in state.bureau if m.month != month.month), month)
    return replace(state, bureau=months[-state.terms.bureau_grid_months :])
